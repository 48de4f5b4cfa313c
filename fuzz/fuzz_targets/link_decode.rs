//! scenario::share_link::decode on anything a page may be handed as its URL fragment: never
//! panics, never allocates past its limits, and whatever it accepts is a valid scenario
//! whose re-encoded link opens to the same run. The first byte picks the layer the rest
//! reaches, so mutations are not all spent failing the outer checks:
//! 0 the rest as text (prefix, base64 and all), 1 as the compressed bytes of a v1 link,
//! 2 as the JSON inside one (seed it with golden links and their JSON: fuzz/README.md).
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use replscope::scenario::share_link::{decode, encode};

fn check(text: &str) {
    let Ok(run) = decode(text) else { return };
    if let Err(e) = run.scenario.validate() {
        panic!("accepted a scenario that does not validate: {e}");
    }
    assert!(decode(&encode(&run)).as_ref() == Ok(&run), "re-encoding does not open the same run");
}

fuzz_target!(|data: &[u8]| {
    let Some((&layer, rest)) = data.split_first() else { return };
    match layer % 3 {
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                check(text);
            }
        }
        1 => check(&format!("v1.{}", URL_SAFE_NO_PAD.encode(rest))),
        _ => check(&format!("v1.{}", URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(rest, 1)))),
    }
});
