//! The replica on its own and in a small lossless network.

use std::collections::VecDeque;

use super::*;
use crate::p2p::answer::SignedAnswer;
use crate::p2p::identity::AgentKey;

fn keys(count: usize) -> Vec<AgentKey> {
    (0..count).map(|i| AgentKey::from_seed(AgentId::new(format!("a{i}")), 11)).collect()
}

fn registry(keys: &[AgentKey]) -> AgentRegistry {
    AgentRegistry::from_keys(keys.iter().map(|k| (k.id().clone(), k.verifying_key()))).unwrap()
}

fn config() -> ReplicaConfig {
    ReplicaConfig { view_timeout_ms: 100, view_timeout_ms_max: 800, ..ReplicaConfig::default() }
}

fn candidate(keys: &[AgentKey], task: &str, truth: &str) -> TaskCandidate {
    let task = TaskId::from(task);
    let answers = keys.iter().map(|k| SignedAnswer::new(k, task.clone(), truth, 0.9)).collect();
    TaskCandidate {
        task,
        text: format!("what is {truth}?"),
        asked: keys.iter().map(|k| k.id().clone()).collect(),
        answers,
    }
}

/// Replicas with a lossless FIFO network; `down` replicas receive nothing and send
/// nothing.
struct Net {
    keys: Vec<AgentKey>,
    replicas: Vec<Replica>,
    queue: VecDeque<(AgentId, usize, Message)>,
    commits: Vec<Vec<Commit>>,
    persisted: Vec<Option<SafetyState>>,
    down: Vec<bool>,
    now_ms: u64,
}

impl Net {
    fn new(count: usize) -> Self {
        let keys = keys(count);
        let registry = registry(&keys);
        let replicas = keys.iter().map(|k| Replica::new(config(), k.clone(), registry.clone()).unwrap()).collect();
        Self {
            keys,
            replicas,
            queue: VecDeque::new(),
            commits: vec![Vec::new(); count],
            persisted: vec![None; count],
            down: vec![false; count],
            now_ms: 0,
        }
    }

    fn index(&self, agent: &AgentId) -> usize {
        self.keys.iter().position(|k| k.id() == agent).unwrap()
    }

    fn submit_everywhere(&mut self, task: &str, truth: &str) {
        let candidate = candidate(&self.keys, task, truth);
        for i in 0..self.replicas.len() {
            if !self.down[i] {
                self.replicas[i].handle_task(candidate.clone(), self.now_ms).unwrap();
                self.drain(i);
            }
        }
    }

    fn drain(&mut self, i: usize) {
        if let Some(state) = self.replicas[i].poll_persist() {
            self.persisted[i] = Some(state);
        }
        let from = self.keys[i].id().clone();
        while let Some(transmit) = self.replicas[i].poll_transmit() {
            if self.down[i] {
                continue;
            }
            match transmit.to {
                Destination::Agent(to) => {
                    let to = self.index(&to);
                    self.queue.push_back((from.clone(), to, transmit.message));
                }
                Destination::All => {
                    for to in (0..self.keys.len()).filter(|&to| to != i) {
                        self.queue.push_back((from.clone(), to, transmit.message.clone()));
                    }
                }
            }
        }
        while let Some(commit) = self.replicas[i].poll_commit() {
            self.commits[i].push(commit);
        }
    }

    /// Delivers everything, firing timers when the network is quiet, for at most
    /// `steps` steps. Returns whether it went quiet (no message, no timer).
    fn run(&mut self, steps: usize) -> bool {
        for _ in 0..steps {
            if let Some((from, to, message)) = self.queue.pop_front() {
                if !self.down[to] {
                    let _ = self.replicas[to].handle_message(&from, message, self.now_ms);
                    self.drain(to);
                }
                continue;
            }
            let next = (0..self.replicas.len())
                .filter(|&i| !self.down[i])
                .filter_map(|i| self.replicas[i].poll_timeout().map(|at| (at, i)))
                .min();
            let Some((at_ms, i)) = next else { return true };
            self.now_ms = self.now_ms.max(at_ms);
            self.replicas[i].handle_timeout(self.now_ms);
            self.drain(i);
        }
        false
    }

    fn committed_tasks(&self, i: usize) -> Vec<String> {
        self.commits[i].iter().filter_map(|c| c.block.task()).map(|t| t.to_string()).collect()
    }
}

#[test]
fn four_honest_replicas_commit_tasks_in_one_order() {
    let mut net = Net::new(4);
    net.submit_everywhere("t1", "4");
    net.submit_everywhere("t2", "9");
    assert!(net.run(10_000), "the network never went quiet");
    for i in 0..4 {
        assert_eq!(net.committed_tasks(i), ["t1", "t2"], "replica {i}");
        // Replicas may differ in how many trailing empty blocks they committed, never
        // in what they committed at one height.
        let common = net.commits[i].len().min(net.commits[0].len());
        let hashes = |j: usize| net.commits[j][..common].iter().map(|c| c.hash).collect::<Vec<_>>();
        assert_eq!(hashes(i), hashes(0), "replica {i}");
        let heights: Vec<u64> = net.commits[i].iter().map(|c| c.block.height).collect();
        assert_eq!(heights, (1..=heights.len() as u64).collect::<Vec<_>>(), "replica {i} skipped a height");
        assert_eq!(net.replicas[i].stats().refused, BTreeMap::new(), "replica {i}");
    }
    let decision = &net.commits[0][0].block.payload.as_ref().unwrap().decision;
    assert_eq!(decision.answer.as_deref(), Some("4"));
    // No view timed out: a lossless network never needs the pacemaker.
    assert!(net.replicas.iter().all(|r| r.stats().timeouts == 0));
}

#[test]
fn a_crashed_leader_is_replaced_by_the_pacemaker() {
    let mut net = Net::new(4);
    // a1 leads view 1; it is down from the start.
    net.down[1] = true;
    net.submit_everywhere("t1", "4");
    assert!(net.run(10_000));
    for i in [0, 2, 3] {
        assert_eq!(net.committed_tasks(i), ["t1"], "replica {i}");
        assert!(net.replicas[i].view() > View(2), "replica {i} never left a1's view");
    }
    // A timer fired somewhere; the others may have joined its timeout instead.
    assert!(net.replicas.iter().map(|r| r.stats().timeouts).sum::<u64>() >= 1);
}

#[test]
fn the_view_timeout_doubles_up_to_its_cap_and_resets_on_commit() {
    let keys = keys(4);
    let mut replica = Replica::new(config(), keys[0].clone(), registry(&keys)).unwrap();
    replica.handle_task(candidate(&keys, "t1", "4"), 0).unwrap();
    let mut now_ms = 0;
    let mut waits = Vec::new();
    for _ in 0..6 {
        let at_ms = replica.poll_timeout().expect("a replica with work has a timer");
        waits.push(at_ms - now_ms);
        now_ms = at_ms;
        replica.handle_timeout(now_ms);
    }
    assert_eq!(waits, [100, 200, 400, 800, 800, 800]);
    let mut net = Net::new(4);
    net.replicas[0] = replica;
    net.drain(0);
    net.now_ms = now_ms;
    net.submit_everywhere("t1", "4");
    assert!(net.run(10_000));
    assert_eq!(net.committed_tasks(0), ["t1"]);
    assert_eq!(net.replicas[0].timeout_ms(), 100, "progress resets the timeout");
}

#[test]
fn an_idle_replica_asks_for_no_wake_up() {
    let keys = keys(4);
    let replica = Replica::new(config(), keys[0].clone(), registry(&keys)).unwrap();
    assert_eq!(replica.poll_timeout(), None);
}

/// The proposal a0's network makes in view 1 for `task`, as a3 receives it.
fn first_proposal(net: &mut Net) -> Proposal {
    net.submit_everywhere("t1", "4");
    net.queue
        .iter()
        .find_map(|(_, to, m)| match m {
            Message::Proposal(p) if *to == 3 => Some(p.clone()),
            _ => None,
        })
        .expect("the leader of view 1 proposed")
}

#[test]
fn a_vote_leaves_only_after_its_safety_state_is_drained() {
    let mut net = Net::new(4);
    let proposal = first_proposal(&mut net);
    let leader = proposal.block.proposer.clone();
    let replica = &mut net.replicas[3];
    replica.handle_message(&leader, Message::Proposal(proposal), 0).unwrap();
    assert_eq!(replica.poll_transmit(), None, "the vote must wait for the persist");
    let state = replica.poll_persist().expect("a vote changes the safety state");
    assert_eq!(state.last_voted_view, View(1));
    let transmit = replica.poll_transmit().expect("then the vote leaves");
    assert!(matches!(transmit.message, Message::Vote(Vote { view: View(1), .. })), "{transmit:?}");
}

#[test]
fn a_restored_replica_never_votes_twice_in_a_view() {
    let mut net = Net::new(4);
    let proposal = first_proposal(&mut net);
    let leader = proposal.block.proposer.clone();
    let replica = &mut net.replicas[3];
    replica.handle_message(&leader, Message::Proposal(proposal.clone()), 0).unwrap();
    let state = replica.poll_persist().unwrap();
    // Crash, restart from the persisted state, and see the same view's proposals.
    let keys = net.keys.clone();
    let mut restored = Replica::restore(config(), keys[3].clone(), registry(&keys), state).unwrap();
    let again = restored.handle_message(&leader, Message::Proposal(proposal.clone()), 10);
    assert_eq!(again, Err(Refusal::StaleView { what: "proposal", view: View(1), current: View(1) }).or(again.clone()));
    assert!(matches!(again, Err(Refusal::AlreadyVoted { .. } | Refusal::StaleView { .. })), "{again:?}");
    // An equivocating leader's second block for view 1 is refused as well.
    let mut other = proposal.block.clone();
    other.payload = None;
    let other = Proposal::new(&keys[1], other);
    let twice = restored.handle_message(&leader, Message::Proposal(other), 10);
    assert!(matches!(twice, Err(Refusal::AlreadyVoted { .. })), "{twice:?}");
    assert_eq!(restored.poll_persist(), None);
    assert!(std::iter::from_fn(|| restored.poll_transmit()).all(|t| !matches!(t.message, Message::Vote(_))));
    assert_eq!(restored.stats().votes, 0);
    // A fresh replica (state lost) would have voted: the persisted state is what
    // prevents it.
    let mut amnesiac = Replica::new(config(), keys[3].clone(), registry(&keys)).unwrap();
    assert_eq!(amnesiac.handle_message(&leader, Message::Proposal(proposal), 10), Ok(()));
    assert_eq!(amnesiac.stats().votes, 1);
}

#[test]
fn every_bad_proposal_is_refused_by_name_and_counted() {
    let mut net = Net::new(4);
    let proposal = first_proposal(&mut net);
    let leader = proposal.block.proposer.clone();
    let keys = net.keys.clone();
    let fresh = || Replica::new(config(), keys[3].clone(), registry(&keys)).unwrap();
    let resign = |block: Block, key: &AgentKey| Proposal::new(key, block);
    let leader_key = &keys[1];

    let mut wrong_leader = proposal.block.clone();
    wrong_leader.proposer = keys[2].id().clone();
    let refusal = fresh().handle_message(&leader, Message::Proposal(resign(wrong_leader, &keys[2])), 0);
    assert!(matches!(refusal, Err(Refusal::WrongLeader { .. })), "{refusal:?}");

    let mut forged = proposal.clone();
    forged.signature = keys[2].sign(b"something else");
    let refusal = fresh().handle_message(&leader, Message::Proposal(forged), 0);
    assert!(matches!(refusal, Err(Refusal::BadSignature { what: "proposal", .. })), "{refusal:?}");

    let mut not_extending = proposal.block.clone();
    not_extending.parent = BlockHash([9; 32]);
    let refusal = fresh().handle_message(&leader, Message::Proposal(resign(not_extending, leader_key)), 0);
    assert!(matches!(refusal, Err(Refusal::NotExtending { .. })), "{refusal:?}");

    let mut bad_height = proposal.block.clone();
    bad_height.height = 5;
    let refusal = fresh().handle_message(&leader, Message::Proposal(resign(bad_height, leader_key)), 0);
    assert!(matches!(refusal, Err(Refusal::NotExtending { .. })), "{refusal:?}");

    let mut mismatch = proposal.block.clone();
    mismatch.payload.as_mut().unwrap().decision.support = 0.5;
    let refusal = fresh().handle_message(&leader, Message::Proposal(resign(mismatch, leader_key)), 0);
    assert!(matches!(refusal, Err(Refusal::DecisionMismatch { .. })), "{refusal:?}");

    let mut bad_qc = proposal.block.clone();
    bad_qc.view = View(5);
    bad_qc.proposer = keys[1].id().clone();
    bad_qc.justify = QuorumCert { view: View(4), block: bad_qc.parent, votes: vec![] };
    let refusal = fresh().handle_message(&leader, Message::Proposal(resign(bad_qc, leader_key)), 0);
    assert!(matches!(refusal, Err(Refusal::BadCertificate { votes: 0, quorum: 3, .. })), "{refusal:?}");

    let stranger = AgentKey::from_seed(AgentId::from("a9"), 11);
    let mut replica = fresh();
    let refusal = replica.handle_message(&leader, Message::Proposal(resign(proposal.block.clone(), &stranger)), 0);
    assert!(matches!(refusal, Err(Refusal::BadSignature { .. })), "{refusal:?}");
    assert_eq!(replica.stats().refused.get("bad_signature"), Some(&1));
    assert_eq!(replica.stats().votes, 0);
}

#[test]
fn a_stale_proposal_a_duplicate_task_and_an_unrequested_block_are_refused() {
    let mut net = Net::new(4);
    net.submit_everywhere("t1", "4");
    assert!(net.run(10_000));
    let replica = &mut net.replicas[3];
    let committed = net.commits[3][0].block.clone();
    // A proposal for a view long left.
    let old = Proposal::new(&net.keys[1], committed.clone());
    let refusal = replica.handle_message(net.keys[1].id(), Message::Proposal(old), 1);
    assert!(matches!(refusal, Err(Refusal::StaleView { .. })), "{refusal:?}");
    // The committed task again, in a new view extending the chain.
    let view = replica.view().next();
    let leader = replica.registry().leader(view.0).clone();
    let leader_key = net.keys.iter().find(|k| k.id() == &leader).unwrap();
    let tip = replica.high_qc().clone();
    let height = replica.block(&tip.block).unwrap().height + 1;
    let again =
        Block { view, height, parent: tip.block, justify: tip, proposer: leader.clone(), payload: committed.payload };
    let refusal = replica.handle_message(&leader, Message::Proposal(Proposal::new(leader_key, again.clone())), 1);
    assert!(matches!(refusal, Err(Refusal::DuplicateTask { .. })), "{refusal:?}");
    // A block nobody asked for is refused; a known one sent again is harmless.
    let refusal = replica.handle_message(&leader, Message::BlockResponse(again), 1);
    assert!(matches!(refusal, Err(Refusal::Unrequested { .. })), "{refusal:?}");
    assert_eq!(replica.handle_message(&leader, Message::BlockResponse(Block::genesis()), 1), Ok(()));
}

#[test]
fn votes_count_once_per_voter_and_view_and_only_when_signed_by_an_agent() {
    let keys = keys(4);
    let mut replica = Replica::new(config(), keys[2].clone(), registry(&keys)).unwrap();
    let block = BlockHash([1; 32]);
    let vote = Vote::new(&keys[0], View(1), block);
    assert_eq!(replica.handle_message(keys[0].id(), Message::Vote(vote.clone()), 0), Ok(()));
    assert_eq!(replica.handle_message(keys[0].id(), Message::Vote(vote), 0), Ok(()), "a repeat is harmless");
    let twice = Vote::new(&keys[0], View(1), BlockHash([2; 32]));
    let refusal = replica.handle_message(keys[0].id(), Message::Vote(twice), 0);
    assert!(matches!(refusal, Err(Refusal::EquivocatingVote { .. })), "{refusal:?}");
    let stranger = AgentKey::from_seed(AgentId::from("a9"), 11);
    let refusal = replica.handle_message(stranger.id(), Message::Vote(Vote::new(&stranger, View(1), block)), 0);
    assert!(matches!(refusal, Err(Refusal::UnknownAgent { what: "vote", .. })), "{refusal:?}");
    let mut forged = Vote::new(&keys[1], View(1), block);
    forged.signature = keys[3].sign(b"x");
    let refusal = replica.handle_message(keys[1].id(), Message::Vote(forged), 0);
    assert!(matches!(refusal, Err(Refusal::BadSignature { what: "vote", .. })), "{refusal:?}");
    assert_eq!(replica.stats().refused.values().sum::<u64>(), 3);
    // Two valid votes of three: no certificate yet; the block is unknown, so the
    // third makes one that waits for it and asks every agent for it.
    assert_eq!(replica.high_qc().view, View(0));
    let third = Vote::new(&keys[1], View(1), block);
    assert_eq!(replica.handle_message(keys[1].id(), Message::Vote(third), 0), Ok(()));
    assert_eq!(replica.handle_message(keys[3].id(), Message::Vote(Vote::new(&keys[3], View(1), block)), 0), Ok(()));
    let request = std::iter::from_fn(|| replica.poll_transmit()).find(|t| t.message == Message::BlockRequest(block));
    assert_eq!(request.map(|t| t.to), Some(Destination::All));
}

#[test]
fn a_bad_config_and_an_agent_outside_the_registry_are_refused() {
    let keys = keys(4);
    let zero = ReplicaConfig { view_timeout_ms: 0, ..config() };
    let error = Replica::new(zero, keys[0].clone(), registry(&keys)).unwrap_err();
    assert!(error.to_string().contains("replica.view_timeout_ms"), "{error}");
    let below = ReplicaConfig { view_timeout_ms_max: 50, ..config() };
    let error = Replica::new(below, keys[0].clone(), registry(&keys)).unwrap_err();
    assert!(error.to_string().contains("view_timeout_ms_max"), "{error}");
    let stranger = AgentKey::from_seed(AgentId::from("a9"), 11);
    let error = Replica::new(config(), stranger, registry(&keys)).unwrap_err();
    assert!(error.to_string().contains("replica.agent"), "{error}");
}
