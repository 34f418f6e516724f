//! The seeded mock LLM: knows every task's ground truth and answers like a model with
//! a given profile — accuracy, answer style, mistakes, confidence behaviour, latency,
//! failures, and byzantine modes. Nothing here needs a network or a simulator: a
//! simulation runs one per worker, and every real command runs offline with it.
//!
//! # Layout
//! - `llm`: [`MockLlm`]: what a call draws and answers;
//! - `profile`: [`LlmProfile`] and its parts; `control`: [`LlmControl`] (error storms);
//! - `planner`: the seeded answers to P2P planner calls (delegate, execute, malformed);
//! - [`workload`]: the seeded tasks and their ground truth ([`workload::Truth`]);
//! - `observer`: [`CallObserver`], through which a simulation's trace sees each call;
//! - `judge`: the mock as an [`crate::Entailment`] judge, by the workload's truth;
//! - `wording`: right and wrong answers in a profile's style;
//! - `number_form`, `number_words`: numbers in the messy forms models write;
//! - `wrapper`: short answers and sentences in the wrappers models put around them;
//! - `mistake`: the wrong numbers a model plausibly gives.

mod control;
mod judge;
mod llm;
mod mistake;
mod number_form;
mod number_words;
mod observer;
mod planner;
mod profile;
#[cfg(test)]
mod style_tests;
mod wording;
pub mod workload;
mod wrapper;

pub use control::LlmControl;
pub use llm::MockLlm;
pub use observer::{CallObserver, NoObserver};
pub use profile::{
    AnswerStyle, Byzantine, ConfidenceBehaviour, FailureRates, LLM_LATENCY_MS_MAX, LatencyProfile, LlmProfile,
    MistakeStyle, PLANNER_SUBTASKS_MAX, PlannerProfile,
};
