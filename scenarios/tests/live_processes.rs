//! Real mode with real processes on 127.0.0.1: `quorum up` (a supervisor and worker
//! processes), `quorum status`, `quorum submit`, `quorum worker`. Every process a
//! test starts is killed when its guard drops, however the test ends.

#![cfg(unix)]

mod support;

use std::collections::BTreeSet;
use std::io::Read;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use quorum_real::node::mock_questions;
use support::{Process, SECRET, WAIT, WRONG, fresh_dir, is_alive, quorum, signal};

/// `quorum up` and what it printed at start. Its workers are killed too on drop.
struct Up {
    process: Process,
    address: String,
    /// (id, pid) of each worker.
    workers: Vec<(String, u32)>,
    questions: Vec<String>,
}

impl Up {
    fn start(workers: usize, extra: &[&str]) -> Self {
        Self::start_with(quorum(), workers, extra)
    }

    fn start_with(mut command: Command, workers: usize, extra: &[&str]) -> Self {
        command.args(["up", "--workers", &workers.to_string(), "--llm", "mock", "--listen", "127.0.0.1:0"]);
        // Each its own journal: two supervisors never share one.
        command.arg("--data-dir").arg(fresh_dir("up"));
        let mut process = Process::start(command.args(["--all-votes"]).args(extra));
        let ready = |line: &str| line.starts_with("ready:");
        process.wait_for(ready);
        let address = process.seen[0].strip_prefix("supervisor listening on ").expect("the address first").to_owned();
        let mut up = Self { process, address, workers: Vec::new(), questions: Vec::new() };
        for line in &up.process.seen {
            // "worker w1 pid 1234 at http://127.0.0.1:40000"
            let words: Vec<&str> = line.split(' ').collect();
            if let ["worker", id, "pid", pid, "at", _] = words.as_slice() {
                up.workers.push(((*id).to_owned(), pid.parse().unwrap()));
            }
            if let Some(question) = line.strip_prefix("question: ") {
                up.questions.push(question.to_owned());
            }
        }
        assert_eq!(up.workers.len(), workers, "{:#?}", up.process.seen);
        up
    }

    fn pid_of(&self, worker: &str) -> u32 {
        self.workers.iter().find(|(id, _)| id == worker).unwrap().1
    }

    fn run(&self, args: &[&str]) -> Output {
        quorum().args(args).args(["--supervisor", &self.address]).output().unwrap()
    }

    fn status(&self) -> serde_json::Value {
        let output = self.run(&["status", "--json"]);
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// Polls `quorum status` until `holds`.
    fn wait_for_status(&self, what: &str, holds: impl Fn(&serde_json::Value) -> bool) {
        let started = Instant::now();
        loop {
            let status = self.status();
            if holds(&status) {
                return;
            }
            assert!(started.elapsed() < WAIT, "never {what}: {status}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        signal(self.process.child.id(), "KILL");
        for (_, pid) in &self.workers {
            signal(*pid, "KILL");
        }
    }
}

fn worker_status<'a>(status: &'a serde_json::Value, worker: &str) -> Option<&'a serde_json::Value> {
    status["workers"].as_array()?.iter().find(|entry| entry["worker"] == worker)
}

/// The canonical right answer to a question the mock knows.
/// One plain HTTP/1.1 GET on `address`; the whole response.
fn http_get(address: &str, path: &str) -> String {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn truth(question: &str) -> String {
    mock_questions().truths[question].canonical()
}

fn voters(result: &serde_json::Value) -> BTreeSet<String> {
    result["voters"].as_array().unwrap().iter().map(|voter| voter.as_str().unwrap().to_owned()).collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

#[test]
fn up_answers_a_known_question_refuses_a_wrong_token_and_stops_its_workers_on_sigterm() {
    // With metrics and JSON logs at `info`, so both are checked on a real process.
    let mut logged = quorum();
    logged.env("RUST_LOG", "info");
    let mut up = Up::start_with(logged, 3, &["--metrics", "127.0.0.1:0", "--log-format", "json"]);
    assert!(up.questions.len() >= 3, "{:#?}", up.process.seen);
    let metrics = up.process.seen.iter().find_map(|line| line.strip_prefix("metrics on http://")).unwrap().to_owned();
    let metrics = metrics.strip_suffix("/metrics").unwrap().to_owned();

    let status = up.run(&["status"]);
    assert_eq!(status.status.code(), Some(0), "{}", String::from_utf8_lossy(&status.stderr));
    assert!(String::from_utf8_lossy(&status.stdout).contains("is serving: 3 worker(s)"));

    let question = up.questions[1].clone();
    let output = up.run(&["submit", &question, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in ["task", "outcome", "answer", "support", "llm_calls", "tokens", "voters", "result"] {
        assert!(result.get(key).is_some(), "{key} missing: {result}");
    }
    assert_eq!(result["outcome"], "agreed", "{result}");
    assert_eq!(result["answer"], truth(&question), "{result}");
    assert_eq!(voters(&result), set(&["w1", "w2", "w3"]), "{result}");
    assert!(result["llm_calls"].as_u64().unwrap() >= 3, "{result}");
    assert!(result["tokens"].as_u64().unwrap() > 0, "{result}");
    assert!(result["support"].as_f64().unwrap() > 0.5, "{result}");

    // The scrape counts that task.
    let scrape = http_get(&metrics, "/metrics");
    assert!(scrape.starts_with("HTTP/1.1 200 OK"), "{scrape}");
    assert!(scrape.contains("\nquorum_tasks_total{outcome=\"agreed\"} 1\n"), "{scrape}");
    let calls = result["llm_calls"].as_u64().unwrap();
    assert!(scrape.contains(&format!("\nquorum_llm_calls_total {calls}\n")), "{scrape}");
    assert!(scrape.contains("\nquorum_workers{status=\"available\"} 3\n"), "{scrape}");
    assert!(!scrape.contains(SECRET), "the token reached a scrape");

    // Another token: refused by name, with exit 3, and the task never ran.
    let refused =
        quorum().env("QUORUM_TOKEN", WRONG).args(["submit", "--supervisor", &up.address, &question]).output().unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("unauthenticated") && stderr.lines().count() == 1, "{stderr}");
    assert!(!stderr.contains(WRONG) && !stderr.contains(SECRET), "{stderr}");
    assert!(refused.stdout.is_empty());

    // SIGTERM: the supervisor stops, then its workers; nothing is left running.
    signal(up.process.child.id(), "TERM");
    let (code, stderr) = up.process.wait_exit();
    assert_eq!(code, Some(0), "{stderr} {:#?}", up.process.seen);
    for (worker, pid) in &up.workers {
        assert!(!is_alive(*pid), "worker {worker} (pid {pid}) outlived `quorum up`");
    }
    let printed = format!("{}{stderr}", up.process.seen.join("\n"));
    assert!(!printed.contains(SECRET), "the token leaked: {printed}");
    // Every log line is one JSON object; the task's lines sit in a span named by it.
    let logs: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: not JSON: {line}")))
        .collect();
    let task = result["task"].as_str().unwrap();
    let in_task_span = |log: &serde_json::Value| log["span"]["name"] == "task" && log["span"]["task"] == task;
    assert!(logs.iter().any(in_task_span), "no line in the span of {task}: {stderr}");
    assert!(up.process.seen.iter().any(|line| line == "stopped"), "{:#?}", up.process.seen);
}

#[test]
fn a_worker_killed_mid_task_is_survived_and_its_restart_rejoins_and_votes_again() {
    let up = Up::start(3, &["--mock-latency-ms", "2000"]);
    let first = up.questions[1].clone();
    let mut submit = Process::start(quorum().args(["submit", "--supervisor", &up.address, &first, "--json"]));
    // Every worker has the task (three asked of three): kill one of them.
    up.wait_for_status("all three busy", |status| {
        ["w1", "w2", "w3"].iter().all(|worker| worker_status(status, worker).is_some_and(|entry| entry["load"] == 1))
    });
    signal(up.pid_of("w2"), "KILL");
    let (code, stderr) = submit.wait_exit();
    assert_eq!(code, Some(0), "{stderr} {:#?}", submit.seen);
    let result: serde_json::Value = serde_json::from_str(&submit.seen.join("\n")).unwrap();
    assert_eq!(result["outcome"], "agreed", "{result}");
    assert_eq!(result["answer"], truth(&first), "{result}");
    assert_eq!(voters(&result), set(&["w1", "w3"]), "the killed worker cannot vote: {result}");
    let failures = result["result"]["metadata"]["failures"].as_array().unwrap();
    assert!(failures.iter().any(|failure| failure["worker"] == "w2"), "{result}");

    // A new w2 process (a new port) joins under the old id and is used again.
    let mut restarted = Process::start(quorum().args([
        "worker",
        "--listen",
        "127.0.0.1:0",
        "--supervisor",
        &up.address,
        "--id",
        "w2",
        "--llm",
        "mock",
        "--mock-latency-ms",
        "100",
    ]));
    restarted.wait_for(|line| line.starts_with("worker w2 joined"));
    up.wait_for_status("w2 available again", |status| {
        worker_status(status, "w2").is_some_and(|entry| entry["status"] == "available")
    });
    let second = up.questions[2].clone();
    let output = up.run(&["submit", &second, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["outcome"], "agreed", "{result}");
    assert_eq!(voters(&result), set(&["w1", "w2", "w3"]), "the restarted w2 votes: {result}");
}

#[test]
fn client_commands_say_what_is_wrong_in_one_line() {
    // No token at all: say what to set (exit 2).
    let output = quorum().env_remove("QUORUM_TOKEN").args(["status"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("set QUORUM_TOKEN") && stderr.lines().count() == 1, "{stderr}");
    // Nobody listening: unreachable (exit 3).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let output = quorum().args(["status", "--supervisor", &format!("127.0.0.1:{port}")]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("unavailable") && stderr.lines().count() == 1, "{stderr}");
    // A bad address: bad input (exit 2).
    let output = quorum().args(["submit", "--supervisor", "nowhere", "What?"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
    // --llm openai with no key and no base URL: what it needs (exit 2), no trace.
    let output = quorum().args(["up", "--llm", "openai", "--listen", "127.0.0.1:0"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("OPENAI_API_KEY") && stderr.contains("OPENAI_BASE_URL"), "{stderr}");
    assert!(!stderr.contains("panicked") && stderr.lines().count() == 1, "{stderr}");
    // A bad flag: clap's message, exit 2.
    let output = quorum().args(["up", "--workers", "zero"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = quorum().args(["up", "--workers", "0"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn workers_on_other_machines_join_a_supervisor_and_leave_it_at_shutdown() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("127.0.0.1:{port}");
    // Workers first: they keep trying until the supervisor is up.
    let mut workers: Vec<Process> = ["a", "b", "c"]
        .iter()
        .map(|id| {
            Process::start(quorum().args(["worker", "--listen", "127.0.0.1:0", "--supervisor", &address, "--id", id]))
        })
        .collect();
    let mut supervisor = Process::start(quorum().args(["supervisor", "--listen", &address, "--all-votes"]));
    supervisor.wait_for(|line| line.starts_with("supervisor listening on"));
    for (worker, id) in workers.iter_mut().zip(["a", "b", "c"]) {
        worker.wait_for(|line| line == format!("worker {id} joined http://{address}"));
    }
    let question = mock_questions().tasks[3].task.text.clone();
    let output = quorum().args(["submit", "--supervisor", &address, &question, "--json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["answer"], truth(&question), "{result}");
    assert_eq!(voters(&result), set(&["a", "b", "c"]), "{result}");
    // SIGTERM to a worker: it leaves, then exits cleanly.
    signal(workers[0].child.id(), "TERM");
    workers[0].wait_for(|line| line.starts_with("worker a left"));
    assert_eq!(workers[0].wait_exit().0, Some(0));
    let status = quorum().args(["status", "--supervisor", &address, "--json"]).output().unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let listed: BTreeSet<String> = status["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["worker"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, set(&["b", "c"]), "{status}");
    signal(supervisor.child.id(), "TERM");
    assert_eq!(supervisor.wait_exit().0, Some(0));
}
