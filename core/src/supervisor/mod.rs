//! The supervisor: a sans-IO state machine ([`SupervisorMachine`]), the one async
//! driver ([`SupervisorDriver`]) that runs it over any [`crate::WorkerLink`] and
//! [`crate::Scaler`], in simulation and in real mode alike, and the client-facing
//! [`SupervisorService`] that a sim host or a gRPC server wraps.
//!
//! [`Supervisor`] is the builder: it takes the config, the link, the scaler, the
//! workers or the [`crate::WorkerRegistry`] to follow, and [`Supervisor::start`]
//! splits it into the service (held by clients, cheap to clone) and the driver (the
//! future to run). One deadline table, [`Deadlines`], bounds every call.

mod annotations;
mod config;
mod deadlines;
mod driver;
mod machine;
mod rejection;
mod service;
mod task_state;

pub use annotations::Annotations;
pub use config::{ATTEMPTS_MAX_LIMIT, SUPERVISOR_DURATION_MS_MAX, SupervisorConfig, TASK_EVENTS_MAX_LIMIT};
pub use deadlines::Deadlines;
pub use driver::{Supervisor, SupervisorDriver};
pub use machine::{Command, MachineInvariant, SubmitError, Submitted, SupervisorMachine, SupervisorStats};
pub use rejection::{AnswerRejection, HeartbeatRejection};
pub use service::{
    Emission, ResultHook, StatsReader, Stopped, SupervisorService, SupervisorStatus, TaskEvent, TaskEvents, TaskStatus,
    UnknownTask,
};
