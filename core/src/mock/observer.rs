//! The hook through which a mock model reports its calls: a simulation records them in
//! its trace, offline use ignores them.

use core::fmt::Debug;

use crate::llm::{Completion, LlmError};

/// Told of every call a [`super::MockLlm`] makes, in the order it makes them.
///
/// Observing must not change what the model answers: implementations only record.
pub trait CallObserver: Send + Sync + Debug {
    /// A call began: `model` is the mock's name, `prompt_bytes` the length of the user
    /// message. Reported when the call is made, so that calls cut short by a crash or
    /// the end of a run are counted too.
    fn call_started(&self, model: &str, prompt_bytes: usize);

    /// A call ended with `outcome` (a failure or a completion, possibly truncated).
    fn call_finished(&self, model: &str, outcome: &Result<Completion, LlmError>);
}

/// An observer that records nothing: a mock used offline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoObserver;

impl CallObserver for NoObserver {
    fn call_started(&self, _model: &str, _prompt_bytes: usize) {}

    fn call_finished(&self, _model: &str, _outcome: &Result<Completion, LlmError>) {}
}
