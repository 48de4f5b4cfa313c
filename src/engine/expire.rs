//! Active expiry: Redis 7.0's `activeExpireCycle` (the slow cycle that `serverCron`
//! runs `hz` times a second through `databasesCron`).
//!
//! Lazy expiry only removes keys that somebody touches; this cycle reclaims the rest.
//! Like Redis it visits up to 16 databases per call, continuing from where the previous
//! call stopped; in each it looks at 20 keys that have an expiry, deletes the expired
//! ones, and goes again while more than 10% of the sample was expired. A master deletes
//! and propagates a `DEL` per key; those DELs go out one by one, never wrapped in
//! MULTI/EXEC (7.0 sets `propagate_no_multi` around the cycle). Replicas never run it:
//! their master's DELs expire their keys (`databasesCron` only calls it `iAmMaster()`).
//!
//! Two things differ from Redis on purpose, because the engine has no clock and no
//! randomness of its own:
//!
//! * Redis bounds the cycle in wall time (25% of a cron period, checked every 16
//!   loops). Here the budget is counted in keys sampled, at [`MICROS_PER_KEY`] of
//!   Redis's budget each: 25 000 keys per call at hz 10. Checked every 16 loops too.
//! * Redis walks its `expires` hash table buckets with a cursor. Here the sample is
//!   drawn at random from the per-db index of keys with an expiry, with the node's
//!   seeded id source: the same seed gives the same deletions, in the same order.
//!
//! The fast cycle (from `beforeSleep`, only after a slow cycle ran out of time) has no
//! event loop to hang on here and is not reproduced.

use super::keyspace::is_expired;
use super::Node;

/// ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP, at the default active-expire-effort of 1.
pub const KEYS_PER_LOOP: usize = 20;
/// ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC: share of a cron period the cycle may use.
pub const SLOW_TIME_PERC: u64 = 25;
/// ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE: keep going in a db while more were expired.
pub const ACCEPTABLE_STALE_PERC: usize = 10;
/// CRON_DBS_PER_CALL.
pub const DBS_PER_CALL: usize = 16;
/// The cost model that replaces the clock: sampling one key "takes" this long.
pub const MICROS_PER_KEY: u64 = 1;

/// What `activeExpireCycle` keeps in static variables between calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActiveExpire {
    /// Next db to visit (grows forever; used modulo the number of dbs).
    pub current_db: u64,
    /// The previous call ran out of budget: this one visits every db.
    pub timelimit_exit: bool,
    /// How many calls ran out of budget (INFO's expired_time_cap_reached_count).
    pub time_cap_reached_count: u64,
    /// DEBUG SET-ACTIVE-EXPIRE 0: keys expire only when touched.
    pub disabled: bool,
}

impl Node {
    /// One slow active expire cycle (called from the server cron).
    pub(crate) fn active_expire_cycle(&mut self) {
        // Not during a client pause: deleting would write to the replication stream.
        if self.repl.link.is_some() || self.active_expire.disabled || self.clients_paused() {
            return;
        }
        let dbnum = self.keyspace.dbs.len();
        if dbnum == 0 {
            return;
        }
        let mut dbs_per_call = DBS_PER_CALL;
        if dbs_per_call > dbnum || self.active_expire.timelimit_exit {
            dbs_per_call = dbnum;
        }
        let hz = self.config.hz.max(1) as u64;
        let budget_us = (SLOW_TIME_PERC * 1_000_000 / hz / 100).max(1);
        self.active_expire.timelimit_exit = false;

        let mut spent_us = 0u64;
        let mut iteration = 0u64;
        for _ in 0..dbs_per_call {
            if self.active_expire.timelimit_exit {
                break;
            }
            // Advance now, so a db that exhausts the budget is not first again next time.
            let db = (self.active_expire.current_db % dbnum as u64) as usize;
            self.active_expire.current_db += 1;
            loop {
                iteration += 1;
                let num = self.keyspace.dbs[db].expiring.len();
                if num == 0 {
                    break;
                }
                // (Redis also gives up on a db whose table is under 1% full, because
                // sampling empty buckets is slow; the index here has no empty slots.)
                let (sampled, expired) = self.expire_sample(db, num.min(KEYS_PER_LOOP));
                spent_us += sampled as u64 * MICROS_PER_KEY;
                if iteration & 0xf == 0 && spent_us > budget_us {
                    self.active_expire.timelimit_exit = true;
                    self.active_expire.time_cap_reached_count += 1;
                    break;
                }
                if sampled != 0 && expired * 100 / sampled <= ACCEPTABLE_STALE_PERC {
                    break;
                }
            }
        }
    }

    /// Samples `num` distinct keys with an expiry in `db`, deleting (and propagating)
    /// those that expired. Returns (sampled, expired).
    fn expire_sample(&mut self, db: usize, num: usize) -> (usize, usize) {
        let len = self.keyspace.dbs[db].expiring.len();
        let mut picks: Vec<usize> = Vec::with_capacity(num);
        if len <= num {
            picks.extend(0..len);
        } else {
            while picks.len() < num {
                let i = self.ids.below(len as u64) as usize;
                if !picks.contains(&i) {
                    picks.push(i);
                }
            }
        }
        let keys: Vec<Vec<u8>> = picks
            .iter()
            .filter_map(|&i| self.keyspace.dbs[db].expiring.get_index(i).cloned())
            .collect();
        let mut expired = 0;
        for key in &keys {
            let d = &mut self.keyspace.dbs[db];
            match d.entries.get(key.as_slice()) {
                Some(entry) if entry.expires_at.is_some() => {
                    if is_expired(entry, self.now) {
                        self.delete_expired_key(db, key);
                        expired += 1;
                    }
                }
                // An index entry out of step with the data (it should not happen):
                // drop it, so the index cannot grow stale.
                _ => {
                    d.expiring.swap_remove(key.as_slice());
                }
            }
        }
        (keys.len(), expired)
    }

    /// Redis's `deleteExpiredKeyAndPropagate` for the active cycle: delete, count, and
    /// send `DEL key` to the replicas straight away, on its own (no MULTI/EXEC).
    pub(crate) fn delete_expired_key(&mut self, db: usize, key: &[u8]) {
        self.keyspace.remove(db, key);
        self.stats.expired_keys += 1;
        self.feed_replication_stream(db, &[b"DEL".to_vec(), key.to_vec()]);
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::keyspace::Value;
    use crate::engine::replication::{Backlog, ReplicaPeer, ReplicaSyncState};
    use crate::engine::{Client, ClientRole, Config, Node, Output, PeerAddr};

    const T0: u64 = 1_700_000_000_000;

    fn node_with_keys(n: usize, expiring: usize, expires_at: u64) -> Node {
        let mut node = Node::new(Config::default(), T0, 42);
        for i in 0..n {
            let at = (i < expiring).then_some(expires_at);
            node.keyspace.set(
                0,
                format!("k{i}").into_bytes(),
                Value::String(b"v".to_vec()),
                at,
            );
        }
        node
    }

    /// A fake online replica so the node produces a replication stream to inspect.
    fn attach_replica(node: &mut Node) -> u64 {
        let conn = node.accept(
            node.now,
            PeerAddr {
                ip: "127.0.0.1".into(),
                port: 1,
            },
        );
        let mut client: Client = node.clients.remove(&conn).expect("client");
        let mut peer = ReplicaPeer::new(ReplicaSyncState::Online, node.now, false);
        peer.bytes_ahead_of_stream = Some(0);
        client.role = ClientRole::Replica(peer);
        node.clients.insert(conn, client);
        node.repl.replica_conns.insert(conn, ());
        node.repl.backlog = Some(Backlog::new(1 << 20, 0));
        conn
    }

    fn stream_to(node: &mut Node, conn: u64) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(o) = node.poll_output() {
            if let Output::Send { conn: c, data } = o {
                if c == conn {
                    out.extend(data);
                }
            }
        }
        out
    }

    #[test]
    fn expired_keys_vanish_after_enough_ticks_and_dels_are_streamed() {
        let mut node = node_with_keys(500, 300, T0 + 1000);
        let replica = attach_replica(&mut node);
        let _ = stream_to(&mut node, replica);
        let mut user = Client::new(
            99,
            PeerAddr {
                ip: "127.0.0.1".into(),
                port: 2,
            },
            T0,
            true,
        );
        let mut dbsize = |node: &mut Node| node.execute(&mut user, vec![b"DBSIZE".to_vec()]);
        node.tick(T0 + 500);
        assert_eq!(dbsize(&mut node), b":500\r\n", "nothing is expired yet");
        // Enough cron periods (hz 10) for the sampling to find every expired key.
        let mut t = T0 + 1001;
        for _ in 0..50 {
            t += 100;
            node.tick(t);
        }
        assert_eq!(dbsize(&mut node), b":200\r\n");
        assert_eq!(node.keyspace.dbs[0].expiring.len(), 0);
        assert_eq!(node.stats.expired_keys, 300);
        let stream = stream_to(&mut node, replica);
        let text = String::from_utf8_lossy(&stream);
        assert_eq!(
            text.matches("*2\r\n$3\r\nDEL\r\n").count(),
            300,
            "one DEL per key: {text}"
        );
        assert!(
            !text.contains("MULTI"),
            "active expiry never wraps its DELs in MULTI"
        );
        assert_eq!(text.matches("SELECT").count(), 1, "{text}");
    }

    #[test]
    fn one_cycle_is_bounded_by_its_key_budget() {
        // 100k expired keys: one cycle (25 000 keys of budget at hz 10) cannot take all.
        let mut node = node_with_keys(100_000, 100_000, T0 + 10);
        node.now = T0 + 20;
        node.active_expire_cycle();
        let left = node.keyspace.dbs[0].entries.len();
        assert!(left > 60_000 && left < 90_000, "{left} keys left");
        assert!(node.active_expire.timelimit_exit);
        assert_eq!(node.active_expire.time_cap_reached_count, 1);
    }

    #[test]
    fn stops_in_a_db_once_few_samples_are_expired() {
        // 1 expired among 10 000 keys with an expiry: a sample of 20 rarely has >10%.
        let mut node = Node::new(Config::default(), T0, 7);
        for i in 0..10_000 {
            let at = if i == 0 { T0 + 1 } else { T0 + 1_000_000 };
            node.keyspace.set(
                0,
                format!("k{i}").into_bytes(),
                Value::String(b"v".to_vec()),
                Some(at),
            );
        }
        node.now = T0 + 2;
        node.active_expire_cycle();
        assert!(node.keyspace.dbs[0].entries.len() >= 9_999);
        assert!(!node.active_expire.timelimit_exit);
    }

    #[test]
    fn deterministic_for_a_seed() {
        let run = |seed| {
            let mut node = Node::new(Config::default(), T0, seed);
            for i in 0..1000 {
                let at = if i % 2 == 0 { T0 + 1 } else { T0 + 1_000_000 };
                node.keyspace.set(
                    0,
                    format!("k{i}").into_bytes(),
                    Value::String(b"v".to_vec()),
                    Some(at),
                );
            }
            node.now = T0 + 2;
            node.active_expire_cycle();
            node.keyspace.dbs[0]
                .entries
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
    }

    #[test]
    fn replicas_never_run_it() {
        let config = Config {
            replicaof: Some(("127.0.0.1".into(), 6379)),
            ..Config::default()
        };
        let mut node = Node::new(config, T0, 1);
        node.keyspace
            .set(0, b"k".to_vec(), Value::String(b"v".to_vec()), Some(T0 + 1));
        for i in 1..30 {
            node.tick(T0 + i * 100);
        }
        assert_eq!(
            node.keyspace.dbs[0].entries.len(),
            1,
            "a replica waits for its master's DEL"
        );
        assert_eq!(node.stats.expired_keys, 0);
    }

    #[test]
    fn visits_every_db() {
        let mut node = Node::new(Config::default(), T0, 3);
        for db in 0..16 {
            node.keyspace.set(
                db,
                b"k".to_vec(),
                Value::String(b"v".to_vec()),
                Some(T0 + 1),
            );
        }
        node.now = T0 + 2;
        node.active_expire_cycle();
        assert!(node.keyspace.dbs.iter().all(|d| d.entries.is_empty()));
    }
}
