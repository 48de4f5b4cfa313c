//! A scenario's actions as steps on the bus: the schedule in time order (load
//! generators expanded as it is consumed), and how one step is carried out. The runner,
//! the [`Player`](super::player::Player) and the page's session all make their moves
//! through here, so a run, a shared link and what a person does replay the same way.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::generator::{GenerateSpec, Generator};
use super::{Action, Scenario, WriteKind};
use crate::bus::{Bus, Fault, ServerId};
use crate::engine::splitmix::SplitMix64;

/// One step of the expanded schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Command {
        server: ServerId,
        line: String,
    },
    Replicaof {
        server: ServerId,
        master: Option<ServerId>,
    },
    /// A server joins; its id is the next one on the bus.
    AddServer {
        name: String,
        config: Box<crate::engine::Config>,
    },
    Remove {
        server: ServerId,
    },
    /// One batch of the page's load generator, pipelined.
    Pipe {
        server: ServerId,
        lines: Vec<String>,
    },
    /// A fault, injected into the bus as it is.
    Fault(Fault),
}

/// The scenario's actions as (ms, index of the action each step comes from (`None`:
/// topology), step), in the order they run: [`Schedule`], all at once.
pub fn schedule(s: &Scenario) -> Vec<(u64, Option<usize>, Step)> {
    Schedule::new(s).collect()
}

/// A scenario's schedule, expanded as it is consumed: a load generator's writes (with
/// their values) are made when time comes to them, not all before the run starts, so
/// opening a run with a long load neither waits for nor holds all of its text at once.
/// The order is [`schedule`]'s: by time, ties in file order (topology first), each
/// action's own steps in their order (every action's times only grow).
#[derive(Debug, Clone)]
pub struct Schedule {
    /// One per action (index + 1; 0 is the topology), each with its next step ready.
    sources: Vec<Source>,
    /// (time of the source's next step, source index) of every source not yet exhausted.
    heads: BinaryHeap<Reverse<(u64, usize)>>,
}

#[derive(Debug, Clone)]
struct Source {
    head: Option<(u64, Step)>,
    rest: Rest,
}

#[derive(Debug, Clone)]
enum Rest {
    Steps(std::vec::IntoIter<(u64, Step)>),
    Load(LoadSteps),
    Generate { generator: Generator, after: u64 },
}

impl Rest {
    fn next(&mut self) -> Option<(u64, Step)> {
        match self {
            Rest::Steps(steps) => steps.next(),
            Rest::Load(load) => load.next(),
            Rest::Generate { generator, after } => loop {
                let at = generator.next_batch_after(*after)?;
                *after = at;
                let lines = generator.batch(at);
                if !lines.is_empty() {
                    break Some((
                        at,
                        Step::Pipe {
                            server: generator.server,
                            lines,
                        },
                    ));
                }
            },
        }
    }
}

impl Schedule {
    /// The schedule of a validated scenario.
    pub fn new(s: &Scenario) -> Schedule {
        let topology = s.topology.iter().map(|link| {
            (
                0,
                Step::Replicaof {
                    server: link.replica,
                    master: Some(link.master),
                },
            )
        });
        let mut rests = vec![Rest::Steps(topology.collect::<Vec<_>>().into_iter())];
        for (i, action) in s.actions.iter().enumerate() {
            rests.push(action_rest(action, i, s.seed).expect("validated scenario"));
        }
        let mut schedule = Schedule {
            sources: Vec::with_capacity(rests.len()),
            heads: BinaryHeap::new(),
        };
        for (order, mut rest) in rests.into_iter().enumerate() {
            let head = rest.next();
            if let Some((t, _)) = &head {
                schedule.heads.push(Reverse((*t, order)));
            }
            schedule.sources.push(Source { head, rest });
        }
        schedule
    }

    /// When the next step is due (ms since the start).
    pub fn peek_at(&self) -> Option<u64> {
        self.heads.peek().map(|Reverse((t, _))| *t)
    }
}

impl Iterator for Schedule {
    /// (ms, index of its action (`None`: topology), step).
    type Item = (u64, Option<usize>, Step);

    fn next(&mut self) -> Option<(u64, Option<usize>, Step)> {
        let Reverse((_, order)) = self.heads.pop()?;
        let source = &mut self.sources[order];
        let (t, step) = source.head.take().expect("a source in the heap has a head");
        source.head = source.rest.next();
        if let Some((next, _)) = &source.head {
            self.heads.push(Reverse((*next, order)));
        }
        Some((t, order.checked_sub(1), step))
    }
}

/// Action `i`'s steps, to be expanded as they are reached: a load generator's writes one
/// by one, anything else at once.
fn action_rest(action: &Action, i: usize, seed: u64) -> Result<Rest, String> {
    Ok(match action {
        Action::Generate {
            server,
            write,
            rate,
            keys,
            value_size,
            ttl_s,
            stop_at,
            ..
        } => {
            let spec = GenerateSpec {
                write: *write,
                rate: *rate as u64,
                keys: *keys as u64,
                value_size: *value_size as u64,
                ttl_s: *ttl_s as u64,
            };
            let at = action.at().max(0) as u64;
            let generator = Generator {
                server: *server,
                spec,
                start: at,
                stop: Some(*stop_at as u64),
            };
            Rest::Generate {
                generator,
                after: at,
            }
        }
        Action::Load {
            server,
            rate,
            duration_ms,
            kind,
            keys,
            value_bytes,
            ttl_ms,
            multi,
            ..
        } => Rest::Load(LoadSteps {
            server: *server,
            at: action.at().max(0) as u64,
            rate: *rate as u64,
            writes: (*rate as u64) * (*duration_ms as u64) / 1000,
            n: 0,
            kind: *kind,
            multi: *multi,
            rng: Rng::new(seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407)),
            shape: LoadShape {
                action: i,
                keys: *keys as u64,
                value_bytes: *value_bytes as usize,
                ttl_ms: ttl_ms.map(|t| t as u64),
            },
            lines: std::collections::VecDeque::new(),
        }),
        other => Rest::Steps(action_steps(other, i, seed)?.into_iter()),
    })
}

/// A `load` action's writes, made one at a time from its seeded random stream.
#[derive(Debug, Clone)]
struct LoadSteps {
    server: ServerId,
    at: u64,
    rate: u64,
    writes: u64,
    /// Writes made so far.
    n: u64,
    kind: WriteKind,
    multi: bool,
    rng: Rng,
    shape: LoadShape,
    /// The lines of the write being sent (a MULTI block, a PEXPIRE after its write).
    lines: std::collections::VecDeque<String>,
}

impl LoadSteps {
    fn next(&mut self) -> Option<(u64, Step)> {
        if self.lines.is_empty() {
            if self.n >= self.writes {
                return None;
            }
            self.n += 1;
            let mut lines = Vec::new();
            if self.multi {
                lines.push("MULTI".to_string());
                self.shape.write(self.kind, &mut self.rng, &mut lines);
                self.shape.write(self.kind, &mut self.rng, &mut lines);
                lines.push("EXEC".to_string());
            } else {
                self.shape.write(self.kind, &mut self.rng, &mut lines);
            }
            self.lines.extend(lines);
        }
        let t = self.at + (self.n - 1) * 1000 / self.rate;
        let line = self.lines.pop_front()?;
        Some((
            t,
            Step::Command {
                server: self.server,
                line,
            },
        ))
    }
}

/// The steps one action expands to, as (ms, step), in order. `index` is the action's
/// place in the file (load generators derive their keys from it). Shared by the runner and
/// by the page, which records what a person does as actions and carries them out through
/// here. The error is a server's configuration the bus would refuse.
pub fn action_steps(action: &Action, i: usize, seed: u64) -> Result<Vec<(u64, Step)>, String> {
    let at = action.at().max(0) as u64;
    let one = |step: Step| Ok(vec![(at, step)]);
    match action {
        Action::Command { server, line, .. } => one(Step::Command {
            server: *server,
            line: line.clone(),
        }),
        Action::Replicaof { server, master, .. } => one(Step::Replicaof {
            server: *server,
            master: *master,
        }),
        Action::Fault { fault, written, .. } => {
            let mirror = match *fault {
                Fault::Hold { from, to } => Some(Fault::Hold { from: to, to: from }),
                Fault::SetLink { from, to, config } => Some(Fault::SetLink {
                    from: to,
                    to: from,
                    config,
                }),
                _ => None,
            };
            let mirror = mirror.filter(|_| written.both_ways);
            Ok(std::iter::once(fault.clone())
                .chain(mirror)
                .map(|f| (at, Step::Fault(f)))
                .collect())
        }
        Action::AddServer {
            name, port, config, ..
        } => {
            let config = super::config_for(&format!("actions[{i}].config"), *port, config)
                .map_err(|e| e.to_string())?;
            one(Step::AddServer {
                name: name.clone(),
                config: Box::new(config),
            })
        }
        Action::Remove { server, .. } => one(Step::Remove { server: *server }),
        Action::Generate { .. } | Action::Load { .. } => {
            let mut rest = action_rest(action, i, seed)?;
            Ok(std::iter::from_fn(|| rest.next()).collect())
        }
    }
}

/// The load generators' keys and values, from the scenario seed.
#[derive(Debug, Clone)]
pub struct Rng(SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(SplitMix64::new(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// In `0..n` (0 when n is 0); the tiny modulo bias does not matter here.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Debug, Clone)]
struct LoadShape {
    action: usize,
    keys: u64,
    value_bytes: usize,
    ttl_ms: Option<u64>,
}

impl LoadShape {
    fn value(&self, rng: &mut Rng) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..self.value_bytes)
            .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    /// One write of `kind` (and its PEXPIRE when the load has a TTL).
    fn write(&self, kind: WriteKind, rng: &mut Rng, lines: &mut Vec<String>) {
        let kind = match kind {
            WriteKind::Mixed => WriteKind::ALL[rng.below(5) as usize],
            k => k,
        };
        let tag = match kind {
            WriteKind::String => "str",
            WriteKind::List => "list",
            WriteKind::Hash => "hash",
            WriteKind::Set => "set",
            WriteKind::Zset => "zset",
            WriteKind::Mixed => unreachable!("resolved above"),
        };
        let key = format!("{tag}:{}:{}", self.action, rng.below(self.keys));
        let member = format!("m{}", rng.below(self.keys.max(4)));
        let roll = rng.below(10);
        let line = match kind {
            WriteKind::String => match (roll, self.ttl_ms) {
                (0, _) => format!("APPEND {key} {}", self.value(rng)),
                (1, _) => format!("INCRBY {key}:n {}", rng.below(100)),
                (_, Some(ttl)) => format!("SET {key} {} PX {ttl}", self.value(rng)),
                (_, None) => format!("SET {key} {}", self.value(rng)),
            },
            WriteKind::List => match roll {
                0..=1 => format!("LPOP {key}"),
                2..=4 => format!("LPUSH {key} {}", self.value(rng)),
                _ => format!("RPUSH {key} {}", self.value(rng)),
            },
            WriteKind::Hash => match roll {
                0..=1 => format!("HDEL {key} {member}"),
                2 => format!("HINCRBY {key} n 1"),
                _ => format!("HSET {key} {member} {}", self.value(rng)),
            },
            WriteKind::Set => match roll {
                0 => format!("SREM {key} {member}"),
                // Random: Redis propagates what it popped as SREM.
                1 => format!("SPOP {key}"),
                2 => format!("SADD {key} {}", rng.below(1000)),
                _ => format!("SADD {key} {member}"),
            },
            WriteKind::Zset => match roll {
                0 => format!("ZREM {key} {member}"),
                1 => format!("ZINCRBY {key} 1.5 {member}"),
                _ => format!("ZADD {key} {} {member}", rng.below(1000) as f64 / 4.0),
            },
            WriteKind::Mixed => unreachable!("resolved above"),
        };
        lines.push(line);
        if let (Some(ttl), false) = (self.ttl_ms, kind == WriteKind::String && roll >= 2) {
            let key = if kind == WriteKind::String && roll == 1 {
                format!("{key}:n")
            } else {
                key
            };
            lines.push(format!("PEXPIRE {key} {ttl}"));
        }
    }
}

/// The REPLICAOF line a `Replicaof` step types.
pub fn replicaof_line(bus: &Bus, step: &Step) -> Option<String> {
    match step {
        Step::Replicaof {
            master: Some(m), ..
        } => Some(format!("REPLICAOF 127.0.0.1 {}", bus.server(*m).port)),
        Step::Replicaof { master: None, .. } => Some("REPLICAOF NO ONE".to_string()),
        _ => None,
    }
}

/// Carries out one step of the schedule on the bus, as the page does when a person does
/// the same thing (so a link of a page session replays it move for move). The error is
/// the bus's refusal (a command to a crashed server): part of the run for the runner,
/// shown to the person in the page.
pub fn apply_step(bus: &mut Bus, step: &Step) -> Result<(), String> {
    match step {
        Step::Command { server, line } => bus.submit_command(*server, line),
        Step::Replicaof { server, .. } => {
            let line = replicaof_line(bus, step).expect("a REPLICAOF step");
            bus.submit_command(*server, &line)
        }
        Step::AddServer { name, config } => {
            bus.add_server(name, (**config).clone());
            Ok(())
        }
        Step::Remove { server } => bus.remove_server(*server),
        Step::Pipe { server, lines } => {
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            bus.submit_pipe(*server, &refs)
        }
        Step::Fault(f) => bus.inject(f.clone()),
    }
}
