//! MULTI / EXEC / DISCARD, as Redis 7.0's `multi.c` and the queueing step of
//! `processCommand`.
//!
//! After MULTI every command that passes the checks of `Node::execute` is queued and
//! answered `+QUEUED`; one that fails them (unknown, wrong arity, NOAUTH, ...) is answered
//! with its error and marks the transaction, so that EXEC refuses it with `EXECABORT`.
//! EXEC runs the queue without further checks; an error of one command is just that
//! command's element of the reply array. Everything the transaction writes reaches the
//! replicas after EXEC, wrapped in MULTI/EXEC when it is more than one command (read-only
//! commands propagate nothing, so they vanish from the stream).

use super::CommandSpec;
use crate::engine::resp::reply;
use crate::engine::{Client, Node};

/// A client's open transaction (Redis's `mstate` and its `CLIENT_DIRTY_EXEC` flag).
#[derive(Clone, Default)]
pub struct MultiState {
    pub commands: Vec<(&'static CommandSpec, Vec<Vec<u8>>)>,
    /// A command was refused while queueing: EXEC must abort.
    pub dirty: bool,
    /// Redis's `argv_len_sums`: argument bytes plus one pointer per argument, per command
    /// (CLIENT LIST `multi-mem`).
    pub mem: usize,
}

impl std::fmt::Debug for MultiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.commands.iter().map(|(s, _)| s.name).collect();
        f.debug_struct("MultiState")
            .field("commands", &names)
            .field("dirty", &self.dirty)
            .field("mem", &self.mem)
            .finish()
    }
}

impl MultiState {
    /// Some queued command has this flag.
    pub(crate) fn any_flag(&self, flag: u32) -> bool {
        self.commands.iter().any(|(s, _)| s.flags & flag != 0)
    }

    /// Some queued command lacks this flag.
    pub(crate) fn any_without(&self, flag: u32) -> bool {
        self.commands.iter().any(|(s, _)| s.flags & flag == 0)
    }
}

/// Queues a command that passed the checks.
pub(crate) fn queue(client: &mut Client, spec: &'static CommandSpec, argv: Vec<Vec<u8>>) {
    let Some(m) = client.multi.as_mut() else {
        return;
    };
    // Redis does not bother keeping the commands of a transaction that will abort.
    if m.dirty {
        return;
    }
    m.mem +=
        argv.iter().map(|a| a.len()).sum::<usize>() + std::mem::size_of::<usize>() * argv.len();
    m.commands.push((spec, argv));
}

pub fn multi(_node: &mut Node, client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    if client.multi.is_some() {
        // Not a queueing error: the transaction stays valid.
        return reply::error("ERR MULTI calls can not be nested");
    }
    client.multi = Some(MultiState::default());
    reply::ok()
}

pub fn discard(_node: &mut Node, client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    if client.multi.take().is_none() {
        return reply::error("ERR DISCARD without MULTI");
    }
    reply::ok()
}

pub fn exec(node: &mut Node, client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    let Some(m) = client.multi.as_ref() else {
        return reply::error("ERR EXEC without MULTI");
    };
    if m.dirty {
        client.multi = None;
        return reply::error("EXECABORT Transaction discarded because of previous errors.");
    }
    // The client stays in MULTI state while its commands run (CLIENT LIST shows flag x
    // and the queue), as in Redis.
    let commands = m.commands.clone();
    let mut out = reply::array_header(commands.len());
    let outer = node.in_exec;
    node.in_exec = true;
    for (spec, argv) in &commands {
        client.reply_pending += out.len();
        let r = node.call(client, spec, argv);
        client.reply_pending -= out.len();
        out.extend(r);
    }
    node.in_exec = outer;
    client.multi = None;
    out
}

#[cfg(test)]
mod tests {
    use crate::engine::keyspace::Keyspace;
    use crate::engine::rdb::{self, SnapshotMeta};
    use crate::engine::resp::encode_command;
    use crate::engine::{Config, Input, Node, Output};

    /// A replica whose handshake with a scripted master is done; returns it and the
    /// master connection.
    fn synced_replica() -> (Node, u64) {
        let config = Config {
            replicaof: Some(("master".into(), 6379)),
            ..Config::default()
        };
        let mut n = Node::new(config, 1_000_000, 7);
        let conn = std::iter::from_fn(|| n.poll_output())
            .find_map(|o| match o {
                Output::Connect { conn, .. } => Some(conn),
                _ => None,
            })
            .expect("the replica connects to its master");
        let t = 1_000_000;
        n.handle(t, Input::Connected { conn });
        n.handle(
            t,
            Input::Bytes {
                conn,
                data: b"+PONG\r\n".to_vec(),
            },
        );
        n.handle(
            t,
            Input::Bytes {
                conn,
                data: b"+OK\r\n+OK\r\n".to_vec(),
            },
        );
        let meta = SnapshotMeta {
            redis_ver: "7.0.15",
            ctime_secs: 1000,
            used_mem: 0,
            repl: None,
        };
        let payload = rdb::write(&Keyspace::default(), &meta, t);
        let mut sync =
            format!("+FULLRESYNC {} 0\r\n${}\r\n", "a".repeat(40), payload.len()).into_bytes();
        sync.extend(payload);
        n.handle(t, Input::Bytes { conn, data: sync });
        assert!(n.master_link().is_some_and(|l| l.is_connected()));
        while n.poll_output().is_some() {}
        (n, conn)
    }

    /// Redis does not count (nor forward) a transaction's bytes as applied before its
    /// EXEC: a link lost in between resumes from before the MULTI, and the half
    /// transaction is dropped.
    #[test]
    fn a_replica_applies_a_transaction_from_its_master_only_at_exec() {
        let multi = [
            encode_command(&[b"SELECT", b"0"]),
            encode_command(&[b"MULTI"]),
            encode_command(&[b"SET", b"a", b"1"]),
        ]
        .concat();
        let exec = encode_command(&[b"EXEC"]);

        let (mut n, conn) = synced_replica();
        n.handle(
            1_000_001,
            Input::Bytes {
                conn,
                data: multi.clone(),
            },
        );
        let select_len = encode_command(&[b"SELECT", b"0"]).len() as u64;
        assert_eq!(
            n.master_link().unwrap().reploff,
            select_len,
            "only the SELECT is applied"
        );
        n.handle(
            1_000_002,
            Input::Bytes {
                conn,
                data: exec.clone(),
            },
        );
        assert_eq!(
            n.master_link().unwrap().reploff,
            (multi.len() + exec.len()) as u64
        );
        assert!(n.keyspace().dbs[0].entries.contains_key(b"a".as_slice()));

        let (mut n, conn) = synced_replica();
        n.handle(1_000_001, Input::Bytes { conn, data: multi });
        n.handle(1_000_002, Input::Closed { conn });
        let cached = n
            .replication()
            .cached_master
            .clone()
            .expect("the master is cached");
        assert_eq!(
            cached.reploff, select_len,
            "the PSYNC will ask for the transaction again"
        );
        assert!(!n.keyspace().dbs[0].entries.contains_key(b"a".as_slice()));
    }
}
