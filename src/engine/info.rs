//! INFO, with Redis 7.0's section names, field names and field order (`genRedisInfoString`).
//!
//! Every section Redis shows is here, field for field. What the engine knows is exact:
//! clients, commands, errors, replication, the keyspace. What only a real process has
//! (memory, CPU, pid, the OS, the compiler, forks, network byte counts) is shown with
//! plausible values of the right shape, so that tools reading INFO find every field.

use super::replication::{LinkStateName, ReplicaSyncState};
use super::{Client, ClientRole, Node, REDIS_VERSION};

/// Per-command and per-error counters (Redis's `redisCommand` call stats and its
/// `server.errors` tree).
#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub total_error_replies: u64,
    /// Error code (`ERR`, `WRONGTYPE`, ...) to count, in byte order as Redis's rax.
    pub errors: litemap::LiteMap<Vec<u8>, u64>,
    /// Full command name to its counts, sorted by name.
    pub commands: Vec<(&'static str, CommandCounts)>,
    /// Where the last counted command is in `commands`: a pipeline of one command finds
    /// its counts with one pointer comparison instead of a search by name.
    last: usize,
}

impl PartialEq for Counters {
    fn eq(&self, other: &Counters) -> bool {
        (self.total_error_replies, &self.errors, &self.commands)
            == (other.total_error_replies, &other.errors, &other.commands)
    }
}
impl Eq for Counters {}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandCounts {
    pub calls: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

impl Counters {
    /// An error reply was sent: count it under its code, the first word of the message
    /// when a space comes within its first 32 bytes, else `ERR` (as `afterErrorReply`).
    pub(crate) fn error_reply(&mut self, reply: &[u8]) {
        let msg = reply.strip_suffix(b"\r\n").unwrap_or(reply);
        let window = &msg[..msg.len().min(32)];
        let code = match window.iter().position(|&b| b == b' ') {
            Some(space) if space > 1 => msg[1..space].to_vec(),
            _ => b"ERR".to_vec(),
        };
        self.total_error_replies += 1;
        *self.errors.entry(code).or_default() += 1;
    }

    pub(crate) fn called(&mut self, name: &'static str, failed: bool) {
        let c = self.command(name);
        c.calls += 1;
        c.failed_calls += failed as u64;
    }

    pub(crate) fn rejected(&mut self, name: &'static str) {
        self.command(name).rejected_calls += 1;
    }

    /// The counts of the command named `name` (a name from the command table), added at
    /// its place in name order if it has none yet.
    fn command(&mut self, name: &'static str) -> &mut CommandCounts {
        // Names come from the static command table: the same command, the same pointer.
        let cached = self
            .commands
            .get(self.last)
            .is_some_and(|(n, _)| std::ptr::eq(*n, name));
        if !cached {
            self.last = match self.commands.binary_search_by(|(n, _)| (*n).cmp(name)) {
                Ok(i) => i,
                Err(i) => {
                    self.commands.insert(i, (name, CommandCounts::default()));
                    i
                }
            };
        }
        &mut self.commands[self.last].1
    }
}

/// The sections INFO shows without arguments, and for `default`.
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

/// Every section, in the order Redis prints them.
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

/// Redis's `bytesToHuman`.
fn human(n: u64) -> String {
    let d = n as f64;
    match n {
        0..=1023 => format!("{n}B"),
        _ if n < 1 << 20 => format!("{:.2}K", d / 1024.0),
        _ if n < 1 << 30 => format!("{:.2}M", d / (1u64 << 20) as f64),
        _ if n < 1 << 40 => format!("{:.2}G", d / (1u64 << 30) as f64),
        _ if n < 1 << 50 => format!("{:.2}T", d / (1u64 << 40) as f64),
        _ => format!("{:.2}P", d / (1u64 << 50) as f64),
    }
}

impl Node {
    /// The text of `INFO [section ...]`. Unknown sections are silently empty, as in Redis.
    pub fn info_text(&self, sections: &[String]) -> String {
        self.info_for(sections, None)
    }

    /// INFO as `caller` sees it: the client running the command counts as connected.
    pub(crate) fn info_for(&self, sections: &[String], caller: Option<&Client>) -> String {
        // Flags, not a list grown per argument: `INFO default default ...` repeated a
        // million times must not cost ten entries a word.
        let mut default = sections.is_empty();
        let mut all = false;
        for s in sections {
            if s.eq_ignore_ascii_case("default") {
                default = true;
            } else if s.eq_ignore_ascii_case("all") || s.eq_ignore_ascii_case("everything") {
                all = true;
            }
        }
        let wanted: &[&str] = if default { DEFAULT_SECTIONS } else { &[] };
        let asked = |name: &str| {
            all || wanted.contains(&name)
                || sections.iter().any(|s| s.eq_ignore_ascii_case(name))
                // The modules section answers to either name.
                || (name == "modules" && (wanted.contains(&"module_list") || sections.iter().any(|s| s.eq_ignore_ascii_case("module_list"))))
        };
        let mut parts = Vec::new();
        for &s in ALL_SECTIONS {
            if !asked(s) {
                continue;
            }
            parts.push(match s {
                "server" => self.info_server(),
                "clients" => self.info_clients(caller),
                "memory" => self.info_memory(),
                "persistence" => self.info_persistence(),
                "stats" => self.info_stats(),
                "replication" => self.info_replication(),
                "cpu" => self.info_cpu(),
                "modules" => "# Modules\r\n".to_string(),
                "commandstats" => self.info_commandstats(),
                "errorstats" => self.info_errorstats(),
                "latencystats" => self.info_latencystats(),
                "cluster" => "# Cluster\r\ncluster_enabled:0\r\n".to_string(),
                _ => self.info_keyspace(),
            });
        }
        parts.join("\r\n")
    }

    fn uptime_secs(&self) -> u64 {
        (self.now / 1000).saturating_sub(self.started_at / 1000)
    }

    fn info_server(&self) -> String {
        let uptime = self.uptime_secs();
        // What a process would report; the engine is not one, and answers the same
        // natively and in a page: a fixed Linux x86_64 (release "replscope"), the
        // "compiler" 0.0.0 (what Redis prints when not built by GCC), and a pid derived
        // from the run id.
        let pid = self.pid();
        let lru_clock = (self.now / 1000) & ((1 << 24) - 1);
        format!(
            "# Server\r\n\
             redis_version:{REDIS_VERSION}\r\n\
             redis_git_sha1:00000000\r\n\
             redis_git_dirty:0\r\n\
             redis_build_id:7265706c73636f70\r\n\
             redis_mode:standalone\r\n\
             os:Linux replscope x86_64\r\n\
             arch_bits:64\r\n\
             monotonic_clock:POSIX clock_gettime\r\n\
             multiplexing_api:epoll\r\n\
             atomicvar_api:c11-builtin\r\n\
             gcc_version:0.0.0\r\n\
             process_id:{pid}\r\n\
             process_supervised:no\r\n\
             run_id:{run_id}\r\n\
             tcp_port:{port}\r\n\
             server_time_usec:{usec}\r\n\
             uptime_in_seconds:{uptime}\r\n\
             uptime_in_days:{days}\r\n\
             hz:{hz}\r\n\
             configured_hz:{hz}\r\n\
             lru_clock:{lru_clock}\r\n\
             executable:\r\n\
             config_file:\r\n\
             io_threads_active:0\r\n",
            run_id = self.run_id,
            port = self.config.port,
            usec = self.now * 1000,
            days = uptime / 86400,
            hz = self.config.hz,
        )
    }

    fn info_clients(&self, caller: Option<&Client>) -> String {
        // Everyone but our replicas (the master link counts), the caller included.
        let not_replica = |c: &Client| !matches!(c.role, ClientRole::Replica(_));
        let connected = self.clients.values().filter(|c| not_replica(c)).count()
            + caller
                .filter(|c| not_replica(c) && !self.clients.contains_key(&c.conn))
                .map_or(0, |_| 1);
        let max_in = caller.map_or(0, |c| c.qbuf);
        let postponed = self
            .clients
            .values()
            .filter(|c| c.postponed.is_some())
            .count();
        let blocked = self.clients_waiting_acks.len() + postponed;
        let in_timeout_table = self
            .clients_waiting_acks
            .iter()
            .filter(|c| {
                self.clients
                    .get(c)
                    .and_then(|c| c.blocked.as_ref())
                    .is_some_and(|b| b.deadline.is_some())
            })
            .count();
        // The largest output buffer of the last PEAK_SLOTS seconds (replicas' share of the
        // replication buffer, and normal clients' unsent replies beyond the static buffer).
        let max_out = self.recent_max_output.iter().copied().max().unwrap_or(0);
        let maxclients = self.config.maxclients;
        format!(
            "# Clients\r\n\
             connected_clients:{connected}\r\n\
             cluster_connections:0\r\n\
             maxclients:{maxclients}\r\n\
             client_recent_max_input_buffer:{max_in}\r\n\
             client_recent_max_output_buffer:{max_out}\r\n\
             blocked_clients:{blocked}\r\n\
             tracking_clients:0\r\n\
             clients_in_timeout_table:{in_timeout_table}\r\n"
        )
    }

    /// Plausible memory figures: a fresh Redis's baseline plus a rough cost per key.
    fn info_memory(&self) -> String {
        let keys: usize = self.keyspace.dbs.iter().map(|db| db.entries.len()).sum();
        let startup: u64 = 862_072;
        // The replication buffer, split as Redis splits it: the backlog's share up to
        // repl-backlog-size, the excess charged to the replicas that hold it.
        let repl_buffers = self.repl.backlog.as_ref().map_or(0, |b| b.buffer_memory());
        let (backlog, replicas_mem) = self
            .repl
            .backlog
            .as_ref()
            .map_or((0, 0), |b| b.memory_split(self.has_replicas()));
        let not_counted = self
            .repl
            .backlog
            .as_ref()
            .map_or(0, |b| b.not_counted_memory());
        let overhead = startup + 20_000 + backlog + replicas_mem + 72 * keys as u64;
        let dataset = 56 * keys as u64 + 1_000;
        let used = overhead + dataset;
        let rss = used * 9 + 1_000_000;
        let total_system: u64 = 8 << 30;
        let perc = |part: u64, whole: u64| {
            if whole == 0 {
                0.0
            } else {
                part as f64 * 100.0 / whole as f64
            }
        };
        format!(
            "# Memory\r\n\
             used_memory:{used}\r\n\
             used_memory_human:{used_h}\r\n\
             used_memory_rss:{rss}\r\n\
             used_memory_rss_human:{rss_h}\r\n\
             used_memory_peak:{used}\r\n\
             used_memory_peak_human:{used_h}\r\n\
             used_memory_peak_perc:100.00%\r\n\
             used_memory_overhead:{overhead}\r\n\
             used_memory_startup:{startup}\r\n\
             used_memory_dataset:{dataset}\r\n\
             used_memory_dataset_perc:{dataset_perc:.2}%\r\n\
             allocator_allocated:{alloc}\r\n\
             allocator_active:{active}\r\n\
             allocator_resident:{resident}\r\n\
             total_system_memory:{total_system}\r\n\
             total_system_memory_human:{total_h}\r\n\
             used_memory_lua:31744\r\n\
             used_memory_vm_eval:31744\r\n\
             used_memory_lua_human:31.00K\r\n\
             used_memory_scripts_eval:0\r\n\
             number_of_cached_scripts:0\r\n\
             number_of_functions:0\r\n\
             number_of_libraries:0\r\n\
             used_memory_vm_functions:32768\r\n\
             used_memory_vm_total:64512\r\n\
             used_memory_vm_total_human:63.00K\r\n\
             used_memory_functions:184\r\n\
             used_memory_scripts:184\r\n\
             used_memory_scripts_human:184B\r\n\
             maxmemory:0\r\n\
             maxmemory_human:0B\r\n\
             maxmemory_policy:noeviction\r\n\
             allocator_frag_ratio:1.10\r\n\
             allocator_frag_bytes:{frag}\r\n\
             allocator_rss_ratio:2.00\r\n\
             allocator_rss_bytes:{active}\r\n\
             rss_overhead_ratio:{rss_ratio:.2}\r\n\
             rss_overhead_bytes:{rss_over}\r\n\
             mem_fragmentation_ratio:{frag_ratio:.2}\r\n\
             mem_fragmentation_bytes:{frag_bytes}\r\n\
             mem_not_counted_for_evict:{not_counted}\r\n\
             mem_replication_backlog:{backlog}\r\n\
             mem_total_replication_buffers:{repl_buffers}\r\n\
             mem_clients_slaves:{replicas_mem}\r\n\
             mem_clients_normal:{clients_mem}\r\n\
             mem_cluster_links:0\r\n\
             mem_aof_buffer:0\r\n\
             mem_allocator:jemalloc-5.3.0\r\n\
             active_defrag_running:0\r\n\
             lazyfree_pending_objects:0\r\n\
             lazyfreed_objects:0\r\n",
            used_h = human(used),
            rss_h = human(rss),
            dataset_perc = perc(dataset, used - startup),
            alloc = used + 800_000,
            active = used + 1_000_000,
            resident = used + 3_700_000,
            total_h = human(total_system),
            frag = 200_000,
            rss_ratio = rss as f64 / (used + 3_700_000) as f64,
            rss_over = rss.saturating_sub(used + 3_700_000),
            frag_ratio = rss as f64 / used as f64,
            frag_bytes = rss - used,
            clients_mem = 22_272 * self.clients.len() as u64,
        )
    }

    /// No AOF and no loading; BGSAVE children for full syncs, as modelled (see
    /// [`crate::engine::child`]).
    fn info_persistence(&self) -> String {
        let secs = |t: u64| t / 1000;
        let current = self
            .child
            .as_ref()
            .map_or(-1, |c| (secs(self.now) - secs(c.started_at)) as i64);
        let s = &self.saves;
        format!(
            "# Persistence\r\n\
             loading:0\r\n\
             async_loading:0\r\n\
             current_cow_peak:0\r\n\
             current_cow_size:0\r\n\
             current_cow_size_age:0\r\n\
             current_fork_perc:0.00\r\n\
             current_save_keys_processed:0\r\n\
             current_save_keys_total:0\r\n\
             rdb_changes_since_last_save:0\r\n\
             rdb_bgsave_in_progress:{}\r\n\
             rdb_last_save_time:{}\r\n\
             rdb_last_bgsave_status:{}\r\n\
             rdb_last_bgsave_time_sec:{}\r\n\
             rdb_current_bgsave_time_sec:{current}\r\n\
             rdb_saves:0\r\n\
             rdb_last_cow_size:0\r\n\
             rdb_last_load_keys_expired:0\r\n\
             rdb_last_load_keys_loaded:0\r\n\
             aof_enabled:0\r\n\
             aof_rewrite_in_progress:0\r\n\
             aof_rewrite_scheduled:0\r\n\
             aof_last_rewrite_time_sec:-1\r\n\
             aof_current_rewrite_time_sec:-1\r\n\
             aof_last_bgrewrite_status:ok\r\n\
             aof_rewrites:0\r\n\
             aof_rewrites_consecutive_failures:0\r\n\
             aof_last_write_status:ok\r\n\
             aof_last_cow_size:0\r\n\
             module_fork_in_progress:0\r\n\
             module_fork_last_cow_size:0\r\n",
            self.child.is_some() as u8,
            s.last_save.max(self.started_at / 1000),
            if s.last_failed { "err" } else { "ok" },
            s.last_secs,
        )
    }

    fn info_stats(&self) -> String {
        let s = &self.stats;
        let rejected = s.rejected_connections;
        format!(
            "# Stats\r\n\
             total_connections_received:{}\r\n\
             total_commands_processed:{}\r\n\
             instantaneous_ops_per_sec:0\r\n\
             total_net_input_bytes:0\r\n\
             total_net_output_bytes:0\r\n\
             total_net_repl_input_bytes:0\r\n\
             total_net_repl_output_bytes:0\r\n\
             instantaneous_input_kbps:0.00\r\n\
             instantaneous_output_kbps:0.00\r\n\
             instantaneous_input_repl_kbps:0.00\r\n\
             instantaneous_output_repl_kbps:0.00\r\n\
             rejected_connections:{rejected}\r\n\
             sync_full:{}\r\n\
             sync_partial_ok:{}\r\n\
             sync_partial_err:{}\r\n\
             expired_keys:{}\r\n\
             expired_stale_perc:0.00\r\n\
             expired_time_cap_reached_count:{}\r\n\
             expire_cycle_cpu_milliseconds:0\r\n\
             evicted_keys:0\r\n\
             evicted_clients:0\r\n\
             total_eviction_exceeded_time:0\r\n\
             current_eviction_exceeded_time:0\r\n\
             keyspace_hits:0\r\n\
             keyspace_misses:0\r\n\
             pubsub_channels:0\r\n\
             pubsub_patterns:0\r\n\
             pubsubshard_channels:0\r\n\
             latest_fork_usec:0\r\n\
             total_forks:0\r\n\
             migrate_cached_sockets:0\r\n\
             slave_expires_tracked_keys:0\r\n\
             active_defrag_hits:0\r\n\
             active_defrag_misses:0\r\n\
             active_defrag_key_hits:0\r\n\
             active_defrag_key_misses:0\r\n\
             total_active_defrag_time:0\r\n\
             current_active_defrag_time:0\r\n\
             tracking_total_keys:0\r\n\
             tracking_total_items:0\r\n\
             tracking_total_prefixes:0\r\n\
             unexpected_error_replies:0\r\n\
             total_error_replies:{}\r\n\
             dump_payload_sanitizations:0\r\n\
             total_reads_processed:0\r\n\
             total_writes_processed:0\r\n\
             io_threaded_reads_processed:0\r\n\
             io_threaded_writes_processed:0\r\n\
             reply_buffer_shrinks:0\r\n\
             reply_buffer_expands:0\r\n",
            s.total_connections_received,
            s.total_commands_processed,
            s.sync_full,
            s.sync_partial_ok,
            s.sync_partial_err,
            s.expired_keys,
            self.active_expire.time_cap_reached_count,
            self.counters.total_error_replies,
        )
    }

    fn info_cpu(&self) -> String {
        // A plausible, slowly growing figure: a millisecond of CPU per second of uptime.
        let ms = self.uptime_secs();
        let t = |ms: u64| format!("{}.{:06}", ms / 1000, (ms % 1000) * 1000);
        format!(
            "# CPU\r\nused_cpu_sys:{}\r\nused_cpu_user:{}\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\nused_cpu_sys_main_thread:{}\r\nused_cpu_user_main_thread:{}\r\n",
            t(ms),
            t(ms),
            t(ms),
            t(ms)
        )
    }

    fn info_commandstats(&self) -> String {
        let mut out = String::from("# Commandstats\r\n");
        for (name, c) in &self.counters.commands {
            // A plausible two microseconds a call.
            out.push_str(&format!(
                "cmdstat_{name}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
                c.calls,
                c.calls * 2,
                if c.calls == 0 { 0.0 } else { 2.0 },
                c.rejected_calls,
                c.failed_calls
            ));
        }
        out
    }

    fn info_errorstats(&self) -> String {
        let mut out = String::from("# Errorstats\r\n");
        for (code, count) in &self.counters.errors {
            // Redis makes the code safe for INFO's line format.
            let safe: String = String::from_utf8_lossy(code)
                .chars()
                .map(|c| if "#:\n\r".contains(c) { '_' } else { c })
                .collect();
            out.push_str(&format!("errorstat_{safe}:count={count}\r\n"));
        }
        out
    }

    fn info_latencystats(&self) -> String {
        let mut out = String::from("# Latencystats\r\n");
        for (name, c) in &self.counters.commands {
            if c.calls > 0 {
                out.push_str(&format!(
                    "latency_percentiles_usec_{name}:p50=2.007,p99=2.007,p99.9=2.007\r\n"
                ));
            }
        }
        out
    }

    fn info_keyspace(&self) -> String {
        let mut out = String::from("# Keyspace\r\n");
        for (i, db) in self.keyspace.dbs.iter().enumerate() {
            if !db.entries.is_empty() {
                out.push_str(&format!(
                    "db{i}:keys={},expires={},avg_ttl=0\r\n",
                    db.entries.len(),
                    db.keys_with_expiry()
                ));
            }
        }
        out
    }

    /// The replication state `INFO replication` prints, as values: what a reader of this
    /// server (the page) takes instead of parsing the text back.
    pub fn replication_info(&self) -> ReplicationInfo {
        let secs = |ms: u64| ((self.now / 1000) as i64 - (ms / 1000) as i64).max(0);
        let r = &self.repl;
        let master = r.link.as_ref().map(|link| {
            let master_client = link
                .conn
                .and_then(|c| self.clients.get(&c))
                .filter(|c| c.role == ClientRole::Master);
            let (repl_offset, read_repl_offset) = match (master_client, &r.cached_master) {
                // Read: everything received, including a transaction not yet applied.
                (Some(c), _) => (
                    link.reploff as i64,
                    (link.reploff + (c.stream_held.len() + c.parser.pending_len()) as u64) as i64,
                ),
                (None, Some(cached)) => (cached.reploff as i64, cached.reploff as i64),
                (None, None) => (1, 1),
            };
            let connected = link.is_connected();
            MasterLinkInfo {
                host: link.host.clone(),
                port: link.port,
                state: link.state_name(),
                link_up: connected,
                last_io_seconds_ago: if master_client.is_some() {
                    secs(link.last_io)
                } else {
                    -1
                },
                read_repl_offset,
                repl_offset,
                sync: link
                    .transfer_progress()
                    .map(|(total_bytes, read_bytes)| SyncProgress {
                        total_bytes,
                        read_bytes,
                        last_io_seconds_ago: secs(link.last_io),
                    }),
                down_since_seconds: (!connected).then(|| link.down_since.map_or(-1, secs)),
                priority: self.config.replica_priority,
                read_only: self.config.replica_read_only,
                announced: self.config.replica_announced,
            }
        });
        let replicas = self
            .replicas()
            .map(|(client, peer)| ReplicaInfo {
                ip: client
                    .replica_announced_ip
                    .clone()
                    .unwrap_or_else(|| client.peer.ip.clone()),
                port: client.replica_listening_port,
                state: peer.state,
                offset: peer.ack_offset,
                lag: if peer.state == ReplicaSyncState::Online {
                    secs(peer.ack_time)
                } else {
                    0
                },
            })
            .collect();
        let (backlog_first_byte_offset, backlog_histlen) = r
            .backlog
            .as_ref()
            .map_or((0, 0), |b| (b.first_byte_offset(), b.histlen()));
        ReplicationInfo {
            master,
            replicas,
            good_replicas: (self.config.min_replicas_to_write > 0
                && self.config.min_replicas_max_lag > 0)
                .then_some(r.good_replicas),
            failover_state: crate::engine::replication::failover::state_name(r.failover.as_ref()),
            replid: r.replid.clone(),
            replid2: r.replid2.clone(),
            master_repl_offset: r.master_repl_offset,
            second_repl_offset: r.second_repl_offset,
            backlog_active: r.backlog.is_some(),
            backlog_size: self.config.repl_backlog_size,
            backlog_first_byte_offset,
            backlog_histlen,
        }
    }

    /// `# Replication`, field for field as Redis 7.0's `genRedisInfoString`.
    pub fn info_replication(&self) -> String {
        self.replication_info().to_string()
    }
}

/// A replica's link to its master, as `INFO replication` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterLinkInfo {
    pub host: String,
    pub port: u16,
    /// The handshake step, finer than `master_link_status` (which INFO prints).
    pub state: LinkStateName,
    pub link_up: bool,
    /// -1 while there is no master client.
    pub last_io_seconds_ago: i64,
    /// Everything received, a transaction not yet applied included.
    pub read_repl_offset: i64,
    pub repl_offset: i64,
    /// While a snapshot is read.
    pub sync: Option<SyncProgress>,
    /// While the link is down (-1: never up).
    pub down_since_seconds: Option<i64>,
    pub priority: u64,
    pub read_only: bool,
    pub announced: bool,
}

/// The snapshot a replica is reading: `total_bytes` is -1 until its header is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncProgress {
    pub total_bytes: i64,
    pub read_bytes: usize,
    pub last_io_seconds_ago: i64,
}

/// A replica as its master's INFO lists it (`slaveN:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaInfo {
    pub ip: String,
    pub port: u16,
    pub state: ReplicaSyncState,
    /// The last offset it acknowledged.
    pub offset: u64,
    pub lag: i64,
}

/// A server's replication state: what `INFO replication` prints, as values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationInfo {
    /// `Some` on a replica.
    pub master: Option<MasterLinkInfo>,
    pub replicas: Vec<ReplicaInfo>,
    /// Shown only while min-replicas-to-write and min-replicas-max-lag are both set.
    pub good_replicas: Option<u64>,
    /// `master_failover_state`: no-failover, waiting-for-sync or failover-in-progress.
    pub failover_state: &'static str,
    pub replid: String,
    pub replid2: String,
    pub master_repl_offset: u64,
    pub second_repl_offset: i64,
    pub backlog_active: bool,
    pub backlog_size: u64,
    pub backlog_first_byte_offset: u64,
    pub backlog_histlen: usize,
}

impl ReplicationInfo {
    /// The offset a card shows with its INFO name: the replica's own on a replica.
    pub fn offset(&self) -> (&'static str, i64) {
        match &self.master {
            Some(m) => ("slave_repl_offset", m.repl_offset),
            None => ("master_repl_offset", self.master_repl_offset as i64),
        }
    }
}

impl std::fmt::Display for ReplicationInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("# Replication\r\n")?;
        match &self.master {
            None => f.write_str("role:master\r\n")?,
            Some(m) => {
                write!(
                    f,
                    "role:slave\r\nmaster_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\n",
                    m.host,
                    m.port,
                    if m.link_up { "up" } else { "down" },
                    m.last_io_seconds_ago,
                    (m.state == LinkStateName::Transfer) as u8,
                    m.read_repl_offset,
                    m.repl_offset,
                )?;
                if let Some(s) = &m.sync {
                    let (total, read) = (s.total_bytes, s.read_bytes);
                    // Redis divides by any non-zero size, the -1 of "header not read yet"
                    // included: 0 / -1 is printed as -0.00.
                    let perc = if total != 0 {
                        read as f64 / total as f64 * 100.0
                    } else {
                        0.0
                    };
                    write!(
                        f,
                        "master_sync_total_bytes:{total}\r\nmaster_sync_read_bytes:{read}\r\nmaster_sync_left_bytes:{}\r\nmaster_sync_perc:{perc:.2}\r\nmaster_sync_last_io_seconds_ago:{}\r\n",
                        total - read as i64,
                        s.last_io_seconds_ago
                    )?;
                }
                if let Some(down) = m.down_since_seconds {
                    write!(f, "master_link_down_since_seconds:{down}\r\n")?;
                }
                write!(
                    f,
                    "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
                    m.priority, m.read_only as u8, m.announced as u8
                )?;
            }
        }
        write!(f, "connected_slaves:{}\r\n", self.replicas.len())?;
        if let Some(good) = self.good_replicas {
            write!(f, "min_slaves_good_slaves:{good}\r\n")?;
        }
        for (i, r) in self.replicas.iter().enumerate() {
            write!(
                f,
                "slave{i}:ip={},port={},state={},offset={},lag={}\r\n",
                r.ip,
                r.port,
                r.state.info_name(),
                r.offset,
                r.lag
            )?;
        }
        write!(
            f,
            "master_failover_state:{}\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
            self.failover_state,
            self.replid,
            self.replid2,
            self.master_repl_offset,
            self.second_repl_offset,
            self.backlog_active as u8,
            self.backlog_size,
            self.backlog_first_byte_offset,
            self.backlog_histlen,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_counted_like_redis() {
        let mut c = Counters::default();
        c.error_reply(b"-ERR unknown command\r\n");
        c.error_reply(b"-WRONGTYPE Operation against\r\n");
        c.error_reply(b"-NOSPACEINTHEFIRSTTHIRTYTWOBYTESATALL here\r\n");
        c.error_reply(b"-EXECABORT Transaction discarded\r\n");
        assert_eq!(c.total_error_replies, 4);
        let codes: Vec<_> = c
            .errors
            .iter()
            .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), *v))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("ERR".into(), 2),
                ("EXECABORT".into(), 1),
                ("WRONGTYPE".into(), 1)
            ]
        );
    }

    #[test]
    fn info_replication_prints_the_replication_info() {
        let config = crate::engine::Config {
            min_replicas_to_write: 1,
            min_replicas_max_lag: 10,
            ..Default::default()
        };
        let node = Node::new(config, 1_700_000_000_000, 1);
        let info = node.replication_info();
        assert_eq!((info.master.as_ref(), info.good_replicas), (None, Some(0)));
        assert!(!info.backlog_active && info.replicas.is_empty());
        assert_eq!(info.offset(), ("master_repl_offset", 0));
        let text = node.info_replication();
        assert!(
            text.starts_with(
                "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmin_slaves_good_slaves:0\r\n"
            ),
            "{text}"
        );
        assert!(text.contains(&format!("\r\nmaster_replid:{}\r\n", info.replid)));
        assert!(text.ends_with("repl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n"));
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(1023), "1023B");
        assert_eq!(human(1024), "1.00K");
        assert_eq!(human(1_406_960), "1.34M");
        assert_eq!(human(25_276_510_208), "23.54G");
    }
}
