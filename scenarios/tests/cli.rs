//! The `quorum` binary as a user runs it: exit codes, outputs, files.

use std::path::PathBuf;
use std::process::{Command, Output};

fn quorum(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quorum")).args(args).env("RUST_LOG", "error").output().expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quorum-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn list_names_at_least_twelve_scenarios() {
    let output = quorum(&["list", "--json"]);
    assert!(output.status.success());
    let lines: Vec<serde_json::Value> = stdout(&output).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() >= 12);
    assert!(lines.iter().all(|l| l["name"].is_string() && l["description"].is_string()));
}

#[test]
fn run_json_has_the_documented_keys_and_exit_zero_on_success() {
    let output = quorum(&["run", "baseline", "--seed", "4", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let line: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    for key in [
        "scenario",
        "seed",
        "passed",
        "trace_hash",
        "tasks",
        "agreed",
        "no_consensus",
        "failed",
        "accuracy",
        "llm_calls",
        "sim_seconds",
        "wall_seconds",
        "violations",
    ] {
        assert!(line.get(key).is_some(), "missing {key}");
    }
    assert_eq!(line["passed"], true);
    assert_eq!(line["seed"], 4);
    assert!(line["trace_hash"].is_string());
}

#[test]
fn the_same_seed_prints_the_same_trace_hash_and_overrides_apply() {
    let hash = |args: &[&str]| -> serde_json::Value {
        let output = quorum(args);
        let line: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
        line
    };
    let first = hash(&["run", "swarm", "--seed", "9", "--json"]);
    let again = hash(&["run", "swarm", "--seed", "9", "--json"]);
    assert_eq!(first["trace_hash"], again["trace_hash"]);
    let smaller = hash(&["run", "swarm", "--seed", "9", "--tasks", "7", "--workers", "4", "--json"]);
    assert_eq!(smaller["tasks"], 7);
    assert_ne!(smaller["trace_hash"], first["trace_hash"]);
}

const FAILING: &str = r#"
name = "impossible-agreement"
description = "three workers never agree, yet it expects agreement"

[[cluster.workers]]
name = "w1"
[cluster.workers.profile]
accuracy = 1.0
confidence = "overconfident"

[[cluster.workers]]
name = "w2"
[cluster.workers.profile]
confidence = "overconfident"
byzantine = { mode = "scatter", slot = 0 }

[[cluster.workers]]
name = "w3"
[cluster.workers.profile]
confidence = "overconfident"
byzantine = { mode = "scatter", slot = 1 }

[cluster]
fault_phase_ms = 20000

[[cluster.faults.faults]]
at_ms = 1000
duration_ms = 4000
kind = "crash"
host = "w1"

[[cluster.faults.faults]]
at_ms = 3000
duration_ms = 5000
kind = "llm_storm"
error_rate = 0.5

[expect]
all_agreed = true
"#;

#[test]
fn a_failing_run_exits_one_with_its_replay_command_and_minimizes_to_a_smaller_reproduction() {
    let file = temp("failing.toml");
    std::fs::write(&file, FAILING).unwrap();
    let path = file.to_str().unwrap();
    let output = quorum(&["run", "--file", path, "--seed", "5"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("expectation all_agreed"), "{text}");
    assert!(text.contains(&format!("replay: quorum run --file {path} --seed 5")), "{text}");

    let output = quorum(&["minimize", "--file", path, "--seed", "5"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let minimized = stdout(&output);
    let reduced = quorum_scenarios::parse_scenario(&minimized).expect("the reproduction is a valid scenario file");
    assert!(reduced.cluster.faults.faults.is_empty(), "the faults were irrelevant: {minimized}");
    assert_eq!(reduced.cluster.workload.tasks, 1, "one task shows it");
    let small = temp("minimized.toml");
    std::fs::write(&small, &minimized).unwrap();
    let replay = quorum(&["run", "--file", small.to_str().unwrap(), "--seed", "5"]);
    assert_eq!(replay.status.code(), Some(1), "the reproduction still fails");
    assert!(stdout(&replay).contains("expectation all_agreed"));
}

#[test]
fn sweep_json_reports_runs_failures_and_determinism() {
    let output = quorum(&["sweep", "split-vote", "--seeds", "0..6", "--jobs", "2", "--check-determinism", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(summary["runs"], 6);
    assert_eq!(summary["passed"], 6);
    assert_eq!(summary["failed"], serde_json::json!([]));
    assert_eq!(summary["nondeterministic"], serde_json::json!([]));
    assert!(summary["seeds_per_second"].as_f64().unwrap() > 0.0);
    assert!(summary["wall_seconds"].is_number());

    let file = temp("sweep-failing.toml");
    std::fs::write(&file, FAILING).unwrap();
    let output = quorum(&["sweep", "--file", file.to_str().unwrap(), "--seeds", "0..=2", "--json", "--shard", "1/1"]);
    assert_eq!(output.status.code(), Some(1));
    let summary: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(summary["runs"], 3);
    let failed = summary["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 3);
    assert!(failed[0]["replay"].as_str().unwrap().contains("--seed 0"));
}

#[test]
fn shards_split_a_sweep() {
    let runs = |shard: &str| -> u64 {
        let output = quorum(&["sweep", "baseline", "--seeds", "0..10", "--shard", shard, "--json"]);
        serde_json::from_str::<serde_json::Value>(stdout(&output).trim()).unwrap()["runs"].as_u64().unwrap()
    };
    assert_eq!(runs("1/3") + runs("2/3") + runs("3/3"), 10);
}

#[test]
fn bad_input_exits_two_with_a_named_error() {
    let cases: [(&[&str], &str); 5] = [
        (&["run", "no-such-scenario"], "no scenario named"),
        (&["sweep", "baseline", "--seeds", "5..5"], "empty range"),
        (&["sweep", "baseline", "--seeds", "0..3", "--shard", "4/3"], "1 <= I <= N"),
        (&["run", "all", "--trace", "/tmp/x.jsonl"], "single scenario"),
        (&["consensus", "/no/such/file.json"], "reading /no/such/file.json"),
    ];
    for (args, expected) in cases {
        let output = quorum(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let file = temp("bad.toml");
    std::fs::write(&file, "name = \"x\"\n[cluster]\ntick_ms = \"fast\"\n").unwrap();
    let output = quorum(&["run", "--file", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3") && stderr.contains("tick_ms"), "{stderr}");
}

#[test]
fn trace_and_report_files_are_written() {
    let trace = temp("run.jsonl");
    let report = temp("run.html");
    let output = quorum(&[
        "run",
        "worker-crash",
        "--seed",
        "2",
        "--trace",
        trace.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--json",
    ]);
    assert!(output.status.success());
    let line: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&trace).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.iter().any(|e| e["kind"] == "fault"));
    assert!(lines.iter().all(|e| e["at_ms"].is_u64() && e["host"].is_string()));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains(line["trace_hash"].as_str().unwrap()));
}

#[test]
fn consensus_reads_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quorum"))
        .args(["consensus", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"answers": [{"worker": "a", "text": "x"}, {"worker": "b", "text": "x"}]}"#)
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let decision: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(decision["outcome"], "agreed");
}

/// A scenario whose every seed panics inside turmoil (a listener backlog of 2 and a
/// burst of 20 tasks).
const PANICKING: &str = "name = \"tiny-backlog\"\nworkers = 3\n[cluster]\ntcp_capacity = 2\n\
workload = { tasks = 20, arrival = { pattern = \"bursts\", size = 20, gap_ms = 1000 } }\n";

#[test]
fn a_panicking_seed_inside_a_sweep_is_that_seeds_failure_and_the_summary_still_comes() {
    // Regression (issue 7, item 1): the panic took the whole process (exit 101) and
    // the sweep printed no summary.
    let path = temp("panicking.toml");
    std::fs::write(&path, PANICKING).unwrap();
    let file = path.to_str().unwrap();
    let output = quorum(&["sweep", "--file", file, "--seeds", "0..3", "--jobs", "1", "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(summary["runs"], 3);
    assert_eq!(summary["panicked"], 3);
    let failure = &summary["failed"][0];
    assert_eq!(failure["kind"]["kind"], "panic");
    assert_eq!(failure["replay"], format!("quorum run --file {file} --seed 0"));
    // And minimize works on it: the failure kind is kept while it shrinks.
    let output = quorum(&["minimize", "--file", file, "--seed", "0"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stderr).contains("fails with panic"));
}

#[test]
fn flags_that_would_do_nothing_are_refused() {
    // Regression (issue 7, item 11): --jobs 0 meant 1 silently, an empty shard ran
    // nothing and passed, and a name next to --file was ignored.
    let path = temp("plain.toml");
    std::fs::write(&path, "name = \"plain\"\n").unwrap();
    let cases: [(&[&str], &str); 3] = [
        (&["sweep", "baseline", "--seeds", "0..3", "--jobs", "0"], "--jobs 0"),
        (&["sweep", "baseline", "--seeds", "0..3", "--shard", "5/10"], "holds no seed"),
        (&["run", "baseline", "--file", path.to_str().unwrap()], "not both"),
    ];
    for (args, message) in cases {
        let output = quorum(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains(message), "{args:?}");
    }
}

#[test]
fn shard_summaries_merge_into_the_whole_sweep() {
    let whole = quorum(&["sweep", "split-vote", "--seeds", "0..6", "--jobs", "1", "--json"]);
    let whole: serde_json::Value = serde_json::from_str(stdout(&whole).trim()).unwrap();
    let mut files = Vec::new();
    for shard in ["1/3", "2/3", "3/3"] {
        let output = quorum(&["sweep", "split-vote", "--seeds", "0..6", "--shard", shard, "--json"]);
        let path = temp(&format!("shard-{}.json", &shard[..1]));
        std::fs::write(&path, &output.stdout).unwrap();
        files.push(path.to_str().unwrap().to_owned());
    }
    let mut args = vec!["merge", "--json"];
    args.extend(files.iter().map(String::as_str));
    let merged = quorum(&args);
    assert_eq!(merged.status.code(), Some(0), "{}", String::from_utf8_lossy(&merged.stderr));
    let merged: serde_json::Value = serde_json::from_str(stdout(&merged).trim()).unwrap();
    for key in ["runs", "passed", "failed", "nondeterministic", "scenarios", "seeds"] {
        assert_eq!(merged[key], whole[key], "{key}");
    }
    // The same shard twice is not a sweep.
    let output = quorum(&["merge", &files[0], &files[0]]);
    assert_eq!(output.status.code(), Some(2));
    // A missing shard is reported and fails.
    let output = quorum(&["merge", &files[0], &files[1]]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("MISSING shards 3/3"));
}

#[test]
fn prop_checks_a_users_config_and_prints_inputs_that_reproduce_each_failure() {
    // Similarity 1 keeps every wording of the right answer apart: an honest majority
    // that words it differently cannot agree. The property says so, exit 1, and the
    // input it prints makes `quorum consensus` show the same no-consensus.
    let config = temp("strict.toml");
    std::fs::write(&config, "strategy = \"semantic\"\nsimilarity_join_min = 1.0\nsimilarity_merge_min = 1.0\n")
        .unwrap();
    let args = ["prop", "--config", config.to_str().unwrap(), "--cases", "200", "--seed", "3", "--json"];
    let output = quorum(&args);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let properties = report["configs"][0]["properties"].as_array().unwrap();
    let failed: Vec<&serde_json::Value> = properties.iter().filter(|p| p["passed"] == false).collect();
    assert_eq!(failed.len(), 1, "{properties:#?}");
    assert_eq!(failed[0]["name"], "honest_majority_decides");
    let input = temp("counterexample.json");
    std::fs::write(&input, failed[0]["reproduce"][0].to_string()).unwrap();
    let decision = quorum(&["consensus", input.to_str().unwrap()]);
    assert!(decision.status.success(), "{}", String::from_utf8_lossy(&decision.stderr));
    let decision: serde_json::Value = serde_json::from_str(&stdout(&decision)).unwrap();
    assert_eq!(decision["outcome"], "no_consensus");
    assert_eq!(decision["strategy"], "semantic", "the input carries the config");
    // The same seed checks the same cases.
    assert_eq!(stdout(&quorum(&args)), stdout(&output));

    let bad = temp("bad.toml");
    std::fs::write(&bad, "threshold = 7\n").unwrap();
    let refused = quorum(&["prop", "--config", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("consensus.threshold"));
}
