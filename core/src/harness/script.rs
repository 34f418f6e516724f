//! What a scripted worker does when asked: pure functions of the script, the request,
//! the time and the worker's own seeded stream.

use serde::{Deserialize, Serialize};

use crate::consensus::ANSWER_BYTES_MAX;
use crate::link::{ExecuteRequest, Heartbeat, LinkError, WorkerAnswer};
use crate::rng::SeededRng;
use crate::{TaskId, WorkerId};

/// Tasks a scripted worker reports it takes at once.
pub const SCRIPTED_CAPACITY: u32 = 4;

/// How a scripted worker behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Script {
    /// Answers the truth after a seeded latency within the task's timeout.
    Honest,
    /// Answers the truth, but only after the round's deadline (sometimes after the
    /// call's own limit too, when the call times out first).
    Slow,
    /// Answers heartbeats, never a task.
    Silent,
    /// Answers the task's lie.
    Lying,
    /// Two processes under one id: the call answers the truth, and the other
    /// process pushes the lie for the same round.
    Twin,
    /// Answers with content the supervisor must refuse.
    Oversized(Oversize),
    /// Answers the truth, then pushes repeats, answers for rounds 0 and not yet
    /// reached, for a task that does not exist, and for the other submitted tasks.
    Flooding,
    /// Honest until `at_ms`; from then on its calls break and its heartbeats fail.
    Crashing {
        /// When the process dies.
        at_ms: u64,
    },
    /// Honest answers, absurd heartbeats (a load above its capacity).
    Boasting,
}

/// What is wrong with an [`Script::Oversized`] worker's answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Oversize {
    /// One byte longer than consensus compares.
    TooLong,
    /// A confidence that is not a number.
    NanConfidence,
    /// A confidence above 1.
    ConfidenceAboveOne,
}

/// What one task's answers are: the truth, and the lie liars and twins tell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers {
    /// The right answer.
    pub truth: String,
    /// A wrong answer, different from the truth under every matching strategy.
    pub lie: String,
}

/// A worker's reaction to one execute call.
#[derive(Debug)]
pub(super) struct Reaction {
    /// The call's reply after a delay (none: it never replies).
    pub(super) reply: Option<(u64, Result<WorkerAnswer, LinkError>)>,
    /// Answers pushed outside the call, each after its delay.
    pub(super) pushed: Vec<(u64, WorkerAnswer)>,
}

/// Lowest and highest latency of an answer in time, as a share of the timeout.
const LATENCY_SHARE: (u64, u64) = (1, 60);

/// An answer of `worker` to round `attempt` of `task`.
fn answer(worker: &WorkerId, task: &TaskId, attempt: u32, text: &str, latency_ms: u64) -> WorkerAnswer {
    WorkerAnswer {
        worker: worker.clone(),
        task: task.clone(),
        attempt,
        text: text.to_owned(),
        confidence: 0.9,
        llm_calls: 1,
        prompt_tokens: 10,
        completion_tokens: 2,
        latency_ms,
        rate_limit_wait_ms: 0,
    }
}

/// How `worker`, following `script`, reacts at `now_ms` to `request`, whose answers
/// are `answers`; `others` are the other submitted tasks (a flooder claims them).
pub(super) fn react(
    script: Script,
    worker: &WorkerId,
    request: &ExecuteRequest,
    answers: &Answers,
    others: &[TaskId],
    now_ms: u64,
    rng: &mut SeededRng,
) -> Reaction {
    let timeout_ms = request.timeout_ms.max(1);
    let latency_ms = rng.range_u64(timeout_ms * LATENCY_SHARE.0 / 100 + 1, timeout_ms * LATENCY_SHARE.1 / 100 + 2);
    let on_call = |text: &str, latency_ms: u64| answer(worker, &request.task, request.attempt, text, latency_ms);
    let mut pushed = Vec::new();
    let reply = match script {
        Script::Honest | Script::Boasting => Some((latency_ms, Ok(on_call(&answers.truth, latency_ms)))),
        Script::Lying => Some((latency_ms, Ok(on_call(&answers.lie, latency_ms)))),
        Script::Slow => {
            let late_ms = timeout_ms + rng.range_u64(1, 2_000);
            Some((late_ms, Ok(on_call(&answers.truth, late_ms))))
        }
        Script::Silent => None,
        Script::Twin => {
            let other_ms = rng.range_u64(1, latency_ms * 2 + 2);
            pushed.push((other_ms, on_call(&answers.lie, other_ms)));
            Some((latency_ms, Ok(on_call(&answers.truth, latency_ms))))
        }
        Script::Oversized(kind) => {
            let mut bad = on_call(&answers.truth, latency_ms);
            match kind {
                Oversize::TooLong => bad.text = "9".repeat(ANSWER_BYTES_MAX + 1),
                Oversize::NanConfidence => bad.confidence = f64::NAN,
                Oversize::ConfidenceAboveOne => bad.confidence = 7.0,
            }
            pushed.push((latency_ms + 1, bad.clone()));
            Some((latency_ms, Ok(bad)))
        }
        Script::Flooding => {
            let truth = on_call(&answers.truth, latency_ms);
            let mut flood = vec![truth.clone(), truth.clone(), truth.clone()];
            for attempt in [0, request.attempt + 5] {
                flood.push(WorkerAnswer { attempt, ..truth.clone() });
            }
            flood.push(WorkerAnswer { task: TaskId::from(format!("ghost-{}", request.task)), ..truth.clone() });
            for other in others.iter().filter(|t| **t != request.task) {
                flood.push(WorkerAnswer { task: other.clone(), text: answers.lie.clone(), ..truth.clone() });
            }
            // Mostly while the call runs, some after it returned.
            for answer in flood {
                pushed.push((rng.range_u64(1, latency_ms + latency_ms / 4 + 2), answer));
            }
            Some((latency_ms, Ok(truth)))
        }
        Script::Crashing { at_ms } => {
            if now_ms >= at_ms {
                Some((1, Err(LinkError::Unavailable)))
            } else if now_ms + latency_ms < at_ms {
                Some((latency_ms, Ok(on_call(&answers.truth, latency_ms))))
            } else {
                // The connection breaks when the process dies.
                Some((at_ms - now_ms, Err(LinkError::Unavailable)))
            }
        }
    };
    Reaction { reply, pushed }
}

/// `worker`'s reply at `now_ms` to a heartbeat call, with `load` calls running.
pub(super) fn heartbeat(script: Script, worker: &WorkerId, load: u32, now_ms: u64) -> Result<Heartbeat, LinkError> {
    match script {
        Script::Crashing { at_ms } if now_ms >= at_ms => Err(LinkError::Unavailable),
        Script::Boasting => {
            Ok(Heartbeat { worker: worker.clone(), load: SCRIPTED_CAPACITY + 1, capacity: SCRIPTED_CAPACITY })
        }
        _ => Ok(Heartbeat { worker: worker.clone(), load: load.min(SCRIPTED_CAPACITY), capacity: SCRIPTED_CAPACITY }),
    }
}
