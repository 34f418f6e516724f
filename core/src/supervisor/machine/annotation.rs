//! Which answers the driver has the supervisor's own models read before they reach
//! the machine (see [`super::super::Annotations`]).

use super::super::rejection::AnswerRejection;
use super::SupervisorMachine;
use crate::consensus::Strategy;
use crate::link::WorkerAnswer;

impl SupervisorMachine {
    /// Whether `answer` is worth a model call before it is handed in: its task is
    /// live and matched semantically (the only strategy that reads embeddings and
    /// meanings), its content would pass the boundary, and its worker was asked for
    /// that task in the round it names. So an answer the machine would refuse (a
    /// flood for unknown tasks, an oversized one) never costs a model call. A yes is
    /// no promise that the answer will count: the task may finish, or the worker turn
    /// out a twin, while the models read it.
    pub fn wants_annotations(&self, answer: &WorkerAnswer) -> bool {
        let semantic = self.tasks.get(&answer.task).is_some_and(|state| state.consensus.strategy == Strategy::Semantic);
        semantic && self.would_admit(answer)
    }

    /// Whether `answer` would pass the boundary now: its content, and its worker
    /// asked for its task in the round it names. The driver shows subscribers only
    /// such answers, and never holds back one that would not pass.
    pub fn would_admit(&self, answer: &WorkerAnswer) -> bool {
        AnswerRejection::check(answer).is_none() && self.admit(&answer.worker, &answer.task, answer.attempt).is_ok()
    }
}
