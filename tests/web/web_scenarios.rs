//! Determinism across builds: generated scenarios (with faults) run in the browser give
//! the same log hashes as natively. The native hashes are recorded in
//! `tests/scenarios/sim_hashes.txt` by `tests/scenario/sim.rs` (`REPLSCOPE_BLESS=1`).
//!
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web web_scenarios::`
#![cfg(target_arch = "wasm32")]

use replscope::scenario::generate::random_scenario;
use replscope::scenario::runner::run;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const RECORDED: &str = include_str!("../scenarios/sim_hashes.txt");

fn recorded() -> Vec<(u64, String)> {
    RECORDED
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (seed, hash) = l.split_once(' ').expect("seed hash");
            (seed.parse().expect("a seed"), hash.to_string())
        })
        .collect()
}

#[wasm_bindgen_test]
fn generated_scenarios_with_faults_hash_as_natively() {
    let hashes = recorded();
    assert!(hashes.len() >= 3, "the recorded file lists the seeds");
    for (seed, want) in hashes {
        let s = random_scenario(seed);
        assert!(
            s.actions.iter().any(|a| a.is_fault()),
            "seed {seed} has faults"
        );
        let run = run(&s).expect("a generated scenario is valid");
        assert!(run.violations().is_empty(), "seed {seed}:\n{}", run.summary);
        assert_eq!(
            run.summary.log_hash, want,
            "seed {seed}: the browser's run differs from the native one"
        );
    }
}
