//! What a run measured (not invariants: numbers for humans and sweeps).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use quorum_core::consensus::{ConsensusConfig, Strategy, answers_match};
use quorum_core::mock::workload::{TRUTH_TOLERANCE_RELATIVE, Truth, TruthBook};
use quorum_core::{Outcome, TaskId};

use crate::client::ClientRecord;
use crate::trace::{Happening, TraceEvent};

/// The numbers of one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Tasks submitted.
    pub tasks: usize,
    /// Tasks agreed.
    pub agreed: usize,
    /// Tasks that ended without consensus.
    pub no_consensus: usize,
    /// Tasks that failed.
    pub failed: usize,
    /// Agreed tasks whose answer matches the ground truth.
    pub correct: usize,
    /// `correct / agreed`; `None` when nothing was agreed (not measurable, which
    /// fails any expectation about it).
    pub accuracy: Option<f64>,
    /// `no_consensus / tasks`.
    pub no_consensus_rate: f64,
    /// LLM calls made by every worker, failed and retried ones included.
    pub llm_calls: u64,
    /// `llm_calls / tasks`.
    pub llm_calls_per_task: f64,
    /// Tokens (prompt and completion) of the answers counted, per task.
    pub tokens_per_task: f64,
    /// Submission attempts beyond the first: retries while the supervisor was
    /// unreachable, and resubmissions after it restarted and forgot a task.
    pub resubmissions: u64,
    /// Submission-to-result latency percentiles as the supervisor measured them,
    /// simulated ms (a task resubmitted after a supervisor restart counts from its
    /// last submission).
    pub latency_ms_p50: u64,
    /// 90th percentile.
    pub latency_ms_p90: u64,
    /// 99th percentile.
    pub latency_ms_p99: u64,
    /// Simulated time the run took.
    pub sim_ms: u64,
    /// Most workers switched on at once (scaling); 0 in P2P mode, which has agents.
    pub workers_peak: usize,
    /// Fewest workers switched on after that peak.
    pub workers_after_peak_min: usize,
    /// Workers switched on at the end.
    pub workers_final: usize,
    /// The supervisor's counters (`SupervisorStats`: rejections at its boundary,
    /// repeats, equivocations, rounds) that moved, summed over its incarnations.
    #[serde(default)]
    pub supervisor_counters: BTreeMap<String, u64>,
    /// P2P mode's numbers: views, proposals, votes, commits, refusals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p2p: Option<Box<crate::p2p::P2pReport>>,
}

/// Peak, fewest-after-peak and final counts of active workers, from the scaler's
/// scale-up (started hosts) and scale-down (one host) trace events.
pub(crate) fn worker_counts(events: &[TraceEvent], initial: usize) -> (usize, usize, usize) {
    let mut active = initial;
    let (mut peak, mut after_peak_min) = (initial, initial);
    for event in events {
        match &event.what {
            Happening::ScaleUp { started } => active += started.len(),
            Happening::ScaleDown { .. } => active = active.saturating_sub(1),
            _ => continue,
        }
        if active > peak {
            peak = active;
            after_peak_min = active;
        }
        after_peak_min = after_peak_min.min(active);
    }
    (peak, after_peak_min, active)
}

/// Whether `answer` is right for `truth`, judged by the workload's own matching:
/// the strategy the task was made for, numbers within [`TRUTH_TOLERANCE_RELATIVE`],
/// default similarity. Never the plan's or the supervisor's settings, so the system
/// does not grade itself.
///
/// A semantic answer that quotes a sentence the workload knows (a right phrasing, a
/// wrong answer, a contradiction) is judged by it ([`Truth::known_verdict`]): a
/// similarity score would rate "X is not Y" right for "X is Y". Numbers and short
/// answers are read by core's `answers_match` (the numeric and exact extraction of
/// the engine: `final_number` and `exact_key`), so messy right answers ("5/8",
/// "Answer: C++") are judged right exactly when that reading understands their form.
pub fn is_correct(answer: &str, truth: &Truth) -> bool {
    let base = ConsensusConfig::default();
    match truth {
        Truth::Semantic { phrasings, .. } => {
            if let Some(right) = truth.known_verdict(answer) {
                return right;
            }
            let config = ConsensusConfig { strategy: Strategy::Semantic, ..base };
            phrasings.iter().any(|p| answers_match(answer, p, &config))
        }
        Truth::Numeric { .. } => {
            let config = ConsensusConfig {
                strategy: Strategy::Numeric,
                tolerance_absolute: TRUTH_TOLERANCE_RELATIVE,
                tolerance_relative: TRUTH_TOLERANCE_RELATIVE,
                ..base
            };
            answers_match(answer, &truth.canonical(), &config)
        }
        Truth::Exact { .. } => {
            answers_match(answer, &truth.canonical(), &ConsensusConfig { strategy: Strategy::Exact, ..base })
        }
    }
}

/// Builds the report from what the client holds.
pub(crate) fn build_report(
    records: &BTreeMap<TaskId, ClientRecord>,
    texts: &BTreeMap<TaskId, String>,
    truths: &TruthBook,
    llm_calls: u64,
    sim_ms: u64,
) -> RunReport {
    let mut report = RunReport { tasks: texts.len(), llm_calls, sim_ms, ..RunReport::default() };
    let mut latencies = Vec::new();
    let mut tokens = 0u64;
    for (task, record) in records {
        report.resubmissions += u64::from(record.submissions.saturating_sub(1));
        let Some(result) = &record.result else { continue };
        // The supervisor's own clock: submission to result, without the client's
        // polling delay.
        latencies.push(result.latency_ms());
        tokens += result.metadata.prompt_tokens + result.metadata.completion_tokens;
        match &result.outcome {
            Outcome::Agreed { answer, .. } => {
                report.agreed += 1;
                let truth = texts.get(task).and_then(|text| truths.get(text));
                if truth.is_some_and(|truth| is_correct(answer, truth)) {
                    report.correct += 1;
                }
            }
            Outcome::NoConsensus { .. } => report.no_consensus += 1,
            Outcome::Failed { .. } => report.failed += 1,
        }
    }
    let tasks = report.tasks.max(1) as f64;
    report.accuracy = (report.agreed > 0).then(|| report.correct as f64 / report.agreed as f64);
    report.no_consensus_rate = report.no_consensus as f64 / tasks;
    report.llm_calls_per_task = llm_calls as f64 / tasks;
    report.tokens_per_task = tokens as f64 / tasks;
    latencies.sort_unstable();
    let percentile = |p: usize| {
        latencies.get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1))).copied().unwrap_or(0)
    };
    report.latency_ms_p50 = percentile(50);
    report.latency_ms_p90 = percentile(90);
    report.latency_ms_p99 = percentile(99);
    report
}
