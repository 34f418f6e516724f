//! The supervisor's journal with real processes on 127.0.0.1: `quorum supervisor
//! --journal` killed with SIGKILL mid-run and restarted on the same journal and
//! address gives every accepted task exactly one result with no resubmission;
//! `quorum up --data-dir` resumes; a journal that cannot be used is refused by
//! name (exit 2).

#![cfg(unix)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use quorum_core::{Journal, Task, TaskId, TaskResult};
use quorum_journal::{JournalOptions, RedbJournal};
use quorum_real::node::mock_questions;
use quorum_real::{AuthToken, ClientError, GrpcConfig, SupervisorClient};
use support::{Process, SECRET, WAIT, free_port, fresh_dir, quorum, signal};

/// Tasks the client submits, once each.
const TASKS: usize = 12;
/// How long every mock answer takes: three waves of tasks (12 tasks of up to three
/// calls on three workers of four slots each), so that the kill finds some tasks
/// finished and others in flight.
const MOCK_LATENCY_MS: u64 = 1_500;
/// How often the client polls.
const POLL: Duration = Duration::from_millis(100);

fn supervisor(address: &str, journal: &Path) -> Process {
    let mut process = Process::start(quorum().args(["supervisor", "--listen", address, "--journal"]).arg(journal));
    process.wait_for(|line| line.starts_with("supervisor listening on"));
    let named = process.wait_for(|line| line.starts_with("journal: "));
    assert_eq!(named, format!("journal: {}", journal.display()));
    process
}

fn worker(address: &str, id: &str) -> Process {
    let latency = MOCK_LATENCY_MS.to_string();
    Process::start(quorum().args([
        "worker",
        "--listen",
        "127.0.0.1:0",
        "--supervisor",
        address,
        "--id",
        id,
        "--llm",
        "mock",
        "--mock-latency-ms",
        &latency,
    ]))
}

fn client(address: &str) -> SupervisorClient {
    SupervisorClient::connect_lazy(
        &format!("http://{address}"),
        &AuthToken::new(SECRET).unwrap(),
        GrpcConfig::default(),
    )
    .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap()
}

/// What a client compares: the result as JSON.
fn json(result: &TaskResult) -> serde_json::Value {
    serde_json::to_value(result).unwrap()
}

/// Polls the result of every task in `tasks` not yet in `results` once; a task the
/// supervisor does not know is a lost task.
async fn poll_once(client: &SupervisorClient, tasks: &[TaskId], results: &mut BTreeMap<TaskId, serde_json::Value>) {
    for task in tasks {
        match client.result(task).await {
            Ok(Some(result)) => {
                let shown = json(&result);
                if let Some(earlier) = results.get(task) {
                    assert_eq!(earlier, &shown, "the result of {task} changed");
                }
                results.insert(task.clone(), shown);
            }
            Ok(None) | Err(ClientError::Unavailable | ClientError::Timeout) => {}
            Err(error) => panic!("{task}: {error}"),
        }
    }
}

#[test]
fn a_supervisor_killed_mid_run_resumes_from_its_journal_and_every_accepted_task_gets_one_result() {
    let dir = fresh_dir("kill9");
    let journal = dir.join("journal.redb");
    let address = format!("127.0.0.1:{}", free_port());
    let mut first = supervisor(&address, &journal);
    let mut workers: Vec<Process> = ["w1", "w2", "w3"].iter().map(|id| worker(&address, id)).collect();
    for (process, id) in workers.iter_mut().zip(["w1", "w2", "w3"]) {
        process.wait_for(|line| line == format!("worker {id} joined http://{address}"));
    }
    let questions = mock_questions();
    let runtime = runtime();
    // Clients connect on the runtime they are made in.
    let _entered = runtime.enter();

    // Submit every task once; keep the ids of those accepted. The event streams are
    // dropped: the client will only poll.
    let before_kill = client(&address);
    let mut accepted = Vec::new();
    runtime.block_on(async {
        for index in 0..TASKS {
            let planned = &questions.tasks[index % questions.tasks.len()];
            let task = Task::new(format!("kill9-{index}"), planned.task.text.clone());
            match before_kill.submit(task).await {
                Ok(submitted) => accepted.push(submitted.task().clone()),
                Err(error) => panic!("kill9-{index} refused: {error}"),
            }
        }
    });
    assert_eq!(accepted.len(), TASKS);

    // Poll until some tasks have their results and others run; then SIGKILL.
    let mut before = BTreeMap::new();
    let started = Instant::now();
    let running = runtime.block_on(async {
        loop {
            poll_once(&before_kill, &accepted, &mut before).await;
            if !before.is_empty() {
                let status = before_kill.status().await.unwrap();
                assert!(before.len() < TASKS, "every task finished before the kill: raise MOCK_LATENCY_MS");
                return status.running;
            }
            assert!(started.elapsed() < WAIT, "no result before the kill");
            tokio::time::sleep(POLL).await;
        }
    });
    signal(first.child.id(), "KILL");
    let (code, stderr) = first.wait_exit();
    assert_eq!(code, None, "killed by a signal: {stderr}");
    assert!(running >= 1, "no task in flight at the kill");
    let finished_at_kill = before.len();

    // The same journal, the same address; the workers rejoin by themselves (every
    // 5 s) and nobody resubmits.
    let mut second = supervisor(&address, &journal);
    let after_restart = client(&address);
    let mut after = BTreeMap::new();
    let restarted = Instant::now();
    runtime.block_on(async {
        while after.len() < accepted.len() {
            assert!(
                restarted.elapsed() < WAIT,
                "results after the restart: {} of {}: {:?}",
                after.len(),
                accepted.len(),
                after.keys().collect::<Vec<_>>()
            );
            poll_once(&after_restart, &accepted, &mut after).await;
            tokio::time::sleep(POLL).await;
        }
        let status = after_restart.status().await.unwrap();
        let rejoined: Vec<&str> = status.workers.iter().map(|entry| entry.worker.as_str()).collect();
        assert_eq!(rejoined, ["w1", "w2", "w3"], "the workers rejoined the restarted supervisor");
    });
    for (task, result) in &before {
        assert_eq!(&after[task], result, "{task} finished before the kill; its result changed after the restart");
    }
    let resumed = accepted.len() - finished_at_kill;
    assert!(resumed >= 1);

    // Stop it; the journal holds every accepted task with the one result the client saw.
    signal(second.child.id(), "TERM");
    let (code, stderr) = second.wait_exit();
    assert_eq!(code, Some(0), "{stderr}");
    let printed = format!("{}{stderr}{}", second.seen.join("\n"), first.seen.join("\n"));
    assert!(!printed.contains(SECRET), "the token leaked: {printed}");
    let state = RedbJournal::open(&journal, JournalOptions::default()).unwrap().load().unwrap();
    for task in &accepted {
        let entry = state.tasks.get(task).unwrap_or_else(|| panic!("{task} is not in the journal"));
        let result = entry.result.as_deref().unwrap_or_else(|| panic!("{task} has no result in the journal"));
        assert_eq!(result.task, *task);
        assert_eq!(json(result)["outcome"], after[task]["outcome"], "{task}: the journal's result is the client's");
    }
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&journal).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the journal holds the tasks' texts: its owner's alone");
    let bytes = std::fs::read(&journal).unwrap();
    assert!(!bytes.windows(SECRET.len()).any(|window| window == SECRET.as_bytes()), "the token is in the journal");
    drop(workers);
}

#[test]
fn up_resumes_from_its_data_dir_and_a_second_up_on_it_is_refused_by_name() {
    let data = fresh_dir("up-data");
    let start = || {
        let mut up = Process::start(
            quorum()
                .args(["up", "--workers", "3", "--llm", "mock", "--mock-latency-ms", "50", "--listen", "127.0.0.1:0"])
                .arg("--data-dir")
                .arg(&data),
        );
        let listening = up.wait_for(|line| line.starts_with("supervisor listening on "));
        let address = listening.trim_start_matches("supervisor listening on ").to_owned();
        let named = up.wait_for(|line| line.starts_with("journal: "));
        assert_eq!(named, format!("journal: {}", data.join("journal.redb").display()));
        up.wait_for(|line| line.starts_with("ready:"));
        (up, address)
    };
    let (mut up, address) = start();
    let question = mock_questions().tasks[2].task.text.clone();
    let output =
        quorum().args(["submit", "--supervisor", &address, "--id", "kept", &question, "--json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let submitted: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    // A second `up` on the same data directory: the journal is held; exit 2, named.
    let refused = quorum()
        .args(["up", "--workers", "1", "--llm", "mock", "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&data.join("journal.redb").display().to_string()), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains(SECRET), "{stderr}");

    signal(up.child.id(), "TERM");
    assert_eq!(up.wait_exit().0, Some(0));
    let (_up, address) = start();
    let runtime = runtime();
    let _entered = runtime.enter();
    let resumed = runtime.block_on(client(&address).result(&TaskId::new("kept"))).unwrap();
    let resumed = json(&resumed.expect("the result, from the journal"));
    assert_eq!(resumed, submitted["result"], "the restarted `up` answers from its journal");
}

#[test]
fn a_journal_that_cannot_be_used_is_refused_by_name_with_exit_2() {
    let dir = fresh_dir("bad-journal");
    let not_a_journal = dir.join("notes.txt");
    std::fs::write(&not_a_journal, "these are not the pages of a database\n".repeat(200)).unwrap();
    let missing_dir = dir.join("missing").join("journal.redb");
    for path in [not_a_journal.as_path(), missing_dir.as_path(), dir.as_path()] {
        let address = format!("127.0.0.1:{}", free_port());
        let output = quorum().args(["supervisor", "--listen", &address, "--journal"]).arg(path).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{}: {stderr}", path.display());
        assert!(stderr.contains(&path.display().to_string()), "{stderr}");
        assert!(stderr.trim().lines().count() == 1 && !stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.contains(SECRET), "{stderr}");
    }
    // The file that was not a journal is left as it was.
    assert!(std::fs::read_to_string(&not_a_journal).unwrap().starts_with("these are not"));
}
