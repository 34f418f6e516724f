//! The one table of call deadlines: every crate that calls a worker, a scaler or the
//! supervisor reads its limits from here instead of keeping its own constants.

use serde::{Deserialize, Serialize};

use super::config::SUPERVISOR_DURATION_MS_MAX;
use crate::config::ConfigError;

/// How long each kind of call may take. The driver enforces the deadlines of the
/// calls it makes (execute, control, heartbeat, model); clients enforce
/// `client_call_ms` on their calls to the supervisor. A transport may enforce the
/// same values itself (to tell a timeout from a broken connection in its own trace),
/// and since all read this table they agree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Deadlines {
    /// Time an execute call may take beyond the task's own timeout: the worker answers
    /// its own deadline error by then, so this covers only the network. Default 500 ms.
    pub round_grace_ms: u64,
    /// Deadline of a control call: a cancel to a worker, a scale request to the
    /// scaler. Default 1 s.
    pub control_call_ms: u64,
    /// Deadline of a heartbeat call; at most `pool.heartbeat_interval_ms`, since a
    /// heartbeat slower than the interval is as good as missing. Default 1 s.
    pub heartbeat_call_ms: u64,
    /// Deadline of one client call to the supervisor (submit, status, deliver): what
    /// a client waits before it tries again. Default 1 s.
    pub client_call_ms: u64,
    /// Deadline of one call to the supervisor's own models: the analysis of a task at
    /// submit (past it the heuristic plans the task), the embedding of one answer, and
    /// the entailment questions about one answer taken together (past it the answer
    /// counts without that annotation). Embedding and judging run side by side, so an
    /// answer reaches the vote at most this much later than it arrived. With an
    /// analyser, a submit can take this long; a client that gives up sooner and
    /// submits again hears the task is in progress (one analysis per id), so longer
    /// than `client_call_ms` costs a retry, not a second model call. Default 5 s.
    pub model_call_ms: u64,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            round_grace_ms: 500,
            control_call_ms: 1_000,
            heartbeat_call_ms: 1_000,
            client_call_ms: 1_000,
            model_call_ms: 5_000,
        }
    }
}

impl Deadlines {
    /// Checks every deadline against its range and the heartbeat deadline against
    /// the heartbeat interval.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad field.
    pub fn validate(&self, heartbeat_interval_ms: u64) -> Result<(), ConfigError> {
        let fields = [
            ("supervisor.deadlines.round_grace_ms", self.round_grace_ms, 0, "in 0..=86400000 (one day)"),
            ("supervisor.deadlines.control_call_ms", self.control_call_ms, 1, "in 1..=86400000 (one day)"),
            ("supervisor.deadlines.heartbeat_call_ms", self.heartbeat_call_ms, 1, "in 1..=86400000 (one day)"),
            ("supervisor.deadlines.client_call_ms", self.client_call_ms, 1, "in 1..=86400000 (one day)"),
            ("supervisor.deadlines.model_call_ms", self.model_call_ms, 1, "in 1..=86400000 (one day)"),
        ];
        for (field, value, least, expected) in fields {
            if value < least || value > SUPERVISOR_DURATION_MS_MAX {
                return Err(ConfigError::invalid(field, value, expected));
            }
        }
        if self.heartbeat_call_ms > heartbeat_interval_ms {
            return Err(ConfigError::invalid(
                "supervisor.deadlines.heartbeat_call_ms",
                self.heartbeat_call_ms,
                "at most pool.heartbeat_interval_ms",
            ));
        }
        Ok(())
    }

    /// The deadline of an execute call for a task given `task_timeout_ms`.
    #[must_use]
    pub fn execute_call_ms(&self, task_timeout_ms: u64) -> u64 {
        task_timeout_ms.saturating_add(self.round_grace_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_each_bad_field_is_named() {
        Deadlines::default().validate(1_000).unwrap();
        type Spoil = fn(&mut Deadlines);
        let cases: [(Spoil, &str); 6] = [
            (|d| d.round_grace_ms = SUPERVISOR_DURATION_MS_MAX + 1, "supervisor.deadlines.round_grace_ms"),
            (|d| d.control_call_ms = 0, "supervisor.deadlines.control_call_ms"),
            (|d| d.heartbeat_call_ms = 0, "supervisor.deadlines.heartbeat_call_ms"),
            (|d| d.client_call_ms = u64::MAX, "supervisor.deadlines.client_call_ms"),
            (|d| d.model_call_ms = 0, "supervisor.deadlines.model_call_ms"),
            (|d| d.heartbeat_call_ms = 1_001, "supervisor.deadlines.heartbeat_call_ms"),
        ];
        for (spoil, field) in cases {
            let mut deadlines = Deadlines::default();
            spoil(&mut deadlines);
            let error = deadlines.validate(1_000).unwrap_err();
            assert!(error.to_string().contains(field), "{error} should name {field}");
        }
        // A zero grace is allowed: the link then must answer within the task's timeout.
        Deadlines { round_grace_ms: 0, ..Deadlines::default() }.validate(1_000).unwrap();
    }

    #[test]
    fn an_execute_deadline_never_overflows() {
        let deadlines = Deadlines::default();
        assert_eq!(deadlines.execute_call_ms(2_000), 2_500);
        assert_eq!(deadlines.execute_call_ms(u64::MAX), u64::MAX);
    }

    #[test]
    fn a_config_file_may_set_some_deadlines_and_leave_the_rest() {
        let deadlines: Deadlines = serde_json::from_str(r#"{"control_call_ms": 250}"#).unwrap();
        assert_eq!(deadlines, Deadlines { control_call_ms: 250, ..Deadlines::default() });
        let error = serde_json::from_str::<Deadlines>(r#"{"control_ms": 250}"#).unwrap_err();
        assert!(error.to_string().contains("control_ms"), "{error}");
    }
}
