//! Issue 7: the harness tells the truth. One regression test per numbered item of
//! the issue, named after it: each failed (panicked, hung or passed vacuously) on the
//! code before the fix.

use quorum_core::consensus::Strategy;
use quorum_core::mock::workload::{Arrival, Truth};
use quorum_scenarios::{Expectations, Invocation, Overrides, find, parse_scenario, render_summary, run_scenario};
use quorum_sim::{
    ClusterBuilder, ClusterConfig, Fault, FaultKind, Happening, Invariant, RunBudget, RunOutcome, honest_workers, run,
};

fn hosts(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn kinds(outcome: &RunOutcome) -> Vec<Invariant> {
    outcome.violations.iter().map(|v| v.invariant).collect()
}

#[test]
fn item_1_a_burst_of_70_tasks_and_a_held_client_link_run_without_panic() {
    let mut config = ClusterBuilder::new()
        .fault(Fault {
            at_ms: 1_000,
            duration_ms: 10_000,
            kind: FaultKind::Hold { left: hosts(&["client"]), right: hosts(&["supervisor"]) },
        })
        .build()
        .unwrap();
    config.workload.tasks = 70;
    config.workload.arrival = Arrival::Bursts { size: 70, gap_ms: 1_000 };
    let outcome = run(1, &config).unwrap();
    assert!(outcome.passed(), "{:?}", outcome.violations);
    assert_eq!(outcome.report.tasks, 70);
}

#[test]
fn item_1_a_panic_inside_the_simulation_is_that_seeds_failure() {
    // A backlog of 2 makes turmoil panic ("server socket buffer full") on a burst:
    // the run must end with a `panic` violation and its trace, not take the process.
    let mut config = ClusterConfig { tcp_capacity: 2, ..ClusterConfig::default() };
    config.workload.arrival = Arrival::Bursts { size: 20, gap_ms: 1_000 };
    let outcome = run(3, &config).unwrap();
    assert_eq!(kinds(&outcome), vec![Invariant::Panic]);
    assert!(outcome.violations[0].detail.contains("socket buffer full"), "{}", outcome.violations[0]);
    assert!(!outcome.trace.events().is_empty(), "the trace up to the panic is kept");
}

#[test]
fn item_2_a_huge_queue_wait_with_one_partitioned_worker_cannot_spin() {
    let mut config = ClusterBuilder::new()
        .workers(1)
        .fault(Fault {
            at_ms: 1_000,
            duration_ms: 5_000,
            kind: FaultKind::Partition { left: hosts(&["supervisor"]), right: hosts(&["w1"]) },
        })
        .build()
        .unwrap();
    config.supervisor.queue_wait_ms_max = quorum_core::SUPERVISOR_DURATION_MS_MAX;
    let outcome = run(1, &config).unwrap();
    assert!(outcome.passed(), "{:?}", outcome.violations);
    // The largest values overflowed a deadline sum; they are refused now.
    config.supervisor.queue_wait_ms_max = u64::MAX;
    assert!(run(1, &config).unwrap_err().to_string().contains("queue_wait_ms_max"));
}

#[test]
fn item_2_a_run_that_overruns_its_step_budget_is_stuck() {
    let budget = RunBudget { steps_max: Some(10), ..RunBudget::default() };
    let outcome = quorum_sim::run_with_budget(1, &ClusterConfig::default(), budget).unwrap();
    assert_eq!(kinds(&outcome), vec![Invariant::Stuck]);
}

#[test]
fn item_3_partition_runs_last_past_the_heal_and_the_cut_off_workers_answer_again() {
    let scenario = find("partition-majority").unwrap();
    let (run, outcome) = run_scenario(&scenario, 7, &Invocation::catalogue(), RunBudget::default()).unwrap();
    assert!(run.passed, "{:?}", run.violations);
    let heal_ms = 22_000;
    assert_eq!(outcome.window.faults_end_ms, heal_ms);
    assert!(outcome.report.sim_ms >= heal_ms + scenario.cluster.settle_ms, "ended at {}", outcome.report.sim_ms);
    let recovered = quorum_scenarios::scenario::recovered_workers(&outcome);
    assert_eq!(recovered, hosts(&["w1", "w2", "w3"]));
}

#[test]
fn item_3_the_crashed_worker_restarts_and_answers_before_the_run_ends() {
    for name in ["worker-crash", "rolling-restarts"] {
        let scenario = find(name).unwrap();
        let (_, outcome) = run_scenario(&scenario, 2, &Invocation::catalogue(), RunBudget::default()).unwrap();
        let restarts = outcome.trace.events().iter().filter(|e| matches!(e.what, Happening::WorkerStart)).count();
        let workers = scenario.cluster.workers.len();
        let crashed = scenario.cluster.faults.faults.len();
        assert_eq!(restarts, workers + crashed, "{name}: every crashed worker came back");
        assert_eq!(quorum_scenarios::scenario::recovered_workers(&outcome).len(), crashed, "{name}");
    }
}

#[test]
fn item_3_swarm_faults_reach_the_clients_links() {
    let config = find("swarm").unwrap().cluster;
    let touches_client = (0..20u64).any(|seed| {
        config.expanded_faults(seed).iter().any(|fault| match &fault.kind {
            FaultKind::Partition { left, right } | FaultKind::Hold { left, right } => {
                left.iter().chain(right).any(|h| h == "client")
            }
            FaultKind::PartitionOneWay { from, to } => from.iter().chain(to).any(|h| h == "client"),
            _ => false,
        })
    });
    assert!(touches_client);
}

fn hash_with(change: impl FnOnce(&mut ClusterConfig)) -> String {
    let profile = quorum_sim::LlmProfile { accuracy: 0.6, ..Default::default() };
    let mut config = ClusterConfig { workers: honest_workers(5, profile), ..ClusterConfig::default() };
    change(&mut config);
    run(5, &config).unwrap().trace_hash()
}

#[test]
fn item_4_every_consensus_setting_changes_behaviour() {
    let default = hash_with(|_| {});
    let changed = [
        ("threshold 0.0", hash_with(|c| c.supervisor.consensus.threshold = 0.0)),
        ("threshold 1.0", hash_with(|c| c.supervisor.consensus.threshold = 1.0)),
        ("tolerance_absolute", hash_with(|c| c.supervisor.consensus.tolerance_absolute = 50.0)),
        ("tolerance_relative", hash_with(|c| c.supervisor.consensus.tolerance_relative = 0.5)),
        ("strategy", hash_with(|c| c.supervisor.strategy = Some(Strategy::Numeric))),
        ("margin_min", hash_with(|c| c.supervisor.consensus.margin_min = 0.6)),
    ];
    for (name, hash) in changed {
        assert_ne!(hash, default, "{name} changed nothing");
    }
    // A strategy in the base config would be overwritten per task: refused.
    let mut config = ClusterConfig::default();
    config.supervisor.consensus.strategy = Strategy::Numeric;
    assert!(run(1, &config).unwrap_err().to_string().contains("supervisor.strategy"));
}

#[test]
fn item_4_ground_truth_uses_the_workloads_tolerance_not_the_plans() {
    let truth = Truth::Numeric { value: 100.0 };
    assert!(quorum_sim::is_correct("100", &truth));
    assert!(quorum_sim::is_correct("The total is 100.", &truth));
    // Within a plan's approximate tolerance (5%), but not right.
    assert!(!quorum_sim::is_correct("103", &truth));
}

#[test]
fn item_5_expectations_over_no_agreed_task_fail_as_not_measurable() {
    let scenario = find("split-vote").unwrap();
    let (_, outcome) = run_scenario(&scenario, 1, &Invocation::catalogue(), RunBudget::default()).unwrap();
    assert_eq!(outcome.report.agreed, 0);
    assert_eq!(outcome.report.accuracy, None);
    let expect =
        Expectations { no_wrong_answers: true, accuracy_min: Some(0.5), accuracy_max: Some(1.0), ..Default::default() };
    let failures = expect.check(&outcome);
    assert_eq!(failures.len(), 3, "{failures:?}");
    assert!(failures.iter().all(|f| f.detail.contains("not measurable")));
}

#[test]
fn item_6_bad_scenario_fields_are_refused_with_line_and_field() {
    let crash = |host: &str| {
        format!(
            "name = \"x\"\n[[cluster.faults.faults]]\nat_ms = 1000\nduration_ms = 1000\nkind = \"crash\"\nhost = \"{host}\"\n"
        )
    };
    let cases = [
        (crash("w9"), vec!["line 6", "faults.faults[0].host", "no host named \"w9\""]),
        (crash("client"), vec!["line 6", "the client"]),
        ("name = \"x\"\n[[cluster.workers]]\nname = \"10.0.0.1\"\nprofile = {}\n".to_owned(), vec![
            "line 3",
            "workers[0].name",
            "not a host name",
        ]),
        ("name = \"x\"\nworkers = 3\n[profile]\naccuracy = 1.5\n".to_owned(), vec!["line 4", "accuracy", "probability"]),
        ("name = \"x\"\nworkers = 3\n[profile]\naccuracy = nan\n".to_owned(), vec!["accuracy", "probability"]),
        ("name = \"x\"\nworkers = 3\n[profile]\naccuracy = -1.0\n".to_owned(), vec!["accuracy"]),
        ("name = \"x\"\nworkers = 3\n[profile.failures]\ngarbage = 2.0\n".to_owned(), vec!["line 4", "garbage"]),
        (
            "name = \"x\"\n[[cluster.faults.faults]]\nat_ms = 0\nduration_ms = 10\nkind = \"llm_storm\"\nerror_rate = nan\n"
                .to_owned(),
            vec!["line 6", "error_rate"],
        ),
        (
            "name = \"x\"\nworkers = 3\n[profile.latency]\nstraggler_rate = 1.0\nstraggler_ms = 18446744073709551615\n"
                .to_owned(),
            vec!["line 5", "straggler_ms"],
        ),
        (
            "name = \"x\"\n[[cluster.workers]]\nname = \"w1\"\nprofile = {}\n[[cluster.workers]]\nname = \"w1\"\nprofile = {}\n"
                .to_owned(),
            vec!["line 6", "workers[1].name", "names two workers"],
        ),
        ("name = \"x\"\n[expect]\naccuracy_min = 1.5\n".to_owned(), vec!["line 3", "accuracy_min"]),
        (
            "name = \"x\"\n[cluster]\nfault_phase_ms = 1000\n[[cluster.faults.faults]]\nat_ms = 5000\nduration_ms = 10\nkind = \"crash\"\nhost = \"w1\"\n"
                .to_owned(),
            vec!["line 5", "fault phase"],
        ),
    ];
    for (text, expected) in cases {
        let error = parse_scenario(&text).map(|_| ()).unwrap_err().to_string();
        for part in expected {
            assert!(error.contains(part), "{text:?}: {error}");
        }
    }
}

#[test]
fn item_7_the_deadline_follows_the_workload_and_long_summaries_are_capped() {
    let mut scenario = find("baseline").unwrap();
    Overrides { workers: None, tasks: Some(430), transport: None }.apply(&mut scenario);
    let (run, outcome) = run_scenario(&scenario, 1, &Invocation::catalogue(), RunBudget::default()).unwrap();
    assert!(run.passed, "{:?}", run.violations);
    assert!(outcome.window.deadline_ms > outcome.window.last_arrival_ms);
    // Every task arrives at once and misses a 1 ms liveness window: hundreds of
    // violations, a short summary.
    scenario.cluster.liveness_ms = 1;
    scenario.cluster.workload.arrival = Arrival::Bursts { size: 430, gap_ms: 1_000 };
    let (run, _) = run_scenario(&scenario, 1, &Invocation::catalogue(), RunBudget::default()).unwrap();
    assert!(run.violations.len() > 100);
    let lines = render_summary(&run).lines().count();
    assert!(lines <= quorum_scenarios::SUMMARY_VIOLATIONS_MAX + 3, "{lines} lines");
}

#[test]
fn item_8_the_replay_command_carries_every_option() {
    let invocation = Invocation {
        overrides: Overrides { workers: Some(1), tasks: Some(7), transport: None },
        ..Invocation::catalogue()
    };
    assert_eq!(invocation.replay("baseline", 1), "quorum run baseline --seed 1 --workers 1 --tasks 7");
}

#[test]
fn item_9_one_worker_is_used_and_twenty_share_the_work() {
    let mut scenario = find("baseline").unwrap();
    Overrides { workers: Some(1), tasks: None, transport: None }.apply(&mut scenario);
    let (single, _) = run_scenario(&scenario, 1, &Invocation::catalogue(), RunBudget::default()).unwrap();
    assert!(single.passed, "{:?}", single.violations);
    assert_eq!(single.agreed, single.tasks);

    // Twenty workers: ties break by number, so the first task goes to w1, w2, w3
    // (text order gave w1, w10, w11), and work spreads beyond the first nine.
    let mut config = ClusterConfig { workers: honest_workers(20, Default::default()), ..Default::default() };
    config.supervisor.pool.workers_max = 20;
    config.workload.tasks = 40;
    let outcome = run(1, &config).unwrap();
    let results: Vec<_> = outcome.results.values().filter_map(|r| r.result.as_ref()).collect();
    let first: Vec<String> = results[0].metadata.workers_asked.iter().map(ToString::to_string).collect();
    assert_eq!(first, hosts(&["w1", "w2", "w3"]));
    let asked: std::collections::BTreeSet<String> =
        results.iter().flat_map(|r| r.metadata.workers_asked.iter().map(ToString::to_string)).collect();
    assert!(asked.len() >= 10 && asked.contains("w2") && asked.contains("w9"), "work went to {asked:?} only");
}

#[test]
fn item_10_storms_on_fifteen_workers_do_not_fail_tasks() {
    for name in ["rate-limit-storm-15", "garbage-answers-15"] {
        let scenario = find(name).unwrap();
        for seed in 0..3 {
            let (run, _) = run_scenario(&scenario, seed, &Invocation::catalogue(), RunBudget::default()).unwrap();
            assert!(run.passed && run.failed == 0, "{name} seed {seed}: {:?}", run.violations);
        }
    }
}

#[test]
fn item_11_llm_calls_count_calls_made_not_only_calls_finished() {
    let scenario = find("worker-crash").unwrap();
    let (_, outcome) = run_scenario(&scenario, 1, &Invocation::catalogue(), RunBudget::default()).unwrap();
    let events = outcome.trace.events();
    let finished = events.iter().filter(|e| matches!(e.what, Happening::Llm { .. })).count() as u64;
    let made = events.iter().filter(|e| matches!(e.what, Happening::LlmCall { .. })).count() as u64;
    assert_eq!(outcome.report.llm_calls, made);
    assert!(outcome.report.llm_calls > finished, "calls cut short by the crash are counted");
}

mod random_scenario_files {
    use proptest::prelude::*;

    use super::{Invocation, RunBudget, parse_scenario, run_scenario};

    /// A scenario file from a grid of valid and invalid values.
    fn file() -> impl Strategy<Value = String> {
        // Valid values are drawn more often, so that about half the files run.
        let workers = prop::sample::select(vec![0usize, 1, 2, 3, 5, 5, 6]);
        let accuracy = prop::sample::select(vec!["0.5", "0.97", "0.97", "1.0", "1.0", "1.5", "nan", "-1.0"]);
        let host = prop::sample::select(vec!["w1", "w1", "w1", "w2", "w2", "client", "supervisor", "w9", "10.0.0.1"]);
        let kind = prop::sample::select(vec!["crash", "partition", "hold"]);
        let at_ms = prop::sample::select(vec![0u64, 2_000, 2_000, 5_000, 100_000]);
        let duration_ms = prop::sample::select(vec![0u64, 3_000, 3_000, 20_000, 20_000, u64::MAX]);
        let tasks = prop::sample::select(vec![0usize, 1, 12, 12, 12]);
        (workers, accuracy, host, kind, at_ms, duration_ms, tasks).prop_map(
            |(workers, accuracy, host, kind, at_ms, duration_ms, tasks)| {
                let hosts = match kind {
                    "crash" => format!("host = \"{host}\""),
                    _ => format!("left = [\"supervisor\"]\nright = [\"{host}\"]"),
                };
                format!(
                    "name = \"random\"\nworkers = {workers}\n[profile]\naccuracy = {accuracy}\n[cluster]\n\
                     fault_phase_ms = 30000\nworkload = {{ tasks = {tasks} }}\n[[cluster.faults.faults]]\n\
                     at_ms = {at_ms}\nduration_ms = {duration_ms}\nkind = \"{kind}\"\n{hosts}\n"
                )
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Valid files run to the end without panic or hang; invalid ones are refused
        /// with a message naming a line or field (the CLI exits 2 on them).
        #[test]
        fn valid_files_run_and_invalid_files_are_refused(text in file()) {
            match parse_scenario(&text) {
                Ok(scenario) => {
                    let budget = RunBudget { wall_ms_max: 60_000, ..RunBudget::default() };
                    let (run, _) = run_scenario(&scenario, 1, &Invocation::catalogue(), budget).unwrap();
                    let harness_failure = run
                        .failure
                        .as_ref()
                        .is_some_and(|f| matches!(f, quorum_scenarios::FailureKind::Panic | quorum_scenarios::FailureKind::Stuck));
                    prop_assert!(!harness_failure, "{text}\n{:?}", run.violations);
                }
                Err(error) => {
                    let message = error.to_string();
                    prop_assert!(message.contains("line") || message.contains("workers"), "{text}\n{message}");
                }
            }
        }
    }
}
