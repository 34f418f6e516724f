//! P2P mode in simulation: every P2P scenario keeps safety, validity and liveness
//! and replays exactly; faults and byzantine agents do what their scenarios say; and
//! the invariants fail when the assumptions behind them do.

use quorum_scenarios::{Invocation, Scenario, find, parse_scenario, run_scenario};
use quorum_sim::{AgentBehaviour, Happening, Invariant, Mode, RunBudget, RunOutcome, check_determinism, run};

const SCENARIOS: [&str; 9] = [
    "p2p-baseline",
    "p2p-leader-crash",
    "p2p-partition-minority",
    "p2p-partition-leader",
    "p2p-equivocating-leader",
    "p2p-twins",
    "p2p-byzantine-voters",
    "p2p-reordering",
    "p2p-delegation",
];

fn p2p(name: &str) -> Scenario {
    let scenario = find(name).unwrap();
    assert_eq!(scenario.cluster.mode, Mode::P2p, "{name}");
    scenario
}

fn passing_run(scenario: &Scenario, seed: u64) -> RunOutcome {
    let (summary, outcome) = run_scenario(scenario, seed, &Invocation::catalogue(), RunBudget::default()).unwrap();
    assert!(summary.passed, "{} seed {seed}: {}", scenario.name, outcome.failure_report(&summary.replay));
    outcome
}

/// Hosts that committed after `after_ms`.
fn committed_after(outcome: &RunOutcome, host: &str, after_ms: u64) -> usize {
    let events = outcome.trace.events();
    events
        .iter()
        .filter(|e| e.host == host && e.at_ms > after_ms && matches!(e.what, Happening::Committed { .. }))
        .count()
}

#[test]
fn every_p2p_scenario_passes_and_replays_exactly() {
    for name in SCENARIOS {
        let scenario = p2p(name);
        for seed in 0..3 {
            let outcome = passing_run(&scenario, seed);
            let report = outcome.report.p2p.as_ref().expect("a p2p run reports its views and commits");
            assert!(report.blocks_committed >= scenario.cluster.workload.tasks, "{name} seed {seed}: {report:?}");
            assert!(report.commit_views_p50 >= 2, "three-chain: a block commits views after its own: {report:?}");
        }
        let hash = check_determinism(7, &scenario.cluster).unwrap().unwrap_or_else(|d| panic!("{name}: {d:?}"));
        assert_eq!(hash.len(), 16);
    }
}

#[test]
fn a_crashed_leader_restarts_from_its_safety_state_and_commits_again() {
    let scenario = p2p("p2p-leader-crash");
    for seed in 0..3 {
        let outcome = passing_run(&scenario, seed);
        let events = outcome.trace.events();
        let restart = events
            .iter()
            .find(|e| e.host == "a1" && matches!(e.what, Happening::AgentStart { restored: true }))
            .unwrap_or_else(|| panic!("seed {seed}: a1 never restarted from its safety state"));
        assert!(committed_after(&outcome, "a1", restart.at_ms) > 0, "seed {seed}: a1 never caught up");
        assert!(outcome.report.p2p.as_ref().unwrap().view_timeouts > 0, "seed {seed}: no view change");
    }
}

#[test]
fn a_cut_off_minority_and_a_cut_off_leader_catch_up_after_the_heal() {
    for (name, host) in [("p2p-partition-minority", "a3"), ("p2p-partition-leader", "a1")] {
        let scenario = p2p(name);
        let heal_ms = scenario.cluster.faults.faults[0].at_ms + scenario.cluster.faults.faults[0].duration_ms;
        let outcome = passing_run(&scenario, 2);
        assert!(committed_after(&outcome, host, heal_ms) > 0, "{name}: {host} never caught up");
    }
}

#[test]
fn equivocation_and_double_votes_are_refused_not_committed() {
    let equivocating = passing_run(&p2p("p2p-equivocating-leader"), 4);
    let counters = &equivocating.report.p2p.as_ref().unwrap().counters;
    assert!(counters["byzantine_equivocations"] > 0 && counters["refused_already_voted"] > 0, "{counters:?}");
    let twins = passing_run(&p2p("p2p-twins"), 4);
    let counters = &twins.report.p2p.as_ref().unwrap().counters;
    let caught = counters.get("refused_equivocating_vote").copied().unwrap_or(0)
        + counters.get("refused_already_voted").copied().unwrap_or(0);
    assert!(caught > 0, "twins' double votes and proposals were never refused: {counters:?}");
}

#[test]
fn delegation_commits_plans_subtasks_and_compositions_down_to_depth_two() {
    let outcome = passing_run(&p2p("p2p-delegation"), 1);
    let committed: Vec<String> = outcome
        .trace
        .events()
        .iter()
        .filter(|e| e.host == "a0")
        .filter_map(|e| match &e.what {
            Happening::Committed { task, .. } => Some(task.to_string()),
            _ => None,
        })
        .collect();
    assert!(committed.iter().any(|t| t.ends_with("/plan")), "{committed:?}");
    let depth_two = committed.iter().any(|t| t.matches('/').count() == 2 && !t.ends_with("/plan"));
    assert!(depth_two, "no subtask of a subtask was committed: {committed:?}");
    assert!(!committed.iter().any(|t| t.matches('/').count() == 3), "depth 3 is beyond the bound: {committed:?}");
}

#[test]
fn more_than_f_silent_agents_leave_tasks_uncommitted() {
    // Two silent agents of four: no quorum of three, so nothing commits and
    // liveness fails: the check is real.
    let mut scenario = p2p("p2p-baseline");
    for index in [1, 2] {
        scenario.cluster.p2p.agents[index].behaviour = AgentBehaviour::Silent;
    }
    scenario.cluster.liveness_ms = 20_000;
    let outcome = run(1, &scenario.cluster).unwrap();
    assert!(outcome.violations.iter().any(|v| v.invariant == Invariant::Liveness), "{:?}", outcome.violations);
    assert_eq!(outcome.report.p2p.as_ref().unwrap().blocks_committed, 0);
}

#[test]
fn p2p_scenario_files_parse_and_bad_ones_name_the_field() {
    let text = r#"
name = "my-p2p"
description = "five agents, one silent"
[cluster]
mode = "p2p"
[cluster.p2p]
view_timeout_ms = 500
[[cluster.p2p.agents]]
name = "a0"
[[cluster.p2p.agents]]
name = "a1"
behaviour = "silent"
[[cluster.p2p.agents]]
name = "a2"
[[cluster.p2p.agents]]
name = "a3"
twin = true
"#;
    let scenario = parse_scenario(text).unwrap();
    assert_eq!(scenario.cluster.mode, Mode::P2p);
    assert_eq!(scenario.cluster.p2p.agents[1].behaviour, AgentBehaviour::Silent);
    assert_eq!(scenario.cluster.worker_names(), vec!["a0", "a1", "a2", "a3", "a3-twin"]);
    let bad = text.replace("view_timeout_ms = 500", "view_timeout_ms = 0");
    let error = parse_scenario(&bad).unwrap_err().to_string();
    assert!(error.contains("view_timeout_ms"), "{error}");
    let twice = text.replace("name = \"a2\"", "name = \"a0\"");
    let error = parse_scenario(&twice).unwrap_err().to_string();
    assert!(error.contains("p2p.agents[2].name"), "{error}");
}
