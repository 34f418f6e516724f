//! The one place where errors become `tonic::Status` and statuses become errors:
//! what the servers answer for core's refusals, and what the link and the client
//! make of the statuses they hear.

use quorum_core::p2p;
use quorum_core::{LinkError, QueueError, RegistryError, Stopped, SubmitError, TaskId, UnknownTask};
use tonic::{Code, Status};

use crate::convert::FieldError;

/// Why a call to a quorum server (the supervisor, a P2P agent) failed, as its client
/// sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The server refused the shared token (missing or wrong).
    #[error("unauthenticated: the server refused the token")]
    Unauthenticated,
    /// The request was refused as invalid.
    #[error("invalid request: {detail}")]
    Invalid {
        /// Names the field; for humans, not to be matched.
        detail: String,
    },
    /// The server does not know the task (never submitted, or forgotten).
    #[error("task {task} is unknown to the server")]
    UnknownTask {
        /// The task asked for.
        task: TaskId,
    },
    /// The server is full (the supervisor's queue or registry, an agent's open
    /// tasks); try again later.
    #[error("server overloaded: {detail}")]
    Overloaded {
        /// For humans; not to be matched.
        detail: String,
    },
    /// The server cannot be reached, or is shutting down.
    #[error("server unavailable")]
    Unavailable,
    /// No reply before the deadline.
    #[error("server timed out")]
    Timeout,
    /// A reply that does not decode, is too large, or breaks the protocol.
    #[error("protocol error: {detail}")]
    Protocol {
        /// For humans; not to be matched.
        detail: String,
    },
}

/// A wrong field of a request, for the caller.
pub(crate) fn status_of_field(error: &FieldError) -> Status {
    Status::invalid_argument(error.to_string())
}

/// A refused submission, for the client.
pub(crate) fn status_of_submit(error: &SubmitError) -> Status {
    match error {
        SubmitError::Invalid(error) => Status::invalid_argument(format!("task: {error}")),
        SubmitError::Queue(QueueError::Full { .. }) => Status::resource_exhausted(error.to_string()),
        SubmitError::Queue(_) => Status::failed_precondition(error.to_string()),
        // Not accepted, and the supervisor is stopping: another may take it.
        SubmitError::ShuttingDown | SubmitError::Journal(_) => Status::unavailable(error.to_string()),
    }
}

/// A task an agent refused: a malformed task or a reserved id is the caller's to
/// fix (`invalid_argument`, naming the field), too many open tasks a reason to try
/// again later (`resource_exhausted`).
pub(crate) fn status_of_agent_submit(error: &p2p::SubmitError) -> Status {
    match error {
        p2p::SubmitError::Task(error) => Status::invalid_argument(format!("task: {error}")),
        p2p::SubmitError::ReservedId { .. } => Status::invalid_argument(format!("task.id: {error}")),
        p2p::SubmitError::TooManyTasks { .. } => Status::resource_exhausted(error.to_string()),
    }
}

/// A task the supervisor does not know.
pub(crate) fn status_of_unknown(error: &UnknownTask) -> Status {
    Status::not_found(error.to_string())
}

/// A supervisor whose driver has stopped.
pub(crate) fn status_of_stopped(error: &Stopped) -> Status {
    Status::unavailable(error.to_string())
}

/// A join the registry refused.
pub(crate) fn status_of_registry(error: &RegistryError) -> Status {
    match error {
        RegistryError::Full { .. } => Status::resource_exhausted(error.to_string()),
    }
}

/// A handler that ran past its deadline.
pub(crate) fn status_of_deadline(call: &str, deadline_ms: u64) -> Status {
    Status::deadline_exceeded(format!("{call} took longer than its deadline of {deadline_ms} ms"))
}

/// What a failed call to a worker means to the supervisor. Connection trouble is
/// [`LinkError::Unavailable`], a deadline [`LinkError::Timeout`], anything else
/// (a refused token, an oversized or undecodable message) [`LinkError::Protocol`].
pub(crate) fn link_error_of_status(status: &Status) -> LinkError {
    if broke_connection(status) {
        return LinkError::Unavailable;
    }
    match status.code() {
        Code::Unavailable | Code::Cancelled | Code::Aborted => LinkError::Unavailable,
        Code::DeadlineExceeded => LinkError::Timeout,
        code => LinkError::Protocol { detail: format!("{code:?}: {}", status.message()) }.bounded(),
    }
}

/// Whether the call failed because its connection broke (reset, closed under it):
/// tonic reports an HTTP/2 stream that died of an I/O error as `unknown` ("h2
/// protocol error"), but the peer broke no protocol, its link went away.
fn broke_connection(status: &Status) -> bool {
    let mut source = core::error::Error::source(status);
    while let Some(error) = source {
        if error.is::<std::io::Error>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// A reply from a worker that breaks the protocol.
pub(crate) fn link_error_of_field(error: &FieldError) -> LinkError {
    LinkError::Protocol { detail: format!("bad reply: {error}") }.bounded()
}

/// What a failed call to a server means to its client.
pub(crate) fn client_error_of_status(status: &Status, task: Option<&TaskId>) -> ClientError {
    if broke_connection(status) {
        return ClientError::Unavailable;
    }
    let detail = status.message().to_owned();
    match status.code() {
        Code::Unauthenticated | Code::PermissionDenied => ClientError::Unauthenticated,
        Code::InvalidArgument => ClientError::Invalid { detail },
        Code::NotFound => match task {
            Some(task) => ClientError::UnknownTask { task: task.clone() },
            None => ClientError::Protocol { detail },
        },
        Code::ResourceExhausted => ClientError::Overloaded { detail },
        Code::Unavailable | Code::Cancelled | Code::Aborted => ClientError::Unavailable,
        Code::DeadlineExceeded => ClientError::Timeout,
        code => ClientError::Protocol { detail: format!("{code:?}: {detail}") },
    }
}

/// A reply from a server that breaks the protocol.
pub(crate) fn client_error_of_field(error: &FieldError) -> ClientError {
    ClientError::Protocol { detail: format!("bad reply: {error}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quorum_core::TaskError;

    #[test]
    fn refusals_get_the_codes_a_client_can_act_on() {
        let invalid = status_of_submit(&SubmitError::Invalid(TaskError::EmptyId));
        assert_eq!(invalid.code(), Code::InvalidArgument);
        assert!(invalid.message().contains("task id is empty"), "{}", invalid.message());
        let full = status_of_submit(&SubmitError::Queue(QueueError::Full { length_max: 3 }));
        assert_eq!(full.code(), Code::ResourceExhausted);
        assert_eq!(status_of_submit(&SubmitError::ShuttingDown).code(), Code::Unavailable);
        assert_eq!(status_of_unknown(&UnknownTask { task: "t9".into() }).code(), Code::NotFound);
        let registry_full = RegistryError::Full { worker: "w".into(), workers_max: 1 };
        assert_eq!(status_of_registry(&registry_full).code(), Code::ResourceExhausted);
    }

    #[test]
    fn an_agents_refusals_name_what_is_wrong() {
        let reserved = status_of_agent_submit(&p2p::SubmitError::ReservedId { task: "a/b".into() });
        assert_eq!(reserved.code(), Code::InvalidArgument);
        assert!(reserved.message().starts_with("task.id: ") && reserved.message().contains("a/b"), "{reserved:?}");
        let malformed = status_of_agent_submit(&p2p::SubmitError::Task(TaskError::EmptyId));
        assert_eq!(malformed.code(), Code::InvalidArgument);
        assert!(malformed.message().contains("task id is empty"), "{}", malformed.message());
        let full = status_of_agent_submit(&p2p::SubmitError::TooManyTasks { max: 8 });
        assert_eq!(full.code(), Code::ResourceExhausted);
        assert!(
            matches!(client_error_of_status(&full, None), ClientError::Overloaded { detail } if detail.contains('8'))
        );
    }

    #[test]
    fn statuses_become_the_link_errors_the_pool_counts() {
        assert_eq!(link_error_of_status(&Status::unavailable("refused")), LinkError::Unavailable);
        assert_eq!(link_error_of_status(&Status::deadline_exceeded("late")), LinkError::Timeout);
        let refused = link_error_of_status(&Status::unauthenticated("the bearer token is wrong"));
        assert!(matches!(&refused, LinkError::Protocol { detail } if detail.contains("Unauthenticated")));
        let huge = link_error_of_status(&Status::internal("x".repeat(10_000)));
        assert!(huge.to_string().len() <= quorum_core::LINK_ERROR_BYTES_MAX);
        // A stream whose connection was reset under it: the link went away, the
        // worker broke no protocol.
        let reset = Status::from_error(Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionReset)));
        assert_eq!(reset.code(), Code::Unknown);
        assert_eq!(link_error_of_status(&reset), LinkError::Unavailable);
        assert_eq!(client_error_of_status(&reset, None), ClientError::Unavailable);
    }

    #[test]
    fn statuses_become_client_errors() {
        let task = TaskId::new("t1");
        assert_eq!(
            client_error_of_status(&Status::not_found("no"), Some(&task)),
            ClientError::UnknownTask { task: task.clone() }
        );
        assert_eq!(client_error_of_status(&Status::unauthenticated("no"), None), ClientError::Unauthenticated);
        assert_eq!(client_error_of_status(&Status::deadline_exceeded("no"), None), ClientError::Timeout);
    }
}
