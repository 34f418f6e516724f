//! The supervisor's journal under simulated crashes: redb on turmoil's file system,
//! where a crash loses every write that was not synced. The client of the durable
//! scenarios never resubmits, so only the journal can keep "accepted" meaning "will
//! get a result".

use quorum_scenarios::{Invocation, Scenario, find, parse_scenario, run_scenario};
use quorum_sim::{Happening, Invariant, RunBudget, Transport, check_determinism, run};

const SEEDS: [u64; 4] = [1, 2, 3, 4];

fn durable(name: &str) -> Scenario {
    let scenario = find(name).unwrap();
    assert!(scenario.cluster.journal && !scenario.cluster.client.resubmit, "{name} is durable");
    scenario
}

#[test]
fn the_journal_alone_gives_every_accepted_task_exactly_one_result_through_crashes() {
    for name in ["supervisor-crash-durable", "crash-loop"] {
        let scenario = durable(name);
        let mut resumed = 0;
        for seed in SEEDS {
            let (summary, outcome) =
                run_scenario(&scenario, seed, &Invocation::catalogue(), RunBudget::default()).unwrap();
            assert!(summary.passed, "{name} seed {seed}: {}", outcome.failure_report(&summary.replay));
            assert_eq!(outcome.results.len(), scenario.cluster.workload.tasks);
            assert!(outcome.results.values().all(|record| record.result.is_some()));
            // A submit whose reply a crash swallowed is sent again; a task the
            // supervisor acknowledged never is.
            let resubmitted =
                outcome.trace.events().iter().any(|event| matches!(event.what, Happening::Resubmit { .. }));
            assert!(!resubmitted, "{name} seed {seed}: the client resubmitted an accepted task");
            resumed += outcome
                .trace
                .events()
                .iter()
                .filter(|event| matches!(event.what, Happening::Recovered { unfinished, .. } if unfinished > 0))
                .count();
        }
        // The crashes hit tasks in flight: some restarts resumed unfinished work.
        assert!(resumed > 0, "{name}: no restart ever resumed a task");
    }
}

#[test]
fn without_the_journal_the_same_crashes_lose_accepted_tasks() {
    let mut scenario = durable("supervisor-crash-durable");
    scenario.cluster.journal = false;
    let lost = SEEDS.iter().any(|seed| {
        let outcome = run(*seed, &scenario.cluster).unwrap();
        outcome.violations.iter().any(|violation| violation.invariant == Invariant::Liveness)
    });
    assert!(lost, "a client that never resubmits needs the journal: these crashes must lose a task without it");
}

#[test]
fn durable_runs_replay_exactly_on_either_transport() {
    for name in ["supervisor-crash-durable", "crash-loop"] {
        let mut scenario = durable(name);
        for transport in [Transport::Frames, Transport::Grpc] {
            scenario.cluster.transport = transport;
            let hash = check_determinism(7, &scenario.cluster).unwrap();
            assert!(hash.is_ok(), "{name} over {}: {:?}", transport.name(), hash.unwrap_err());
        }
    }
}

#[test]
fn scenario_files_turn_the_journal_on_and_resubmission_off() {
    let text = r#"
        name = "durable-file"
        workers = 3
        [cluster]
        journal = true
        client = { resubmit = false }
    "#;
    let scenario = parse_scenario(text).unwrap();
    assert!(scenario.cluster.journal);
    assert!(!scenario.cluster.client.resubmit);
    let typo = text.replace("resubmit", "resubmitt");
    let error = parse_scenario(&typo).map(|_| ()).unwrap_err().to_string();
    assert!(error.contains("resubmitt"), "{error}");
}
