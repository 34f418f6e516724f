//! Sweeping many seeds: in parallel (each seed still one thread, so still
//! deterministic), shardable across machines, optionally running every seed twice to
//! prove determinism.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use quorum_sim::Divergence;
use quorum_sim::trace::first_divergence;

use crate::runner::{Source, replay_command, run_scenario};
use crate::scenario::Scenario;

/// What to sweep.
#[derive(Clone, Debug)]
pub struct SweepPlan {
    /// Scenarios, each with where it came from.
    pub scenarios: Vec<(Scenario, Source)>,
    /// Seeds `first..end`.
    pub seeds: core::ops::Range<u64>,
    /// Threads.
    pub jobs: usize,
    /// `(index, count)`, 1-based: run only every `count`-th seed from the `index`-th.
    pub shard: Option<(u64, u64)>,
    /// Run each seed twice and compare the trace hashes.
    pub check_determinism: bool,
}

/// A seed that failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepFailure {
    /// Scenario.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// How to replay it.
    pub replay: String,
    /// What went wrong.
    pub reasons: Vec<String>,
}

/// A seed whose two runs differed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nondeterminism {
    /// Scenario.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Where the traces part.
    pub divergence: Option<Divergence>,
}

/// The outcome of a sweep, as `quorum sweep --json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepSummary {
    /// Scenario-seed pairs run.
    pub runs: usize,
    /// Pairs that passed (and were deterministic, when checked).
    pub passed: usize,
    /// Pairs that failed.
    pub failed: Vec<SweepFailure>,
    /// Pairs whose two runs differed.
    pub nondeterministic: Vec<Nondeterminism>,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
    /// Pairs per wall-clock second.
    pub seeds_per_second: f64,
}

impl SweepSummary {
    /// Whether every pair passed deterministically.
    pub fn is_clean(&self) -> bool {
        self.failed.is_empty() && self.nondeterministic.is_empty()
    }
}

enum Verdict {
    Passed,
    Failed(SweepFailure),
    Nondeterministic(Nondeterminism),
}

/// The seeds of `plan` after sharding.
pub fn shard_seeds(plan: &SweepPlan) -> Vec<u64> {
    plan.seeds
        .clone()
        .enumerate()
        .filter(|(index, _)| plan.shard.is_none_or(|(shard, count)| *index as u64 % count == shard - 1))
        .map(|(_, seed)| seed)
        .collect()
}

/// Runs the sweep; `progress(done, total, failed)` is called after every pair, on the
/// calling thread.
pub fn sweep(plan: &SweepPlan, mut progress: impl FnMut(usize, usize, usize)) -> SweepSummary {
    let started = Instant::now();
    let seeds = shard_seeds(plan);
    let jobs: Vec<(usize, u64)> =
        (0..plan.scenarios.len()).flat_map(|s| seeds.iter().map(move |&seed| (s, seed))).collect();
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel::<(usize, Verdict)>();
    let mut verdicts: Vec<Option<Verdict>> = (0..jobs.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        for _ in 0..plan.jobs.max(1) {
            let sender = sender.clone();
            let (jobs, next) = (&jobs, &next);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(scenario, seed)) = jobs.get(index) else { break };
                    let (scenario, source) = &plan.scenarios[scenario];
                    let verdict = judge(scenario, source, seed, plan.check_determinism);
                    if sender.send((index, verdict)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut failed = 0;
        for (done, (index, verdict)) in receiver.iter().enumerate() {
            failed += usize::from(!matches!(verdict, Verdict::Passed));
            verdicts[index] = Some(verdict);
            progress(done + 1, jobs.len(), failed);
        }
    });
    let mut summary = SweepSummary {
        runs: jobs.len(),
        passed: 0,
        failed: Vec::new(),
        nondeterministic: Vec::new(),
        wall_seconds: 0.0,
        seeds_per_second: 0.0,
    };
    // In job order, whatever order the threads finished in.
    for verdict in verdicts.into_iter().flatten() {
        match verdict {
            Verdict::Passed => summary.passed += 1,
            Verdict::Failed(failure) => summary.failed.push(failure),
            Verdict::Nondeterministic(case) => summary.nondeterministic.push(case),
        }
    }
    summary.wall_seconds = started.elapsed().as_secs_f64();
    summary.seeds_per_second = summary.runs as f64 / summary.wall_seconds.max(1e-9);
    summary
}

fn judge(scenario: &Scenario, source: &Source, seed: u64, check_determinism: bool) -> Verdict {
    let failure = |reasons: Vec<String>| {
        Verdict::Failed(SweepFailure {
            scenario: scenario.name.clone(),
            seed,
            replay: replay_command(&scenario.name, seed, source),
            reasons,
        })
    };
    let (first, first_outcome) = match run_scenario(scenario, seed, source) {
        Ok(run) => run,
        Err(error) => return failure(vec![error.to_string()]),
    };
    if check_determinism {
        match run_scenario(scenario, seed, source) {
            Ok((second, second_outcome)) if second.trace_hash != first.trace_hash => {
                let divergence = first_divergence(&first_outcome.trace.events(), &second_outcome.trace.events());
                return Verdict::Nondeterministic(Nondeterminism { scenario: scenario.name.clone(), seed, divergence });
            }
            Ok(_) => {}
            Err(error) => return failure(vec![error.to_string()]),
        }
    }
    if first.passed { Verdict::Passed } else { failure(first.violations) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(shard: Option<(u64, u64)>) -> SweepPlan {
        SweepPlan { scenarios: vec![], seeds: 0..10, jobs: 1, shard, check_determinism: false }
    }

    #[test]
    fn shards_partition_the_seeds() {
        let all = shard_seeds(&plan(None));
        let mut union: Vec<u64> = (1..=3).flat_map(|i| shard_seeds(&plan(Some((i, 3))))).collect();
        union.sort_unstable();
        assert_eq!(union, all);
        assert_eq!(shard_seeds(&plan(Some((2, 3)))), vec![1, 4, 7]);
    }
}
