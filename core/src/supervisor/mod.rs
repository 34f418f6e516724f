//! The supervisor: a sans-IO state machine ([`SupervisorMachine`]) and the one async
//! driver ([`Supervisor`]) that runs it over any [`crate::WorkerLink`] and
//! [`crate::Scaler`], in simulation and in real mode alike.

mod config;
mod driver;
mod machine;
mod rejection;
mod task_state;

pub use config::{ATTEMPTS_MAX_LIMIT, SUPERVISOR_DURATION_MS_MAX, SupervisorConfig};
pub use driver::{Supervisor, SupervisorDriver, SupervisorHandle, SupervisorStatus, TaskResults};
pub use machine::{Command, MachineInvariant, SubmitError, Submitted, SupervisorMachine, SupervisorStats};
pub use rejection::{AnswerRejection, HeartbeatRejection};
