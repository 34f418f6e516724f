//! The replica: three-chain HotStuff as in LibraBFT, as a sans-IO state machine.
//!
//! Inputs: [`Replica::handle_task`] (a task to propose when leading),
//! [`Replica::handle_message`] (a proposal, vote, timeout or block transfer from a
//! peer) and [`Replica::handle_timeout`] (the wake-up asked for by
//! [`Replica::poll_timeout`]), each with the time `now_ms`. Outputs, drained in this
//! order after every input: [`Replica::poll_persist`] (the safety state, to write to
//! stable storage before anything else leaves), [`Replica::poll_transmit`] (messages
//! and their destinations; none while a persist is undrained), [`Replica::poll_commit`]
//! (committed blocks, in height order) and [`Replica::poll_timeout`] (the next
//! wake-up).
//!
//! The protocol:
//! - Proposal: the leader of view v extends its highest certificate with a block
//!   carrying a task (its signed answers and the decision) or, while blocks with tasks
//!   wait to commit or others have yet to learn that they committed, an empty block.
//! - Vote: a replica votes when the safety rules allow (see `safety.rs`) and the
//!   task checks pass (`validation.rs`), and sends the vote to every agent. The
//!   leader of v + 1 forms a certificate from a quorum of votes and proposes on it;
//!   every other replica forms it too, to commit. (With votes to the next leader
//!   only, a commit needs four honest leaders in a row, which round robin over four
//!   agents with one down never gives; with votes to all, three, which round robin
//!   over n = 3f + 1 agents with f down always gives.)
//! - Commit (three-chain): a certificate for B2 whose parent B1 and grandparent B0
//!   were proposed in consecutive views (B0.view + 1 = B1.view, B1.view + 1 = B2.view)
//!   commits B0 and its ancestors.
//! - Pacemaker: a replica with work arms a view timer, doubling with each timeout in
//!   a row up to a cap, back to the base once something commits. On expiry it sends
//!   NEW-VIEW (a signed [`Timeout`] carrying its highest certificate) to every agent,
//!   and sends it again at each further expiry. A replica joins a timeout that f + 1
//!   agents sent (one is honest) and enters view u + 1 once a quorum timed out of u or
//!   later; the new leader proposes on the highest certificate it has heard of.
//! - Catch-up: a replica answers a timeout with its highest certificate when the
//!   sender's is lower, and with the certificate that completed its last commit, so
//!   that a replica left behind while the others went idle learns of the commits it
//!   missed (the latter may be on a branch no later block extends).
//! - Block transfer: a proposal or certificate naming a block the replica lacks waits
//!   while the block (and its missing ancestors) are asked of every agent.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::block::{self, Block, BlockHash, Payload, Proposal};
use super::certificate::{QuorumCert, Vote};
use super::identity::{AgentId, AgentKey, Signature};
use super::message::{Destination, Message, Timeout, Transmit};
use super::refusal::Refusal;
use super::registry::AgentRegistry;
use super::safety::{SafetyRules, SafetyState};
use super::validation::{TaskCandidate, build_payload, validate_payload};
use super::view::View;
use crate::TaskId;
use crate::config::ConfigError;
use crate::consensus::ConsensusConfig;

/// How a replica runs. Every limit bounds memory that peers could otherwise fill.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaConfig {
    /// How blocks' decisions are computed and recomputed: the same on every agent of
    /// a network. Default: [`ConsensusConfig::default`].
    pub consensus: ConsensusConfig,
    /// The first view timeout after progress, in ms. Default 1,000.
    pub view_timeout_ms: u64,
    /// The cap of the doubling timeout, in ms. Default 60,000.
    pub view_timeout_ms_max: u64,
    /// Blocks kept (this layer does not prune committed blocks, which lagging peers
    /// may still fetch). Default 100,000.
    pub blocks_max: usize,
    /// Tasks waiting to be proposed. Default 1,000.
    pub tasks_max: usize,
    /// Messages and certificates waiting for a missing block, and blocks waiting for
    /// a missing parent; the oldest are dropped beyond it. Default 256.
    pub waiting_max: usize,
}

impl Default for ReplicaConfig {
    fn default() -> Self {
        Self {
            consensus: ConsensusConfig::default(),
            view_timeout_ms: 1_000,
            view_timeout_ms_max: 60_000,
            blocks_max: 100_000,
            tasks_max: 1_000,
            waiting_max: 256,
        }
    }
}

impl ReplicaConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.consensus.validate()?;
        if self.view_timeout_ms == 0 {
            return Err(ConfigError::invalid("replica.view_timeout_ms", self.view_timeout_ms, "at least 1"));
        }
        if self.view_timeout_ms_max < self.view_timeout_ms {
            let expected = "at least replica.view_timeout_ms";
            return Err(ConfigError::invalid("replica.view_timeout_ms_max", self.view_timeout_ms_max, expected));
        }
        for (field, value) in [
            ("replica.blocks_max", self.blocks_max),
            ("replica.tasks_max", self.tasks_max),
            ("replica.waiting_max", self.waiting_max),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(field, value, "at least 1"));
            }
        }
        Ok(())
    }
}

/// A committed block.
#[derive(Clone, Debug, PartialEq)]
pub struct Commit {
    /// Its hash.
    pub hash: BlockHash,
    /// The block.
    pub block: Block,
}

/// What a replica did and refused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicaStats {
    /// Refused inputs by [`Refusal::kind`].
    pub refused: BTreeMap<&'static str, u64>,
    /// Blocks proposed.
    pub proposals: u64,
    /// Votes cast.
    pub votes: u64,
    /// View timer expiries.
    pub timeouts: u64,
    /// Blocks committed.
    pub commits: u64,
    /// Certificates that would commit a block off the committed chain (possible
    /// only with more than f faulty agents); such a commit is not made.
    pub conflicting_commits: u64,
}

/// Something waiting for a block the replica lacks.
#[derive(Clone, Debug)]
enum Waiting {
    Proposal(AgentId, Box<Proposal>),
    Certificate(QuorumCert),
}

/// One agent's HotStuff replica. See the module documentation.
#[derive(Debug)]
pub struct Replica {
    config: ReplicaConfig,
    key: AgentKey,
    registry: AgentRegistry,
    safety: SafetyRules,
    persist: Option<SafetyState>,
    view: View,
    deadline_ms: Option<u64>,
    timeouts_in_row: u32,
    /// The last view this replica proposed in.
    proposed_view: View,
    high_qc: QuorumCert,
    /// The certificate that completed the last commit's three-chain.
    commit_qc: QuorumCert,
    /// `(view, block)` of every certificate verified or formed, so that one is
    /// checked once.
    certified: BTreeSet<(View, BlockHash)>,
    blocks: BTreeMap<BlockHash, Block>,
    committed: BlockHash,
    committed_height: u64,
    committed_tasks: BTreeSet<TaskId>,
    /// Tasks to propose, in arrival order.
    pending: Vec<Payload>,
    /// Votes by `(view, block)`, and each voter's block per view.
    votes: BTreeMap<(View, BlockHash), BTreeMap<AgentId, Signature>>,
    voted: BTreeMap<(View, AgentId), BlockHash>,
    /// The highest view each agent (this one included) timed out of.
    timed_out: BTreeMap<AgentId, View>,
    waiting: VecDeque<Waiting>,
    orphans: BTreeMap<BlockHash, Block>,
    requested: BTreeSet<BlockHash>,
    outbox: VecDeque<Transmit>,
    commits: VecDeque<Commit>,
    stats: ReplicaStats,
}

impl Replica {
    /// A fresh replica of `key`'s agent, at genesis.
    ///
    /// # Errors
    /// [`ConfigError`] for an invalid config or an agent not in the registry.
    pub fn new(config: ReplicaConfig, key: AgentKey, registry: AgentRegistry) -> Result<Self, ConfigError> {
        Self::restore(config, key, registry, SafetyState::default())
    }

    /// A replica restarted from its persisted safety state: it knows only genesis
    /// and fetches the chain from its peers, and it never votes in a view it voted in
    /// before, nor below its lock.
    ///
    /// # Errors
    /// As [`Self::new`].
    pub fn restore(
        config: ReplicaConfig,
        key: AgentKey,
        registry: AgentRegistry,
        safety: SafetyState,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        if !registry.contains(key.id()) {
            return Err(ConfigError::invalid("replica.agent", key.id(), "an agent of the registry"));
        }
        let genesis = Block::genesis();
        let genesis_hash = genesis.hash();
        Ok(Self {
            config,
            key,
            registry,
            safety: SafetyRules::new(safety),
            persist: None,
            // View 0 is genesis's: the first leader proposes in view 1.
            view: safety.last_voted_view.max(View(1)),
            deadline_ms: None,
            timeouts_in_row: 0,
            proposed_view: safety.last_voted_view,
            high_qc: QuorumCert::genesis(),
            commit_qc: QuorumCert::genesis(),
            certified: BTreeSet::new(),
            blocks: BTreeMap::from([(genesis_hash, genesis)]),
            committed: genesis_hash,
            committed_height: 0,
            committed_tasks: BTreeSet::new(),
            pending: Vec::new(),
            votes: BTreeMap::new(),
            voted: BTreeMap::new(),
            timed_out: BTreeMap::new(),
            waiting: VecDeque::new(),
            orphans: BTreeMap::new(),
            requested: BTreeSet::new(),
            outbox: VecDeque::new(),
            commits: VecDeque::new(),
            stats: ReplicaStats::default(),
        })
    }

    /// This replica's agent.
    pub fn id(&self) -> &AgentId {
        self.key.id()
    }

    /// The current view.
    pub fn view(&self) -> View {
        self.view
    }

    /// The safety state (what [`Self::poll_persist`] hands out).
    pub fn safety_state(&self) -> SafetyState {
        self.safety.state()
    }

    /// The highest certificate known.
    pub fn high_qc(&self) -> &QuorumCert {
        &self.high_qc
    }

    /// Height of the last committed block.
    pub fn committed_height(&self) -> u64 {
        self.committed_height
    }

    /// Whether `task` is committed here.
    pub fn is_committed(&self, task: &TaskId) -> bool {
        self.committed_tasks.contains(task)
    }

    /// A stored block.
    pub fn block(&self, hash: &BlockHash) -> Option<&Block> {
        self.blocks.get(hash)
    }

    /// What the replica did and refused.
    pub fn stats(&self) -> &ReplicaStats {
        &self.stats
    }

    /// The registry.
    pub fn registry(&self) -> &AgentRegistry {
        &self.registry
    }

    /// Queues a task with its collected answers, to propose when this replica leads.
    /// A task already committed or queued is ignored.
    ///
    /// # Errors
    /// The [`Refusal`] a voter would give its block, or [`Refusal::TooManyTasks`].
    pub fn handle_task(&mut self, candidate: TaskCandidate, now_ms: u64) -> Result<(), Refusal> {
        let result = self.queue_task(candidate, now_ms);
        self.after_input(result, now_ms)
    }

    /// Handles a message from `from` (the transport's peer; what matters for trust is
    /// each message's own signatures).
    ///
    /// # Errors
    /// [`Refusal`] for a message not acted on; it is also counted.
    pub fn handle_message(&mut self, from: &AgentId, message: Message, now_ms: u64) -> Result<(), Refusal> {
        let result = self.dispatch(from.clone(), message, now_ms);
        self.after_input(result, now_ms)
    }

    /// The wake-up asked for by [`Self::poll_timeout`]: on expiry of the view timer,
    /// sends NEW-VIEW and asks again for missing blocks.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        if self.deadline_ms.is_some_and(|deadline| now_ms >= deadline) {
            self.stats.timeouts += 1;
            self.timeouts_in_row = self.timeouts_in_row.saturating_add(1);
            self.deadline_ms = Some(now_ms.saturating_add(self.timeout_ms()));
            self.send_timeout(self.view);
            for hash in self.requested.clone() {
                self.send(Destination::All, Message::BlockRequest(hash));
            }
            self.check_timeouts(now_ms);
        }
        let _ = self.after_input(Ok(()), now_ms);
    }

    /// Tells every agent the highest certificate this replica knows, so that peers
    /// ahead of it answer with theirs (and the one that completed their last commit)
    /// and it catches up: what a replica restarted while the network is idle does,
    /// since an idle network sends it nothing.
    pub fn rejoin(&mut self) {
        self.send(Destination::All, Message::Certificate(self.high_qc.clone()));
    }

    /// The safety state to write to stable storage before draining
    /// [`Self::poll_transmit`]: a vote it allows must not leave before it is durable.
    #[must_use]
    pub fn poll_persist(&mut self) -> Option<SafetyState> {
        self.persist.take()
    }

    /// The next message to send; none while [`Self::poll_persist`] has a state to
    /// write.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if self.persist.is_some() {
            return None;
        }
        self.outbox.pop_front()
    }

    /// The next committed block, in height order.
    #[must_use]
    pub fn poll_commit(&mut self) -> Option<Commit> {
        self.commits.pop_front()
    }

    /// When to call [`Self::handle_timeout`]; none while the replica has no work
    /// (no task to propose, no task in a block waiting to commit).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        self.deadline_ms
    }

    fn after_input(&mut self, result: Result<(), Refusal>, now_ms: u64) -> Result<(), Refusal> {
        if let Err(refusal) = &result {
            *self.stats.refused.entry(refusal.kind()).or_default() += 1;
        }
        if !self.has_work() {
            self.deadline_ms = None;
        } else if self.deadline_ms.is_none() {
            self.deadline_ms = Some(now_ms.saturating_add(self.timeout_ms()));
        }
        result
    }

    fn timeout_ms(&self) -> u64 {
        let doublings = self.timeouts_in_row.min(32);
        self.config.view_timeout_ms.saturating_mul(1u64 << doublings).min(self.config.view_timeout_ms_max)
    }

    fn queue_task(&mut self, candidate: TaskCandidate, now_ms: u64) -> Result<(), Refusal> {
        let task = &candidate.task;
        if self.committed_tasks.contains(task) || self.pending.iter().any(|p| &p.task == task) {
            return Ok(());
        }
        if self.pending.len() >= self.config.tasks_max {
            return Err(Refusal::TooManyTasks { max: self.config.tasks_max });
        }
        let payload = build_payload(candidate, &self.registry, &self.config.consensus)?;
        self.pending.push(payload);
        self.try_propose(now_ms);
        Ok(())
    }

    fn dispatch(&mut self, from: AgentId, message: Message, now_ms: u64) -> Result<(), Refusal> {
        match message {
            Message::Proposal(proposal) => self.on_proposal(from, proposal, now_ms),
            Message::Vote(vote) => self.on_vote(vote, now_ms),
            Message::Timeout(timeout) => self.on_timeout(from, timeout, now_ms),
            Message::Certificate(qc) => {
                self.verify_qc(&qc)?;
                // A peer behind (one that rejoined after a restart) is caught up.
                if qc.view < self.high_qc.view {
                    self.send(Destination::Agent(from.clone()), Message::Certificate(self.high_qc.clone()));
                }
                if qc.view < self.commit_qc.view && self.commit_qc != self.high_qc {
                    self.send(Destination::Agent(from), Message::Certificate(self.commit_qc.clone()));
                }
                self.observe_qc(qc, now_ms);
                Ok(())
            }
            Message::BlockRequest(hash) => {
                if let Some(block) = self.blocks.get(&hash) {
                    let block = block.clone();
                    self.send(Destination::Agent(from), Message::BlockResponse(block));
                }
                Ok(())
            }
            Message::BlockResponse(block) => self.on_block(block, now_ms),
        }
    }

    fn send(&mut self, to: Destination, message: Message) {
        self.outbox.push_back(Transmit { to, message });
    }

    fn verify_qc(&mut self, qc: &QuorumCert) -> Result<(), Refusal> {
        if self.certified.contains(&(qc.view, qc.block)) {
            return Ok(());
        }
        qc.verify(&self.registry)?;
        self.certified.insert((qc.view, qc.block));
        Ok(())
    }

    /// Checks a block's own links: its parent is the block its certificate
    /// certifies, its view follows the certificate's, and the certificate is valid.
    fn check_links(&mut self, block: &Block) -> Result<(), Refusal> {
        if block.parent != block.justify.block {
            return Err(Refusal::NotExtending { view: block.view, reason: "its parent is not the certified block" });
        }
        if block.view <= block.justify.view {
            return Err(Refusal::NotExtending { view: block.view, reason: "its view is not above its certificate's" });
        }
        self.verify_qc(&block.justify)
    }

    fn on_proposal(&mut self, from: AgentId, proposal: Proposal, now_ms: u64) -> Result<(), Refusal> {
        let block = &proposal.block;
        let view = block.view;
        let leader = self.registry.leader(view.0);
        if &block.proposer != leader {
            return Err(Refusal::WrongLeader { view, proposer: block.proposer.clone(), leader: leader.clone() });
        }
        let hash = block.hash();
        self.registry.verify(&block.proposer, &block::signed_bytes(&hash), &proposal.signature, "proposal")?;
        if view < self.view {
            return Err(Refusal::StaleView { what: "proposal", view, current: self.view });
        }
        self.check_links(block)?;
        let Some(parent) = self.blocks.get(&block.parent) else {
            let parent = block.parent;
            self.wait(Waiting::Proposal(from, Box::new(proposal)));
            self.request(parent);
            return Ok(());
        };
        if block.height != parent.height + 1 {
            return Err(Refusal::NotExtending { view, reason: "its height is not its parent's plus one" });
        }
        let grandparent_view = parent.justify.view;
        self.observe_qc(block.justify.clone(), now_ms);
        if let Some(payload) = &block.payload {
            if self.chain_has_task(block.parent, &payload.task) {
                return Err(Refusal::DuplicateTask { task: payload.task.clone() });
            }
            validate_payload(payload, &self.registry, &self.config.consensus)?;
        }
        self.safety.check_vote(view, block.justify.view)?;
        let block = proposal.block;
        self.insert_block(hash, block.clone())?;
        let state = self.safety.record_vote(view, block.justify.view, grandparent_view)?;
        self.persist = Some(state);
        self.enter_view(view, now_ms);
        self.stats.votes += 1;
        let vote = Vote::new(&self.key, view, hash);
        self.send(Destination::All, Message::Vote(vote.clone()));
        self.on_vote(vote, now_ms)?;
        self.replay_waiting(now_ms);
        Ok(())
    }

    fn on_vote(&mut self, vote: Vote, now_ms: u64) -> Result<(), Refusal> {
        if vote.view.next() < self.view {
            return Err(Refusal::StaleView { what: "vote", view: vote.view, current: self.view });
        }
        vote.verify(&self.registry)?;
        match self.voted.get(&(vote.view, vote.voter.clone())) {
            Some(block) if *block == vote.block => return Ok(()),
            Some(_) => return Err(Refusal::EquivocatingVote { voter: vote.voter, view: vote.view }),
            None => {}
        }
        self.voted.insert((vote.view, vote.voter.clone()), vote.block);
        let key = (vote.view, vote.block);
        let votes = self.votes.entry(key).or_default();
        votes.insert(vote.voter, vote.signature);
        if votes.len() == self.registry.quorum() {
            let qc = QuorumCert::from_votes(vote.view, vote.block, votes.iter().map(|(a, s)| (a.clone(), *s)));
            self.certified.insert(key);
            self.observe_qc(qc, now_ms);
        }
        Ok(())
    }

    fn on_timeout(&mut self, from: AgentId, timeout: Timeout, now_ms: u64) -> Result<(), Refusal> {
        timeout.verify(&self.registry)?;
        self.verify_qc(&timeout.high_qc)?;
        if timeout.high_qc.view < self.high_qc.view {
            self.send(Destination::Agent(from.clone()), Message::Certificate(self.high_qc.clone()));
        }
        // The certificate that committed here may sit on a branch the sender never
        // saw, and no later block may ever complete a three-chain for it.
        if self.commit_qc != self.high_qc && !self.commit_qc.is_genesis() {
            self.send(Destination::Agent(from), Message::Certificate(self.commit_qc.clone()));
        }
        self.observe_qc(timeout.high_qc, now_ms);
        let latest = self.timed_out.entry(timeout.sender).or_default();
        *latest = (*latest).max(timeout.view);
        self.check_timeouts(now_ms);
        Ok(())
    }

    fn on_block(&mut self, block: Block, now_ms: u64) -> Result<(), Refusal> {
        let hash = block.hash();
        if self.blocks.contains_key(&hash) || self.orphans.contains_key(&hash) {
            // Every agent asked answers; the first answer is the one that counts.
            return Ok(());
        }
        if !self.requested.remove(&hash) {
            return Err(Refusal::Unrequested { hash });
        }
        self.check_links(&block)?;
        if !self.blocks.contains_key(&block.parent) {
            let parent = block.parent;
            if self.orphans.len() >= self.config.waiting_max {
                self.orphans.pop_first();
            }
            self.orphans.insert(hash, block);
            self.request(parent);
            return Ok(());
        }
        self.adopt(hash, block, now_ms)?;
        // Orphans whose parent just arrived, until none is left to adopt.
        while let Some(orphan) = self.orphans.iter().find(|(_, b)| self.blocks.contains_key(&b.parent)).map(|(h, _)| *h)
        {
            let block = self.orphans.remove(&orphan).expect("the key was just found");
            self.adopt(orphan, block, now_ms)?;
        }
        self.replay_waiting(now_ms);
        Ok(())
    }

    /// Stores a fetched block whose parent is known (its content is authenticated by
    /// the certificate that named its hash, which a quorum signed after checking it).
    fn adopt(&mut self, hash: BlockHash, block: Block, now_ms: u64) -> Result<(), Refusal> {
        let parent_height = self.blocks.get(&block.parent).map_or(0, |parent| parent.height);
        if block.height != parent_height + 1 {
            return Err(Refusal::NotExtending { view: block.view, reason: "its height is not its parent's plus one" });
        }
        let justify = block.justify.clone();
        self.insert_block(hash, block)?;
        self.observe_qc(justify, now_ms);
        Ok(())
    }

    fn insert_block(&mut self, hash: BlockHash, block: Block) -> Result<(), Refusal> {
        if self.blocks.contains_key(&hash) {
            return Ok(());
        }
        if self.blocks.len() >= self.config.blocks_max {
            return Err(Refusal::TooManyBlocks { max: self.config.blocks_max });
        }
        self.blocks.insert(hash, block);
        Ok(())
    }

    fn wait(&mut self, waiting: Waiting) {
        if self.waiting.len() >= self.config.waiting_max {
            self.waiting.pop_front();
        }
        self.waiting.push_back(waiting);
    }

    fn request(&mut self, hash: BlockHash) {
        if !self.blocks.contains_key(&hash) && self.requested.insert(hash) {
            self.send(Destination::All, Message::BlockRequest(hash));
        }
    }

    /// Handles again whatever waited for a block that may have arrived.
    fn replay_waiting(&mut self, now_ms: u64) {
        let waiting = core::mem::take(&mut self.waiting);
        let (ready, still): (Vec<Waiting>, Vec<Waiting>) = waiting.into_iter().partition(|w| self.is_ready(w));
        self.waiting = still.into();
        for waiting in ready {
            let result = match waiting {
                Waiting::Proposal(from, proposal) => self.on_proposal(from, *proposal, now_ms),
                Waiting::Certificate(qc) => {
                    self.observe_qc(qc, now_ms);
                    Ok(())
                }
            };
            if let Err(refusal) = result {
                *self.stats.refused.entry(refusal.kind()).or_default() += 1;
            }
        }
    }

    fn is_ready(&self, waiting: &Waiting) -> bool {
        match waiting {
            Waiting::Proposal(_, proposal) => self.blocks.contains_key(&proposal.block.parent),
            Waiting::Certificate(qc) => self.blocks.contains_key(&qc.block),
        }
    }

    /// Takes in a verified certificate: the highest certificate, commits, the view.
    fn observe_qc(&mut self, qc: QuorumCert, now_ms: u64) {
        if !self.blocks.contains_key(&qc.block) {
            let block = qc.block;
            self.wait(Waiting::Certificate(qc));
            self.request(block);
            return;
        }
        let view = qc.view;
        self.try_commit(&qc);
        if qc.view > self.high_qc.view {
            self.high_qc = qc;
        }
        self.enter_view(view.next(), now_ms);
    }

    /// Commits by the three-chain rule on any certified block of the chain `qc`
    /// ends: the certified block itself, or any ancestor (each is certified by its
    /// child's `justify`). Looking down the chain, and not only at `qc`'s block,
    /// lets a replica that missed the one certificate completing a three-chain commit
    /// on a later one.
    fn try_commit(&mut self, qc: &QuorumCert) {
        let mut certificate = qc.clone();
        while let Some(b2) = self.blocks.get(&certificate.block)
            && b2.height > self.committed_height + 1
        {
            let Some(b1) = self.blocks.get(&b2.parent) else { return };
            let Some(b0) = self.blocks.get(&b1.parent) else { return };
            let consecutive = b1.view == b0.view.next() && b2.view == b1.view.next();
            if consecutive && b0.height > self.committed_height {
                let b0 = b1.parent;
                self.commit_qc = certificate;
                self.commit_through(b0);
                return;
            }
            certificate = b2.justify.clone();
        }
    }

    /// Commits `hash` and its uncommitted ancestors, oldest first, if they extend the
    /// committed chain.
    fn commit_through(&mut self, hash: BlockHash) {
        let mut chain = Vec::new();
        let mut cursor = hash;
        while let Some(block) = self.blocks.get(&cursor)
            && block.height > self.committed_height
        {
            chain.push(cursor);
            cursor = block.parent;
        }
        if cursor != self.committed {
            self.stats.conflicting_commits += 1;
            return;
        }
        for hash in chain.into_iter().rev() {
            let block = self.blocks[&hash].clone();
            if let Some(task) = block.task() {
                self.committed_tasks.insert(task.clone());
                self.pending.retain(|payload| &payload.task != task);
            }
            self.committed = hash;
            self.committed_height = block.height;
            self.stats.commits += 1;
            self.commits.push_back(Commit { hash, block });
        }
        self.timeouts_in_row = 0;
    }

    /// Whether `task` is committed or in a block between `from` (included) and the
    /// committed chain.
    fn chain_has_task(&self, from: BlockHash, task: &TaskId) -> bool {
        let mut cursor = from;
        while let Some(block) = self.blocks.get(&cursor)
            && block.height > self.committed_height
        {
            if block.task() == Some(task) {
                return true;
            }
            cursor = block.parent;
        }
        self.committed_tasks.contains(task)
    }

    /// Whether a block between the highest certificate and the committed chain
    /// carries a task not committed yet.
    fn chain_has_uncommitted_task(&self) -> bool {
        let mut cursor = self.high_qc.block;
        while let Some(block) = self.blocks.get(&cursor)
            && block.height > self.committed_height
        {
            if block.task().is_some_and(|task| !self.committed_tasks.contains(task)) {
                return true;
            }
            cursor = block.parent;
        }
        false
    }

    /// Whether a task is among the last three blocks of the highest certificate's
    /// chain: the others learn that it committed only from a certificate carried by
    /// a further block, so the leader proposes one, empty if need be.
    fn is_commit_unannounced(&self) -> bool {
        let mut cursor = self.high_qc.block;
        for _ in 0..3 {
            let Some(block) = self.blocks.get(&cursor) else { return false };
            if block.task().is_some() {
                return true;
            }
            cursor = block.parent;
        }
        false
    }

    fn has_work(&self) -> bool {
        !self.pending.is_empty() || self.chain_has_uncommitted_task() || !self.requested.is_empty()
    }

    fn enter_view(&mut self, view: View, now_ms: u64) {
        if view <= self.view {
            return;
        }
        self.view = view;
        self.deadline_ms = Some(now_ms.saturating_add(self.timeout_ms()));
        // Votes only matter to the leader of the view after theirs.
        let oldest = View(view.0.saturating_sub(1));
        self.votes.retain(|(v, _), _| *v >= oldest);
        self.voted.retain(|(v, _), _| *v >= oldest);
        self.try_propose(now_ms);
    }

    /// Proposes in the current view when leading it, once, and when there is work:
    /// the first queued task not in the chain, or else an empty block while a task
    /// waits to commit.
    fn try_propose(&mut self, now_ms: u64) {
        let view = self.view;
        if self.registry.leader(view.0) != self.key.id() || self.proposed_view >= view {
            return;
        }
        // A certificate still being fetched may be higher than the one in hand.
        if self.waiting.iter().any(|w| matches!(w, Waiting::Certificate(_))) {
            return;
        }
        let parent_hash = self.high_qc.block;
        let Some(parent) = self.blocks.get(&parent_hash) else { return };
        let height = parent.height + 1;
        let payload = self.pending.iter().find(|p| !self.chain_has_task(parent_hash, &p.task)).cloned();
        if payload.is_none() && !self.chain_has_uncommitted_task() && !self.is_commit_unannounced() {
            return;
        }
        let block = Block {
            view,
            height,
            parent: parent_hash,
            justify: self.high_qc.clone(),
            proposer: self.key.id().clone(),
            payload,
        };
        self.proposed_view = view;
        self.stats.proposals += 1;
        let proposal = Proposal::new(&self.key, block);
        self.send(Destination::All, Message::Proposal(proposal.clone()));
        let me = self.key.id().clone();
        if let Err(refusal) = self.on_proposal(me, proposal, now_ms) {
            *self.stats.refused.entry(refusal.kind()).or_default() += 1;
        }
    }

    fn send_timeout(&mut self, view: View) {
        let timeout = Timeout::new(&self.key, view, self.high_qc.clone());
        let latest = self.timed_out.entry(self.key.id().clone()).or_default();
        *latest = (*latest).max(view);
        self.send(Destination::All, Message::Timeout(timeout));
    }

    /// Joins a timeout f + 1 agents sent, and enters the view after one a quorum
    /// timed out of.
    fn check_timeouts(&mut self, now_ms: u64) {
        let joined = self.nth_highest_timeout(self.registry.faults_max() + 1);
        let mine = self.timed_out.get(self.key.id()).copied().unwrap_or_default();
        if let Some(view) = joined
            && view >= self.view
            && view > mine
        {
            self.send_timeout(view);
        }
        if let Some(view) = self.nth_highest_timeout(self.registry.quorum()) {
            self.enter_view(view.next(), now_ms);
        }
    }

    /// The highest view that at least `count` agents timed out of (or later).
    fn nth_highest_timeout(&self, count: usize) -> Option<View> {
        let mut views: Vec<View> = self.timed_out.values().copied().collect();
        views.sort_unstable_by(|a, b| b.cmp(a));
        views.get(count.checked_sub(1)?).copied()
    }
}

#[cfg(test)]
mod tests;
