//! [`LiveFaultPlan`]: a scenario's faults as a live run can inject them for real,
//! and the rest of what a simulation would do, named as not applicable.
//!
//! The schedule keeps its place relative to the workload: a live run of N of a
//! scenario's M tasks plays every fault at `time_scale` = (arrival span of the N
//! tasks) / (arrival span of the M) of its simulated start and duration; a run of
//! the whole workload plays it in real time.

use serde::Serialize;

use quorum_core::mock::LlmProfile;
use quorum_sim::{ClusterConfig, Fault, FaultKind, SUPERVISOR_HOST};

use crate::link_cuts::Cut;

/// What a live run does for one fault.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum LiveAction {
    /// `kill -9` the worker's process at the start; start it again at the end.
    KillAndRestart {
        /// The worker.
        worker: String,
    },
    /// Cut the supervisor's links to these workers for the window.
    CutLinks {
        /// The workers.
        workers: Vec<String>,
        /// Which way.
        cut: Cut,
    },
}

/// One fault to inject, at live times.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LiveFault {
    /// The fault as the scenario schedules it (simulated ms).
    pub fault: Fault,
    /// Its live start and end, ms after the run's start.
    pub at_ms: u64,
    /// Its live end.
    pub end_ms: u64,
    /// What to do.
    pub action: LiveAction,
}

/// Something of the scenario a live run does not do, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotApplicable {
    /// What: a fault kind with its hosts and simulated time, or a worker's profile.
    pub name: String,
    /// Why it is not done live.
    pub reason: &'static str,
}

/// The faults a live run injects and what it leaves out.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct LiveFaultPlan {
    /// Live ms per simulated ms of the schedule.
    pub time_scale: f64,
    /// Faults to inject, by start.
    pub faults: Vec<LiveFault>,
    /// What is left out.
    pub not_applicable: Vec<NotApplicable>,
}

const SUPERVISOR_CRASH: &str = "the supervisor runs inside this command: killing it would end the run (its crash \
                                and recovery run in simulation)";
const NO_SUPERVISOR_LINK: &str =
    "it cuts no link of the supervisor's gRPC client to a worker (the fault layer sits there alone)";
const LATENCY: &str = "latency is not injected into the real network";
const STORM: &str = "the live model's errors are its own: nothing makes it fail on purpose";
const SPARE: &str = "spare workers are not started live (no process scaling)";
const PROFILE: &str = "the live model answers as itself, not as the scenario's mock profile";

impl LiveFaultPlan {
    /// The plan for `cluster` (overrides applied) at `seed`, whose schedule was
    /// written for a workload spanning `scenario_span_ms`.
    pub(crate) fn new(cluster: &ClusterConfig, seed: u64, scenario_span_ms: u64) -> Self {
        let live_span_ms = cluster.workload.last_arrival_ms();
        let time_scale = (live_span_ms.max(1) as f64 / scenario_span_ms.max(1) as f64).min(1.0);
        let active: Vec<&str> = cluster.workers.iter().map(|worker| worker.name.as_str()).collect();
        let mut plan = Self { time_scale, ..Self::default() };
        for fault in cluster.expanded_faults(seed) {
            // Faults end with the fault phase, as in simulation.
            let end_sim_ms = fault.at_ms.saturating_add(fault.duration_ms).min(cluster.fault_phase_ms);
            match action(&fault.kind, &active) {
                Ok(action) => plan.faults.push(LiveFault {
                    at_ms: scale(fault.at_ms, time_scale),
                    end_ms: scale(end_sim_ms, time_scale),
                    fault,
                    action,
                }),
                Err(reason) => plan.not_applicable.push(NotApplicable { name: fault_name(&fault), reason }),
            }
        }
        plan.faults.sort_by_key(|fault| fault.at_ms);
        plan.not_applicable.extend(profiles(cluster));
        plan
    }
}

fn scale(ms: u64, time_scale: f64) -> u64 {
    (ms as f64 * time_scale).round() as u64
}

/// `crash w1 at 3000 ms for 20000 ms`.
pub(crate) fn fault_name(fault: &Fault) -> String {
    let hosts = match &fault.kind {
        FaultKind::Partition { left, right } | FaultKind::Hold { left, right } => {
            format!("{} | {}", left.join(","), right.join(","))
        }
        FaultKind::Latency { left, right, latency_ms } => {
            format!("{} | {} to {latency_ms} ms", left.join(","), right.join(","))
        }
        FaultKind::PartitionOneWay { from, to } => format!("{} -> {}", from.join(","), to.join(",")),
        FaultKind::Crash { host } => host.clone(),
        FaultKind::LlmStorm { error_rate } => format!("error rate {error_rate}"),
    };
    format!("{} {hosts} at {} ms for {} ms", fault.kind.name(), fault.at_ms, fault.duration_ms)
}

/// What a live run does for `kind`, or why it does nothing.
fn action(kind: &FaultKind, active: &[&str]) -> Result<LiveAction, &'static str> {
    let workers = |hosts: &[String]| -> Vec<String> {
        hosts.iter().filter(|host| active.contains(&host.as_str())).cloned().collect()
    };
    let has_supervisor = |hosts: &[String]| hosts.iter().any(|host| host == SUPERVISOR_HOST);
    let cut = |workers: Vec<String>, cut| {
        if workers.is_empty() { Err(NO_SUPERVISOR_LINK) } else { Ok(LiveAction::CutLinks { workers, cut }) }
    };
    match kind {
        FaultKind::Crash { host } if host == SUPERVISOR_HOST => Err(SUPERVISOR_CRASH),
        FaultKind::Crash { host } if active.contains(&host.as_str()) => {
            Ok(LiveAction::KillAndRestart { worker: host.clone() })
        }
        FaultKind::Crash { .. } => Err(SPARE),
        FaultKind::Partition { left, right } | FaultKind::Hold { left, right } => {
            let how = if matches!(kind, FaultKind::Hold { .. }) { Cut::Hold } else { Cut::Both };
            match (has_supervisor(left), has_supervisor(right)) {
                (true, false) => cut(workers(right), how),
                (false, true) => cut(workers(left), how),
                _ => Err(NO_SUPERVISOR_LINK),
            }
        }
        FaultKind::PartitionOneWay { from, to } => match (has_supervisor(from), has_supervisor(to)) {
            (true, false) => cut(workers(to), Cut::Requests),
            (false, true) => cut(workers(from), Cut::Replies),
            _ => Err(NO_SUPERVISOR_LINK),
        },
        FaultKind::Latency { .. } => Err(LATENCY),
        FaultKind::LlmStorm { .. } => Err(STORM),
    }
}

/// The workers' mock profiles, twins and spares: simulation only.
fn profiles(cluster: &ClusterConfig) -> Vec<NotApplicable> {
    let mut left_out = Vec::new();
    let mut mocked = Vec::new();
    for worker in &cluster.workers {
        if let Some(byzantine) = &worker.profile.byzantine {
            let kind = serde_json::to_value(byzantine).ok().map_or_else(String::new, |value| value.to_string());
            left_out
                .push(NotApplicable { name: format!("byzantine profile {kind} of {}", worker.name), reason: PROFILE });
        } else if worker.profile != LlmProfile::default() {
            mocked.push(worker.name.as_str());
        }
        if worker.twin {
            left_out.push(NotApplicable {
                name: format!("twin of {}", worker.name),
                reason: "no second process is started under a worker's id",
            });
        }
    }
    if !mocked.is_empty() {
        left_out.push(NotApplicable { name: format!("mock profiles of {}", mocked.join(", ")), reason: PROFILE });
    }
    if !cluster.spares.is_empty() {
        left_out.push(NotApplicable { name: format!("{} spare worker(s)", cluster.spares.len()), reason: SPARE });
    }
    if cluster.entailment {
        left_out.push(NotApplicable {
            name: "entailment judge".to_owned(),
            reason: "the judge is the mock that knows the workload's truths: simulation only",
        });
    }
    left_out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(name: &str, tasks: Option<usize>) -> LiveFaultPlan {
        let mut scenario = crate::find(name).unwrap();
        let span = scenario.cluster.workload.last_arrival_ms();
        if let Some(tasks) = tasks {
            scenario.cluster.workload.tasks = tasks;
        }
        LiveFaultPlan::new(&scenario.cluster, 1, span)
    }

    #[test]
    fn a_worker_crash_is_a_kill_and_restart_scaled_with_the_workload() {
        let whole = plan("worker-crash", None);
        assert_eq!(whole.time_scale, 1.0);
        assert_eq!((whole.faults[0].at_ms, whole.faults[0].end_ms), (3_000, 23_000));
        let short = plan("worker-crash", Some(3));
        // 3 tasks span 1 s of the 28 s the scenario's 57 tasks span.
        assert_eq!(short.faults.len(), 1);
        assert_eq!(short.faults[0].action, LiveAction::KillAndRestart { worker: "w1".to_owned() });
        assert_eq!((short.faults[0].at_ms, short.faults[0].end_ms), (107, 821));
    }

    #[test]
    fn partitions_cut_links_and_what_cannot_be_done_live_is_named() {
        let partition = plan("partition-minority", None);
        let workers = vec!["w1".to_owned(), "w2".to_owned()];
        assert_eq!(partition.faults[0].action, LiveAction::CutLinks { workers: workers.clone(), cut: Cut::Both });
        let one_way = plan("one-way-partition", None);
        assert_eq!(one_way.faults[0].action, LiveAction::CutLinks { workers, cut: Cut::Replies });
        let supervisor = plan("supervisor-crash", None);
        assert!(supervisor.faults.is_empty());
        assert!(supervisor.not_applicable[0].name.starts_with("crash supervisor at 4000 ms"), "{supervisor:?}");
        let storm = plan("rate-limit-storm", None);
        assert!(storm.not_applicable.iter().any(|left_out| left_out.name.starts_with("llm_storm")), "{storm:?}");
        let byzantine = plan("byzantine-minority", None);
        assert!(byzantine.not_applicable.iter().any(|left_out| left_out.name.contains("byzantine profile")));
        let twin = plan("twin-worker", None);
        assert!(twin.not_applicable.iter().any(|left_out| left_out.name == "twin of w3"), "{twin:?}");
    }
}
