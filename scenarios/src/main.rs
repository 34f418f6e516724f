//! The `quorum` command: a thin clap wrapper around quorum-scenarios.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use quorum_scenarios::{
    Invocation, Overrides, ProgressLabels, Scenario, Source, SweepPlan, SweepSummary, catalogue, find, merge, minimize,
    missing_shards, parse_scenario, progress_printer, render_report, render_summary, run_scenario, sweep, to_toml,
};
use quorum_sim::{Mode, RunBudget, Transport};

/// Exit code when a run broke an invariant or missed an expectation.
const EXIT_FAILED: u8 = 1;
/// Exit code for input the tool refuses (bad file, flag or name).
const EXIT_BAD_INPUT: u8 = 2;
/// Default wall-clock budget of one run: normal runs take well under a second.
const RUN_SECONDS_MAX_DEFAULT: u64 = 120;
/// Largest sweep summary `quorum merge` reads.
const SUMMARY_BYTES_MAX: usize = 64 * 1024 * 1024;

fn budget(run_seconds_max: u64) -> Result<RunBudget, BadInput> {
    if run_seconds_max == 0 || run_seconds_max > 86_400 {
        return Err(bad(anyhow::anyhow!("--run-seconds-max {run_seconds_max}: must be in 1..=86400")));
    }
    Ok(RunBudget { wall_ms_max: run_seconds_max * 1_000, ..RunBudget::default() })
}

/// quorum: multi-agent LLM consensus and its deterministic simulation harness.
#[derive(Debug, Parser)]
#[command(name = "quorum", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the built-in scenarios.
    List {
        /// One JSON object per scenario.
        #[arg(long)]
        json: bool,
    },
    /// Run scenarios in simulation and check every invariant and expectation.
    Run(RunArgs),
    /// Run many seeds and report every failing one with its replay command.
    Sweep {
        /// A scenario name, or `all` (not needed with --file).
        name: Option<String>,
        /// Seeds `A..B` (B excluded) or `A..=B`.
        #[arg(long)]
        seeds: String,
        /// Seeds run in parallel (each seed is still one deterministic thread).
        #[arg(long)]
        jobs: Option<usize>,
        /// `I/N`: run the I-th of N shards of the seeds (1-based), to split a sweep.
        #[arg(long)]
        shard: Option<String>,
        /// Run every seed twice and compare the trace hashes.
        #[arg(long)]
        check_determinism: bool,
        /// A scenario file (TOML) instead of a built-in scenario.
        #[arg(long)]
        file: Option<PathBuf>,
        /// One JSON summary (`quorum merge` combines those of several shards).
        #[arg(long)]
        json: bool,
        /// Wall-clock seconds one run may take before it fails as `stuck`.
        #[arg(long, default_value_t = RUN_SECONDS_MAX_DEFAULT)]
        run_seconds_max: u64,
        /// The wire between simulated hosts: `frames` or `grpc` (see `run`).
        #[arg(long)]
        transport: Option<Transport>,
    },
    /// Merge the `--json` summaries of the shards of one sweep into one summary.
    Merge {
        /// The shards' summaries (`quorum sweep ... --shard I/N --json > FILE`).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// One JSON summary.
        #[arg(long)]
        json: bool,
    },
    /// Shrink a failing seed's faults and workload; print the smallest reproduction as TOML.
    Minimize {
        /// A scenario name (not needed with --file).
        name: Option<String>,
        /// The failing seed.
        #[arg(long)]
        seed: u64,
        /// A scenario file (TOML) instead of a built-in scenario.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Wall-clock seconds one run may take before it fails as `stuck`.
        #[arg(long, default_value_t = RUN_SECONDS_MAX_DEFAULT)]
        run_seconds_max: u64,
    },
    /// Run the consensus engine on one set of answers (JSON) and print the decision.
    Consensus {
        /// The input file, or `-` for standard input.
        file: PathBuf,
    },
    /// Serve a supervisor for clients and workers (real mode; token from QUORUM_TOKEN).
    Supervisor(quorum_scenarios::SupervisorArgs),
    /// Serve a worker and join a supervisor (real mode; token from QUORUM_TOKEN).
    Worker(quorum_scenarios::WorkerArgs),
    /// A supervisor and N worker processes on this machine (or, with --p2p, N P2P
    /// agents), until Ctrl-C or SIGTERM.
    Up(quorum_scenarios::UpArgs),
    /// Serve a P2P agent among its peers (real mode; token from QUORUM_TOKEN).
    Agent(quorum_scenarios::AgentArgs),
    /// Submit a task to a supervisor; print its events and result.
    Submit(quorum_scenarios::SubmitArgs),
    /// Whether a supervisor serves, with its workers and tasks (exit 0 when serving).
    Status(quorum_scenarios::StatusArgs),
    /// Check the consensus engine's properties under your consensus config; print each
    /// failure shrunk to an input `quorum consensus` reproduces.
    Prop {
        /// A consensus config (TOML, or JSON), with the keys of a scenario file's
        /// `[supervisor.consensus]`. Default: the default config of each strategy.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Generated cases per property.
        #[arg(long, default_value_t = 1_000)]
        cases: u32,
        /// Seed of the generated cases: the same seed checks the same cases.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// One JSON report.
        #[arg(long)]
        json: bool,
    },
}

/// `quorum run`: in simulation, or live.
#[derive(Debug, clap::Args)]
struct RunArgs {
    /// A scenario name, or `all` (not needed with --file).
    name: Option<String>,
    /// The seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker count (extra workers are honest).
    #[arg(long)]
    workers: Option<usize>,
    /// Task count.
    #[arg(long)]
    tasks: Option<usize>,
    /// A scenario file (TOML) instead of a built-in scenario.
    #[arg(long)]
    file: Option<PathBuf>,
    /// Write the trace as JSON lines.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Write a self-contained HTML report.
    #[arg(long)]
    report: Option<PathBuf>,
    /// One JSON object per scenario run.
    #[arg(long)]
    json: bool,
    /// Wall-clock seconds one run may take before it fails as `stuck` (with
    /// --live: tasks without a result by then fail the run).
    #[arg(long, default_value_t = RUN_SECONDS_MAX_DEFAULT)]
    run_seconds_max: u64,
    /// The wire between simulated hosts: `frames` (the simulation's own) or `grpc`
    /// (the gRPC stack real mode ships). Default: the scenario's (frames).
    #[arg(long)]
    transport: Option<Transport>,
    /// Run the scenario's workload against the real runtime: a supervisor and
    /// worker processes on 127.0.0.1, the live model (--llm openai, the
    /// default) or the mock (--llm mock); real faults where they exist.
    #[arg(long)]
    live: bool,
    #[command(flatten)]
    live_flags: quorum_scenarios::LiveFlags,
}

/// Input the tool refuses (exit 2), as opposed to a run that failed (exit 1).
#[derive(Debug)]
struct BadInput(anyhow::Error);

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(code) = live(&cli.command) {
        return code;
    }
    quorum_sim::init_tracing();
    let outcome = match cli.command {
        Command::Supervisor(_)
        | Command::Worker(_)
        | Command::Agent(_)
        | Command::Up(_)
        | Command::Submit(_)
        | Command::Status(_) => {
            unreachable!("real-mode commands ran above")
        }
        Command::List { json } => list(json),
        Command::Run(RunArgs { live: true, .. }) => unreachable!("live runs ran above"),
        Command::Run(args) => {
            if let Some(flag) = args.live_flags.first_given() {
                return bad_input(anyhow::anyhow!("{flag} needs --live (a simulation's model is the scenario's mock)"));
            }
            budget(args.run_seconds_max).and_then(|budget| {
                let outputs = Outputs { trace: args.trace.as_deref(), report: args.report.as_deref(), json: args.json };
                let overrides = Overrides { workers: args.workers, tasks: args.tasks, transport: args.transport };
                run(args.name.as_deref(), args.seed, overrides, args.file.as_deref(), &outputs, budget)
            })
        }
        Command::Sweep { name, seeds, jobs, shard, check_determinism, file, json, run_seconds_max, transport } => {
            budget(run_seconds_max).and_then(|budget| {
                let options =
                    SweepOptions { jobs, shard: shard.as_deref(), check_determinism, json, budget, transport };
                sweep_command(name.as_deref(), &seeds, file.as_deref(), &options)
            })
        }
        Command::Merge { files, json } => merge_command(&files, json),
        Command::Minimize { name, seed, file, run_seconds_max } => {
            budget(run_seconds_max).and_then(|budget| minimize_command(name.as_deref(), seed, file.as_deref(), budget))
        }
        Command::Consensus { file } => consensus(&file),
        Command::Prop { config, cases, seed, json } => prop(config.as_deref(), cases, seed, json),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_FAILED),
        Err(BadInput(error)) => bad_input(error),
    }
}

fn bad_input(error: anyhow::Error) -> ExitCode {
    let _ = writeln!(std::io::stderr().lock(), "error: {error:#}");
    ExitCode::from(EXIT_BAD_INPUT)
}

/// `quorum run NAME --live`: one scenario, no simulation-only outputs.
fn run_live(args: &RunArgs) -> Result<bool, quorum_scenarios::LiveError> {
    let refuse = |flag: &str| {
        quorum_scenarios::LiveError::BadInput(format!("{flag} is for simulations: a live run has no trace to write"))
    };
    if args.trace.is_some() {
        return Err(refuse("--trace"));
    }
    if args.report.is_some() {
        return Err(refuse("--report"));
    }
    if args.transport.is_some() {
        return Err(quorum_scenarios::LiveError::BadInput(
            "--transport is for simulations: a live run is always gRPC over TCP".to_owned(),
        ));
    }
    let mut selected = select(args.name.as_deref(), args.file.as_deref())
        .map_err(|BadInput(error)| quorum_scenarios::LiveError::BadInput(format!("{error:#}")))?;
    if selected.len() != 1 {
        return Err(quorum_scenarios::LiveError::BadInput("--live runs one scenario, not `all`".to_owned()));
    }
    let (scenario, _) = selected.remove(0);
    let live = quorum_scenarios::LiveRunArgs {
        scenario,
        overrides: Overrides { workers: args.workers, tasks: args.tasks, transport: None },
        seed: args.seed,
        flags: args.live_flags.clone(),
        run_seconds_max: args.run_seconds_max,
    };
    let run = quorum_scenarios::run_live(&live)?;
    if args.json {
        out(&format!("{}\n", serde_json::to_string(&run).expect("a live run serialises")));
    } else {
        out(&quorum_scenarios::render_live(&run));
    }
    Ok(run.passed)
}

/// Runs a real-mode command and gives its exit code; `None` for the others.
fn live(command: &Command) -> Option<ExitCode> {
    let is_live = matches!(
        command,
        Command::Supervisor(_)
            | Command::Worker(_)
            | Command::Agent(_)
            | Command::Up(_)
            | Command::Submit(_)
            | Command::Status(_)
            | Command::Run(RunArgs { live: true, .. })
    );
    if !is_live {
        return None;
    }
    let logs = match command {
        Command::Run(_) => quorum_scenarios::LogArgs::default(),
        Command::Supervisor(args) => args.logs,
        Command::Worker(args) => args.logs,
        Command::Agent(args) => args.logs,
        Command::Up(args) => args.logs,
        Command::Submit(args) => args.logs,
        Command::Status(args) => args.logs,
        _ => return None,
    };
    quorum_scenarios::init_logs(logs.log_format);
    let outcome = match command {
        Command::Supervisor(args) => quorum_scenarios::supervisor(args).map(|()| true),
        Command::Worker(args) => quorum_scenarios::worker(args).map(|()| true),
        Command::Agent(args) => quorum_scenarios::agent(args).map(|()| true),
        Command::Up(args) => quorum_scenarios::up(args).map(|()| true),
        Command::Submit(args) => quorum_scenarios::submit(args),
        Command::Status(args) => quorum_scenarios::status(args).map(|()| true),
        Command::Run(args) => run_live(args),
        _ => return None,
    };
    Some(match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(quorum_scenarios::EXIT_FAILED),
        Err(error) => {
            let _ = writeln!(std::io::stderr().lock(), "error: {error}");
            ExitCode::from(error.exit_code())
        }
    })
}

fn bad(error: anyhow::Error) -> BadInput {
    BadInput(error)
}

fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

fn list(json: bool) -> Result<bool, BadInput> {
    let mut text = String::new();
    for scenario in catalogue() {
        if json {
            let line = serde_json::json!({"name": scenario.name, "description": scenario.description});
            text.push_str(&format!("{line}\n"));
        } else {
            text.push_str(&format!("{:<20} {}\n", scenario.name, scenario.description));
        }
    }
    out(&text);
    Ok(true)
}

/// The scenarios a command names: `all`, one built-in name, or a file.
fn select(name: Option<&str>, file: Option<&Path>) -> Result<Vec<(Scenario, Source)>, BadInput> {
    if let Some(path) = file {
        if let Some(name) = name {
            return Err(bad(anyhow::anyhow!("give a scenario name ({name:?}) or --file, not both")));
        }
        let text = read_limited(path, quorum_scenarios::scenario_file::SCENARIO_FILE_BYTES_MAX).map_err(bad)?;
        let scenario = parse_scenario(&text).map_err(|e| bad(anyhow::anyhow!("{}: {e}", path.display())))?;
        return Ok(vec![(scenario, Source::File(path.display().to_string()))]);
    }
    match name {
        None => Err(bad(anyhow::anyhow!("name a scenario, `all`, or --file (see `quorum list`)"))),
        Some("all") => Ok(catalogue().into_iter().map(|s| (s, Source::Catalogue)).collect()),
        Some(name) => find(name)
            .map(|s| vec![(s, Source::Catalogue)])
            .ok_or_else(|| bad(anyhow::anyhow!("no scenario named {name:?} (see `quorum list`)"))),
    }
}

/// Where `quorum run` writes what it writes.
struct Outputs<'a> {
    trace: Option<&'a Path>,
    report: Option<&'a Path>,
    json: bool,
}

fn run(
    name: Option<&str>,
    seed: u64,
    overrides: Overrides,
    file: Option<&Path>,
    outputs: &Outputs<'_>,
    budget: RunBudget,
) -> Result<bool, BadInput> {
    let selected = select(name, file)?;
    let (trace, report, json) = (outputs.trace, outputs.report, outputs.json);
    if selected.len() > 1 && (trace.is_some() || report.is_some()) {
        return Err(bad(anyhow::anyhow!("--trace and --report need a single scenario")));
    }
    let mut all_passed = true;
    for (mut scenario, source) in selected {
        overrides.apply(&mut scenario);
        let invocation = Invocation { source, overrides: overrides.clone() };
        let (summary, outcome) = run_scenario(&scenario, seed, &invocation, budget)
            .map_err(|e| bad(anyhow::anyhow!("{}: {e}", scenario.name)))?;
        all_passed &= summary.passed;
        if let Some(path) = trace {
            std::fs::write(path, outcome.trace.to_json_lines())
                .with_context(|| format!("writing {}", path.display()))
                .map_err(bad)?;
        }
        if let Some(path) = report {
            std::fs::write(path, render_report(&scenario, &summary, &outcome))
                .with_context(|| format!("writing {}", path.display()))
                .map_err(bad)?;
        }
        if json {
            out(&format!("{}\n", serde_json::to_string(&summary).expect("summaries serialise")));
        } else {
            out(&render_summary(&summary));
        }
    }
    Ok(all_passed)
}

fn parse_seeds(text: &str) -> anyhow::Result<core::ops::Range<u64>> {
    let (start, end, inclusive) = if let Some((a, b)) = text.split_once("..=") {
        (a, b, true)
    } else if let Some((a, b)) = text.split_once("..") {
        (a, b, false)
    } else {
        bail!("--seeds {text:?}: expected A..B or A..=B");
    };
    let start: u64 = start.trim().parse().with_context(|| format!("--seeds {text:?}: bad start"))?;
    let end: u64 = end.trim().parse().with_context(|| format!("--seeds {text:?}: bad end"))?;
    let end = if inclusive { end.checked_add(1).context("--seeds: end too large")? } else { end };
    if start >= end {
        bail!("--seeds {text:?}: empty range");
    }
    Ok(start..end)
}

fn parse_shard(text: &str) -> anyhow::Result<(u64, u64)> {
    let (index, count) = text.split_once('/').with_context(|| format!("--shard {text:?}: expected I/N"))?;
    let index: u64 = index.trim().parse().with_context(|| format!("--shard {text:?}: bad I"))?;
    let count: u64 = count.trim().parse().with_context(|| format!("--shard {text:?}: bad N"))?;
    if count == 0 || index == 0 || index > count {
        bail!("--shard {text:?}: need 1 <= I <= N");
    }
    Ok((index, count))
}

/// `quorum sweep`'s options beyond what it sweeps.
struct SweepOptions<'a> {
    jobs: Option<usize>,
    shard: Option<&'a str>,
    check_determinism: bool,
    json: bool,
    budget: RunBudget,
    transport: Option<Transport>,
}

fn sweep_command(
    name: Option<&str>,
    seeds: &str,
    file: Option<&Path>,
    options: &SweepOptions<'_>,
) -> Result<bool, BadInput> {
    let selected = select(name, file)?;
    let total = selected.len();
    // P2P agents speak the simulation's frames only: a gRPC sweep leaves them out,
    // and says so.
    let selected: Vec<_> = selected
        .into_iter()
        .filter(|(scenario, _)| options.transport != Some(Transport::Grpc) || scenario.cluster.mode != Mode::P2p)
        .collect();
    if selected.len() < total {
        let _ = writeln!(
            std::io::stderr().lock(),
            "--transport grpc: {} P2P scenario(s) left out (P2P agents talk over the simulation's frames)",
            total - selected.len()
        );
    }
    let scenarios = selected
        .into_iter()
        .map(|(mut scenario, source)| {
            let overrides = Overrides { transport: options.transport, ..Overrides::default() };
            overrides.apply(&mut scenario);
            (scenario, Invocation { source, overrides })
        })
        .collect();
    let seeds = parse_seeds(seeds).map_err(bad)?;
    let shard = options.shard.map(parse_shard).transpose().map_err(bad)?;
    if let Some((index, count)) = shard
        && index > seeds.end - seeds.start
    {
        return Err(bad(anyhow::anyhow!(
            "--shard {index}/{count} of {} seed(s) holds no seed: use at most as many shards as seeds",
            seeds.end - seeds.start
        )));
    }
    let jobs = match options.jobs {
        Some(0) => return Err(bad(anyhow::anyhow!("--jobs 0: need at least 1"))),
        Some(jobs) => jobs,
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let plan = SweepPlan {
        scenarios,
        seeds,
        jobs,
        shard,
        check_determinism: options.check_determinism,
        budget: options.budget,
    };
    let labels = ProgressLabels { name: "sweep", units: "runs", rate_units: "seeds/s", lines_otherwise: true };
    let summary = sweep(&plan, progress_printer(labels));
    out(&render_sweep(&summary, options.json));
    Ok(summary.is_clean())
}

fn merge_command(files: &[PathBuf], json: bool) -> Result<bool, BadInput> {
    let mut summaries = Vec::with_capacity(files.len());
    for path in files {
        let text = read_limited(path, SUMMARY_BYTES_MAX).map_err(bad)?;
        let summary: SweepSummary = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a `quorum sweep --json` summary", path.display()))
            .map_err(bad)?;
        summaries.push(summary);
    }
    let merged = merge(&summaries).map_err(|e| bad(e.into()))?;
    let missing = missing_shards(&merged);
    let mut text = render_sweep(&merged, json);
    if !missing.is_empty() && !json {
        let list: Vec<String> = missing.iter().map(|(i, n)| format!("{i}/{n}")).collect();
        text.push_str(&format!("MISSING shards {}\n", list.join(", ")));
    }
    out(&text);
    Ok(merged.is_clean() && missing.is_empty())
}

/// The sweep's summary: one JSON object, or lines with a replay per failure.
fn render_sweep(summary: &quorum_scenarios::SweepSummary, json: bool) -> String {
    if json {
        return format!("{}\n", serde_json::to_string(summary).expect("summaries serialise"));
    }
    let mut text = format!(
        "{} runs: {} passed, {} failed ({} panicked, {} stuck), {} nondeterministic in {:.1} s ({:.1} seeds/s)\n",
        summary.runs,
        summary.passed,
        summary.failed.len(),
        summary.panicked,
        summary.stuck,
        summary.nondeterministic.len(),
        summary.wall_seconds,
        summary.seeds_per_second
    );
    for failure in &summary.failed {
        let reasons = failure.reasons.join("; ");
        text.push_str(&format!(
            "FAIL {} seed {}: {reasons}\n  replay: {}\n",
            failure.scenario, failure.seed, failure.replay
        ));
    }
    for case in &summary.nondeterministic {
        let at = case
            .divergence
            .as_ref()
            .map_or_else(String::new, |d| format!(" at event {}: {:?} vs {:?}", d.index, d.first, d.second));
        text.push_str(&format!("NONDETERMINISTIC {} seed {}{at}\n", case.scenario, case.seed));
    }
    text
}

fn minimize_command(name: Option<&str>, seed: u64, file: Option<&Path>, budget: RunBudget) -> Result<bool, BadInput> {
    let mut selected = select(name, file)?;
    if selected.len() != 1 {
        return Err(bad(anyhow::anyhow!("minimize takes one scenario")));
    }
    let (scenario, _) = selected.remove(0);
    match minimize(&scenario, seed, budget) {
        Ok(found) => {
            let _ = writeln!(
                std::io::stderr().lock(),
                "smallest reproduction after {} runs: fails with {}",
                found.runs,
                found.failure
            );
            out(&format!("# replay: quorum run --file <this file> --seed {seed}\n{}", to_toml(&found.scenario)));
            Ok(true)
        }
        Err(error) => Err(bad(error.into())),
    }
}

fn read_limited(path: &Path, limit: usize) -> anyhow::Result<String> {
    let mut input = String::new();
    let limit = limit as u64 + 1;
    if path.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_string(&mut input).context("reading standard input")?;
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(limit).read_to_string(&mut input))
            .with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(input)
}

fn consensus(file: &Path) -> Result<bool, BadInput> {
    let input = read_limited(file, quorum_scenarios::INPUT_BYTES_MAX).map_err(bad)?;
    let output =
        quorum_scenarios::run_consensus(&input).map_err(|e| bad(anyhow::anyhow!("{}: {e}", file.display())))?;
    out(&format!("{output}\n"));
    Ok(true)
}

fn prop(config: Option<&Path>, cases: u32, seed: u64, json: bool) -> Result<bool, BadInput> {
    let config = match config {
        None => None,
        Some(path) => {
            let text = read_limited(path, quorum_scenarios::PROP_CONFIG_BYTES_MAX).map_err(bad)?;
            let parsed = quorum_scenarios::parse_consensus_config(&text)
                .map_err(|e| bad(anyhow::anyhow!("{}: {e}", path.display())))?;
            Some(parsed)
        }
    };
    let report = quorum_scenarios::run_prop(config, cases, seed).map_err(|e| bad(e.into()))?;
    if json {
        out(&format!("{}\n", serde_json::to_string_pretty(&report).expect("the report is plain data")));
    } else {
        out(&report.render());
    }
    Ok(report.passed())
}
