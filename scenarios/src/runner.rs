//! Running a scenario at a seed and summarising it.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use quorum_sim::{
    ClusterError, Invariant, Mode, RunBudget, RunOutcome, RunReport, Trace, Transport, Violation, WorkerPlan,
    honest_agents, honest_workers, panic_message, run_with_budget,
};

use crate::scenario::{FailureKind, Scenario};

/// Changes the command line makes to a scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Worker count: extra workers are honest (`w{n}` with the first worker's model),
    /// fewer keeps the first ones. In P2P mode, the agent count, alike (`a{n}`).
    pub workers: Option<usize>,
    /// Task count.
    pub tasks: Option<usize>,
    /// The wire between hosts (`--transport`).
    pub transport: Option<Transport>,
}

impl Overrides {
    /// Applies the overrides.
    pub fn apply(&self, scenario: &mut Scenario) {
        if let (Some(count), Mode::P2p) = (self.workers, scenario.cluster.mode) {
            let agents = &mut scenario.cluster.p2p.agents;
            let profile = agents.first().map(|a| a.profile.clone()).unwrap_or_default();
            let existing: Vec<String> = agents.iter().map(|a| a.name.clone()).collect();
            let extra =
                honest_agents(count + existing.len(), &profile).into_iter().filter(|a| !existing.contains(&a.name));
            agents.extend(extra);
            agents.truncate(count);
        } else if let Some(count) = self.workers {
            let workers = &mut scenario.cluster.workers;
            let profile = workers.first().map(|w| w.profile.clone()).unwrap_or_default();
            if count < workers.len() {
                workers.truncate(count);
            } else {
                let existing: Vec<String> =
                    workers.iter().chain(&scenario.cluster.spares).map(|w| w.name.clone()).collect();
                let extra: Vec<WorkerPlan> = honest_workers(count + existing.len(), profile)
                    .into_iter()
                    .filter(|w| !existing.contains(&w.name))
                    .take(count - workers.len())
                    .collect();
                workers.extend(extra);
            }
        }
        if let Some(tasks) = self.tasks {
            scenario.cluster.workload.tasks = tasks;
        }
        if let Some(transport) = self.transport {
            scenario.cluster.transport = transport;
        }
    }
}

/// One scenario run, as `quorum run --json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRun {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Every invariant and expectation held.
    pub passed: bool,
    /// The trace's hash.
    pub trace_hash: String,
    /// Tasks submitted.
    pub tasks: usize,
    /// Tasks agreed.
    pub agreed: usize,
    /// Tasks without consensus.
    pub no_consensus: usize,
    /// Tasks failed.
    pub failed: usize,
    /// Share of agreed tasks answered right (`None`: nothing agreed).
    pub accuracy: Option<f64>,
    /// LLM calls in all.
    pub llm_calls: u64,
    /// LLM calls per task.
    pub llm_calls_per_task: f64,
    /// Simulated seconds.
    pub sim_seconds: f64,
    /// Wall-clock seconds (the only figure that differs between two runs of a seed).
    pub wall_seconds: f64,
    /// Broken invariants and unmet expectations, one line each.
    pub violations: Vec<String>,
    /// Why it failed, if it did.
    pub failure: Option<FailureKind>,
    /// Every number of the run.
    pub report: RunReport,
    /// The command that replays this run.
    pub replay: String,
}

/// How to name a scenario on the command line: by name, or by its file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Source {
    /// A built-in scenario.
    #[default]
    Catalogue,
    /// A TOML file at this path.
    File(String),
}

/// How a scenario was named on the command line, and every option that changed it:
/// what a replay command must repeat.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Invocation {
    /// A built-in scenario or a file.
    pub source: Source,
    /// `--workers`, `--tasks`, `--transport`.
    pub overrides: Overrides,
}

impl Invocation {
    /// A built-in scenario, unchanged.
    pub fn catalogue() -> Self {
        Self::default()
    }

    /// The command that replays `scenario` at `seed`, with every option that changed
    /// the run.
    pub fn replay(&self, scenario: &str, seed: u64) -> String {
        let mut command = match &self.source {
            Source::Catalogue => format!("quorum run {scenario} --seed {seed}"),
            Source::File(path) => format!("quorum run --file {path} --seed {seed}"),
        };
        if let Some(workers) = self.overrides.workers {
            command.push_str(&format!(" --workers {workers}"));
        }
        if let Some(tasks) = self.overrides.tasks {
            command.push_str(&format!(" --tasks {tasks}"));
        }
        if let Some(transport) = self.overrides.transport {
            command.push_str(&format!(" --transport {}", transport.name()));
        }
        command
    }
}

/// Runs `scenario` (overrides applied already) at `seed` and checks its
/// expectations. A panic anywhere in the run, not only inside the simulation, is the
/// run's failure of kind `panic`.
///
/// # Errors
/// [`ClusterError`] when the scenario's cluster cannot run.
pub fn run_scenario(
    scenario: &Scenario,
    seed: u64,
    invocation: &Invocation,
    budget: RunBudget,
) -> Result<(ScenarioRun, RunOutcome), ClusterError> {
    let started = Instant::now();
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let outcome = run_with_budget(seed, &scenario.cluster, budget)?;
        let unmet = scenario.expect.check(&outcome);
        Ok::<_, ClusterError>((outcome, unmet))
    }));
    let (outcome, unmet) = match attempt {
        Ok(result) => result?,
        Err(payload) => (panicked_outcome(seed, panic_message(payload.as_ref())), Vec::new()),
    };
    let wall_seconds = started.elapsed().as_secs_f64();
    let mut violations: Vec<String> = outcome.violations.iter().map(ToString::to_string).collect();
    violations.extend(unmet.iter().map(ToString::to_string));
    let failure = outcome
        .violations
        .iter()
        .map(|v| FailureKind::of(v.invariant))
        .min()
        .or_else(|| unmet.first().map(|u| FailureKind::Expectation(u.expectation.clone())));
    let report = outcome.report.clone();
    let summary = ScenarioRun {
        scenario: scenario.name.clone(),
        seed,
        passed: failure.is_none(),
        trace_hash: outcome.trace_hash(),
        tasks: report.tasks,
        agreed: report.agreed,
        no_consensus: report.no_consensus,
        failed: report.failed,
        accuracy: report.accuracy,
        llm_calls: report.llm_calls,
        llm_calls_per_task: report.llm_calls_per_task,
        sim_seconds: report.sim_ms as f64 / 1000.0,
        wall_seconds,
        violations,
        failure,
        replay: invocation.replay(&scenario.name, seed),
        report,
    };
    Ok((summary, outcome))
}

/// The outcome of a run that panicked outside the simulation's own steps: no trace,
/// no results, one `panic` violation.
fn panicked_outcome(seed: u64, message: String) -> RunOutcome {
    RunOutcome {
        seed,
        violations: vec![Violation { invariant: Invariant::Panic, task: None, detail: message }],
        report: RunReport::default(),
        trace: Trace::new(),
        results: std::collections::BTreeMap::new(),
        steps: 0,
        window: quorum_sim::RunWindow::default(),
    }
}

impl ScenarioRun {
    /// The run in one line: counts, accuracy, cost, time, trace hash.
    pub fn headline(&self) -> String {
        let accuracy = self.accuracy.map_or_else(|| "n/a".to_owned(), |accuracy| format!("{accuracy:.3}"));
        format!(
            "{} tasks, {} agreed, {} no consensus, {} failed, accuracy {accuracy}, {:.2} LLM calls/task, \
             latency p50 {} ms p99 {} ms, {:.1} s simulated in {:.3} s, trace {}",
            self.tasks,
            self.agreed,
            self.no_consensus,
            self.failed,
            self.llm_calls_per_task,
            self.report.latency_ms_p50,
            self.report.latency_ms_p99,
            self.sim_seconds,
            self.wall_seconds,
            self.trace_hash
        )
    }
}

/// Violations a human-readable summary lists; `--json` has them all.
pub const SUMMARY_VIOLATIONS_MAX: usize = 20;

/// A human-readable block for one run.
pub fn render_summary(run: &ScenarioRun) -> String {
    let verdict = if run.passed { "PASS" } else { "FAIL" };
    let checks = if run.passed { ", invariants and expectations held" } else { "" };
    let mut out = format!("{verdict} {} seed {}: {}{checks}\n", run.scenario, run.seed, run.headline());
    for violation in run.violations.iter().take(SUMMARY_VIOLATIONS_MAX) {
        out.push_str(&format!("  - {violation}\n"));
    }
    if run.violations.len() > SUMMARY_VIOLATIONS_MAX {
        out.push_str(&format!(
            "  - ... and {} more (all of them: --json)\n",
            run.violations.len() - SUMMARY_VIOLATIONS_MAX
        ));
    }
    if !run.passed {
        out.push_str(&format!("  replay: {}\n", run.replay));
    }
    out
}
