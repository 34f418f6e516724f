//! Snapshots of fixed seeds: a change that alters behaviour shows up in review.
//!
//! Each snapshot is the run summary without wall time, plus a compact digest of the
//! trace (its hash, event counts by kind, the first results). Everything in it is
//! decided by the seed, so it is byte-identical across runs and machines.

use std::collections::BTreeMap;

use quorum_scenarios::{Invocation, find, run_scenario};
use quorum_sim::RunBudget;

fn digest(name: &str, seed: u64) -> String {
    let scenario = find(name).unwrap();
    let (run, outcome) = run_scenario(&scenario, seed, &Invocation::catalogue(), RunBudget::default()).unwrap();
    let mut summary = serde_json::to_value(&run).unwrap();
    summary.as_object_mut().unwrap().remove("wall_seconds");
    let events = outcome.trace.events();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for event in &events {
        *kinds.entry(event.kind()).or_insert(0) += 1;
    }
    let results: Vec<String> = events
        .iter()
        .filter(|e| e.kind() == "result" && e.host == "client")
        .take(5)
        .map(|e| format!("{} {}", e.at_ms, e.detail()))
        .collect();
    let document = serde_json::json!({
        "summary": summary,
        "trace": { "events": events.len(), "by_kind": kinds, "first_results": results },
    });
    serde_json::to_string_pretty(&document).unwrap()
}

macro_rules! seed_snapshot {
    ($test:ident, $name:expr, $seed:expr) => {
        #[test]
        fn $test() {
            insta::assert_snapshot!(digest($name, $seed));
        }
    };
}

seed_snapshot!(baseline_seed_1, "baseline", 1);
seed_snapshot!(partition_majority_seed_2, "partition-majority", 2);
seed_snapshot!(supervisor_crash_seed_3, "supervisor-crash", 3);
seed_snapshot!(twin_worker_seed_4, "twin-worker", 4);
seed_snapshot!(split_vote_seed_5, "split-vote", 5);
seed_snapshot!(swarm_seed_6, "swarm", 6);
seed_snapshot!(p2p_baseline_seed_1, "p2p-baseline", 1);
seed_snapshot!(p2p_equivocating_leader_seed_2, "p2p-equivocating-leader", 2);
seed_snapshot!(p2p_leader_crash_seed_3, "p2p-leader-crash", 3);
seed_snapshot!(p2p_delegation_seed_4, "p2p-delegation", 4);
