//! The seeded mock LLM: knows every task's ground truth and answers like a model with
//! a given profile — accuracy, answer style, mistakes, confidence behaviour, latency,
//! failures, and byzantine modes. Nothing here needs a network or a simulator: a
//! simulation runs one per worker, and every real command runs offline with it.
//!
//! # Layout
//! - this file: [`LlmProfile`] and [`MockLlm`]: what a call draws and answers;
//! - [`workload`]: the seeded tasks and their ground truth ([`workload::Truth`]);
//! - `observer`: [`CallObserver`], through which a simulation's trace sees each call;
//! - `number_form`, `number_words`: numbers in the messy forms models write;
//! - `wrapper`: short answers and sentences in the wrappers models put around them;
//! - `mistake`: the wrong numbers a model plausibly gives.

mod mistake;
mod number_form;
mod number_words;
mod observer;
#[cfg(test)]
mod style_tests;
pub mod workload;
mod wrapper;

use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::{Completion, CompletionRequest, Llm, LlmError, SeededRng};

use crate::mock::workload::{Truth, TruthBook, format_number};

pub use observer::{CallObserver, NoObserver};

/// How right answers are worded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerStyle {
    /// The canonical answer.
    #[default]
    Exact,
    /// Paraphrases and surface variants (case, punctuation, other phrasings).
    Paraphrase,
    /// Numbers buried in a sentence ("The total comes to 42 apples.").
    Wordy,
    /// Numbers with small noise: inside the tolerance mostly, outside sometimes.
    Noisy,
    /// The forms real models write, each stating the right answer exactly. Numbers:
    /// fractions ("5/8"), mixed numbers ("1 3/4"), scale words ("3.4 thousand",
    /// "3.4k"), number words ("one hundred and five", "minus three"), scientific
    /// notation ("6.1 × 10^4", "1.2e3"), an uncertainty ("9.8 ± 0.3"), SI digit groups
    /// ("45 000" with a thin or no-break space), a Unicode minus ("−8"), full-width
    /// digits, remarks holding other numbers ("17 (as of 2019)", "17, confidence 0.8",
    /// "≈ 42, rounded from 41.7"), with or without a marker ("Final answer: 42",
    /// "\\boxed{42}", "**42**"). Short answers: wrapped ("Answer: C",
    /// `{"answer": "Rome"}`, "**Rome**"), full-width letters, combining accents.
    /// Sentences: the workload's paraphrases, lightly wrapped.
    Messy,
}

/// How wrong answers are worded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MistakeStyle {
    /// The workload's wrong answers and numbers off by a small slip, written plainly:
    /// lexically unlike the right answer.
    #[default]
    Plain,
    /// Wrong the way models are, in the frame of the right answer and the profile's
    /// style: a claim negated ("X is not Y"), its arguments swapped, its predicate
    /// reversed (rises / falls), or one number, date or name changed inside the same
    /// sentence; a number with another numerator, scale word, exponent or sign, or a
    /// slip, written in the forms that make it look like the right one ("7/3" for
    /// "4/3", "3.4 million" for "3.4 thousand"); a near-miss short answer ("C" for
    /// "C++", "B-" for "B+") in the same wrappers.
    Contradictions,
}

/// How the reported confidence relates to being right.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfidenceBehaviour {
    /// High when right, lower when wrong.
    #[default]
    Calibrated,
    /// Always near 1.
    Overconfident,
    /// Uniform noise.
    Random,
}

/// A byzantine model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Byzantine {
    /// Always gives the same wrong answer to a task (not coordinated with anyone).
    AlwaysWrong,
    /// Gives the wrong answer its group agreed on for the task.
    Colluding {
        /// Models with the same group give the same wrong answer.
        group: u64,
    },
    /// Gives wrong answer number `slot` of the task: models with different slots
    /// (below the number of wrong answers a task has, at least 2) never agree, which
    /// makes a split vote.
    Scatter {
        /// Which wrong answer.
        slot: u64,
    },
}

/// Probabilities of each failure per call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FailureRates {
    /// HTTP 429 with a Retry-After.
    pub rate_limited: f64,
    /// HTTP 5xx.
    pub server_error: f64,
    /// No answer in time.
    pub timeout: f64,
    /// An empty completion.
    pub empty: f64,
    /// Unparseable bytes.
    pub garbage: f64,
    /// A reply cut off at the token limit.
    pub truncated: f64,
}

/// Latency of one call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LatencyProfile {
    /// Least latency. Default 300 ms.
    pub base_ms: u64,
    /// Uniform extra latency up to this. Default 700 ms.
    pub jitter_ms: u64,
    /// Probability of a straggler. Default 0.
    pub straggler_rate: f64,
    /// A straggler's extra latency. Default 20 s.
    pub straggler_ms: u64,
}

impl Default for LatencyProfile {
    fn default() -> Self {
        Self { base_ms: 300, jitter_ms: 700, straggler_rate: 0.0, straggler_ms: 20_000 }
    }
}

/// Longest latency setting of a mock model (10 min): longer would outlast any run.
pub const LLM_LATENCY_MS_MAX: u64 = 600_000;

impl LlmProfile {
    /// Checks every probability (finite, in `0..=1`) and latency (at most
    /// [`LLM_LATENCY_MS_MAX`]).
    ///
    /// # Errors
    /// The field (under `prefix`) and what is wrong.
    pub fn validate(&self, prefix: &str) -> Result<(), (String, String)> {
        let rates = [
            ("accuracy", self.accuracy),
            ("latency.straggler_rate", self.latency.straggler_rate),
            ("failures.rate_limited", self.failures.rate_limited),
            ("failures.server_error", self.failures.server_error),
            ("failures.timeout", self.failures.timeout),
            ("failures.empty", self.failures.empty),
            ("failures.garbage", self.failures.garbage),
            ("failures.truncated", self.failures.truncated),
        ];
        for (field, value) in rates {
            if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
                return Err((format!("{prefix}.{field}"), format!("{value} is not a probability in 0..=1")));
            }
        }
        let failures = &self.failures;
        let failure_sum = failures.rate_limited
            + failures.server_error
            + failures.timeout
            + failures.empty
            + failures.garbage
            + failures.truncated;
        if failure_sum > 1.0 {
            return Err((format!("{prefix}.failures"), format!("rates sum to {failure_sum}; at most 1")));
        }
        let latencies = [
            ("latency.base_ms", self.latency.base_ms),
            ("latency.jitter_ms", self.latency.jitter_ms),
            ("latency.straggler_ms", self.latency.straggler_ms),
        ];
        for (field, value) in latencies {
            if value > LLM_LATENCY_MS_MAX {
                return Err((format!("{prefix}.{field}"), format!("{value} ms; at most {LLM_LATENCY_MS_MAX}")));
            }
        }
        Ok(())
    }
}

/// Everything that makes one mock model behave as it does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmProfile {
    /// Probability of a right answer. Default 0.95.
    pub accuracy: f64,
    /// Wording of answers. Default exact.
    pub style: AnswerStyle,
    /// Wording of wrong answers (worded in `style` too). Default plain.
    pub mistakes: MistakeStyle,
    /// Confidence behaviour. Default calibrated.
    pub confidence: ConfidenceBehaviour,
    /// Latency. Default 300..1000 ms.
    pub latency: LatencyProfile,
    /// Failure probabilities. Default none.
    pub failures: FailureRates,
    /// Byzantine mode. Default none.
    pub byzantine: Option<Byzantine>,
}

impl Default for LlmProfile {
    fn default() -> Self {
        Self {
            accuracy: 0.95,
            style: AnswerStyle::Exact,
            mistakes: MistakeStyle::Plain,
            confidence: ConfidenceBehaviour::Calibrated,
            latency: LatencyProfile::default(),
            failures: FailureRates::default(),
            byzantine: None,
        }
    }
}

/// Switches the harness flips during a run (error storms).
#[derive(Clone, Debug, Default)]
pub struct LlmControl {
    storm_rate: Arc<Mutex<f64>>,
}

impl LlmControl {
    /// Adds rate-limit errors with probability `rate` to every call (0 ends the storm).
    pub fn set_storm(&self, rate: f64) {
        *self.storm_rate.lock().unwrap_or_else(PoisonError::into_inner) = rate.clamp(0.0, 1.0);
    }

    fn storm_rate(&self) -> f64 {
        *self.storm_rate.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

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

    fn draw<T>(&self, f: impl FnOnce(&mut SeededRng) -> T) -> T {
        f(&mut self.rng.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Decides the whole call up front (one lock, a fixed number of draws), so the
    /// stream of draws does not depend on timing.
    fn plan(&self, request: &CompletionRequest) -> CallPlan {
        let truth = self.truths.get(&request.prompt).cloned();
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
            let confidence = match (profile.confidence, right && profile.byzantine.is_none()) {
                (ConfidenceBehaviour::Calibrated, true) => 0.7 + 0.25 * rng.next_f64(),
                (ConfidenceBehaviour::Calibrated, false) => 0.3 + 0.3 * rng.next_f64(),
                (ConfidenceBehaviour::Overconfident, _) => 0.95 + 0.05 * rng.next_f64(),
                (ConfidenceBehaviour::Random, _) => rng.next_f64(),
            };
            CallPlan { truth, latency_ms, failure, right, variant, confidence }
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
            None if plan.right => wording.right(truth, plan.variant),
            None => wording.wrong(truth, plan.variant),
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

/// How one model words its answers to one task.
///
/// Every choice comes from `variant`: one draw of the model's seeded RNG (or, for
/// liars that must agree or must differ, a hash or a slot). The plain styles use it
/// directly, as they always have; the messy forms and contradictions seed a generator
/// with it and make their choices from that, in a fixed order.
struct Wording {
    style: AnswerStyle,
    mistakes: MistakeStyle,
    /// What every model answering the task shares (a remark's year).
    task_hash: u64,
}

impl Wording {
    fn right(&self, truth: &Truth, variant: u64) -> String {
        if self.style == AnswerStyle::Messy {
            return self.messy(truth, variant);
        }
        right_answer(truth, self.style, variant)
    }

    fn messy(&self, truth: &Truth, variant: u64) -> String {
        let rng = &mut SeededRng::new(variant);
        match truth {
            Truth::Numeric { value } => {
                number_form::messy_number(*value, &number_form::NumberForm::ALL, self.task_hash, rng)
            }
            Truth::Exact { answer, .. } => wrapper::dressed_short_answer(answer, rng),
            Truth::Semantic { phrasings, .. } => {
                let phrasing = &phrasings[rng.index(phrasings.len())];
                wrapper::dressed_sentence(phrasing, rng)
            }
        }
    }

    fn wrong(&self, truth: &Truth, variant: u64) -> String {
        match self.mistakes {
            MistakeStyle::Plain => wrong_answer(truth, variant),
            MistakeStyle::Contradictions => self.contradiction(truth, variant),
        }
    }

    /// Wrong answer number `variant` (modulo how many there are, so different slots
    /// below that count never agree), worded in the profile's style.
    fn contradiction(&self, truth: &Truth, variant: u64) -> String {
        let messy = self.style == AnswerStyle::Messy;
        let rng = &mut SeededRng::new(variant);
        match truth {
            Truth::Numeric { value } => {
                let candidates = mistake::wrong_numbers(*value);
                let wrong = &candidates[(variant % candidates.len() as u64) as usize];
                if messy {
                    number_form::messy_number(wrong.value, wrong.forms, self.task_hash, rng)
                } else {
                    format_number(wrong.value)
                }
            }
            Truth::Exact { wrong, .. } => {
                let chosen = &wrong[(variant % wrong.len() as u64) as usize];
                if messy { wrapper::dressed_short_answer(chosen, rng) } else { chosen.clone() }
            }
            Truth::Semantic { wrong, contradictions, .. } => {
                let pool = if contradictions.is_empty() { wrong } else { contradictions };
                let chosen = &pool[(variant % pool.len() as u64) as usize];
                if messy { wrapper::dressed_sentence(chosen, rng) } else { chosen.clone() }
            }
        }
    }
}

fn right_answer(truth: &Truth, style: AnswerStyle, variant: u64) -> String {
    match truth {
        Truth::Numeric { value } => match style {
            AnswerStyle::Exact | AnswerStyle::Messy => format_number(*value),
            AnswerStyle::Paraphrase => {
                [format_number(*value), format!("{} ", format_number(*value)), format!("= {}", format_number(*value))]
                    [(variant % 3) as usize]
                    .clone()
            }
            AnswerStyle::Wordy => format!("Working it out step by step, the total comes to {}.", format_number(*value)),
            AnswerStyle::Noisy => {
                // Mostly inside a 1e-6 relative tolerance, sometimes a rounding error.
                let noise = if variant.is_multiple_of(5) { 0.5 } else { value.abs().max(1.0) * 1e-9 };
                format!("{}", value + noise)
            }
        },
        Truth::Exact { answer, .. } => match style {
            AnswerStyle::Exact | AnswerStyle::Noisy | AnswerStyle::Messy => answer.clone(),
            AnswerStyle::Paraphrase => {
                [answer.clone(), answer.to_lowercase(), format!("{answer}."), answer.to_uppercase()]
                    [(variant % 4) as usize]
                    .clone()
            }
            AnswerStyle::Wordy => format!("The answer is {answer}"),
        },
        Truth::Semantic { phrasings, .. } => match style {
            AnswerStyle::Exact => phrasings[0].clone(),
            _ => phrasings[(variant % phrasings.len() as u64) as usize].clone(),
        },
    }
}

fn wrong_answer(truth: &Truth, variant: u64) -> String {
    match truth {
        Truth::Numeric { value } => format_number(value + mistake::SLIPS[(variant % 5) as usize]),
        Truth::Exact { wrong, .. } => wrong[(variant % wrong.len() as u64) as usize].clone(),
        Truth::Semantic { wrong, .. } => wrong[(variant % wrong.len() as u64) as usize].clone(),
    }
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
        let Some(truth) = &plan.truth else {
            return Err(LlmError::BadResponse { detail: "the mock has no ground truth for this prompt".to_owned() });
        };
        match plan.failure {
            Some(Failure::Empty) => return Ok(completion(String::new(), false)),
            Some(Failure::Garbage) => return Ok(completion("\u{1}\u{2}%$#@!".to_owned(), false)),
            Some(Failure::Truncated) => return Ok(completion("{\"answer\": \"".to_owned(), true)),
            _ => {}
        }
        let answer = self.answer_text(truth, plan, &request.prompt);
        let reply = serde_json::json!({ "answer": answer, "confidence": (plan.confidence * 100.0).round() / 100.0 })
            .to_string();
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
