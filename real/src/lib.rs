//! quorum-real: the real runtime.
//!
//! # Layout
//! - [`openai`]: the live LLM, [`OpenAiLlm`], for any OpenAI-compatible endpoint
//!   (OpenAI, or a local llama-server), with our own rate limiting and fault mapping.
//!
//! Still to come here: the tonic gRPC worker and supervisor servers (a `WorkerLink`
//! over tonic) and the process `Scaler`.

pub mod openai;

pub use openai::{OpenAiConfig, OpenAiConfigError, OpenAiLlm};
