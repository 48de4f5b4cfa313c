//! Files of recorded results (log hashes) that tests compare against, and re-record when
//! a change is meant: `REPLSCOPE_BLESS=1 cargo test ...`.

/// Compares `text` with the file at `path`, or writes it there when `REPLSCOPE_BLESS` is set.
pub fn check_or_bless(path: &str, text: &str, what: &str) {
    if std::env::var_os("REPLSCOPE_BLESS").is_some() {
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{path}: {e}"));
        return;
    }
    let recorded = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (record it with REPLSCOPE_BLESS=1)"));
    assert_eq!(
        recorded, text,
        "{what} changed: if the change is meant, re-record with REPLSCOPE_BLESS=1"
    );
}
