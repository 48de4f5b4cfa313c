//! RDB version 10, the snapshot format a Redis 7.0 master sends in a full resync.

mod load;

pub(crate) use load::c_strtoll;
pub use load::*;
