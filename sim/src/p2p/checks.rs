//! The P2P invariants, checked over every honest agent's commits at the end of a run
//! (liveness is the client's, as in supervisor mode):
//! - safety: no two honest agents committed different blocks at one height (`fork`),
//!   nor different results for one task (`conflicting_results`);
//! - validity: every committed block's task verifies as a voter checks it: each
//!   answer signed by an asked, registered agent, and `decide()` over the answers
//!   giving exactly the block's decision (`validity`).

use std::collections::BTreeMap;

use quorum_core::TaskId;
use quorum_core::consensus::ConsensusConfig;
use quorum_core::p2p::{AgentRegistry, BlockHash, CommittedTask};

use crate::invariants::{Invariant, Violation};

/// Every violation in `commits` (by host, honest hosts only).
pub(crate) fn check_commits(
    commits: &BTreeMap<String, Vec<CommittedTask>>,
    registry: &AgentRegistry,
    consensus: &ConsensusConfig,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut at_height: BTreeMap<u64, (BlockHash, &str)> = BTreeMap::new();
    let mut by_task: BTreeMap<&TaskId, (&CommittedTask, &str)> = BTreeMap::new();
    let mut verified: BTreeMap<BlockHash, ()> = BTreeMap::new();
    for (host, log) in commits {
        for done in log {
            let task = done.task();
            match at_height.get(&done.height) {
                Some((block, first)) if *block != done.block => violations.push(Violation {
                    invariant: Invariant::Fork,
                    task: Some(task.clone()),
                    detail: format!(
                        "height {}: {first} committed {block}, {host} committed {}",
                        done.height, done.block
                    ),
                }),
                Some(_) => {}
                None => {
                    at_height.insert(done.height, (done.block, host));
                }
            }
            match by_task.get(task) {
                Some((first, first_host)) if first.decision() != done.decision() => violations.push(Violation {
                    invariant: Invariant::ConflictingResults,
                    task: Some(task.clone()),
                    detail: format!(
                        "{first_host} committed {:?} (block {}), {host} committed {:?} (block {})",
                        first.decision().answer,
                        first.block,
                        done.decision().answer,
                        done.block
                    ),
                }),
                Some(_) => {}
                None => {
                    by_task.insert(task, (done, host));
                }
            }
            if verified.insert(done.block, ()).is_none()
                && let Err(refusal) = done.payload.verify(registry, consensus)
            {
                violations.push(Violation {
                    invariant: Invariant::Validity,
                    task: Some(task.clone()),
                    detail: format!("block {} committed by {host}: {refusal}", done.block),
                });
            }
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;
    use quorum_core::consensus::{Ballot, decide};
    use quorum_core::p2p::{AgentId, AgentKey, Payload, SignedAnswer, View};
    use quorum_core::{TaskId, WorkerId};

    fn keys() -> Vec<AgentKey> {
        (0..4).map(|i| AgentKey::from_seed(AgentId::new(format!("a{i}")), 9)).collect()
    }

    fn registry(keys: &[AgentKey]) -> AgentRegistry {
        AgentRegistry::from_keys(keys.iter().map(|k| (k.id().clone(), k.verifying_key()))).unwrap()
    }

    fn commit(keys: &[AgentKey], height: u64, block: u8, task: &str, answer: &str) -> CommittedTask {
        let task = TaskId::from(task);
        let answers: Vec<SignedAnswer> =
            keys.iter().map(|key| SignedAnswer::new(key, task.clone(), answer, 0.9)).collect();
        let ballots: Vec<Ballot> = answers
            .iter()
            .map(|a| Ballot::new(WorkerId::new(a.answer.agent.as_str()), a.answer.text.clone()).confidence(0.9))
            .collect();
        let decision = decide(&ballots, &ConsensusConfig::default()).unwrap();
        let asked = keys.iter().map(|key| key.id().clone()).collect();
        CommittedTask {
            height,
            view: View(height),
            block: BlockHash([block; 32]),
            proposer: keys[0].id().clone(),
            payload: Payload { task, text: "2 + 2?".into(), asked, answers, decision },
            plan: None,
        }
    }

    fn kinds(violations: &[Violation]) -> Vec<Invariant> {
        violations.iter().map(|v| v.invariant).collect()
    }

    #[test]
    fn agreeing_honest_logs_keep_every_invariant() {
        let keys = keys();
        let log = vec![commit(&keys, 1, 1, "t1", "4"), commit(&keys, 2, 2, "t2", "5")];
        let commits = BTreeMap::from([("a0".to_owned(), log.clone()), ("a1".to_owned(), log)]);
        assert_eq!(check_commits(&commits, &registry(&keys), &ConsensusConfig::default()), vec![]);
    }

    #[test]
    fn two_blocks_at_one_height_are_a_fork_and_two_answers_conflict() {
        let keys = keys();
        let commits = BTreeMap::from([
            ("a0".to_owned(), vec![commit(&keys, 1, 1, "t1", "4")]),
            ("a1".to_owned(), vec![commit(&keys, 1, 2, "t1", "5")]),
        ]);
        let violations = check_commits(&commits, &registry(&keys), &ConsensusConfig::default());
        assert_eq!(kinds(&violations), vec![Invariant::Fork, Invariant::ConflictingResults], "{violations:?}");
        assert!(violations[0].detail.contains("height 1"), "{}", violations[0].detail);
    }

    #[test]
    fn a_decision_that_does_not_recompute_or_a_forged_answer_breaks_validity() {
        let keys = keys();
        let mut changed = commit(&keys, 1, 1, "t1", "4");
        changed.payload.decision.answer = Some("5".into());
        let mut forged = commit(&keys, 2, 2, "t2", "4");
        forged.payload.answers[1].answer.text = "5".into();
        let commits = BTreeMap::from([("a0".to_owned(), vec![changed, forged])]);
        let violations = check_commits(&commits, &registry(&keys), &ConsensusConfig::default());
        assert_eq!(kinds(&violations), vec![Invariant::Validity, Invariant::Validity], "{violations:?}");
        assert!(violations[1].detail.contains("signature"), "{}", violations[1].detail);
    }
}
