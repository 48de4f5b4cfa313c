//! RDB version 10, the snapshot format a Redis 7.0 master sends in a full resync.
//!
//! The writer emits what real Redis writes for the same data where that is simple (aux
//! fields in Redis's order, int-encoded and LZF-compressed strings as `rdbSaveRawString`
//! chooses them, expiries, CRC-64) so `redis-check-rdb` and a real redis-server accept it.
//! Collections are written in the plain encodings, which every Redis loads.
//!
//! The reader loads everything a real Redis 7.0 loads that this engine can hold: the
//! plain encodings, the compact ones 7.0 writes (intsets, listpacks, quicklists of
//! listpacks) and the ones older versions wrote (zipmaps, ziplists, quicklists of
//! ziplists, string-encoded scores). It checks every structure as Redis's deep integrity
//! validation does, and fails the way Redis fails: [`load`] also returns the log lines
//! Redis prints while loading, and an error says what Redis does next (see
//! [`RdbErrorKind`]). Every malformed or truncated input is an `RdbError`, never a panic.

// Read only natively: the page never loads a compact encoding (see
// `load::Reader::compact_object`).
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
mod compact;
mod load;
mod lzf;
#[cfg(test)]
mod tests;
mod write;

use crc::{Crc, CRC_64_REDIS};

pub use load::{load, read, set_from_members, Loaded, RdbError, RdbErrorKind};
pub use write::{write, write_with, ReplInfo, SnapshotMeta};

pub const RDB_VERSION: u32 = 10;
const CRC64: Crc<u64> = Crc::<u64>::new(&CRC_64_REDIS);

const OP_FUNCTION2: u8 = 0xF5;
const OP_FUNCTION_PRE_GA: u8 = 0xF6;
const OP_MODULE_AUX: u8 = 0xF7;
const OP_IDLE: u8 = 0xF8;
const OP_FREQ: u8 = 0xF9;
const OP_AUX: u8 = 0xFA;
const OP_RESIZEDB: u8 = 0xFB;
const OP_EXPIRETIME_MS: u8 = 0xFC;
const OP_EXPIRETIME: u8 = 0xFD;
const OP_SELECTDB: u8 = 0xFE;
const OP_EOF: u8 = 0xFF;

const TYPE_STRING: u8 = 0;
const TYPE_LIST: u8 = 1;
const TYPE_SET: u8 = 2;
const TYPE_ZSET: u8 = 3;
const TYPE_HASH: u8 = 4;
const TYPE_ZSET_2: u8 = 5;
const TYPE_MODULE_PRE_GA: u8 = 6;
const TYPE_MODULE_2: u8 = 7;
const TYPE_HASH_ZIPMAP: u8 = 9;
const TYPE_LIST_ZIPLIST: u8 = 10;
const TYPE_SET_INTSET: u8 = 11;
const TYPE_ZSET_ZIPLIST: u8 = 12;
const TYPE_HASH_ZIPLIST: u8 = 13;
const TYPE_LIST_QUICKLIST: u8 = 14;
const TYPE_STREAM_LISTPACKS: u8 = 15;
const TYPE_HASH_LISTPACK: u8 = 16;
const TYPE_ZSET_LISTPACK: u8 = 17;
const TYPE_LIST_QUICKLIST_2: u8 = 18;
const TYPE_STREAM_LISTPACKS_2: u8 = 19;

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;
