//! `quorum run NAME --live` as a real process: the scenario's workload through a
//! supervisor and worker processes on 127.0.0.1, with the mock offline, with a
//! worker killed (-9) and restarted, and against a real model (llama-server, when
//! `scripts/llama.sh` has installed it).

#![cfg(unix)]

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Planted where a live run must never print it.
const SECRET: &str = "planted-live-run-secret-0123456789";
/// The key llama-server is started with; it must never show up in what we print.
const KEY: &str = "sk-live-run-test-5c1e";
/// Longest llama-server may take to load the model.
const STARTUP_MAX: Duration = Duration::from_secs(120);

fn quorum(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quorum"));
    command
        .args(args)
        .env("QUORUM_TOKEN", SECRET)
        .env("RUST_LOG", "warn")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_MODEL");
    command
}

fn run(command: &mut Command) -> (Output, String, String) {
    let output = command.stdin(Stdio::null()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(!text.contains(SECRET) && !text.contains(KEY), "a secret leaked into {name}: {text}");
    }
    (output, stdout, stderr)
}

/// Runs `args --json`; returns the run's object.
fn live_json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let (output, stdout, stderr) = run(&mut quorum(&all));
    assert!(output.status.success(), "{args:?} failed: {stdout}\n{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("not one JSON object ({error}): {stdout}"))
}

/// Every task of `run` has exactly one result, and the counts and accuracy agree
/// with those results.
fn assert_one_result_each(run: &Value, tasks: usize) {
    let results = run["results"].as_array().unwrap();
    assert_eq!(run["tasks"], tasks);
    assert_eq!(results.len(), tasks, "{run}");
    let ids: BTreeSet<&str> = results.iter().map(|result| result["task"].as_str().unwrap()).collect();
    let expected: BTreeSet<String> = (0..tasks).map(|index| format!("t{index:03}")).collect();
    assert_eq!(ids, expected.iter().map(String::as_str).collect(), "each task once: {run}");
    assert_eq!(run["report"]["results_emitted"], tasks, "the supervisor emitted one result per task");
    assert_eq!(run["report"]["duplicate_results"], 0);
    let count = |outcome: &str| results.iter().filter(|result| result["outcome"] == outcome).count();
    assert_eq!(run["agreed"], count("agreed"));
    assert_eq!(run["no_consensus"], count("no_consensus"));
    assert_eq!(run["failed"], count("failed"));
    let correct = results.iter().filter(|result| result["correct"] == true).count();
    assert_eq!(run["report"]["correct"], correct);
    match run["accuracy"].as_f64() {
        Some(accuracy) => assert!((accuracy - correct as f64 / count("agreed") as f64).abs() < 1e-9, "{run}"),
        None => assert_eq!(count("agreed"), 0),
    }
    assert!(run["trace_hash"].is_null() && run["sim_seconds"].is_null() && run["replay"].is_null());
    assert_eq!(run["live"], true);
}

#[test]
fn baseline_runs_live_on_the_mock_with_the_sim_runs_tasks_and_their_ground_truth() {
    let run = live_json(&["run", "baseline", "--live", "--tasks", "3", "--llm", "mock"]);
    assert_one_result_each(&run, 3);
    assert_eq!(run["passed"], true, "{run}");
    assert_eq!(run["llm"], "mock");
    // The mock knows this workload's truths and the baseline is honest: all agree, right.
    assert_eq!(run["agreed"], 3, "{run}");
    assert_eq!(run["accuracy"], 1.0);
    assert!(run["llm_calls"].as_u64().unwrap() >= 3 && run["report"]["tokens"].as_u64().unwrap() > 0);
    assert_eq!(run["report"]["workers"], 5);
    let first = &run["results"][0];
    assert!(first["text"].as_str().unwrap().starts_with("(t000) "), "{first}");
    assert!(first["ground_truth"].is_string(), "{first}");
}

#[test]
fn a_worker_crash_kills_the_process_and_restarts_it_and_every_task_gets_one_result() {
    let run = live_json(&["run", "worker-crash", "--live", "--tasks", "3", "--llm", "mock"]);
    assert_one_result_each(&run, 3);
    let fault = &run["faults"][0];
    assert_eq!(fault["action"], "kill_and_restart", "{run}");
    assert_eq!(fault["worker"], "w1");
    assert!(fault["kill_status"].as_str().unwrap().contains("SIGKILL"), "{fault}");
    let (killed, restarted) = (fault["killed_pid"].as_u64().unwrap(), fault["restarted_pid"].as_u64().unwrap());
    assert_ne!(killed, restarted, "a new process");
    let (killed_at, rejoined_at) = (fault["killed_at_ms"].as_u64().unwrap(), fault["rejoined_at_ms"].as_u64().unwrap());
    assert!(killed_at < rejoined_at, "{fault}");
    assert_eq!(run["passed"], true, "{run}");
    let (_, text, _) = run_ok(&["run", "worker-crash", "--live", "--tasks", "3", "--llm", "mock"]);
    assert!(text.contains("w1 pid") && text.contains("killed (kill -9"), "{text}");
}

fn run_ok(args: &[&str]) -> (Output, String, String) {
    let outcome = run(&mut quorum(args));
    assert!(outcome.0.status.success(), "{args:?}: {}\n{}", outcome.1, outcome.2);
    outcome
}

#[test]
fn what_a_live_run_cannot_do_is_named_and_bad_input_exits_2() {
    let crash = live_json(&["run", "supervisor-crash", "--live", "--tasks", "2", "--llm", "mock"]);
    let names: Vec<&str> =
        crash["not_applicable"].as_array().unwrap().iter().map(|left| left["name"].as_str().unwrap()).collect();
    assert!(names.iter().any(|name| name.starts_with("crash supervisor")), "{names:?}");
    assert!(crash["faults"].as_array().unwrap().is_empty());

    let refused = |args: &[&str], wanted: &str| {
        let (output, _, stderr) = run(&mut quorum(args));
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(wanted), "{args:?}: {stderr}");
    };
    refused(&["run", "baseline", "--live", "--tasks", "3"], "OPENAI_API_KEY");
    refused(&["run", "no-such-scenario", "--live", "--llm", "mock"], "\"no-such-scenario\"");
    refused(&["run", "baseline", "--live", "--llm", "mock", "--trace", "t.jsonl"], "--trace is for simulations");
    refused(&["run", "baseline", "--live", "--llm", "mock", "--report", "r.html"], "--report is for simulations");
    refused(&["run", "all", "--live", "--llm", "mock"], "one scenario");
    refused(&["run", "baseline", "--llm", "mock"], "--llm needs --live");
}

/// llama-server on a free port of 127.0.0.1 with an API key, killed when the test
/// ends: started as real/tests/live_model.rs starts it.
struct LlamaServer {
    child: Child,
    port: u16,
}

impl LlamaServer {
    fn start(server: &str, model: &str) -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(server)
            .args(["--model", model, "--host", "127.0.0.1", "--port", &port.to_string(), "--api-key", KEY])
            .args(["--ctx-size", "2048", "--threads", "2", "--parallel", "3", "--n-predict", "96"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("llama-server starts");
        Self { child, port }
    }

    /// Waits until `/health` answers 200 (the model is loaded).
    fn ready(&mut self) {
        use std::io::{Read, Write};
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("llama-server exited early: {status}");
            }
            let healthy = std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok_and(|mut stream| {
                let request = format!("GET /health HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n", self.port);
                let mut reply = String::new();
                stream.write_all(request.as_bytes()).is_ok()
                    && stream.read_to_string(&mut reply).is_ok()
                    && reply.starts_with("HTTP/1.1 200")
            });
            if healthy {
                return;
            }
            assert!(started.elapsed() < STARTUP_MAX, "llama-server not ready in time");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The number before `label` in `line` (`"1086 tokens"`).
fn figure(line: &str, label: &str) -> f64 {
    let before = line.split(label).next().unwrap_or_else(|| panic!("no {label:?} in {line}"));
    before.trim_end().rsplit([' ', ',']).next().unwrap().parse().unwrap_or_else(|_| panic!("{label:?} in {line}"))
}

#[test]
// The skip's reason and the run's wall time belong in the test log.
#[allow(clippy::print_stderr)]
fn baseline_runs_live_against_a_real_model() {
    let (Ok(server), Ok(model)) = (std::env::var("LLAMA_SERVER"), std::env::var("LLAMA_MODEL")) else {
        // scripts/test.sh sets both (after scripts/llama.sh install); by hand:
        // eval "$(bash scripts/llama.sh paths)".
        eprintln!(
            "skipped: LLAMA_SERVER and LLAMA_MODEL are not set (bash scripts/llama.sh install; eval \"$(bash scripts/llama.sh paths)\")"
        );
        return;
    };
    let mut llama = LlamaServer::start(&server, &model);
    llama.ready();
    let started = Instant::now();
    let (output, stdout, stderr) = run(quorum(&["run", "baseline", "--live", "--tasks", "3"])
        .env("OPENAI_BASE_URL", format!("http://127.0.0.1:{}/v1", llama.port))
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_MODEL", "smollm2"));
    eprintln!("quorum run baseline --live --tasks 3 against llama-server: {:.1} s", started.elapsed().as_secs_f64());
    // Every task ends with one well-formed result, whatever the tiny model answers.
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let line = stdout.lines().next().unwrap();
    assert!(line.starts_with("PASS baseline seed 1 live (openai): 3 tasks, "), "{line}");
    let outcomes = figure(line, "agreed") + figure(line, "no consensus") + figure(line, "failed");
    assert_eq!(outcomes, 3.0, "{line}");
    assert!(figure(line, "tokens") > 0.0, "tokens are counted: {line}");
    // Consensus ran: the model was asked for every task.
    assert!(figure(line, "LLM calls/task") >= 1.0, "{line}");
}
