//! Choosing a model at run time: boxed adapters over [`Llm`], [`Embedder`] and
//! [`Entailment`].
//!
//! The three seams return `impl Future`, which keeps every call free of allocation and
//! lets the compiler check `Send` per implementation, but makes the traits unusable as
//! `dyn` objects. A command that picks its model from a flag (`--llm mock` or an
//! OpenAI-compatible endpoint) needs one type for all of them. We chose a boxed adapter
//! over an enum of backends, once, for all three seams:
//!
//! - an enum would have to name every backend, and core cannot name the client that
//!   quorum-real adds (the dependency points the other way);
//! - each seam has an object-safe twin ([`DynLlm`], [`DynEmbedder`], [`DynEntailment`])
//!   whose futures are `Pin<Box<dyn Future + Send>>`, implemented for every
//!   implementation of the seam by a blanket impl, so no backend writes any of this;
//! - [`BoxLlm`], [`BoxEmbedder`] and [`BoxEntailment`] own one such object and
//!   implement the seam again, so a [`crate::Worker`], [`crate::embed_ballots`] or
//!   [`crate::judge_meanings`] takes them like any other model.
//!
//! The price is one allocation per call, nothing next to a model call. Statically
//! known models (the simulation's mocks) keep using the seams directly.

use core::fmt;
use core::future::Future;
use core::pin::Pin;

use crate::entailment::Entailment;
use crate::llm::{Completion, CompletionRequest, Embedder, Llm, LlmError};

/// A boxed, `Send` future: what the object-safe twins return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The object-safe twin of [`Llm`], implemented for every [`Llm`].
pub trait DynLlm: Send + Sync {
    /// [`Llm::complete`], boxed.
    fn complete_boxed(&self, request: CompletionRequest) -> BoxFuture<'_, Result<Completion, LlmError>>;
}

impl<T: Llm> DynLlm for T {
    fn complete_boxed(&self, request: CompletionRequest) -> BoxFuture<'_, Result<Completion, LlmError>> {
        Box::pin(self.complete(request))
    }
}

/// Any [`Llm`], chosen at run time. Answers exactly as the model it holds.
pub struct BoxLlm(Box<dyn DynLlm>);

impl BoxLlm {
    /// Boxes `llm`.
    pub fn new(llm: impl Llm + 'static) -> Self {
        Self(Box::new(llm))
    }
}

impl Llm for BoxLlm {
    fn complete(&self, request: CompletionRequest) -> impl Future<Output = Result<Completion, LlmError>> + Send {
        self.0.complete_boxed(request)
    }
}

impl fmt::Debug for BoxLlm {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("BoxLlm").finish_non_exhaustive()
    }
}

/// The object-safe twin of [`Embedder`], implemented for every [`Embedder`].
pub trait DynEmbedder: Send + Sync {
    /// [`Embedder::embed`], boxed.
    fn embed_boxed<'a>(&'a self, texts: &'a [String]) -> BoxFuture<'a, Result<Vec<Vec<f32>>, LlmError>>;
}

impl<T: Embedder> DynEmbedder for T {
    fn embed_boxed<'a>(&'a self, texts: &'a [String]) -> BoxFuture<'a, Result<Vec<Vec<f32>>, LlmError>> {
        Box::pin(self.embed(texts))
    }
}

/// Any [`Embedder`], chosen at run time.
pub struct BoxEmbedder(Box<dyn DynEmbedder>);

impl BoxEmbedder {
    /// Boxes `embedder`.
    pub fn new(embedder: impl Embedder + 'static) -> Self {
        Self(Box::new(embedder))
    }
}

impl Embedder for BoxEmbedder {
    // An `async fn`, not the boxed future itself: that one lives as long as the shorter
    // of two borrows, which the trait's `impl Future` cannot name.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LlmError> {
        self.0.embed_boxed(texts).await
    }
}

impl fmt::Debug for BoxEmbedder {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("BoxEmbedder").finish_non_exhaustive()
    }
}

/// The object-safe twin of [`Entailment`], implemented for every [`Entailment`].
pub trait DynEntailment: Send + Sync {
    /// [`Entailment::entails`], boxed.
    fn entails_boxed<'a>(&'a self, premise: &'a str, hypothesis: &'a str) -> BoxFuture<'a, Result<bool, LlmError>>;
}

impl<T: Entailment> DynEntailment for T {
    fn entails_boxed<'a>(&'a self, premise: &'a str, hypothesis: &'a str) -> BoxFuture<'a, Result<bool, LlmError>> {
        Box::pin(self.entails(premise, hypothesis))
    }
}

/// Any [`Entailment`] judge, chosen at run time.
pub struct BoxEntailment(Box<dyn DynEntailment>);

impl BoxEntailment {
    /// Boxes `judge`.
    pub fn new(judge: impl Entailment + 'static) -> Self {
        Self(Box::new(judge))
    }
}

impl Entailment for BoxEntailment {
    // An `async fn`, as in `BoxEmbedder::embed`.
    async fn entails(&self, premise: &str, hypothesis: &str) -> Result<bool, LlmError> {
        self.0.entails_boxed(premise, hypothesis).await
    }
}

impl fmt::Debug for BoxEntailment {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("BoxEntailment").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
