//! Everything one run produced.

use std::collections::BTreeMap;

use quorum_core::TaskId;

use super::run::RunWindow;
use crate::client::ClientRecord;
use crate::invariants::Violation;
use crate::report::RunReport;
use crate::trace::Trace;

/// Everything one run produced.
#[derive(Debug)]
pub struct RunOutcome {
    /// The seed.
    pub seed: u64,
    /// Broken invariants (empty for a good run).
    pub violations: Vec<Violation>,
    /// The numbers.
    pub report: RunReport,
    /// The trace.
    pub trace: Trace,
    /// What the client holds, by task.
    pub results: BTreeMap<TaskId, ClientRecord>,
    /// Simulation steps taken.
    pub steps: u64,
    /// The run's timeline: when its faults ended, its deadline.
    pub window: RunWindow,
}

impl RunOutcome {
    /// Whether every invariant held.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// The trace's hash.
    pub fn trace_hash(&self) -> String {
        self.trace.hash()
    }

    /// A failure message: the seed, every violation, how to replay it, and the last
    /// events of the trace.
    pub fn failure_report(&self, replay: &str) -> String {
        let mut out = format!("seed {} broke {} invariant(s):\n", self.seed, self.violations.len());
        for violation in &self.violations {
            out.push_str(&format!("  - {violation}\n"));
        }
        out.push_str(&format!("replay: {replay}\ntrace tail:\n"));
        for event in self.trace.tail(FAILURE_TRACE_TAIL) {
            out.push_str(&format!("  {}\n", event.to_json_line()));
        }
        out
    }
}

/// Trace events shown with a failure.
const FAILURE_TRACE_TAIL: usize = 25;
