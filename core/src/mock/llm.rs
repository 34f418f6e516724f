//! [`MockLlm`]: one seeded mock model, what each call draws and answers.

use std::sync::{Arc, Mutex, PoisonError};

use crate::mock::control::LlmControl;
use crate::mock::observer::{CallObserver, NoObserver};
use crate::mock::planner::{PlannerReply, is_planner_call};
use crate::mock::profile::{Byzantine, ConfidenceBehaviour, FailureRates, LlmProfile};
use crate::mock::wording::Wording;
use crate::mock::workload::{Truth, TruthBook, truth_for};
use crate::{Completion, CompletionRequest, Llm, LlmError, SeededRng};

/// Time a mock "timeout" takes before it fails.
const TIMEOUT_AFTER_MS: u64 = 30_000;

/// A seeded mock model for one worker.
#[derive(Debug)]
pub struct MockLlm {
    name: String,
    profile: LlmProfile,
    truths: Arc<TruthBook>,
    control: LlmControl,
    rng: Mutex<SeededRng>,
    observer: Arc<dyn CallObserver>,
}

impl MockLlm {
    /// The model of worker `name`; its draws come from `seed` and its name alone. It
    /// reports its calls to no one until [`Self::with_observer`].
    pub fn new(name: &str, profile: LlmProfile, truths: Arc<TruthBook>, control: LlmControl, seed: u64) -> Self {
        let rng = Mutex::new(SeededRng::derive(seed, &format!("llm/{name}")));
        Self { name: name.to_owned(), profile, truths, control, rng, observer: Arc::new(NoObserver) }
    }

    /// Reports every call to `observer` (a simulation's trace). Observing changes no
    /// answer.
    #[must_use]
    pub fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = observer;
        self
    }

    /// The ground truth this model knows.
    pub(super) fn truths(&self) -> &TruthBook {
        &self.truths
    }

    fn draw<T>(&self, f: impl FnOnce(&mut SeededRng) -> T) -> T {
        f(&mut self.rng.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Decides the whole call up front (one lock, a fixed number of draws), so the
    /// stream of draws does not depend on timing. A planner call makes one more draw
    /// than others, at the end, so other calls draw exactly as before planners existed.
    fn plan(&self, request: &CompletionRequest) -> CallPlan {
        let truth = truth_for(&self.truths, &request.prompt).cloned();
        let is_planner = is_planner_call(request);
        let profile = &self.profile;
        let storm = self.control.storm_rate();
        self.draw(|rng| {
            // Saturating: validation bounds each part, and even unvalidated input must
            // never wrap around into a fast answer.
            let latency_ms = profile
                .latency
                .base_ms
                .saturating_add(rng.range_u64(0, profile.latency.jitter_ms.saturating_add(1)))
                .saturating_add(if rng.chance(profile.latency.straggler_rate) {
                    profile.latency.straggler_ms
                } else {
                    0
                });
            let failure = pick_failure(rng, &profile.failures, storm);
            let right = rng.chance(profile.accuracy);
            let variant = rng.next_u64();
            let lies = profile.byzantine.is_some_and(|mode| !mode.is_on_the_wire());
            let confidence = match (profile.confidence, right && !lies) {
                (ConfidenceBehaviour::Calibrated, true) => 0.7 + 0.25 * rng.next_f64(),
                (ConfidenceBehaviour::Calibrated, false) => 0.3 + 0.3 * rng.next_f64(),
                (ConfidenceBehaviour::Overconfident, _) => 0.95 + 0.05 * rng.next_f64(),
                (ConfidenceBehaviour::Random, _) => rng.next_f64(),
            };
            let planner = is_planner.then(|| PlannerReply::draw(rng, &profile.planner, variant));
            CallPlan { truth, latency_ms, failure, right, variant, confidence, planner }
        })
    }

    fn answer_text(&self, truth: &Truth, plan: &CallPlan, prompt: &str) -> String {
        let wording =
            Wording { style: self.profile.style, mistakes: self.profile.mistakes, task_hash: stable_hash(prompt) };
        match self.profile.byzantine {
            // Salted with the worker's name: independent liars do not coordinate.
            Some(Byzantine::AlwaysWrong) => wording.wrong(truth, stable_hash(prompt) ^ stable_hash(&self.name)),
            Some(Byzantine::Colluding { group }) => wording.wrong(truth, stable_hash(prompt) ^ group.rotate_left(29)),
            Some(Byzantine::Scatter { slot }) => wording.wrong(truth, slot),
            Some(Byzantine::Oversized | Byzantine::Flood | Byzantine::Equivocate) | None if plan.right => {
                wording.right(truth, plan.variant)
            }
            Some(Byzantine::Oversized | Byzantine::Flood | Byzantine::Equivocate) | None => {
                wording.wrong(truth, plan.variant)
            }
        }
    }
}

struct CallPlan {
    truth: Option<Truth>,
    latency_ms: u64,
    failure: Option<Failure>,
    right: bool,
    variant: u64,
    confidence: f64,
    /// What a planner call answers; `None` for every other call.
    planner: Option<PlannerReply>,
}

/// What a usable reply is made from.
enum ReplySource<'a> {
    /// A planner call's next step.
    Planner(PlannerReply),
    /// The task's ground truth, answered in the profile's way.
    Truth(&'a Truth),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    RateLimited,
    Server,
    Timeout,
    Empty,
    Garbage,
    Truncated,
}

fn pick_failure(rng: &mut SeededRng, rates: &FailureRates, storm: f64) -> Option<Failure> {
    let roll = rng.next_f64();
    let table = [
        (Failure::RateLimited, rates.rate_limited),
        (Failure::Server, rates.server_error),
        (Failure::Timeout, rates.timeout),
        (Failure::Empty, rates.empty),
        (Failure::Garbage, rates.garbage),
        (Failure::Truncated, rates.truncated),
    ];
    let mut cumulative = 0.0;
    for (failure, rate) in table {
        cumulative += rate.max(0.0);
        if roll < cumulative {
            return Some(failure);
        }
    }
    rng.chance(storm).then_some(Failure::RateLimited)
}

/// FNV-1a of a text: a task's stable "randomness" shared by every colluder.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

fn tokens(text: &str) -> u32 {
    // About 4 characters per token, like common tokenizers on English.
    (text.len() as u32).div_ceil(4)
}

impl Llm for MockLlm {
    async fn complete(&self, request: CompletionRequest) -> Result<Completion, LlmError> {
        // Counted when made, so that calls cut short by a crash or the end of the run
        // are counted too.
        self.observer.call_started(&self.name, request.prompt.len());
        let plan = self.plan(&request);
        let outcome = self.respond(&request, &plan).await;
        self.observer.call_finished(&self.name, &outcome);
        outcome
    }
}

impl MockLlm {
    async fn respond(&self, request: &CompletionRequest, plan: &CallPlan) -> Result<Completion, LlmError> {
        let sleep = |ms: u64| tokio::time::sleep(core::time::Duration::from_millis(ms));
        let prompt_tokens = tokens(&request.system) + tokens(&request.prompt);
        let completion = |text: String, truncated: bool| Completion {
            prompt_tokens,
            completion_tokens: tokens(&text),
            text,
            truncated,
        };
        match plan.failure {
            Some(Failure::RateLimited) => {
                sleep(20).await;
                return Err(LlmError::RateLimited { retry_after_ms: Some(500 + plan.variant % 1_500) });
            }
            Some(Failure::Server) => {
                sleep(plan.latency_ms / 2).await;
                return Err(LlmError::Server { status: 500 });
            }
            Some(Failure::Timeout) => {
                sleep(TIMEOUT_AFTER_MS).await;
                return Err(LlmError::Timeout);
            }
            _ => {}
        }
        sleep(plan.latency_ms).await;
        // A planner call needs no ground truth: it plans, it does not answer.
        let source = match (plan.planner, &plan.truth) {
            (Some(planner), _) => ReplySource::Planner(planner),
            (None, Some(truth)) => ReplySource::Truth(truth),
            (None, None) => {
                return Err(LlmError::BadResponse {
                    detail: "the mock has no ground truth for this prompt".to_owned(),
                });
            }
        };
        match plan.failure {
            Some(Failure::Empty) => return Ok(completion(String::new(), false)),
            Some(Failure::Garbage) => return Ok(completion("\u{1}\u{2}%$#@!".to_owned(), false)),
            Some(Failure::Truncated) => return Ok(completion("{\"answer\": \"".to_owned(), true)),
            _ => {}
        }
        let reply = match source {
            ReplySource::Planner(planner) => planner.text(&request.prompt, self.profile.planner.subtasks),
            ReplySource::Truth(truth) => {
                let answer = self.answer_text(truth, plan, &request.prompt);
                serde_json::json!({ "answer": answer, "confidence": (plan.confidence * 100.0).round() / 100.0 })
                    .to_string()
            }
        };
        Ok(completion(reply, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_reply;

    fn book() -> Arc<TruthBook> {
        let mut book = TruthBook::new();
        book.insert("q-num".into(), Truth::Numeric { value: 42.0 });
        book.insert(
            "q-exact".into(),
            Truth::Exact { answer: "Paris".into(), wrong: vec!["Lyon".into(), "Nice".into()] },
        );
        Arc::new(book)
    }

    fn request(prompt: &str) -> CompletionRequest {
        CompletionRequest { system: "sys".into(), prompt: prompt.into(), completion_tokens_max: 100, temperature: 0.7 }
    }

    fn run<T>(future: impl core::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(future)
    }

    #[test]
    fn same_seed_same_answers() {
        let answers = |seed| {
            run(async move {
                let llm = MockLlm::new(
                    "w1",
                    LlmProfile { accuracy: 0.5, ..LlmProfile::default() },
                    book(),
                    LlmControl::default(),
                    seed,
                );
                let mut out = Vec::new();
                for _ in 0..20 {
                    out.push(llm.complete(request("q-num")).await.unwrap().text);
                }
                out
            })
        };
        assert_eq!(answers(1), answers(1));
        assert_ne!(answers(1), answers(2));
    }

    #[test]
    fn accurate_models_answer_right_and_liars_collude() {
        run(async {
            let honest = MockLlm::new(
                "w1",
                LlmProfile { accuracy: 1.0, ..LlmProfile::default() },
                book(),
                LlmControl::default(),
                1,
            );
            let reply = honest.complete(request("q-exact")).await.unwrap();
            assert_eq!(parse_reply(&reply.text, reply.truncated).unwrap().answer, "Paris");
            let liar = |name| {
                let profile =
                    LlmProfile { byzantine: Some(Byzantine::Colluding { group: 7 }), ..LlmProfile::default() };
                MockLlm::new(name, profile, book(), LlmControl::default(), 99)
            };
            let (a, b) = (liar("w2"), liar("w3"));
            let answer_a = parse_reply(&a.complete(request("q-exact")).await.unwrap().text, false).unwrap().answer;
            let answer_b = parse_reply(&b.complete(request("q-exact")).await.unwrap().text, false).unwrap().answer;
            assert_eq!(answer_a, answer_b, "colluders agree");
            assert_ne!(answer_a, "Paris");
        });
    }

    #[test]
    fn failures_and_storms_show_up_as_typed_errors_or_unusable_replies() {
        run(async {
            let profile = LlmProfile {
                failures: FailureRates { garbage: 1.0, ..FailureRates::default() },
                ..LlmProfile::default()
            };
            let llm = MockLlm::new("w1", profile, book(), LlmControl::default(), 1);
            let reply = llm.complete(request("q-num")).await.unwrap();
            assert!(parse_reply(&reply.text, reply.truncated).is_err());

            let control = LlmControl::default();
            control.set_storm(1.0);
            let stormy = MockLlm::new("w1", LlmProfile::default(), book(), control.clone(), 1);
            assert!(matches!(
                stormy.complete(request("q-num")).await,
                Err(LlmError::RateLimited { retry_after_ms: Some(_) })
            ));
            control.set_storm(0.0);
            assert!(stormy.complete(request("q-num")).await.is_ok());
        });
    }
}
