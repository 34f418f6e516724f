//! The built-in P2P scenarios (`mode = "p2p"`): agents without a supervisor commit
//! every result by HotStuff. Each keeps the P2P invariants (safety: no fork, no two
//! results for a task; validity: every committed decision recomputes from its signed
//! answers; liveness: every task committed by the deadline) on every seed.

use quorum_core::p2p::DelegationLimits;
use quorum_sim::{
    AgentBehaviour, Byzantine, ClusterConfig, Fault, FaultKind, LlmProfile, Mode, P2pConfig, honest_agents,
};

use crate::scenario::{Expectations, Scenario};

/// Every P2P scenario, in catalogue order.
pub(crate) fn p2p_catalogue() -> Vec<Scenario> {
    vec![
        p2p_baseline(),
        p2p_leader_crash(),
        p2p_partition_minority(),
        p2p_partition_leader(),
        p2p_equivocating_leader(),
        p2p_twins(),
        p2p_byzantine_voters(),
        p2p_reordering(),
        p2p_delegation(),
    ]
}

fn scenario(name: &str, description: &str, cluster: ClusterConfig, expect: Expectations) -> Scenario {
    Scenario { name: name.to_owned(), description: description.to_owned(), cluster, expect }
}

/// Right answers unless said otherwise (as the supervisor catalogue's `reliable`).
fn reliable() -> LlmProfile {
    LlmProfile { accuracy: 0.97, ..LlmProfile::default() }
}

/// `count` reliable agents `a0..`, 20 tasks one every 500 ms, faults by 30 s.
fn agents(count: usize) -> ClusterConfig {
    let p2p = P2pConfig { agents: honest_agents(count, &reliable()), ..P2pConfig::default() };
    ClusterConfig { mode: Mode::P2p, p2p, fault_phase_ms: 30_000, ..ClusterConfig::default() }
}

/// Like [`agents`], with tasks arriving until `until_ms` so that work is still
/// coming in when the faults end.
fn agents_until(count: usize, until_ms: u64) -> ClusterConfig {
    let mut cluster = agents(count);
    cluster.workload.tasks = (until_ms / 500) as usize + 1;
    cluster
}

fn hosts(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

fn fault(at_ms: u64, duration_ms: u64, kind: FaultKind) -> Fault {
    Fault { at_ms, duration_ms, kind }
}

fn healthy() -> Expectations {
    Expectations { failed_max: Some(0), accuracy_min: Some(0.8), ..Expectations::default() }
}

fn healthy_after_faults() -> Expectations {
    Expectations { faults_played_out: true, ..healthy() }
}

fn p2p_baseline() -> Scenario {
    scenario(
        "p2p-baseline",
        "four honest agents, no faults: every task is committed, agreed answers right",
        agents(4),
        // Not all_agreed: a block decides over the answers its leader held (a quorum,
        // maybe all), without the supervisor's further rounds, so two wrong answers of
        // four can leave a task without consensus (seed 181).
        Expectations { accuracy_min: Some(0.85), ..healthy() },
    )
}

fn p2p_leader_crash() -> Scenario {
    let mut cluster = agents_until(4, 27_000);
    // a1 leads view 1 (round robin over the sorted ids) and every fourth view after.
    cluster.p2p.agents[1].profile.latency.base_ms = 1_500;
    cluster.faults.faults.push(fault(2_000, 15_000, FaultKind::Crash { host: "a1".to_owned() }));
    scenario(
        "p2p-leader-crash",
        "the first view's leader crashes with tasks in flight and restarts 15 s later from its safety state; \
         the pacemaker moves past its views meanwhile",
        cluster,
        healthy_after_faults(),
    )
}

fn p2p_partition_minority() -> Scenario {
    let mut cluster = agents_until(4, 27_000);
    cluster.faults.faults.push(fault(
        2_000,
        20_000,
        FaultKind::Partition { left: hosts(&["a3"]), right: hosts(&["a0", "a1", "a2"]) },
    ));
    scenario(
        "p2p-partition-minority",
        "one agent of four is cut off from the others for 20 s: the other three (a quorum) go on committing; \
         it catches up after the heal",
        cluster,
        healthy_after_faults(),
    )
}

fn p2p_partition_leader() -> Scenario {
    let mut cluster = agents_until(4, 27_000);
    cluster.faults.faults.push(fault(
        1_000,
        20_000,
        FaultKind::Partition { left: hosts(&["a1"]), right: hosts(&["a0", "a2", "a3"]) },
    ));
    scenario(
        "p2p-partition-leader",
        "the first view's leader is cut off from its peers (not from the client) for 20 s: its views time out \
         and the others' commit; tasks it took alone commit after the heal",
        cluster,
        healthy_after_faults(),
    )
}

fn p2p_equivocating_leader() -> Scenario {
    let mut cluster = agents(4);
    cluster.p2p.agents[1].behaviour = AgentBehaviour::Equivocating;
    let counters = [("byzantine_equivocations".to_owned(), 1), ("refused_already_voted".to_owned(), 1)];
    let expect = Expectations { p2p_counters_min: counters.into(), ..healthy() };
    scenario(
        "p2p-equivocating-leader",
        "one agent of four sends two proposals in each view it leads: honest agents vote for at most one, \
         and nothing forks",
        cluster,
        expect,
    )
}

fn p2p_twins() -> Scenario {
    let mut cluster = agents(4);
    cluster.p2p.agents[3].twin = true;
    scenario(
        "p2p-twins",
        "two honest programs share one identity (the Twins approach): double votes and double proposals \
         from a byzantine agent nobody wrote; nothing forks",
        cluster,
        healthy(),
    )
}

fn p2p_byzantine_voters() -> Scenario {
    let mut cluster = agents(7);
    for index in [2, 5] {
        let plan = &mut cluster.p2p.agents[index];
        plan.behaviour = AgentBehaviour::VotesForAnything;
        plan.profile.byzantine = Some(Byzantine::AlwaysWrong);
    }
    let expect = Expectations {
        no_wrong_answers: true,
        p2p_counters_min: [("byzantine_votes".to_owned(), 1)].into(),
        ..healthy()
    };
    scenario(
        "p2p-byzantine-voters",
        "f = 2 of seven agents answer wrong and vote for every proposal they see: the honest quorum decides \
         and commits",
        cluster,
        expect,
    )
}

fn p2p_reordering() -> Scenario {
    let mut cluster = agents_until(4, 27_000);
    let all = hosts(&["a0", "a1", "a2", "a3"]);
    cluster.faults.faults.push(fault(
        1_000,
        25_000,
        FaultKind::Latency { left: all.clone(), right: all, latency_ms: 1_500 },
    ));
    scenario(
        "p2p-reordering",
        "every message between agents is delayed up to 1.5 s for 25 s, so messages overtake each other: \
         proposals after their votes, blocks after their children",
        cluster,
        healthy_after_faults(),
    )
}

fn p2p_delegation() -> Scenario {
    let mut cluster = agents(4);
    cluster.workload.tasks = 10;
    for plan in &mut cluster.p2p.agents {
        plan.profile.planner.delegate_probability = 0.6;
        plan.profile.planner.malformed_probability = 0.1;
    }
    cluster.p2p.delegation = Some(DelegationLimits { depth_max: 2, ..DelegationLimits::default() });
    let expect = Expectations { delegated_min: Some(1), ..healthy() };
    scenario(
        "p2p-delegation",
        "super agents split tasks into subtasks down to depth 2 (a malformed plan falls back to executing): \
         each plan, subtask and composition is committed",
        cluster,
        expect,
    )
}
