//! A server's RDB on "disk": the snapshot SAVE would write, and a restart that loads it.
//!
//! The engine does no I/O: the host keeps the bytes (the bus keeps each server's last
//! saved RDB) and hands them back to [`Node::restart_from_rdb`]. What a restart restores
//! besides the data follows Redis 7.0's `loadDataFromDisk`: the replication id and offset
//! come from the RDB aux fields (written as `rdbPopulateSaveInfo` decides), so
//!
//! * a replica restarted from its RDB offers `<replid> <offset+1>` to its master and may
//!   continue partially;
//! * a master restarted from its RDB keeps its old history as `replid2`, so replicas that
//!   followed it can still continue;
//! * a master restarted *without* an RDB has a brand-new replid and no data: its replicas
//!   reconnect, fail to continue, full-sync, and so drop every key they had. This is the
//!   classic pitfall Redis's documentation warns about (persistence off + auto-restart).

use super::rdb::{self, RdbError, ReplInfo, SnapshotMeta};
use super::replication::{Backlog, CachedMaster};
use super::{Config, Node, REDIS_VERSION};

/// What a restart from disk found, for the host's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub keys: usize,
    /// The replication id and offset taken over from the RDB, if it had valid ones.
    pub repl: Option<(String, u64)>,
}

impl Node {
    /// The RDB that SAVE would write now, with the replication aux fields Redis 7.0 writes
    /// (`rdbPopulateSaveInfo`): only a master with a backlog, or a replica with a master
    /// (connected or cached), records its replid and offset.
    pub fn save_rdb(&self) -> Vec<u8> {
        let stream_db = if self.repl.link.is_none() {
            // A master without a backlog is in no replication chain: its history is useless.
            self.repl
                .backlog
                .as_ref()
                .map(|_| self.repl.stream_db.unwrap_or(0))
        } else {
            let connected_db = self
                .repl
                .link
                .as_ref()
                .and_then(|l| l.conn)
                .and_then(|c| self.clients.get(&c))
                .map(|c| c.db);
            connected_db.or(self.repl.cached_master.as_ref().map(|c| c.db))
        };
        let repl = stream_db.map(|db| ReplInfo {
            stream_db: db as i64,
            replid: self.repl.replid.clone(),
            offset: self.repl.master_repl_offset as i64,
        });
        let meta = SnapshotMeta {
            redis_ver: REDIS_VERSION,
            ctime_secs: self.now / 1000,
            used_mem: 0,
            repl,
        };
        rdb::write(&self.keyspace, &meta, self.now)
    }

    /// A server started at `now` with `config` that loads `rdb` from disk first, as Redis
    /// 7.0's `loadDataFromDisk`. An unreadable file is an error (Redis exits).
    pub fn restart_from_rdb(
        config: Config,
        now: u64,
        seed: u64,
        rdb_bytes: &[u8],
    ) -> Result<(Node, Restored), RdbError> {
        let loaded = rdb::read(rdb_bytes)?;
        let mut node = Node::new(config, now, seed);
        let aux = |k: &[u8]| {
            loaded
                .aux
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        let replid = aux(b"repl-id").filter(|id| id.len() == 40);
        let offset = aux(b"repl-offset")
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|o| *o != -1);
        let stream_db = aux(b"repl-stream-db")
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|d| *d != -1);
        let keys = loaded.keyspace.len();
        node.keyspace = loaded.keyspace;
        node.log("DB loaded from disk: 0.000 seconds");
        node.log(format!(
            "Done loading RDB, keys loaded: {keys}, keys expired: 0."
        ));
        let mut restored = Restored { keys, repl: None };
        if let (Some(replid), Some(offset), Some(db)) = (replid, offset, stream_db) {
            let offset = offset.max(0) as u64;
            // Redis servers here always have 16 databases.
            let db = (db.max(0) as usize).min(15);
            if node.repl.link.is_some() {
                // A replica takes the history it had as its own and offers it to its master
                // (Redis's replicationCacheMasterUsingMyself).
                node.repl.replid = replid.clone();
                node.repl.master_repl_offset = offset;
                node.repl.cached_master = Some(CachedMaster {
                    replid: replid.clone(),
                    reploff: offset,
                    db,
                });
                if let Some(link) = node.repl.link.as_mut() {
                    link.reploff = offset;
                }
            } else {
                // A master keeps it as its previous history (replid2), so replicas that
                // followed it may continue; its own stream goes on from that offset.
                node.repl.replid2 = replid.clone();
                node.repl.second_repl_offset = offset as i64 + 1;
                node.repl.master_repl_offset = offset;
                node.repl.backlog =
                    Some(Backlog::new(node.config.repl_backlog_size as usize, offset));
                node.repl.no_replicas_since = Some(now);
            }
            restored.repl = Some((replid, offset));
        }
        Ok((node, restored))
    }
}
