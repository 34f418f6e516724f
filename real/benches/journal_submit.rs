//! What the journal costs a supervisor, per task: the core `Supervisor` over an
//! in-process `LocalLink` with three instant mock workers, tasks submitted one by
//! one, once in memory (no journal) and once journaling to redb on a temp file, in
//! the same run. Prints the submit latency (`SupervisorService::submit` until
//! `Accepted`: the synced acceptance is in it) and the task latency (submit until
//! result), p50 and p99, fsyncs and bytes written per task, and the journal's ratios
//! to memory.
//!
//! `cargo bench -p quorum-real --bench journal_submit`; `QUORUM_BENCH_TASKS=N`
//! (default 1000) tasks per run.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use quorum_core::mock::workload::TruthBook;
use quorum_core::mock::{LatencyProfile, LlmControl, LlmProfile, MockLlm};
use quorum_core::{
    FixedWorkers, LocalLink, Submitted, Supervisor, SupervisorConfig, SupervisorService, Task, TaskId, Worker,
    WorkerConfig, WorkerId,
};
use quorum_journal::{BackendCounts, CountingBackend, JournalOptions, RedbJournal};
use quorum_real::node::mock_questions;

/// This bench's name, for cargo's filters.
const NAME: &str = "journal_submit";
/// Tasks per run by default: a release run takes seconds.
const TASKS_DEFAULT: usize = 1_000;
/// Most tasks per run: results stay in memory up to the supervisor's bound, and a
/// run with an fsync per task should end in minutes.
const TASKS_MAX: usize = 100_000;
/// Workers, all asked by every task.
const WORKERS: usize = 3;

/// One run's samples.
struct Run {
    submit: Vec<Duration>,
    task: Vec<Duration>,
}

/// What a journaled run wrote.
struct Written {
    syncs: u64,
    bytes: u64,
    file_bytes: u64,
}

fn main() -> ExitCode {
    let filters: Vec<String> = std::env::args().skip(1).filter(|arg| !arg.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|filter| NAME.contains(filter.as_str())) {
        return ExitCode::SUCCESS;
    }
    let tasks = match std::env::var("QUORUM_BENCH_TASKS") {
        Err(_) => TASKS_DEFAULT,
        Ok(value) => match value.trim().parse::<usize>() {
            Ok(tasks) if (1..=TASKS_MAX).contains(&tasks) => tasks,
            _ => {
                let shown: String = value.chars().take(64).collect();
                eprintln!("{NAME}: QUORUM_BENCH_TASKS={shown:?}: expected a count in 1..={TASKS_MAX}");
                return ExitCode::FAILURE;
            }
        },
    };
    match measure(tasks) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{NAME}: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Every task asks all three workers and waits for every answer, as grpc_path's
/// supervisor does: one round of three calls per task.
fn supervisor_config() -> SupervisorConfig {
    let mut config = SupervisorConfig::default().fit_to_workers(WORKERS);
    config.analysis.workers_min = WORKERS;
    config.analysis.workers_max = WORKERS;
    config.early_stop = false;
    config.scaling = false;
    config
}

/// Three workers over the mock at zero latency, always right: the model costs
/// nothing, so the difference between the runs is the journal's.
fn link(truths: &Arc<TruthBook>) -> Result<LocalLink<MockLlm>, String> {
    let profile = LlmProfile {
        accuracy: 1.0,
        latency: LatencyProfile { base_ms: 0, jitter_ms: 0, straggler_rate: 0.0, straggler_ms: 0 },
        ..LlmProfile::default()
    };
    let link = LocalLink::new();
    for index in 1..=WORKERS {
        let id = WorkerId::new(format!("w{index}"));
        let llm = MockLlm::new(id.as_str(), profile.clone(), Arc::clone(truths), LlmControl::default(), index as u64);
        let worker = Worker::new(id, WorkerConfig::default(), llm, index as u64).map_err(|error| error.to_string())?;
        link.add(worker).map_err(|error| error.to_string())?;
    }
    Ok(link)
}

fn measure(tasks: usize) -> Result<String, String> {
    let workload = mock_questions();
    let questions: Vec<String> = workload.tasks.iter().map(|planned| planned.task.text.clone()).collect();
    let truths = Arc::new(workload.truths);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("no async runtime: {error}"))?;
    let dir = std::env::temp_dir().join(format!("quorum-{NAME}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    let path = dir.join("journal.redb");
    let measured = runtime.block_on(async {
        let memory = run(None, &truths, &questions, "memory", tasks).await?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        let backend = CountingBackend::new(
            redb::backends::FileBackend::new(file).map_err(|error| format!("{}: {error}", path.display()))?,
        );
        let counts = backend.counts();
        let journal =
            RedbJournal::with_backend(backend, JournalOptions::default()).map_err(|error| error.to_string())?;
        let journaled = run(Some((journal, counts.clone())), &truths, &questions, "journal", tasks).await?;
        Ok::<_, String>((memory, journaled))
    });
    let file_bytes = std::fs::metadata(&path).map(|metadata| metadata.len()).unwrap_or(0);
    let _ = std::fs::remove_dir_all(&dir);
    let (memory, (journaled, mut written)) = measured?;
    written.file_bytes = file_bytes;
    Ok(render(tasks, &memory, &journaled, &written))
}

/// Submits `tasks` tasks one at a time, each to its result (then marked delivered,
/// as the gRPC stream marks it), through a fresh supervisor journaling to
/// `journal` if given.
async fn run(
    journal: Option<(RedbJournal, BackendCounts)>,
    truths: &Arc<TruthBook>,
    questions: &[String],
    name: &str,
    tasks: usize,
) -> Result<(Run, Written), String> {
    let link = Arc::new(link(truths)?);
    let mut supervisor = Supervisor::new(supervisor_config(), Arc::clone(&link), FixedWorkers)
        .map_err(|error| error.to_string())?
        .with_registry(link.registry());
    let counts = match journal {
        Some((journal, counts)) => {
            supervisor = supervisor.with_journal(Arc::new(journal)).map_err(|error| error.to_string())?;
            Some(counts)
        }
        None => None,
    };
    let (service, driver) = supervisor.start();
    let driver = tokio::spawn(driver.run());
    // Warm up (connections of nothing, but allocations and the workers' powers),
    // uncounted.
    for index in 0..(tasks / 10).max(10) {
        one_task(&service, TaskId::new(format!("{name}-warm-{index}")), &questions[index % questions.len()]).await?;
    }
    let (syncs_before, bytes_before) = counts.as_ref().map_or((0, 0), |c| (c.syncs(), c.bytes_written()));
    let mut measured = Run { submit: Vec::with_capacity(tasks), task: Vec::with_capacity(tasks) };
    for index in 0..tasks {
        let (submit, task) =
            one_task(&service, TaskId::new(format!("{name}-{index}")), &questions[index % questions.len()]).await?;
        measured.submit.push(submit);
        measured.task.push(task);
    }
    let written = Written {
        syncs: counts.as_ref().map_or(0, |c| c.syncs() - syncs_before),
        bytes: counts.as_ref().map_or(0, |c| c.bytes_written() - bytes_before),
        file_bytes: 0,
    };
    service.shutdown().await;
    driver.await.map_err(|error| format!("the driver stopped abnormally: {error}"))?;
    Ok((measured, written))
}

/// One task: (submit until accepted, submit until result).
async fn one_task(service: &SupervisorService, id: TaskId, text: &str) -> Result<(Duration, Duration), String> {
    let started = Instant::now();
    match service.submit(Task::new(id.clone(), text)).await {
        Ok(Submitted::Accepted) => {}
        other => return Err(format!("{id}: not accepted: {other:?}")),
    }
    let submit = started.elapsed();
    let events = service.subscribe(&id).map_err(|error| error.to_string())?;
    events.result().await.ok_or_else(|| format!("{id}: the supervisor stopped before its result"))?;
    let task = started.elapsed();
    service.result_delivered(&id);
    Ok((submit, task))
}

/// The `percent`th percentile by nearest rank.
fn percentile(samples: &[Duration], percent: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn render(tasks: usize, memory: &(Run, Written), journaled: &Run, written: &Written) -> String {
    use core::fmt::Write as _;
    let memory = &memory.0;
    let mut report = String::new();
    let _ = writeln!(
        report,
        "{NAME}: {tasks} tasks one by one, a core Supervisor over LocalLink with {WORKERS} instant mock workers"
    );
    let _ = writeln!(
        report,
        "  journal (redb, temp file): {:.2} fsyncs/task, {:.0} bytes written/task, file {} bytes at the end",
        written.syncs as f64 / tasks as f64,
        written.bytes as f64 / tasks as f64,
        written.file_bytes,
    );
    for (label, run) in [("memory (base)", memory), ("journal", journaled)] {
        let _ = writeln!(
            report,
            "  {label:<14} submit p50 {:>8.1} us  p99 {:>8.1} us | task p50 {:>8.1} us  p99 {:>8.1} us",
            micros(percentile(&run.submit, 50)),
            micros(percentile(&run.submit, 99)),
            micros(percentile(&run.task, 50)),
            micros(percentile(&run.task, 99)),
        );
    }
    let ratio = |samples: fn(&Run) -> &[Duration], percent: usize| {
        percentile(samples(journaled), percent).as_secs_f64()
            / percentile(samples(memory), percent).as_secs_f64().max(1e-9)
    };
    let added = |samples: fn(&Run) -> &[Duration], percent: usize| {
        micros(percentile(samples(journaled), percent)) - micros(percentile(samples(memory), percent))
    };
    let submit: fn(&Run) -> &[Duration] = |run| &run.submit;
    let task: fn(&Run) -> &[Duration] = |run| &run.task;
    let _ = writeln!(
        report,
        "  journal/memory  submit p50 x{:.1} (+{:.1} us)  p99 x{:.1} (+{:.1} us) | task p50 x{:.1} (+{:.1} us)  p99 x{:.1} (+{:.1} us)",
        ratio(submit, 50),
        added(submit, 50),
        ratio(submit, 99),
        added(submit, 99),
        ratio(task, 50),
        added(task, 50),
        ratio(task, 99),
        added(task, 99),
    );
    report
}
