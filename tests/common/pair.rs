//! [`Pair`]: a real redis-server and a replscope-server started with the same options, one
//! raw connection to each, fed the same bytes, their replies compared as bytes (after the
//! normalisation the caller names, from `common::normalize`, the one list of legitimate
//! differences). Shared by every differential suite; suite-specific helpers stay in their
//! suite.

use super::normalize::{self, Norm};
use super::{encode, redis_installed, show, Client, ServerProcess};

/// One connection to each server, fed the same bytes.
pub struct Pair {
    // Dropped first (declaration order): the clients close before the servers are killed.
    pub r: Client,
    pub s: Client,
    pub redis: ServerProcess,
    pub scope: ServerProcess,
    /// What [`Pair::same`], [`Pair::cmd`], [`Pair::cmd_bytes`] and the methods built on
    /// them normalise every reply with (`Norm::Exact` or `Norm::Ids`).
    pub norm: Norm,
}

fn args_bytes<'a>(args: &[&'a str]) -> Vec<&'a [u8]> {
    args.iter().map(|a| a.as_bytes()).collect()
}

impl Pair {
    /// Both servers started with `opts`; every reply compared after `norm`. `None` (the
    /// test skips, loudly) without redis-server.
    pub fn new(opts: &[&str], norm: Norm) -> Option<Pair> {
        if !redis_installed() {
            return None;
        }
        let redis = ServerProcess::redis(opts);
        let scope = ServerProcess::replscope(opts);
        Some(Pair {
            r: redis.client(),
            s: scope.client(),
            redis,
            scope,
            norm,
        })
    }

    /// Fresh connections to both (Redis first).
    pub fn clients(&self) -> (Client, Client) {
        (self.redis.client(), self.scope.client())
    }

    /// Replaces the pair's two connections with fresh ones.
    pub fn reconnect(&mut self) {
        let (r, s) = self.clients();
        self.r = r;
        self.s = s;
    }

    /// Sends `input` to both, reads `n` replies from each, and asserts the bytes are
    /// equal once normalised as `how` says. Returns Redis's (normalised) replies.
    pub fn same_norm(&mut self, input: &[u8], n: usize, how: Norm) -> Vec<u8> {
        self.r.send(input);
        self.s.send(input);
        let want = normalize::reply(&self.r.read_replies(n), how);
        let got = normalize::reply(&self.s.read_replies(n), how);
        assert_eq!(
            show(&got),
            show(&want),
            "replscope (left) and Redis (right) differ for input {:?}",
            show(input)
        );
        want
    }

    /// [`Pair::same_norm`] with the pair's own normalisation.
    pub fn same(&mut self, input: &[u8], n: usize) -> Vec<u8> {
        self.same_norm(input, n, self.norm)
    }

    /// Both raw replies to `args` (Redis first), not compared.
    pub fn both(&mut self, args: &[&[u8]]) -> (Vec<u8>, Vec<u8>) {
        let input = encode(args);
        self.r.send(&input);
        self.s.send(&input);
        (self.r.read_replies(1), self.s.read_replies(1))
    }

    /// One command given as bytes, its replies compared after `how`.
    pub fn compare_bytes(&mut self, args: &[&[u8]], how: Norm) -> Vec<u8> {
        self.same_norm(&encode(args), 1, how)
    }

    /// One command given as bytes, compared with the pair's normalisation.
    pub fn cmd_bytes(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.compare_bytes(args, self.norm)
    }

    /// One command, compared with the pair's normalisation.
    pub fn cmd(&mut self, args: &[&str]) -> Vec<u8> {
        self.cmd_bytes(&args_bytes(args))
    }

    /// One command, compared after `how`.
    pub fn cmd_norm(&mut self, args: &[&str], how: Norm) -> Vec<u8> {
        self.compare_bytes(&args_bytes(args), how)
    }

    /// Like `cmd`, and Redis's reply must also be `expected` (keeps the test readable,
    /// and guards against comparing two servers that both ignore the command).
    pub fn expect(&mut self, args: &[&str], expected: &[u8]) {
        let reply = self.cmd(args);
        assert_eq!(
            show(&reply),
            show(expected),
            "Redis's own reply to {args:?} is not what the test assumes"
        );
    }

    /// Same elements in an order Redis leaves undefined (KEYS, a set that is a hash
    /// table): compared after sorting.
    pub fn unordered(&mut self, args: &[&str]) -> Vec<u8> {
        self.cmd_norm(args, Norm::Unordered { pairs: false })
    }

    /// Same field/value pairs in an order Redis leaves undefined.
    pub fn unordered_pairs(&mut self, args: &[&str]) -> Vec<u8> {
        self.cmd_norm(args, Norm::Unordered { pairs: true })
    }

    /// A time-dependent integer reply (TTL, PTTL of a relative expiry): both servers
    /// must answer an integer in `lo..=hi`.
    pub fn ttl_within(&mut self, args: &[&str], lo: i64, hi: i64) {
        let (want, got) = self.both(&args_bytes(args));
        normalize::assert_ttls_within(args, &want, &got, lo, hi);
    }

    /// Both connections are in step: no reply is owed or left over.
    pub fn in_step(&mut self) {
        self.expect(&["PING", "in-step"], b"$7\r\nin-step\r\n");
    }

    /// Many commands in order, each compared.
    pub fn run(&mut self, cases: &[&[&str]]) {
        for case in cases {
            self.cmd(case);
        }
    }

    /// [`Pair::run`], then [`Pair::in_step`].
    pub fn all(&mut self, cases: &[&[&str]]) {
        self.run(cases);
        self.in_step();
    }

    /// `input` on fresh connections must make both servers reply the same bytes and then
    /// close.
    pub fn same_then_closed(&mut self, input: &[u8]) -> Vec<u8> {
        let (mut r, mut s) = self.clients();
        r.send(input);
        s.send(input);
        let (want, r_closed) = r.read_until_closed();
        let (got, s_closed) = s.read_until_closed();
        assert_eq!(
            show(&got),
            show(&want),
            "replies differ for input {:?}",
            show(input)
        );
        assert!(
            r_closed,
            "real Redis kept the connection open after {:?}",
            show(input)
        );
        assert!(
            s_closed,
            "replscope kept the connection open after {:?} (Redis closes it)",
            show(input)
        );
        want
    }
}
