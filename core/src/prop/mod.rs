//! Property testing of consensus outcomes, for our users' own settings (feature
//! `proptest`).
//!
//! - [`answers`]: families of answers — forms that mean one thing, and answers that
//!   contradict it — for each matching strategy.
//! - [`panels`]: ballots of honest majorities, even splits, byzantine minorities,
//!   paraphrase sets and contradiction pairs.
//! - [`configs`]: valid consensus configs.
//! - [`check_properties`]: the engine's properties under one config, with shrunk
//!   counterexamples (what `quorum prop` runs).
//!
//! In a user's own test:
//! ```
//! use proptest::prelude::*;
//! use quorum_core::consensus::{ConsensusConfig, Strategy, decide};
//! use quorum_core::prop::panels;
//!
//! let config = ConsensusConfig { threshold: 0.6, ..ConsensusConfig::default() }.with_strategy(Strategy::Numeric);
//! proptest!(|(panel in panels::honest_majority(&config, 3..=9))| {
//!     let decision = decide(&panel.ballots, &config).unwrap();
//!     prop_assert!(panel.is_right(decision.answer.as_deref().unwrap_or_default(), &config));
//! });
//! ```

pub mod answers;
pub mod configs;
pub mod panels;
mod properties;

pub use properties::{Counterexample, PROPERTIES, PropertyOutcome, check_properties};
