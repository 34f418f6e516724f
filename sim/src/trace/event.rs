//! What a trace records: typed events, read by reports as data rather than parsed back
//! from strings.

use serde::{Deserialize, Serialize};

use quorum_core::{Outcome, TaskId, WorkerId};

use crate::faults::FaultKind;

/// One thing that happened, on one host, at one simulated instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// Simulated time, ms since the run started.
    pub at_ms: u64,
    /// The host it happened on (`sim` for the harness itself).
    pub host: String,
    /// What happened.
    #[serde(flatten)]
    pub what: Happening,
}

/// A request a host sent a worker over the sim's `SimLink`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "request")]
pub enum Request {
    /// Answer round `attempt` of `task`.
    Execute {
        /// Which task.
        task: TaskId,
        /// Which round.
        attempt: u32,
    },
    /// Report your state.
    Heartbeat,
    /// Stop working on `task`.
    Cancel {
        /// Which task.
        task: TaskId,
    },
}

/// A worker's reply, as the caller received it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reply")]
pub enum Reply {
    /// An answer to round `attempt` of `task`.
    Answer {
        /// Which task.
        task: TaskId,
        /// Which round.
        attempt: u32,
        /// The answer.
        text: String,
    },
    /// The worker could not answer.
    Failed {
        /// Why, for humans.
        error: String,
    },
    /// A heartbeat.
    Heartbeat {
        /// Tasks it is working on.
        load: u32,
    },
    /// The cancel was taken.
    Cancelled,
}

/// How a model call ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "completion")]
pub enum LlmReply {
    /// A complete reply.
    Ok {
        /// The reply's text.
        text: String,
    },
    /// A reply cut off at the token limit.
    Truncated,
    /// No reply.
    Error {
        /// Why, for humans.
        error: String,
    },
}

/// What happened. Each kind's canonical line (see [`TraceEvent::kind`] and
/// [`TraceEvent::detail`]) is what the trace hash covers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Happening {
    /// A worker host starts serving.
    WorkerStart,
    /// A worker host was released by the scaler and stops serving.
    WorkerStop,
    /// The supervisor host starts.
    SupervisorStart,
    /// The supervisor opened its journal and resumes from it.
    Recovered {
        /// Finished tasks it holds (their results answer again).
        finished: usize,
        /// Accepted tasks without a result (they go on).
        unfinished: usize,
    },
    /// A request went out to a worker.
    Send {
        /// The worker.
        to: WorkerId,
        /// What was asked.
        request: Request,
    },
    /// A worker's reply arrived.
    Recv {
        /// The worker.
        from: WorkerId,
        /// What it said.
        reply: Reply,
    },
    /// A request got no reply.
    Drop {
        /// The worker.
        to: WorkerId,
        /// What was asked.
        request: Request,
        /// Why there was no reply, for humans.
        error: String,
    },
    /// A host received a message it could not decode.
    BadFrame {
        /// What was wrong with it.
        error: String,
    },
    /// A model call is made.
    LlmCall {
        /// The prompt's size.
        prompt_bytes: usize,
    },
    /// A model call ended.
    Llm {
        /// How.
        reply: LlmReply,
    },
    /// A twin pushed a conflicting answer under its sibling's id.
    Twin {
        /// Which task.
        task: TaskId,
        /// Which round.
        attempt: u32,
        /// The conflicting answer.
        text: String,
    },
    /// A hostile worker pushed an answer outside its execute call (a flood, an
    /// equivocation, an oversized answer).
    Push {
        /// Which task it names.
        task: TaskId,
        /// Which round it names.
        attempt: u32,
        /// The answer.
        text: String,
    },
    /// The supervisor took an answer a worker pushed outside its execute call.
    Delivered {
        /// Who pushed it.
        worker: WorkerId,
        /// Which task.
        task: TaskId,
        /// Which round.
        attempt: u32,
    },
    /// The scaler switched these worker hosts on (none: it had no spare).
    ScaleUp {
        /// The hosts started.
        started: Vec<String>,
    },
    /// The scaler switched a worker host off.
    ScaleDown {
        /// The host released.
        worker: WorkerId,
    },
    /// The client submits a task.
    Submit {
        /// Which.
        task: TaskId,
    },
    /// The client asks for a task's result.
    Poll {
        /// Which.
        task: TaskId,
    },
    /// The supervisor did not know a task the client submitted; it submits again.
    Resubmit {
        /// Which.
        task: TaskId,
    },
    /// The supervisor refused a submission.
    Refused {
        /// Which task.
        task: TaskId,
        /// Why, for humans.
        reason: String,
    },
    /// A task's result: decided (on the supervisor) or received (on the client).
    Result {
        /// Which task.
        task: TaskId,
        /// How it ended.
        outcome: Outcome,
    },
    /// The client holds every task's result.
    ClientDone {
        /// How many.
        results: usize,
    },
    /// A fault starts or ends.
    Fault {
        /// Starts (or ends).
        start: bool,
        /// Which.
        fault: FaultKind,
    },
    /// The fault phase is over and the network heals.
    Liveness,
    /// A P2P agent host starts (after a crash, from its persisted safety state).
    AgentStart {
        /// Whether it restarted from a persisted safety state.
        restored: bool,
    },
    /// A P2P agent proposed a block (as the leader, the super agent, of its view).
    Proposed {
        /// The view.
        view: u64,
        /// The block's height.
        height: u64,
        /// The block's short hash.
        block: String,
        /// The task it carries, if any.
        task: Option<TaskId>,
    },
    /// A P2P agent voted for a block.
    Voted {
        /// The block's view.
        view: u64,
        /// The block's short hash.
        block: String,
    },
    /// A P2P agent's view timer expired: it sends NEW-VIEW.
    ViewTimeout {
        /// The view it times out of.
        view: u64,
    },
    /// A P2P agent committed a block carrying a task.
    Committed {
        /// The block's height.
        height: u64,
        /// The view it was proposed in.
        view: u64,
        /// The agent's view when it committed.
        at_view: u64,
        /// The block's short hash.
        block: String,
        /// The task.
        task: TaskId,
        /// The outcome of its decision.
        outcome: Outcome,
    },
    /// A P2P agent followed a committed plan that delegates a task into subtasks.
    Delegated {
        /// The task.
        task: TaskId,
        /// How many subtasks.
        subtasks: usize,
    },
    /// A byzantine P2P agent sent a message honest code never would.
    Byzantine {
        /// What it did, for humans.
        act: String,
    },
    /// The run ends.
    End {
        /// Invariant violations found.
        violations: usize,
    },
}

impl TraceEvent {
    /// The kind of event, as one word (`send`, `recv`, `drop`, `llm`, `fault`,
    /// `result`, ...): several variants share a word where they share a meaning
    /// (`start` for any host starting, `send` for any request).
    pub fn kind(&self) -> &'static str {
        match &self.what {
            Happening::WorkerStart | Happening::SupervisorStart => "start",
            Happening::Recovered { .. } => "recovered",
            Happening::WorkerStop => "stop",
            Happening::Send { .. } | Happening::Submit { .. } | Happening::Poll { .. } => "send",
            Happening::Recv { .. } => "recv",
            Happening::Drop { .. } => "drop",
            Happening::BadFrame { .. } => "bad_frame",
            Happening::LlmCall { .. } => "llm_call",
            Happening::Llm { .. } => "llm",
            Happening::Twin { .. } => "twin",
            Happening::Push { .. } => "push",
            Happening::Delivered { .. } => "delivered",
            Happening::ScaleUp { .. } => "scale_up",
            Happening::ScaleDown { .. } => "scale_down",
            Happening::Resubmit { .. } => "resubmit",
            Happening::Refused { .. } => "refused",
            Happening::Result { .. } => "result",
            Happening::ClientDone { .. } => "done",
            Happening::Fault { .. } => "fault",
            Happening::Liveness => "liveness",
            Happening::AgentStart { .. } => "start",
            Happening::Proposed { .. } => "proposed",
            Happening::Voted { .. } => "voted",
            Happening::ViewTimeout { .. } => "view_timeout",
            Happening::Committed { .. } => "committed",
            Happening::Delegated { .. } => "delegated",
            Happening::Byzantine { .. } => "byzantine",
            Happening::End { .. } => "end",
        }
    }

    /// The particulars as one line of text: for people, and for the trace hash, which
    /// covers `at_ms`, `host`, [`TraceEvent::kind`] and this line (the same lines since
    /// the first traces, so recorded hashes stay valid).
    pub fn detail(&self) -> String {
        match &self.what {
            Happening::WorkerStart => "worker serving".to_owned(),
            Happening::WorkerStop => "worker released".to_owned(),
            Happening::SupervisorStart => "supervisor up".to_owned(),
            Happening::Recovered { finished, unfinished } => {
                format!("journal: {finished} finished, {unfinished} to resume")
            }
            Happening::Send { to, request } => format!("{to} {}", request.label()),
            Happening::Recv { from, reply } => format!("{from} {}", reply.label()),
            Happening::Drop { to, request, error } => format!("{to} {}: {error}", request.label()),
            Happening::BadFrame { error } => error.clone(),
            Happening::LlmCall { prompt_bytes } => format!("{prompt_bytes} bytes"),
            Happening::Llm { reply } => match reply {
                LlmReply::Ok { text } => format!("ok {text:?}"),
                LlmReply::Truncated => "truncated".to_owned(),
                LlmReply::Error { error } => format!("error {error}"),
            },
            Happening::Twin { task, attempt, text } | Happening::Push { task, attempt, text } => {
                format!("{task} #{attempt} {text:?}")
            }
            Happening::Delivered { worker, task, attempt } => format!("{worker} {task} #{attempt}"),
            Happening::ScaleUp { started } => started.join(" "),
            Happening::ScaleDown { worker } => worker.to_string(),
            Happening::Submit { task } => format!("submit {task}"),
            Happening::Poll { task } => format!("poll {task}"),
            Happening::Resubmit { task } => task.to_string(),
            Happening::Refused { task, reason } => format!("{task}: {reason}"),
            Happening::Result { task, outcome } => format!("{task} {}", outcome_label(outcome)),
            Happening::ClientDone { results } => format!("{results} results"),
            Happening::Fault { start, fault } => {
                let verb = if *start { "start" } else { "end" };
                format!("{verb} {}", serde_json::to_string(fault).expect("fault kinds are plain data"))
            }
            Happening::Liveness => "faults end, network heals".to_owned(),
            Happening::AgentStart { restored } => {
                if *restored { "agent up, safety state restored" } else { "agent up" }.to_owned()
            }
            Happening::Proposed { view, height, block, task } => match task {
                Some(task) => format!("view {view} height {height} {block} {task}"),
                None => format!("view {view} height {height} {block} empty"),
            },
            Happening::Voted { view, block } => format!("view {view} {block}"),
            Happening::ViewTimeout { view } => format!("view {view}"),
            Happening::Committed { height, view, at_view, block, task, outcome } => {
                format!("height {height} view {view} at view {at_view} {block} {task} {}", outcome_label(outcome))
            }
            Happening::Delegated { task, subtasks } => format!("{task} into {subtasks}"),
            Happening::Byzantine { act } => act.clone(),
            Happening::End { violations } => format!("{violations} violations"),
        }
    }

    /// The line the trace hash covers: `{"at_ms":..,"host":..,"kind":..,"detail":..}`.
    pub(crate) fn canonical_line(&self) -> String {
        #[derive(Serialize)]
        struct Line<'a> {
            at_ms: u64,
            host: &'a str,
            kind: &'a str,
            detail: &'a str,
        }
        let detail = self.detail();
        let line = Line { at_ms: self.at_ms, host: &self.host, kind: self.kind(), detail: &detail };
        serde_json::to_string(&line).expect("canonical lines are plain data")
    }

    /// The event as one JSON line (no newline), every field typed.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("trace events are plain data")
    }

    /// The task the event is about, if it names one.
    pub fn task(&self) -> Option<&TaskId> {
        match &self.what {
            Happening::Send { request, .. } | Happening::Drop { request, .. } => request.task(),
            Happening::Recv { reply: Reply::Answer { task, .. }, .. }
            | Happening::Twin { task, .. }
            | Happening::Push { task, .. }
            | Happening::Delivered { task, .. }
            | Happening::Submit { task }
            | Happening::Poll { task }
            | Happening::Resubmit { task }
            | Happening::Refused { task, .. }
            | Happening::Result { task, .. }
            | Happening::Committed { task, .. }
            | Happening::Delegated { task, .. } => Some(task),
            Happening::Proposed { task, .. } => task.as_ref(),
            _ => None,
        }
    }

    /// Whether this is a message between hosts (a request, a reply, or a lost one;
    /// in P2P mode a proposal or a vote).
    pub fn is_message(&self) -> bool {
        matches!(
            self.what,
            Happening::Send { .. }
                | Happening::Recv { .. }
                | Happening::Drop { .. }
                | Happening::Submit { .. }
                | Happening::Poll { .. }
                | Happening::Proposed { .. }
                | Happening::Voted { .. }
        )
    }
}

impl Request {
    /// As the link labels it: `execute t004 #1`, `heartbeat`, `cancel t004`.
    pub fn label(&self) -> String {
        match self {
            Self::Execute { task, attempt } => format!("execute {task} #{attempt}"),
            Self::Heartbeat => "heartbeat".to_owned(),
            Self::Cancel { task } => format!("cancel {task}"),
        }
    }

    /// The task it is about, if any.
    pub fn task(&self) -> Option<&TaskId> {
        match self {
            Self::Execute { task, .. } | Self::Cancel { task } => Some(task),
            Self::Heartbeat => None,
        }
    }
}

impl Reply {
    /// As the link labels it: `answer t004 #1 "4"`, `failed: ...`, `heartbeat load 2`,
    /// `cancelled`.
    pub fn label(&self) -> String {
        match self {
            Self::Answer { task, attempt, text } => format!("answer {task} #{attempt} {text:?}"),
            Self::Failed { error } => format!("failed: {error}"),
            Self::Heartbeat { load } => format!("heartbeat load {load}"),
            Self::Cancelled => "cancelled".to_owned(),
        }
    }
}

/// A one-line summary of a result's outcome, for traces.
fn outcome_label(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Agreed { answer, support, .. } => format!("agreed {answer:?} support {support:.3}"),
        Outcome::NoConsensus { reason, .. } => format!("no_consensus {reason:?}"),
        Outcome::Failed { reason } => format!("failed {reason:?}"),
    }
}
