//! Hostile workers: they misbehave on the wire itself, past anything an honest
//! worker's own checks would let through, so that the supervisor's boundary is the
//! only thing between them and the decision. A scenario makes a worker hostile with
//! its profile's byzantine mode: `byzantine = { mode = "oversized" }`, `"flood"` or
//! `"equivocate"`.

use quorum_core::consensus::ANSWER_BYTES_MAX;
use quorum_core::{TaskId, WorkerAnswer};

use quorum_core::mock::Byzantine;

/// Bytes an oversized answer carries beyond [`ANSWER_BYTES_MAX`].
const OVERSIZE_BYTES: usize = 1024;
/// Tasks a flooding worker invents per call.
const FLOOD_INVENTED_TASKS: u32 = 3;
/// Times a flooding worker repeats its real answer per call.
const FLOOD_REPEATS: usize = 3;
/// Further answers an equivocating worker pushes per call, each different.
const EQUIVOCATIONS: u32 = 2;

/// How a hostile worker misbehaves: what it pushes to the supervisor while an execute
/// call is open, and what it then replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hostility {
    /// Pushes an answer over the size limit and one with a confidence of NaN (which
    /// JSON cannot carry: the frame does not decode), then replies with a confidence
    /// out of `0..=1`.
    Oversized,
    /// Pushes answers for tasks and rounds it was not given, and its real answer
    /// again and again, then replies honestly.
    Flood,
    /// Pushes a different answer to the same call each time, then replies with the
    /// honest one.
    Equivocate,
}

impl Hostility {
    /// The hostility a model's byzantine mode asks of its host, if any.
    pub(crate) fn of(mode: Option<Byzantine>) -> Option<Self> {
        match mode? {
            Byzantine::Oversized => Some(Self::Oversized),
            Byzantine::Flood => Some(Self::Flood),
            Byzantine::Equivocate => Some(Self::Equivocate),
            Byzantine::AlwaysWrong | Byzantine::Colluding { .. } | Byzantine::Scatter { .. } => None,
        }
    }

    /// What goes back on the execute call instead of the honest `answer`.
    pub(crate) fn reply(self, answer: WorkerAnswer) -> WorkerAnswer {
        match self {
            Self::Oversized => {
                let confidence =
                    if answer.attempt.wrapping_add(task_number(&answer.task)).is_multiple_of(2) { 7.0 } else { -0.5 };
                WorkerAnswer { confidence, ..answer }
            }
            Self::Flood | Self::Equivocate => answer,
        }
    }

    /// What the worker pushes to the supervisor before replying `answer` (the honest
    /// one), in order.
    pub(crate) fn pushes(self, answer: &WorkerAnswer) -> Vec<WorkerAnswer> {
        match self {
            Self::Oversized => {
                let mut text = answer.text.clone();
                text.push_str(&"x".repeat(ANSWER_BYTES_MAX + OVERSIZE_BYTES - text.len().min(ANSWER_BYTES_MAX)));
                vec![WorkerAnswer { text, ..answer.clone() }, WorkerAnswer { confidence: f64::NAN, ..answer.clone() }]
            }
            Self::Flood => {
                let invented = (1..=FLOOD_INVENTED_TASKS)
                    .map(|n| WorkerAnswer { task: TaskId::new(format!("{}-ghost{n}", answer.task)), ..answer.clone() });
                // Rounds it was never asked in: none at all, the next, one far ahead.
                let rounds = [0, answer.attempt.saturating_add(1), answer.attempt.saturating_add(100)]
                    .map(|attempt| WorkerAnswer { attempt, ..answer.clone() });
                let repeats = core::iter::repeat_n(answer.clone(), FLOOD_REPEATS);
                invented.chain(rounds).chain(repeats).collect()
            }
            Self::Equivocate => (1..=EQUIVOCATIONS)
                .map(|n| WorkerAnswer { text: format!("{} (or rather, answer {n})", answer.text), ..answer.clone() })
                .collect(),
        }
    }
}

/// A stable number from a task id, to vary the misbehaviour by task.
fn task_number(task: &TaskId) -> u32 {
    task.as_str().bytes().fold(0u32, |sum, byte| sum.wrapping_mul(31).wrapping_add(u32::from(byte)))
}

#[cfg(test)]
mod tests {
    use quorum_core::{AnswerRejection, WorkerId};

    use super::*;

    fn answer(task: &str, attempt: u32) -> WorkerAnswer {
        WorkerAnswer {
            worker: WorkerId::new("w4"),
            task: TaskId::new(task),
            attempt,
            text: "Paris".to_owned(),
            confidence: 0.9,
            llm_calls: 1,
            prompt_tokens: 10,
            completion_tokens: 2,
            latency_ms: 40,
            rate_limit_wait_ms: 0,
        }
    }

    #[test]
    fn everything_an_oversized_worker_sends_is_refused_by_the_supervisors_boundary() {
        let replies: Vec<WorkerAnswer> =
            (1..=2).map(|attempt| Hostility::Oversized.reply(answer("t001", attempt))).collect();
        let above = replies.iter().filter(|r| r.confidence > 1.0).count();
        let below = replies.iter().filter(|r| r.confidence < 0.0).count();
        assert_eq!((above, below), (1, 1), "two rounds, each way once");
        let pushes = Hostility::Oversized.pushes(&answer("t001", 1));
        assert_eq!(pushes.len(), 2);
        assert!(pushes[0].text.len() > ANSWER_BYTES_MAX);
        assert!(pushes[1].confidence.is_nan());
        for sent in replies.iter().chain(&pushes) {
            // NaN cannot cross the wire at all; everything else is refused on arrival.
            assert!(AnswerRejection::check(sent).is_some() || sent.confidence.is_nan(), "{sent:?}");
        }
    }

    #[test]
    fn a_flood_names_tasks_and_rounds_never_given_and_repeats_the_real_answer() {
        let real = answer("t001", 2);
        let pushes = Hostility::Flood.pushes(&real);
        let invented = pushes.iter().filter(|p| p.task != real.task).count();
        let wrong_round = pushes.iter().filter(|p| p.task == real.task && p.attempt != real.attempt).count();
        let repeats = pushes.iter().filter(|p| **p == real).count();
        assert_eq!((invented, wrong_round, repeats), (3, 3, 3));
        assert_eq!(Hostility::Flood.reply(real.clone()), real, "the reply itself is honest");
    }

    #[test]
    fn an_equivocator_pushes_a_different_answer_each_time() {
        let real = answer("t001", 1);
        let pushes = Hostility::Equivocate.pushes(&real);
        let mut texts: Vec<&str> = pushes.iter().map(|p| p.text.as_str()).chain([real.text.as_str()]).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), 3, "{texts:?}");
        assert!(pushes.iter().all(|p| (p.task.clone(), p.attempt) == (real.task.clone(), real.attempt)));
    }

    #[test]
    fn only_the_wire_modes_are_hostile() {
        assert_eq!(Hostility::of(Some(Byzantine::Flood)), Some(Hostility::Flood));
        assert_eq!(Hostility::of(Some(Byzantine::AlwaysWrong)), None);
        assert_eq!(Hostility::of(None), None);
    }
}
