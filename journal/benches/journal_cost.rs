//! What the journal costs per task: the writes a supervisor makes for one task
//! (acceptance + sync, round, three votes, result + sync, delivery) on a real temp
//! file through redb, against the same sequence on quorum-core's in-memory
//! `MemoryJournal`, in the same run. Prints fsyncs and bytes per task and the latency
//! of the synced acceptance (what a submit waits for), p50 and p99.
//!
//! `cargo bench -p quorum-journal --bench journal_cost` (set `JOURNAL_BENCH_TASKS` for
//! more or fewer tasks; default 500).

#![allow(clippy::print_stdout)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use quorum_core::{Journal, MemoryJournal};
use quorum_journal::{CountingBackend, JournalOptions, RedbJournal};

struct Run {
    acceptance: Vec<Duration>,
    total: Duration,
}

/// Writes `tasks` tasks' batches; times the synced acceptance of each.
fn run(journal: &dyn Journal, tasks: usize) -> Run {
    let mut acceptance = Vec::with_capacity(tasks);
    let started = Instant::now();
    for index in 0..tasks {
        for (position, (writes, sync)) in support::task_batches(&format!("task-{index}")).into_iter().enumerate() {
            let before = Instant::now();
            journal.write(&writes, sync).expect("journal write");
            if position == 0 {
                acceptance.push(before.elapsed());
            }
        }
    }
    let total = started.elapsed();
    acceptance.sort_unstable();
    Run { acceptance, total }
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn main() {
    let tasks: usize = std::env::var("JOURNAL_BENCH_TASKS").ok().and_then(|value| value.parse().ok()).unwrap_or(500);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("journal.redb");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .expect("journal file");
    let backend = CountingBackend::new(redb::backends::FileBackend::new(file).expect("file backend"));
    let counts = backend.counts();
    let journal = RedbJournal::with_backend(backend, JournalOptions::default()).expect("open journal");
    let (syncs_before, bytes_before) = (counts.syncs(), counts.bytes_written());
    let redb = run(&journal, tasks);
    let syncs = (counts.syncs() - syncs_before) as f64 / tasks as f64;
    let bytes = (counts.bytes_written() - bytes_before) as f64 / tasks as f64;
    let file_bytes = std::fs::metadata(&path).map(|metadata| metadata.len()).unwrap_or(0);

    let memory_journal = MemoryJournal::new();
    let memory = run(&memory_journal, tasks);

    println!("journal_cost: {tasks} tasks, each: accepted+sync, round, 3 votes, finished+sync, delivered");
    println!("  file: {} ({file_bytes} bytes at the end)", path.display());
    println!("  redb file     : {syncs:.2} fsyncs/task, {bytes:.0} bytes written/task");
    for (name, measured) in [("redb file", &redb), ("memory (base)", &memory)] {
        println!(
            "  {name:<14}: synced acceptance p50 {:>9.1} us, p99 {:>9.1} us; all writes {:>9.1} us/task",
            micros(percentile(&measured.acceptance, 0.5)),
            micros(percentile(&measured.acceptance, 0.99)),
            micros(measured.total) / tasks as f64,
        );
    }
    let ratio = |redb: Duration, memory: Duration| redb.as_secs_f64() / memory.as_secs_f64().max(1e-9);
    println!(
        "  redb / memory : acceptance p50 x{:.0}, p99 x{:.0}; per task x{:.0}",
        ratio(percentile(&redb.acceptance, 0.5), percentile(&memory.acceptance, 0.5)),
        ratio(percentile(&redb.acceptance, 0.99), percentile(&memory.acceptance, 0.99)),
        ratio(redb.total, memory.total),
    );
}
