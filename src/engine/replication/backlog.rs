//! The replication buffer and the backlog, kept the way Redis 7.0 keeps them.
//!
//! # One copy of the stream, many readers
//!
//! Every byte a master produces for its replicas is written exactly once, into one list of
//! *blocks* shared by everyone who still needs it (`server.repl_buffer_blocks`). Nobody
//! gets a private copy. Instead each reader holds a *reference*: a block and a position in
//! it.
//!
//! * The **backlog** references the oldest block. It is what makes a partial resync
//!   possible: a replica that lost its link comes back saying "I have everything up to
//!   offset N" (`PSYNC <replid> N+1`), and if byte N+1 is still in some block the master
//!   sends only the bytes from there on (`+CONTINUE`) instead of a whole snapshot.
//! * Every **replica** references the block holding the first byte that has not left the
//!   node yet (Redis: not yet written to its socket). A replica that reads slowly keeps
//!   old blocks alive, and everything from its block to the end of the list is its
//!   *output buffer* — that is what `client-output-buffer-limit replica ...` measures.
//!
//! Before 7.0 the backlog was a fixed ring and every replica had its own output buffer, so
//! one write to ten replicas was eleven copies. Sharing blocks makes that one copy; the
//! price is that the backlog's length is no longer exact.
//!
//! # Why `repl_backlog_histlen` is not `repl-backlog-size`
//!
//! The history is trimmed whole blocks at a time, from the front, and only
//! 1. while it is longer than `repl-backlog-size`, and
//! 2. if dropping the first block still leaves *more* than `repl-backlog-size` (the
//!    backlog never shrinks below its setting), and
//! 3. if no replica still references that block (its bytes have not all left the node),
//! 4. and never the last block.
//!
//! So after a quiet start `histlen` grows past `repl-backlog-size` by up to one block, and
//! behind a lagging replica it can be far larger: the master keeps everything that replica
//! has not received, which also means it accepts PSYNC further back than the setting
//! promises. Trimming is also *incremental* — at most [`TRIM_BLOCKS_PER_CALL`] blocks per
//! call — so that freeing gigabytes after a slow replica leaves never stalls the server.
//!
//! # Block sizes come from the allocator
//!
//! A new block is asked for `max(16 KiB, bytes still to store)` bytes, but at most
//! `repl-backlog-size / 16` (so that one huge write cannot make a block the backlog could
//! only drop whole), plus its 40-byte header. Redis then keeps whatever jemalloc actually
//! gave it (`zmalloc_usable`), which is rounded up to a size class: a 16 KiB block is
//! really 20440 bytes. Those class sizes decide where blocks end, hence what can be
//! trimmed, hence the `histlen` and `first_byte_offset` that INFO shows; so they are
//! modelled exactly ([`jemalloc_size_class`]).
//!
//! Offsets are 1-based positions in the stream, as in Redis: the first byte ever produced
//! is at offset 1, and `master_repl_offset` is the offset of the last byte produced.

use std::collections::VecDeque;

use litemap::LiteMap;

use crate::engine::ConnId;

/// Redis's `PROTO_REPLY_CHUNK_BYTES`: no block is asked for less than 16 KiB, so small
/// writes append into the tail block instead of each allocating one.
pub const MIN_BLOCK_BYTES: usize = 16 * 1024;

/// `sizeof(replBufBlock)` on a 64-bit build: refcount (int, padded to 8), id, repl_offset,
/// size and used. It shares the allocation with the block's bytes.
pub const BLOCK_HEADER_BYTES: usize = 40;

/// `sizeof(listNode)`: the list cell that links a block into the buffer.
pub const LIST_NODE_BYTES: usize = 24;

/// Redis's `REPL_BACKLOG_TRIM_BLOCKS_PER_CALL`: at most this many blocks are freed by one
/// trim, so a big release is spread over several event-loop turns.
pub const TRIM_BLOCKS_PER_CALL: usize = 64;

/// Redis trims ten times as many blocks once per event-loop turn (`beforeSleep`), to give
/// memory back quickly after a slow replica left.
pub const TRIM_BLOCKS_BEFORE_SLEEP: usize = 10 * TRIM_BLOCKS_PER_CALL;

/// Redis's `REPL_BACKLOG_INDEX_PER_BLOCKS`: every 64th block goes into a radix tree so a
/// PSYNC can find its offset without walking the whole list. (Here the search is a binary
/// search; the index is kept only for its memory cost, which INFO reports.)
const INDEX_EVERY_BLOCKS: usize = 64;

/// The size jemalloc 5 really allocates for a request of `n` bytes (what
/// `malloc_usable_size` reports): 8, then multiples of 16 up to 128, then four classes per
/// doubling — (2^k, 2^(k+1)] is cut into steps of 2^(k-2). Above 16 KiB jemalloc hands out
/// page runs instead of slab slots, but the classes keep the same four-per-doubling shape.
pub fn jemalloc_size_class(n: usize) -> usize {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return n.div_ceil(16) * 16;
    }
    // 2^lg < n <= 2^(lg+1)
    let lg = usize::BITS - 1 - (n - 1).leading_zeros();
    let step = 1usize << (lg - 2);
    n.div_ceil(step) * step
}

/// One block of the replication buffer (Redis's `replBufBlock`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    /// Increases by one per block; the distance between two ids counts blocks.
    id: u64,
    /// Stream offset of the block's first byte.
    repl_offset: u64,
    /// Usable size: what the allocator gave, less the header.
    size: usize,
    /// The bytes stored so far (`used` is its length, never more than `size`).
    data: Vec<u8>,
}

impl Block {
    fn used(&self) -> usize {
        self.data.len()
    }
}

/// Where a reader stands: a block and a position inside it (`ref_repl_buf_node`,
/// `ref_block_pos`). The bytes before `pos` have left the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BlockRef {
    block_id: u64,
    pos: usize,
}

/// A block as the playground draws it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockView<'a> {
    pub id: u64,
    /// Stream offset of the first byte.
    pub first_offset: u64,
    /// Bytes stored.
    pub used: usize,
    /// Bytes the block can hold (its allocation's usable size, less the header).
    pub size: usize,
    /// Who holds it: the backlog (the first block) plus each replica whose next unsent
    /// byte is in it. Only a block with a count of exactly 1 held by the backlog may go.
    pub refcount: usize,
    pub data: &'a [u8],
}

/// Where one replica stands in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaRef {
    pub conn: ConnId,
    pub block_id: u64,
    /// Position inside the block.
    pub pos: usize,
    /// Stream offset of the first byte that has not left the node yet (one past the end
    /// when it has everything).
    pub offset: u64,
}

/// The shared replication buffer and the backlog's view of it (Redis's
/// `server.repl_buffer_blocks`, `server.repl_buffer_mem` and `server.repl_backlog`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlog {
    /// `repl-backlog-size`: how much history to keep when nobody else needs older bytes.
    size_limit: u64,
    blocks: VecDeque<Block>,
    next_block_id: u64,
    /// Bytes of history held, from the first block's first byte to the last byte fed.
    histlen: u64,
    /// Offset of the last byte fed (the owner's `master_repl_offset`).
    last_offset: u64,
    /// Memory of every block allocation plus its list cell (`repl_buffer_mem`).
    buffer_mem: u64,
    /// Blocks fed since the last one that went into the index.
    unindexed_count: usize,
    /// Ids of the indexed blocks.
    indexed: LiteMap<u64, ()>,
    /// Each replica that references a block. A replica without an entry has not been fed
    /// anything yet (it waits for its snapshot to start) and holds nothing.
    replicas: LiteMap<ConnId, BlockRef>,
}

impl Backlog {
    /// A new, empty backlog for a stream whose last produced byte is `master_repl_offset`:
    /// it holds nothing, but virtually its first byte is the next one to be produced.
    pub fn new(size_limit: usize, master_repl_offset: u64) -> Self {
        Backlog {
            size_limit: size_limit as u64,
            blocks: VecDeque::new(),
            next_block_id: 0,
            histlen: 0,
            last_offset: master_repl_offset,
            buffer_mem: 0,
            unindexed_count: 0,
            indexed: LiteMap::new(),
            replicas: LiteMap::new(),
        }
    }

    /// `repl_backlog_histlen`: may exceed `repl-backlog-size` (see the module docs).
    pub fn histlen(&self) -> usize {
        self.histlen as usize
    }

    /// `repl_backlog_first_byte_offset`: the oldest byte held (when nothing is held, the
    /// next byte to be produced).
    pub fn first_byte_offset(&self) -> u64 {
        self.last_offset + 1 - self.histlen
    }

    /// Offset of the newest byte held (the master's offset when the backlog is current).
    pub fn last_offset(&self) -> u64 {
        self.last_offset
    }

    /// `mem_total_replication_buffers`: every block allocation and its list cell.
    pub fn buffer_memory(&self) -> u64 {
        self.buffer_mem
    }

    /// Redis's split of [`Backlog::buffer_memory`] for INFO: (`mem_replication_backlog`,
    /// `mem_clients_slaves`). Up to `repl-backlog-size` is the backlog's; what exceeds it
    /// is charged to the replicas, if there are any, since only they can make it exceed.
    /// The backlog's share also pays for the index (an estimate of the radix tree's nodes).
    pub fn memory_split(&self, has_replicas: bool) -> (u64, u64) {
        let (backlog, replicas) = if has_replicas && self.buffer_mem > self.size_limit {
            (self.size_limit, self.buffer_mem - self.size_limit)
        } else {
            (self.buffer_mem, 0)
        };
        // sizeof(raxNode) is 4; each indexed block costs a pointer and about two nodes.
        let index_nodes = 1 + 2 * self.indexed.len() as u64;
        (
            backlog + index_nodes * 4 + self.indexed.len() as u64 * 8,
            replicas,
        )
    }

    /// Redis's `freeMemoryGetNotCountedMemory` share of the buffer: what lies beyond the
    /// backlog's setting (plus an allowance for block headers) is not counted against
    /// maxmemory, so a slow replica cannot make the master evict keys.
    pub fn not_counted_memory(&self) -> u64 {
        if self.buffer_mem <= self.size_limit {
            return 0;
        }
        let headers = (self.size_limit / MIN_BLOCK_BYTES as u64 + 1)
            * (BLOCK_HEADER_BYTES + LIST_NODE_BYTES) as u64;
        self.buffer_mem.saturating_sub(self.size_limit + headers)
    }

    /// Free bytes in the tail block: a write no longer than this fills it without
    /// allocating, however it is cut into pieces.
    pub fn tail_room(&self) -> usize {
        self.blocks.back().map_or(0, |tail| tail.size - tail.used())
    }

    /// Appends stream bytes (one call of Redis's `feedReplicationBuffer`). `readers` are
    /// the replicas that take the stream now; each one that holds no reference yet starts
    /// referencing the first of these bytes. Returns whether a new block was allocated,
    /// which is when Redis checks the replicas' output buffer limits.
    pub fn feed(&mut self, mut data: &[u8], readers: &[ConnId]) -> bool {
        let mut added_any = false;
        while !data.is_empty() {
            let mut start: Option<BlockRef> = None;
            // Fill what is left of the tail block first.
            if let Some(tail) = self.blocks.back_mut() {
                if tail.used() < tail.size {
                    start = Some(BlockRef {
                        block_id: tail.id,
                        pos: tail.used(),
                    });
                    let copy = (tail.size - tail.used()).min(data.len());
                    tail.data.extend_from_slice(&data[..copy]);
                    data = &data[copy..];
                    self.last_offset += copy as u64;
                    self.histlen += copy as u64;
                }
            }
            let mut added = false;
            if !data.is_empty() {
                // At least 16 KiB so later small writes fit in; at most a sixteenth of the
                // backlog so a huge write is split into blocks that can be dropped one by
                // one as it ages.
                let limit = (self.size_limit as usize / 16).max(MIN_BLOCK_BYTES);
                let want = data.len().max(MIN_BLOCK_BYTES).min(limit);
                let usable = jemalloc_size_class(want + BLOCK_HEADER_BYTES);
                let size = usable - BLOCK_HEADER_BYTES;
                let copy = size.min(data.len());
                let mut bytes = Vec::with_capacity(size);
                bytes.extend_from_slice(&data[..copy]);
                let id = self.next_block_id;
                self.next_block_id += 1;
                self.blocks.push_back(Block {
                    id,
                    repl_offset: self.last_offset + 1,
                    size,
                    data: bytes,
                });
                self.buffer_mem += (usable + LIST_NODE_BYTES) as u64;
                start.get_or_insert(BlockRef {
                    block_id: id,
                    pos: 0,
                });
                data = &data[copy..];
                self.last_offset += copy as u64;
                self.histlen += copy as u64;
                added = true;
            }
            let start = start.expect("bytes were stored");
            for conn in readers {
                self.replicas.entry(*conn).or_insert(start);
            }
            if added {
                self.index_new_block();
                // Trim right after adding a block, so the history stays close to its
                // setting; waiting for a new block avoids trying on every small write.
                self.trim(TRIM_BLOCKS_PER_CALL);
                added_any = true;
            }
        }
        added_any
    }

    fn index_new_block(&mut self) {
        self.unindexed_count += 1;
        if self.unindexed_count >= INDEX_EVERY_BLOCKS {
            if let Some(tail) = self.blocks.back() {
                self.indexed.insert(tail.id, ());
            }
            self.unindexed_count = 0;
        }
    }

    /// Drops old blocks, at most `max_blocks` of them (Redis's
    /// `incrementalTrimReplicationBacklog`).
    pub fn trim(&mut self, max_blocks: usize) {
        let mut trimmed = 0;
        while self.histlen > self.size_limit && trimmed < max_blocks {
            // Never below one block: the tail is where the next bytes go.
            if self.blocks.len() <= 1 {
                break;
            }
            let first = &self.blocks[0];
            // A replica still has to send bytes of it: the backlog grows beyond its
            // setting instead, which also lets more replicas continue partially.
            if self.replicas.values().any(|r| r.block_id == first.id) {
                break;
            }
            // Dropping it would leave less than the setting.
            if self.histlen - (first.size as u64) <= self.size_limit {
                break;
            }
            // Every block but the tail is full, so its size is its length.
            self.histlen -= first.size as u64;
            self.buffer_mem -= (first.size + BLOCK_HEADER_BYTES + LIST_NODE_BYTES) as u64;
            self.indexed.remove(&first.id);
            self.blocks.pop_front();
            trimmed += 1;
        }
    }

    /// Changes `repl-backlog-size`. Growing keeps everything; shrinking drops old blocks
    /// (incrementally, as Redis's `resizeReplicationBacklog`).
    pub fn resize(&mut self, size_limit: usize) {
        self.size_limit = size_limit as u64;
        self.trim(TRIM_BLOCKS_PER_CALL);
    }

    /// Whether a replica that has everything before `offset` can continue from the
    /// backlog: `offset` must be a held byte, or the very next byte to be produced.
    pub fn covers(&self, offset: u64) -> bool {
        offset >= self.first_byte_offset() && offset <= self.first_byte_offset() + self.histlen
    }

    /// Index in `blocks` of the block Redis picks for `offset`: the first whose end
    /// reaches it, so an offset just past a block's end lands at that block's end.
    fn block_index_for(&self, offset: u64) -> usize {
        let i = self
            .blocks
            .partition_point(|b| b.repl_offset + (b.used() as u64) < offset);
        i.min(self.blocks.len().saturating_sub(1))
    }

    /// The bytes from stream offset `from` to the newest byte, if `covers(from)`.
    pub fn read_from(&self, from: u64) -> Option<Vec<u8>> {
        if !self.covers(from) {
            return None;
        }
        let mut out = Vec::with_capacity((self.last_offset + 1 - from) as usize);
        if self.blocks.is_empty() {
            return Some(out);
        }
        let first = self.block_index_for(from);
        for block in self.blocks.iter().skip(first) {
            let skip = from.saturating_sub(block.repl_offset) as usize;
            out.extend_from_slice(&block.data[skip.min(block.used())..]);
        }
        Some(out)
    }

    /// A replica continues from `offset` (`+CONTINUE`): from now on it references the
    /// block holding that byte, keeping it alive until the byte has left the node. Returns
    /// how many backlog bytes it is owed (Redis's `addReplyReplicationBacklog`). With an
    /// empty history it references nothing until the next byte is fed.
    pub fn attach_replica_at(&mut self, conn: ConnId, offset: u64) -> u64 {
        if self.histlen == 0 || !self.covers(offset) {
            return 0;
        }
        let i = self.block_index_for(offset);
        let block = &self.blocks[i];
        let pos = (offset - block.repl_offset) as usize;
        self.replicas.insert(
            conn,
            BlockRef {
                block_id: block.id,
                pos,
            },
        );
        self.last_offset + 1 - offset
    }

    /// `n` more of this replica's stream bytes left the node. Its reference moves on, and
    /// each block it finishes (when a next one exists) may now be trimmed — Redis's
    /// `_writeToClientSlave`.
    pub fn replica_wrote(&mut self, conn: ConnId, mut n: u64) {
        loop {
            let Some(r) = self.replicas.get(&conn).copied() else {
                return;
            };
            let Some(i) = self.index_of(r.block_id) else {
                return;
            };
            let used = self.blocks[i].used();
            let take = ((used - r.pos) as u64).min(n) as usize;
            let pos = r.pos + take;
            n -= take as u64;
            let moved = if pos == used && i + 1 < self.blocks.len() {
                BlockRef {
                    block_id: self.blocks[i + 1].id,
                    pos: 0,
                }
            } else {
                BlockRef {
                    block_id: r.block_id,
                    pos,
                }
            };
            self.replicas.insert(conn, moved);
            if moved.block_id == r.block_id {
                return;
            }
            self.trim(TRIM_BLOCKS_PER_CALL);
            if n == 0 {
                return;
            }
        }
    }

    /// The replicas that have sent all of their block while a next one exists: their next
    /// write attempt moves them on even if the socket takes nothing.
    pub fn replicas_done_with_their_block(&self) -> Vec<ConnId> {
        self.replicas
            .iter()
            .filter(|(_, r)| {
                self.index_of(r.block_id)
                    .is_some_and(|i| i + 1 < self.blocks.len() && r.pos == self.blocks[i].used())
            })
            .map(|(conn, _)| *conn)
            .collect()
    }

    /// The replica is gone: whatever only it held may be trimmed
    /// (`freeReplicaReferencedReplBuffer`).
    pub fn detach_replica(&mut self, conn: ConnId) {
        if self.replicas.remove(&conn).is_some() {
            self.trim(TRIM_BLOCKS_PER_CALL);
        }
    }

    fn index_of(&self, block_id: u64) -> Option<usize> {
        let first = self.blocks.front()?.id;
        let i = block_id.checked_sub(first)? as usize;
        (i < self.blocks.len()).then_some(i)
    }

    /// Stream offset of the first byte this replica still needs, if it references a block.
    pub fn replica_offset(&self, conn: ConnId) -> Option<u64> {
        let r = self.replicas.get(&conn)?;
        let i = self.index_of(r.block_id)?;
        Some(self.blocks[i].repl_offset + r.pos as u64)
    }

    /// The replica's output buffer as Redis counts it for `client-output-buffer-limit`
    /// (`getClientOutputBufferMemoryUsage`): every byte of capacity from the start of its
    /// block to the end of the tail block (its unsent bytes, the part of its block it
    /// already sent, and the tail's free room), plus each block's header and list cell.
    /// A replica that references nothing uses nothing. Returns (bytes, blocks).
    pub fn replica_output_usage(&self, conn: ConnId) -> (u64, u64) {
        let (Some(r), Some(last)) = (self.replicas.get(&conn), self.blocks.back()) else {
            return (0, 0);
        };
        let Some(i) = self.index_of(r.block_id) else {
            return (0, 0);
        };
        let cur = &self.blocks[i];
        let bytes = last.repl_offset + last.size as u64 - cur.repl_offset;
        let blocks = last.id - cur.id + 1;
        (
            bytes + blocks * (LIST_NODE_BYTES + BLOCK_HEADER_BYTES) as u64,
            blocks,
        )
    }

    /// Every block, oldest first.
    pub fn blocks(&self) -> impl Iterator<Item = BlockView<'_>> + '_ {
        self.blocks.iter().enumerate().map(|(i, b)| BlockView {
            id: b.id,
            first_offset: b.repl_offset,
            used: b.used(),
            size: b.size,
            refcount: usize::from(i == 0)
                + self
                    .replicas
                    .values()
                    .filter(|r| r.block_id == b.id)
                    .count(),
            data: &b.data,
        })
    }

    /// Every replica that references a block, by connection.
    pub fn replica_refs(&self) -> impl Iterator<Item = ReplicaRef> + '_ {
        self.replicas.iter().filter_map(|(conn, r)| {
            let i = self.index_of(r.block_id)?;
            Some(ReplicaRef {
                conn: *conn,
                block_id: r.block_id,
                pos: r.pos,
                offset: self.blocks[i].repl_offset + r.pos as u64,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What one 16 KiB block really holds: 16384 + 40 rounds up to jemalloc's 20480 class.
    const BLOCK: usize = 20480 - BLOCK_HEADER_BYTES;

    #[test]
    fn jemalloc_classes() {
        let cases = [
            (1, 8),
            (8, 8),
            (9, 16),
            (17, 32),
            (128, 128),
            (129, 160),
            (160, 160),
            (161, 192),
            (257, 320),
            (16384, 16384),
            (16385, 20480),
            (16424, 20480),
            (20481, 24576),
            (32769, 40960),
            (65576, 81920),
            (1 << 20, 1 << 20),
            ((1 << 20) + 1, 1_310_720),
        ];
        for (n, class) in cases {
            assert_eq!(jemalloc_size_class(n), class, "size class of {n}");
        }
    }

    #[test]
    fn fresh_backlog_starts_after_current_offset() {
        let b = Backlog::new(16384, 259);
        assert_eq!(b.first_byte_offset(), 260);
        assert_eq!(b.histlen(), 0);
        assert!(b.covers(260));
        assert!(!b.covers(259));
        assert!(!b.covers(261));
        assert_eq!(b.read_from(260), Some(vec![]));
        assert_eq!(b.buffer_memory(), 0);
    }

    #[test]
    fn small_writes_share_one_block_sized_by_the_allocator() {
        let mut b = Backlog::new(1 << 20, 0);
        assert!(b.feed(b"abc", &[]));
        assert!(!b.feed(b"def", &[]));
        let blocks: Vec<_> = b.blocks().collect();
        assert_eq!(blocks.len(), 1);
        assert_eq!(
            (blocks[0].used, blocks[0].size, blocks[0].first_offset),
            (6, BLOCK, 1)
        );
        assert_eq!(b.buffer_memory(), (20480 + LIST_NODE_BYTES) as u64);
        assert_eq!(b.read_from(2).unwrap(), b"bcdef");
    }

    #[test]
    fn a_big_write_gets_a_block_of_its_own_size_capped_at_a_sixteenth() {
        // 1 MiB backlog: blocks up to 64 KiB. 30000 bytes after a full first block get one
        // block of class(30040) = 32768.
        let mut b = Backlog::new(1 << 20, 0);
        b.feed(&vec![b'a'; BLOCK], &[]);
        b.feed(&vec![b'b'; 30000], &[]);
        let sizes: Vec<_> = b.blocks().map(|x| (x.used, x.size)).collect();
        assert_eq!(sizes, vec![(BLOCK, BLOCK), (30000, 32768 - 40)]);
        // 200000 bytes: 65536 + 40 → class 81920, so blocks of 81880 until the rest.
        let mut b = Backlog::new(1 << 20, 0);
        b.feed(&vec![b'c'; 200_000], &[]);
        let sizes: Vec<_> = b.blocks().map(|x| x.size).collect();
        assert_eq!(
            sizes,
            vec![
                81880,
                81880,
                jemalloc_size_class(200_000 - 2 * 81880 + 40) - 40
            ]
        );
        assert_eq!(b.histlen(), 200_000);
    }

    #[test]
    fn trimming_is_whole_blocks_and_never_below_the_setting() {
        let mut b = Backlog::new(16384, 0);
        // One full block: 20440 > 16384, but it is the only block.
        b.feed(&vec![1; BLOCK], &[]);
        assert_eq!((b.histlen(), b.first_byte_offset()), (BLOCK, 1));
        // A second block: dropping the first would leave 100 < 16384: kept.
        b.feed(&[2; 100], &[]);
        assert_eq!(b.histlen(), BLOCK + 100);
        // Fill the second block and start a third: now dropping the first leaves
        // BLOCK + 100 > 16384, so it goes.
        b.feed(&vec![3; BLOCK], &[]);
        assert_eq!(b.histlen(), BLOCK + 100);
        assert_eq!(b.first_byte_offset(), BLOCK as u64 + 1);
        assert_eq!(b.last_offset(), 2 * BLOCK as u64 + 100);
        assert_eq!(b.blocks().count(), 2);
        assert!(!b.covers(BLOCK as u64));
        assert!(b.covers(BLOCK as u64 + 1));
    }

    #[test]
    fn a_lagging_replica_keeps_blocks_alive_until_its_bytes_leave() {
        let mut b = Backlog::new(16384, 0);
        let replica: ConnId = 7;
        b.feed(b"x", &[replica]);
        assert_eq!(b.replica_offset(replica), Some(1));
        for _ in 0..5 {
            b.feed(&vec![0; BLOCK], &[replica]);
        }
        // Nothing left the node: all six blocks stay.
        assert_eq!(b.blocks().count(), 6);
        assert_eq!(b.histlen(), 5 * BLOCK + 1);
        assert_eq!(b.blocks().next().unwrap().refcount, 2);
        let (usage, blocks) = b.replica_output_usage(replica);
        assert_eq!(blocks, 6);
        assert_eq!(usage, 6 * BLOCK as u64 + 6 * 64);
        // The first block leaves: the replica moves to the second, the first is trimmed.
        b.replica_wrote(replica, BLOCK as u64);
        assert_eq!(b.replica_offset(replica), Some(BLOCK as u64 + 1));
        assert_eq!(b.blocks().count(), 5);
        // Everything leaves: trimmed down to setting + up to one block.
        b.replica_wrote(replica, 4 * BLOCK as u64 + 1);
        assert_eq!(b.replica_offset(replica), Some(5 * BLOCK as u64 + 2));
        assert_eq!(b.blocks().count(), 2);
        assert!(b.histlen() as u64 > 16384);
        b.detach_replica(replica);
        assert_eq!(b.replica_refs().count(), 0);
    }

    #[test]
    fn trimming_is_incremental() {
        let mut b = Backlog::new(16384, 0);
        b.feed(b"x", &[1]);
        for _ in 0..200 {
            b.feed(&vec![0; BLOCK], &[1]);
        }
        assert_eq!(b.blocks().count(), 201);
        // Leaving frees at most 64 blocks at once.
        b.detach_replica(1);
        assert_eq!(b.blocks().count(), 201 - 64);
        b.trim(TRIM_BLOCKS_BEFORE_SLEEP);
        assert_eq!(b.blocks().count(), 2);
    }

    #[test]
    fn continue_references_the_block_holding_the_requested_byte() {
        let mut b = Backlog::new(1 << 20, 100);
        b.feed(&vec![b'a'; BLOCK], &[]);
        b.feed(b"bcd", &[]);
        // Requested byte is the first of the second block: Redis picks the end of the
        // first block (whose end reaches it).
        let second = 101 + BLOCK as u64;
        assert_eq!(b.attach_replica_at(9, second), 3);
        let r = b.replica_refs().next().unwrap();
        assert_eq!((r.block_id, r.pos, r.offset), (0, BLOCK, second));
        // Having sent nothing, it moves on to the next block as soon as it writes.
        b.replica_wrote(9, 1);
        assert_eq!(b.replica_offset(9), Some(second + 1));
        assert_eq!(b.read_from(second).unwrap(), b"bcd");
        // Up to date, nothing owed; an empty history references nothing.
        assert_eq!(b.attach_replica_at(10, b.last_offset() + 1), 0);
        let mut empty = Backlog::new(1 << 20, 5);
        assert_eq!(empty.attach_replica_at(1, 6), 0);
        assert_eq!(empty.replica_refs().count(), 0);
    }

    #[test]
    fn resize_trims_to_the_new_setting() {
        let mut b = Backlog::new(1 << 20, 0);
        for _ in 0..10 {
            b.feed(&vec![0; 60_000], &[]);
        }
        let before = b.histlen();
        b.resize(100_000);
        assert!(b.histlen() < before);
        assert!(b.histlen() > 100_000);
        assert_eq!(
            b.first_byte_offset() + b.histlen() as u64 - 1,
            b.last_offset()
        );
        b.resize(1 << 20);
        assert_eq!(b.last_offset(), 600_000);
    }
}
