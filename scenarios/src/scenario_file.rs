//! Scenarios written by users, in TOML, with the power of the built-in ones.
//!
//! ```toml
//! name = "slow-partition"
//! description = "the supervisor loses three workers while models are slow"
//! workers = 5                      # shorthand: w1..w5, all with `profile`
//!
//! [profile]                        # the model of the shorthand workers
//! accuracy = 0.9
//! latency = { base_ms = 2000, jitter_ms = 500 }
//!
//! [cluster]                        # anything of quorum_sim::ClusterConfig
//! fault_phase_ms = 30000
//! workload = { tasks = 30, arrival = { pattern = "bursts", size = 10, gap_ms = 3000 } }
//!
//! [[cluster.faults.faults]]
//! at_ms = 2000
//! duration_ms = 20000
//! kind = "partition"
//! left = ["supervisor"]
//! right = ["w1", "w2", "w3"]
//!
//! [expect]
//! failed_max = 0
//! accuracy_min = 0.8
//! ```

use serde::{Deserialize, Serialize};

use quorum_sim::{ClusterConfig, LlmProfile, honest_workers};

use crate::scenario::{Expectations, Scenario};

/// Largest scenario file accepted.
pub const SCENARIO_FILE_BYTES_MAX: usize = 1024 * 1024;

/// The file format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Short name.
    pub name: String,
    /// One line.
    #[serde(default)]
    pub description: String,
    /// Shorthand: this many honest workers `w1..`, with `profile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<usize>,
    /// The model of the shorthand workers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<LlmProfile>,
    /// The cluster (every field optional).
    #[serde(default)]
    pub cluster: ClusterConfig,
    /// The expectations (every field optional).
    #[serde(default)]
    pub expect: Expectations,
}

/// A scenario file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioFileError {
    /// Larger than [`SCENARIO_FILE_BYTES_MAX`].
    #[error("{bytes} bytes; at most {SCENARIO_FILE_BYTES_MAX} are accepted")]
    TooLarge {
        /// Its size.
        bytes: usize,
    },
    /// Not TOML, or a field of the wrong name or type (the message names the line,
    /// column and field).
    #[error("{0}")]
    Syntax(String),
    /// Well-formed, but a value cannot work.
    #[error("line {line}: {message}")]
    Invalid {
        /// The line of the offending field (1-based), or 0 when it is not written.
        line: usize,
        /// What is wrong, naming the field.
        message: String,
    },
}

/// Parses a scenario file.
///
/// # Errors
/// [`ScenarioFileError`] naming the line and field.
pub fn parse_scenario(text: &str) -> Result<Scenario, ScenarioFileError> {
    if text.len() > SCENARIO_FILE_BYTES_MAX {
        return Err(ScenarioFileError::TooLarge { bytes: text.len() });
    }
    let file: ScenarioFile =
        toml::from_str(text).map_err(|error| ScenarioFileError::Syntax(error.to_string().trim_end().to_owned()))?;
    let mut cluster = file.cluster;
    if let Some(count) = file.workers {
        cluster.workers = honest_workers(count, file.profile.unwrap_or_default());
    }
    if file.name.trim().is_empty() {
        return Err(ScenarioFileError::Invalid { line: line_of(text, "name"), message: "name is empty".to_owned() });
    }
    cluster.validate().map_err(|error| {
        let message = error.to_string();
        ScenarioFileError::Invalid { line: locate(text, &message), message }
    })?;
    file.expect.validate().map_err(|(field, reason)| {
        let message = format!("{field}: {reason}");
        ScenarioFileError::Invalid { line: locate(text, &message), message }
    })?;
    Ok(Scenario { name: file.name, description: file.description, cluster, expect: file.expect })
}

/// Writes a scenario as a file that [`parse_scenario`] reads back to the same
/// scenario (workers written out in full).
pub fn to_toml(scenario: &Scenario) -> String {
    let file = ScenarioFile {
        name: scenario.name.clone(),
        description: scenario.description.clone(),
        workers: None,
        profile: None,
        cluster: scenario.cluster.clone(),
        expect: scenario.expect.clone(),
    };
    toml::to_string(&file).expect("scenarios serialise")
}

/// The line of the field a validation message names: the key's line inside the
/// `[[cluster.faults.faults]]` table it indexes, else the line of the value it quotes
/// (the last one, for a duplicate), else the key's first assignment; 0 when the field
/// is not written in the file (a default, or a shorthand such as `workers = 1`).
fn locate(text: &str, message: &str) -> usize {
    let key = field_key(message);
    let path = message.split([' ', ':']).next().unwrap_or_default();
    if let Some(index) = table_index(path, "faults.faults[") {
        let header = "[[cluster.faults.faults]]";
        if let Some(start) = text.lines().enumerate().filter(|(_, l)| l.trim() == header).nth(index).map(|(i, _)| i) {
            let table: String = text.lines().skip(start).collect::<Vec<_>>().join("\n");
            let within = line_of(&table, key);
            return if within == 0 { start + 1 } else { start + within };
        }
    }
    if let Some(quoted) = message.split('"').nth(1).filter(|q| !q.is_empty()) {
        let needle = format!("\"{quoted}\"");
        if let Some(index) = text.lines().collect::<Vec<_>>().iter().rposition(|line| line.contains(&needle)) {
            return index + 1;
        }
    }
    line_of(text, key)
}

/// `N` of `...{prefix}N]...` in a field path.
fn table_index(path: &str, prefix: &str) -> Option<usize> {
    let rest = &path[path.find(prefix)? + prefix.len()..];
    rest[..rest.find(']')?].parse().ok()
}

/// The last key of a dotted field path at the start of a validation message
/// (`consensus.threshold = 2: ...` gives `threshold`).
fn field_key(message: &str) -> &str {
    let path = message.split([' ', ':']).next().unwrap_or_default();
    let key = path.rsplit('.').next().unwrap_or(path);
    key.split('[').next().unwrap_or(key)
}

/// The first line (1-based) where `key` is assigned, or 0.
fn line_of(text: &str, key: &str) -> usize {
    if key.is_empty() {
        return 0;
    }
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            line.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('='))
                || line.contains(&format!(" {key} ="))
                || line.contains(&format!("{{ {key} ="))
        })
        .map_or(0, |index| index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::catalogue;

    const EXAMPLE: &str = r#"
name = "slow-partition"
description = "the supervisor loses three workers while models are slow"
workers = 5

[profile]
accuracy = 0.9
latency = { base_ms = 2000, jitter_ms = 500 }

[cluster]
fault_phase_ms = 30000
workload = { tasks = 30, arrival = { pattern = "bursts", size = 10, gap_ms = 3000 } }

[[cluster.faults.faults]]
at_ms = 2000
duration_ms = 20000
kind = "partition"
left = ["supervisor"]
right = ["w1", "w2", "w3"]

[expect]
failed_max = 0
accuracy_min = 0.8
"#;

    #[test]
    fn the_documented_example_parses() {
        let scenario = parse_scenario(EXAMPLE).unwrap();
        assert_eq!(scenario.name, "slow-partition");
        assert_eq!(scenario.cluster.workers.len(), 5);
        assert_eq!(scenario.cluster.workers[0].profile.latency.base_ms, 2000);
        assert_eq!(scenario.cluster.workload.tasks, 30);
        assert_eq!(scenario.cluster.faults.faults.len(), 1);
        assert_eq!(scenario.expect.accuracy_min, Some(0.8));
    }

    #[test]
    fn messy_styles_contradictions_and_hard_questions_are_read_from_a_file() {
        let text = "name = \"hard\"\nworkers = 3\n[profile]\nstyle = \"messy\"\nmistakes = \"contradictions\"\n\
                    [cluster]\nworkload = { questions = \"hard\" }\n";
        let scenario = parse_scenario(text).unwrap();
        let profile = &scenario.cluster.workers[2].profile;
        assert_eq!(profile.style, quorum_sim::AnswerStyle::Messy);
        assert_eq!(profile.mistakes, quorum_sim::MistakeStyle::Contradictions);
        assert_eq!(scenario.cluster.workload.questions, quorum_core::mock::workload::QuestionBank::Hard);
        // Left out, they are the mock as it always was.
        let plain = parse_scenario("name = \"plain\"\nworkers = 3\n").unwrap();
        assert_eq!(plain.cluster.workers[0].profile.mistakes, quorum_sim::MistakeStyle::Plain);
        assert_eq!(plain.cluster.workload.questions, quorum_core::mock::workload::QuestionBank::Classic);
    }

    #[test]
    fn weighting_and_power_prior_are_honoured() {
        let text = "name = \"x\"\nworkers = 3\n[cluster.supervisor.consensus]\nweighting = \"log_odds\"\n\
                    [cluster.supervisor.power]\nprior_strength = 40\nprior_mean = 0.8\n";
        let scenario = parse_scenario(text).unwrap();
        let supervisor = &scenario.cluster.supervisor;
        assert_eq!(supervisor.consensus.weighting, quorum_core::consensus::Weighting::LogOdds);
        assert_eq!(supervisor.power.prior_strength, 40.0);
        assert_eq!(supervisor.power.prior_mean, 0.8);
        let default = parse_scenario("name = \"x\"\nworkers = 3\n").unwrap();
        assert_eq!(default.cluster.supervisor.consensus.weighting, quorum_core::consensus::Weighting::Linear);
    }

    #[test]
    fn every_built_in_scenario_round_trips_through_toml() {
        for scenario in catalogue() {
            let text = to_toml(&scenario);
            let back = parse_scenario(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", scenario.name));
            assert_eq!(back, scenario, "{}", scenario.name);
        }
    }

    #[test]
    fn bad_files_name_the_line_and_the_field() {
        let cases = [
            ("name = \"x\"\nworkers = 3\nbogus = 1\n", ["line 3", "bogus"]),
            ("name = \"x\"\n[cluster]\ntick_ms = \"fast\"\n", ["line 3", "tick_ms"]),
            ("name = \"x\"\n[cluster.supervisor.consensus]\nthreshold = 2.0\n", ["line 3", "threshold"]),
            (
                "name = \"x\"\n[[cluster.faults.faults]]\nat_ms = 1\nduration_ms = 1\nkind = \"meteor\"\n",
                ["line", "meteor"],
            ),
            (
                "name = \"x\"\n[[cluster.faults.faults]]\nat_ms = 1\nduration_ms = 1\nkind = \"crash\"\nhots = \"w1\"\n",
                ["line", "hots"],
            ),
            ("name = \"x\"\nworkers = 0\n", ["workers", "at least one"]),
            ("name = \"x\"\n[expect]\naccuracy_minimum = 1\n", ["line 3", "accuracy_minimum"]),
            ("name = \"x\"\n[profile]\nstyle = \"sloppy\"\n", ["line 3", "messy"]),
            ("name = \"x\"\n[profile]\nmistakes = \"lies\"\n", ["line 3", "contradictions"]),
            ("name = \"x\"\n[profile]\nmistake = \"plain\"\n", ["line 3", "mistake"]),
            ("name = \"x\"\n[cluster]\nworkload = { questions = \"impossible\" }\n", ["line 3", "hard"]),
            (
                "name = \"x\"\n[cluster.supervisor.consensus]\nweighting = \"bayes\"\n",
                ["line 3", "weighting = \"bayes\""],
            ),
            ("name = \"x\"\n[cluster.supervisor.power]\nreward = 1.1\n", ["line 3", "reward"]),
            ("name = \"x\"\n[cluster.supervisor.power]\nprior_mean = 0.4\n", ["line 3", "prior_mean"]),
        ];
        for (text, expected) in cases {
            let error = parse_scenario(text).unwrap_err().to_string();
            for part in expected {
                assert!(error.contains(part), "{text:?}: {error}");
            }
        }
    }
}

#[cfg(test)]
mod readme_tests {
    use super::*;

    #[test]
    fn the_readme_example_parses_and_runs() {
        // The README documents the format; this keeps the document true.
        let readme = include_str!("../../README.md");
        let start = readme.find("```toml\n").expect("README has a TOML example") + "```toml\n".len();
        let end = start + readme[start..].find("```").unwrap();
        let scenario = parse_scenario(&readme[start..end]).unwrap_or_else(|e| panic!("README example: {e}"));
        assert_eq!(scenario.name, "slow-partition");
        assert_eq!(scenario.cluster.workers.len(), 5);
        assert!(scenario.cluster.faults.swarm.is_some());
        assert_eq!(scenario.cluster.supervisor.attempts_max, 3);
    }

    #[test]
    fn the_readme_p2p_example_parses_and_runs() {
        let readme = include_str!("../../README.md");
        let start = readme.find("```toml\nname = \"my-p2p\"").expect("README has a P2P example") + "```toml\n".len();
        let end = start + readme[start..].find("```").unwrap();
        let scenario = parse_scenario(&readme[start..end]).unwrap_or_else(|e| panic!("README P2P example: {e}"));
        let agents = &scenario.cluster.p2p.agents;
        assert_eq!(scenario.cluster.mode, quorum_sim::Mode::P2p);
        assert_eq!(agents[1].behaviour, quorum_sim::AgentBehaviour::Equivocating);
        assert_eq!(agents[2].profile.planner.delegate_probability, 0.5);
        assert!(agents[3].twin);
        let outcome = quorum_sim::run(1, &scenario.cluster).unwrap();
        assert!(outcome.passed(), "{:?}", outcome.violations);
    }
}
