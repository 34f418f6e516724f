//! P2P mode in simulation (`mode = "p2p"`): no supervisor; agents are turmoil hosts
//! running quorum-core's [`quorum_core::p2p::Agent`] (HotStuff among the agents, a
//! rotating super agent, delegation), the client submits to any of them, and the
//! same faults (crashes, partitions, holds, latency, LLM storms) hit agents as they
//! hit workers.
//!
//! - `config`: [`P2pConfig`], each agent's [`AgentPlan`] and [`AgentBehaviour`]
//!   (honest, silent, equivocating, votes for anything; twins);
//! - `agent_host`: the agent's driver over turmoil TCP and its byzantine wrappers;
//! - `client`: the P2P client;
//! - `checks`: safety and validity over every honest agent's commits;
//! - here: the hosts of one run, and its P2P numbers ([`P2pReport`]).

mod agent_host;
mod checks;
mod client;
mod config;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use quorum_core::mock::LlmControl;
use quorum_core::mock::workload::{PlannedTask, TruthBook};
use quorum_core::p2p::{AgentConfig, AgentId, AgentKey, AgentRegistry};

pub use config::{AgentBehaviour, AgentPlan, P2pConfig, honest_agents};

use crate::client::ClientLog;
use crate::cluster::{CLIENT_HOST, ClusterConfig};
use crate::invariants::Violation;
use crate::trace::{Happening, Trace, TraceEvent};
use agent_host::{AgentSpec, CommitLog, Counters, SafetyDisk, agent_host};
use client::{P2pClientSpec, p2p_client};

/// What the harness shares with the agent hosts of one run.
#[derive(Clone, Debug, Default)]
pub(crate) struct P2pShared {
    disk: SafetyDisk,
    commits: CommitLog,
    counters: Counters,
}

/// What the hosts of a P2P run need from the harness.
pub(crate) struct P2pWorld<'a> {
    pub seed: u64,
    pub config: &'a ClusterConfig,
    pub shared: &'a P2pShared,
    pub truths: Arc<TruthBook>,
    pub control: LlmControl,
    pub workload: Vec<PlannedTask>,
    pub log: ClientLog,
    pub violations: Arc<Mutex<Vec<Violation>>>,
    pub trace: Trace,
}

/// The agents' keys, drawn from the seed (one per identity: a twin shares its
/// sibling's), and the registry of them.
fn identities(seed: u64, p2p: &P2pConfig) -> (Vec<AgentKey>, AgentRegistry) {
    let keys: Vec<AgentKey> =
        p2p.agents.iter().map(|plan| AgentKey::from_seed(AgentId::new(plan.name.clone()), seed)).collect();
    let registry = AgentRegistry::from_keys(keys.iter().map(|key| (key.id().clone(), key.verifying_key())))
        .expect("validated: 1..=AGENTS_MAX distinct host names");
    (keys, registry)
}

/// Adds every agent host (twins included) and the client.
pub(crate) fn add_hosts(sim: &mut turmoil::Sim<'_>, world: P2pWorld<'_>) {
    let p2p = &world.config.p2p;
    let (keys, registry) = identities(world.seed, p2p);
    let mut hosts: BTreeMap<AgentId, Vec<String>> = BTreeMap::new();
    for (plan, key) in p2p.agents.iter().zip(&keys) {
        let entry = hosts.entry(key.id().clone()).or_default();
        entry.push(plan.name.clone());
        if plan.twin {
            entry.push(plan.twin_host());
        }
    }
    let hosts = Arc::new(hosts);
    for (plan, key) in p2p.agents.iter().zip(keys) {
        let names = [Some(plan.name.clone()), plan.twin.then(|| plan.twin_host())];
        for host in names.into_iter().flatten() {
            let spec = AgentSpec {
                plan: plan.clone(),
                host: host.clone(),
                config: AgentConfig { asks_in_flight_max: world.config.worker.capacity as usize, ..p2p.agent_config() },
                key: key.clone(),
                registry: registry.clone(),
                hosts: Arc::clone(&hosts),
                worker: world.config.worker.clone(),
                seed: world.seed,
                truths: Arc::clone(&world.truths),
                control: world.control.clone(),
                disk: Arc::clone(&world.shared.disk),
                commits: Arc::clone(&world.shared.commits),
                counters: Arc::clone(&world.shared.counters),
                trace: world.trace.clone(),
            };
            sim.host(host.as_str(), move || agent_host(spec.clone()));
        }
    }
    let client = p2p_client(P2pClientSpec {
        workload: world.workload,
        agents: p2p.agents.iter().map(|plan| plan.name.clone()).collect(),
        consensus: p2p.consensus.clone(),
        log: world.log,
        violations: world.violations,
        trace: world.trace,
    });
    sim.client(CLIENT_HOST, client);
}

/// Safety and validity over the honest agents' commits (twins and byzantine agents
/// are not held to anything).
pub(crate) fn check(seed: u64, config: &ClusterConfig, shared: &P2pShared) -> Vec<Violation> {
    let (_, registry) = identities(seed, &config.p2p);
    let commits = shared.commits.lock().unwrap_or_else(PoisonError::into_inner);
    let honest: BTreeMap<String, Vec<_>> = config
        .p2p
        .agents
        .iter()
        .filter(|plan| !plan.is_byzantine())
        .filter_map(|plan| commits.get(&plan.name).map(|log| (plan.name.clone(), log.clone())))
        .collect();
    checks::check_commits(&honest, &registry, &config.p2p.consensus)
}

/// The P2P numbers of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct P2pReport {
    /// Agents (identities).
    pub agents: usize,
    /// Byzantine agents (by behaviour or twin).
    pub byzantine: usize,
    /// The highest view any agent proposed or voted in.
    pub views_max: u64,
    /// Blocks proposed (by any agent, byzantine ones included).
    pub proposals: u64,
    /// Votes cast.
    pub votes: u64,
    /// View timer expiries (NEW-VIEW sent).
    pub view_timeouts: u64,
    /// Distinct blocks committed (with a task).
    pub blocks_committed: usize,
    /// Commit latency in views: how many views after its own view an agent
    /// committed a block, median over every honest agent's commits.
    pub commit_views_p50: u64,
    /// The same, the largest.
    pub commit_views_max: u64,
    /// Tasks delegated into subtasks.
    pub delegated: usize,
    /// Refusals by kind (`refused_*`) and byzantine acts (`byzantine_*`), summed over
    /// agents and their restarts.
    pub counters: BTreeMap<String, u64>,
}

/// The P2P numbers, from the trace and the shared counters.
pub(crate) fn report(config: &ClusterConfig, shared: &P2pShared, events: &[TraceEvent]) -> P2pReport {
    let honest: Vec<&str> =
        config.p2p.agents.iter().filter(|plan| !plan.is_byzantine()).map(|plan| plan.name.as_str()).collect();
    let mut report = P2pReport {
        agents: config.p2p.agents.len(),
        byzantine: config.p2p.agents.iter().filter(|plan| plan.is_byzantine()).count(),
        counters: shared.counters.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        ..P2pReport::default()
    };
    let mut blocks = BTreeMap::new();
    let mut delegated = BTreeMap::new();
    let mut commit_views = Vec::new();
    for event in events {
        match &event.what {
            Happening::Proposed { view, .. } => {
                report.proposals += 1;
                report.views_max = report.views_max.max(*view);
            }
            Happening::Voted { view, .. } => {
                report.votes += 1;
                report.views_max = report.views_max.max(*view);
            }
            Happening::ViewTimeout { .. } => report.view_timeouts += 1,
            Happening::Committed { view, at_view, block, .. } if honest.contains(&event.host.as_str()) => {
                blocks.insert(block.clone(), ());
                commit_views.push(at_view.saturating_sub(*view));
            }
            Happening::Delegated { task, .. } => {
                delegated.insert(task.clone(), ());
            }
            _ => {}
        }
    }
    commit_views.sort_unstable();
    report.blocks_committed = blocks.len();
    report.commit_views_p50 = commit_views.get(commit_views.len() / 2).copied().unwrap_or(0);
    report.commit_views_max = commit_views.last().copied().unwrap_or(0);
    report.delegated = delegated.len();
    report
}
