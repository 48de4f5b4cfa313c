//! DEBUG, with the subcommands Redis 7.0's own test suite relies on (debug.c): DIGEST and
//! DIGEST-VALUE, SLEEP, SET-ACTIVE-EXPIRE, CHANGE-REPL-ID, POPULATE, REPLICATE and LOG. `enable-debug-command` guards it before it runs (`Node::execute`).
//!
//! Native builds only (replscope-server, the tests): the page leaves it out for its size,
//! and answers DEBUG as a redis-server with `enable-debug-command no` does.

use sha1::{Digest, Sha1};

use super::lower;
use crate::engine::cfloat::fmt_g17;
use crate::engine::keyspace::{Entry, Value};
use crate::engine::resp::{encode_command, parse_i64, reply};
use crate::engine::{Client, Node};

/// SHA1 digests are combined as debug.c does.
type Digest20 = [u8; 20];

/// `xorDigest`: XORs SHA1(data) into `digest` (order-free: sets, hash fields, keys).
fn xor_digest(digest: &mut Digest20, data: &[u8]) {
    let hash = Sha1::digest(data);
    for (d, h) in digest.iter_mut().zip(hash.iter()) {
        *d ^= h;
    }
}

/// `mixDigest`: digest = SHA1(digest XOR SHA1(data)) (order matters: lists, fields).
fn mix_digest(digest: &mut Digest20, data: &[u8]) {
    xor_digest(digest, data);
    let mixed = Sha1::digest(*digest);
    digest.copy_from_slice(&mixed);
}

/// The digest of one pair of strings (a hash field and its value, a sorted-set member
/// and its score), XORed into `digest` as data of its own.
fn xor_pair(digest: &mut Digest20, a: &[u8], b: &[u8]) {
    let mut pair = [0u8; 20];
    mix_digest(&mut pair, a);
    mix_digest(&mut pair, b);
    xor_digest(digest, &pair);
}

/// `xorObjectDigest`: a value's type, contents and whether it expires, mixed into
/// `digest`. Like Redis's it depends on the data, not the encoding.
fn object_digest(digest: &mut Digest20, entry: &Entry) {
    // Redis's OBJ_* numbers, as a big-endian 32-bit word.
    let ty: u32 = match &entry.value {
        Value::String(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
    };
    mix_digest(digest, &ty.to_be_bytes());
    match &entry.value {
        Value::String(s) => mix_digest(digest, s),
        Value::List(items) => items.iter().for_each(|i| mix_digest(digest, i)),
        Value::Set(set) => set.members().iter().for_each(|m| xor_digest(digest, m)),
        Value::ZSet(z) => {
            for (member, score) in z.iter() {
                xor_pair(digest, member, fmt_g17(score).as_bytes());
            }
        }
        Value::Hash(fields) => fields.iter().for_each(|(f, v)| xor_pair(digest, f, v)),
    }
    if entry.expires_at.is_some() {
        xor_digest(digest, b"!!expire!!");
    }
}

fn hex(digest: &Digest20) -> Vec<u8> {
    let text: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    reply::simple(&text)
}

impl Node {
    /// `computeDatasetDigest`: every key of every database, expired or not (DEBUG looks
    /// at the data as it lies), each database's number mixed in before its keys.
    pub fn dataset_digest(&self) -> Digest20 {
        let mut out = [0u8; 20];
        for (db, d) in self.keyspace.dbs.iter().enumerate() {
            if d.entries.is_empty() {
                continue;
            }
            mix_digest(&mut out, &(db as u32).to_be_bytes());
            for (key, entry) in d.entries.iter_unordered() {
                let mut one = [0u8; 20];
                mix_digest(&mut one, key);
                object_digest(&mut one, entry);
                xor_digest(&mut out, &one);
            }
        }
        out
    }
}

/// `getPositiveLongFromObjectOrReply` with no message of its own: one error for what
/// is not a number and for what is negative.
fn positive(arg: &[u8]) -> Result<i64, Vec<u8>> {
    parse_i64(arg)
        .filter(|n| *n >= 0)
        .ok_or_else(|| reply::error("ERR value is out of range, must be positive"))
}

pub fn debug(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let sub = lower(&argv[1]);
    let argc = argv.len();
    match (sub.as_slice(), argc) {
        (b"digest", 2) => hex(&node.dataset_digest()),
        (b"digest-value", _) => {
            let mut out = reply::array_header(argc - 2);
            for key in &argv[2..] {
                // A debug command looks at logically expired keys too.
                let mut d = [0u8; 20];
                if let Some(entry) = node.keyspace.dbs[client.db].entries.get(key) {
                    object_digest(&mut d, entry);
                }
                out.extend(hex(&d));
            }
            out
        }
        (b"sleep", 3) => {
            // strtod: what does not parse is 0; the sleep is whole microseconds.
            let secs = std::str::from_utf8(&argv[2])
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .unwrap_or(0.0);
            let us = (secs * 1e6) as i64;
            node.sleep_for(client, us.max(0) as u64 / 1000)
        }
        (b"set-active-expire", 3) => {
            // atoi: anything but a non-zero number turns it off.
            let on = parse_i64(&argv[2]).is_some_and(|v| v != 0);
            node.active_expire.disabled = !on;
            reply::ok()
        }
        (b"change-repl-id", 2) => {
            node.log("Changing replication IDs after receiving DEBUG change-repl-id");
            node.repl.replid = node.ids.hex(40);
            node.repl.clear_replid2();
            reply::ok()
        }
        (b"populate", 3..=5) => {
            let keys = match positive(&argv[2]) {
                Ok(n) => n,
                Err(e) => return e,
            };
            let size = match argv.get(4).map(|a| positive(a)).transpose() {
                Ok(n) => n.unwrap_or(0) as usize,
                Err(e) => return e,
            };
            let prefix: &[u8] = argv.get(3).map_or(b"key", |p| p);
            for j in 0..keys {
                // Redis formats both into a 128-byte buffer: longer names are cut.
                let mut key = [prefix, b":", j.to_string().as_bytes()].concat();
                key.truncate(127);
                if node.key_exists_for_write(client, &key) {
                    continue;
                }
                let mut value = format!("value:{j}").into_bytes();
                if size > 0 {
                    value.resize(size, 0);
                }
                node.keyspace
                    .set(client.db, key, Value::String(value), None);
            }
            reply::ok()
        }
        (b"replicate", 3..) => {
            let args: Vec<&[u8]> = argv[2..].iter().map(|a| a.as_slice()).collect();
            node.feed_encoded(node.repl.stream_db, &encode_command(&args));
            reply::ok()
        }
        (b"log", 3) => {
            node.log(format!("DEBUG LOG: {}", String::from_utf8_lossy(&argv[2])));
            reply::ok()
        }
        _ => reply::error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(&argv[1][..argv[1].len().min(128)])
        )),
    }
}
