//! replscope-sim: runs replication scenarios on the simulated network and checks
//! replication's invariants; sweeps random scenarios by seed and shrinks the failures.
//!
//! ```text
//! replscope-sim run <scenario.json> [--summary]
//! replscope-sim run <link> [--log]
//! replscope-sim link <scenario.json> [--step N]
//! replscope-sim sweep --seeds N [--start S] [--out DIR] [--shrink-budget B] [--no-faults]
//! replscope-sim generate <seed> [--no-faults]
//! ```
//!
//! `run` prints the event log (or only the summary) and exits 1 if an invariant was
//! violated or an expectation failed, 2 if the file cannot be used. Given a share link
//! (`v1.…`, `#v1.…` or the page's whole address) instead of a file, it opens it as the
//! page would and prints the summary (the event log too with `--log`), so documentation
//! can check its links; a link that cannot be opened exits 2 with the page's message.
//! `link` prints the share link of a scenario file, opening at `--step N` log entries.
//! `sweep` runs the random scenario of each seed from S to S+N-1; for each failure it
//! prints the seed, what failed, the commands that replay it, and writes the scenario (and
//! its shrunk form) as JSON into DIR. Panics are caught per seed and reported as failures.
//! `generate` prints a seed's scenario. Random scenarios have the bus's faults
//! (partitions, severed links, link settings, crashes and restarts, pauses) unless
//! `--no-faults`.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(native::main());
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::path::PathBuf;
    use std::sync::Mutex;
    use std::time::Instant;

    use replscope::scenario::checker::MAX_DIGEST_BYTES;
    use replscope::scenario::generate::{random_scenario_with, run_catching, shrink, Failure};
    use replscope::scenario::runner::run;
    use replscope::scenario::share_link::{self as link, SharedRun};
    use replscope::scenario::Scenario;

    const USAGE: &str = "usage:
  replscope-sim run <scenario.json> [--summary]
  replscope-sim run <link> [--log]
  replscope-sim link <scenario.json> [--step N]
  replscope-sim sweep --seeds N [--start S] [--out DIR] [--shrink-budget B] [--no-faults]
  replscope-sim generate <seed> [--no-faults]";

    pub fn main() -> i32 {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let result = match args.first().map(String::as_str) {
            Some("run") => cmd_run(&args[1..]),
            Some("sweep") => cmd_sweep(&args[1..]),
            Some("generate") => cmd_generate(&args[1..]),
            Some("link") => cmd_link(&args[1..]),
            Some("-h" | "--help" | "help") => {
                println!("{USAGE}");
                Ok(0)
            }
            _ => Err(USAGE.to_string()),
        };
        match result {
            Ok(code) => code,
            Err(msg) => {
                eprintln!("replscope-sim: {msg}");
                2
            }
        }
    }

    fn cmd_run(args: &[String]) -> Result<i32, String> {
        let (mut source, mut summary_only, mut log) = (None, false, false);
        for a in args {
            match a.as_str() {
                "--summary" => summary_only = true,
                "--log" => log = true,
                s if s.starts_with('-') => return Err(format!("unknown option {s}\n{USAGE}")),
                s if source.is_none() => source = Some(s.to_string()),
                s => return Err(format!("unexpected argument {s}\n{USAGE}")),
            }
        }
        if summary_only && log {
            return Err(format!(
                "--summary and --log contradict each other\n{USAGE}"
            ));
        }
        let source =
            source.ok_or_else(|| format!("run needs a scenario file or a share link\n{USAGE}"))?;
        // A file wins over a link of the same spelling; what is neither is reported as a
        // link when it looks like one (the page's message says what is wrong with it).
        let path = std::path::Path::new(&source);
        let (scenario, step, show_log, label) = if !path.is_file() && looks_like_link(&source) {
            let shared = link::decode(&source).map_err(|e| e.to_string())?;
            (shared.scenario, shared.step, log, "the link")
        } else {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{source}: {e}"))?;
            let scenario = Scenario::from_json(&text).map_err(|e| format!("{source}: {e}"))?;
            (scenario, None, !summary_only, source.as_str())
        };
        let run = run(&scenario).map_err(|e| format!("{label}: {e}"))?;
        if show_log {
            for entry in run.bus.log() {
                println!("{}", entry.line());
            }
            println!();
        }
        if let Some(step) = step {
            let entries = run.bus.log().len();
            if step <= entries as u64 {
                println!("step: the link opens with the first {step} of the {entries} log entries");
            } else {
                println!("step: the link's step {step} is past the end of the log ({entries} entries); it opens at the end");
            }
        }
        print!("{}", run.summary);
        if let Some(index) = run.summary.checks.digest_budget_reached {
            println!(
                "note: data digests stopped after event #{index}: the checker's budget of {} MiB digested per run was spent; offsets, WAIT and liveness were checked to the end",
                MAX_DIGEST_BYTES >> 20
            );
        }
        Ok(if run.violations().is_empty() { 0 } else { 1 })
    }

    /// Whether `run`'s argument is meant as a share link rather than a file name.
    fn looks_like_link(arg: &str) -> bool {
        let arg = arg.trim();
        arg.contains('#')
            || arg.contains("://")
            || (arg.starts_with('v') && arg[1..].starts_with(|c: char| c.is_ascii_digit()))
    }

    fn cmd_link(args: &[String]) -> Result<i32, String> {
        let (mut path, mut step) = (None, None);
        let mut i = 0;
        while i < args.len() {
            match args[i].as_str() {
                "--step" => {
                    step = Some(number(args, i, "--step")?);
                    i += 1;
                }
                s if s.starts_with('-') => return Err(format!("unknown option {s}\n{USAGE}")),
                s if path.is_none() => path = Some(s.to_string()),
                s => return Err(format!("unexpected argument {s}\n{USAGE}")),
            }
            i += 1;
        }
        let path = path.ok_or_else(|| format!("link needs a scenario file\n{USAGE}"))?;
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        let scenario = Scenario::from_json(&text).map_err(|e| format!("{path}: {e}"))?;
        let shared = SharedRun { scenario, step };
        let made = link::encode_checked(&shared).map_err(|e| format!("{path}: {e}"))?;
        // Only a link that opens to this very run is printed.
        match link::decode(&made) {
            Ok(back) if back == shared => {}
            Ok(_) => {
                return Err(format!(
                    "{path}: the link does not open to the same scenario (a bug in replscope)"
                ))
            }
            Err(e) => {
                return Err(format!(
                    "{path}: the link does not open ({e}): a bug in replscope"
                ))
            }
        }
        println!("{made}");
        Ok(0)
    }

    fn cmd_generate(args: &[String]) -> Result<i32, String> {
        let seed = args.first().ok_or("generate needs a seed")?;
        let seed: u64 = seed
            .parse()
            .map_err(|_| format!("{seed:?} is not a seed (an unsigned integer)"))?;
        let faults = match args.get(1).map(String::as_str) {
            None => true,
            Some("--no-faults") if args.len() == 2 => false,
            Some(other) => return Err(format!("unexpected argument {other}\n{USAGE}")),
        };
        println!("{}", random_scenario_with(seed, faults).to_json());
        Ok(0)
    }

    fn number(args: &[String], i: usize, name: &str) -> Result<u64, String> {
        let v = args
            .get(i + 1)
            .ok_or_else(|| format!("{name} needs a value"))?;
        v.parse()
            .map_err(|_| format!("{name}: {v:?} is not an unsigned integer"))
    }

    /// The last panic's message and location, kept by the hook instead of printed.
    static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

    fn cmd_sweep(args: &[String]) -> Result<i32, String> {
        let (mut seeds, mut start, mut budget) = (None, 0u64, 300usize);
        let mut out = PathBuf::from(".");
        let mut faults = true;
        let mut i = 0;
        while i < args.len() {
            match args[i].as_str() {
                "--no-faults" => {
                    faults = false;
                    i += 1;
                    continue;
                }
                "--seeds" => seeds = Some(number(args, i, "--seeds")?),
                "--start" => start = number(args, i, "--start")?,
                "--shrink-budget" => budget = number(args, i, "--shrink-budget")? as usize,
                "--out" => out = PathBuf::from(args.get(i + 1).ok_or("--out needs a directory")?),
                other => return Err(format!("unknown option {other}\n{USAGE}")),
            }
            i += 2;
        }
        let seeds = seeds.ok_or_else(|| format!("sweep needs --seeds N\n{USAGE}"))?;
        std::panic::set_hook(Box::new(|info| {
            *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some(info.to_string());
        }));
        let began = Instant::now();
        let (mut failed, mut panics) = (0u64, 0u64);
        for seed in start..start.saturating_add(seeds) {
            let scenario = random_scenario_with(seed, faults);
            let Err(failure) = run_catching(&scenario) else {
                continue;
            };
            failed += 1;
            let failure = with_panic_location(failure);
            if matches!(failure, Failure::Panic(_)) {
                panics += 1;
            }
            println!("FAIL seed {seed}\n{failure}");
            std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
            let file = out.join(format!("replscope-sim-{seed}.json"));
            std::fs::write(&file, scenario.to_json())
                .map_err(|e| format!("{}: {e}", file.display()))?;
            let (small, small_failure) = shrink(&scenario, &failure, budget);
            let small_failure = with_panic_location(small_failure);
            let small_file = out.join(format!("replscope-sim-{seed}-shrunk.json"));
            std::fs::write(&small_file, small.to_json())
                .map_err(|e| format!("{}: {e}", small_file.display()))?;
            println!(
                "shrunk from {} servers / {} actions to {} / {}:\n{small_failure}",
                scenario.servers.len(),
                scenario.actions.len(),
                small.servers.len(),
                small.actions.len()
            );
            let no_faults = if faults { "" } else { " --no-faults" };
            println!("replay: replscope-sim sweep --seeds 1 --start {seed}{no_faults}");
            println!("replay: replscope-sim run {}", file.display());
            println!("replay: replscope-sim run {}", small_file.display());
            // The shrunk run as a share link, standing on the first violation's event, so
            // the failure can be watched in the playground.
            let step = match &small_failure {
                Failure::Violations(v) => v.first().map(|v| v.index + 1),
                _ => None,
            };
            match link::encode_checked(&SharedRun {
                scenario: small.clone(),
                step,
            }) {
                Ok(made) => println!("replay in the page: #{made}\n"),
                Err(e) => println!("replay in the page: no link ({e})\n"),
            }
        }
        let _ = std::panic::take_hook();
        println!(
            "sweep: {seeds} seeds from {start} in {:.1} s: {failed} failed ({panics} panics)",
            began.elapsed().as_secs_f64()
        );
        Ok(if failed == 0 { 0 } else { 1 })
    }

    fn with_panic_location(f: Failure) -> Failure {
        match f {
            Failure::Panic(m) => Failure::Panic(
                LAST_PANIC
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .unwrap_or(m),
            ),
            other => other,
        }
    }
}
