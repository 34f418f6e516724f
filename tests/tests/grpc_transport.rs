//! The simulation over `Transport::Grpc` (`--transport grpc`): the gRPC stack real
//! mode ships (quorum-grpc: tonic, hyper, HTTP/2 keepalive and deadlines) between
//! turmoil hosts. turmoil never resends segments a partition swallowed, so a stream
//! across a cut stalls silently: these tests show the stall becomes a link error,
//! the channels reconnect after the heal, and a run replays exactly.

use quorum_scenarios::{Invocation, Overrides, Scenario, find, run_scenario};
use quorum_sim::{Happening, Reply, RunBudget, Transport, check_determinism};

/// When the catalogue's partitions start and heal.
const CUT_MS: u64 = 2_000;
const HEAL_MS: u64 = 22_000;

fn over_grpc(name: &str) -> (Scenario, Invocation) {
    let mut scenario = find(name).unwrap_or_else(|| panic!("{name} is in the catalogue"));
    let overrides = Overrides { transport: Some(Transport::Grpc), ..Overrides::default() };
    overrides.apply(&mut scenario);
    (scenario, Invocation { overrides, ..Invocation::catalogue() })
}

#[test]
fn a_partition_turns_stalled_grpc_calls_into_link_errors_and_healed_workers_answer_again() {
    for name in ["partition-minority", "one-way-partition"] {
        let (scenario, invocation) = over_grpc(name);
        assert_eq!(scenario.cluster.transport, Transport::Grpc);
        let (summary, outcome) = run_scenario(&scenario, 1, &invocation, RunBudget::default()).unwrap();
        assert!(summary.passed, "{name}: {}", outcome.failure_report(&summary.replay));
        assert!(summary.replay.ends_with("--transport grpc"), "{}", summary.replay);
        let events = outcome.trace.events();
        let from_supervisor = || events.iter().filter(|event| event.host == "supervisor");
        // Every call to a cut worker during the cut ended as a link error.
        let cut_calls: Vec<&str> = from_supervisor()
            .filter(|event| (CUT_MS + 100..HEAL_MS).contains(&event.at_ms))
            .filter_map(|event| match &event.what {
                Happening::Drop { to, error, .. } if to.as_str() == "w1" => Some(error.as_str()),
                Happening::Recv { from, .. } if from.as_str() == "w1" => Some("answered across the cut"),
                _ => None,
            })
            .collect();
        assert!(!cut_calls.is_empty(), "{name}: the supervisor never called w1 during the cut");
        for error in &cut_calls {
            assert!(error.contains("timed out") || error.contains("unavailable"), "{name}: {error}");
        }
        // After the heal, w1's channel reconnects and its answers count again.
        let answered_after_heal = from_supervisor().any(|event| {
            event.at_ms > HEAL_MS
                && matches!(&event.what, Happening::Recv { from, reply: Reply::Answer { .. } } if from.as_str() == "w1")
        });
        assert!(answered_after_heal, "{name}: w1 never answered after the heal");
    }
}

#[test]
fn grpc_runs_replay_exactly_and_differ_by_seed() {
    // Crashes drop hosts' HTTP/2 connections mid-stream: teardown order must not leak.
    for name in ["worker-crash", "supervisor-crash", "swarm"] {
        let (scenario, _) = over_grpc(name);
        let mut hashes = Vec::new();
        for seed in [3, 11] {
            let replay = check_determinism(seed, &scenario.cluster).unwrap();
            let hash = replay.unwrap_or_else(|divergence| panic!("{name} seed {seed} diverged: {divergence:?}"));
            hashes.push(hash);
        }
        assert_ne!(hashes[0], hashes[1], "{name}: two seeds gave one trace");
    }
}

#[test]
fn frames_and_grpc_agree_on_every_result_of_a_fault_free_run() {
    let (over_grpc, invocation) = over_grpc("baseline");
    let frames = find("baseline").unwrap();
    let (grpc_summary, grpc_run) = run_scenario(&over_grpc, 5, &invocation, RunBudget::default()).unwrap();
    let (frames_summary, frames_run) =
        run_scenario(&frames, 5, &Invocation::catalogue(), RunBudget::default()).unwrap();
    assert!(grpc_summary.passed && frames_summary.passed);
    // Different wires, different timing: the traces differ, the answers do not.
    assert_ne!(grpc_run.trace_hash(), frames_run.trace_hash());
    let answers = |run: &quorum_sim::RunOutcome| {
        let answer = |record: &quorum_sim::ClientRecord| record.result.as_ref()?.answer().map(str::to_owned);
        run.results.iter().map(|(task, record)| (task.clone(), answer(record))).collect::<Vec<_>>()
    };
    assert_eq!(answers(&grpc_run), answers(&frames_run));
}
