//! What a P2P cluster runs: its agents, how each behaves, and the agents' config.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use quorum_core::consensus::ConsensusConfig;
use quorum_core::mock::LlmProfile;
use quorum_core::p2p::{AGENTS_MAX, AgentConfig, DelegationLimits, ReplicaConfig};

use crate::cluster::ClusterError;

/// How a simulated agent behaves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentBehaviour {
    /// Follows the protocol (its model may still answer wrong: see its profile).
    #[default]
    Honest,
    /// Byzantine: runs nothing and sends nothing.
    Silent,
    /// Byzantine: as leader, sends half its peers its block and the other half a
    /// conflicting one for the same view (two proposals in one view).
    Equivocating,
    /// Byzantine: besides its own votes, signs a vote for every proposal it sees,
    /// valid or not, to every agent.
    VotesForAnything,
}

impl AgentBehaviour {
    /// Whether the agent is byzantine.
    pub fn is_byzantine(self) -> bool {
        self != Self::Honest
    }
}

/// One agent of a P2P cluster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentPlan {
    /// Host name and agent id.
    pub name: String,
    /// Its model.
    #[serde(default)]
    pub profile: LlmProfile,
    /// How it behaves.
    #[serde(default)]
    pub behaviour: AgentBehaviour,
    /// Whether a second host runs under the same identity (the Twins approach: two
    /// honest programs with one key are one byzantine agent, which double-votes and
    /// double-proposes without any code written to attack).
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub twin: bool,
}

impl AgentPlan {
    /// Whether the agent is byzantine: by behaviour, or by having a twin.
    pub fn is_byzantine(&self) -> bool {
        self.behaviour.is_byzantine() || self.twin
    }

    /// Its twin's host name.
    pub fn twin_host(&self) -> String {
        format!("{}-twin", self.name)
    }
}

/// The P2P side of a cluster (used when `mode = "p2p"`). `Default`: 4 honest agents
/// `a0..a3`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct P2pConfig {
    /// The agents.
    pub agents: Vec<AgentPlan>,
    /// How blocks' decisions are computed (the same on every agent). Default:
    /// [`ConsensusConfig::default`].
    pub consensus: ConsensusConfig,
    /// The first view timeout after progress, ms. Default 1,000.
    pub view_timeout_ms: u64,
    /// The cap of the doubling view timeout, ms. Default 8,000.
    pub view_timeout_ms_max: u64,
    /// How long an agent waits for a quorum of answers before it offers what it
    /// has, ms. Default 10,000.
    pub answer_wait_ms: u64,
    /// Delegation into subtasks (off by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegation: Option<DelegationLimits>,
}

impl Default for P2pConfig {
    fn default() -> Self {
        Self {
            agents: honest_agents(4, &LlmProfile::default()),
            consensus: ConsensusConfig::default(),
            view_timeout_ms: 1_000,
            view_timeout_ms_max: 8_000,
            answer_wait_ms: 10_000,
            delegation: None,
        }
    }
}

/// `count` honest agents `a0..` with `profile`.
pub fn honest_agents(count: usize, profile: &LlmProfile) -> Vec<AgentPlan> {
    (0..count)
        .map(|i| AgentPlan {
            name: format!("a{i}"),
            profile: profile.clone(),
            behaviour: AgentBehaviour::Honest,
            twin: false,
        })
        .collect()
}

impl P2pConfig {
    /// Whether it is the default (a config leaves the default out).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The agents' config.
    pub fn agent_config(&self) -> AgentConfig {
        AgentConfig {
            replica: ReplicaConfig {
                consensus: self.consensus.clone(),
                view_timeout_ms: self.view_timeout_ms,
                view_timeout_ms_max: self.view_timeout_ms_max,
                ..ReplicaConfig::default()
            },
            answer_wait_ms: self.answer_wait_ms,
            delegation: self.delegation,
            ..AgentConfig::default()
        }
    }

    /// Every host: the agents, then the twins.
    pub fn hosts(&self) -> Vec<String> {
        let twins = self.agents.iter().filter(|plan| plan.twin).map(AgentPlan::twin_host);
        self.agents.iter().map(|plan| plan.name.clone()).chain(twins).collect()
    }

    /// Byzantine agents at most for safety: f = (n - 1) / 3.
    pub fn faults_max(&self) -> usize {
        self.agents.len().saturating_sub(1) / 3
    }

    /// Checks the config; `check_host` checks a host name as the cluster's workers'.
    ///
    /// # Errors
    /// [`ClusterError`] naming what is wrong.
    pub(crate) fn validate(
        &self,
        check_host: impl Fn(String, &str) -> Result<(), ClusterError>,
    ) -> Result<(), ClusterError> {
        self.agent_config().validate()?;
        let count = self.agents.len();
        if !(1..=AGENTS_MAX).contains(&count) {
            return Err(ClusterError::invalid("p2p.agents", format!("{count} agents; expected 1..={AGENTS_MAX}")));
        }
        let mut seen = BTreeSet::new();
        for (index, plan) in self.agents.iter().enumerate() {
            check_host(format!("p2p.agents[{index}].name"), &plan.name)?;
            plan.profile.validate(&format!("p2p.agents[{index}].profile"))?;
            if !seen.insert(plan.name.clone()) || (plan.twin && !seen.insert(plan.twin_host())) {
                return Err(ClusterError::invalid(
                    format!("p2p.agents[{index}].name"),
                    format!("{:?} names two hosts (twins are named NAME-twin)", plan.name),
                ));
            }
        }
        // More byzantine agents than f is a scenario about what breaks, which the
        // invariants would then report; it is allowed, and documented here.
        Ok(())
    }
}
