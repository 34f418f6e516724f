use super::*;
use crate::power::PowerConfig;

fn pool_with(ids: &[&str]) -> WorkerPool {
    let mut pool = WorkerPool::new(PoolConfig::default());
    for id in ids {
        pool.register(WorkerId::from(*id), 0);
    }
    pool
}

#[test]
fn statuses_follow_heartbeats_and_failures() {
    let mut pool = pool_with(&["w1"]);
    let w1 = WorkerId::from("w1");
    assert_eq!(pool.status(&w1, 1_000), Some(WorkerStatus::Available));
    assert_eq!(pool.status(&w1, 3_001), Some(WorkerStatus::Suspect));
    assert_eq!(pool.status(&w1, 10_001), Some(WorkerStatus::Offline));
    pool.handle_heartbeat(&w1, 4, 10_500);
    assert_eq!(pool.status(&w1, 10_500), Some(WorkerStatus::Available), "an offline worker recovers");
    assert!(!pool.handle_failure(&w1, 10_600));
    assert_eq!(pool.status(&w1, 10_600), Some(WorkerStatus::Suspect));
    assert!(!pool.handle_failure(&w1, 10_600));
    assert!(pool.handle_failure(&w1, 10_600), "third failure in a row");
    for _ in 0..4 {
        pool.assign(&WorkerId::from("w1"));
    }
    pool.handle_heartbeat(&w1, 4, 11_000);
    assert_eq!(pool.status(&w1, 11_000), Some(WorkerStatus::Busy));
}

#[test]
fn selects_distinct_least_loaded_then_most_powerful() {
    let mut pool = pool_with(&["a", "b", "c", "d"]);
    let mut powers = VotingPowers::new(PowerConfig::default(), crate::consensus::Weighting::Linear);
    powers.record(&WorkerId::from("c"), true, 1.0);
    pool.assign(&WorkerId::from("a"));
    let chosen = pool.select(3, &BTreeSet::new(), &powers, 0);
    assert_eq!(chosen, vec![WorkerId::from("c"), WorkerId::from("b"), WorkerId::from("d")]);
    let exclude: BTreeSet<WorkerId> = [WorkerId::from("c")].into();
    assert!(!pool.select(10, &exclude, &powers, 0).contains(&WorkerId::from("c")));
    assert_eq!(pool.select(10, &BTreeSet::new(), &powers, 0).len(), 4);
}

#[test]
fn scales_up_to_demand_within_max_and_down_when_idle() {
    let mut pool = pool_with(&["a", "b", "c"]);
    // 40 worker slots at 4 each need 10 workers.
    assert_eq!(pool.scaling_decision(40, 5, 0, 0), ScaleDecision::Up(7));
    assert_eq!(pool.scaling_decision(400, 5, 0, 0), ScaleDecision::Up(12), "capped at the maximum");
    assert_eq!(pool.scaling_decision(40, 5, 7, 0), ScaleDecision::Hold, "requested already");
    pool.record_scaling(0);
    assert_eq!(pool.scaling_decision(400, 5, 0, 1_000), ScaleDecision::Hold, "cooldown");
    for id in ["d", "e"] {
        pool.register(WorkerId::from(id), 0);
    }
    for id in ["a", "b", "c", "d", "e"] {
        pool.handle_heartbeat(&WorkerId::from(id), 4, 28_000);
    }
    assert_eq!(pool.scaling_decision(0, 0, 0, 29_000), ScaleDecision::Hold, "not idle long enough");
    for id in ["a", "b", "c", "d", "e"] {
        pool.handle_heartbeat(&WorkerId::from(id), 4, 30_000);
    }
    assert_eq!(pool.scaling_decision(0, 0, 0, 30_000), ScaleDecision::Down(WorkerId::from("e")));
    let mut small = pool_with(&["a", "b", "c"]);
    small.record_scaling(0);
    assert_eq!(
        small.scaling_decision(0, 0, 0, 60_000),
        ScaleDecision::Up(3),
        "heartbeats missing: replace offline workers"
    );
}

#[test]
fn config_validation_names_fields() {
    let bad = PoolConfig { workers_min: 5, workers_max: 2, ..PoolConfig::default() };
    assert!(bad.validate().unwrap_err().to_string().contains("pool.workers_min"));
    let bad = PoolConfig { workers_min: 0, ..PoolConfig::default() };
    assert!(bad.validate().unwrap_err().to_string().contains("pool.workers_min"));
    let bad = PoolConfig { offline_after_ms: 1_000, ..PoolConfig::default() };
    assert!(bad.validate().unwrap_err().to_string().contains("pool.offline_after_ms"));
}
