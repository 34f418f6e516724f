//! A scenario: a named, described cluster with what it expects beyond the invariants.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use quorum_core::SupervisorStats;
use quorum_sim::{ClusterConfig, FaultKind, Happening, Invariant, Reply, RunOutcome};

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
    /// Every fault of the plan started and ended (heals, restarts, storm ends)
    /// before the run ended, and the run went on for its settle time after the last.
    #[serde(skip_serializing_if = "core::ops::Not::not")]
    pub faults_played_out: bool,
    /// Workers hit by a fault (crashed, cut off, held, slowed) that worked for the
    /// supervisor again after their last fault ended, at least: recovery happened.
    /// Working means answering a task, or acknowledging the cancel of one it was
    /// given (an early stop settled the task before its answer came).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered_workers_min: Option<usize>,
    /// The supervisor's counters (summed over its incarnations), each at least the
    /// given count: `counters_min = { rejected_too_long = 1 }` proves a rejection
    /// happened. Names are the fields of `quorum_core::SupervisorStats`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub counters_min: BTreeMap<String, u64>,
    /// P2P mode: the agents' counters (summed over agents and restarts), each at
    /// least the given count: refusals as `refused_<kind>` (`refused_already_voted`,
    /// `refused_bad_signature`, ...) and byzantine acts as `byzantine_equivocations`,
    /// `byzantine_votes`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub p2p_counters_min: BTreeMap<String, u64>,
    /// P2P mode: tasks delegated into subtasks, at least.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegated_min: Option<usize>,
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
        // Over an empty set an expectation is not measurable, and fails: a run where
        // nothing agreed has shown nothing about wrong answers or accuracy.
        const NOT_MEASURABLE: &str = "not measurable: no task agreed";
        if self.no_wrong_answers {
            if report.agreed == 0 {
                fail("no_wrong_answers", NOT_MEASURABLE.to_owned());
            } else if report.correct != report.agreed {
                fail(
                    "no_wrong_answers",
                    format!("{} of {} agreed answers are wrong", report.agreed - report.correct, report.agreed),
                );
            }
        }
        if let Some(min) = self.accuracy_min {
            match report.accuracy {
                None => fail("accuracy_min", NOT_MEASURABLE.to_owned()),
                Some(accuracy) if accuracy < min => fail("accuracy_min", format!("accuracy {accuracy:.3} < {min}")),
                Some(_) => {}
            }
        }
        if let Some(max) = self.accuracy_max {
            match report.accuracy {
                None => fail("accuracy_max", NOT_MEASURABLE.to_owned()),
                Some(accuracy) if accuracy > max => fail("accuracy_max", format!("accuracy {accuracy:.3} > {max}")),
                Some(_) => {}
            }
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
        if self.faults_played_out
            && let Some(problem) = faults_not_played_out(outcome)
        {
            fail("faults_played_out", problem);
        }
        for (name, min) in &self.counters_min {
            let count = report.supervisor_counters.get(name).copied().unwrap_or(0);
            if count < *min {
                fail("counters_min", format!("supervisor counter {name} = {count} < {min}"));
            }
        }
        let p2p = report.p2p.clone().unwrap_or_default();
        for (name, min) in &self.p2p_counters_min {
            let count = p2p.counters.get(name).copied().unwrap_or(0);
            if count < *min {
                fail("p2p_counters_min", format!("agent counter {name} = {count} < {min}"));
            }
        }
        if let Some(min) = self.delegated_min
            && p2p.delegated < min
        {
            fail("delegated_min", format!("{} tasks delegated < {min}", p2p.delegated));
        }
        if let Some(min) = self.recovered_workers_min {
            let recovered = recovered_workers(outcome);
            if recovered.len() < min {
                fail(
                    "recovered_workers_min",
                    format!("{} worker(s) answered after their faults ended < {min}", recovered.len()),
                );
            }
        }
        failures
    }

    /// Checks the numbers: shares and accuracies finite and in `0..=1`.
    ///
    /// # Errors
    /// The field and what is wrong.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let shares = [
            ("accuracy_min", self.accuracy_min),
            ("accuracy_max", self.accuracy_max),
            ("no_consensus_min", self.no_consensus_min),
        ];
        for (field, value) in shares {
            if let Some(value) = value
                && !(value.is_finite() && (0.0..=1.0).contains(&value))
            {
                return Err((format!("expect.{field}"), format!("{value} is not a share in 0..=1")));
            }
        }
        let known = SupervisorStats::default().counters();
        if let Some(name) = self.counters_min.keys().find(|name| !known.contains_key(*name)) {
            let names: Vec<&str> = known.keys().map(String::as_str).collect();
            return Err((
                format!("expect.counters_min.{name}"),
                format!("no such supervisor counter (known: {})", names.join(", ")),
            ));
        }
        if let Some(name) =
            self.p2p_counters_min.keys().find(|name| !name.starts_with("refused_") && !name.starts_with("byzantine_"))
        {
            return Err((
                format!("expect.p2p_counters_min.{name}"),
                "agent counters are named refused_<kind> or byzantine_<act>".to_owned(),
            ));
        }
        Ok(())
    }
}

/// The fault events of a run's trace: `(at_ms, starts, kind)`.
fn fault_events(outcome: &RunOutcome) -> Vec<(u64, bool, FaultKind)> {
    outcome
        .trace
        .events()
        .into_iter()
        .filter_map(|e| match e.what {
            Happening::Fault { start, fault } => Some((e.at_ms, start, fault)),
            _ => None,
        })
        .collect()
}

/// Why the fault plan did not play out in full, if it did not.
fn faults_not_played_out(outcome: &RunOutcome) -> Option<String> {
    let events = fault_events(outcome);
    let starts = events.iter().filter(|(_, start, _)| *start).count();
    let ends = events.len() - starts;
    if starts == 0 {
        return Some("no fault happened".to_owned());
    }
    if ends < starts {
        return Some(format!("{} of {starts} faults never ended before the run did", starts - ends));
    }
    let last_end = events.iter().map(|(at, _, _)| *at).max().unwrap_or(0);
    (outcome.report.sim_ms <= last_end).then(|| {
        format!("the run ended at {} ms, not after the last fault ended at {last_end} ms", outcome.report.sim_ms)
    })
}

/// Workers named by a fault that worked for the supervisor after their last fault
/// ended: it heard an answer from them, or their acknowledgement of a cancelled task
/// (heartbeats do not count: a worker must have been given work again).
pub fn recovered_workers(outcome: &RunOutcome) -> Vec<String> {
    let mut last_end: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for (at_ms, start, kind) in fault_events(outcome) {
        for host in fault_hosts(&kind) {
            let entry = last_end.entry(host).or_insert(0);
            if !start {
                *entry = (*entry).max(at_ms);
            }
        }
    }
    let events = outcome.trace.events();
    last_end
        .into_iter()
        .filter(|(host, end)| {
            events.iter().any(|e| {
                e.host == quorum_sim::SUPERVISOR_HOST
                    && e.at_ms > *end
                    && matches!(&e.what, Happening::Recv { from, reply: Reply::Answer { .. } | Reply::Cancelled } if from.as_str() == host)
            })
        })
        .map(|(host, _)| host)
        .collect()
}

fn fault_hosts(kind: &FaultKind) -> Vec<String> {
    match kind {
        FaultKind::Partition { left, right }
        | FaultKind::Hold { left, right }
        | FaultKind::Latency { left, right, .. } => left.iter().chain(right).cloned().collect(),
        FaultKind::PartitionOneWay { from, to } => from.iter().chain(to).cloned().collect(),
        FaultKind::Crash { host } => vec![host.clone()],
        FaultKind::LlmStorm { .. } => Vec::new(),
    }
    .into_iter()
    .filter(|host| host != quorum_sim::SUPERVISOR_HOST && host != quorum_sim::CLIENT_HOST)
    .collect()
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

/// Why a run did not pass: a panic or overrun first, else the first broken
/// invariant, else the first unmet expectation. Minimisation keeps this fixed while
/// it shrinks a scenario.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum FailureKind {
    /// Code panicked during the run.
    Panic,
    /// The run overran its step or wall-clock budget.
    Stuck,
    /// An invariant.
    Invariant(Invariant),
    /// An expectation (its field name).
    Expectation(String),
}

impl FailureKind {
    /// The kind of a broken invariant.
    pub fn of(invariant: Invariant) -> Self {
        match invariant {
            Invariant::Panic => Self::Panic,
            Invariant::Stuck => Self::Stuck,
            other => Self::Invariant(other),
        }
    }
}

impl core::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Panic => f.write_str("panic"),
            Self::Stuck => f.write_str("stuck"),
            Self::Invariant(invariant) => write!(f, "invariant {}", invariant.as_str()),
            Self::Expectation(name) => write!(f, "expectation {name}"),
        }
    }
}
