//! quorum-real: the real runtime.
//!
//! This crate will hold the tonic gRPC worker and supervisor servers (a
//! `WorkerLink` over tonic), the async-openai `Llm` for any OpenAI-compatible
//! endpoint, and the process `Scaler`, all driving the same core as the simulation.
//! It is empty until that work is taken up: nothing here is used yet, and nothing
//! pretends to be.
