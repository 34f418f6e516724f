//! Conversions between quorum-core's types and the wire's, in both directions.
//!
//! Every message that comes in is checked here, field by field, into a [`FieldError`]
//! naming the field (missing, of an unknown value, too long): a server answers it
//! with `invalid_argument`, the link with [`quorum_core::LinkError::Protocol`] (see
//! `status`). What a worker says in its answer (text length, confidence) is not
//! judged here: the supervisor's machine is that boundary, and counts what it
//! refuses against the worker. Nor is a peer's message judged here beyond its
//! envelope: the receiving agent verifies every signature in it.

use quorum_core::consensus::Strategy;
use quorum_core::{
    ExecuteRequest, Heartbeat, LinkError, Outcome, Priority, SUPERVISOR_DURATION_MS_MAX, SupervisorStatus,
    TASK_ID_BYTES_MAX, TASK_TEXT_BYTES_MAX, Task, TaskEvent, TaskId, TaskResult, WorkerAnswer, WorkerError, WorkerId,
    WorkerStatus,
};

use quorum_core::p2p::{self, AGENT_ID_BYTES_MAX, AgentId, CommittedTask, PeerMessage};

use crate::proto;

/// Longest worker id accepted on the wire, in bytes.
pub const WORKER_ID_BYTES_MAX: usize = 128;
/// Longest worker address accepted on the wire, in bytes.
pub const WORKER_ADDRESS_BYTES_MAX: usize = 256;
/// Longest JSON-encoded error accepted on the wire, in bytes: a worker's error report
/// is cut to [`quorum_core::LINK_ERROR_BYTES_MAX`] before it travels, and its JSON
/// envelope adds little.
pub const ERROR_JSON_BYTES_MAX: usize = 4 * 1024;

/// A field of an incoming message that is missing or wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    /// The field, as `message.field`.
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl FieldError {
    pub(crate) fn new(field: &'static str, problem: impl Into<String>) -> Self {
        Self { field, problem: problem.into() }
    }
}

fn bounded_text(field: &'static str, text: String, bytes_max: usize) -> Result<String, FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::new(field, "missing (empty)"));
    }
    if text.len() > bytes_max {
        return Err(FieldError::new(field, format!("{} bytes; at most {bytes_max} are accepted", text.len())));
    }
    Ok(text)
}

pub(crate) fn task_id(field: &'static str, id: String) -> Result<TaskId, FieldError> {
    bounded_text(field, id, TASK_ID_BYTES_MAX).map(TaskId::new)
}

pub(crate) fn worker_id(field: &'static str, id: String) -> Result<WorkerId, FieldError> {
    bounded_text(field, id, WORKER_ID_BYTES_MAX).map(WorkerId::new)
}

fn attempt(field: &'static str, attempt: u32) -> Result<u32, FieldError> {
    if attempt == 0 {
        return Err(FieldError::new(field, "missing (0); rounds count from 1"));
    }
    Ok(attempt)
}

fn required<T>(field: &'static str, value: Option<T>) -> Result<T, FieldError> {
    value.ok_or_else(|| FieldError::new(field, "missing"))
}

/// A worker's address as it joins: `http://host:port`.
pub(crate) fn worker_address(address: String) -> Result<String, FieldError> {
    const FIELD: &str = "join.address";
    let address = bounded_text(FIELD, address, WORKER_ADDRESS_BYTES_MAX)?;
    let uri: tonic::transport::Uri =
        address.parse().map_err(|_| FieldError::new(FIELD, "not a URI (expected http://host:port)"))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none() || uri.port().is_none() {
        return Err(FieldError::new(FIELD, "expected http://host:port"));
    }
    if uri.path_and_query().is_some_and(|path| path.as_str() != "/") {
        return Err(FieldError::new(FIELD, "expected http://host:port with no path"));
    }
    Ok(address)
}

fn strategy_to_proto(strategy: Strategy) -> proto::Strategy {
    match strategy {
        Strategy::Exact => proto::Strategy::Exact,
        Strategy::Numeric => proto::Strategy::Numeric,
        Strategy::Semantic => proto::Strategy::Semantic,
    }
}

fn strategy_from_proto(value: i32) -> Result<Strategy, FieldError> {
    const FIELD: &str = "execute.strategy";
    match proto::Strategy::try_from(value) {
        Ok(proto::Strategy::Exact) => Ok(Strategy::Exact),
        Ok(proto::Strategy::Numeric) => Ok(Strategy::Numeric),
        Ok(proto::Strategy::Semantic) => Ok(Strategy::Semantic),
        Ok(proto::Strategy::Unspecified) => Err(FieldError::new(FIELD, "missing (unspecified)")),
        Err(_) => Err(FieldError::new(FIELD, format!("unknown value {value}"))),
    }
}

/// The wire form of an execute request.
pub(crate) fn execute_request_to_proto(request: ExecuteRequest) -> proto::ExecuteRequest {
    proto::ExecuteRequest {
        task: request.task.as_str().to_owned(),
        attempt: request.attempt,
        text: request.text,
        strategy: strategy_to_proto(request.strategy).into(),
        timeout_ms: request.timeout_ms,
    }
}

/// An execute request from the wire, checked.
pub(crate) fn execute_request_from_proto(request: proto::ExecuteRequest) -> Result<ExecuteRequest, FieldError> {
    if request.timeout_ms == 0 || request.timeout_ms > SUPERVISOR_DURATION_MS_MAX {
        let problem = format!("{} ms; must be in 1..={SUPERVISOR_DURATION_MS_MAX}", request.timeout_ms);
        return Err(FieldError::new("execute.timeout_ms", problem));
    }
    Ok(ExecuteRequest {
        task: task_id("execute.task", request.task)?,
        attempt: attempt("execute.attempt", request.attempt)?,
        text: bounded_text("execute.text", request.text, TASK_TEXT_BYTES_MAX)?,
        strategy: strategy_from_proto(request.strategy)?,
        timeout_ms: request.timeout_ms,
    })
}

/// The wire form of a worker's answer.
pub(crate) fn answer_to_proto(answer: WorkerAnswer) -> proto::WorkerAnswer {
    proto::WorkerAnswer {
        worker: answer.worker.as_str().to_owned(),
        task: answer.task.as_str().to_owned(),
        attempt: answer.attempt,
        text: answer.text,
        confidence: answer.confidence,
        llm_calls: answer.llm_calls,
        prompt_tokens: answer.prompt_tokens,
        completion_tokens: answer.completion_tokens,
        latency_ms: answer.latency_ms,
        rate_limit_wait_ms: answer.rate_limit_wait_ms,
    }
}

/// A worker's answer from the wire, its identity checked (its content is the
/// machine's to judge).
pub(crate) fn answer_from_proto(answer: proto::WorkerAnswer) -> Result<WorkerAnswer, FieldError> {
    Ok(WorkerAnswer {
        worker: worker_id("answer.worker", answer.worker)?,
        task: task_id("answer.task", answer.task)?,
        attempt: attempt("answer.attempt", answer.attempt)?,
        text: answer.text,
        confidence: answer.confidence,
        llm_calls: answer.llm_calls,
        prompt_tokens: answer.prompt_tokens,
        completion_tokens: answer.completion_tokens,
        latency_ms: answer.latency_ms,
        rate_limit_wait_ms: answer.rate_limit_wait_ms,
    })
}

/// The wire form of a worker's failure: its error as JSON, its report bounded.
pub(crate) fn failure_to_proto(error: WorkerError) -> proto::WorkerFailure {
    let bounded = match LinkError::Worker(error).bounded() {
        LinkError::Worker(error) => error,
        // `bounded` keeps a worker's error a worker's error.
        other => WorkerError::Llm(quorum_core::LlmError::BadResponse { detail: other.to_string() }),
    };
    proto::WorkerFailure { error_json: serde_json::to_string(&bounded).unwrap_or_default() }
}

/// A worker's failure from the wire.
pub(crate) fn failure_from_proto(failure: proto::WorkerFailure) -> Result<WorkerError, FieldError> {
    json("failure.error_json", &failure.error_json)
}

fn json<T: serde::de::DeserializeOwned>(field: &'static str, text: &str) -> Result<T, FieldError> {
    if text.len() > ERROR_JSON_BYTES_MAX {
        return Err(FieldError::new(field, format!("{} bytes; at most {ERROR_JSON_BYTES_MAX}", text.len())));
    }
    serde_json::from_str(text).map_err(|error| FieldError::new(field, format!("not the expected JSON: {error}")))
}

/// The wire form of a heartbeat.
pub(crate) fn heartbeat_to_proto(heartbeat: Heartbeat) -> proto::HeartbeatReply {
    proto::HeartbeatReply {
        worker: heartbeat.worker.as_str().to_owned(),
        load: heartbeat.load,
        capacity: heartbeat.capacity,
    }
}

/// A heartbeat from the wire.
pub(crate) fn heartbeat_from_proto(reply: proto::HeartbeatReply) -> Result<Heartbeat, FieldError> {
    if reply.capacity == 0 {
        return Err(FieldError::new("heartbeat.capacity", "missing (0)"));
    }
    Ok(Heartbeat { worker: worker_id("heartbeat.worker", reply.worker)?, load: reply.load, capacity: reply.capacity })
}

fn priority_to_proto(priority: Priority) -> proto::Priority {
    match priority {
        Priority::Low => proto::Priority::Low,
        Priority::Normal => proto::Priority::Normal,
        Priority::High => proto::Priority::High,
    }
}

/// The wire form of a task.
pub(crate) fn task_to_proto(task: Task) -> proto::Task {
    proto::Task {
        id: task.id.as_str().to_owned(),
        text: task.text,
        ground_truth: task.ground_truth,
        priority: priority_to_proto(task.priority).into(),
    }
}

/// A task from the wire, checked against core's limits.
pub(crate) fn task_from_proto(task: Option<proto::Task>) -> Result<Task, FieldError> {
    let task = required("submit.task", task)?;
    let priority = match proto::Priority::try_from(task.priority) {
        Ok(proto::Priority::Low) => Priority::Low,
        Ok(proto::Priority::Unspecified | proto::Priority::Normal) => Priority::Normal,
        Ok(proto::Priority::High) => Priority::High,
        Err(_) => return Err(FieldError::new("task.priority", format!("unknown value {}", task.priority))),
    };
    let ground_truth = match task.ground_truth {
        Some(truth) => Some(bounded_text("task.ground_truth", truth, TASK_TEXT_BYTES_MAX)?),
        None => None,
    };
    Ok(Task {
        id: task_id("task.id", task.id)?,
        text: bounded_text("task.text", task.text, TASK_TEXT_BYTES_MAX)?,
        ground_truth,
        priority,
    })
}

fn outcome_name(outcome: &Outcome) -> (&'static str, f64) {
    match outcome {
        Outcome::Agreed { support, .. } => ("agreed", *support),
        Outcome::NoConsensus { support, .. } => ("no_consensus", *support),
        Outcome::Failed { .. } => ("failed", 0.0),
    }
}

/// The wire form of a result: summary fields and the whole result as JSON.
pub(crate) fn result_to_proto(result: &TaskResult) -> proto::TaskResult {
    let (outcome, support) = outcome_name(&result.outcome);
    proto::TaskResult {
        task: result.task.as_str().to_owned(),
        outcome: outcome.to_owned(),
        answer: result.answer().map(str::to_owned),
        support,
        llm_calls: result.metadata.llm_calls,
        prompt_tokens: result.metadata.prompt_tokens,
        completion_tokens: result.metadata.completion_tokens,
        result_json: serde_json::to_string(result).unwrap_or_default(),
    }
}

/// A result from the wire: its JSON, which must be of the task the summary names.
pub(crate) fn result_from_proto(result: proto::TaskResult) -> Result<TaskResult, FieldError> {
    let decoded: TaskResult = serde_json::from_str(&result.result_json)
        .map_err(|error| FieldError::new("result.result_json", format!("not a task result: {error}")))?;
    if decoded.task.as_str() != result.task {
        return Err(FieldError::new("result.task", "differs from the task of result_json"));
    }
    Ok(decoded)
}

/// The wire form of a task event.
pub(crate) fn event_to_proto(event: &TaskEvent) -> proto::TaskEvent {
    use proto::task_event::Event;
    let event = match event {
        TaskEvent::Accepted => Event::Accepted(proto::Accepted {}),
        TaskEvent::RoundStarted { attempt, workers } => Event::RoundStarted(proto::RoundStarted {
            attempt: *attempt,
            workers: workers.iter().map(|worker| worker.as_str().to_owned()).collect(),
        }),
        TaskEvent::Answered { worker, attempt, text, confidence, pushed } => Event::Answered(proto::Answered {
            worker: worker.as_str().to_owned(),
            attempt: *attempt,
            text: text.clone(),
            confidence: *confidence,
            pushed: *pushed,
        }),
        TaskEvent::Failed { worker, attempt, error } => Event::Failed(proto::AnswerFailed {
            worker: worker.as_str().to_owned(),
            attempt: *attempt,
            error_json: serde_json::to_string(error).unwrap_or_default(),
        }),
        TaskEvent::Dropped { events } => Event::Dropped(proto::Dropped { events: *events }),
        TaskEvent::Finished { result } => Event::Finished(result_to_proto(result)),
    };
    proto::TaskEvent { event: Some(event) }
}

/// A task event from the wire, checked.
pub(crate) fn event_from_proto(event: proto::TaskEvent) -> Result<TaskEvent, FieldError> {
    use proto::task_event::Event;
    Ok(match required("task_event.event", event.event)? {
        Event::Accepted(proto::Accepted {}) => TaskEvent::Accepted,
        Event::RoundStarted(round) => TaskEvent::RoundStarted {
            attempt: attempt("round_started.attempt", round.attempt)?,
            workers: round
                .workers
                .into_iter()
                .map(|worker| worker_id("round_started.workers", worker))
                .collect::<Result<_, _>>()?,
        },
        Event::Answered(answer) => TaskEvent::Answered {
            worker: worker_id("answered.worker", answer.worker)?,
            attempt: attempt("answered.attempt", answer.attempt)?,
            text: answer.text,
            confidence: answer.confidence,
            pushed: answer.pushed,
        },
        Event::Failed(failed) => TaskEvent::Failed {
            worker: worker_id("failed.worker", failed.worker)?,
            attempt: attempt("failed.attempt", failed.attempt)?,
            error: json("failed.error_json", &failed.error_json)?,
        },
        Event::Dropped(dropped) => TaskEvent::Dropped { events: dropped.events },
        Event::Finished(result) => TaskEvent::Finished { result: Box::new(result_from_proto(result)?) },
    })
}

fn worker_status_name(status: WorkerStatus) -> &'static str {
    match status {
        WorkerStatus::Available => "available",
        WorkerStatus::Busy => "busy",
        WorkerStatus::Suspect => "suspect",
        WorkerStatus::Offline => "offline",
    }
}

/// The wire form of the supervisor's status.
pub(crate) fn status_to_proto(status: &SupervisorStatus) -> proto::StatusReply {
    proto::StatusReply {
        workers: status
            .workers
            .iter()
            .map(|summary| proto::WorkerSummary {
                worker: summary.worker.as_str().to_owned(),
                status: worker_status_name(summary.status).to_owned(),
                load: summary.load,
                capacity: summary.capacity,
            })
            .collect(),
        queued: status.queued as u64,
        running: status.running as u64,
        status_json: serde_json::to_string(status).unwrap_or_default(),
    }
}

/// The supervisor's status from the wire.
pub(crate) fn status_from_proto(reply: proto::StatusReply) -> Result<SupervisorStatus, FieldError> {
    serde_json::from_str(&reply.status_json)
        .map_err(|error| FieldError::new("status.status_json", format!("not a supervisor status: {error}")))
}

/// Bytes of an ed25519 public key.
const PUBLIC_KEY_BYTES: usize = 32;

pub(crate) fn agent_id(field: &'static str, id: String) -> Result<AgentId, FieldError> {
    bounded_text(field, id, AGENT_ID_BYTES_MAX).map(AgentId::new)
}

/// The wire form of an agent's identity.
pub(crate) fn identity_to_proto(agent: &AgentId, public_key: &[u8; PUBLIC_KEY_BYTES]) -> proto::IdentityReply {
    proto::IdentityReply { agent: agent.as_str().to_owned(), public_key: public_key.to_vec() }
}

/// An agent's identity from the wire: its id and a key of exactly 32 bytes (whether
/// they make a valid ed25519 point is the registry's to check).
pub(crate) fn identity_from_proto(
    reply: proto::IdentityReply,
) -> Result<(AgentId, [u8; PUBLIC_KEY_BYTES]), FieldError> {
    let agent = agent_id("identity.agent", reply.agent)?;
    let bytes = reply.public_key.len();
    let public_key = <[u8; PUBLIC_KEY_BYTES]>::try_from(reply.public_key).map_err(|_| {
        FieldError::new("identity.public_key", format!("{bytes} bytes; an ed25519 public key is {PUBLIC_KEY_BYTES}"))
    })?;
    Ok((agent, public_key))
}

/// A peer message as the JSON it travels in.
///
/// # Errors
/// When serde cannot encode it (it always can: every map in it has string keys).
pub(crate) fn peer_message_to_json(message: &PeerMessage) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(message)
}

/// A delivery from the wire: the sender's id and its message, whose JSON is at most
/// `bytes_max` (the server's request limit) and must decode.
pub(crate) fn delivery_from_proto(
    request: proto::DeliverPeerRequest,
    bytes_max: usize,
) -> Result<(AgentId, PeerMessage), FieldError> {
    const FIELD: &str = "deliver.message_json";
    let from = agent_id("deliver.from", request.from)?;
    let json = request.message_json;
    if json.is_empty() {
        return Err(FieldError::new(FIELD, "missing (empty)"));
    }
    if json.len() > bytes_max {
        return Err(FieldError::new(FIELD, format!("{} bytes; at most {bytes_max} are accepted", json.len())));
    }
    let message = serde_json::from_slice(&json)
        .map_err(|error| FieldError::new(FIELD, format!("not a peer message: {error}")))?;
    Ok((from, message))
}

/// The wire form of what happened to a submitted task.
pub(crate) fn submitted_to_proto(submitted: p2p::Submitted) -> proto::AgentSubmitReply {
    let submitted = match submitted {
        p2p::Submitted::Accepted => proto::Submitted::Accepted,
        p2p::Submitted::AlreadyOpen => proto::Submitted::AlreadyOpen,
        p2p::Submitted::AlreadyCommitted => proto::Submitted::AlreadyCommitted,
    };
    proto::AgentSubmitReply { submitted: submitted.into() }
}

/// What happened to a submitted task, from the wire.
pub(crate) fn submitted_from_proto(reply: proto::AgentSubmitReply) -> Result<p2p::Submitted, FieldError> {
    const FIELD: &str = "agent_submit.submitted";
    match proto::Submitted::try_from(reply.submitted) {
        Ok(proto::Submitted::Accepted) => Ok(p2p::Submitted::Accepted),
        Ok(proto::Submitted::AlreadyOpen) => Ok(p2p::Submitted::AlreadyOpen),
        Ok(proto::Submitted::AlreadyCommitted) => Ok(p2p::Submitted::AlreadyCommitted),
        Ok(proto::Submitted::Unspecified) => Err(FieldError::new(FIELD, "missing (unspecified)")),
        Err(_) => Err(FieldError::new(FIELD, format!("unknown value {}", reply.submitted))),
    }
}

/// The wire form of where a task stands at an agent.
pub(crate) fn task_status_to_proto(status: &p2p::TaskStatus) -> proto::AgentStatusReply {
    let (state, committed_json) = match status {
        p2p::TaskStatus::Unknown => (proto::TaskState::Unknown, String::new()),
        p2p::TaskStatus::Open => (proto::TaskState::Open, String::new()),
        p2p::TaskStatus::Committed(committed) => {
            (proto::TaskState::Committed, serde_json::to_string(&**committed).unwrap_or_default())
        }
    };
    proto::AgentStatusReply { state: state.into(), committed_json }
}

/// Where `task` stands, from the wire: a committed task must be `task`.
pub(crate) fn task_status_from_proto(
    reply: proto::AgentStatusReply,
    task: &TaskId,
) -> Result<p2p::TaskStatus, FieldError> {
    const JSON: &str = "agent_status.committed_json";
    let state = match proto::TaskState::try_from(reply.state) {
        Ok(proto::TaskState::Unspecified) => {
            return Err(FieldError::new("agent_status.state", "missing (unspecified)"));
        }
        Ok(state) => state,
        Err(_) => return Err(FieldError::new("agent_status.state", format!("unknown value {}", reply.state))),
    };
    if state != proto::TaskState::Committed {
        if !reply.committed_json.is_empty() {
            return Err(FieldError::new(JSON, "present for a task that is not committed"));
        }
        return Ok(if state == proto::TaskState::Open { p2p::TaskStatus::Open } else { p2p::TaskStatus::Unknown });
    }
    let committed: CommittedTask = serde_json::from_str(&reply.committed_json)
        .map_err(|error| FieldError::new(JSON, format!("not a committed task: {error}")))?;
    if committed.task() != task {
        return Err(FieldError::new(JSON, format!("of task {}, not of the task asked", committed.task())));
    }
    Ok(p2p::TaskStatus::Committed(Box::new(committed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ExecuteRequest {
        ExecuteRequest {
            task: "t1".into(),
            attempt: 1,
            text: "What is 2+2?".to_owned(),
            strategy: Strategy::Numeric,
            timeout_ms: 2_000,
        }
    }

    #[test]
    fn an_execute_request_survives_the_wire() {
        let wire = execute_request_to_proto(request());
        assert_eq!(execute_request_from_proto(wire), Ok(request()));
    }

    #[test]
    fn each_bad_execute_field_is_named() {
        type Spoil = fn(&mut proto::ExecuteRequest);
        let cases: [(Spoil, &str); 6] = [
            (|r| r.task.clear(), "execute.task"),
            (|r| r.task = "x".repeat(TASK_ID_BYTES_MAX + 1), "execute.task"),
            (|r| r.attempt = 0, "execute.attempt"),
            (|r| r.text = "x".repeat(TASK_TEXT_BYTES_MAX + 1), "execute.text"),
            (|r| r.strategy = 42, "execute.strategy"),
            (|r| r.timeout_ms = 0, "execute.timeout_ms"),
        ];
        for (spoil, field) in cases {
            let mut wire = execute_request_to_proto(request());
            spoil(&mut wire);
            let error = execute_request_from_proto(wire).unwrap_err();
            assert_eq!(error.field, field, "{error}");
        }
    }

    #[test]
    fn a_task_needs_its_fields_and_limits() {
        assert_eq!(task_from_proto(None).unwrap_err().field, "submit.task");
        let task = Task::new("t1", "What is 2+2?").with_ground_truth("4").with_priority(Priority::High);
        assert_eq!(task_from_proto(Some(task_to_proto(task.clone()))), Ok(task));
        let mut wire = task_to_proto(Task::new("t1", "q"));
        wire.priority = 9;
        assert_eq!(task_from_proto(Some(wire)).unwrap_err().field, "task.priority");
        let long = task_to_proto(Task::new("t1", "x".repeat(TASK_TEXT_BYTES_MAX + 1)));
        let error = task_from_proto(Some(long)).unwrap_err();
        assert_eq!(error.field, "task.text");
        assert!(error.problem.contains("at most"), "{error}");
    }

    #[test]
    fn a_worker_failure_keeps_its_type_and_garbage_is_named() {
        let error = WorkerError::Busy { capacity: 4 };
        assert_eq!(failure_from_proto(failure_to_proto(error.clone())), Ok(error));
        let garbage = proto::WorkerFailure { error_json: "{\"nonsense\":1}".to_owned() };
        assert_eq!(failure_from_proto(garbage).unwrap_err().field, "failure.error_json");
    }

    #[test]
    fn an_event_without_a_body_or_with_a_foreign_result_is_refused() {
        assert_eq!(event_from_proto(proto::TaskEvent { event: None }).unwrap_err().field, "task_event.event");
        let garbage = proto::TaskResult { task: "t1".to_owned(), result_json: "[]".to_owned(), ..Default::default() };
        assert_eq!(result_from_proto(garbage).unwrap_err().field, "result.result_json");
    }

    fn delivery(from: &str, json: &[u8]) -> proto::DeliverPeerRequest {
        proto::DeliverPeerRequest { from: from.to_owned(), message_json: json.to_vec() }
    }

    #[test]
    fn a_delivery_is_checked_field_by_field() {
        let notice = PeerMessage::Task(p2p::TaskNotice { task: "t1".into(), text: "q".to_owned() });
        let json = peer_message_to_json(&notice).unwrap();
        let (from, message) = delivery_from_proto(delivery("a2", &json), 1024).unwrap();
        assert_eq!((from, message), (AgentId::from("a2"), notice));
        let long_id = "a".repeat(AGENT_ID_BYTES_MAX + 1);
        let cases: [(proto::DeliverPeerRequest, &str, &str); 6] = [
            (delivery("", &json), "deliver.from", "missing"),
            (delivery(&long_id, &json), "deliver.from", "at most 128"),
            (delivery("a2", b""), "deliver.message_json", "missing"),
            (delivery("a2", b"{\"task\": 7"), "deliver.message_json", "not a peer message"),
            (delivery("a2", b"{\"gossip\": {}}"), "deliver.message_json", "not a peer message"),
            (delivery("a2", &[0xff, 0xfe, 0x00]), "deliver.message_json", "not a peer message"),
        ];
        for (request, field, problem) in cases {
            let error = delivery_from_proto(request, 1024).unwrap_err();
            assert_eq!(error.field, field, "{error}");
            assert!(error.problem.contains(problem), "{error}");
        }
        let error = delivery_from_proto(delivery("a2", &json), json.len() - 1).unwrap_err();
        assert_eq!(error.field, "deliver.message_json");
        assert!(error.problem.contains(&format!("at most {}", json.len() - 1)), "{error}");
    }

    #[test]
    fn an_identity_needs_an_id_and_a_32_byte_key() {
        let wire = identity_to_proto(&AgentId::from("a1"), &[7; 32]);
        assert_eq!(identity_from_proto(wire), Ok((AgentId::from("a1"), [7; 32])));
        for bytes in [0, 31, 33, 64] {
            let wire = proto::IdentityReply { agent: "a1".to_owned(), public_key: vec![1; bytes] };
            let error = identity_from_proto(wire).unwrap_err();
            assert_eq!(error.field, "identity.public_key");
            assert!(error.problem.starts_with(&format!("{bytes} bytes")), "{error}");
        }
        let nameless = proto::IdentityReply { agent: String::new(), public_key: vec![1; 32] };
        assert_eq!(identity_from_proto(nameless).unwrap_err().field, "identity.agent");
    }

    #[test]
    fn a_submit_reply_must_say_what_happened() {
        for submitted in [p2p::Submitted::Accepted, p2p::Submitted::AlreadyOpen, p2p::Submitted::AlreadyCommitted] {
            assert_eq!(submitted_from_proto(submitted_to_proto(submitted)), Ok(submitted));
        }
        for value in [0, 9] {
            let error = submitted_from_proto(proto::AgentSubmitReply { submitted: value }).unwrap_err();
            assert_eq!(error.field, "agent_submit.submitted", "{error}");
        }
    }

    #[test]
    fn a_status_reply_must_be_consistent_and_of_the_task_asked() {
        let task = TaskId::new("t1");
        for status in [p2p::TaskStatus::Unknown, p2p::TaskStatus::Open] {
            assert_eq!(task_status_from_proto(task_status_to_proto(&status), &task), Ok(status));
        }
        let unspecified = proto::AgentStatusReply { state: 0, committed_json: String::new() };
        assert_eq!(task_status_from_proto(unspecified, &task).unwrap_err().field, "agent_status.state");
        let stray = proto::AgentStatusReply { state: proto::TaskState::Open.into(), committed_json: "{}".to_owned() };
        assert_eq!(task_status_from_proto(stray, &task).unwrap_err().field, "agent_status.committed_json");
        let garbage =
            proto::AgentStatusReply { state: proto::TaskState::Committed.into(), committed_json: "[1]".to_owned() };
        let error = task_status_from_proto(garbage, &task).unwrap_err();
        assert_eq!(error.field, "agent_status.committed_json");
        assert!(error.problem.contains("not a committed task"), "{error}");
    }

    #[test]
    fn a_committed_task_must_be_the_task_asked() {
        use quorum_core::consensus::{Ballot, ConsensusConfig, decide};
        let key = p2p::AgentKey::from_seed(AgentId::from("a1"), 3);
        let decision = decide(&[Ballot::new("a1", "4").confidence(0.9)], &ConsensusConfig::default()).unwrap();
        let committed = CommittedTask {
            height: 1,
            view: p2p::View(1),
            block: p2p::BlockHash([9; 32]),
            proposer: AgentId::from("a1"),
            payload: p2p::Payload {
                task: "t1".into(),
                text: "What is 2+2?".to_owned(),
                asked: vec![AgentId::from("a1")],
                answers: vec![p2p::SignedAnswer::new(&key, "t1".into(), "4", 0.9)],
                decision,
            },
            plan: None,
        };
        let status = p2p::TaskStatus::Committed(Box::new(committed));
        assert_eq!(task_status_from_proto(task_status_to_proto(&status), &"t1".into()), Ok(status.clone()));
        let error = task_status_from_proto(task_status_to_proto(&status), &"t2".into()).unwrap_err();
        assert_eq!(error.field, "agent_status.committed_json");
        assert!(error.problem.contains("of task t1"), "{error}");
    }

    #[test]
    fn an_address_must_be_http_host_port() {
        assert!(worker_address("http://127.0.0.1:7001".to_owned()).is_ok());
        for bad in ["", "127.0.0.1:7001", "https://h:1", "http://h", "http://h:1/x", "not a uri"] {
            assert_eq!(worker_address(bad.to_owned()).unwrap_err().field, "join.address", "{bad}");
        }
    }
}
