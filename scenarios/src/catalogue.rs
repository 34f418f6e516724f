//! The built-in scenarios.
//!
//! Each is a function returning a [`Scenario`]; [`catalogue`] lists them in order.
//! Expectations are set to hold for every seed (the CI sweep runs hundreds per
//! scenario), not just the lucky ones.

use std::collections::BTreeMap;

use quorum_core::mock::workload::{Arrival, QuestionBank};
use quorum_sim::{
    AnswerStyle, Byzantine, ClusterConfig, ConfidenceBehaviour, FailureRates, Fault, FaultKind, LatencyProfile,
    LlmProfile, MistakeStyle, Swarm, honest_workers, named_workers,
};

use crate::scenario::{Expectations, Scenario};

/// Every built-in scenario, in catalogue order.
pub fn catalogue() -> Vec<Scenario> {
    vec![
        baseline(),
        partition_minority(),
        partition_majority(),
        one_way_partition(),
        worker_crash(),
        rolling_restarts(),
        supervisor_crash(),
        supervisor_crash_durable(),
        crash_loop(),
        latency_stragglers(),
        rate_limit_storm(),
        garbage_answers(),
        rate_limit_storm_wide(),
        garbage_answers_wide(),
        byzantine_minority(),
        twin_worker(),
        hostile_workers(),
        colluding_majority(),
        split_vote(),
        hard_answers(),
        burst_scaling(),
        swarm(),
    ]
    .into_iter()
    .chain(crate::p2p_catalogue::p2p_catalogue())
    .collect()
}

/// The built-in scenario called `name`.
pub fn find(name: &str) -> Option<Scenario> {
    catalogue().into_iter().find(|s| s.name == name)
}

fn scenario(name: &str, description: &str, cluster: ClusterConfig, expect: Expectations) -> Scenario {
    Scenario { name: name.to_owned(), description: description.to_owned(), cluster, expect }
}

fn hosts(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn fault(at_ms: u64, duration_ms: u64, kind: FaultKind) -> Fault {
    Fault { at_ms, duration_ms, kind }
}

/// Faults end by 30 s; the liveness phase follows.
fn cluster() -> ClusterConfig {
    ClusterConfig { fault_phase_ms: 30_000, ..ClusterConfig::default() }
}

/// A cluster whose tasks keep arriving (one every 500 ms) until `until_ms`, so that
/// work is still coming in when its faults end and recovery is exercised.
fn cluster_until(until_ms: u64) -> ClusterConfig {
    let mut cluster = cluster();
    cluster.workload.tasks = (until_ms / 500) as usize + 1;
    cluster
}

/// Expectations of a scenario with scheduled faults: healthy, every fault played
/// out, and at least `recovered` of the workers it hit answered again afterwards.
fn healthy_after_faults(recovered: usize) -> Expectations {
    Expectations { faults_played_out: true, recovered_workers_min: (recovered > 0).then_some(recovered), ..healthy() }
}

/// Panels of every worker, so that a minority of the pool is a minority of each vote.
pub fn full_panels(mut cluster: ClusterConfig) -> ClusterConfig {
    let count = cluster.workers.len();
    cluster.supervisor.analysis.workers_min = count;
    cluster.supervisor.analysis.workers_max = count;
    cluster
}

/// Right answers unless said otherwise: expectations should not fail because an
/// honest model made an honest mistake on some seed.
fn reliable() -> LlmProfile {
    LlmProfile { accuracy: 0.97, ..LlmProfile::default() }
}

fn healthy() -> Expectations {
    Expectations { failed_max: Some(0), accuracy_min: Some(0.8), ..Expectations::default() }
}

fn baseline() -> Scenario {
    let mut cluster = cluster();
    cluster.workers = honest_workers(5, reliable());
    scenario(
        "baseline",
        "five honest workers, no faults: every task agrees",
        cluster,
        Expectations { all_agreed: true, accuracy_min: Some(0.85), ..Expectations::default() },
    )
}

fn partition_minority() -> Scenario {
    let mut cluster = cluster_until(27_000);
    cluster.workers = honest_workers(5, reliable());
    cluster.faults.faults.push(fault(
        2_000,
        20_000,
        FaultKind::Partition { left: hosts(&["supervisor"]), right: hosts(&["w1", "w2"]) },
    ));
    // Full panels: every task after the heal asks the healed workers too, so their
    // recovery is observed rather than left to load balancing.
    scenario(
        "partition-minority",
        "the supervisor is cut off from two of five workers for 20 s; after the heal they answer again",
        full_panels(cluster),
        healthy_after_faults(2),
    )
}

fn partition_majority() -> Scenario {
    let mut cluster = cluster_until(27_000);
    cluster.workers = honest_workers(5, reliable());
    cluster.faults.faults.push(fault(
        2_000,
        20_000,
        FaultKind::Partition { left: hosts(&["supervisor"]), right: hosts(&["w1", "w2", "w3"]) },
    ));
    scenario(
        "partition-majority",
        "the supervisor is cut off from three of five workers for 20 s, then the network heals and they answer again",
        full_panels(cluster),
        healthy_after_faults(3),
    )
}

fn one_way_partition() -> Scenario {
    let mut cluster = cluster_until(27_000);
    cluster.workers = honest_workers(5, reliable());
    // Requests reach w1 and w2, their replies never come back.
    cluster.faults.faults.push(fault(
        2_000,
        20_000,
        FaultKind::PartitionOneWay { from: hosts(&["w1", "w2"]), to: hosts(&["supervisor"]) },
    ));
    scenario(
        "one-way-partition",
        "two workers hear the supervisor but cannot answer it for 20 s; after the heal they answer again",
        full_panels(cluster),
        healthy_after_faults(2),
    )
}

fn slow(profile: LlmProfile) -> LlmProfile {
    LlmProfile { latency: LatencyProfile { base_ms: 2_000, ..LatencyProfile::default() }, ..profile }
}

fn worker_crash() -> Scenario {
    let mut cluster = cluster_until(28_000);
    cluster.workers = honest_workers(5, slow(reliable()));
    cluster.faults.faults.push(fault(3_000, 20_000, FaultKind::Crash { host: "w1".to_owned() }));
    scenario(
        "worker-crash",
        "a worker crashes mid-task with work in flight, restarts 20 s later and answers again",
        cluster,
        healthy_after_faults(1),
    )
}

fn rolling_restarts() -> Scenario {
    let mut cluster = cluster_until(30_000);
    cluster.workers = honest_workers(5, slow(reliable()));
    for (index, host) in ["w1", "w2", "w3", "w4", "w5"].iter().enumerate() {
        cluster.faults.faults.push(fault(
            2_000 + 5_000 * index as u64,
            4_000,
            FaultKind::Crash { host: (*host).to_owned() },
        ));
    }
    scenario(
        "rolling-restarts",
        "every worker restarts in turn, one every 5 s, and each answers again after its restart",
        cluster,
        healthy_after_faults(5),
    )
}

fn supervisor_crash() -> Scenario {
    let mut cluster = cluster_until(14_000);
    cluster.workers = honest_workers(5, reliable());
    cluster.faults.faults.push(fault(4_000, 5_000, FaultKind::Crash { host: "supervisor".to_owned() }));
    scenario(
        "supervisor-crash",
        "the supervisor crashes, losing its memory, and restarts; clients resubmit by task id",
        cluster,
        healthy_after_faults(0),
    )
}

/// A journaling supervisor whose client never resubmits: only the journal keeps
/// "accepted" meaning "will get a result".
fn durable(mut cluster: ClusterConfig) -> ClusterConfig {
    cluster.journal = true;
    cluster.client.resubmit = false;
    cluster
}

fn supervisor_crash_durable() -> Scenario {
    let mut cluster = cluster_until(20_000);
    cluster.workers = honest_workers(5, reliable());
    // Tasks arrive in bursts, and the crashes land inside them: acceptances, rounds
    // and votes are in flight, some written and not yet synced.
    cluster.workload.arrival = Arrival::Bursts { size: 8, gap_ms: 2_000 };
    for at_ms in [4_050, 10_020, 16_100] {
        cluster.faults.faults.push(fault(at_ms, 2_000, FaultKind::Crash { host: "supervisor".to_owned() }));
    }
    scenario(
        "supervisor-crash-durable",
        "the supervisor crashes three times during bursts of tasks; the client never resubmits, and its journal alone gives every task exactly one result",
        durable(cluster),
        healthy_after_faults(0),
    )
}

fn crash_loop() -> Scenario {
    let mut cluster = cluster_until(60_000);
    cluster.workers = honest_workers(5, reliable());
    cluster.fault_phase_ms = 60_000;
    // Down 1 s in every 4, for a minute.
    for cycle in 0..15u64 {
        cluster.faults.faults.push(fault(
            2_000 + cycle * 4_000,
            1_000,
            FaultKind::Crash { host: "supervisor".to_owned() },
        ));
    }
    scenario(
        "crash-loop",
        "the supervisor crashes every 4 s for a minute; the client never resubmits, and every task still ends with one result",
        durable(cluster),
        healthy_after_faults(0),
    )
}

fn latency_stragglers() -> Scenario {
    let mut cluster = cluster_until(23_000);
    let straggly = LlmProfile {
        latency: LatencyProfile { straggler_rate: 0.2, straggler_ms: 25_000, ..LatencyProfile::default() },
        ..reliable()
    };
    cluster.workers = honest_workers(5, straggly);
    cluster.faults.faults.push(fault(
        3_000,
        15_000,
        FaultKind::Latency { left: hosts(&["supervisor"]), right: hosts(&["w4", "w5"]), latency_ms: 2_000 },
    ));
    // A task fails only when all three rounds draw a straggler majority (about 2 in
    // 10,000 tasks): the retry budget ends it visibly instead of waiting forever.
    let expect = Expectations { failed_max: Some(1), ..healthy_after_faults(2) };
    scenario("latency-stragglers", "a fifth of model calls straggle 25 s and two links slow to 2 s", cluster, expect)
}

fn rate_limit_storm() -> Scenario {
    let mut cluster = cluster_until(22_000);
    let limited = LlmProfile { failures: FailureRates { rate_limited: 0.1, ..FailureRates::default() }, ..reliable() };
    cluster.workers = honest_workers(5, limited);
    cluster.faults.faults.push(fault(2_000, 15_000, FaultKind::LlmStorm { error_rate: 0.7 }));
    scenario(
        "rate-limit-storm",
        "70% of model calls are rate limited for 15 s; workers back off and retry",
        cluster,
        healthy_after_faults(0),
    )
}

/// `cluster` with 15 workers of its first worker's model and 60 tasks (30 s of
/// arrivals), so that work is still coming in when a 21 s storm ends.
fn on_fifteen_workers(mut cluster: ClusterConfig) -> ClusterConfig {
    let profile = cluster.workers[0].profile.clone();
    cluster.workers = honest_workers(15, profile);
    cluster.workload.tasks = 60;
    cluster
}

/// The storm scenario on a pool of 15: retries must ask enough fresh workers, and a
/// storm shorter than the retry budget must not fail tasks.
fn rate_limit_storm_wide() -> Scenario {
    let mut cluster = on_fifteen_workers(rate_limit_storm().cluster);
    cluster.faults.faults[0] = fault(2_000, 21_000, FaultKind::LlmStorm { error_rate: 0.8 });
    scenario(
        "rate-limit-storm-15",
        "15 workers, 80% of model calls rate limited for 21 s: retries outlast the storm",
        cluster,
        healthy_after_faults(0),
    )
}

/// Garbage replies on a pool of 15, plus a storm of errors: every task still ends
/// with an answer once the storm is over.
fn garbage_answers_wide() -> Scenario {
    let mut cluster = on_fifteen_workers(garbage_answers().cluster);
    cluster.faults.faults.push(fault(2_000, 21_000, FaultKind::LlmStorm { error_rate: 0.8 }));
    scenario(
        "garbage-answers-15",
        "15 workers, a third of replies garbage and an error storm for 21 s: none counted, no task given up early",
        cluster,
        healthy_after_faults(0),
    )
}

fn garbage_answers() -> Scenario {
    let mut cluster = cluster();
    let messy = LlmProfile {
        failures: FailureRates {
            garbage: 0.15,
            truncated: 0.1,
            empty: 0.05,
            server_error: 0.05,
            ..FailureRates::default()
        },
        ..reliable()
    };
    cluster.workers = honest_workers(5, messy);
    scenario(
        "garbage-answers",
        "a third of model replies are garbage, cut off, empty or errors; none is counted as a vote",
        cluster,
        healthy(),
    )
}

fn byzantine_minority() -> Scenario {
    let mut cluster = cluster();
    cluster.workers = honest_workers(5, LlmProfile { accuracy: 1.0, ..LlmProfile::default() });
    for worker in cluster.workers.iter_mut().skip(3) {
        worker.profile.byzantine = Some(Byzantine::AlwaysWrong);
        worker.profile.confidence = ConfidenceBehaviour::Overconfident;
    }
    scenario(
        "byzantine-minority",
        "two of five workers always lie, confidently; the honest majority decides",
        full_panels(cluster),
        Expectations { no_wrong_answers: true, failed_max: Some(0), ..Expectations::default() },
    )
}

fn twin_worker() -> Scenario {
    let mut cluster = cluster();
    cluster.workers = honest_workers(5, reliable());
    cluster.workers[2].twin = true;
    // Waiting for every answer: with early stopping a slow twin is often simply too
    // late to count, which is safe but shows nothing.
    cluster.supervisor.early_stop = false;
    scenario(
        "twin-worker",
        "a second process under w3's id sends different answers; both are caught and neither counts (no early stop)",
        cluster,
        Expectations { twins_caught_min: Some(1), ..healthy() },
    )
}

fn hostile_workers() -> Scenario {
    let mut cluster = cluster();
    // Honest models never wrong: any wrong agreed answer would be the hostile workers'.
    cluster.workers = honest_workers(5, LlmProfile { accuracy: 1.0, ..LlmProfile::default() });
    cluster.workers[3].profile.byzantine = Some(Byzantine::Oversized);
    cluster.workers[4].profile.byzantine = Some(Byzantine::Flood);
    // Room on the wire for answers over the supervisor's limit: the boundary, not
    // the network, must refuse them.
    cluster.tcp_capacity = 4 * quorum_core::consensus::ANSWER_BYTES_MAX;
    scenario(
        "hostile-workers",
        "w4 sends answers over the size limit and absurd confidences, w5 floods answers for tasks and rounds it was \
         never given: every one is refused at the boundary and the honest majority decides",
        full_panels(cluster),
        Expectations { no_wrong_answers: true, counters_min: hostile_rejections(), ..healthy() },
    )
}

/// The rejections the hostile workers must run into on every seed: too long,
/// confidence out of range (w4); tasks never given, rounds never asked, pushes beyond
/// one per call (w5).
fn hostile_rejections() -> BTreeMap<String, u64> {
    ["rejected_too_long", "rejected_confidence", "unknown_task_answers", "rejected_unknown_round", "rejected_flood"]
        .into_iter()
        .map(|name| (name.to_owned(), 1))
        .collect()
}

fn colluding_majority() -> Scenario {
    let mut cluster = cluster();
    cluster.workers = honest_workers(5, LlmProfile { accuracy: 1.0, ..LlmProfile::default() });
    for worker in cluster.workers.iter_mut().skip(2) {
        worker.profile.byzantine = Some(Byzantine::Colluding { group: 1 });
        worker.profile.confidence = ConfidenceBehaviour::Overconfident;
    }
    scenario(
        "colluding-majority",
        "three of five workers agree on one confident lie: the limit of consensus, documented",
        full_panels(cluster),
        Expectations { accuracy_max: Some(0.1), failed_max: Some(0), ..Expectations::default() },
    )
}

fn split_vote() -> Scenario {
    let mut cluster = cluster();
    // Equally confident voices: confidence weighting cannot break the tie either.
    let confident =
        LlmProfile { accuracy: 1.0, confidence: ConfidenceBehaviour::Overconfident, ..LlmProfile::default() };
    cluster.workers = honest_workers(3, confident);
    for (slot, worker) in cluster.workers.iter_mut().skip(1).enumerate() {
        worker.profile.byzantine = Some(Byzantine::Scatter { slot: slot as u64 });
    }
    scenario(
        "split-vote",
        "three workers give three different answers: no consensus is reported, never a guess",
        cluster,
        // Every task without consensus: no agreed answer at all, so no wrong one (an
        // expectation about agreed answers would have nothing to measure).
        Expectations { no_consensus_min: Some(1.0), failed_max: Some(0), ..Expectations::default() },
    )
}

/// Answers written the way models write them, right ones and wrong ones: the honest
/// majority's numbers as fractions, scale words, number words, with remarks and
/// markers, its short answers wrapped, its claims paraphrased; the two misled
/// workers contradict the claim in its own frame, state another numerator, scale or
/// sign, or give the near miss ("C" for "C++").
fn hard_answers() -> Scenario {
    let mut cluster = cluster();
    cluster.workload.questions = QuestionBank::Hard;
    cluster.workload.tasks = 30;
    (cluster.workload.numeric, cluster.workload.exact, cluster.workload.semantic) = (1, 1, 1);
    let honest = LlmProfile {
        accuracy: 1.0,
        style: AnswerStyle::Messy,
        mistakes: MistakeStyle::Contradictions,
        ..LlmProfile::default()
    };
    cluster.workers = honest_workers(5, honest);
    for worker in cluster.workers.iter_mut().skip(3) {
        // Mostly wrong, each on its own: a misconception shared by a majority is
        // colluding-majority's limit, not a reading problem. Calibrated confidence
        // (the default) keeps this scenario about reading answers; how confident
        // liars weigh against honest workers is the weighting's question.
        worker.profile.accuracy = 0.25;
    }
    scenario(
        "hard-answers",
        "messy right answers from three of five workers, contradictions from two mostly wrong ones: none is agreed",
        full_panels(cluster),
        Expectations { no_wrong_answers: true, failed_max: Some(0), ..Expectations::default() },
    )
}

fn burst_scaling() -> Scenario {
    let mut cluster = cluster();
    let slow_reliable = slow(reliable());
    cluster.workers = honest_workers(3, slow_reliable.clone());
    cluster.spares = named_workers(4, 12, slow_reliable);
    cluster.supervisor.pool.idle_release_ms = 10_000;
    // Two bursts 40 s apart: the quiet between them is when idle workers go.
    cluster.workload.tasks = 80;
    cluster.workload.arrival = Arrival::Bursts { size: 40, gap_ms: 40_000 };
    scenario(
        "burst-scaling",
        "bursts of 40 tasks scale the pool from 3 to 15 workers; in the quiet between them it shrinks back to 3",
        cluster,
        Expectations { workers_peak_min: Some(15), workers_released_to: Some(3), ..healthy() },
    )
}

fn swarm() -> Scenario {
    let mut cluster = cluster();
    cluster.workers = honest_workers(5, reliable());
    cluster.faults.swarm = Some(Swarm::default());
    scenario(
        "swarm",
        "random partitions, holds, crashes, latency and storms, their mix itself drawn from the seed",
        cluster,
        Expectations::default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_scenario_is_valid() {
        let all = catalogue();
        assert!(all.len() >= 12);
        let mut names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for scenario in &all {
            scenario.cluster.validate().unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
            assert!(!scenario.description.is_empty());
        }
        assert!(find("baseline").is_some());
        assert!(find("nope").is_none());
    }

    fn run_hard_answers(seed: u64) -> (crate::ScenarioRun, quorum_sim::RunOutcome) {
        let scenario = find("hard-answers").unwrap();
        crate::run_scenario(&scenario, seed, &crate::Invocation::catalogue(), quorum_sim::RunBudget::default()).unwrap()
    }

    /// The mock side of hard-answers, which holds whatever the engine reads: every task
    /// ends, no invariant breaks, and the workers really do write messy right answers
    /// and contradictions in the right answer's frame.
    #[test]
    fn hard_answers_brings_messy_answers_and_contradictions_to_the_engine() {
        let (run, outcome) = run_hard_answers(1);
        assert_eq!((run.tasks, run.failed), (30, 0));
        assert!(outcome.violations.is_empty(), "{:?}", outcome.violations);
        let workload = quorum_core::mock::workload::generate(1, &find("hard-answers").unwrap().cluster.workload);
        let (mut messy, mut contradictions) = (0, 0);
        for planned in &workload.tasks {
            let truth = &workload.truths[&planned.task.text];
            let result = outcome.results[&planned.task.id].result.as_ref().unwrap();
            for vote in &result.metadata.votes {
                let semantic = matches!(truth, quorum_core::mock::workload::Truth::Semantic { .. });
                messy += usize::from(!semantic && vote.text != truth.canonical());
                contradictions += usize::from(truth.known_verdict(&vote.text) == Some(false));
            }
        }
        assert!(messy > 60, "{messy} messy numbers and short answers");
        assert!(contradictions > 10, "{contradictions} contradictions of a claim");
    }

    /// hard-answers' expectation: no wrong answer is agreed; and the honest majority is
    /// read, not just kept safe by refusing: most tasks agree (measured on
    /// seeds 0..10: 29 or 30 of 30).
    #[test]
    fn hard_answers_agrees_on_no_wrong_answer() {
        for seed in 0..20 {
            let (run, _) = run_hard_answers(seed);
            assert!(run.passed, "seed {seed}: {:?}\nreplay: {}", run.violations, run.replay);
            assert!(
                run.agreed >= 25,
                "seed {seed}: only {} of {} agreed\nreplay: {}",
                run.agreed,
                run.tasks,
                run.replay
            );
        }
    }
}
