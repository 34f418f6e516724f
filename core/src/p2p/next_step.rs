//! The delegation control loop's vocabulary: the planner call a super agent makes for
//! a task ([`planner_prompt`]), what its reply means ([`NextStep`], read leniently by
//! [`parse_next_step`]), and the texts of the subtasks and of the compose step that
//! follow a delegation ([`subtask_text`], [`compose_text`]). Pure functions: the agent
//! state machine decides when to call them.

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::llm::CompletionRequest;
use crate::task::TASK_TEXT_BYTES_MAX;

/// Marker the planner's system prompt starts with, so the mock tells planner calls
/// apart.
pub const PLANNER_SYSTEM_PREFIX: &str = "You are the planner of a team of agents.";

/// Most subtasks one delegation may make: every subtask runs through consensus, and
/// the compose prompt must still hold each one's answer.
pub const SUBTASKS_MAX: usize = 8;

/// Deepest delegation allowed: with [`SUBTASKS_MAX`] subtasks per level, depth 3 is
/// already 512 leaf tasks (and their compose steps) for one submitted task.
pub const DELEGATION_DEPTH_MAX: u32 = 3;

/// Longest planner reply read, in bytes: room for [`SUBTASKS_MAX`] subtasks of a
/// useful length; anything longer is not a plan but a runaway completion.
pub const NEXT_STEP_REPLY_BYTES_MAX: usize = 4 * TASK_TEXT_BYTES_MAX;

/// Cap on the planner's completion, in tokens: a few short subtasks, not answers.
pub const PLANNER_COMPLETION_TOKENS_MAX: u32 = 512;

/// The planner's sampling temperature: low, since a plan is one decision, not one of
/// several independent samples whose agreement is informative (unlike a worker's).
pub const PLANNER_TEMPERATURE: f32 = 0.2;

/// Longest excerpt of an unknown "step" value kept in [`NextStepError::UnknownStep`]:
/// enough to recognise it, never a whole reply.
const STEP_EXCERPT_BYTES_MAX: usize = 64;

/// How many `{` positions are tried as the start of the reply's JSON object: a reply
/// with prose around the object has few; trying every brace of a hostile reply would
/// make parsing quadratic in its length.
const OBJECT_STARTS_TRIED_MAX: usize = 16;

// A subtask as long as a task must fit in a reply.
const _: () = assert!(NEXT_STEP_REPLY_BYTES_MAX > TASK_TEXT_BYTES_MAX);
const _: () = assert!(SUBTASKS_MAX >= 2);
// `DelegationLimits::validate` spells these ranges out in its messages.
const _: () = assert!(DELEGATION_DEPTH_MAX == 3 && SUBTASKS_MAX == 8);

/// What the planner said to do with a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum NextStep {
    /// Split the task into these subtasks (each trimmed, non-empty, between 2 and the
    /// limits' `subtasks_max`), run each through consensus, then compose.
    Delegate {
        /// The subtasks as the planner wrote them (see [`subtask_text`]).
        subtasks: Vec<String>,
    },
    /// Have all agents answer the task itself and vote.
    Execute,
}

/// Limits of delegation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DelegationLimits {
    /// Deepest level at which a task may still be delegated, the submitted task being
    /// depth 0; a task at this depth is executed. Default 2; at most
    /// [`DELEGATION_DEPTH_MAX`].
    pub depth_max: u32,
    /// Most subtasks of one delegation; a plan with more is malformed. Default 4; in
    /// `2..=`[`SUBTASKS_MAX`].
    pub subtasks_max: usize,
}

impl Default for DelegationLimits {
    fn default() -> Self {
        Self { depth_max: 2, subtasks_max: 4 }
    }
}

impl DelegationLimits {
    /// Checks both limits.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.depth_max > DELEGATION_DEPTH_MAX {
            return Err(ConfigError::invalid("delegation.depth_max", self.depth_max, "0..=3"));
        }
        if !(2..=SUBTASKS_MAX).contains(&self.subtasks_max) {
            return Err(ConfigError::invalid("delegation.subtasks_max", self.subtasks_max, "2..=8"));
        }
        Ok(())
    }
}

/// Why a planner reply is not a next step. The caller executes the task directly
/// instead; a bad plan never fails a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum NextStepError {
    /// Nothing but white space.
    #[error("empty planner reply")]
    Empty,
    /// Longer than [`NEXT_STEP_REPLY_BYTES_MAX`].
    #[error("planner reply is {bytes} bytes; at most {NEXT_STEP_REPLY_BYTES_MAX} are read")]
    TooLong {
        /// The reply's length.
        bytes: usize,
    },
    /// No JSON object found in the reply (prose only, or JSON cut off).
    #[error("no JSON object in the planner reply")]
    NoJsonObject,
    /// The object has no "step" string.
    #[error("the planner reply has no \"step\"")]
    MissingStep,
    /// "step" is neither "delegate" nor "execute".
    #[error("unknown step {step:?}; expected \"delegate\" or \"execute\"")]
    UnknownStep {
        /// The value given (at most 64 bytes of it).
        step: String,
    },
    /// "delegate" without a "subtasks" array.
    #[error("step \"delegate\" without a \"subtasks\" array")]
    MissingSubtasks,
    /// A subtask is not a string.
    #[error("subtask {index} is not a string")]
    SubtaskNotText {
        /// Its position, from 0.
        index: usize,
    },
    /// Fewer than 2 subtasks: that is not a split.
    #[error("{count} subtask(s); a delegation needs at least 2")]
    TooFewSubtasks {
        /// How many were given.
        count: usize,
    },
    /// More subtasks than the limits allow.
    #[error("{count} subtasks; at most {subtasks_max} are allowed")]
    TooManySubtasks {
        /// How many were given.
        count: usize,
        /// The limit.
        subtasks_max: usize,
    },
    /// A subtask is empty or white space.
    #[error("subtask {index} is empty")]
    EmptySubtask {
        /// Its position, from 0.
        index: usize,
    },
    /// A subtask is longer than a task may be.
    #[error("subtask {index} is {bytes} bytes; at most {TASK_TEXT_BYTES_MAX}")]
    SubtaskTooLong {
        /// Its position, from 0.
        index: usize,
        /// Its length.
        bytes: usize,
    },
}

/// The planner call for a task at `depth` (the submitted task is depth 0). The prompt
/// is the task text itself, so the mock reads the task from it; the system message
/// starts with [`PLANNER_SYSTEM_PREFIX`] and states the reply's form and the limits.
pub fn planner_prompt(task_text: &str, depth: u32, limits: &DelegationLimits) -> CompletionRequest {
    let levels_left = limits.depth_max.saturating_sub(depth);
    let subtasks_max = limits.subtasks_max;
    CompletionRequest {
        system: format!(
            "{PLANNER_SYSTEM_PREFIX} Decide the next step for the task in the user message: either split it into \
             between 2 and {subtasks_max} independent subtasks whose answers together answer it, or have the agents \
             answer it directly. Split only when the parts are clearly simpler; {levels_left} more level(s) of \
             splitting are allowed below this one. Reply with only a JSON object: \
             {{\"step\": \"delegate\", \"subtasks\": [\"...\", \"...\"]}} or {{\"step\": \"execute\"}}."
        ),
        prompt: task_text.to_owned(),
        completion_tokens_max: PLANNER_COMPLETION_TOKENS_MAX,
        temperature: PLANNER_TEMPERATURE,
    }
}

/// Parses a planner reply: a JSON object with "step" "delegate" (and "subtasks", an
/// array of strings) or "execute", case-insensitive. Lenient like
/// [`crate::parse_reply`]: code fences and prose around the object are ignored, as
/// are other keys. Subtasks are trimmed.
///
/// # Errors
/// [`NextStepError`] naming what is wrong; the caller then executes the task directly.
pub fn parse_next_step(reply: &str, limits: &DelegationLimits) -> Result<NextStep, NextStepError> {
    if reply.len() > NEXT_STEP_REPLY_BYTES_MAX {
        return Err(NextStepError::TooLong { bytes: reply.len() });
    }
    let body = reply.trim();
    if body.is_empty() {
        return Err(NextStepError::Empty);
    }
    let object = first_json_object(body).ok_or(NextStepError::NoJsonObject)?;
    let step = object.get("step").and_then(serde_json::Value::as_str).ok_or(NextStepError::MissingStep)?;
    match step.trim().to_ascii_lowercase().as_str() {
        "execute" => Ok(NextStep::Execute),
        "delegate" => {
            let subtasks =
                object.get("subtasks").and_then(serde_json::Value::as_array).ok_or(NextStepError::MissingSubtasks)?;
            Ok(NextStep::Delegate { subtasks: checked_subtasks(subtasks, limits)? })
        }
        _ => Err(NextStepError::UnknownStep { step: cut(step, STEP_EXCERPT_BYTES_MAX).to_owned() }),
    }
}

/// The first JSON object in `body`, tried at each of the first
/// [`OBJECT_STARTS_TRIED_MAX`] braces; text after the object is ignored. Code fences
/// need no stripping: they are prose around the object.
fn first_json_object(body: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    body.match_indices('{').take(OBJECT_STARTS_TRIED_MAX).find_map(|(start, _)| {
        let mut values = serde_json::Deserializer::from_str(&body[start..]).into_iter::<serde_json::Value>();
        match values.next() {
            Some(Ok(serde_json::Value::Object(object))) => Some(object),
            _ => None,
        }
    })
}

fn checked_subtasks(values: &[serde_json::Value], limits: &DelegationLimits) -> Result<Vec<String>, NextStepError> {
    let count = values.len();
    if count < 2 {
        return Err(NextStepError::TooFewSubtasks { count });
    }
    if count > limits.subtasks_max {
        return Err(NextStepError::TooManySubtasks { count, subtasks_max: limits.subtasks_max });
    }
    let mut subtasks = Vec::with_capacity(count);
    for (index, value) in values.iter().enumerate() {
        let text = value.as_str().ok_or(NextStepError::SubtaskNotText { index })?.trim();
        if text.is_empty() {
            return Err(NextStepError::EmptySubtask { index });
        }
        if text.len() > TASK_TEXT_BYTES_MAX {
            return Err(NextStepError::SubtaskTooLong { index, bytes: text.len() });
        }
        subtasks.push(text.to_owned());
    }
    Ok(subtasks)
}

/// The text of subtask `index` (1-based) of `count` of the parent task:
/// `"{subtask}\n\n(Part {index} of {count} of the task: {parent_text})"`. It contains
/// `parent_text` verbatim (the mock finds the ground truth through it).
///
/// Bounded: when the whole would exceed [`TASK_TEXT_BYTES_MAX`], the subtask is cut (on
/// a char boundary), never the parent text; so the result is within the bound whenever
/// the parent leaves room for the frame, and a parent too long for that yields its
/// frame alone (a caller should execute such a task, not delegate it).
pub fn subtask_text(parent_text: &str, subtask: &str, index: usize, count: usize) -> String {
    let frame = format!("\n\n(Part {index} of {count} of the task: {parent_text})");
    let subtask = cut(subtask, TASK_TEXT_BYTES_MAX.saturating_sub(frame.len()));
    format!("{subtask}{frame}")
}

/// Stands for a subtask's answer when its agents reached no consensus.
const NO_ANSWER: &str = "(no agreed answer)";

/// The text of the compose step: the parent task, each subtask (as the planner wrote
/// it) with its committed answer (`None`: no consensus), asking for the answer to the
/// parent task itself. It contains `parent_text` verbatim.
///
/// Bounded like [`subtask_text`]: when the whole would exceed [`TASK_TEXT_BYTES_MAX`],
/// each part gets an equal share of the room left by the parent and the fixed
/// sentences, its answer first and its subtask the rest; the parent is never cut.
pub fn compose_text(parent_text: &str, parts: &[(String, Option<String>)]) -> String {
    let head = format!("Task: {parent_text}\n\nIt was split into parts, each answered separately:\n");
    let tail = "\nUsing these answers where they help, give the answer to the task itself.";
    let room = TASK_TEXT_BYTES_MAX.saturating_sub(head.len() + tail.len());
    let share = room / parts.len().max(1);
    let mut body = String::new();
    for (position, (subtask, answer)) in parts.iter().enumerate() {
        let number = position + 1;
        let labels = format!("Part {number}: \nAnswer {number}: \n");
        let texts_room = share.saturating_sub(labels.len());
        let answer = cut(answer.as_deref().unwrap_or(NO_ANSWER), texts_room);
        let subtask = cut(subtask, texts_room - answer.len());
        body.push_str(&format!("Part {number}: {subtask}\nAnswer {number}: {answer}\n"));
    }
    // Only reached with more parts than there is room for labels: drop the last ones.
    let body = cut(&body, room);
    format!("{head}{body}{tail}")
}

/// The longest prefix of `text` of at most `bytes_max` bytes that ends on a char
/// boundary.
fn cut(text: &str, bytes_max: usize) -> &str {
    if text.len() <= bytes_max {
        return text;
    }
    let mut end = bytes_max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests;
