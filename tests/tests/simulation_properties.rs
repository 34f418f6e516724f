//! Invariants hold for any seed under any fault plan.

use proptest::prelude::*;
use quorum_sim::{ClusterConfig, Fault, FaultKind, FaultPlan, Swarm, run};

/// Runs per property: each is a whole cluster simulation, so fewer than the pure
/// properties; `QUORUM_SIM_CASES` sets another number.
const CASES: u32 = 24;

fn cases() -> u32 {
    std::env::var("QUORUM_SIM_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(CASES)
}

const HOSTS: [&str; 6] = ["supervisor", "w1", "w2", "w3", "w4", "w5"];

fn side() -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(HOSTS.to_vec(), 1..=3)
        .prop_map(|hosts| hosts.into_iter().map(str::to_owned).collect())
}

fn fault() -> impl Strategy<Value = Fault> {
    let kind = prop_oneof![
        (side(), side()).prop_map(|(left, right)| FaultKind::Partition { left, right }),
        (side(), side()).prop_map(|(from, to)| FaultKind::PartitionOneWay { from, to }),
        (side(), side()).prop_map(|(left, right)| FaultKind::Hold { left, right }),
        proptest::sample::select(HOSTS.to_vec()).prop_map(|host| FaultKind::Crash { host: host.to_owned() }),
        (side(), side(), 100u64..5_000).prop_map(|(left, right, latency_ms)| FaultKind::Latency {
            left,
            right,
            latency_ms
        }),
        (0.1f64..1.0).prop_map(|error_rate| FaultKind::LlmStorm { error_rate }),
    ];
    (0u64..25_000, 500u64..15_000, kind).prop_map(|(at_ms, duration_ms, kind)| Fault { at_ms, duration_ms, kind })
}

fn plan() -> impl Strategy<Value = FaultPlan> {
    (proptest::collection::vec(fault(), 0..6), proptest::option::of(0.1f64..0.6)).prop_map(|(faults, swarm)| {
        FaultPlan { faults, swarm: swarm.map(|intensity| Swarm { intensity, ..Swarm::default() }) }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_for_any_seed_and_fault_plan(seed in any::<u64>(), faults in plan(), tasks in 5usize..25) {
        let mut config = ClusterConfig { faults, fault_phase_ms: 30_000, ..ClusterConfig::default() };
        config.workload.tasks = tasks;
        let outcome = run(seed, &config).unwrap();
        let replay = format!("quorum_sim::run({seed}, &ClusterConfig {{ faults: {:?}, .. }})", config.faults);
        prop_assert!(outcome.passed(), "{}", outcome.failure_report(&replay));
        prop_assert_eq!(outcome.results.values().filter(|r| r.result.is_some()).count(), tasks);
    }
}
