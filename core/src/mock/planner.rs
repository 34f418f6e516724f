//! [`PlannerReply`]: how a mock model answers a P2P planner call, drawn up front with
//! the rest of the call so the stream of draws does not depend on timing.

use crate::SeededRng;
use crate::llm::CompletionRequest;
use crate::mock::profile::PlannerProfile;
use crate::p2p::PLANNER_SYSTEM_PREFIX;

/// Words of the task a mock subtask quotes: enough to tell tasks apart in a trace.
const TASK_WORDS_QUOTED_MAX: usize = 8;

/// Characters of the task a mock subtask quotes, whatever its words: a subtask stays
/// short even for a task of one long word.
const TASK_CHARS_QUOTED_MAX: usize = 80;

/// What a planner call answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PlannerReply {
    /// `{"step":"delegate","subtasks":[...]}` with the profile's number of subtasks.
    Delegate,
    /// A reply that is no valid next step; `kind` picks which of several.
    Malformed {
        /// Which malformed reply (taken modulo their number).
        kind: u64,
    },
    /// `{"step":"execute"}`.
    Execute,
}

/// Whether `request` is a planner call (its system message starts with the marker).
pub(super) fn is_planner_call(request: &CompletionRequest) -> bool {
    request.system.starts_with(PLANNER_SYSTEM_PREFIX)
}

impl PlannerReply {
    /// One draw from `rng`; `kind` (a draw the call made anyway) picks the malformed
    /// reply.
    pub(super) fn draw(rng: &mut SeededRng, profile: &PlannerProfile, kind: u64) -> Self {
        let roll = rng.next_f64();
        if roll < profile.delegate_probability {
            Self::Delegate
        } else if roll < profile.delegate_probability + profile.malformed_probability {
            Self::Malformed { kind }
        } else {
            Self::Execute
        }
    }

    /// The reply's text for the task `prompt` (a planner call's prompt is the task).
    pub(super) fn text(self, prompt: &str, subtasks: usize) -> String {
        let quoted = quoted_task(prompt);
        match self {
            Self::Delegate => {
                let parts: Vec<String> = (1..=subtasks)
                    .map(|index| format!("Step {index} of {subtasks}: work out part of \"{quoted}\""))
                    .collect();
                serde_json::json!({ "step": "delegate", "subtasks": parts }).to_string()
            }
            Self::Execute => serde_json::json!({ "step": "execute" }).to_string(),
            Self::Malformed { kind } => malformed(kind, &quoted),
        }
    }
}

/// Malformed replies in the ways models get a plan wrong; none parses as a next step
/// under any valid limits.
fn malformed(kind: u64, quoted: &str) -> String {
    match kind % 6 {
        0 => format!("I think \"{quoted}\" is best answered directly by the team."),
        1 => serde_json::json!({ "step": "delegate", "subtasks": [format!("Answer \"{quoted}\"")] }).to_string(),
        2 => serde_json::json!({ "step": "ponder" }).to_string(),
        3 => serde_json::json!({ "step": "delegate" }).to_string(),
        4 => serde_json::json!({ "step": "delegate", "subtasks": ["", " "] }).to_string(),
        _ => "```json\n{\"step\": \"delegate\", \"subtasks\": [\"Step 1".to_owned(),
    }
}

/// The first words of the task's first line, bounded in words and characters.
fn quoted_task(prompt: &str) -> String {
    let first_line = prompt.lines().find(|line| !line.trim().is_empty()).unwrap_or("");
    let words: Vec<&str> = first_line.split_whitespace().take(TASK_WORDS_QUOTED_MAX).collect();
    words.join(" ").chars().take(TASK_CHARS_QUOTED_MAX).collect()
}

#[cfg(test)]
mod tests;
