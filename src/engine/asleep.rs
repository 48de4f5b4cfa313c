//! A server blocked by DEBUG SLEEP, as Redis is while its one thread sits in nanosleep:
//! it reads nothing, answers nothing and runs no cron until the time is up.
//!
//! The engine has no thread to block. It notes when the sleep ends; until the host's
//! clock reaches that time every input is held, in arrival order, and `next_timer` is the
//! wake-up. Then the sleeper gets its reply, its pipelined commands run, and the held
//! inputs are fed as if they had just arrived. Neither the page nor the bus ever waits.
//!
//! DEBUG is native-only (see `command::debug`), and so is this: in the page nobody ever
//! sleeps, and the checks are stand-ins that say so.

use std::collections::VecDeque;

use super::{Client, ConnId, Input, Node};

/// Who is sleeping, until when, and what arrived meanwhile.
#[derive(Debug, Clone)]
pub struct Asleep {
    pub until: u64,
    conn: ConnId,
    /// The sleeper's replies, sent on waking: what ran before DEBUG SLEEP in its
    /// pipeline, then `+OK`.
    reply: Vec<u8>,
    held: VecDeque<Input>,
}

impl Node {
    /// DEBUG SLEEP for `ms` milliseconds (0 is no sleep). The reply comes on waking.
    pub(crate) fn sleep_for(&mut self, client: &Client, ms: u64) -> Vec<u8> {
        let ok = super::resp::reply::ok();
        // Inside EXEC the reply belongs in EXEC's array, which is sent when the
        // transaction ends: it is answered at once and the sleep still holds the rest.
        if ms == 0 || self.in_exec {
            if ms > 0 {
                self.asleep = Some(Box::new(Asleep {
                    until: self.now + ms,
                    conn: client.conn,
                    reply: Vec::new(),
                    held: VecDeque::new(),
                }));
            }
            return ok;
        }
        self.asleep = Some(Box::new(Asleep {
            until: self.now + ms,
            conn: client.conn,
            reply: ok,
            held: VecDeque::new(),
        }));
        Vec::new()
    }

    /// When the sleep ends, if asleep.
    pub(crate) fn asleep_until(&self) -> Option<u64> {
        self.asleep.as_ref().map(|a| a.until)
    }

    /// Whether the node is asleep at its current time. Waking (the time is up) sends the
    /// sleeper its reply and replays what was held; after that the node is awake unless
    /// a replayed command put it to sleep again.
    pub(crate) fn asleep(&mut self) -> bool {
        match &self.asleep {
            None => return false,
            Some(a) if self.now < a.until => return true,
            Some(_) => {}
        }
        let Some(a) = self.asleep.take() else {
            return false;
        };
        let Asleep {
            conn, reply, held, ..
        } = *a;
        // The cron did not run while the thread slept, and does not catch up: one run
        // at the first chance, as serverCron after a long block.
        self.next_cron_at = self.next_cron_at.max(self.now);
        self.send(conn, reply);
        self.process_input(conn);
        let now = self.now;
        for input in held {
            match self.asleep.as_mut() {
                Some(again) => again.held.push_back(input),
                None => self.handle(now, input),
            }
        }
        self.asleep.is_some()
    }

    /// Holds an input that arrived while [`Node::asleep`], for when it wakes.
    pub(crate) fn hold(&mut self, input: Input) {
        if let Some(a) = self.asleep.as_mut() {
            a.held.push_back(input);
        }
    }

    /// Replies a sleeping client's pipeline produced before DEBUG SLEEP: they wait with
    /// its `+OK`, as Redis writes nothing while it sleeps. Gives them back otherwise.
    pub(crate) fn hold_replies(&mut self, conn: ConnId, replies: Vec<u8>) -> Vec<u8> {
        match self.asleep.as_mut().filter(|a| a.conn == conn) {
            Some(a) => {
                let ok = std::mem::replace(&mut a.reply, replies);
                a.reply.extend(ok);
                Vec::new()
            }
            None => replies,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{Config, ConnId, Node, Output, PeerAddr};

    /// What the node sent on `conn` since the last call.
    fn sent(node: &mut Node, conn: ConnId) -> Vec<u8> {
        let mut out = Vec::new();
        let mut others = Vec::new();
        while let Some(o) = node.poll_output() {
            match o {
                Output::Send { conn: c, data } if c == conn => out.extend(data),
                other => others.push(other),
            }
        }
        // Outputs for other connections stay queued, in order.
        node.outputs.extend(others);
        out
    }

    #[test]
    fn a_sleeping_server_holds_everything_until_its_clock_reaches_the_end() {
        let config = Config {
            enable_debug_command: 1,
            ..Config::default()
        };
        let mut node = Node::new(config, 1_000, 7);
        let peer = |port| PeerAddr {
            ip: "127.0.0.1".into(),
            port,
        };
        let (a, b) = (node.accept(1_000, peer(1)), node.accept(1_000, peer(2)));
        node.handle_bytes(1_000, a, b"PING x\r\nDEBUG SLEEP 2\r\nPING y\r\n");
        assert_eq!(
            sent(&mut node, a),
            b"",
            "replies wait for the end of the sleep"
        );
        assert_eq!(node.next_timer(), 3_000, "the wake-up is the next timer");
        node.handle_bytes(1_500, b, b"PING z\r\n");
        node.tick(2_999);
        assert_eq!(sent(&mut node, b), b"", "nothing is served while asleep");
        node.tick(3_000);
        assert_eq!(sent(&mut node, a), b"$1\r\nx\r\n+OK\r\n$1\r\ny\r\n");
        assert_eq!(sent(&mut node, b), b"$1\r\nz\r\n");
        assert!(node.asleep_until().is_none());
        assert_ne!(node.next_timer(), 3_000);
    }
}
