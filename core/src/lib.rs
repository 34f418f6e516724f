//! quorum-core: the transport-agnostic heart of quorum.
//!
//! # Layout
//! - [`consensus`]: the pure consensus engine (`decide`, `early_stop`).
//! - ids, rng, config: identities, the seeded RNG, configuration errors.

pub mod consensus;
mod config;
mod ids;
mod rng;

pub use config::ConfigError;
pub use ids::{TaskId, WorkerId};
pub use rng::SeededRng;
