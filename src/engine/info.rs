//! INFO, with Redis 7.0's section names, field names and field order.

use super::replication::LinkStateName;
use super::{ClientRole, Node, REDIS_VERSION};

const DEFAULT_SECTIONS: &[&str] = &["server", "clients", "stats", "replication", "keyspace"];

impl Node {
    /// The text of `INFO [section ...]`. Unknown sections are silently empty, as in Redis.
    pub fn info_text(&self, sections: &[String]) -> String {
        let wanted: Vec<&str> = if sections.is_empty()
            || sections.iter().any(|s| s == "all" || s == "everything" || s == "default")
        {
            DEFAULT_SECTIONS.to_vec()
        } else {
            DEFAULT_SECTIONS.iter().copied().filter(|s| sections.iter().any(|w| w == s)).collect()
        };
        let mut parts = Vec::new();
        for s in wanted {
            parts.push(match s {
                "server" => self.info_server(),
                "clients" => self.info_clients(),
                "stats" => self.info_stats(),
                "replication" => self.info_replication(),
                _ => self.info_keyspace(),
            });
        }
        parts.join("\r\n")
    }

    fn info_server(&self) -> String {
        let uptime = self.now.saturating_sub(self.started_at) / 1000;
        format!(
            "# Server\r\nredis_version:{REDIS_VERSION}\r\nredis_mode:standalone\r\narch_bits:64\r\nrun_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\nhz:{}\r\n",
            self.run_id,
            self.config.port,
            uptime / 86400,
            self.config.hz
        )
    }

    fn info_clients(&self) -> String {
        let normal = self.clients.values().filter(|c| c.role == ClientRole::Normal).count();
        format!("# Clients\r\nconnected_clients:{normal}\r\n")
    }

    fn info_stats(&self) -> String {
        let s = &self.stats;
        format!(
            "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\nsync_full:{}\r\nsync_partial_ok:{}\r\nsync_partial_err:{}\r\n",
            s.total_connections_received, s.total_commands_processed, s.sync_full, s.sync_partial_ok, s.sync_partial_err
        )
    }

    fn info_keyspace(&self) -> String {
        let mut out = String::from("# Keyspace\r\n");
        for (i, db) in self.keyspace.dbs.iter().enumerate() {
            if !db.entries.is_empty() {
                out.push_str(&format!("db{i}:keys={},expires={},avg_ttl=0\r\n", db.entries.len(), db.keys_with_expiry()));
            }
        }
        out
    }

    /// `# Replication`, field for field as Redis 7.0's `genRedisInfoString`.
    pub fn info_replication(&self) -> String {
        let secs = |ms: u64| (self.now.saturating_sub(ms) / 1000) as i64;
        let r = &self.repl;
        let mut out = String::from("# Replication\r\n");
        match &r.link {
            None => out.push_str("role:master\r\n"),
            Some(link) => {
                out.push_str("role:slave\r\n");
                let master_client = link.conn.and_then(|c| self.clients.get(&c)).filter(|c| c.role == ClientRole::Master);
                let (reploff, read_reploff) = match (master_client, &r.cached_master) {
                    (Some(c), _) => (link.reploff as i64, (link.reploff + c.parser.pending_len() as u64) as i64),
                    (None, Some(cached)) => (cached.reploff as i64, cached.reploff as i64),
                    (None, None) => (1, 1),
                };
                let state = link.state_name();
                out.push_str(&format!(
                    "master_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\n",
                    link.host,
                    link.port,
                    if link.is_connected() { "up" } else { "down" },
                    if master_client.is_some() { secs(link.last_io) } else { -1 },
                    (state == LinkStateName::Transfer) as u8,
                    read_reploff,
                    reploff,
                ));
                if let Some((total, read)) = link.transfer_progress() {
                    let perc = if total > 0 { read as f64 / total as f64 * 100.0 } else { 0.0 };
                    out.push_str(&format!(
                        "master_sync_total_bytes:{total}\r\nmaster_sync_read_bytes:{read}\r\nmaster_sync_left_bytes:{}\r\nmaster_sync_perc:{perc:.2}\r\nmaster_sync_last_io_seconds_ago:{}\r\n",
                        total - read as i64,
                        secs(link.last_io)
                    ));
                }
                if !link.is_connected() {
                    let down = link.down_since.map_or(-1, secs);
                    out.push_str(&format!("master_link_down_since_seconds:{down}\r\n"));
                }
                out.push_str(&format!(
                    "slave_priority:100\r\nslave_read_only:{}\r\nreplica_announced:1\r\n",
                    self.config.replica_read_only as u8
                ));
            }
        }
        let replicas: Vec<_> = self.replicas().collect();
        out.push_str(&format!("connected_slaves:{}\r\n", replicas.len()));
        for (i, (client, peer)) in replicas.iter().enumerate() {
            let ip = client.replica_announced_ip.clone().unwrap_or_else(|| client.peer.ip.clone());
            let lag = if peer.state == super::replication::ReplicaSyncState::Online { secs(peer.ack_time) } else { 0 };
            out.push_str(&format!(
                "slave{i}:ip={ip},port={},state={},offset={},lag={lag}\r\n",
                client.replica_listening_port,
                peer.state.info_name(),
                peer.ack_offset
            ));
        }
        let (first, hist) = r.backlog.as_ref().map_or((0, 0), |b| (b.first_byte_offset(), b.histlen()));
        out.push_str(&format!(
            "master_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{first}\r\nrepl_backlog_histlen:{hist}\r\n",
            r.replid,
            r.replid2,
            r.master_repl_offset,
            r.second_repl_offset,
            r.backlog.is_some() as u8,
            self.config.repl_backlog_size,
        ));
        out
    }
}
