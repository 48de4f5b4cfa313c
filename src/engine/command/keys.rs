//! Keyspace commands: DEL, DBSIZE, SELECT.

use crate::engine::keyspace::is_expired;
use crate::engine::resp::{parse_i64, reply};
use crate::engine::{Client, ClientRole, Node};

impl Node {
    /// Looks a key up for a command about to act on it, applying lazy expiry the way
    /// Redis's `expireIfNeeded` does: a master deletes an expired key and propagates a
    /// DEL; a replica only hides it (its master will send the DEL), except from the
    /// master's own stream, which must see keys exactly as the master did.
    pub(crate) fn key_exists_after_expiry(&mut self, client: &Client, key: &[u8]) -> bool {
        let db = client.db;
        let Some(entry) = self.keyspace.dbs[db].entries.get(key) else { return false };
        if !is_expired(entry, self.now) {
            return true;
        }
        if self.repl.link.is_some() {
            return client.role == ClientRole::Master;
        }
        self.keyspace.remove(db, key);
        self.propagate(db, vec![b"DEL".to_vec(), key.to_vec()]);
        false
    }
}

pub fn del(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let mut deleted = 0;
    for key in &argv[1..] {
        if node.key_exists_after_expiry(client, key) {
            node.keyspace.remove(client.db, key);
            deleted += 1;
        }
    }
    if deleted > 0 {
        node.propagate(client.db, argv.to_vec());
    }
    reply::integer(deleted)
}

pub fn dbsize(node: &mut Node, client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    reply::integer(node.keyspace.dbs[client.db].entries.len() as i64)
}

pub fn select(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    // Redis 7.0 reads the index with `getIntFromObjectOrReply` and no custom message.
    let Some(id) = parse_i64(&argv[1]) else {
        return reply::error("ERR value is not an integer or out of range");
    };
    if i32::try_from(id).is_err() {
        return reply::error("ERR value is out of range, value must between -2147483648 and 2147483647");
    }
    if id < 0 || id as usize >= node.keyspace.dbs.len() {
        return reply::error("ERR DB index is out of range");
    }
    client.db = id as usize;
    reply::ok()
}
