//! `quorum consensus FILE`: the engine on one set of answers, as JSON in and out.

use serde::{Deserialize, Serialize};

use quorum_core::consensus::{
    Ballot, ConsensusConfig, ConsensusError, Decision, Exclusion, Group, NoConsensusReason, Strategy, Verdict,
    Weighting, decide,
};
use quorum_core::{HeuristicAnalyser, WorkerId};

/// Largest input accepted, in bytes: a thousand long answers fit comfortably.
pub const INPUT_BYTES_MAX: usize = 16 * 1024 * 1024;

/// How the input chooses a strategy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyChoice {
    /// From the task text when given (the heuristic analyser), else from the answers.
    #[default]
    Auto,
    /// Exact matching.
    Exact,
    /// Numeric matching.
    Numeric,
    /// Semantic matching.
    Semantic,
}

impl From<Strategy> for StrategyChoice {
    fn from(strategy: Strategy) -> Self {
        match strategy {
            Strategy::Exact => Self::Exact,
            Strategy::Numeric => Self::Numeric,
            Strategy::Semantic => Self::Semantic,
        }
    }
}

/// The input file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsensusInput {
    /// A whole consensus config, with the keys of a scenario file's
    /// `[supervisor.consensus]` (what `quorum prop` prints); the keys below override it.
    pub config: Option<ConsensusConfig>,
    /// How to compare answers. Default: the config's strategy when `config` is given,
    /// else auto.
    pub strategy: Option<StrategyChoice>,
    /// Agreement needed, `0..=1`. Default 0.5.
    pub threshold: Option<f64>,
    /// Lead over the runner-up needed. Default 0.05.
    pub margin_min: Option<f64>,
    /// Numeric: absolute tolerance. Default 1e-9.
    pub tolerance: Option<f64>,
    /// Numeric: relative tolerance. Default 1e-6.
    pub tolerance_relative: Option<f64>,
    /// Semantic: similarity needed to join a group and to merge groups. Default 0.5.
    /// Answers whose claims conflict (negation, opposites, other numbers, dates or
    /// names, reversed relations) never group, whatever it is.
    pub similarity: Option<f64>,
    /// How power and confidence weigh a ballot: `linear` (default) or `log_odds`
    /// (for calibrated confidences).
    pub weighting: Option<Weighting>,
    /// The task, used by `auto`.
    pub task: Option<String>,
    /// The answers.
    pub answers: Vec<AnswerInput>,
}

/// One answer in the input.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    /// Who answered.
    pub worker: String,
    /// What.
    pub text: String,
    /// Self-reported confidence, `0..=1`. Default 1.
    pub confidence: Option<f64>,
    /// Voting power. Default 1.
    pub power: Option<f64>,
    /// Optional embedding for semantic matching.
    pub embedding: Option<Vec<f32>>,
    /// Optional meaning class for semantic matching (answers an entailment judge found
    /// equivalent share one); used when every answer has one.
    pub meaning: Option<u64>,
}

/// The output document.
#[derive(Clone, Debug, Serialize)]
pub struct ConsensusOutput {
    /// `agreed` or `no_consensus`.
    pub outcome: &'static str,
    /// Why not, when no consensus.
    pub reason: Option<NoConsensusReason>,
    /// The winning representative, or null.
    pub answer: Option<String>,
    /// The leader's support.
    pub support: f64,
    /// The leader's margin.
    pub margin: f64,
    /// The leader's confidence.
    pub confidence: f64,
    /// The strategy used.
    pub strategy: Strategy,
    /// The weighting rule used.
    pub weighting: Weighting,
    /// The threshold applied (after adaptation).
    pub threshold: f64,
    /// The threshold configured.
    pub threshold_base: f64,
    /// Answers counted.
    pub counted: usize,
    /// Ranked groups.
    pub groups: Vec<Group>,
    /// Answers not counted.
    pub excluded: Vec<Exclusion>,
}

/// What can be wrong with an input.
#[derive(Debug, thiserror::Error)]
pub enum ConsensusCommandError {
    /// Larger than [`INPUT_BYTES_MAX`].
    #[error("input is {bytes} bytes; at most {INPUT_BYTES_MAX} are accepted")]
    TooLarge {
        /// Its size.
        bytes: usize,
    },
    /// Not JSON of the expected shape.
    #[error("line {line}, column {column}: {message}")]
    Malformed {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde said.
        message: String,
    },
    /// A value out of range.
    #[error(transparent)]
    Invalid(#[from] ConsensusError),
}

/// Parses, decides and renders; pure, so the same input gives the same bytes.
///
/// # Errors
/// [`ConsensusCommandError`] naming what is wrong with the input.
pub fn run_consensus(input: &str) -> Result<String, ConsensusCommandError> {
    let output = consensus_output(input)?;
    Ok(serde_json::to_string_pretty(&output).expect("the output is plain data"))
}

/// Parses and decides.
///
/// # Errors
/// As [`run_consensus`].
pub fn consensus_output(input: &str) -> Result<ConsensusOutput, ConsensusCommandError> {
    if input.len() > INPUT_BYTES_MAX {
        return Err(ConsensusCommandError::TooLarge { bytes: input.len() });
    }
    let parsed: ConsensusInput = serde_json::from_str(input).map_err(|error| ConsensusCommandError::Malformed {
        line: error.line(),
        column: error.column(),
        message: error.to_string().split(" at line").next().unwrap_or_default().to_owned(),
    })?;
    let ballots: Vec<Ballot> = parsed
        .answers
        .iter()
        .map(|answer| Ballot {
            worker: WorkerId::new(answer.worker.clone()),
            text: answer.text.clone(),
            confidence: answer.confidence.unwrap_or(1.0),
            power: answer.power.unwrap_or(1.0),
            latency_ms: 0,
            embedding: answer.embedding.clone(),
            meaning: answer.meaning,
        })
        .collect();
    let config = config_for(&parsed, &ballots);
    let decision = decide(&ballots, &config)?;
    Ok(render(decision))
}

fn config_for(input: &ConsensusInput, ballots: &[Ballot]) -> ConsensusConfig {
    let defaults = input.config.clone().unwrap_or_default();
    let choice = match (input.strategy, &input.config) {
        (Some(choice), _) => choice,
        (None, Some(config)) => StrategyChoice::from(config.strategy),
        (None, None) => StrategyChoice::Auto,
    };
    let strategy = match choice {
        StrategyChoice::Exact => Strategy::Exact,
        StrategyChoice::Numeric => Strategy::Numeric,
        StrategyChoice::Semantic => Strategy::Semantic,
        StrategyChoice::Auto => match &input.task {
            Some(task) => HeuristicAnalyser::default().analyse(task).strategy,
            None => Strategy::infer_from_answers(ballots.iter().map(|b| b.text.as_str())),
        },
    };
    ConsensusConfig {
        strategy,
        threshold: input.threshold.unwrap_or(defaults.threshold),
        margin_min: input.margin_min.unwrap_or(defaults.margin_min),
        tolerance_absolute: input.tolerance.unwrap_or(defaults.tolerance_absolute),
        tolerance_relative: input.tolerance_relative.unwrap_or(defaults.tolerance_relative),
        // One setting for grouping and merging: the merge level follows the join level
        // (`similarity_merge_min` stays unset), so a high `similarity` stops merging.
        similarity_join_min: input.similarity.unwrap_or(defaults.similarity_join_min),
        weighting: input.weighting.unwrap_or(defaults.weighting),
        ..defaults
    }
}

fn render(decision: Decision) -> ConsensusOutput {
    let (outcome, reason) = match decision.verdict {
        Verdict::Agreed => ("agreed", None),
        Verdict::NoConsensus(reason) => ("no_consensus", Some(reason)),
    };
    ConsensusOutput {
        outcome,
        reason,
        answer: decision.answer,
        support: decision.support,
        margin: decision.margin,
        confidence: decision.confidence,
        strategy: decision.strategy,
        weighting: decision.weighting,
        threshold: decision.threshold,
        threshold_base: decision.threshold_base,
        counted: decision.counted,
        groups: decision.groups,
        excluded: decision.excluded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decides_and_renders_the_documented_keys() {
        let input = r#"{"strategy": "numeric", "threshold": 0.6, "tolerance": 0.01,
            "answers": [{"worker": "w1", "text": "42", "confidence": 1.0, "power": 1.0},
                        {"worker": "w2", "text": "The answer is 42.004"},
                        {"worker": "w3", "text": "41"}]}"#;
        let output: serde_json::Value = serde_json::from_str(&run_consensus(input).unwrap()).unwrap();
        assert_eq!(output["outcome"], "agreed");
        // Equal weights: the weighted median is the lower member, 42.
        assert_eq!(output["answer"], "42");
        assert_eq!(output["strategy"], "numeric");
        assert_eq!(output["threshold"], 0.6);
        assert_eq!(output["groups"][0]["members"], serde_json::json!(["w1", "w2"]));
        for key in ["support", "margin", "groups"] {
            assert!(output.get(key).is_some(), "missing {key}");
        }
        for key in ["representative", "members", "weight", "support"] {
            assert!(output["groups"][0].get(key).is_some(), "missing groups[].{key}");
        }
    }

    #[test]
    fn auto_uses_the_task_text_then_the_answers() {
        let with_task = r#"{"task": "Explain why the sky is blue.", "answers": [{"worker": "w1", "text": "42"}]}"#;
        assert_eq!(consensus_output(with_task).unwrap().strategy, Strategy::Semantic);
        let without = r#"{"answers": [{"worker": "w1", "text": "42"}, {"worker": "w2", "text": "$42"}]}"#;
        assert_eq!(consensus_output(without).unwrap().strategy, Strategy::Numeric);
    }

    #[test]
    fn bad_input_is_named_not_a_panic() {
        let cases = [
            ("{", "line 1"),
            (r#"{"answers": [{"worker": "w1"}]}"#, "missing field `text`"),
            (r#"{"answers": [], "colour": 1}"#, "unknown field `colour`"),
            (r#"{"strategy": "vibes", "answers": []}"#, "unknown variant `vibes`"),
            (r#"{"weighting": "bayes", "answers": []}"#, "weighting = \"bayes\""),
            (r#"{"weighting": 3, "answers": []}"#, "line 1"),
            (r#"{"threshold": 2, "answers": []}"#, "consensus.threshold"),
            (r#"{"tolerance": -1, "answers": []}"#, "consensus.tolerance_absolute"),
            (r#"{"answers": [{"worker": "w1", "text": "a", "confidence": 3}]}"#, "answers[0].confidence"),
            (r#"{"answers": [{"worker": "w1", "text": "a", "power": -1}]}"#, "answers[0].power"),
        ];
        for (input, expected) in cases {
            let error = run_consensus(input).unwrap_err().to_string();
            assert!(error.contains(expected), "{input}: {error}");
        }
    }

    #[test]
    fn weighting_is_honoured() {
        // Two ballots at 0.95 against three at 0.4: the head count wins under linear
        // weighting only when the confident pair is too light, and log-odds weighs
        // that pair far more (ln(2 x 19) each against ln(2 x 0.67) each).
        let answers = r#""answers": [
            {"worker": "w1", "text": "a", "confidence": 0.95}, {"worker": "w2", "text": "a", "confidence": 0.95},
            {"worker": "w3", "text": "b", "confidence": 0.4}, {"worker": "w4", "text": "b", "confidence": 0.4},
            {"worker": "w5", "text": "b", "confidence": 0.4}]"#;
        let linear = consensus_output(&format!(r#"{{"strategy": "exact", "threshold": 0.7, {answers}}}"#)).unwrap();
        let bayes = consensus_output(&format!(
            r#"{{"strategy": "exact", "threshold": 0.7, "weighting": "log_odds", {answers}}}"#
        ))
        .unwrap();
        assert_eq!(linear.weighting, Weighting::Linear);
        assert_eq!(bayes.weighting, Weighting::LogOdds);
        assert_eq!(linear.outcome, "no_consensus", "1.9 of 3.1 is below 0.7");
        assert_eq!(bayes.outcome, "agreed");
        assert_eq!(bayes.answer.as_deref(), Some("a"));
        let rendered: serde_json::Value =
            serde_json::from_str(&run_consensus(&format!(r#"{{"weighting": "log_odds", {answers}}}"#)).unwrap())
                .unwrap();
        assert_eq!(rendered["weighting"], "log_odds");
    }

    #[test]
    fn similarity_governs_merging_and_meanings_are_read() {
        // Regression: merging used a fixed 0.45 whatever `similarity` said, so no
        // setting could keep two loose paraphrases apart.
        let answers = r#"[{"worker": "w1", "text": "Water boils at a lower temperature at high altitude because air pressure is lower"},
                          {"worker": "w2", "text": "At altitude the lower air pressure lets water boil at a lower temperature"}]"#;
        let strict = format!(r#"{{"strategy": "semantic", "similarity": 0.95, "answers": {answers}}}"#);
        assert_eq!(consensus_output(&strict).unwrap().groups.len(), 2);
        let config = config_for(&serde_json::from_str(&strict).unwrap(), &[]);
        assert_eq!(config.merge_min(), 0.95);
        let judged = r#"{"strategy": "semantic", "answers": [
            {"worker": "w1", "text": "Paris is the capital of France", "meaning": 1},
            {"worker": "w2", "text": "Its government sits in Paris", "meaning": 1}]}"#;
        assert_eq!(consensus_output(judged).unwrap().groups.len(), 1);
    }

    #[test]
    fn no_answers_is_no_consensus() {
        let output = consensus_output(r#"{"answers": []}"#).unwrap();
        assert_eq!(output.outcome, "no_consensus");
        assert_eq!(output.reason, Some(NoConsensusReason::NoAnswers));
    }
}
