//! The LLM-assisted analyser: asks a model for a plan, trusts nothing it says.

use serde::{Deserialize, Serialize};

use super::{COMPLEXITY_MAX, HeuristicAnalyser, TaskPlan};
use crate::consensus::Strategy;
use crate::llm::{CompletionRequest, Llm, LlmError};

/// Where a plan came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanSource {
    /// Every field from the model.
    Llm,
    /// Some fields from the model, the rest from the heuristic.
    Mixed,
    /// Every field from the heuristic.
    Heuristic,
}

/// A plan field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanField {
    /// `complexity`.
    Complexity,
    /// `workers`.
    Workers,
    /// `timeout_ms`.
    TimeoutMs,
    /// `strategy`.
    Strategy,
    /// `threshold`.
    Threshold,
    /// `tolerance`.
    Tolerance,
}

/// Why (part of) the model's plan was replaced by the heuristic's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanFallback {
    /// The model call failed.
    LlmFailed(LlmError),
    /// The reply holds no JSON object.
    Unparsable,
    /// A field is missing or not of the right type.
    Missing(PlanField),
    /// A field is outside what can work.
    OutOfRange(PlanField),
}

/// A plan and how it was reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// The plan, always valid.
    pub plan: TaskPlan,
    /// Where it came from.
    pub source: PlanSource,
    /// What the model got wrong.
    pub fallbacks: Vec<PlanFallback>,
}

/// Asks an LLM to plan each task, validating and clamping its reply; whatever is
/// missing or unusable comes from the heuristic. It never fails a task.
#[derive(Debug)]
pub struct LlmAnalyser<L> {
    llm: L,
    heuristic: HeuristicAnalyser,
}

const SYSTEM: &str = "You plan how a team of AI agents should answer a task. Reply with only a JSON object with the \
keys: complexity (integer 1-10), workers (odd integer, how many agents should answer independently), timeout_ms \
(integer), strategy (\"numeric\" for calculations, \"exact\" for short factual or classification answers, \
\"semantic\" for free text), threshold (0-1, share of agents that must agree), tolerance (relative tolerance for \
numeric answers, 0-1).";

impl<L: Llm> LlmAnalyser<L> {
    /// An analyser asking `llm`, falling back to `heuristic`.
    pub fn new(llm: L, heuristic: HeuristicAnalyser) -> Self {
        Self { llm, heuristic }
    }

    /// Plans `text`.
    pub async fn analyse(&self, text: &str) -> Analysis {
        let request = CompletionRequest {
            system: SYSTEM.to_owned(),
            prompt: text.to_owned(),
            completion_tokens_max: 200,
            temperature: 0.0,
        };
        let analysis = match self.llm.complete(request).await {
            Ok(completion) => self.plan_from_reply(text, &completion.text),
            Err(error) => Analysis {
                plan: self.heuristic.analyse(text),
                source: PlanSource::Heuristic,
                fallbacks: vec![PlanFallback::LlmFailed(error)],
            },
        };
        if !analysis.fallbacks.is_empty() {
            tracing::warn!(fallbacks = ?analysis.fallbacks, source = ?analysis.source, "llm task analysis fell back to the heuristic");
        }
        analysis
    }

    /// The plan for `text` given the model's `reply` (pure; `analyse` without the call).
    pub fn plan_from_reply(&self, text: &str, reply: &str) -> Analysis {
        let fallback = self.heuristic.analyse(text);
        let object = json_object(reply);
        let Some(object) = object else {
            return Analysis {
                plan: fallback,
                source: PlanSource::Heuristic,
                fallbacks: vec![PlanFallback::Unparsable],
            };
        };
        let limits = self.heuristic.limits();
        let mut fallbacks = Vec::new();
        let mut field = |name: &str, which: PlanField, accept: &dyn Fn(&serde_json::Value) -> Option<()>| -> bool {
            match object.get(name) {
                None => {
                    fallbacks.push(PlanFallback::Missing(which));
                    false
                }
                Some(value) if accept(value).is_none() => {
                    let kind = if value.is_number() || value.is_string() {
                        PlanFallback::OutOfRange(which)
                    } else {
                        PlanFallback::Missing(which)
                    };
                    fallbacks.push(kind);
                    false
                }
                Some(_) => true,
            }
        };
        let number = |name: &str| object.get(name).and_then(serde_json::Value::as_f64);
        let mut plan = fallback.clone();
        if field("complexity", PlanField::Complexity, &|v| {
            v.as_f64().filter(|c| (1.0..=f64::from(COMPLEXITY_MAX)).contains(c)).map(drop)
        }) {
            plan.complexity = number("complexity").map_or(plan.complexity, |c| c.round() as u8);
        }
        // Out-of-limit counts are clamped (the model may not know the pool); nonsense is not.
        if field("workers", PlanField::Workers, &|v| v.as_f64().filter(|w| (1.0..=1000.0).contains(w)).map(drop)) {
            plan.workers = number("workers").map_or(plan.workers, |w| limits.clamp_workers(w.round() as usize));
        }
        if field("timeout_ms", PlanField::TimeoutMs, &|v| v.as_f64().filter(|t| *t >= 1.0 && t.is_finite()).map(drop)) {
            plan.timeout_ms = number("timeout_ms").map_or(plan.timeout_ms, |t| limits.clamp_timeout_ms(t as u64));
        }
        if field("strategy", PlanField::Strategy, &|v| v.as_str().and_then(parse_strategy).map(drop)) {
            plan.strategy =
                object.get("strategy").and_then(|v| v.as_str()).and_then(parse_strategy).unwrap_or(plan.strategy);
        }
        if field("threshold", PlanField::Threshold, &|v| v.as_f64().filter(|t| (0.0..=1.0).contains(t)).map(drop)) {
            plan.threshold = number("threshold").unwrap_or(plan.threshold);
        }
        if field("tolerance", PlanField::Tolerance, &|v| v.as_f64().filter(|t| (0.0..1.0).contains(t)).map(drop)) {
            plan.tolerance_relative = number("tolerance").unwrap_or(plan.tolerance_relative);
        }
        let source = match fallbacks.len() {
            0 => PlanSource::Llm,
            6 => PlanSource::Heuristic,
            _ => PlanSource::Mixed,
        };
        Analysis { plan, source, fallbacks }
    }
}

fn parse_strategy(name: &str) -> Option<Strategy> {
    match name.trim().to_ascii_lowercase().as_str() {
        "exact" => Some(Strategy::Exact),
        "numeric" => Some(Strategy::Numeric),
        "semantic" => Some(Strategy::Semantic),
        _ => None,
    }
}

/// The JSON object in a reply, tolerating prose or code fences around it.
fn json_object(reply: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let start = reply.find('{')?;
    let end = reply.rfind('}')?;
    let value: serde_json::Value = serde_json::from_str(reply.get(start..=end)?).ok()?;
    match value {
        serde_json::Value::Object(object) => Some(object),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::AnalysisLimits;
    use crate::llm::Completion;

    struct Canned(Result<&'static str, LlmError>);

    impl Llm for Canned {
        async fn complete(&self, _request: CompletionRequest) -> Result<Completion, LlmError> {
            self.0.clone().map(|text| Completion {
                text: text.to_owned(),
                prompt_tokens: 1,
                completion_tokens: 1,
                truncated: false,
            })
        }
    }

    fn analyser(reply: Result<&'static str, LlmError>) -> LlmAnalyser<Canned> {
        LlmAnalyser::new(Canned(reply), HeuristicAnalyser::new(AnalysisLimits::default()))
    }

    #[tokio::test]
    async fn a_good_reply_is_used_and_clamped() {
        let reply = r#"Here: {"complexity": 4, "workers": 40, "timeout_ms": 999999, "strategy": "numeric", "threshold": 0.7, "tolerance": 0.01}"#;
        let analysis = analyser(Ok(reply)).analyse("What is 6 * 7?").await;
        assert_eq!(analysis.source, PlanSource::Llm);
        assert_eq!(analysis.plan.workers, 15, "clamped to the pool maximum");
        assert_eq!(analysis.plan.timeout_ms, 120_000, "clamped to the timeout maximum");
        assert_eq!(analysis.plan.threshold, 0.7);
        assert_eq!(analysis.plan.tolerance_relative, 0.01);
    }

    #[tokio::test]
    async fn bad_fields_fall_back_one_by_one() {
        let reply = r#"{"complexity": 99, "workers": 5, "timeout_ms": 5000, "strategy": "vibes", "threshold": 1.5, "tolerance": 0.0}"#;
        let heuristic = HeuristicAnalyser::default().analyse("What is 6 * 7?");
        let analysis = analyser(Ok(reply)).analyse("What is 6 * 7?").await;
        assert_eq!(analysis.source, PlanSource::Mixed);
        assert_eq!(analysis.plan.complexity, heuristic.complexity);
        assert_eq!(analysis.plan.strategy, heuristic.strategy);
        assert_eq!(analysis.plan.threshold, heuristic.threshold);
        assert_eq!(analysis.plan.workers, 5);
        assert!(analysis.fallbacks.contains(&PlanFallback::OutOfRange(PlanField::Strategy)));
        assert!(analysis.fallbacks.contains(&PlanFallback::OutOfRange(PlanField::Threshold)));
    }

    #[tokio::test]
    async fn garbage_or_failure_is_the_heuristic_plan() {
        let heuristic = HeuristicAnalyser::default().analyse("Explain tides.");
        for reply in [Ok("no json at all"), Ok("{\"workers\": "), Err(LlmError::QuotaExhausted)] {
            let analysis = analyser(reply).analyse("Explain tides.").await;
            assert_eq!(analysis.plan, heuristic);
            assert_eq!(analysis.source, PlanSource::Heuristic);
            assert_eq!(analysis.fallbacks.len(), 1);
        }
    }
}
