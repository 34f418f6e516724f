//! The checks a replica makes of a block's task before voting for it, and the
//! leader's construction of a payload that passes them.

use super::answer::SignedAnswer;
use super::block::Payload;
use super::identity::AgentId;
use super::refusal::Refusal;
use super::registry::AgentRegistry;
use crate::consensus::{Ballot, ConsensusConfig, decide};
use crate::task::{TASK_ID_BYTES_MAX, TASK_TEXT_BYTES_MAX};

/// A task with the answers collected for it, for a leader to propose.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskCandidate {
    /// The task.
    pub task: crate::TaskId,
    /// Its text.
    pub text: String,
    /// The agents asked.
    pub asked: Vec<AgentId>,
    /// Their signed answers (any order; missing answers are fine).
    pub answers: Vec<SignedAnswer>,
}

/// Puts the candidate into canonical order, decides, and checks the result as a voter
/// would.
///
/// # Errors
/// The [`Refusal`] a voter would give.
pub(crate) fn build_payload(
    candidate: TaskCandidate,
    registry: &AgentRegistry,
    consensus: &ConsensusConfig,
) -> Result<Payload, Refusal> {
    let TaskCandidate { task, text, mut asked, mut answers } = candidate;
    asked.sort();
    answers.sort_by(|a, b| a.answer.agent.cmp(&b.answer.agent));
    let ballots: Vec<Ballot> = answers.iter().map(|a| a.answer.ballot()).collect();
    let decision = decide(&ballots, consensus).map_err(|error| Refusal::Undecidable { task: task.clone(), error })?;
    let payload = Payload { task, text, asked, answers, decision };
    validate_payload(&payload, registry, consensus)?;
    Ok(payload)
}

/// Checks a block's task: limits, the asked agents registered, sorted and distinct,
/// every answer for this task, from an asked agent, one each, signed by it, and
/// `decide()` over the answers giving exactly the block's decision.
///
/// # Errors
/// The first [`Refusal`] found.
pub(crate) fn validate_payload(
    payload: &Payload,
    registry: &AgentRegistry,
    consensus: &ConsensusConfig,
) -> Result<(), Refusal> {
    let task = &payload.task;
    let bad = |what| Refusal::BadTask { task: task.clone(), what };
    if task.as_str().is_empty() || task.as_str().len() > TASK_ID_BYTES_MAX {
        return Err(bad("the id is empty or too long"));
    }
    if payload.text.len() > TASK_TEXT_BYTES_MAX {
        return Err(bad("the text is too long"));
    }
    if payload.asked.is_empty() || payload.asked.len() > registry.len() {
        return Err(bad("no agent asked, or more than are registered"));
    }
    if !payload.asked.windows(2).all(|pair| pair[0] < pair[1]) {
        return Err(Refusal::NotCanonical { task: task.clone(), what: "asked agents" });
    }
    if let Some(agent) = payload.asked.iter().find(|agent| !registry.contains(agent)) {
        return Err(Refusal::UnknownAgent { agent: agent.clone(), what: "asked agent" });
    }
    let answers = &payload.answers;
    if !answers.windows(2).all(|pair| pair[0].answer.agent < pair[1].answer.agent) {
        return Err(Refusal::NotCanonical { task: task.clone(), what: "answers" });
    }
    for signed in answers {
        check_answer(signed, payload, registry)?;
    }
    let ballots: Vec<Ballot> = answers.iter().map(|a| a.answer.ballot()).collect();
    let decision = decide(&ballots, consensus).map_err(|error| Refusal::Undecidable { task: task.clone(), error })?;
    if decision != payload.decision {
        return Err(Refusal::DecisionMismatch { task: task.clone() });
    }
    Ok(())
}

fn check_answer(signed: &SignedAnswer, payload: &Payload, registry: &AgentRegistry) -> Result<(), Refusal> {
    let answer = &signed.answer;
    if answer.task != payload.task {
        let (task, answered) = (payload.task.clone(), answer.task.clone());
        return Err(Refusal::OtherTask { task, answered, agent: answer.agent.clone() });
    }
    registry.verify(&answer.agent, &answer.signed_bytes(), &signed.signature, "answer")?;
    if payload.asked.binary_search(&answer.agent).is_err() {
        return Err(Refusal::NotAsked { task: payload.task.clone(), agent: answer.agent.clone() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TaskId;
    use crate::p2p::identity::AgentKey;

    fn keys() -> Vec<AgentKey> {
        (0..4).map(|i| AgentKey::from_seed(AgentId::new(format!("a{i}")), 3)).collect()
    }

    fn registry(keys: &[AgentKey]) -> AgentRegistry {
        AgentRegistry::from_keys(keys.iter().map(|k| (k.id().clone(), k.verifying_key()))).unwrap()
    }

    fn candidate(keys: &[AgentKey]) -> TaskCandidate {
        let task = TaskId::from("t1");
        let answers = vec![
            SignedAnswer::new(&keys[2], task.clone(), "4", 0.9),
            SignedAnswer::new(&keys[0], task.clone(), "4", 0.8),
            SignedAnswer::new(&keys[1], task.clone(), "5", 0.6),
        ];
        let asked = keys.iter().rev().map(|k| k.id().clone()).collect();
        TaskCandidate { task, text: "2 + 2?".into(), asked, answers }
    }

    fn payload() -> (Vec<AgentKey>, AgentRegistry, Payload) {
        let keys = keys();
        let registry = registry(&keys);
        let payload = build_payload(candidate(&keys), &registry, &ConsensusConfig::default()).unwrap();
        (keys, registry, payload)
    }

    fn refusal(payload: &Payload, registry: &AgentRegistry) -> Refusal {
        validate_payload(payload, registry, &ConsensusConfig::default()).unwrap_err()
    }

    #[test]
    fn a_built_payload_is_canonical_and_decided() {
        let (_, registry, payload) = payload();
        assert_eq!(payload.decision.answer.as_deref(), Some("4"));
        assert_eq!(payload.asked[0], AgentId::from("a0"));
        assert_eq!(payload.answers[0].answer.agent, AgentId::from("a0"));
        assert_eq!(validate_payload(&payload, &registry, &ConsensusConfig::default()), Ok(()));
    }

    #[test]
    fn a_decision_that_does_not_recompute_is_refused() {
        let (_, registry, mut payload) = payload();
        payload.decision.answer = Some("5".into());
        assert_eq!(refusal(&payload, &registry), Refusal::DecisionMismatch { task: TaskId::from("t1") });
    }

    #[test]
    fn a_tampered_answer_is_refused_for_its_signature() {
        let (_, registry, mut payload) = payload();
        payload.answers[1].answer.text = "4".into();
        assert!(matches!(refusal(&payload, &registry), Refusal::BadSignature { what: "answer", .. }));
    }

    #[test]
    fn an_answer_from_an_agent_not_asked_is_refused() {
        let (_, registry, mut payload) = payload();
        payload.asked.retain(|agent| agent.as_str() != "a1");
        assert!(matches!(refusal(&payload, &registry), Refusal::NotAsked { .. }));
    }

    #[test]
    fn an_unknown_agent_can_neither_answer_nor_be_asked() {
        let (_, registry, mut payload) = payload();
        let stranger = AgentKey::from_seed(AgentId::from("a9"), 3);
        payload.asked[3] = stranger.id().clone();
        assert!(matches!(refusal(&payload, &registry), Refusal::UnknownAgent { what: "asked agent", .. }));
        payload.asked[3] = AgentId::from("a3");
        payload.answers.push(SignedAnswer::new(&stranger, TaskId::from("t1"), "4", 1.0));
        assert!(matches!(refusal(&payload, &registry), Refusal::UnknownAgent { what: "answer", .. }));
    }

    #[test]
    fn repeated_or_unordered_answers_and_other_tasks_are_refused() {
        let (keys, registry, payload) = payload();
        let mut twice = payload.clone();
        twice.answers.insert(1, twice.answers[0].clone());
        assert!(matches!(refusal(&twice, &registry), Refusal::NotCanonical { what: "answers", .. }));
        let mut other = payload.clone();
        other.answers[0] = SignedAnswer::new(&keys[0], TaskId::from("t2"), "4", 0.8);
        assert!(matches!(refusal(&other, &registry), Refusal::OtherTask { .. }));
        let mut none_asked = payload;
        none_asked.asked.clear();
        assert!(matches!(refusal(&none_asked, &registry), Refusal::BadTask { .. }));
    }
}
