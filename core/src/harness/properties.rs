//! Properties of the supervisor machine over random clusters of scripted workers,
//! random submissions and seeds. Each property runs at least 1,000 cases
//! (`PROPTEST_CASES` raises it); a failure prints the minimal scenario, its seed
//! included, which replays it exactly.

use proptest::prelude::*;

use super::{Answers, Cluster, Oversize, Script};
use crate::consensus::Weighting;
use crate::recompute::recompute_mismatches;
use crate::result::{Outcome, TaskResult};
use crate::supervisor::SupervisorConfig;
use crate::task::Task;
use crate::{TaskId, WorkerId};

const CASES: u32 = 1_000;
/// Far more steps than any scenario here takes (a few thousand): reaching it is a
/// livelock.
const STEPS_MAX: usize = 200_000;

/// One generated run.
#[derive(Clone, Debug)]
struct Scenario {
    seed: u64,
    scripts: Vec<Script>,
    /// `(at_ms, a, b)`: "What is a + b?" submitted at `at_ms`.
    submissions: Vec<(u64, u32, u32)>,
    early_stop: bool,
    escalation_workers: usize,
    log_odds: bool,
}

fn any_script() -> impl Strategy<Value = Script> {
    let oversize =
        prop_oneof![Just(Oversize::TooLong), Just(Oversize::NanConfidence), Just(Oversize::ConfidenceAboveOne)];
    prop_oneof![
        4 => Just(Script::Honest),
        1 => Just(Script::Slow),
        1 => Just(Script::Silent),
        1 => Just(Script::Lying),
        1 => Just(Script::Twin),
        1 => oversize.prop_map(Script::Oversized),
        1 => Just(Script::Flooding),
        1 => (0u64..30_000).prop_map(|at_ms| Script::Crashing { at_ms }),
        1 => Just(Script::Boasting),
    ]
}

/// Faults by omission only: they never say anything false.
fn omission_script() -> impl Strategy<Value = Script> {
    prop_oneof![Just(Script::Slow), Just(Script::Silent)]
}

fn scenario(scripts: impl Strategy<Value = Vec<Script>>) -> impl Strategy<Value = Scenario> {
    let submissions = prop::collection::vec((0u64..5_000, 0u32..100, 0u32..100), 1..=5);
    (any::<u64>(), scripts, submissions, any::<bool>(), 0usize..=2, any::<bool>()).prop_map(
        |(seed, scripts, submissions, early_stop, escalation_workers, log_odds)| Scenario {
            seed,
            scripts,
            submissions,
            early_stop,
            escalation_workers,
            log_odds,
        },
    )
}

/// Three to seven workers, each following any script.
fn any_scenario() -> impl Strategy<Value = Scenario> {
    scenario(prop::collection::vec(any_script(), 3..=7))
}

/// An honest majority; the rest slow or silent, in any order.
fn honest_majority_scenario() -> impl Strategy<Value = Scenario> {
    (0usize..=3).prop_flat_map(|faulty| {
        let omissions = prop::collection::vec(omission_script(), faulty);
        (omissions, faulty + 1..=faulty + 3).prop_flat_map(|(omissions, honest)| {
            let mut scripts = vec![Script::Honest; honest];
            scripts.extend(omissions);
            scenario(Just(scripts).prop_shuffle())
        })
    })
}

fn config(scenario: &Scenario) -> SupervisorConfig {
    let mut config = SupervisorConfig::default().fit_to_workers(scenario.scripts.len());
    // Short waits, so that a run of many rounds stays a few thousand steps.
    config.retry_budget_ms = 20_000;
    config.queue_wait_ms_max = 10_000;
    config.analysis.timeout_ms_min = 1_000;
    config.analysis.timeout_ms_max = 5_000;
    config.early_stop = scenario.early_stop;
    config.escalation_workers = scenario.escalation_workers.min(config.pool.workers_max);
    if scenario.log_odds {
        config.consensus.weighting = Weighting::LogOdds;
    }
    config
}

fn task_id(index: usize) -> TaskId {
    TaskId::from(format!("t{index}"))
}

/// Runs `scenario` to its end.
fn run(scenario: &Scenario) -> (Cluster, SupervisorConfig) {
    let config = config(scenario);
    let workers =
        scenario.scripts.iter().enumerate().map(|(i, script)| (WorkerId::from(format!("w{i}")), *script)).collect();
    let mut cluster = Cluster::new(config.clone(), workers, scenario.seed).expect("valid config");
    for (index, &(at_ms, a, b)) in scenario.submissions.iter().enumerate() {
        let truth = a + b;
        // Far from the truth under every strategy's tolerance.
        let answers = Answers { truth: truth.to_string(), lie: (truth * 10 + 7).to_string() };
        cluster.submit_at(at_ms, Task::new(task_id(index).as_str(), format!("What is {a} + {b}?")), answers);
    }
    if let Err(error) = cluster.drive_bounded(STEPS_MAX) {
        panic!("seed {}: {error}", scenario.seed);
    }
    (cluster, config)
}

/// Exactly one result per submitted task, none fabricated, no vote from a worker not
/// asked in that round, and each result's outcome recomputes from its votes.
fn check_results(cluster: &Cluster, config: &SupervisorConfig, scenario: &Scenario) -> Result<(), TestCaseError> {
    let seed = scenario.seed;
    for index in 0..scenario.submissions.len() {
        let task = task_id(index);
        prop_assert!(cluster.accepted().contains(&task), "seed {seed}: {task} was not accepted");
        let count = cluster.results().iter().filter(|r| r.task == task).count();
        prop_assert_eq!(count, 1, "seed {}: {} results for {}", seed, count, task);
    }
    prop_assert_eq!(cluster.results().len(), scenario.submissions.len(), "seed {}: results for unknown tasks", seed);
    for result in cluster.results() {
        check_result(cluster, config, result, seed)?;
    }
    Ok(())
}

fn check_result(
    cluster: &Cluster,
    config: &SupervisorConfig,
    result: &TaskResult,
    seed: u64,
) -> Result<(), TestCaseError> {
    let task = &result.task;
    let log = cluster.log(task).cloned().unwrap_or_default();
    for vote in &result.metadata.votes {
        let asked = log.asked.contains(&(vote.worker.clone(), vote.attempt));
        prop_assert!(
            asked,
            "seed {seed}: {task} counts a vote of {} for round {} it was not asked",
            vote.worker,
            vote.attempt
        );
        let sent = log.sent.iter().any(|a| a.worker == vote.worker && a.attempt == vote.attempt && a.text == vote.text);
        prop_assert!(sent, "seed {seed}: {task} holds a vote {vote:?} its worker never sent");
    }
    if let Outcome::Agreed { answer, .. } = &result.outcome {
        let from_asked = result.metadata.votes.iter().any(|v| &v.text == answer);
        prop_assert!(from_asked, "seed {seed}: {task} agreed on {answer:?}, no vote's text");
    }
    let consensus = result.metadata.plan.consensus_config(&config.consensus);
    let mismatches = recompute_mismatches(result, &consensus);
    prop_assert!(mismatches.is_empty(), "seed {seed}: {task} does not recompute: {mismatches:?}");
    Ok(())
}

proptest! {
    #![proptest_config(crate::testing::proptest_cases(CASES))]

    #[test]
    fn any_cluster_gives_one_honest_result_per_task(scenario in any_scenario()) {
        let (cluster, config) = run(&scenario);
        check_results(&cluster, &config, &scenario)?;
    }

    #[test]
    fn an_honest_majority_agrees_on_the_truth(scenario in honest_majority_scenario()) {
        let (cluster, config) = run(&scenario);
        check_results(&cluster, &config, &scenario)?;
        for result in cluster.results() {
            let index: usize = result.task.as_str()[1..].parse().expect("ids are t<index>");
            let (_, a, b) = scenario.submissions[index];
            let truth = (a + b).to_string();
            prop_assert_eq!(result.answer(), Some(truth.as_str()), "seed {}: {:?}", scenario.seed, result);
        }
    }
}

#[test]
fn a_run_is_a_function_of_its_seed() {
    let scenario = Scenario {
        seed: 42,
        scripts: vec![Script::Honest, Script::Twin, Script::Flooding, Script::Slow, Script::Crashing { at_ms: 3_000 }],
        submissions: vec![(0, 2, 2), (100, 3, 4), (2_000, 10, 20)],
        early_stop: true,
        escalation_workers: 2,
        log_odds: false,
    };
    let (first, _) = run(&scenario);
    let (second, _) = run(&scenario);
    assert_eq!(first.results(), second.results());
    assert_eq!(first.now_ms(), second.now_ms());
    assert_eq!(first.machine().stats(), second.machine().stats());
    let stats = first.machine().stats();
    let refused = [stats.rejected_flood, stats.unknown_task_answers, stats.rejected_unknown_round, stats.equivocations];
    assert!(refused.iter().all(|count| *count > 0), "the flooder and the twin were refused: {stats:?}");
}

#[test]
fn drive_bounded_reports_a_run_that_does_not_end_in_time() {
    let scenario = Scenario {
        seed: 1,
        scripts: vec![Script::Honest; 3],
        submissions: vec![(0, 1, 1)],
        early_stop: true,
        escalation_workers: 0,
        log_odds: false,
    };
    let config = config(&scenario);
    let workers = (0..3).map(|i| (WorkerId::from(format!("w{i}")), Script::Honest)).collect();
    let mut cluster = Cluster::new(config, workers, 1).unwrap();
    cluster.submit_at(0, Task::new("t0", "What is 1 + 1?"), Answers { truth: "2".into(), lie: "27".into() });
    let error = cluster.drive_bounded(3).unwrap_err();
    assert!(matches!(error, super::HarnessError::StepLimit { steps: 3, .. }), "{error}");
}
