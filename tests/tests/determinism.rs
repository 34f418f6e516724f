//! The same seed gives the same trace, under configs that pile many events onto one
//! simulation tick: there, any order that leaks from a hash map, a thread or the wall
//! clock shows as a different trace hash.

use quorum_core::mock::workload::{Arrival, WorkloadConfig};
use quorum_sim::{ClusterBuilder, ClusterConfig, Fault, FaultKind, Swarm, run};

const SEEDS: [u64; 3] = [1, 17, 4_242];

fn assert_deterministic(name: &str, config: &ClusterConfig) {
    let mut hashes = Vec::new();
    for seed in SEEDS {
        let first = run(seed, config).unwrap();
        let second = run(seed, config).unwrap();
        let replay = format!("cargo test -p quorum-tests --test determinism ({name}, seed {seed})");
        assert!(first.passed(), "{}", first.failure_report(&replay));
        assert_eq!(first.results.len(), config.workload.tasks, "{name}, seed {seed}: tasks lost");
        assert_eq!(first.trace_hash(), second.trace_hash(), "{name}, seed {seed}: two runs diverged");
        assert_eq!(first.trace.events(), second.trace.events());
        hashes.push(first.trace_hash());
    }
    // A trace that ignored its seed would be deterministic and prove nothing.
    hashes.dedup();
    assert_eq!(hashes.len(), SEEDS.len(), "{name}: different seeds gave the same trace");
}

/// Every task arrives at once on a coarse clock, for many workers.
#[test]
fn a_burst_on_coarse_ticks_replays_exactly() {
    let mut config = ClusterBuilder::new()
        .workers(15)
        .workload(WorkloadConfig {
            tasks: 24,
            arrival: Arrival::Bursts { size: 24, gap_ms: 1_000 },
            ..WorkloadConfig::default()
        })
        .fault_phase_ms(5_000)
        .liveness_ms(60_000)
        .build()
        .unwrap();
    config.tick_ms = 100;
    config.latency_ms_max = 1;
    assert_deterministic("burst", &config);
}

/// Random crashes, partitions and a supervisor crash while tasks arrive in bursts.
#[test]
fn a_swarm_with_crashes_replays_exactly() {
    let mut config = ClusterBuilder::new()
        .workers(7)
        .spares(2)
        .workload(WorkloadConfig {
            tasks: 10,
            arrival: Arrival::Bursts { size: 5, gap_ms: 2_000 },
            ..WorkloadConfig::default()
        })
        .swarm(Swarm { intensity: 0.6, ..Swarm::default() })
        .fault(Fault { at_ms: 1_000, duration_ms: 3_000, kind: FaultKind::Crash { host: "w1".into() } })
        .fault_phase_ms(10_000)
        .liveness_ms(60_000)
        .build()
        .unwrap();
    config.tick_ms = 100;
    assert_deterministic("swarm", &config);
}
