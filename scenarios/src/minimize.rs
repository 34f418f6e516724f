//! Shrinking a failing seed to its smallest reproduction.
//!
//! The seed stays; the scenario shrinks. Swarm faults are first written out as the
//! explicit faults they expand to (the same run), then, while the same invariant (or
//! expectation) still fails: faults are dropped one at a time, the survivors' durations
//! halved, the workload halved (generation is prefix-stable: fewer tasks are the first
//! tasks), and the fault phase cut to the last fault's end.

use serde::{Deserialize, Serialize};

use quorum_sim::{ClusterError, FaultPlan, RunBudget};

use crate::runner::{Invocation, run_scenario};
use crate::scenario::{FailureKind, Scenario};

/// Most runs one minimisation may take.
pub const MINIMIZE_RUNS_MAX: usize = 400;
/// Shortest fault duration tried.
const DURATION_MS_MIN: u64 = 100;

/// The smallest reproduction found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Minimized {
    /// The reduced scenario (fails at the same seed, the same way).
    pub scenario: Scenario,
    /// How it fails.
    pub failure: FailureKind,
    /// Runs taken.
    pub runs: usize,
}

/// Why there is nothing to minimise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MinimizeError {
    /// The seed passes.
    #[error("seed {seed} of {scenario} passes: nothing to minimise")]
    Passes {
        /// Scenario.
        scenario: String,
        /// Seed.
        seed: u64,
    },
    /// The scenario cannot run.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

struct Shrinker {
    seed: u64,
    target: FailureKind,
    runs: usize,
    budget: RunBudget,
}

impl Shrinker {
    /// Whether `candidate` still fails the same way (false once out of runs).
    fn still_fails(&mut self, candidate: &Scenario) -> bool {
        if self.runs >= MINIMIZE_RUNS_MAX {
            return false;
        }
        self.runs += 1;
        run_scenario(candidate, self.seed, &Invocation::catalogue(), self.budget)
            .is_ok_and(|(run, _)| run.failure.as_ref() == Some(&self.target))
    }
}

/// Minimises `scenario` at `seed`.
///
/// # Errors
/// [`MinimizeError::Passes`] when the seed does not fail.
pub fn minimize(scenario: &Scenario, seed: u64, budget: RunBudget) -> Result<Minimized, MinimizeError> {
    let (first, _) = run_scenario(scenario, seed, &Invocation::catalogue(), budget)?;
    let Some(target) = first.failure else {
        return Err(MinimizeError::Passes { scenario: scenario.name.clone(), seed });
    };
    let mut shrinker = Shrinker { seed, target, runs: 1, budget };
    let mut best = scenario.clone();
    best.name = format!("{}-seed-{seed}-min", scenario.name);
    let explicit = best.cluster.expanded_faults(seed);
    best.cluster.faults = FaultPlan { faults: explicit, swarm: None };

    drop_faults(&mut best, &mut shrinker);
    shorten_faults(&mut best, &mut shrinker);
    halve_tasks(&mut best, &mut shrinker);
    let last_fault_end = best.cluster.faults.faults.iter().map(|f| f.at_ms + f.duration_ms).max().unwrap_or(0);
    if last_fault_end < best.cluster.fault_phase_ms {
        let mut candidate = best.clone();
        candidate.cluster.fault_phase_ms = last_fault_end.max(1);
        if shrinker.still_fails(&candidate) {
            best = candidate;
        }
    }
    best.description = format!("minimised from {} at seed {seed}: fails with {}", scenario.name, shrinker.target);
    Ok(Minimized { scenario: best, failure: shrinker.target, runs: shrinker.runs })
}

fn drop_faults(best: &mut Scenario, shrinker: &mut Shrinker) {
    let mut index = best.cluster.faults.faults.len();
    while index > 0 {
        index -= 1;
        let mut candidate = best.clone();
        candidate.cluster.faults.faults.remove(index);
        if shrinker.still_fails(&candidate) {
            *best = candidate;
        }
    }
}

fn shorten_faults(best: &mut Scenario, shrinker: &mut Shrinker) {
    for index in 0..best.cluster.faults.faults.len() {
        while best.cluster.faults.faults[index].duration_ms / 2 >= DURATION_MS_MIN {
            let mut candidate = best.clone();
            candidate.cluster.faults.faults[index].duration_ms /= 2;
            if !shrinker.still_fails(&candidate) {
                break;
            }
            *best = candidate;
        }
    }
}

fn halve_tasks(best: &mut Scenario, shrinker: &mut Shrinker) {
    while best.cluster.workload.tasks > 1 {
        let mut candidate = best.clone();
        candidate.cluster.workload.tasks /= 2;
        if !shrinker.still_fails(&candidate) {
            break;
        }
        *best = candidate;
    }
}
