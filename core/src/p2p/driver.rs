//! The agent's driver: the one async loop that runs an [`Agent`] in a simulated host
//! and in a real process alike. Everything that differs between the two worlds (the
//! disk, the network, the model, the clock) is an [`AgentIo`]; the loop is the
//! machine's contract and nothing more: after every input the safety state is
//! written first, then messages go out, model calls start and commits are reported;
//! then it waits, `biased`, for the next input or the machine's wake-up.

use core::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::agent::{Agent, Ask, PeerMessage, PeerTransmit, Reply, SubmitError, Submitted, TaskStatus};
use super::committed::CommittedTask;
use super::identity::AgentId;
use super::refusal::Refusal;
use super::safety::SafetyState;
use super::view::View;
use crate::{Task, TaskId};

/// An input to a driven agent.
#[derive(Debug)]
pub enum AgentInput {
    /// A peer's message.
    Peer(AgentId, PeerMessage),
    /// A client's task, and where to say what became of it.
    Submit(Task, oneshot::Sender<Result<Submitted, SubmitError>>),
    /// A client's status query.
    Status(TaskId, oneshot::Sender<TaskStatus>),
    /// The reply to one of the agent's model calls.
    Reply(TaskId, Reply),
}

/// What the driver needs of its world.
pub trait AgentIo {
    /// Writes the safety state where a restart finds it; nothing is sent until it
    /// returns.
    ///
    /// # Errors
    /// Why it could not be written: the driver then stops (a vote must never leave
    /// without its safety state).
    fn persist(&mut self, state: SafetyState) -> std::io::Result<()>;
    /// Sends a message to every agent its destination names, without waiting (the
    /// protocol tolerates loss).
    fn send(&mut self, agent: &Agent, transmit: PeerTransmit);
    /// Starts a model call; its reply must come back as [`AgentInput::Reply`].
    fn ask(&mut self, ask: Ask);
    /// A committed task or step, and the agent's view when it committed.
    fn committed(&mut self, done: CommittedTask, at_view: View);
    /// Time now, ms (the same clock the wake-ups are in).
    fn now_ms(&self) -> u64;
    /// A peer's message about to be handled (the simulation's byzantine agents act on
    /// what they see here).
    fn received(&mut self, _from: &AgentId, _message: &PeerMessage) {}
    /// A peer's message the agent refused.
    fn refused(&mut self, _refusal: &Refusal) {}
}

/// Why a driven agent stopped.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// Its safety state could not be written.
    #[error("the safety state could not be written: {0}")]
    Persist(#[from] std::io::Error),
}

/// Runs `agent` on `inbox` until every sender of the inbox is gone. It starts by
/// asking its peers to catch it up ([`Agent::rejoin`]): a restarted agent must not
/// wait for new work to learn what it missed.
///
/// # Errors
/// [`DriverError`] when the safety state cannot be written (fail-stop).
pub async fn drive_agent(
    agent: &mut Agent,
    inbox: &mut mpsc::UnboundedReceiver<AgentInput>,
    io: &mut impl AgentIo,
) -> Result<(), DriverError> {
    agent.rejoin(io.now_ms());
    loop {
        flush(agent, io)?;
        let wake_ms = agent.poll_timeout();
        let now_ms = io.now_ms();
        let sleep = async {
            match wake_ms {
                Some(wake_ms) => tokio::time::sleep(Duration::from_millis(wake_ms.saturating_sub(now_ms))).await,
                None => core::future::pending().await,
            }
        };
        let input = tokio::select! {
            biased;
            input = inbox.recv() => match input {
                Some(input) => Some(input),
                None => return Ok(()),
            },
            () = sleep => None,
        };
        let now_ms = io.now_ms();
        match input {
            Some(AgentInput::Peer(from, message)) => {
                io.received(&from, &message);
                if let Err(refusal) = agent.handle_peer(&from, message, now_ms) {
                    io.refused(&refusal);
                }
            }
            Some(AgentInput::Submit(task, reply)) => {
                // A client that went away does not need the answer.
                let _ = reply.send(agent.handle_submit(&task, now_ms));
            }
            Some(AgentInput::Status(task, reply)) => {
                let _ = reply.send(agent.status(&task));
            }
            Some(AgentInput::Reply(task, reply)) => agent.handle_reply(&task, reply, now_ms),
            None => agent.handle_timeout(now_ms),
        }
    }
}

/// The machine's outputs, in its order: safety state, messages, model calls, commits.
fn flush(agent: &mut Agent, io: &mut impl AgentIo) -> Result<(), DriverError> {
    if let Some(state) = agent.poll_persist() {
        io.persist(state)?;
    }
    while let Some(transmit) = agent.poll_transmit() {
        io.send(agent, transmit);
    }
    while let Some(ask) = agent.poll_ask() {
        io.ask(ask);
    }
    while let Some(done) = agent.poll_committed() {
        let at_view = agent.replica().view();
        io.committed(done, at_view);
    }
    Ok(())
}
