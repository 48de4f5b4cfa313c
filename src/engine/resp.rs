//! RESP2 as a Redis server reads and writes it.
//!
//! Requests arrive either as multibulk arrays (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or as
//! inline lines (`GET k\r\n`, what telnet users type). The parser mirrors Redis's
//! `processMultibulkBuffer` / `processInlineBuffer`: the same limits, the same error texts,
//! and the same rule that a protocol error is answered and then the connection is closed.
//!
//! Memory is only ever allocated for bytes that have actually arrived: a client that
//! declares `$536870912` and sends three bytes holds three bytes, not half a gigabyte.

/// Longest inline request, and longest `*<n>` / `$<n>` header line (Redis PROTO_INLINE_MAX_SIZE).
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// Default `proto-max-bulk-len` (512mb).
pub const DEFAULT_PROTO_MAX_BULK_LEN: usize = 512 * 1024 * 1024;
/// Largest multibulk count Redis accepts (`INT_MAX`).
pub const MAX_MULTIBULK_COUNT: i64 = i32::MAX as i64;

/// One parsed request, or the protocol error that ends the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A complete command: the argument vector and how many bytes of input it used.
    Command { argv: Vec<Vec<u8>>, consumed: usize },
    /// Input that carries no command (an empty inline line, `*0`, `*-1`): skipped.
    Empty { consumed: usize },
    /// The text after `-ERR ` for a protocol error; the connection is closed after it.
    Error(Vec<u8>),
}

/// Limits the parser enforces; they depend on server config and on whether the client is
/// authenticated (Redis refuses big requests from clients that still need to AUTH).
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    pub proto_max_bulk_len: usize,
    pub authenticated: bool,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            proto_max_bulk_len: DEFAULT_PROTO_MAX_BULK_LEN,
            authenticated: true,
        }
    }
}

/// Incremental request parser for one connection.
///
/// Multibulk parsing keeps its progress between calls so a huge request arriving in many
/// small reads is not rescanned from the start each time.
#[derive(Debug, Clone, Default)]
pub struct RequestParser {
    /// Bytes received and not yet consumed by a complete command.
    buf: Vec<u8>,
    /// Start of unparsed data in `buf` (everything before it belongs to `partial`).
    pos: usize,
    partial: Option<PartialMultibulk>,
    /// The protocol error already reported: final, whatever arrives after it (the
    /// connection is being closed; nothing after the error may become a command).
    failed: Option<Vec<u8>>,
    /// Argument vectors given back after their command ran ([`RequestParser::recycle`]),
    /// emptied, for the next requests to fill: a pipelined batch of small commands
    /// allocates its argument buffers once, not once per command.
    spare_argv: Vec<Vec<u8>>,
    spare_args: Vec<Vec<u8>>,
}

/// What [`RequestParser::recycle`] keeps: enough for any ordinary command, never a big
/// argument's buffer (a client that once sent 500 MB must not hold 500 MB forever).
const SPARE_ARGS: usize = 16;
const SPARE_ARG_LEN: usize = 256;

#[derive(Debug, Clone)]
struct PartialMultibulk {
    start: usize,
    remaining: i64,
    argv: Vec<Vec<u8>>,
}

impl RequestParser {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Takes back the argument vector of a command that has run, to be refilled by the
    /// next one.
    ///
    /// What is kept is decided by lengths, never by capacities: a parser is part of the
    /// state a checkpoint clones, and a clone does not keep capacities, so a decision by
    /// capacity would make a replayed run differ from a straight one. (Capacities stay
    /// bounded all the same: a kept buffer only ever held up to `SPARE_ARG_LEN` bytes.)
    pub fn recycle(&mut self, mut argv: Vec<Vec<u8>>) {
        let keep_vector = argv.len() <= SPARE_ARGS;
        for mut arg in argv.drain(..) {
            if self.spare_args.len() < SPARE_ARGS && arg.len() <= SPARE_ARG_LEN {
                arg.clear();
                self.spare_args.push(arg);
            }
        }
        if keep_vector {
            self.spare_argv = argv;
        }
    }

    /// Bytes buffered that no complete command has consumed yet.
    pub fn pending_len(&self) -> usize {
        self.buf.len() - self.partial.as_ref().map_or(self.pos, |p| p.start)
    }

    /// The first `n` bytes of what [`RequestParser::pending_len`] counts (for a log line).
    pub fn pending_prefix(&self, n: usize) -> &[u8] {
        let start = self.buf.len() - self.pending_len();
        &self.buf[start..self.buf.len().min(start + n)]
    }

    /// The raw bytes of the request `next` just returned (`consumed` long). A replica
    /// forwards exactly these bytes to its own replicas.
    pub fn last_raw(&self, consumed: usize) -> &[u8] {
        &self.buf[self.pos - consumed..self.pos]
    }

    /// Parses the next request, or returns `None` when more bytes are needed. After a
    /// protocol error, returns that error again forever.
    pub fn next(&mut self, limits: ParseLimits) -> Option<Parsed> {
        if let Some(e) = &self.failed {
            return Some(Parsed::Error(e.clone()));
        }
        let parsed = self.parse_next(limits);
        if let Some(Parsed::Error(e)) = &parsed {
            self.failed = Some(e.clone());
        }
        parsed
    }

    fn parse_next(&mut self, limits: ParseLimits) -> Option<Parsed> {
        if self.partial.is_none() {
            self.compact();
            if self.pos >= self.buf.len() {
                return None;
            }
            if self.buf[self.pos] != b'*' {
                return self.parse_inline();
            }
        }
        self.parse_multibulk(limits)
    }

    /// Drops the bytes of commands already returned. Only when that is cheap or pays off:
    /// everything consumed (a clear, no copy), or at least half the buffer (the copy is
    /// then no bigger than what was consumed). Draining before every command copied the
    /// rest of the read to the front each time: quadratic in a pipeline's length.
    fn compact(&mut self) {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }

    fn parse_inline(&mut self) -> Option<Parsed> {
        let data = &self.buf[self.pos..];
        let Some(nl) = data.iter().position(|&b| b == b'\n') else {
            if data.len() > PROTO_INLINE_MAX_SIZE {
                return Some(Parsed::Error(
                    "Protocol error: too big inline request".into(),
                ));
            }
            return None;
        };
        let mut line = &data[..nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let consumed = nl + 1;
        let parsed = match split_args(line) {
            None => Parsed::Error("Protocol error: unbalanced quotes in request".into()),
            Some(argv) if argv.is_empty() => Parsed::Empty { consumed },
            Some(argv) => Parsed::Command { argv, consumed },
        };
        if !matches!(parsed, Parsed::Error(_)) {
            self.pos += consumed;
        }
        Some(parsed)
    }

    /// Reads one `\r\n`-terminated header line starting at `at`: returns (line, next index).
    fn header_line(&self, at: usize) -> Option<(&[u8], usize)> {
        let data = &self.buf[at..];
        let cr = data.iter().position(|&b| b == b'\r')?;
        // Redis looks for '\r' and assumes '\n' follows; it needs both bytes present.
        if cr + 1 >= data.len() {
            return None;
        }
        Some((&data[..cr], at + cr + 2))
    }

    /// The usual request, taken in one pass: a small multibulk (at most 10 arguments of
    /// at most 16 KB, plain lengths) that is entirely in the buffer. Anything else (or
    /// anything unusual about it) returns None with nothing changed, and the general
    /// parser below decides, as it always did.
    fn parse_complete_multibulk(&mut self, limits: ParseLimits) -> Option<Parsed> {
        const MAX_ARGS: usize = 10;
        let buf = &self.buf;
        let start = self.pos;
        let (count, mut at) = plain_length(buf, start + 1)?;
        if count == 0 || count > MAX_ARGS {
            return None;
        }
        let mut spans = [(0usize, 0usize); MAX_ARGS];
        for span in &mut spans[..count] {
            if buf.get(at) != Some(&b'$') {
                return None;
            }
            let (len, next) = plain_length(buf, at + 1)?;
            if len > 16384 || len > limits.proto_max_bulk_len || buf.len() < next + len + 2 {
                return None;
            }
            *span = (next, len);
            // Like the general parser (and Redis), the two bytes after the bulk are skipped
            // unread.
            at = next + len + 2;
        }
        let mut argv = std::mem::take(&mut self.spare_argv);
        argv.reserve(count);
        for &(from, len) in &spans[..count] {
            let mut arg = self.spare_args.pop().unwrap_or_default();
            arg.extend_from_slice(&self.buf[from..from + len]);
            argv.push(arg);
        }
        self.pos = at;
        Some(Parsed::Command {
            argv,
            consumed: at - start,
        })
    }

    fn parse_multibulk(&mut self, limits: ParseLimits) -> Option<Parsed> {
        if self.partial.is_none() {
            if let Some(parsed) = self.parse_complete_multibulk(limits) {
                return Some(parsed);
            }
            let start = self.pos;
            let Some((line, next)) = self.header_line(start) else {
                if self.buf.len() - start > PROTO_INLINE_MAX_SIZE {
                    return Some(Parsed::Error(
                        "Protocol error: too big mbulk count string".into(),
                    ));
                }
                return None;
            };
            let count = match parse_i64(&line[1..]) {
                Some(n) if n <= MAX_MULTIBULK_COUNT => n,
                _ => {
                    return Some(Parsed::Error(
                        "Protocol error: invalid multibulk length".into(),
                    ))
                }
            };
            if count > 10 && !limits.authenticated {
                return Some(Parsed::Error(
                    "Protocol error: unauthenticated multibulk length".into(),
                ));
            }
            if count <= 0 {
                self.pos = next;
                return Some(Parsed::Empty {
                    consumed: next - start,
                });
            }
            // Reserve for what is plausible, not for what was declared.
            let mut argv = std::mem::take(&mut self.spare_argv);
            argv.reserve(count.min(1024) as usize);
            self.partial = Some(PartialMultibulk {
                start,
                remaining: count,
                argv,
            });
            self.pos = next;
        }
        loop {
            let remaining = self.partial.as_ref().map(|p| p.remaining).unwrap_or(0);
            if remaining == 0 {
                let p = self.partial.take().expect("partial multibulk");
                let consumed = self.pos - p.start;
                return Some(Parsed::Command {
                    argv: p.argv,
                    consumed,
                });
            }
            let at = self.pos;
            if at >= self.buf.len() {
                return None;
            }
            let Some((line, next)) = self.header_line(at) else {
                if self.buf.len() - at > PROTO_INLINE_MAX_SIZE {
                    return Some(Parsed::Error(
                        "Protocol error: too big bulk count string".into(),
                    ));
                }
                return None;
            };
            // The first byte, not `line[0]`: an empty line (`*1\r\n\r\n`) has none, and
            // Redis then reports the '\r' itself (sent as a space, like any CR in an error).
            let first = self.buf[at];
            if first != b'$' {
                // The offending byte goes back raw, as Redis's `%c` sends it.
                let mut msg = b"Protocol error: expected '$', got '".to_vec();
                msg.extend([first, b'\'']);
                return Some(Parsed::Error(msg));
            }
            let len = match parse_i64(&line[1..]) {
                Some(n) if n >= 0 && (n as u64) <= limits.proto_max_bulk_len as u64 => n as usize,
                _ => return Some(Parsed::Error("Protocol error: invalid bulk length".into())),
            };
            if len > 16384 && !limits.authenticated {
                return Some(Parsed::Error(
                    "Protocol error: unauthenticated bulk length".into(),
                ));
            }
            // The bulk plus its trailing CRLF must be here before we take it.
            if self.buf.len() < next + len + 2 {
                return None;
            }
            let mut arg = self.spare_args.pop().unwrap_or_default();
            arg.extend_from_slice(&self.buf[next..next + len]);
            self.pos = next + len + 2;
            let p = self.partial.as_mut().expect("partial multibulk");
            p.argv.push(arg);
            p.remaining -= 1;
        }
    }
}

/// A `*` or `$` header's number at `at`, when it is plain: 1 to 9 digits, no leading
/// zero (but `0` itself), then `\r` and at least one more byte (the `\n`, which, like
/// Redis, nobody checks). Returns the number and where the line after it starts.
fn plain_length(buf: &[u8], at: usize) -> Option<(usize, usize)> {
    let mut i = at;
    let mut n = 0usize;
    while i < buf.len() && i - at < 9 && buf[i].is_ascii_digit() {
        n = n * 10 + (buf[i] - b'0') as usize;
        i += 1;
    }
    if i == at
        || buf.get(i) != Some(&b'\r')
        || i + 1 >= buf.len()
        || (buf[at] == b'0' && i - at > 1)
    {
        return None;
    }
    Some((n, i + 2))
}

/// Redis's `string2ll`: strict base-10, optional leading '-', no spaces, no '+', no leading zeros.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' {
        (true, &s[1..])
    } else {
        (false, s)
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// A command (an array of bulk strings) at the front of some bytes, as a reader of a
/// recorded stream finds it: without copying or allocating, and without consuming
/// anything, so it can scan bytes it does not own (a log entry, a backlog).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// A whole command of `len` bytes and `argc` arguments ([`command_args`] reads them).
    Command { len: usize, argc: usize },
    /// A prefix of a command: more bytes are needed.
    Incomplete,
    /// Not a RESP array of bulk strings.
    Invalid,
}

/// Reads a header line's `<digits>\r\n` at `at` (after its `*` or `$`): the number and
/// where the line after it starts.
pub fn scan_length(data: &[u8], at: usize) -> Result<(i64, usize), Scan> {
    let rest = &data[at.min(data.len())..];
    let Some(end) = rest.iter().take(21).position(|&b| b == b'\r') else {
        return Err(if rest.len() < 21 {
            Scan::Incomplete
        } else {
            Scan::Invalid
        });
    };
    if rest.len() < end + 2 {
        return Err(Scan::Incomplete);
    }
    if rest[end + 1] != b'\n' {
        return Err(Scan::Invalid);
    }
    let n = parse_i64(&rest[..end]).ok_or(Scan::Invalid)?;
    Ok((n, at + end + 2))
}

/// Scans one command from the front of `data`.
pub fn scan_command(data: &[u8]) -> Scan {
    fn inner(data: &[u8]) -> Result<Scan, Scan> {
        if data.first() != Some(&b'*') {
            return Err(Scan::Invalid);
        }
        let (argc, mut pos) = scan_length(data, 1)?;
        // Redis refuses more than 1024*1024 arguments; nothing real comes close.
        if !(1..=1 << 20).contains(&argc) {
            return Err(Scan::Invalid);
        }
        for _ in 0..argc {
            match data.get(pos) {
                None => return Err(Scan::Incomplete),
                Some(b'$') => {}
                Some(_) => return Err(Scan::Invalid),
            }
            let (len, start) = scan_length(data, pos + 1)?;
            if !(0..=512 << 20).contains(&len) {
                return Err(Scan::Invalid);
            }
            let end = start + len as usize;
            if data.len() < end + 2 {
                return Err(Scan::Incomplete);
            }
            if &data[end..end + 2] != b"\r\n" {
                return Err(Scan::Invalid);
            }
            pos = end + 2;
        }
        Ok(Scan::Command {
            len: pos,
            argc: argc as usize,
        })
    }
    inner(data).unwrap_or_else(|e| e)
}

/// The arguments of the command at the front of `data`, as far as they are whole (all of
/// them once [`scan_command`] found it complete).
pub fn command_args(data: &[u8]) -> CommandArgs<'_> {
    let (left, pos) = match data.first() {
        Some(b'*') => scan_length(data, 1).unwrap_or((0, 0)),
        _ => (0, 0),
    };
    CommandArgs { data, pos, left }
}

/// The iterator of [`command_args`].
pub struct CommandArgs<'a> {
    data: &'a [u8],
    pos: usize,
    left: i64,
}

impl<'a> Iterator for CommandArgs<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left <= 0 || self.data.get(self.pos) != Some(&b'$') {
            return None;
        }
        let (len, start) = scan_length(self.data, self.pos + 1).ok()?;
        let arg = self
            .data
            .get(start..start.checked_add(usize::try_from(len).ok()?)?)?;
        self.left -= 1;
        self.pos = start + arg.len() + 2;
        Some(arg)
    }
}

/// What a reply at the front of some bytes is, by its first byte, as a reader of a
/// recorded stream names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// `+`, `-` or `:`: one line.
    Line,
    /// `$<len>\r\n` and `len` bytes, then CRLF: a bulk reply. `whole`: all of it is here.
    Bulk { len: i64, whole: bool },
    /// `$<len>\r\n` and `len` bytes of a snapshot, with no CRLF after it (what a master
    /// sends after `+FULLRESYNC`), or `$EOF:<mark>` (diskless).
    Rdb { len: Option<i64> },
    /// `*`: an array (a command).
    Array,
    /// Anything else (the middle of something, a keep-alive newline).
    Other,
}

/// Names the reply at the front of `data`. A `$` payload is a snapshot when it says so:
/// `$EOF:`, or an RDB's `REDIS` magic whose bytes are not followed by a CRLF.
pub fn reply_kind(data: &[u8]) -> ReplyKind {
    match data.first() {
        Some(b'+' | b'-' | b':') => ReplyKind::Line,
        Some(b'*') => ReplyKind::Array,
        Some(b'$') if data.starts_with(b"$EOF:") => ReplyKind::Rdb { len: None },
        Some(b'$') => match scan_length(data, 1) {
            Ok((len, start)) => {
                let body = &data[start..];
                let end = usize::try_from(len).ok().map(|l| body.get(l..l + 2));
                let crlf = matches!(end, Some(Some(b"\r\n")));
                if body.starts_with(b"REDIS") && !crlf {
                    ReplyKind::Rdb { len: Some(len) }
                } else {
                    ReplyKind::Bulk {
                        len,
                        whole: crlf || len < 0,
                    }
                }
            }
            Err(_) => ReplyKind::Other,
        },
        _ => ReplyKind::Other,
    }
}

/// Redis's `sdssplitargs`: splits an inline request into arguments, honouring "double
/// quotes" (with \n \r \t \b \a \\ \" and \xHH escapes) and 'single quotes' (with \').
/// Returns `None` for unbalanced quotes or a closing quote not followed by a space.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut current = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && is_hex(line[i + 2])
                    && is_hex(line[i + 3])
                {
                    current.push(hex_val(line[i + 2]) * 16 + hex_val(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    current.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    current.push(c);
                }
            } else if in_sq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    current.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => current.push(c),
                }
            }
            i += 1;
        }
        args.push(current);
    }
}

/// [`split_args`] without a copy, for a line with no quote character (where no escape
/// applies and every argument is a plain run of bytes): appends the arguments to `out`.
/// Returns false, leaving `out` as it was, when the line has a quote: split it with
/// [`split_args`] then.
pub fn split_plain_args<'a>(line: &'a [u8], out: &mut Vec<&'a [u8]>) -> bool {
    if line.iter().any(|&c| c == b'"' || c == b'\'') {
        return false;
    }
    let n = line.len();
    let mut i = 0;
    loop {
        // The same two byte classes as split_args: what is skipped before an argument,
        // and what ends one.
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return true;
        }
        let start = i;
        while i < n && !matches!(line[i], b' ' | b'\n' | b'\r' | b'\t' | 0) {
            i += 1;
        }
        out.push(&line[start..i]);
        i += 1;
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c)
}
fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}
fn hex_val(c: u8) -> u8 {
    (c as char).to_digit(16).unwrap_or(0) as u8
}

/// Encodes an argument vector the way Redis writes commands into the replication stream.
pub fn encode_command(argv: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + argv.iter().map(|a| a.len() + 16).sum::<usize>());
    encode_command_into(&mut out, argv);
    out
}

/// [`encode_command`], appended to `out`.
pub fn encode_command_into(out: &mut Vec<u8>, argv: &[&[u8]]) {
    push_header(out, b'*', argv.len());
    for a in argv {
        push_header(out, b'$', a.len());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends `<kind><n>\r\n`, a RESP array or bulk header, digit by digit: the formatting
/// machinery (`to_string`, `write!`) was a measurable share of every encoded command.
pub(crate) fn push_header(out: &mut Vec<u8>, kind: u8, n: usize) {
    // Most headers are one or two digits: a fixed-size copy each.
    if n < 10 {
        out.extend_from_slice(&[kind, b'0' + n as u8, b'\r', b'\n']);
        return;
    }
    if n < 100 {
        out.extend_from_slice(&[
            kind,
            b'0' + (n / 10) as u8,
            b'0' + (n % 10) as u8,
            b'\r',
            b'\n',
        ]);
        return;
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push(kind);
    out.extend_from_slice(&digits[at..]);
    out.extend_from_slice(b"\r\n");
}

/// Builds RESP2 replies.
pub mod reply {
    pub fn ok() -> Vec<u8> {
        b"+OK\r\n".to_vec()
    }
    pub fn simple(s: &str) -> Vec<u8> {
        format!("+{s}\r\n").into_bytes()
    }
    /// An error reply; `msg` includes its code (`ERR ...`, `WRONGTYPE ...`). Newlines are
    /// replaced by spaces, since they would break the protocol (Redis does the same).
    pub fn error(msg: &str) -> Vec<u8> {
        error_bytes(msg.as_bytes())
    }
    /// An error reply from raw bytes: messages that quote client arguments carry them
    /// byte for byte, as Redis does, whether or not they are UTF-8.
    pub fn error_bytes(msg: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(msg.len() + 3);
        out.push(b'-');
        out.extend(
            msg.iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        out.extend_from_slice(b"\r\n");
        out
    }
    pub fn integer(n: i64) -> Vec<u8> {
        format!(":{n}\r\n").into_bytes()
    }
    pub fn bulk(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 16);
        out.push(b'$');
        out.extend_from_slice(data.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
        out
    }
    pub fn nil() -> Vec<u8> {
        b"$-1\r\n".to_vec()
    }
    pub fn array_header(n: usize) -> Vec<u8> {
        format!("*{n}\r\n").into_bytes()
    }
}

/// A RESP2 reply as a client sees it; used by the replica handshake and by tools that
/// show replies (the console formats these like redis-cli).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

/// Parses one reply from the front of `data`: `Ok(Some((reply, consumed)))`, `Ok(None)`
/// when incomplete, `Err` for bytes that are not RESP2. Nesting is bounded so hostile
/// input cannot exhaust the stack.
pub fn parse_reply(data: &[u8]) -> Result<Option<(Reply, usize)>, String> {
    parse_reply_at(data, 0, 0)
}

/// Longest bulk reply [`parse_reply`] reads: 4 GiB, all the memory a wasm32 page has.
const MAX_REPLY_BULK_LEN: i64 = u32::MAX as i64;

fn parse_reply_at(data: &[u8], at: usize, depth: usize) -> Result<Option<(Reply, usize)>, String> {
    if depth > 64 {
        return Err("reply nested too deeply".into());
    }
    let Some(rel) = data[at.min(data.len())..]
        .windows(2)
        .position(|w| w == b"\r\n")
    else {
        return Ok(None);
    };
    if at >= data.len() {
        return Ok(None);
    }
    if rel == 0 {
        // A line that is only its CRLF has no type byte: not a reply (a replica's
        // keepalive newline or a snapshot's bytes, read as replies, can start like this).
        return Err("empty reply line".into());
    }
    let line = &data[at + 1..at + rel];
    let next = at + rel + 2;
    let text = || String::from_utf8_lossy(line).into_owned();
    match data[at] {
        b'+' => Ok(Some((Reply::Simple(text()), next))),
        b'-' => Ok(Some((Reply::Error(text()), next))),
        b':' => parse_i64(line)
            .map(|n| Some((Reply::Integer(n), next)))
            .ok_or_else(|| format!("bad integer reply {:?}", text())),
        b'$' => {
            let n = parse_i64(line).ok_or_else(|| format!("bad bulk length {:?}", text()))?;
            if n < 0 {
                return Ok(Some((Reply::Bulk(None), next)));
            }
            // A length no page could buffer is an error, not a wait for more bytes. The
            // bound is the same on every platform (wasm32's whole memory), so a run
            // reads the same bytes the same way natively and in the page.
            if n > MAX_REPLY_BULK_LEN {
                return Err(format!("bulk length {n} is too large"));
            }
            let end = next.saturating_add(n as usize);
            if data.len() < end.saturating_add(2) {
                return Ok(None);
            }
            Ok(Some((Reply::Bulk(Some(data[next..end].to_vec())), end + 2)))
        }
        b'*' => {
            let n = parse_i64(line).ok_or_else(|| format!("bad array length {:?}", text()))?;
            if n < 0 {
                return Ok(Some((Reply::Array(None), next)));
            }
            let mut items = Vec::with_capacity((n as usize).min(1024));
            let mut pos = next;
            for _ in 0..n {
                match parse_reply_at(data, pos, depth + 1)? {
                    Some((r, p)) => {
                        items.push(r);
                        pos = p;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((Reply::Array(Some(items)), pos)))
        }
        other => Err(format!("unexpected reply type byte 0x{other:02x}")),
    }
}

/// Redis's `sdscatrepr` (and redis-cli's quoting, which is the same function): bytes as a
/// double-quoted C string, with C escapes and `\xHH` for other non-printables. For log
/// lines, the console and CSV output.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn commands_are_scanned_in_place_and_their_arguments_read() {
        let data = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$4\r\nPI";
        let Scan::Command { len, argc } = scan_command(data) else {
            panic!("{:?}", scan_command(data))
        };
        assert_eq!((len, argc), (23, 2));
        assert_eq!(
            command_args(data).collect::<Vec<_>>(),
            [&b"SELECT"[..], &b"0"[..]]
        );
        assert_eq!(scan_command(&data[len..]), Scan::Incomplete);
        assert_eq!(
            command_args(&data[len..]).count(),
            0,
            "a cut argument is not read"
        );
        assert_eq!(scan_command(b"+OK\r\n"), Scan::Invalid);
        assert_eq!(scan_command(b"*1\r\n$4\r\nPINGxx"), Scan::Invalid);
        assert_eq!(scan_command(b"*-1\r\n"), Scan::Invalid);
        assert_eq!(scan_command(b"*99999999999999999999999\r\n"), Scan::Invalid);
    }

    #[test]
    fn a_bulk_reply_is_not_taken_for_a_snapshot() {
        assert_eq!(
            reply_kind(b"$5\r\nhello\r\n"),
            ReplyKind::Bulk {
                len: 5,
                whole: true
            }
        );
        assert_eq!(
            reply_kind(b"$475\r\n# Replication\r\n"),
            ReplyKind::Bulk {
                len: 475,
                whole: false
            }
        );
        assert_eq!(
            reply_kind(b"$-1\r\n"),
            ReplyKind::Bulk {
                len: -1,
                whole: true
            }
        );
        // A snapshot ends where the stream begins, with no CRLF of its own.
        assert_eq!(
            reply_kind(b"$9\r\nREDIS0010*1\r\n$4\r\nPING\r\n"),
            ReplyKind::Rdb { len: Some(9) }
        );
        assert_eq!(
            reply_kind(b"$20\r\nREDIS0010"),
            ReplyKind::Rdb { len: Some(20) }
        );
        // A value that happens to start with the magic is still a bulk reply.
        assert_eq!(
            reply_kind(b"$5\r\nREDIS\r\n"),
            ReplyKind::Bulk {
                len: 5,
                whole: true
            }
        );
        assert_eq!(
            reply_kind(&[b"$EOF:".as_slice(), &[b'a'; 40]].concat()),
            ReplyKind::Rdb { len: None }
        );
        assert_eq!(reply_kind(b"+FULLRESYNC x 0\r\n"), ReplyKind::Line);
        assert_eq!(reply_kind(b"\n"), ReplyKind::Other);
    }

    use super::*;

    fn parse_all(input: &[u8]) -> Vec<Parsed> {
        let mut p = RequestParser::new();
        p.feed(input);
        let mut out = Vec::new();
        while let Some(x) = p.next(ParseLimits::default()) {
            let stop = matches!(x, Parsed::Error(_));
            out.push(x);
            if stop {
                break;
            }
        }
        out
    }

    fn argv(items: &[&str]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_and_inline_pipelined() {
        let got = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nSET a \"b c\"\r\n\r\n");
        assert_eq!(
            got,
            vec![
                Parsed::Command {
                    argv: argv(&["GET", "k"]),
                    consumed: 20
                },
                Parsed::Command {
                    argv: argv(&["SET", "a", "b c"]),
                    consumed: 13
                },
                Parsed::Empty { consumed: 2 },
            ]
        );
    }

    #[test]
    fn partial_frames_across_reads() {
        let whole = b"*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$5\r\nworld\r\n";
        let mut p = RequestParser::new();
        for (i, b) in whole.iter().enumerate() {
            p.feed(&[*b]);
            let r = p.next(ParseLimits::default());
            if i + 1 < whole.len() {
                assert_eq!(r, None, "complete too early at byte {i}");
            } else {
                assert_eq!(
                    r,
                    Some(Parsed::Command {
                        argv: argv(&["SET", "hello", "world"]),
                        consumed: whole.len()
                    })
                );
            }
        }
    }

    #[test]
    fn protocol_errors_use_redis_texts() {
        let err = |input: &[u8]| match parse_all(input).pop() {
            Some(Parsed::Error(e)) => String::from_utf8(e).expect("these texts are ASCII"),
            other => panic!("expected an error, got {other:?}"),
        };
        assert_eq!(err(b"*x\r\n"), "Protocol error: invalid multibulk length");
        assert_eq!(err(b"*1\r\nx\r\n"), "Protocol error: expected '$', got 'x'");
        // An empty header line: found by tests/fuzz_resp.rs (it used to index line[0]).
        assert_eq!(err(b"*1\r\n\r\n"), "Protocol error: expected '$', got '\r'");
        match parse_all(b"*1\r\n\xff\r\n").pop() {
            Some(Parsed::Error(e)) => assert_eq!(e, b"Protocol error: expected '$', got '\xff'"),
            other => panic!("expected an error, got {other:?}"),
        }
        assert_eq!(err(b"*1\r\n$-3\r\n"), "Protocol error: invalid bulk length");
        assert_eq!(
            err(b"*1\r\n$536870913\r\n"),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(b"SET \"a\r\n"),
            "Protocol error: unbalanced quotes in request"
        );
        assert_eq!(
            err(b"SET \"a\"b\r\n"),
            "Protocol error: unbalanced quotes in request"
        );
        assert_eq!(
            err(&vec![b'a'; PROTO_INLINE_MAX_SIZE + 1]),
            "Protocol error: too big inline request"
        );
    }

    #[test]
    fn split_plain_args_is_split_args_without_quotes() {
        let alphabet: &[u8] = b"ab \t\r\n\x00\x0b\x0c\\x";
        let mut x: u64 = 0x1234_5678;
        for _ in 0..20_000 {
            let mut line = Vec::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for k in 0..(x % 12) {
                line.push(alphabet[((x >> (4 * k + 8)) % alphabet.len() as u64) as usize]);
            }
            let mut plain = Vec::new();
            assert!(split_plain_args(&line, &mut plain));
            let want = split_args(&line).unwrap();
            assert_eq!(
                plain,
                want.iter().map(|a| a.as_slice()).collect::<Vec<_>>(),
                "{line:?}"
            );
        }
        let mut out = Vec::new();
        assert!(!split_plain_args(b"set a \"b c\"", &mut out));
        assert!(!split_plain_args(b"set a 'b'", &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn a_protocol_error_is_final() {
        // Found by tests/fuzz_resp.rs: a too-long inline line is an error once 64 KiB have
        // arrived without a newline; the newline arriving later must not make it a command.
        let mut p = RequestParser::new();
        p.feed(&vec![b'1'; PROTO_INLINE_MAX_SIZE + 1]);
        let err = Parsed::Error("Protocol error: too big inline request".into());
        assert_eq!(p.next(ParseLimits::default()), Some(err.clone()));
        p.feed(b"\r\nPING\r\n");
        assert_eq!(p.next(ParseLimits::default()), Some(err));
    }

    #[test]
    fn declared_huge_bulk_does_not_allocate_it() {
        let mut p = RequestParser::new();
        p.feed(b"*1\r\n$536870912\r\nabc");
        assert_eq!(p.next(ParseLimits::default()), None);
        assert!(p.buf.capacity() < 1 << 20);
    }

    #[test]
    fn inline_quoting_matches_sdssplitargs() {
        assert_eq!(
            split_args(b"set k \"a\\x41\\n\""),
            Some(argv(&["set", "k", "aA\n"]))
        );
        assert_eq!(
            split_args(b"set k 'it\\'s'"),
            Some(argv(&["set", "k", "it's"]))
        );
        assert_eq!(split_args(b"   "), Some(vec![]));
    }

    #[test]
    fn string2ll_is_strict() {
        assert_eq!(parse_i64(b"12"), Some(12));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b"012"[..],
            b"+1",
            b" 1",
            b"",
            b"-",
            b"9223372036854775808",
            b"-0",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn replies_parse_back() {
        let data = b"*2\r\n$1\r\na\r\n:5\r\n+OK\r\n";
        let (r, used) = parse_reply(data).unwrap().unwrap();
        assert_eq!(
            r,
            Reply::Array(Some(vec![
                Reply::Bulk(Some(b"a".to_vec())),
                Reply::Integer(5)
            ]))
        );
        assert_eq!(used, 15);
        assert_eq!(parse_reply(b"$5\r\nab").unwrap(), None);
    }
}
