//! How often consensus picks the right answer, by weighting rule: a table, not a
//! timing. Run with `cargo bench -p quorum-core --bench accuracy`.
//!
//! Synthetic panels of 5, 7 and 9 workers, each worker's accuracy drawn from
//! {0.9, 0.75, 0.6, 0.55}, each panel with 2 to 4 wrong values. Half of the panels
//! have a shared misconception: a wrong worker picks the same wrong value six times in
//! ten (else any wrong value). Confidences are either calibrated (per answer,
//! `c = accuracy ± 0.09`, uniform, and the answer is right with probability `c`, so
//! the worker's accuracy is its mean confidence) or uninformative (uniform in 0..1, the
//! answer right with the worker's accuracy whatever `c` says).
//!
//! For each cell: 200 panels x 100 tasks = 20,000 tasks, the same tasks for every
//! method. Methods:
//! - `majority`: unit weights (power 1, confidence 1);
//! - `linear`, `log_odds`: the engine with the panel's confidences, power 1;
//! - `learned <rule> @N`: the engine with that rule after `VotingPowers` (default
//!   `PowerConfig`) learned over N earlier tasks of the same panel as the supervisor
//!   does (only from agreed outcomes): under linear, learned powers and the reported
//!   confidences; under log-odds, the confidence each worker's record calibrates its
//!   reported one to (power stays 1);
//! - `oracle: accuracy`: each ballot weighs ln((V - 1) p / (1 - p)), p the worker's
//!   TRUE accuracy, V the true number of candidate values: the Bayes rule for known
//!   accuracies and errors spread evenly;
//! - `oracle: conf Bayes`: the same with the answer's confidence for p (calibrated
//!   Bayes on the confidences, with the true V).
//!
//! The oracles' groups are the engine's (exact keys) and their verdict follows the
//! engine's rule (support against the adaptive threshold, margin), so coverage and
//! precision compare too. Columns: `cov` = share of tasks agreed, `prec` = share of
//! agreed tasks that are right, `top` = share of tasks whose leading group is right,
//! agreed or not. All in percent.

use std::fmt::Write as _;
use std::io::Write as _;

use quorum_core::consensus::{Ballot, ConsensusConfig, Strategy, Weighting, adaptive_threshold, decide};
use quorum_core::{PowerConfig, SeededRng, VotingPowers, WorkerId};

const ACCURACIES: [f64; 4] = [0.9, 0.75, 0.6, 0.55];
const PANELS_PER_CELL: usize = 200;
const TASKS_PER_PANEL: usize = 100;
const HISTORY_TASKS: [usize; 2] = [50, 200];
const CALIBRATION_NOISE: f64 = 0.09;
const MISCONCEPTION_SHARE: f64 = 0.6;
const SEED: u64 = 2026;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Confidences {
    Calibrated,
    Uninformative,
}

struct Panel {
    accuracies: Vec<f64>,
    wrong_values: usize,
    misconception: bool,
    confidences: Confidences,
}

/// One task's answers: value 0 is the truth, 1..=wrong_values are wrong.
struct Task {
    values: Vec<usize>,
    confidences: Vec<f64>,
}

impl Panel {
    fn draw(rng: &mut SeededRng, size: usize, misconception: bool, confidences: Confidences) -> Self {
        let accuracies = (0..size).map(|_| ACCURACIES[rng.index(ACCURACIES.len())]).collect();
        let wrong_values = 2 + rng.index(3);
        Self { accuracies, wrong_values, misconception, confidences }
    }

    fn task(&self, rng: &mut SeededRng) -> Task {
        let mut values = Vec::with_capacity(self.accuracies.len());
        let mut confidences = Vec::with_capacity(self.accuracies.len());
        for &accuracy in &self.accuracies {
            let (confidence, right_chance) = match self.confidences {
                Confidences::Calibrated => {
                    let c = accuracy + CALIBRATION_NOISE * (2.0 * rng.next_f64() - 1.0);
                    (c, c)
                }
                Confidences::Uninformative => (rng.next_f64(), accuracy),
            };
            let value = if rng.chance(right_chance) {
                0
            } else if self.misconception && rng.chance(MISCONCEPTION_SHARE) {
                1
            } else {
                1 + rng.index(self.wrong_values)
            };
            values.push(value);
            confidences.push(confidence);
        }
        Task { values, confidences }
    }
}

fn worker(index: usize) -> WorkerId {
    WorkerId::new(format!("w{index}"))
}

fn ballots(task: &Task, powers: &[f64], use_confidence: bool) -> Vec<Ballot> {
    task.values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let confidence = if use_confidence { task.confidences[i] } else { 1.0 };
            Ballot::new(worker(i), format!("v{value}")).confidence(confidence).power(powers[i])
        })
        .collect()
}

/// Agreed, and whether the leading group holds the truth.
#[derive(Clone, Copy)]
struct Outcome {
    agreed: bool,
    top_right: bool,
}

fn engine(task: &Task, powers: &[f64], use_confidence: bool, config: &ConsensusConfig) -> Outcome {
    let decision = decide(&ballots(task, powers, use_confidence), config).expect("valid ballots");
    let top_right = decision.leader().is_some_and(|g| g.representative == "v0");
    Outcome { agreed: decision.is_agreed(), top_right }
}

/// The engine's verdict rule over the oracle's weights, on the engine's groups
/// (exact values), ranked by weight, then size, then smallest member.
fn oracle(task: &Task, weights: &[f64], config: &ConsensusConfig) -> Outcome {
    let mut groups: Vec<(usize, f64, usize, usize)> = Vec::new(); // value, weight, size, first member
    for (i, (&value, &weight)) in task.values.iter().zip(weights).enumerate() {
        match groups.iter_mut().find(|g| g.0 == value) {
            Some(group) => {
                group.1 += weight.max(0.0);
                group.2 += 1;
            }
            None => groups.push((value, weight.max(0.0), 1, i)),
        }
    }
    groups.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.cmp(&a.2)).then(a.3.cmp(&b.3)));
    let total: f64 = groups.iter().map(|g| g.1).sum();
    let support = |index: usize| groups.get(index).map_or(0.0, |g| g.1 / total);
    let threshold = adaptive_threshold(config, task.values.len(), groups.len(), 0.0);
    let agreed = support(0) >= threshold && support(0) - support(1) >= config.margin_min;
    Outcome { agreed, top_right: groups[0].0 == 0 }
}

fn bayes_weight(probability: f64, values: usize) -> f64 {
    let p = probability.clamp(0.01, 0.99);
    ((values - 1) as f64 * p / (1.0 - p)).ln()
}

/// The ballots of `task` as the supervisor builds them: each worker's learned power,
/// and the confidence its record gives the one it reported.
fn learned_ballots(task: &Task, powers: &VotingPowers) -> Vec<Ballot> {
    task.values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let id = worker(i);
            Ballot::new(id.clone(), format!("v{value}"))
                .confidence(powers.confidence(&id, task.confidences[i]))
                .power(powers.power(&id))
        })
        .collect()
}

/// What the workers' records say after each of `HISTORY_TASKS` tasks of this panel,
/// learned under `rule` as the supervisor learns: from agreed outcomes only, each
/// worker's reported confidence recorded with its agreement.
fn learned_powers(panel: &Panel, rule: Weighting, rng: &mut SeededRng) -> Vec<VotingPowers> {
    let config = ConsensusConfig { weighting: rule, ..ConsensusConfig::default() };
    let mut powers = VotingPowers::new(PowerConfig::default(), rule);
    let workers: Vec<WorkerId> = (0..panel.accuracies.len()).map(worker).collect();
    let mut snapshots = Vec::new();
    for done in 1..=HISTORY_TASKS[HISTORY_TASKS.len() - 1] {
        let task = panel.task(rng);
        let decision = decide(&learned_ballots(&task, &powers), &config).expect("valid ballots");
        if decision.is_agreed() {
            let winners = &decision.groups[0].members;
            for (i, w) in workers.iter().enumerate() {
                powers.record(w, winners.contains(w), task.confidences[i]);
            }
        }
        if HISTORY_TASKS.contains(&done) {
            snapshots.push(powers.clone());
        }
    }
    snapshots
}

fn learned(task: &Task, powers: &VotingPowers) -> Outcome {
    let config = ConsensusConfig { weighting: powers.weighting(), ..ConsensusConfig::default() };
    let decision = decide(&learned_ballots(task, powers), &config).expect("valid ballots");
    let top_right = decision.leader().is_some_and(|g| g.representative == "v0");
    Outcome { agreed: decision.is_agreed(), top_right }
}

#[derive(Clone, Copy, Default)]
struct Score {
    tasks: u64,
    agreed: u64,
    agreed_right: u64,
    top_right: u64,
}

impl Score {
    fn add(&mut self, outcome: Outcome) {
        self.tasks += 1;
        self.agreed += u64::from(outcome.agreed);
        self.agreed_right += u64::from(outcome.agreed && outcome.top_right);
        self.top_right += u64::from(outcome.top_right);
    }

    fn coverage(self) -> f64 {
        100.0 * self.agreed as f64 / self.tasks as f64
    }

    fn precision(self) -> f64 {
        100.0 * self.agreed_right as f64 / self.agreed.max(1) as f64
    }

    fn top(self) -> f64 {
        100.0 * self.top_right as f64 / self.tasks as f64
    }
}

const METHODS: [&str; 9] = [
    "majority",
    "linear",
    "log_odds",
    "learned linear @50",
    "learned linear @200",
    "learned log_odds @50",
    "learned log_odds @200",
    "oracle: accuracy",
    "oracle: conf Bayes",
];

fn run_cell(size: usize, misconception: bool, confidences: Confidences) -> [Score; METHODS.len()] {
    let stream = format!("{size}/{misconception}/{}", confidences == Confidences::Calibrated);
    let mut rng = SeededRng::derive(SEED, &stream);
    let linear = ConsensusConfig { strategy: Strategy::Exact, ..ConsensusConfig::default() };
    let log_odds = ConsensusConfig { weighting: Weighting::LogOdds, ..linear.clone() };
    let unit = vec![1.0; size];
    let mut scores = [Score::default(); METHODS.len()];
    for _ in 0..PANELS_PER_CELL {
        let panel = Panel::draw(&mut rng, size, misconception, confidences);
        let learned_linear = learned_powers(&panel, Weighting::Linear, &mut rng);
        let learned_log_odds = learned_powers(&panel, Weighting::LogOdds, &mut rng);
        let values = panel.wrong_values + 1;
        let accuracy_weights: Vec<f64> = panel.accuracies.iter().map(|&p| bayes_weight(p, values)).collect();
        for _ in 0..TASKS_PER_PANEL {
            let task = panel.task(&mut rng);
            let confidence_weights: Vec<f64> = task.confidences.iter().map(|&c| bayes_weight(c, values)).collect();
            let outcomes = [
                engine(&task, &unit, false, &linear),
                engine(&task, &unit, true, &linear),
                engine(&task, &unit, true, &log_odds),
                learned(&task, &learned_linear[0]),
                learned(&task, &learned_linear[1]),
                learned(&task, &learned_log_odds[0]),
                learned(&task, &learned_log_odds[1]),
                oracle(&task, &accuracy_weights, &linear),
                oracle(&task, &confidence_weights, &linear),
            ];
            for (score, outcome) in scores.iter_mut().zip(outcomes) {
                score.add(outcome);
            }
        }
    }
    scores
}

fn main() {
    // `cargo bench` passes `--bench`; a filter or `--list` from the harness means
    // nothing here.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let sizes = [5usize, 7, 9];
    let mut report = String::new();
    let mut checks = String::new();
    for confidences in [Confidences::Calibrated, Confidences::Uninformative] {
        for misconception in [false, true] {
            let title = format!(
                "{} confidences, {}",
                if confidences == Confidences::Calibrated { "calibrated" } else { "uninformative" },
                if misconception { "shared misconception" } else { "errors spread evenly" }
            );
            let cells: Vec<[Score; METHODS.len()]> =
                sizes.iter().map(|&size| run_cell(size, misconception, confidences)).collect();
            writeln!(report, "\n{title} ({} tasks per cell)", PANELS_PER_CELL * TASKS_PER_PANEL).unwrap();
            write!(report, "{:<22}", "method").unwrap();
            for size in sizes {
                write!(report, " | {size} workers: cov  prec   top").unwrap();
            }
            writeln!(report).unwrap();
            for (m, method) in METHODS.iter().enumerate() {
                write!(report, "{method:<22}").unwrap();
                for cell in &cells {
                    let s = cell[m];
                    write!(report, " |      {:5.1} {:5.1} {:5.1}", s.coverage(), s.precision(), s.top()).unwrap();
                }
                writeln!(report).unwrap();
            }
            for (size, cell) in sizes.iter().zip(&cells) {
                let top = |name: &str| cell[METHODS.iter().position(|m| *m == name).unwrap()].top();
                let line = match confidences {
                    Confidences::Calibrated => format!(
                        "log_odds - conf Bayes {:+.2}; learned log_odds @200 - accuracy oracle {:+.2}",
                        top("log_odds") - top("oracle: conf Bayes"),
                        top("learned log_odds @200") - top("oracle: accuracy"),
                    ),
                    Confidences::Uninformative => format!(
                        "log_odds - majority {:+.2}; learned log_odds @200 - majority {:+.2}; \
                         learned log_odds @200 - accuracy oracle {:+.2}",
                        top("log_odds") - top("majority"),
                        top("learned log_odds @200") - top("majority"),
                        top("learned log_odds @200") - top("oracle: accuracy"),
                    ),
                };
                writeln!(checks, "{title}, {size} workers: {line} (top, points)").unwrap();
            }
        }
    }
    // The table is the whole output: written at once, after every cell has run.
    let mut out = std::io::stdout().lock();
    writeln!(out, "{report}\nTargets (issue 8):\n{checks}").expect("stdout is writable");
}
