//! quorum-core: the transport-agnostic heart of quorum. No tonic, no HTTP, no turmoil.
//!
//! # Layout
//! - [`consensus`]: the pure consensus engine ([`consensus::decide`],
//!   [`consensus::early_stop`]).
//! - Task model: [`Task`] in, exactly one [`TaskResult`] out.
//! - Analysis: [`HeuristicAnalyser`] and [`LlmAnalyser`] produce a [`TaskPlan`].
//! - Bookkeeping: [`WorkerPool`] (health, selection, scaling), [`TaskQueue`],
//!   [`VotingPowers`].
//! - Seams: [`WorkerLink`], [`Llm`], [`Embedder`] (and [`embed_ballots`]), [`Entailment`]
//!   (and [`judge_meanings`]), [`Scaler`]; [`BoxLlm`], [`BoxEmbedder`] and
//!   [`BoxEntailment`] choose a model at run time.
//! - Agents: [`Worker`] (asks its LLM), [`SupervisorMachine`] (sans-IO) and
//!   [`Supervisor`] (its one async driver), [`LocalLink`] (in-process transport).
//! - [`mock`]: the seeded mock LLM and the workload it knows the answers to, for
//!   simulations and for running any command offline.
//! - Support: [`SeededRng`], [`RetryPolicy`], [`TokenBucket`], [`ConfigError`].

mod analysis;
mod boxed;
mod config;
pub mod consensus;
mod embedding;
mod entailment;
mod ids;
mod link;
mod llm;
mod local_link;
pub mod mock;
mod pool;
mod power;
#[cfg(feature = "proptest")]
pub mod prop;
mod queue;
mod rate_limit;
mod reply;
mod result;
mod retry;
mod rng;
mod scaler;
mod supervisor;
mod task;
#[cfg(test)]
mod testing;
mod worker;

pub use analysis::{
    Analysis, AnalysisLimits, COMPLEXITY_MAX, HeuristicAnalyser, LlmAnalyser, PlanFallback, PlanField, PlanSource,
    TaskPlan,
};
pub use boxed::{BoxEmbedder, BoxEntailment, BoxFuture, BoxLlm, DynEmbedder, DynEntailment, DynLlm};
pub use config::ConfigError;
pub use embedding::{EMBEDDING_DIMENSIONS_MAX, EmbedError, embed_ballots};
pub use entailment::{ENTAILMENT_QUESTIONS_MAX, Entailment, JudgeError, judge_meanings};
pub use ids::{TaskId, WorkerId, natural_cmp};
pub use link::{ExecuteRequest, Heartbeat, LinkError, WorkerAnswer, WorkerLink};
pub use llm::{Completion, CompletionRequest, Embedder, Llm, LlmError};
pub use local_link::LocalLink;
pub use pool::{PoolConfig, ScaleDecision, WORKERS_MAX, WorkerPool, WorkerStatus, WorkerSummary};
pub use power::{PowerConfig, PowerRecord, VotingPowers};
pub use queue::{QueueError, TaskQueue};
pub use rate_limit::{RateLimit, SharedLimiter, TokenBucket};
pub use reply::{CONFIDENCE_UNREPORTED, ParsedReply, ReplyError, parse_reply};
pub use result::{AssignmentFailure, FailureReason, Outcome, ResultMetadata, TaskResult, Vote};
pub use retry::RetryPolicy;
pub use rng::SeededRng;
pub use scaler::{FixedWorkers, ScaleError, Scaler};
pub use supervisor::{
    ATTEMPTS_MAX_LIMIT, AnswerRejection, Command, SUPERVISOR_DURATION_MS_MAX, SubmitError, Submitted, Supervisor,
    SupervisorConfig, SupervisorDriver, SupervisorHandle, SupervisorMachine, SupervisorStats, SupervisorStatus,
    TaskResults,
};
pub use task::{Priority, TASK_ID_BYTES_MAX, TASK_TEXT_BYTES_MAX, Task, TaskError};
pub use worker::{Worker, WorkerConfig, WorkerError, prompt};
