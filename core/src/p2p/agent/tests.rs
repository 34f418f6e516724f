use std::collections::VecDeque;

use super::*;
use crate::p2p::identity::AgentKey;
use crate::p2p::{BlockHash, View};

/// Agents on an in-memory network that delivers in order, with LLMs that answer at
/// once; `down` agents receive and send nothing.
struct Net {
    agents: Vec<Agent>,
    down: Vec<bool>,
    queue: VecDeque<(usize, usize, PeerMessage)>,
    now_ms: u64,
    llm: fn(usize, &Ask) -> Reply,
    committed: Vec<Vec<CommittedTask>>,
    transmits_before_persist: usize,
}

fn right_answer(agent: usize, ask: &Ask) -> Reply {
    match ask.purpose {
        Purpose::Answer => Reply::Answer(WorkerAnswer {
            worker: crate::WorkerId::new(format!("a{agent}")),
            task: ask.task.clone(),
            attempt: 1,
            text: if ask.text.contains("2 + 2") { "4".into() } else { format!("done: {}", ask.text.len()) },
            confidence: 0.9,
            llm_calls: 1,
            prompt_tokens: 1,
            completion_tokens: 1,
            latency_ms: 1,
            rate_limit_wait_ms: 0,
        }),
        Purpose::Plan { .. } => Reply::Plan(r#"{"step":"execute"}"#.into()),
    }
}

impl Net {
    fn new(n: usize, config: AgentConfig, llm: fn(usize, &Ask) -> Reply) -> Self {
        let keys: Vec<AgentKey> = (0..n).map(|i| AgentKey::from_seed(AgentId::new(format!("a{i}")), 5)).collect();
        let registry = AgentRegistry::from_keys(keys.iter().map(|k| (k.id().clone(), k.verifying_key()))).unwrap();
        let agents = keys.into_iter().map(|key| Agent::new(config.clone(), key, registry.clone()).unwrap()).collect();
        Self {
            agents,
            down: vec![false; n],
            queue: VecDeque::new(),
            now_ms: 0,
            llm,
            committed: vec![Vec::new(); n],
            transmits_before_persist: 0,
        }
    }

    fn config() -> AgentConfig {
        let replica = ReplicaConfig { view_timeout_ms: 100, view_timeout_ms_max: 1_600, ..ReplicaConfig::default() };
        AgentConfig { replica, answer_wait_ms: 500, ..AgentConfig::default() }
    }

    fn drain(&mut self, index: usize) {
        let ids: Vec<AgentId> = self.agents.iter().map(|agent| agent.id().clone()).collect();
        loop {
            let agent = &mut self.agents[index];
            // Asked before the safety state on purpose: nothing may leave while one waits.
            let mut early = agent.poll_transmit();
            let persisted = agent.poll_persist().is_some();
            if early.is_some() && persisted {
                self.transmits_before_persist += 1;
            }
            let mut progress = persisted;
            while let Some(transmit) = early.clone().or_else(|| agent.poll_transmit()) {
                early = None;
                progress = true;
                let to: Vec<usize> = match &transmit.to {
                    Destination::All => (0..self.down.len()).filter(|&i| i != index).collect(),
                    Destination::Agent(id) => ids.iter().position(|agent| agent == id).into_iter().collect(),
                };
                for to in to {
                    self.queue.push_back((index, to, transmit.message.clone()));
                }
            }
            let agent = &mut self.agents[index];
            while let Some(done) = agent.poll_committed() {
                self.committed[index].push(done);
            }
            let agent = &mut self.agents[index];
            if let Some(ask) = agent.poll_ask() {
                let reply = (self.llm)(index, &ask);
                self.agents[index].handle_reply(&ask.task, reply, self.now_ms);
                progress = true;
            }
            if !progress {
                return;
            }
        }
    }

    fn submit(&mut self, index: usize, id: &str, text: &str) -> Result<Submitted, SubmitError> {
        let result = self.agents[index].handle_submit(&Task::new(id, text), self.now_ms);
        self.drain(index);
        result
    }

    /// Delivers everything and fires timers until every live agent committed `tasks`.
    fn run_until_committed(&mut self, tasks: &[&str]) {
        for _ in 0..100_000 {
            let live: Vec<usize> = (0..self.down.len()).filter(|&i| !self.down[i]).collect();
            if live.iter().all(|&i| tasks.iter().all(|t| self.agents[i].replica().is_committed(&TaskId::from(*t)))) {
                return;
            }
            if let Some((from, to, message)) = self.queue.pop_front() {
                if self.down[from] || self.down[to] {
                    continue;
                }
                self.now_ms += 1;
                let sender = self.agents[from].id().clone();
                let _ = self.agents[to].handle_peer(&sender, message, self.now_ms);
                self.drain(to);
                continue;
            }
            let next = live.iter().filter_map(|&i| self.agents[i].poll_timeout().map(|at| (at, i))).min();
            let Some((at, index)) = next else { panic!("stuck at {} ms with nothing to do", self.now_ms) };
            self.now_ms = self.now_ms.max(at);
            self.agents[index].handle_timeout(self.now_ms);
            self.drain(index);
        }
        panic!("not committed after 100,000 steps");
    }

    fn result(&self, index: usize, task: &str) -> CommittedTask {
        match self.agents[index].status(&TaskId::from(task)) {
            TaskStatus::Committed(done) => *done,
            other => panic!("{task} at a{index}: {other:?}"),
        }
    }
}

#[test]
fn a_task_submitted_to_one_agent_commits_everywhere_with_one_result() {
    let mut net = Net::new(4, Net::config(), right_answer);
    assert_eq!(net.submit(2, "t1", "what is 2 + 2?"), Ok(Submitted::Accepted));
    net.run_until_committed(&["t1"]);
    let first = net.result(0, "t1");
    assert_eq!(first.decision().answer.as_deref(), Some("4"));
    assert!(first.payload.answers.len() >= 3, "answers from a quorum: {}", first.payload.answers.len());
    for index in 1..4 {
        assert_eq!(net.result(index, "t1").block, first.block);
    }
    assert_eq!(net.transmits_before_persist, 0, "a message left before its safety state was written");
    assert_eq!(net.submit(1, "t1", "what is 2 + 2?"), Ok(Submitted::AlreadyCommitted));
    assert_eq!(net.committed[3].iter().filter(|c| c.task().as_str() == "t1").count(), 1);
}

#[test]
fn one_silent_agent_of_four_does_not_stop_commits() {
    let mut net = Net::new(4, Net::config(), right_answer);
    net.down[1] = true;
    net.submit(0, "t1", "what is 2 + 2?").unwrap();
    net.submit(3, "t2", "what is 2 + 2 again?").unwrap();
    net.run_until_committed(&["t1", "t2"]);
    assert_eq!(net.result(2, "t2").decision().answer.as_deref(), Some("4"));
    assert_eq!(net.result(0, "t1").payload.answers.len(), 3, "the down agent never answered");
}

#[test]
fn malformed_submissions_are_refused_by_name() {
    let mut net = Net::new(4, Net::config(), right_answer);
    assert!(matches!(net.submit(0, "t1/plan", "x"), Err(SubmitError::ReservedId { .. })));
    assert!(matches!(net.submit(0, "", "x"), Err(SubmitError::Task(TaskError::EmptyId))));
    let huge = "x".repeat(crate::TASK_TEXT_BYTES_MAX + 1);
    assert!(matches!(net.submit(0, "t2", &huge), Err(SubmitError::Task(_))));
    assert_eq!(net.submit(0, "t3", "what is 2 + 2?"), Ok(Submitted::Accepted));
    assert_eq!(net.submit(0, "t3", "what is 2 + 2?"), Ok(Submitted::AlreadyOpen));
    let message = SubmitError::ReservedId { task: TaskId::from("t1/plan") }.to_string();
    assert!(message.contains("t1/plan") && message.contains('/'), "{message}");
}

#[test]
fn forged_and_unknown_answers_are_refused_and_counted() {
    let mut net = Net::new(4, Net::config(), right_answer);
    net.submit(0, "t1", "what is 2 + 2?").unwrap();
    let stranger = AgentKey::from_seed(AgentId::from("a9"), 5);
    let unknown = SignedAnswer::new(&stranger, TaskId::from("t1"), "5", 0.9);
    let refused = net.agents[1].handle_peer(&AgentId::from("a9"), PeerMessage::Answer(unknown), 1);
    assert!(matches!(refused, Err(Refusal::UnknownAgent { .. })), "{refused:?}");
    let keys_of_a2 = AgentKey::from_seed(AgentId::from("a2"), 5);
    let mut forged = SignedAnswer::new(&keys_of_a2, TaskId::from("t1"), "4", 0.9);
    forged.answer.text = "5".into();
    let refused = net.agents[1].handle_peer(&AgentId::from("a2"), PeerMessage::Answer(forged), 1);
    assert!(matches!(refused, Err(Refusal::BadSignature { .. })), "{refused:?}");
    let bad_confidence = SignedAnswer::new(&keys_of_a2, TaskId::from("t1"), "4", f64::NAN);
    let refused = net.agents[1].handle_peer(&AgentId::from("a2"), PeerMessage::Answer(bad_confidence), 1);
    assert!(matches!(refused, Err(Refusal::BadTask { .. })), "{refused:?}");
    assert_eq!(net.agents[1].stats().refused.values().sum::<u64>(), 3);
    net.run_until_committed(&["t1"]);
    assert_eq!(net.result(1, "t1").decision().answer.as_deref(), Some("4"));
}

fn planner_splits_roots(agent: usize, ask: &Ask) -> Reply {
    match ask.purpose {
        Purpose::Plan { depth: 0 } => {
            Reply::Plan(r#"{"step":"delegate","subtasks":["first half","second half"]}"#.into())
        }
        Purpose::Plan { .. } => {
            Reply::Plan(r#"```json {"step":"delegate","subtasks":["deeper a","deeper b"]} ```"#.into())
        }
        Purpose::Answer => right_answer(agent, ask),
    }
}

#[test]
fn a_delegated_task_commits_its_plan_its_subtasks_then_itself_from_their_results() {
    let limits = DelegationLimits { depth_max: 1, ..DelegationLimits::default() };
    let mut net = Net::new(4, AgentConfig { delegation: Some(limits), ..Net::config() }, planner_splits_roots);
    net.submit(1, "t1", "what is 2 + 2?").unwrap();
    net.run_until_committed(&["t1"]);
    for index in 0..4 {
        let order: Vec<&str> = net.committed[index].iter().map(|c| c.task().as_str()).collect();
        assert_eq!(order.first(), Some(&"t1/plan"), "a{index}: {order:?}");
        assert_eq!(order.last(), Some(&"t1"), "a{index}: {order:?}");
        assert!(order.contains(&"t1/1") && order.contains(&"t1/2"), "a{index}: {order:?}");
        assert_eq!(order.len(), 4, "depth 1: the subtasks are answered, not planned: {order:?}");
    }
    let plan = net.result(0, "t1/plan").plan;
    assert!(matches!(plan, Some(NextStep::Delegate { ref subtasks }) if subtasks.len() == 2), "{plan:?}");
    assert_eq!(net.result(2, "t1").decision().answer.as_deref(), Some("4"));
    assert_eq!(net.agents[0].stats().delegated, 1);
}

#[test]
fn delegation_stops_at_the_depth_bound() {
    let limits = DelegationLimits { depth_max: 2, ..DelegationLimits::default() };
    let mut net = Net::new(4, AgentConfig { delegation: Some(limits), ..Net::config() }, planner_splits_roots);
    net.submit(0, "t1", "what is 2 + 2?").unwrap();
    net.run_until_committed(&["t1"]);
    let order: Vec<&str> = net.committed[3].iter().map(|c| c.task().as_str()).collect();
    // 1 root plan, 2 subtask plans, 4 leaves, 2 subtask composes, the root.
    assert_eq!(order.len(), 10, "{order:?}");
    assert!(order.contains(&"t1/2/1") && !order.iter().any(|t| t.starts_with("t1/2/1/")), "{order:?}");
}

fn malformed_plans(agent: usize, ask: &Ask) -> Reply {
    match ask.purpose {
        Purpose::Plan { .. } => Reply::Plan("Let us split it into parts, I think.".into()),
        Purpose::Answer => right_answer(agent, ask),
    }
}

#[test]
fn a_malformed_plan_executes_the_task_directly() {
    let mut net =
        Net::new(4, AgentConfig { delegation: Some(DelegationLimits::default()), ..Net::config() }, malformed_plans);
    net.submit(0, "t1", "what is 2 + 2?").unwrap();
    net.run_until_committed(&["t1"]);
    assert_eq!(net.result(1, "t1/plan").plan, Some(NextStep::Execute));
    assert_eq!(net.result(1, "t1").decision().answer.as_deref(), Some("4"));
    assert!(net.agents.iter().all(|agent| agent.stats().plans_malformed == 1));
}

fn failing_then_right(agent: usize, ask: &Ask) -> Reply {
    // Agent 0's LLM always fails: the others still make a quorum.
    if agent == 0 { Reply::Failed } else { right_answer(agent, ask) }
}

#[test]
fn an_agent_whose_llm_fails_still_commits_its_peers_result() {
    let mut net = Net::new(4, Net::config(), failing_then_right);
    net.submit(0, "t1", "what is 2 + 2?").unwrap();
    net.run_until_committed(&["t1"]);
    assert_eq!(net.result(0, "t1").decision().answer.as_deref(), Some("4"));
    assert!(net.agents[0].stats().asks_failed >= 1);
}

#[test]
fn peer_messages_round_trip_through_json() {
    let key = AgentKey::from_seed(AgentId::from("a1"), 5);
    let messages = [
        PeerMessage::Task(TaskNotice { task: TaskId::from("t1"), text: "2 + 2?".into() }),
        PeerMessage::Answer(SignedAnswer::new(&key, TaskId::from("t1"), "4", 0.8)),
        PeerMessage::Consensus(Box::new(Message::Vote(crate::p2p::Vote::new(&key, View(3), BlockHash([7; 32]))))),
    ];
    for message in messages {
        let json = serde_json::to_string(&message).unwrap();
        assert_eq!(serde_json::from_str::<PeerMessage>(&json).unwrap(), message, "{json}");
    }
    let bad = r#"{"consensus":{"vote":{"view":3,"block":"zz","voter":"a1","signature":"00"}}}"#;
    let error = serde_json::from_str::<PeerMessage>(bad).unwrap_err().to_string();
    assert!(error.contains("hex digits"), "{error}");
}

fn never_answers(_agent: usize, _ask: &Ask) -> Reply {
    Reply::Failed
}

#[test]
fn a_task_no_model_can_answer_commits_as_no_answers_after_asks_max_calls() {
    let mut net = Net::new(4, Net::config(), never_answers);
    net.submit(0, "t1", "what is unanswerable?").unwrap();
    net.run_until_committed(&["t1"]);
    let done = net.result(2, "t1");
    assert!(done.payload.answers.is_empty());
    assert_eq!(done.decision().answer, None);
    assert!(matches!(done.decision().verdict, crate::consensus::Verdict::NoConsensus(_)), "{:?}", done.decision());
    // Every agent asked its model asks_max times before giving up.
    assert!(net.agents.iter().all(|agent| agent.stats().asks_failed == 3), "{:?}", net.agents[0].stats());
}

#[test]
fn model_calls_beyond_the_in_flight_bound_wait_their_turn() {
    let config = AgentConfig { asks_in_flight_max: 2, ..Net::config() };
    let keys: Vec<AgentKey> = (0..4).map(|i| AgentKey::from_seed(AgentId::new(format!("a{i}")), 5)).collect();
    let registry = AgentRegistry::from_keys(keys.iter().map(|k| (k.id().clone(), k.verifying_key()))).unwrap();
    let mut agent = Agent::new(config, keys[0].clone(), registry).unwrap();
    for id in ["t1", "t2", "t3"] {
        agent.handle_submit(&Task::new(id, "what is 2 + 2?"), 0).unwrap();
    }
    let (first, second) = (agent.poll_ask().unwrap(), agent.poll_ask().unwrap());
    assert_eq!((first.task.as_str(), second.task.as_str()), ("t1", "t2"));
    assert_eq!(agent.poll_ask(), None, "a third call while two are out");
    agent.handle_reply(&first.task, Reply::Failed, 1);
    assert_eq!(agent.poll_ask().map(|ask| ask.task), Some(TaskId::from("t3")));
}

#[test]
fn a_task_whose_answers_overtook_it_is_still_answered_and_offered() {
    let keys: Vec<AgentKey> = (0..4).map(|i| AgentKey::from_seed(AgentId::new(format!("a{i}")), 5)).collect();
    let registry = AgentRegistry::from_keys(keys.iter().map(|k| (k.id().clone(), k.verifying_key()))).unwrap();
    let mut agent = Agent::new(Net::config(), keys[0].clone(), registry).unwrap();
    let early = SignedAnswer::new(&keys[1], TaskId::from("t1"), "4", 0.9);
    agent.handle_peer(keys[1].id(), PeerMessage::Answer(early), 1).unwrap();
    assert_eq!(agent.status(&TaskId::from("t1")), TaskStatus::Unknown, "only answers are known");
    assert_eq!(agent.poll_ask(), None);
    let notice = TaskNotice { task: TaskId::from("t1"), text: "what is 2 + 2?".into() };
    agent.handle_peer(keys[2].id(), PeerMessage::Task(notice), 2).unwrap();
    assert_eq!(agent.status(&TaskId::from("t1")), TaskStatus::Open);
    let ask = agent.poll_ask().expect("the notice that came second still makes the agent ask its model");
    assert_eq!(ask.task.as_str(), "t1");
}
