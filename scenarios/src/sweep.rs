//! Sweeping many seeds: in parallel (each seed still one thread, so still
//! deterministic), shardable across machines, optionally running every seed twice to
//! prove determinism.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use quorum_sim::{Divergence, RunBudget, first_divergence};

use crate::runner::{Invocation, run_scenario};
use crate::scenario::{FailureKind, Scenario};

/// What to sweep.
#[derive(Clone, Debug)]
pub struct SweepPlan {
    /// Scenarios, each with how it was named.
    pub scenarios: Vec<(Scenario, Invocation)>,
    /// Seeds `first..end`.
    pub seeds: core::ops::Range<u64>,
    /// Threads.
    pub jobs: usize,
    /// `(index, count)`, 1-based: run only every `count`-th seed from the `index`-th.
    pub shard: Option<(u64, u64)>,
    /// Run each seed twice and compare the trace hashes.
    pub check_determinism: bool,
    /// What each run may spend.
    pub budget: RunBudget,
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
    /// What kind of failure (`None`: the scenario could not run at all).
    pub kind: Option<FailureKind>,
    /// What went wrong.
    pub reasons: Vec<String>,
}

/// A seed whose two runs differed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Nondeterminism {
    /// Scenario.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Where the traces part.
    pub divergence: Option<Divergence>,
}

/// The outcome of a sweep, as `quorum sweep --json` prints it and `quorum merge`
/// reads it back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepSummary {
    /// The scenarios swept, by name.
    pub scenarios: Vec<String>,
    /// The seeds, `A..B`.
    pub seeds: String,
    /// The shards this summary covers, `(index, count)`, 1-based; empty for a whole
    /// sweep.
    pub shards: Vec<(u64, u64)>,
    /// Scenario-seed pairs run.
    pub runs: usize,
    /// Pairs that passed (and were deterministic, when checked).
    pub passed: usize,
    /// Pairs that failed.
    pub failed: Vec<SweepFailure>,
    /// Of the failed, how many panicked.
    pub panicked: usize,
    /// Of the failed, how many overran their budget.
    pub stuck: usize,
    /// Pairs whose two runs differed.
    pub nondeterministic: Vec<Nondeterminism>,
    /// Wall-clock seconds (of a merge: of its slowest shard, as shards run side by
    /// side).
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

/// Why shard summaries cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// Nothing to merge.
    #[error("no summaries to merge")]
    Empty,
    /// The summaries are of different sweeps.
    #[error("summary {index} sweeps {found}, the first sweeps {expected}: not shards of one sweep")]
    DifferentSweeps {
        /// Which summary (0-based, in the order given).
        index: usize,
        /// What it sweeps.
        found: String,
        /// What the first sweeps.
        expected: String,
    },
    /// Two summaries cover the same shard (or a whole sweep and a shard of it).
    #[error("shard {shard} appears twice")]
    Overlap {
        /// The shard, `I/N`, or `all`.
        shard: String,
    },
}

/// Merges the `--json` summaries of the shards of one sweep into one summary:
/// counts added, failures and nondeterminism listed in scenario and seed order,
/// wall-clock time of the slowest shard.
///
/// # Errors
/// [`MergeError`] when they are not distinct shards of one sweep.
pub fn merge(summaries: &[SweepSummary]) -> Result<SweepSummary, MergeError> {
    let first = summaries.first().ok_or(MergeError::Empty)?;
    let sweep_of = |s: &SweepSummary| format!("{} over seeds {}", s.scenarios.join(","), s.seeds);
    let mut merged = SweepSummary { shards: Vec::new(), runs: 0, passed: 0, panicked: 0, stuck: 0, ..first.clone() };
    merged.failed.clear();
    merged.nondeterministic.clear();
    merged.wall_seconds = 0.0;
    for (index, summary) in summaries.iter().enumerate() {
        if summary.scenarios != first.scenarios || summary.seeds != first.seeds {
            return Err(MergeError::DifferentSweeps { index, found: sweep_of(summary), expected: sweep_of(first) });
        }
        if summary.shards.is_empty() && summaries.len() > 1 {
            return Err(MergeError::Overlap { shard: "all".to_owned() });
        }
        for &shard in &summary.shards {
            if merged.shards.contains(&shard) {
                return Err(MergeError::Overlap { shard: format!("{}/{}", shard.0, shard.1) });
            }
            merged.shards.push(shard);
        }
        merged.runs += summary.runs;
        merged.passed += summary.passed;
        merged.panicked += summary.panicked;
        merged.stuck += summary.stuck;
        merged.failed.extend(summary.failed.iter().cloned());
        merged.nondeterministic.extend(summary.nondeterministic.iter().cloned());
        merged.wall_seconds = merged.wall_seconds.max(summary.wall_seconds);
    }
    merged.shards.sort_unstable();
    merged.failed.sort_by(|a, b| (&a.scenario, a.seed).cmp(&(&b.scenario, b.seed)));
    merged.nondeterministic.sort_by(|a, b| (&a.scenario, a.seed).cmp(&(&b.scenario, b.seed)));
    merged.seeds_per_second = merged.runs as f64 / merged.wall_seconds.max(1e-9);
    Ok(merged)
}

/// Shards `1..=count` missing from a merged summary (empty when it is whole).
pub fn missing_shards(summary: &SweepSummary) -> Vec<(u64, u64)> {
    let Some(&(_, count)) = summary.shards.first() else { return Vec::new() };
    (1..=count).map(|index| (index, count)).filter(|shard| !summary.shards.contains(shard)).collect()
}

enum Verdict {
    Passed,
    Failed(SweepFailure),
    Nondeterministic(Box<Nondeterminism>),
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
                    let (scenario, invocation) = &plan.scenarios[scenario];
                    let verdict = judge(scenario, invocation, seed, plan);
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
        scenarios: plan.scenarios.iter().map(|(s, _)| s.name.clone()).collect(),
        seeds: format!("{}..{}", plan.seeds.start, plan.seeds.end),
        shards: plan.shard.into_iter().collect(),
        runs: jobs.len(),
        passed: 0,
        failed: Vec::new(),
        panicked: 0,
        stuck: 0,
        nondeterministic: Vec::new(),
        wall_seconds: 0.0,
        seeds_per_second: 0.0,
    };
    // In job order, whatever order the threads finished in.
    for verdict in verdicts.into_iter().flatten() {
        match verdict {
            Verdict::Passed => summary.passed += 1,
            Verdict::Failed(failure) => {
                summary.panicked += usize::from(failure.kind == Some(FailureKind::Panic));
                summary.stuck += usize::from(failure.kind == Some(FailureKind::Stuck));
                summary.failed.push(failure);
            }
            Verdict::Nondeterministic(case) => summary.nondeterministic.push(*case),
        }
    }
    summary.wall_seconds = started.elapsed().as_secs_f64();
    summary.seeds_per_second = summary.runs as f64 / summary.wall_seconds.max(1e-9);
    summary
}

fn judge(scenario: &Scenario, invocation: &Invocation, seed: u64, plan: &SweepPlan) -> Verdict {
    let failure = |kind: Option<FailureKind>, reasons: Vec<String>| {
        Verdict::Failed(SweepFailure {
            scenario: scenario.name.clone(),
            seed,
            replay: invocation.replay(&scenario.name, seed),
            kind,
            reasons,
        })
    };
    let (first, first_outcome) = match run_scenario(scenario, seed, invocation, plan.budget) {
        Ok(run) => run,
        Err(error) => return failure(None, vec![error.to_string()]),
    };
    // A run that panicked or overran has nothing to compare: report it as it is.
    let comparable = !matches!(first.failure, Some(FailureKind::Panic | FailureKind::Stuck));
    if plan.check_determinism && comparable {
        match run_scenario(scenario, seed, invocation, plan.budget) {
            Ok((second, second_outcome)) if second.trace_hash != first.trace_hash => {
                let divergence = first_divergence(&first_outcome.trace.events(), &second_outcome.trace.events());
                return Verdict::Nondeterministic(Box::new(Nondeterminism {
                    scenario: scenario.name.clone(),
                    seed,
                    divergence,
                }));
            }
            Ok(_) => {}
            Err(error) => return failure(None, vec![error.to_string()]),
        }
    }
    if first.passed { Verdict::Passed } else { failure(first.failure, first.violations) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(shard: Option<(u64, u64)>) -> SweepPlan {
        SweepPlan {
            scenarios: vec![],
            seeds: 0..10,
            jobs: 1,
            shard,
            check_determinism: false,
            budget: RunBudget::default(),
        }
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
