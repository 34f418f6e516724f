//! A scenario: a named, described cluster with what it expects beyond the invariants.

use serde::{Deserialize, Serialize};

use quorum_sim::{ClusterConfig, Invariant, RunOutcome};

/// What a scenario expects of every seed, on top of the invariants that every run
/// keeps. Every field is optional; an empty table expects nothing more.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Expectations {
    /// Every task agreed.
    pub all_agreed: bool,
    /// Every agreed answer is right: disagreement ends as no-consensus, never as a
    /// wrong answer.
    pub no_wrong_answers: bool,
    /// Share of agreed tasks answered right, at least.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy_min: Option<f64>,
    /// Share of agreed tasks answered right, at most (to document a limit, such as
    /// a colluding majority).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy_max: Option<f64>,
    /// Share of tasks ending without consensus, at least.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_consensus_min: Option<f64>,
    /// Tasks that may fail, at most.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_max: Option<usize>,
    /// Most workers on at once, at least (scaling up happened).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers_peak_min: Option<usize>,
    /// Fewest workers on after the peak, at most (scaling down happened).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers_released_to: Option<usize>,
    /// Results in which a twin was caught, at least.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twins_caught_min: Option<usize>,
}

/// An expectation a run did not meet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectationFailure {
    /// The expectation's field name.
    pub expectation: String,
    /// What the run did instead.
    pub detail: String,
}

impl core::fmt::Display for ExpectationFailure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "expectation {}: {}", self.expectation, self.detail)
    }
}

impl Expectations {
    /// Every expectation `outcome` does not meet.
    pub fn check(&self, outcome: &RunOutcome) -> Vec<ExpectationFailure> {
        let report = &outcome.report;
        let mut failures = Vec::new();
        let mut fail = |expectation: &str, detail: String| {
            failures.push(ExpectationFailure { expectation: expectation.to_owned(), detail })
        };
        if self.all_agreed && report.agreed != report.tasks {
            fail("all_agreed", format!("{} of {} tasks agreed", report.agreed, report.tasks));
        }
        if self.no_wrong_answers && report.correct != report.agreed {
            fail(
                "no_wrong_answers",
                format!("{} of {} agreed answers are wrong", report.agreed - report.correct, report.agreed),
            );
        }
        if let Some(min) = self.accuracy_min
            && report.accuracy < min
        {
            fail("accuracy_min", format!("accuracy {:.3} < {min}", report.accuracy));
        }
        if let Some(max) = self.accuracy_max
            && report.accuracy > max
        {
            fail("accuracy_max", format!("accuracy {:.3} > {max}", report.accuracy));
        }
        if let Some(min) = self.no_consensus_min
            && report.no_consensus_rate < min
        {
            fail("no_consensus_min", format!("no-consensus rate {:.3} < {min}", report.no_consensus_rate));
        }
        if let Some(max) = self.failed_max
            && report.failed > max
        {
            fail("failed_max", format!("{} tasks failed > {max}", report.failed));
        }
        if let Some(min) = self.workers_peak_min
            && report.workers_peak < min
        {
            fail("workers_peak_min", format!("peak {} workers < {min}", report.workers_peak));
        }
        if let Some(max) = self.workers_released_to
            && report.workers_after_peak_min > max
        {
            fail(
                "workers_released_to",
                format!("never fewer than {} workers after the peak > {max}", report.workers_after_peak_min),
            );
        }
        if let Some(min) = self.twins_caught_min {
            let caught = twins_caught(outcome);
            if caught < min {
                fail("twins_caught_min", format!("twin caught in {caught} results < {min}"));
            }
        }
        failures
    }
}

/// Results in which some worker was excluded as equivocating.
pub fn twins_caught(outcome: &RunOutcome) -> usize {
    outcome
        .results
        .values()
        .filter_map(|r| r.result.as_ref())
        .filter(|r| {
            r.metadata.excluded.iter().any(|e| e.reason == quorum_core::consensus::ExclusionReason::Equivocated)
        })
        .count()
}

/// A named, seeded-run recipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Short name, used on the command line.
    pub name: String,
    /// One line saying what it shows.
    pub description: String,
    /// The cluster, workload and faults.
    pub cluster: ClusterConfig,
    /// What it expects beyond the invariants.
    pub expect: Expectations,
}

/// Why a run did not pass: the first broken invariant, else the first unmet
/// expectation. Minimisation keeps this fixed while it shrinks a scenario.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum FailureKind {
    /// An invariant.
    Invariant(Invariant),
    /// An expectation (its field name).
    Expectation(String),
}

impl core::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Invariant(invariant) => write!(f, "invariant {}", invariant.as_str()),
            Self::Expectation(name) => write!(f, "expectation {name}"),
        }
    }
}
