//! What a client submits.

use serde::{Deserialize, Serialize};

use crate::TaskId;

/// Longest task text accepted, in bytes: a prompt larger than this is a mistake or an
/// attack, and every worker would pay for it.
pub const TASK_TEXT_BYTES_MAX: usize = 32 * 1024;
/// Longest task id accepted, in bytes.
pub const TASK_ID_BYTES_MAX: usize = 128;

/// How urgent a task is; higher runs first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Background work.
    Low,
    /// The default.
    #[default]
    Normal,
    /// Ahead of normal work.
    High,
}

/// One task: a question for the workers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Chosen by the client; resubmitting the same id is idempotent.
    pub id: TaskId,
    /// The question.
    pub text: String,
    /// The known right answer, for simulations and evaluations; never shown to workers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ground_truth: Option<String>,
    /// Scheduling priority.
    #[serde(default)]
    pub priority: Priority,
}

/// A task that cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// The id is empty.
    #[error("task id is empty")]
    EmptyId,
    /// The id is longer than [`TASK_ID_BYTES_MAX`].
    #[error("task id is {bytes} bytes; at most {TASK_ID_BYTES_MAX} are accepted")]
    IdTooLong {
        /// Its length.
        bytes: usize,
    },
    /// The text is empty or white space.
    #[error("task {task}: text is empty")]
    EmptyText {
        /// Which task.
        task: TaskId,
    },
    /// The text is longer than [`TASK_TEXT_BYTES_MAX`].
    #[error("task {task}: text is {bytes} bytes; at most {TASK_TEXT_BYTES_MAX} are accepted")]
    TextTooLong {
        /// Which task.
        task: TaskId,
        /// Its length.
        bytes: usize,
    },
}

impl Task {
    /// A normal-priority task without ground truth.
    pub fn new(id: impl Into<TaskId>, text: impl Into<String>) -> Self {
        Self { id: id.into(), text: text.into(), ground_truth: None, priority: Priority::Normal }
    }

    /// Sets the ground truth.
    #[must_use]
    pub fn with_ground_truth(mut self, truth: impl Into<String>) -> Self {
        self.ground_truth = Some(truth.into());
        self
    }

    /// Sets the priority.
    #[must_use]
    pub fn with_priority(mut self, priority: Priority) -> Self {
        self.priority = priority;
        self
    }

    /// Checks the task against the limits.
    ///
    /// # Errors
    /// [`TaskError`] naming what is wrong.
    pub fn validate(&self) -> Result<(), TaskError> {
        let id_bytes = self.id.as_str().len();
        if id_bytes == 0 {
            return Err(TaskError::EmptyId);
        }
        if id_bytes > TASK_ID_BYTES_MAX {
            return Err(TaskError::IdTooLong { bytes: id_bytes });
        }
        if self.text.trim().is_empty() {
            return Err(TaskError::EmptyText { task: self.id.clone() });
        }
        if self.text.len() > TASK_TEXT_BYTES_MAX {
            return Err(TaskError::TextTooLong { task: self.id.clone(), bytes: self.text.len() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_problem() {
        assert_eq!(Task::new("", "q").validate(), Err(TaskError::EmptyId));
        assert!(matches!(Task::new("t", "  ").validate(), Err(TaskError::EmptyText { .. })));
        let long = Task::new("t", "x".repeat(TASK_TEXT_BYTES_MAX + 1));
        assert!(long.validate().unwrap_err().to_string().contains("at most"));
        assert!(Task::new("t", "What is 2+2?").validate().is_ok());
        assert!(Priority::High > Priority::Normal && Priority::Normal > Priority::Low);
    }
}
