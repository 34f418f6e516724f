//! Prometheus metrics of a supervisor: what its results say (outcomes, latency, LLM
//! calls and tokens), its workers by status, and its counters of refused inputs,
//! served as `GET /metrics` in the Prometheus text format.
//!
//! # Layout
//! - `task_metrics`: [`TaskMetrics`], counts kept from every result (a
//!   [`quorum_core::ResultHook`]);
//! - `exposition`: [`render`], the text format of one scrape;
//! - `metrics_server`: [`serve_metrics`], a tiny HTTP/1.1 responder on a listener.

mod exposition;
mod metrics_server;
mod task_metrics;

pub use exposition::{LATENCY_BUCKETS_MS, render};
pub use metrics_server::{METRICS_REQUEST_BYTES_MAX, MetricsSource, serve_metrics};
pub use task_metrics::{TaskCounts, TaskMetrics};
