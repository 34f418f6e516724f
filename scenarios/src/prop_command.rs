//! `quorum prop`: the consensus engine's properties under a user's own consensus config,
//! each failure shrunk to a `quorum consensus` input that reproduces it.

use serde::Serialize;

use quorum_core::consensus::{Ballot, ConsensusConfig, Strategy};
use quorum_core::prop::{PropertyOutcome, check_properties};

/// Largest config file accepted, in bytes.
pub const PROP_CONFIG_BYTES_MAX: usize = 64 * 1024;

/// What can be wrong with a `quorum prop` invocation.
#[derive(Debug, thiserror::Error)]
pub enum PropCommandError {
    /// The config file is not a consensus config.
    #[error("{0}")]
    Malformed(String),
    /// A value out of range.
    #[error(transparent)]
    Invalid(#[from] quorum_core::ConfigError),
    /// No cases asked for.
    #[error("--cases 0: need at least 1")]
    NoCases,
}

/// The properties' outcomes under each config checked.
#[derive(Clone, Debug, Serialize)]
pub struct PropReport {
    /// The seed every property's cases came from.
    pub seed: u64,
    /// Cases per property.
    pub cases: u32,
    /// One entry per config.
    pub configs: Vec<ConfigOutcome>,
}

/// The properties under one config.
#[derive(Clone, Debug, Serialize)]
pub struct ConfigOutcome {
    /// The config.
    pub config: ConsensusConfig,
    /// One entry per property.
    pub properties: Vec<PropertyResult>,
}

/// One property's result, ready to print.
#[derive(Clone, Debug, Serialize)]
pub struct PropertyResult {
    /// Its name.
    pub name: &'static str,
    /// What must hold.
    pub statement: &'static str,
    /// Whether it held over every case.
    pub passed: bool,
    /// What went wrong, shrunk.
    pub failure: Option<String>,
    /// `quorum consensus` inputs that reproduce the failure.
    pub reproduce: Vec<serde_json::Value>,
}

impl PropReport {
    /// Whether every property held under every config.
    pub fn passed(&self) -> bool {
        self.configs.iter().all(|c| c.properties.iter().all(|p| p.passed))
    }

    /// The report as text: one line per property, and each failure's inputs as JSON.
    pub fn render(&self) -> String {
        let mut text = String::new();
        for outcome in &self.configs {
            text.push_str(&format!(
                "config: strategy {}, threshold {}, margin_min {}, similarity {}, tolerance {} + {} relative\n",
                outcome.config.strategy.as_str(),
                outcome.config.threshold,
                outcome.config.margin_min,
                outcome.config.similarity_join_min,
                outcome.config.tolerance_absolute,
                outcome.config.tolerance_relative,
            ));
            for property in &outcome.properties {
                if property.passed {
                    text.push_str(&format!("  ok    {:<28} {}\n", property.name, property.statement));
                    continue;
                }
                text.push_str(&format!("  FAIL  {:<28} {}\n", property.name, property.statement));
                text.push_str(&format!("        {}\n", property.failure.as_deref().unwrap_or_default()));
                for (index, input) in property.reproduce.iter().enumerate() {
                    let json = serde_json::to_string_pretty(input).unwrap_or_default();
                    text.push_str(&format!(
                        "        input {} of {} (save as a file, then `quorum consensus FILE`):\n{}\n",
                        index + 1,
                        property.reproduce.len(),
                        indent(&json, "        ")
                    ));
                }
            }
        }
        let failed: usize = self.configs.iter().map(|c| c.properties.iter().filter(|p| !p.passed).count()).sum();
        text.push_str(&format!(
            "{} properties x {} configs, {} cases each, seed {}: {}\n",
            self.configs.first().map_or(0, |c| c.properties.len()),
            self.configs.len(),
            self.cases,
            self.seed,
            if failed == 0 { "all hold".to_owned() } else { format!("{failed} failed") }
        ));
        text
    }
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines().map(|line| format!("{prefix}{line}")).collect::<Vec<_>>().join("\n")
}

/// Parses a consensus config: TOML, or JSON when the text starts with `{`; the same
/// keys as a scenario file's `[supervisor.consensus]`.
///
/// # Errors
/// [`PropCommandError`] naming the line and field.
pub fn parse_consensus_config(text: &str) -> Result<ConsensusConfig, PropCommandError> {
    if text.len() > PROP_CONFIG_BYTES_MAX {
        return Err(PropCommandError::Malformed(format!(
            "config is {} bytes; at most {PROP_CONFIG_BYTES_MAX} are accepted",
            text.len()
        )));
    }
    let config: ConsensusConfig = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| PropCommandError::Malformed(e.to_string()))?
    } else {
        toml::from_str(text).map_err(|e| PropCommandError::Malformed(e.to_string()))?
    };
    config.validate()?;
    Ok(config)
}

/// Checks every property under `config` (or, without one, under the default config of
/// each strategy), `cases` cases each, from `seed`.
///
/// # Errors
/// [`PropCommandError`] for an invalid config or no cases.
pub fn run_prop(config: Option<ConsensusConfig>, cases: u32, seed: u64) -> Result<PropReport, PropCommandError> {
    if cases == 0 {
        return Err(PropCommandError::NoCases);
    }
    let configs = match config {
        Some(config) => vec![config],
        None => [Strategy::Exact, Strategy::Numeric, Strategy::Semantic]
            .into_iter()
            .map(|strategy| ConsensusConfig::default().with_strategy(strategy))
            .collect(),
    };
    let mut outcomes = Vec::with_capacity(configs.len());
    for config in configs {
        let properties =
            check_properties(&config, cases, seed)?.into_iter().map(|outcome| result(outcome, &config)).collect();
        outcomes.push(ConfigOutcome { config, properties });
    }
    Ok(PropReport { seed, cases, configs: outcomes })
}

fn result(outcome: PropertyOutcome, config: &ConsensusConfig) -> PropertyResult {
    let (failure, reproduce) = match outcome.counterexample {
        None => (None, Vec::new()),
        Some(found) => {
            (Some(found.message), found.inputs.iter().map(|ballots| consensus_input(config, ballots)).collect())
        }
    };
    PropertyResult { name: outcome.name, statement: outcome.statement, passed: failure.is_none(), failure, reproduce }
}

/// A `quorum consensus` input: the whole config and the ballots.
pub fn consensus_input(config: &ConsensusConfig, ballots: &[Ballot]) -> serde_json::Value {
    let answers: Vec<serde_json::Value> = ballots
        .iter()
        .map(|b| serde_json::json!({"worker": b.worker, "text": b.text, "confidence": b.confidence, "power": b.power}))
        .collect();
    serde_json::json!({"config": config, "answers": answers})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus_output;

    #[test]
    fn a_failing_property_prints_inputs_that_quorum_consensus_reproduces() {
        let config =
            parse_consensus_config("strategy = \"semantic\"\nsimilarity_join_min = 1.0\nsimilarity_merge_min = 1.0\n")
                .unwrap();
        let report = run_prop(Some(config), 128, 5).unwrap();
        assert!(!report.passed());
        let failed = report.configs[0].properties.iter().find(|p| !p.passed).unwrap();
        assert_eq!(failed.name, "honest_majority_decides");
        let input = failed.reproduce[0].to_string();
        let output = consensus_output(&input).unwrap();
        assert_eq!(output.outcome, "no_consensus", "the printed input reproduces the failure");
        let text = report.render();
        assert!(text.contains("FAIL  honest_majority_decides"), "{text}");
        assert!(text.contains("quorum consensus FILE"), "{text}");
    }

    #[test]
    fn the_default_configs_hold_every_property() {
        let report = run_prop(None, 64, 11).unwrap();
        assert_eq!(report.configs.len(), 3);
        assert!(report.passed(), "{}", report.render());
    }

    #[test]
    fn bad_configs_and_cases_are_named() {
        let cases = [
            ("threshold = 3.0", "consensus.threshold"),
            ("colour = 1", "unknown field `colour`"),
            ("strategy = \"vibes\"", "unknown variant `vibes`"),
            ("{\"threshold\": -1}", "consensus.threshold"),
        ];
        for (text, expected) in cases {
            let error = parse_consensus_config(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
        assert!(run_prop(None, 0, 1).unwrap_err().to_string().contains("--cases 0"));
    }
}
