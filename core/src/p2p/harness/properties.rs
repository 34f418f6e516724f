//! Properties of the HotStuff replicas over random networks, byzantine agents,
//! crashes and seeds. Each property runs at least 1,000 cases (`PROPTEST_CASES`
//! raises it); a failure prints the minimal scenario, its seed included, which
//! replays it exactly.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::{Behaviour, Network, P2pCluster};
use crate::TaskId;
use crate::p2p::block::BlockHash;
use crate::p2p::validation::validate_payload;

const CASES: u32 = 1_000;
/// Far more steps than any scenario here takes (1,300 at most over 200 cases):
/// reaching it is a livelock.
const STEPS_MAX: usize = 20_000;
/// Views an honest replica may pass after the heal before every task commits (14 at
/// most over 200 cases: catching up, byzantine leaders' views, three-chains).
const VIEWS_AFTER_HEAL_MAX: u64 = 30;

/// One generated run.
#[derive(Clone, Debug)]
struct Scenario {
    seed: u64,
    behaviours: Vec<Behaviour>,
    network: Network,
    /// `(agent index, at_ms, restart_ms)` of honest agents.
    crashes: Vec<(usize, u64, u64)>,
    /// `(at_ms, a, b)`: "a + b" submitted at `at_ms`.
    tasks: Vec<(u64, u32, u32)>,
}

fn byzantine() -> impl Strategy<Value = Behaviour> {
    prop_oneof![Just(Behaviour::Silent), Just(Behaviour::Equivocating), Just(Behaviour::VotesForAnything)]
}

/// n = 4 (three times in four) or 7 agents, up to f of them byzantine, in any seats.
fn behaviours() -> impl Strategy<Value = Vec<Behaviour>> {
    prop_oneof![3 => Just(4usize), 1 => Just(7usize)].prop_flat_map(|n| {
        let f = (n - 1) / 3;
        prop::collection::vec(byzantine(), 0..=f).prop_flat_map(move |bad| {
            let mut all = bad;
            all.resize(n, Behaviour::Honest);
            Just(all).prop_shuffle()
        })
    })
}

fn network(heals: bool) -> impl Strategy<Value = Network> {
    (1u64..=300, 0.0f64..0.5, 0u64..=3_000, 1u64..=20).prop_map(move |(delay, drop, heal, healed)| Network {
        delay_ms_max: delay,
        drop_probability: drop,
        heal_ms: if heals { heal } else { u64::MAX },
        delay_ms_max_healed: healed,
    })
}

fn scenario(heals: bool) -> impl Strategy<Value = Scenario> {
    let crashes = prop::collection::vec((0usize..7, 0u64..=3_000, 0u64..=3_000), 0..=2);
    let tasks = prop::collection::vec((0u64..=2_000, 0u32..100, 0u32..100), 1..=3);
    (any::<u64>(), behaviours(), network(heals), crashes, tasks).prop_map(
        |(seed, behaviours, network, crashes, tasks)| {
            // Crashes hit honest agents only, and restart by the heal.
            let crashes = crashes
                .into_iter()
                .map(|(index, at_ms, restart_ms)| {
                    let index = index % behaviours.len();
                    let at_ms = at_ms.min(network.heal_ms);
                    (index, at_ms, (at_ms + restart_ms).min(network.heal_ms.max(at_ms)))
                })
                .filter(|&(index, ..)| !behaviours[index].is_byzantine())
                .collect();
            Scenario { seed, behaviours, network, crashes, tasks }
        },
    )
}

fn cluster(scenario: &Scenario) -> P2pCluster {
    let mut cluster = P2pCluster::new(&scenario.behaviours, scenario.network.clone(), scenario.seed);
    for (index, &(at_ms, a, b)) in scenario.tasks.iter().enumerate() {
        cluster.submit_at(at_ms, &format!("t{index}"), &(a + b).to_string());
    }
    for &(index, at_ms, restart_ms) in &scenario.crashes {
        cluster.crash_at(index, at_ms, restart_ms);
    }
    cluster
}

/// SAFETY: honest replicas never commit two blocks at one height nor one task in two
/// blocks; VALIDITY: every committed task's decision recomputes from its signed
/// answers, all from asked agents, and (with at most f byzantine) is the truth.
fn check_safety_and_validity(cluster: &P2pCluster, scenario: &Scenario) -> Result<(), TestCaseError> {
    let seed = scenario.seed;
    let mut at_height: BTreeMap<u64, BlockHash> = BTreeMap::new();
    let mut of_task: BTreeMap<TaskId, BlockHash> = BTreeMap::new();
    for (agent, commits) in cluster.honest_commits() {
        for commit in commits {
            let height = commit.block.height;
            let first = *at_height.entry(height).or_insert(commit.hash);
            prop_assert_eq!(
                first,
                commit.hash,
                "seed {}: {} committed another block at height {}",
                seed,
                agent,
                height
            );
            let Some(payload) = &commit.block.payload else { continue };
            let first = *of_task.entry(payload.task.clone()).or_insert(commit.hash);
            prop_assert_eq!(
                first,
                commit.hash,
                "seed {}: {} committed {} in a second block",
                seed,
                agent,
                payload.task
            );
            let valid = validate_payload(payload, cluster.registry(), &cluster.config().consensus);
            prop_assert_eq!(valid, Ok(()), "seed {}: {} committed an invalid block", seed, agent);
            let index: usize = payload.task.as_str()[1..].parse().expect("ids are t<index>");
            let (_, a, b) = scenario.tasks[index];
            let truth = (a + b).to_string();
            prop_assert_eq!(payload.decision.answer.as_deref(), Some(truth.as_str()), "seed {}", seed);
        }
    }
    for index in 0..scenario.behaviours.len() {
        if let Some(replica) = cluster.replica(index) {
            prop_assert_eq!(replica.stats().conflicting_commits, 0, "seed {}: a{} saw a fork", seed, index);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(crate::testing::proptest_cases(CASES))]

    /// LIVENESS after the heal, with SAFETY and VALIDITY throughout.
    #[test]
    fn every_task_commits_soon_after_the_heal_and_safely(scenario in scenario(true)) {
        let mut cluster = cluster(&scenario);
        let outcome = cluster.drive_bounded(STEPS_MAX);
        check_safety_and_validity(&cluster, &scenario)?;
        prop_assert!(outcome.is_ok(), "seed {}: {:?}", scenario.seed, outcome);
        let healed = cluster.view_at_heal().unwrap_or_default();
        let views = cluster.honest_view().0.saturating_sub(healed.0);
        prop_assert!(views <= VIEWS_AFTER_HEAL_MAX, "seed {}: {} views after the heal", scenario.seed, views);
    }

    /// SAFETY and VALIDITY on a network that never heals, for a bounded run.
    #[test]
    fn no_fork_on_a_network_that_never_heals(scenario in scenario(false)) {
        let mut cluster = cluster(&scenario);
        for _ in 0..1_500 {
            if cluster.all_committed() || !cluster.step() {
                break;
            }
        }
        check_safety_and_validity(&cluster, &scenario)?;
    }
}
