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
//!   (and [`judge_meanings`]), [`Scaler`], and the [`WorkerRegistry`] that a link, a
//!   scaler and the supervisor share (who is a worker now, and where); [`BoxLlm`],
//!   [`BoxEmbedder`] and [`BoxEntailment`] choose a model at run time.
//! - Agents: [`Worker`] (asks its LLM); the supervisor: [`SupervisorMachine`]
//!   (sans-IO), [`Supervisor`] (its builder), [`SupervisorDriver`] (its one async
//!   driver), [`SupervisorService`] (the client-facing service: idempotent submit,
//!   [`TaskStatus`] and results by id, bounded [`TaskEvents`] streams), [`Deadlines`]
//!   (every call's deadline); [`LocalLink`] (in-process transport).
//! - [`mock`]: the seeded mock LLM and the workload it knows the answers to, for
//!   simulations and for running any command offline.
//! - [`p2p`]: P2P mode (in progress): the sans-IO HotStuff replica, agent identities
//!   and the blocks it commits.
//! - Support: [`SeededRng`], [`RetryPolicy`], [`TokenBucket`], [`ConfigError`].
//! - Checks: [`recompute_mismatches`] (a result follows from its votes),
//!   [`SupervisorMachine::assert_invariants`], and (feature `harness`) `harness`: the
//!   machine and scripted workers in memory, for property tests.

mod analysis;
mod boxed;
mod config;
pub mod consensus;
mod embedding;
mod entailment;
#[cfg(any(test, feature = "harness"))]
pub mod harness;
mod ids;
mod journal;
mod link;
mod llm;
mod local_link;
pub mod mock;
pub mod p2p;
mod pool;
mod power;
#[cfg(feature = "proptest")]
pub mod prop;
mod queue;
mod rate_limit;
mod recompute;
mod registry;
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
pub use embedding::{EMBEDDING_DIMENSIONS_MAX, EmbedError, embed_ballots, is_usable_embedding};
pub use entailment::{ENTAILMENT_QUESTIONS_MAX, Entailment, JudgeError, judge_meanings};
pub use ids::{TaskId, WorkerId, natural_cmp};
pub use journal::{Journal, JournalError, JournalState, JournalWrite, JournaledTask, MemoryJournal};
pub use link::{ExecuteRequest, Heartbeat, LINK_ERROR_BYTES_MAX, LinkError, WorkerAnswer, WorkerLink};
pub use llm::{Completion, CompletionRequest, Embedder, Llm, LlmError};
pub use local_link::LocalLink;
pub use pool::{PoolConfig, ScaleDecision, WORKER_CAPACITY_MAX, WORKERS_MAX, WorkerPool, WorkerStatus, WorkerSummary};
pub use power::{PowerConfig, PowerRecord, VotingPowers};
pub use queue::{QueueError, TaskQueue};
pub use rate_limit::{RateLimit, SharedLimiter, TokenBucket};
pub use recompute::{RecomputeMismatch, recompute_mismatches, recorded_ballots};
pub use registry::{Joined, Members, RegistryError, WorkerRegistry};
pub use reply::{CONFIDENCE_UNREPORTED, ParsedReply, ReplyError, parse_reply};
pub use result::{AssignmentFailure, FailureReason, Outcome, ResultMetadata, Spent, TaskResult, Vote};
pub use retry::RetryPolicy;
pub use rng::SeededRng;
pub use scaler::{FixedWorkers, ScaleError, Scaler};
pub use supervisor::{
    ATTEMPTS_MAX_LIMIT, Annotations, AnswerRejection, Command, Deadlines, Emission, HeartbeatRejection,
    MachineInvariant, ResultHook, SUPERVISOR_DURATION_MS_MAX, StatsReader, Stopped, SubmitError, Submitted, Supervisor,
    SupervisorConfig, SupervisorDriver, SupervisorMachine, SupervisorService, SupervisorStats, SupervisorStatus,
    TASK_EVENTS_MAX_LIMIT, TaskEvent, TaskEvents, TaskStatus, UnknownTask,
};
pub use task::{Priority, TASK_ID_BYTES_MAX, TASK_TEXT_BYTES_MAX, Task, TaskError};
pub use worker::{Worker, WorkerConfig, WorkerError, prompt};
