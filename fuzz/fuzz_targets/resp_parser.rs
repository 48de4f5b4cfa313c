//! RequestParser on arbitrary bytes, fed in chunks: never panics, holds exactly the bytes
//! fed and not consumed, parses the same whatever the chunking (below the 64 KiB line
//! limits), and a protocol error is final.
//!
//! Input: byte 0 = flags (bit 0: authenticated; bits 1-2: proto-max-bulk-len choice),
//! byte 1 = chunk size - 1, the rest = what the client sends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replscope::engine::resp::{ParseLimits, Parsed, RequestParser, DEFAULT_PROTO_MAX_BULK_LEN, PROTO_INLINE_MAX_SIZE};

fn run(input: &[u8], chunk: usize, limits: ParseLimits) -> Vec<Parsed> {
    let mut p = RequestParser::new();
    let mut out = Vec::new();
    let (mut fed, mut consumed) = (0usize, 0usize);
    let mut failed: Option<Parsed> = None;
    for piece in input.chunks(chunk.max(1)) {
        p.feed(piece);
        fed += piece.len();
        while let Some(parsed) = p.next(limits) {
            if let Some(first) = &failed {
                assert_eq!(&parsed, first, "a protocol error must be final");
                break;
            }
            match &parsed {
                Parsed::Command { argv, consumed: n } => {
                    assert!(!argv.is_empty());
                    consumed += n;
                }
                Parsed::Empty { consumed: n } => {
                    assert!(*n > 0);
                    consumed += n;
                }
                Parsed::Error(e) => {
                    assert!(e.starts_with(b"Protocol error: "));
                    failed = Some(parsed.clone());
                }
            }
            out.push(parsed);
            if failed.is_some() {
                break;
            }
            assert_eq!(p.pending_len(), fed - consumed);
        }
        assert_eq!(p.pending_len(), fed - consumed);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let limits = ParseLimits {
        authenticated: data[0] & 1 == 1,
        proto_max_bulk_len: [DEFAULT_PROTO_MAX_BULK_LEN, 0, 3, 16][((data[0] >> 1) & 3) as usize],
    };
    let chunk = data[1] as usize + 1;
    let input = &data[2..];
    let chunked = run(input, chunk, limits);
    if input.len() <= PROTO_INLINE_MAX_SIZE {
        assert_eq!(chunked, run(input, input.len(), limits), "the parse depends on the chunking");
    }
});
