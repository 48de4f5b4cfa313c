//! The format both ways: files built by hand from the C sources' descriptions, loaded as
//! Redis loads them, and the writer's snapshots read back.

use super::compact::build;
use super::write::Writer;
use super::*;
use std::collections::VecDeque;

use crate::engine::keyspace::{Keyspace, OrderedMap, SetValue, Value, ZSet};

fn meta() -> SnapshotMeta<'static> {
    SnapshotMeta {
        redis_ver: "7.0.15",
        ctime_secs: 0,
        used_mem: 0,
        repl: None,
    }
}

/// A whole RDB v10 file around `body` (opcodes and keys after the header).
fn file(body: &[u8]) -> Vec<u8> {
    let mut out = b"REDIS0010".to_vec();
    out.extend_from_slice(body);
    out.push(OP_EOF);
    let crc = CRC64.checksum(&out);
    out.extend(crc.to_le_bytes());
    out
}

/// A plain RDB string (length-prefixed, no special encoding).
fn raw(s: &[u8]) -> Vec<u8> {
    let mut w = Writer::new(false);
    w.len(s.len() as u64);
    w.out.extend_from_slice(s);
    w.out
}

/// One key in db 0: type byte, key, then the value's bytes.
fn key(type_byte: u8, name: &[u8], value: &[u8]) -> Vec<u8> {
    [&[type_byte][..], &raw(name), value].concat()
}

fn loaded(body: &[u8]) -> Keyspace {
    match read(&file(body)) {
        Ok(l) => l.keyspace,
        Err(e) => panic!("load failed: {e} ({:?})", e.log),
    }
}

fn value(ks: &Keyspace, name: &[u8]) -> Value {
    ks.dbs[0]
        .entries
        .get(name)
        .unwrap_or_else(|| panic!("no key {name:?}"))
        .value
        .clone()
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| s.as_bytes().to_vec()).collect())
}

fn hash(pairs: &[(&str, &str)]) -> Value {
    Value::Hash(
        pairs
            .iter()
            .map(|(f, v)| (f.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect(),
    )
}

fn zset(pairs: &[(&str, f64)]) -> Value {
    let mut z = ZSet::default();
    for (m, s) in pairs {
        z.insert(m.as_bytes().to_vec(), *s);
    }
    Value::ZSet(z)
}

fn corrupt_reason(body: &[u8]) -> String {
    let err = read(&file(body)).expect_err("must not load");
    assert_eq!(err.kind, RdbErrorKind::Corrupt, "{err:?}");
    err.reason
}

#[test]
fn crc64_is_the_redis_variant() {
    assert_eq!(CRC64.checksum(b"123456789"), 0xe9c6d914c4b8d9ca);
}

#[test]
fn round_trips_strings_with_expiry_and_dbs() {
    let mut ks = Keyspace::default();
    ks.set(0, b"k".to_vec(), Value::String(b"v".to_vec()), None);
    ks.set(
        0,
        b"n".to_vec(),
        Value::String(b"12345".to_vec()),
        Some(1_900_000_000_000),
    );
    ks.set(3, b"neg".to_vec(), Value::String(b"-70000".to_vec()), None);
    ks.set(3, b"big".to_vec(), Value::String(vec![b'x'; 20_000]), None);
    ks.set(
        3,
        b"incompressible".to_vec(),
        Value::String((0..=255u8).collect()),
        None,
    );
    ks.set(1, b"list".to_vec(), list(&["a", "12"]), None);
    ks.set(
        1,
        b"ints".to_vec(),
        Value::Set(set_from_members(vec![b"3".to_vec(), b"-1".to_vec()])),
        None,
    );
    ks.set(
        1,
        b"names".to_vec(),
        Value::Set(set_from_members(vec![b"x".to_vec(), b"1".to_vec()])),
        None,
    );
    ks.set(
        1,
        b"hash".to_vec(),
        hash(&[("f2", "v"), ("f1", "")]),
        Some(7),
    );
    ks.set(
        1,
        b"zset".to_vec(),
        zset(&[("b", 1.5), ("a", 1.5), ("c", -0.25)]),
        None,
    );
    let meta = SnapshotMeta {
        redis_ver: "7.0.15",
        ctime_secs: 1,
        used_mem: 1,
        repl: Some(ReplInfo {
            stream_db: 0,
            replid: "a".repeat(40),
            offset: 7,
        }),
    };
    for compression in [true, false] {
        let bytes = write_with(&ks, &meta, 0, compression);
        let loaded = read(&bytes).unwrap();
        assert_eq!(loaded.keyspace, ks);
        assert!(loaded
            .aux
            .contains(&(b"repl-offset".to_vec(), b"7".to_vec())));
    }
}

proptest::proptest! {
    /// Every string, whatever its bytes, survives compression: written with
    /// `rdbcompression yes` and read back unchanged (a compressor once panicked on
    /// strings the scenario sweep produced).
    #[test]
    fn any_string_round_trips_through_lzf(
        alphabet in 1u8..=255,
        seed in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096),
    ) {
        let s: Vec<u8> = seed.iter().map(|b| b % alphabet).collect();
        let mut ks = Keyspace::default();
        ks.set(0, b"s".to_vec(), Value::String(s), None);
        let bytes = write_with(&ks, &meta(), 0, true);
        proptest::prop_assert_eq!(read(&bytes).unwrap().keyspace, ks);
    }
}

#[test]
fn aux_fields_in_redis_order() {
    let meta = SnapshotMeta {
        redis_ver: "7.0.15",
        ctime_secs: 1_700_000_000,
        used_mem: 1_048_576,
        repl: Some(ReplInfo {
            stream_db: 0,
            replid: "b".repeat(40),
            offset: 99,
        }),
    };
    let (log, loaded) = load(&write(&Keyspace::default(), &meta, 0), 1_700_000_005_000);
    let keys: Vec<&[u8]> = loaded
        .as_ref()
        .unwrap()
        .aux
        .iter()
        .map(|(k, _)| k.as_slice())
        .collect();
    let want: Vec<&[u8]> = vec![
        b"redis-ver",
        b"redis-bits",
        b"ctime",
        b"used-mem",
        b"repl-stream-db",
        b"repl-id",
        b"repl-offset",
        b"aof-base",
    ];
    assert_eq!(keys, want);
    assert_eq!(
        log,
        vec![
            "Loading RDB produced by version 7.0.15",
            "RDB age 5 seconds",
            "RDB memory usage when created 1.00 Mb",
            "Done loading RDB, keys loaded: 0, keys expired: 0."
        ]
    );
}

#[test]
fn strings_compress_like_rdb_save_raw_string() {
    let compressible = vec![b'a'; 21];
    let mut w = Writer::new(true);
    w.string(&compressible);
    assert_eq!(w.out[0], 0xC3, "over 20 bytes and compressible: LZF");
    let mut w = Writer::new(true);
    w.string(&compressible[..20]);
    assert_eq!(w.out[0], 20, "20 bytes are never compressed");
    let mut w = Writer::new(false);
    w.string(&compressible);
    assert_eq!(w.out[0], 21, "rdbcompression no");
    // Compression must save at least 4 bytes: random-looking text is kept verbatim.
    let noise: Vec<u8> = (0..200u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let mut w = Writer::new(true);
    w.string(&noise);
    assert_eq!(&w.out[..2], &[0x40, 200]);
    // Integers that fit 32 bits are integers; longer ones and non-canonical forms are text.
    for (s, first) in [
        ("-1", 0xC0),
        ("300", 0xC1),
        ("-2147483648", 0xC2),
        ("2147483648", 10),
        ("007", 3),
        ("-0", 2),
    ] {
        let mut w = Writer::new(true);
        w.string(s.as_bytes());
        assert_eq!(w.out[0], first, "{s}");
    }
}

#[test]
fn lzf_strings_from_the_file_are_checked() {
    // "abcabcabc": literal "abc", then a back-reference of length 6 at distance 3.
    let lzf = |clen: u8, len: u8, data: &[u8]| [&[0xC3, clen, len][..], data].concat();
    let ok = loaded(&key(
        TYPE_STRING,
        b"s",
        &lzf(6, 9, &[2, b'a', b'b', b'c', 4 << 5, 2]),
    ));
    assert_eq!(value(&ok, b"s"), Value::String(b"abcabcabc".to_vec()));
    assert_eq!(
        corrupt_reason(&key(
            TYPE_STRING,
            b"s",
            &lzf(6, 8, &[2, b'a', b'b', b'c', 4 << 5, 2])
        )),
        "Invalid LZF compressed string"
    );
    assert_eq!(
        corrupt_reason(&key(TYPE_STRING, b"s", &lzf(2, 3, &[0x20, 0x05]))),
        "Invalid LZF compressed string"
    );
    // A declared length the input does not expand to is refused before allocating it:
    // as Redis reports it, a short read beyond the address space, an invalid string below.
    let declared = |len: u64| [&[0xC3, 2, 0x81][..], &len.to_be_bytes(), &[0x20, 0x05]].concat();
    assert_eq!(
        corrupt_reason(&key(TYPE_STRING, b"s", &declared(u64::MAX))),
        "Unexpected EOF reading RDB file"
    );
    assert_eq!(
        corrupt_reason(&key(TYPE_STRING, b"s", &declared(1 << 40))),
        "Invalid LZF compressed string"
    );
}

#[test]
fn legacy_zset_with_text_scores() {
    // RDB_TYPE_ZSET: each score is a length byte and text, or 254/255 for +/-inf.
    let mut v = vec![5];
    for (m, score) in [
        (&b"a"[..], &b"1.5"[..]),
        (b"b", b"-3"),
        (b"c", b"2.5e1junk"),
        (b"d", b"  0x10"),
    ] {
        v.extend(raw(m));
        v.push(score.len() as u8);
        v.extend_from_slice(score);
    }
    v.extend(raw(b"inf"));
    v.push(254);
    let ks = loaded(
        &[
            key(TYPE_ZSET, b"z", &v),
            key(TYPE_ZSET, b"m", &[1, 1, b'x', 255]),
        ]
        .concat(),
    );
    assert_eq!(
        value(&ks, b"z"),
        zset(&[
            ("a", 1.5),
            ("b", -3.0),
            ("c", 25.0),
            ("d", 16.0),
            ("inf", f64::INFINITY)
        ])
    );
    assert_eq!(value(&ks, b"m"), zset(&[("x", f64::NEG_INFINITY)]));
    assert_eq!(
        corrupt_reason(&key(TYPE_ZSET, b"z", &[1, 1, b'x', 253])),
        "Zset with NAN score detected"
    );
    assert_eq!(
        corrupt_reason(&key(TYPE_ZSET, b"z", &[1, 1, b'x', 2, b'n', b'o'])),
        "Unexpected EOF reading RDB file"
    );
    let dup = [&[2][..], &raw(b"x"), &[1, b'1'], &raw(b"x"), &[1, b'2']].concat();
    assert_eq!(
        corrupt_reason(&key(TYPE_ZSET, b"z", &dup)),
        "Duplicate zset fields detected"
    );
}

#[test]
fn zipmap_hashes() {
    let long = vec![b'v'; 300];
    let blob = build::zipmap(&[(b"f1", b"v1"), (b"f2", &long)], 3);
    let ks = loaded(&key(TYPE_HASH_ZIPMAP, b"h", &raw(&blob)));
    assert_eq!(
        value(&ks, b"h"),
        Value::Hash(
            [(b"f1".to_vec(), b"v1".to_vec()), (b"f2".to_vec(), long)]
                .into_iter()
                .collect()
        )
    );
    let dup = build::zipmap(&[(b"f", b"1"), (b"f", b"2")], 0);
    assert_eq!(
        corrupt_reason(&key(TYPE_HASH_ZIPMAP, b"h", &raw(&dup))),
        "Hash zipmap with dup elements, or big length (1)"
    );
    assert_eq!(
        corrupt_reason(&key(TYPE_HASH_ZIPMAP, b"h", &raw(&blob[..blob.len() - 1]))),
        "Zipmap integrity check failed."
    );
}

#[test]
fn ziplist_lists_hashes_and_zsets() {
    let items: [&[u8]; 5] = [b"a", b"12", b"-70000", b"5000000000", b"tail"];
    let ks = loaded(
        &[
            key(TYPE_LIST_ZIPLIST, b"l", &raw(&build::ziplist(&items))),
            key(
                TYPE_HASH_ZIPLIST,
                b"h",
                &raw(&build::ziplist(&[b"f", b"1", b"g", b"two"])),
            ),
            key(
                TYPE_ZSET_ZIPLIST,
                b"z",
                &raw(&build::ziplist(&[b"m", b"1.5", b"n", b"-2"])),
            ),
            key(TYPE_LIST_ZIPLIST, b"empty", &raw(&build::ziplist(&[]))),
        ]
        .concat(),
    );
    assert_eq!(
        value(&ks, b"l"),
        list(&["a", "12", "-70000", "5000000000", "tail"])
    );
    assert_eq!(value(&ks, b"h"), hash(&[("f", "1"), ("g", "two")]));
    assert_eq!(value(&ks, b"z"), zset(&[("m", 1.5), ("n", -2.0)]));
    assert!(
        !ks.dbs[0].entries.contains_key(b"empty".as_slice()),
        "an empty ziplist is an empty key: skipped"
    );
    let dup = raw(&build::ziplist(&[b"f", b"1", b"f", b"2"]));
    assert_eq!(
        corrupt_reason(&key(TYPE_HASH_ZIPLIST, b"h", &dup)),
        "Hash ziplist integrity check failed."
    );
    assert_eq!(
        corrupt_reason(&key(TYPE_ZSET_ZIPLIST, b"z", &dup)),
        "Zset ziplist integrity check failed."
    );
    let odd = raw(&build::ziplist(&[b"f", b"1", b"g"]));
    assert_eq!(
        corrupt_reason(&key(TYPE_HASH_ZIPLIST, b"h", &odd)),
        "Hash ziplist integrity check failed."
    );
    let nan = raw(&build::ziplist(&[b"m", b"nan"]));
    assert_eq!(
        corrupt_reason(&key(TYPE_ZSET_ZIPLIST, b"z", &nan)),
        "Zset ziplist integrity check failed."
    );
    let mut broken = build::ziplist(&items);
    broken[8] = 9;
    assert_eq!(
        corrupt_reason(&key(TYPE_LIST_ZIPLIST, b"l", &raw(&broken))),
        "List ziplist integrity check failed."
    );
}

#[test]
fn quicklists_of_ziplists_and_listpacks() {
    let v1 = [
        &[3][..],
        &raw(&build::ziplist(&[b"a", b"1"])),
        &raw(&build::ziplist(&[])),
        &raw(&build::ziplist(&[b"b"])),
    ]
    .concat();
    let big = vec![b'p'; 9000];
    let v2 = [
        &[3, 2][..],
        &raw(&build::listpack(&[b"x", b"-5"])),
        &[1],
        &raw(&big),
        &[2],
        &raw(&build::listpack(&[b"y"])),
    ]
    .concat();
    let all_empty = [&[1][..], &raw(&build::ziplist(&[]))].concat();
    let ks = loaded(
        &[
            key(TYPE_LIST_QUICKLIST, b"q1", &v1),
            key(TYPE_LIST_QUICKLIST_2, b"q2", &v2),
            key(TYPE_LIST_QUICKLIST, b"e", &all_empty),
        ]
        .concat(),
    );
    assert_eq!(value(&ks, b"q1"), list(&["a", "1", "b"]));
    let mut want: VecDeque<Vec<u8>> = [b"x".to_vec(), b"-5".to_vec()].into_iter().collect();
    want.push_back(big);
    want.push_back(b"y".to_vec());
    assert_eq!(value(&ks, b"q2"), Value::List(want));
    assert!(!ks.dbs[0].entries.contains_key(b"e".as_slice()));
    assert_eq!(
        corrupt_reason(&key(TYPE_LIST_QUICKLIST_2, b"q", &[1, 3, 1, b'x'])),
        "Quicklist integrity check failed."
    );
    assert_eq!(
        corrupt_reason(&key(TYPE_LIST_QUICKLIST_2, b"q", &[1, 1, 0])),
        "Unexpected EOF reading RDB file"
    );
    assert_eq!(
        corrupt_reason(&key(TYPE_LIST_QUICKLIST_2, b"q", &[1, 2, 1, b'x'])),
        "Listpack integrity check failed."
    );
    assert_eq!(
        corrupt_reason(&key(TYPE_LIST_QUICKLIST, b"q", &[1, 1, b'x'])),
        "Ziplist integrity check failed."
    );
}

#[test]
fn intsets_and_listpacks_as_redis_7_writes_them() {
    let many: Vec<i64> = (0..600).collect();
    let ks = loaded(
        &[
            key(TYPE_SET_INTSET, b"s", &raw(&build::intset(2, &[-3, 7, 9]))),
            key(TYPE_SET_INTSET, b"big", &raw(&build::intset(4, &many))),
            key(
                TYPE_HASH_LISTPACK,
                b"h",
                &raw(&build::listpack(&[b"f", b"v"])),
            ),
            key(
                TYPE_ZSET_LISTPACK,
                b"z",
                &raw(&build::listpack(&[b"m", b"2", b"n", b"0.5"])),
            ),
        ]
        .concat(),
    );
    assert_eq!(
        value(&ks, b"s"),
        Value::Set(SetValue::Ints([-3, 7, 9].into_iter().collect()))
    );
    match value(&ks, b"big") {
        Value::Set(SetValue::Members(m)) => {
            assert_eq!(m.len(), 600, "over set-max-intset-entries: a hash table")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(value(&ks, b"h"), hash(&[("f", "v")]));
    assert_eq!(value(&ks, b"z"), zset(&[("n", 0.5), ("m", 2.0)]));
    assert_eq!(
        corrupt_reason(&key(
            TYPE_SET_INTSET,
            b"s",
            &raw(&build::intset(2, &[1, 1]))
        )),
        "Intset integrity check failed."
    );
    let dup = raw(&build::listpack(&[b"f", b"1", b"f", b"2"]));
    assert_eq!(
        corrupt_reason(&key(TYPE_HASH_LISTPACK, b"h", &dup)),
        "Hash listpack integrity check failed."
    );
    assert_eq!(
        corrupt_reason(&key(TYPE_ZSET_LISTPACK, b"z", &dup)),
        "Zset listpack integrity check failed."
    );
}

/// One file with every encoding Redis 7.0 loads, each built from the C sources'
/// format descriptions. `tests/rdb/legacy-encodings.rdb` is this file: tests/rdb_check.rs
/// has a real redis-server load it and compares with what we read.
fn every_encoding_fixture() -> Vec<u8> {
    let text_scores = [
        &[3][..],
        &raw(b"a"),
        &[3],
        b"1.5",
        &raw(b"b"),
        &[254],
        &raw(b"c"),
        &[4],
        b"-0.5",
    ]
    .concat();
    let quicklist_v1 = [
        &[2][..],
        &raw(&build::ziplist(&[b"q1", b"7"])),
        &raw(&build::ziplist(&[b"-300000"])),
    ]
    .concat();
    let quicklist_v2 = [
        &[2, 2][..],
        &raw(&build::listpack(&[b"p1", b"8"])),
        &[1],
        &raw(b"plain node"),
    ]
    .concat();
    let mut expiring_secs = vec![OP_EXPIRETIME];
    expiring_secs.extend(2_000_000_000i32.to_le_bytes());
    let lzf = [&[0xC3, 6, 9][..], &[2, b'a', b'b', b'c', 4 << 5, 2]].concat();
    file(
        &[
            key(TYPE_ZSET, b"zset-text", &text_scores),
            key(
                TYPE_HASH_ZIPMAP,
                b"hash-zipmap",
                &raw(&build::zipmap(&[(b"f1", b"v1"), (b"f2", b"300")], 2)),
            ),
            key(
                TYPE_LIST_ZIPLIST,
                b"list-ziplist",
                &raw(&build::ziplist(&[b"a", b"12", b"-70000", b"5000000000"])),
            ),
            key(
                TYPE_SET_INTSET,
                b"set-intset",
                &raw(&build::intset(4, &[-100_000, 3, 70_000])),
            ),
            key(
                TYPE_ZSET_ZIPLIST,
                b"zset-ziplist",
                &raw(&build::ziplist(&[b"m", b"2", b"n", b"2.25"])),
            ),
            key(
                TYPE_HASH_ZIPLIST,
                b"hash-ziplist",
                &raw(&build::ziplist(&[b"f", b"1", b"g", b"two"])),
            ),
            key(TYPE_LIST_QUICKLIST, b"list-quicklist", &quicklist_v1),
            key(TYPE_LIST_QUICKLIST_2, b"list-quicklist2", &quicklist_v2),
            key(
                TYPE_HASH_LISTPACK,
                b"hash-listpack",
                &raw(&build::listpack(&[b"hf", b"hv", b"n", b"-1"])),
            ),
            key(
                TYPE_ZSET_LISTPACK,
                b"zset-listpack",
                &raw(&build::listpack(&[b"x", b"1", b"y", b"1.5"])),
            ),
            [expiring_secs, key(TYPE_STRING, b"lzf-expiring", &lzf)].concat(),
            [
                &[OP_SELECTDB, 5][..],
                &key(TYPE_STRING, b"db5", &[0xC2, 0x40, 0xE2, 0x01, 0x00]),
            ]
            .concat(),
        ]
        .concat(),
    )
}

#[test]
fn every_encoding_fixture_loads() {
    let bytes = every_encoding_fixture();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        bytes == include_bytes!("../../../tests/rdb/legacy-encodings.rdb"),
        "tests/rdb/legacy-encodings.rdb is not this fixture; regenerate it with\n\
         echo {hex} | xxd -r -p > tests/rdb/legacy-encodings.rdb"
    );
    let ks = read(&bytes).unwrap().keyspace;
    assert_eq!(
        value(&ks, b"zset-text"),
        zset(&[("a", 1.5), ("b", f64::INFINITY), ("c", -0.5)])
    );
    assert_eq!(
        value(&ks, b"hash-zipmap"),
        hash(&[("f1", "v1"), ("f2", "300")])
    );
    assert_eq!(
        value(&ks, b"list-quicklist2"),
        list(&["p1", "8", "plain node"])
    );
    assert_eq!(
        ks.dbs[0].entries[&b"lzf-expiring".to_vec()].expires_at,
        Some(2_000_000_000_000)
    );
    assert_eq!(
        ks.dbs[5].entries[&b"db5".to_vec()].value,
        Value::String(b"123456".to_vec())
    );
    assert_eq!(ks.len(), 12);
}

#[test]
fn duplicates_in_plain_encodings_are_corruption() {
    let two = |a: &[u8], b: &[u8]| [&[2][..], &raw(a), &raw(b)].concat();
    assert_eq!(
        corrupt_reason(&key(TYPE_SET, b"s", &two(b"1", b"1"))),
        "Duplicate set members detected"
    );
    assert_eq!(
        corrupt_reason(&key(TYPE_SET, b"s", &two(b"a", b"a"))),
        "Duplicate set members detected"
    );
    let pairs = [&[2][..], &raw(b"f"), &raw(b"1"), &raw(b"f"), &raw(b"2")].concat();
    assert_eq!(
        corrupt_reason(&key(TYPE_HASH, b"h", &pairs)),
        "Hash with dup elements"
    );
    let zdup = [
        &[2][..],
        &raw(b"m"),
        &1f64.to_le_bytes(),
        &raw(b"m"),
        &2f64.to_le_bytes(),
    ]
    .concat();
    assert_eq!(
        corrupt_reason(&key(TYPE_ZSET_2, b"z", &zdup)),
        "Duplicate zset fields detected"
    );
    // The same key twice: Redis stops with a panic.
    let err = read(&file(
        &[
            key(TYPE_STRING, b"k", &raw(b"1")),
            key(TYPE_STRING, b"k", &raw(b"2")),
        ]
        .concat(),
    ))
    .unwrap_err();
    assert_eq!(err.kind, RdbErrorKind::Fatal);
    assert_eq!(err.log[0], "RDB has duplicated key 'k' in DB 0");
    // After keys in ascending order (the fast path), and after keys out of order.
    let s = |k: &[u8]| key(TYPE_STRING, k, &raw(b"v"));
    for keys in [[&b"a"[..], b"b", b"c", b"b"], [b"c", b"a", b"b", b"a"]] {
        let err = read(&file(&keys.map(s).concat())).unwrap_err();
        assert_eq!(
            err.log[0],
            format!("RDB has duplicated key '{}' in DB 0", keys[3][0] as char)
        );
    }
}

#[test]
fn keys_in_any_order_load_the_same() {
    let s = |k: &[u8]| key(TYPE_STRING, k, &raw(k));
    let ascending = loaded(&[s(b"a"), s(b"b"), s(b"c"), s(b"d")].concat());
    let shuffled = loaded(&[s(b"b"), s(b"d"), s(b"a"), s(b"c")].concat());
    let half = loaded(&[s(b"a"), s(b"c"), s(b"b"), s(b"d")].concat());
    assert_eq!(ascending, shuffled);
    assert_eq!(ascending, half);
    assert_eq!(ascending.len(), 4);
}

#[test]
fn what_replscope_cannot_hold_is_named() {
    let err = read(&file(&key(TYPE_STREAM_LISTPACKS_2, b"events", &[0]))).unwrap_err();
    assert_eq!(err.kind, RdbErrorKind::Unsupported);
    assert_eq!(
        err.reason,
        "stream keys are not supported by replscope (key 'events')"
    );
    let err = read(&file(&[OP_FUNCTION2, 0])).unwrap_err();
    assert_eq!(err.kind, RdbErrorKind::Unsupported);
    assert!(
        err.reason.contains("functions are not supported"),
        "{}",
        err.reason
    );
    // A module value: Redis without the module reports the module's name.
    let id: u64 = (0..9).fold(0, |acc, _| (acc << 6) | 1) << 10; // "BBBBBBBBB", version 0
    let mut body = vec![TYPE_MODULE_2];
    body.extend(raw(b"k"));
    body.push(0x81);
    body.extend(id.to_be_bytes());
    assert_eq!(
        corrupt_reason(&body),
        "The RDB file contains module data I can't load: no matching module type 'BBBBBBBBB'"
    );
    let err = read(&file(&[OP_MODULE_AUX, 0, 2, 2])).unwrap_err();
    assert_eq!(err.kind, RdbErrorKind::Fatal);
    assert_eq!(
        corrupt_reason(&key(20, b"k", &[])),
        "Unknown RDB encoding type 20"
    );
}

#[test]
fn header_errors_and_reports_read_like_redis() {
    let mut bad = file(&[]);
    bad[0] = b'X';
    let err = read(&bad).unwrap_err();
    assert_eq!(
        (err.kind, err.log),
        (
            RdbErrorKind::Invalid,
            vec!["Wrong signature trying to load DB from file".to_string()]
        )
    );
    let mut newer = file(&[]);
    newer[5..9].copy_from_slice(b"0011");
    let err = read(&newer).unwrap_err();
    assert_eq!(
        (err.kind, err.log),
        (
            RdbErrorKind::Invalid,
            vec!["Can't handle RDB format version 11".to_string()]
        )
    );
    // Version 9 files load (and, like every version from 5, have a checksum).
    let mut older = b"REDIS0009".to_vec();
    older.extend(key(TYPE_STRING, b"k", &raw(b"v")));
    older.push(OP_EOF);
    older.extend(0u64.to_le_bytes());
    let (log, ok) = load(&older, 0);
    assert!(ok.is_ok());
    assert_eq!(
        log[0],
        "RDB file was saved with checksum disabled: no check performed."
    );
    let mut wrong = file(&key(TYPE_STRING, b"k", &raw(b"v")));
    let n = wrong.len();
    wrong[n - 1] ^= 1;
    let err = read(&wrong).unwrap_err();
    assert_eq!(err.kind, RdbErrorKind::Corrupt);
    assert!(
        err.log[0].starts_with("Wrong RDB checksum expected: ("),
        "{:?}",
        err.log
    );
    assert_eq!(
        err.log[1],
        "Internal error in RDB reading offset 0, function at rdb.c:3216 -> RDB CRC error"
    );
    let truncated = file(&key(TYPE_STRING, b"k", &raw(b"value")));
    let err = read(&truncated[..truncated.len() - 12]).unwrap_err();
    assert_eq!(
        err.log,
        vec![
            "Short read or OOM loading DB. Unrecoverable error, aborting now.",
            "Internal error in RDB reading offset 0, function at rdb.c:3240 -> Unexpected EOF reading RDB file"
        ]
    );
    let err = read(&file(&[OP_SELECTDB, 16])).unwrap_err();
    assert_eq!(err.kind, RdbErrorKind::Fatal);
}

#[test]
fn the_report_names_the_loading_progress_offset() {
    // Redis updates its progress every 2 MB read, to where the crossing read began.
    let mut ks = Keyspace::default();
    for i in 0..3u8 {
        ks.set(0, vec![b'k', i], Value::String(vec![i; 1_500_000]), None);
    }
    let mut bytes = write_with(&ks, &meta(), 0, false);
    let n = bytes.len();
    bytes[n - 1] ^= 1;
    let err = read(&bytes).unwrap_err();
    let string_starts: Vec<usize> = (0..3)
        .map(|i| {
            bytes
                .windows(5)
                .position(|w| w == [0x80, 0x00, 0x16, 0xE3, 0x60])
                .unwrap()
                + 5
                + i * (1_500_000 + 9)
        })
        .collect();
    // The second value's read crosses 2 MB, the third value's read crosses 4 MB.
    assert!(
        err.log[1].contains(&format!("reading offset {},", string_starts[2])),
        "{:?} {string_starts:?}",
        err.log
    );
}

#[test]
fn every_truncation_and_bit_flip_is_an_error_not_a_panic() {
    let mut ks = Keyspace::default();
    ks.set(
        0,
        b"key".to_vec(),
        Value::String(b"value".to_vec()),
        Some(5),
    );
    ks.set(
        0,
        b"long".to_vec(),
        Value::String(b"compress me ".repeat(10)),
        None,
    );
    let bytes = write(&ks, &meta(), 0);
    for cut in 0..bytes.len() {
        assert!(read(&bytes[..cut]).is_err(), "truncated at {cut} loaded");
    }
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x41;
        let _ = read(&bad);
    }
}

#[test]
fn empty_collections_are_skipped_like_redis() {
    let mut ks = Keyspace::default();
    ks.set(
        0,
        b"list".to_vec(),
        Value::List(Default::default()),
        Some(5),
    );
    ks.set(
        0,
        b"hash".to_vec(),
        Value::Hash(OrderedMap::default()),
        None,
    );
    ks.set(0, b"kept".to_vec(), Value::String(Vec::new()), None);
    let (log, loaded) = load(&write(&ks, &meta(), 0), 0);
    assert_eq!(
        loaded.unwrap().keyspace.dbs[0]
            .entries
            .keys()
            .collect::<Vec<_>>(),
        vec![&b"kept".to_vec()]
    );
    assert!(
        log.contains(&"rdbLoadObject skipping empty key: hash".to_string()),
        "{log:?}"
    );
    assert_eq!(
        log.last().unwrap(),
        "Done loading RDB, keys loaded: 1, keys expired: 0, empty keys skipped: 2."
    );
}

#[test]
fn expired_keys_are_saved_like_redis_7_0() {
    let mut ks = Keyspace::default();
    ks.set(0, b"old".to_vec(), Value::String(b"v".to_vec()), Some(1));
    assert_eq!(read(&write(&ks, &meta(), 1_000_000)).unwrap().keyspace, ks);
}
