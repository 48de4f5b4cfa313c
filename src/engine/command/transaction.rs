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
        f.debug_struct("MultiState").field("commands", &names).field("dirty", &self.dirty).field("mem", &self.mem).finish()
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
    let Some(m) = client.multi.as_mut() else { return };
    // Redis does not bother keeping the commands of a transaction that will abort.
    if m.dirty {
        return;
    }
    m.mem += argv.iter().map(|a| a.len()).sum::<usize>() + std::mem::size_of::<usize>() * argv.len();
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

