//! The supervisor machine driven by hand: every input explicit, time explicit.

use super::*;
use crate::consensus::ExclusionReason;
use crate::link::{Heartbeat, LinkError, WorkerAnswer};
use crate::result::{FailureReason, Outcome};
use crate::task::Task;

pub(super) struct Harness {
    pub(super) machine: SupervisorMachine,
    pub(super) now_ms: u64,
}

pub(super) fn config() -> SupervisorConfig {
    let mut config = SupervisorConfig::default();
    config.pool.heartbeat_interval_ms = 1_000;
    config
}

impl Harness {
    pub(super) fn new(config: SupervisorConfig, workers: &[&str]) -> Self {
        let mut machine = SupervisorMachine::new(config).unwrap();
        for worker in workers {
            machine.handle_worker_joined(WorkerId::from(*worker), 0);
        }
        let mut harness = Self { machine, now_ms: 0 };
        harness.machine.handle_timeout(0);
        harness.commands(); // first heartbeats
        harness
    }

    pub(super) fn commands(&mut self) -> Vec<Command> {
        core::iter::from_fn(|| self.machine.poll_command()).collect()
    }

    pub(super) fn executes(&mut self) -> Vec<(WorkerId, ExecuteRequest)> {
        self.commands()
            .into_iter()
            .filter_map(|c| match c {
                Command::Execute { worker, request } => Some((worker, request)),
                _ => None,
            })
            .collect()
    }

    pub(super) fn submit(&mut self, id: &str, text: &str) -> Vec<(WorkerId, ExecuteRequest)> {
        let submitted = self.machine.handle_submit(Task::new(id, text), None, self.now_ms).unwrap();
        assert_eq!(submitted, Submitted::Accepted);
        self.executes()
    }

    pub(super) fn answer(&mut self, worker: &WorkerId, request: &ExecuteRequest, text: &str) {
        let answer = WorkerAnswer {
            worker: worker.clone(),
            task: request.task.clone(),
            attempt: request.attempt,
            text: text.into(),
            confidence: 0.9,
            llm_calls: 1,
            prompt_tokens: 10,
            completion_tokens: 2,
            latency_ms: 100,
            rate_limit_wait_ms: 0,
        };
        self.machine.handle_answer(worker, &request.task, request.attempt, Ok(answer), self.now_ms);
    }

    pub(super) fn fail(&mut self, worker: &WorkerId, request: &ExecuteRequest, error: LinkError) {
        self.machine.handle_answer(worker, &request.task, request.attempt, Err(error), self.now_ms);
    }

    pub(super) fn advance(&mut self, ms: u64) {
        self.now_ms += ms;
        self.machine.handle_timeout(self.now_ms);
    }

    pub(super) fn results(&mut self) -> Vec<TaskResult> {
        core::iter::from_fn(|| self.machine.poll_result()).collect()
    }
}

/// The first of `workers` that is not among `asked`.
pub(super) fn not_asked(workers: &[&str], asked: &[(WorkerId, ExecuteRequest)]) -> WorkerId {
    workers
        .iter()
        .map(|w| WorkerId::from(*w))
        .find(|w| !asked.iter().any(|(a, _)| a == w))
        .expect("a worker was not asked")
}

#[test]
fn agreeing_workers_give_one_agreed_result_early() {
    let mut h = Harness::new(config(), &["w1", "w2", "w3"]);
    let asked = h.submit("t1", "What is 2 + 2?");
    assert_eq!(asked.len(), 3, "three distinct workers");
    h.answer(&asked[0].0, &asked[0].1, "4");
    assert!(h.results().is_empty(), "one answer is not a quorum");
    h.answer(&asked[1].0, &asked[1].1, "The answer is 4.");
    let results = h.results();
    assert_eq!(results.len(), 1);
    let result = &results[0];
    assert!(result.is_agreed());
    assert!(result.metadata.early_stopped, "the third answer cannot overturn 2 of 3");
    assert!(h.commands().iter().any(|c| matches!(c, Command::Cancel { worker, .. } if *worker == asked[2].0)));
    assert_eq!(result.metadata.llm_calls, 2);
    // The straggler's answer is late, not a second result.
    h.answer(&asked[2].0, &asked[2].1, "5");
    assert!(h.results().is_empty());
    assert_eq!(h.machine.stats().late_answers, 1);
}

#[test]
fn resubmission_is_idempotent() {
    let mut h = Harness::new(config(), &["w1", "w2", "w3"]);
    let asked = h.submit("t1", "What is 2 + 2?");
    assert_eq!(h.machine.handle_submit(Task::new("t1", "What is 2 + 2?"), None, 0).unwrap(), Submitted::InProgress);
    for (worker, request) in &asked {
        h.answer(worker, request, "4");
    }
    let result = h.results().pop().unwrap();
    match h.machine.handle_submit(Task::new("t1", "What is 2 + 2?"), None, 0).unwrap() {
        Submitted::Completed(again) => assert_eq!(*again, result),
        other => panic!("expected the stored result, got {other:?}"),
    }
    assert!(h.results().is_empty(), "no second result on the stream");
}

#[test]
fn split_vote_escalates_to_fresh_workers() {
    let mut config = config();
    config.early_stop = false;
    let mut h = Harness::new(config, &["w1", "w2", "w3", "w4", "w5"]);
    let asked = h.submit("t1", "What is 2 + 2?");
    h.answer(&asked[0].0, &asked[0].1, "4");
    h.answer(&asked[1].0, &asked[1].1, "5");
    h.fail(&asked[2].0, &asked[2].1, LinkError::Unavailable);
    assert!(h.results().is_empty(), "1 vs 1 is a split: escalate instead of giving up");
    let second = h.executes();
    assert_eq!(second.len(), 2, "two escalation workers");
    let first_round: Vec<&WorkerId> = asked.iter().map(|(w, _)| w).collect();
    for (worker, request) in &second {
        assert!(!first_round.contains(&worker), "fresh workers only");
        assert_eq!(request.attempt, 2);
    }
    for (worker, request) in &second {
        h.answer(worker, request, "4");
    }
    let result = h.results().pop().unwrap();
    assert_eq!(result.answer(), Some("4"));
    assert_eq!(result.metadata.rounds, 2);
    assert_eq!(result.metadata.failures.len(), 1);
}

#[test]
fn a_true_split_ends_as_no_consensus_not_failure() {
    let mut config = config();
    config.escalation_workers = 0;
    let mut h = Harness::new(config, &["w1", "w2", "w3"]);
    let asked = h.submit("t1", "Name a primary colour.");
    for ((worker, request), text) in asked.iter().zip(["red", "blue", "yellow"]) {
        h.answer(worker, request, text);
    }
    let result = h.results().pop().unwrap();
    assert!(matches!(result.outcome, Outcome::NoConsensus { .. }), "{:?}", result.outcome);
    assert_eq!(result.alternatives.len(), 3);
}

#[test]
fn silent_workers_time_out_and_the_task_is_retried_then_failed() {
    let mut config = config();
    config.attempts_max = 2;
    let mut h = Harness::new(config, &["w1", "w2", "w3"]);
    let asked = h.submit("t1", "What is 2 + 2?");
    let timeout = asked[0].1.timeout_ms;
    // Keep the workers healthy: they answer heartbeats, just never the task.
    let mut retried = Vec::new();
    let mut elapsed = 0;
    while elapsed <= timeout * 2 + 2_000 {
        h.advance(500);
        elapsed += 500;
        for command in h.commands() {
            match command {
                Command::Heartbeat { worker } => {
                    let heartbeat = Heartbeat { worker: worker.clone(), load: 0, capacity: 4 };
                    h.machine.handle_heartbeat(&worker, Ok(heartbeat), h.now_ms);
                }
                Command::Execute { request, .. } => retried.push(request.attempt),
                _ => {}
            }
        }
    }
    assert_eq!(retried, vec![2, 2, 2], "the whole panel is asked again once");
    let result = h.results().pop().expect("a result after the retry budget");
    assert_eq!(result.outcome, Outcome::Failed { reason: FailureReason::NotEnoughAnswers { received: 0, needed: 2 } });
    assert_eq!(result.metadata.failures.len(), 6);
}

#[test]
fn offline_worker_work_is_reassigned_without_waiting_for_the_deadline() {
    let mut h = Harness::new(config(), &["w1", "w2", "w3", "w4"]);
    let asked = h.submit("t1", "What is 2 + 2?");
    let idle: WorkerId = not_asked(&["w1", "w2", "w3", "w4"], &asked);
    let lost = asked[0].0.clone();
    for _ in 0..3 {
        h.machine.handle_heartbeat(&lost, Err(LinkError::Unavailable), h.now_ms);
    }
    h.answer(&asked[1].0, &asked[1].1, "4");
    h.answer(&asked[2].0, &asked[2].1, "5");
    let reassigned = h.executes();
    assert_eq!(reassigned.len(), 1);
    assert_eq!(reassigned[0].0, idle, "the idle worker takes over the lost worker's place");
    h.answer(&reassigned[0].0, &reassigned[0].1, "4");
    let result = h.results().pop().unwrap();
    assert_eq!(result.answer(), Some("4"));
    assert!(result.metadata.failures.iter().any(|f| f.worker == lost && f.error == LinkError::Unavailable));
}

#[test]
fn twins_and_strangers_do_not_vote() {
    let mut config = config();
    config.early_stop = false;
    config.escalation_workers = 0;
    let mut h = Harness::new(config, &["w1", "w2", "w3", "w4"]);
    let asked = h.submit("t1", "What is 2 + 2?");
    let stranger: WorkerId = not_asked(&["w1", "w2", "w3", "w4"], &asked);
    h.answer(&stranger, &asked[0].1, "7");
    assert_eq!(h.machine.stats().unassigned_answers, 1);
    let twin = asked[0].0.clone();
    h.answer(&twin, &asked[0].1, "7");
    h.answer(&twin, &asked[0].1, "9");
    h.answer(&asked[1].0, &asked[1].1, "4");
    h.answer(&asked[2].0, &asked[2].1, "4");
    let result = h.results().pop().unwrap();
    assert_eq!(result.answer(), Some("4"));
    assert_eq!(result.metadata.excluded.len(), 1);
    assert_eq!(result.metadata.excluded[0].reason, ExclusionReason::Equivocated);
    assert!(h.machine.powers().power(&twin) < 1.0, "equivocating costs voting power");
    assert!(result.alternatives.iter().all(|g| !g.members.contains(&stranger)));
}

#[test]
fn no_workers_means_a_failed_result_after_the_wait() {
    let mut h = Harness::new(config(), &[]);
    let asked = h.submit("t1", "What is 2 + 2?");
    assert!(asked.is_empty());
    for _ in 0..61 {
        h.advance(1_000);
        h.commands();
    }
    let result = h.results().pop().unwrap();
    assert!(
        matches!(result.outcome, Outcome::Failed { reason: FailureReason::NoWorkers { waited_ms } } if waited_ms >= 60_000)
    );
}

#[test]
fn demand_asks_the_scaler_and_new_workers_take_the_work() {
    let mut h = Harness::new(config(), &["w1", "w2", "w3"]);
    for i in 0..8 {
        h.machine.handle_submit(Task::new(format!("t{i}"), "What is 2 + 2?"), None, 0).unwrap();
    }
    h.commands();
    h.advance(3_000);
    let scale_up = h.commands().into_iter().find_map(|c| match c {
        Command::ScaleUp { count } => Some(count),
        _ => None,
    });
    let count = scale_up.expect("queued demand asks for workers");
    assert!(count >= 1);
    let new: Vec<WorkerId> = (0..count).map(|i| WorkerId::from(format!("n{i}"))).collect();
    h.machine.handle_scaled_up(count, Ok(new.clone()), h.now_ms);
    let executes = h.executes();
    assert!(executes.iter().any(|(w, _)| new.contains(w)), "new workers get queued work");
}

#[test]
fn shutdown_ends_queued_work_and_lets_running_work_finish() {
    let mut config = config();
    config.running_tasks_max = 1;
    let mut h = Harness::new(config, &["w1", "w2", "w3"]);
    let asked = h.submit("running", "What is 2 + 2?");
    h.machine.handle_submit(Task::new("queued", "What is 3 + 3?"), None, 0).unwrap();
    h.machine.shutdown(0);
    assert!(matches!(h.machine.handle_submit(Task::new("late", "x"), None, 0), Err(SubmitError::ShuttingDown)));
    let queued = h.results().pop().unwrap();
    assert_eq!(queued.task, TaskId::from("queued"));
    assert_eq!(queued.outcome, Outcome::Failed { reason: FailureReason::ShutDown });
    assert!(!h.machine.is_idle());
    for (worker, request) in &asked {
        h.answer(worker, request, "4");
    }
    assert_eq!(h.results().pop().unwrap().answer(), Some("4"));
    assert!(h.machine.is_idle());
    assert_eq!(h.machine.poll_timeout(), None);
}

#[test]
fn invalid_tasks_are_refused_with_the_reason() {
    let mut h = Harness::new(config(), &["w1"]);
    let error = h.machine.handle_submit(Task::new("t", " "), None, 0).unwrap_err();
    assert!(error.to_string().contains("text is empty"), "{error}");
}

#[test]
fn wrong_workers_lose_power_over_time() {
    let mut config = config();
    config.early_stop = false;
    let mut h = Harness::new(config, &["w1", "w2", "w3"]);
    // Power moves only as fast as the evidence (a prior worth 20 tasks): 20 tasks of
    // always being wrong halve it.
    for i in 0..20 {
        let asked = h.submit(&format!("t{i}"), "What is 2 + 2?");
        for (worker, request) in &asked {
            h.answer(worker, request, if worker.as_str() == "w3" { "5" } else { "4" });
        }
        assert_eq!(h.results().pop().unwrap().answer(), Some("4"));
    }
    let powers = h.machine.powers();
    assert!(powers.power(&"w3".into()) <= 0.5, "{powers:?}");
    assert!(powers.power(&"w1".into()) > 1.15, "{powers:?}");
}

#[test]
fn under_log_odds_the_record_calibrates_the_confidence_a_ballot_carries() {
    let mut config = config();
    config.early_stop = false;
    config.consensus.weighting = crate::consensus::Weighting::LogOdds;
    let mut h = Harness::new(config, &["w1", "w2", "w3"]);
    let mut last = None;
    for i in 0..20 {
        let asked = h.submit(&format!("t{i}"), "What is 2 + 2?");
        for (worker, request) in &asked {
            h.answer(worker, request, if worker.as_str() == "w3" { "5" } else { "4" });
        }
        last = h.results().pop();
        let result = last.as_ref().unwrap();
        assert_eq!(result.answer(), Some("4"));
        if i == 0 {
            // No record yet: every ballot carries the prior, whatever was reported.
            for vote in &result.metadata.votes {
                assert_eq!(vote.confidence, 0.75, "{vote:?}");
                assert_eq!(vote.reported_confidence, Some(0.9));
            }
        }
    }
    let votes = &last.unwrap().metadata.votes;
    let carried = |id: &str| votes.iter().find(|v| v.worker.as_str() == id).unwrap().confidence;
    // 19 of 19 agreed: (19 + 15) / 39; none of 19: 15 / 39.
    assert!((carried("w1") - 34.0 / 39.0).abs() < 1e-12, "{votes:?}");
    assert!((carried("w3") - 15.0 / 39.0).abs() < 1e-12, "{votes:?}");
    // The record went into the confidence, not the power.
    assert!(votes.iter().all(|v| v.power == 1.0));
    assert_eq!(h.machine.powers().power(&"w3".into()), 1.0);
}

#[test]
fn a_failed_round_backs_off_before_the_next() {
    let mut h = Harness::new(config(), &["w1", "w2", "w3", "w4", "w5", "w6"]);
    let asked = h.submit("t1", "What is 2 + 2?");
    for (worker, request) in &asked {
        h.fail(worker, request, LinkError::Worker(crate::worker::WorkerError::Llm(crate::llm::LlmError::Timeout)));
    }
    let immediate = h.executes();
    assert!(immediate.is_empty(), "no new round at once: every failure would land in the same storm: {immediate:?}");
    assert_eq!(h.machine.poll_timeout(), Some(1_000), "the machine wakes for the retry");
    h.advance(999);
    assert!(h.executes().is_empty());
    h.advance(1);
    let second = h.executes();
    // The 3 answers still missing, plus one more worker for each of the 3 that
    // failed the last round (issue 7, item 10: a retry round asked only what was
    // missing, so a storm that failed most calls failed the retries too).
    assert_eq!(second.len(), 6);
    assert!(second.iter().all(|(_, r)| r.attempt == 2));
}

#[test]
fn retries_end_with_the_time_budget_not_a_round_count() {
    // Regression (issue 7, item 10): three rounds spent inside a short storm failed
    // the task long before the storm ended.
    let mut config = config();
    config.retry_budget_ms = 20_000;
    let mut h = Harness::new(config, &["w1", "w2", "w3"]);
    let mut asked = h.submit("t1", "What is 2 + 2?");
    let mut round_starts_ms = Vec::new();
    let result = loop {
        if !asked.is_empty() {
            round_starts_ms.push(h.now_ms);
            for (worker, request) in &asked {
                let error = LinkError::Worker(crate::worker::WorkerError::Llm(crate::llm::LlmError::Timeout));
                h.fail(worker, request, error);
            }
        }
        if let Some(result) = h.results().pop() {
            break result;
        }
        assert!(h.now_ms < 100_000, "no result by {} ms", h.now_ms);
        let next = h.machine.poll_timeout().expect("a task is open");
        h.advance(next - h.now_ms);
        // The workers stay healthy: only their model fails.
        asked = Vec::new();
        for command in h.commands() {
            match command {
                Command::Heartbeat { worker } => {
                    let heartbeat = Heartbeat { worker: worker.clone(), load: 0, capacity: 4 };
                    h.machine.handle_heartbeat(&worker, Ok(heartbeat), h.now_ms);
                }
                Command::Execute { worker, request } => asked.push((worker, request)),
                _ => {}
            }
        }
        asked.extend(h.executes());
    };
    // Waits of 1, 2, 4 and 8 s fit in the 20 s budget; the next (16 s, from 15 s)
    // would not: five rounds, not the old fixed three, and then a clear failure.
    assert_eq!(round_starts_ms, vec![0, 1_000, 3_000, 7_000, 15_000]);
    assert!(matches!(result.outcome, Outcome::Failed { reason: FailureReason::NotEnoughAnswers { .. } }));
}

#[test]
fn a_delivered_answer_does_not_end_the_pending_call() {
    // Regression: a twin's pushed answer cleared the worker's pending call, the round
    // closed on it, and the twin's other answer (the call's reply) came too late to be
    // seen as a conflict.
    let mut config = config();
    config.early_stop = false;
    let mut h = Harness::new(config, &["w1", "w2", "w3"]);
    let asked = h.submit("t1", "What is 2 + 2?");
    let (twin, request) = asked[0].clone();
    let pushed = answer_from(&twin, &request, "7".into(), 0.9);
    h.machine.handle_delivered(pushed, 0);
    h.answer(&asked[1].0, &asked[1].1, "4");
    h.answer(&asked[2].0, &asked[2].1, "4");
    assert!(h.results().is_empty(), "the twin's call is still pending");
    h.answer(&twin, &request, "4");
    let result = h.results().pop().unwrap();
    assert_eq!(result.metadata.excluded, vec![crate::consensus::Exclusion::new(twin, ExclusionReason::Equivocated)]);
    assert_eq!(h.machine.stats().equivocations, 1);
}

#[test]
fn a_delivered_answer_from_a_worker_never_asked_never_counts() {
    // A pushed answer bypasses the execute call, so nothing but the assignment check
    // stands between a stranger (or a forged id) and the vote.
    let mut config = config();
    config.early_stop = false;
    config.escalation_workers = 0;
    let mut h = Harness::new(config, &["w1", "w2", "w3", "w4"]);
    let asked = h.submit("t1", "What is 2 + 2?");
    let stranger: WorkerId = not_asked(&["w1", "w2", "w3", "w4"], &asked);
    let pushed = answer_from(&stranger, &asked[0].1, "5".into(), 1.0);
    h.machine.handle_delivered(pushed, 0);
    assert_eq!(h.machine.stats().unassigned_answers, 1);
    h.answer(&asked[0].0, &asked[0].1, "4");
    h.answer(&asked[1].0, &asked[1].1, "5");
    h.answer(&asked[2].0, &asked[2].1, "4");
    let result = h.results().pop().unwrap();
    assert!(result.metadata.votes.iter().all(|v| v.worker != stranger), "{:?}", result.metadata.votes);
    assert!(result.alternatives.iter().all(|g| !g.members.contains(&stranger)));
    assert_eq!(result.answer(), Some("4"));
    assert_eq!(result.metadata.llm_calls, 3, "the stranger's work is not accounted either");
}

/// Answers every heartbeat the machine asks for and returns the executes it issued.
pub(super) fn keep_alive(h: &mut Harness) -> Vec<(WorkerId, ExecuteRequest)> {
    let mut executes = Vec::new();
    for command in h.commands() {
        match command {
            Command::Heartbeat { worker } => {
                let heartbeat = Heartbeat { worker: worker.clone(), load: 0, capacity: 4 };
                h.machine.handle_heartbeat(&worker, Ok(heartbeat), h.now_ms);
            }
            Command::Execute { worker, request } => executes.push((worker, request)),
            _ => {}
        }
    }
    executes
}

#[test]
fn a_late_failure_of_an_old_round_leaves_the_new_ask_pending() {
    // A failure reported for round 1 after the same worker was asked again in round 2
    // must not end the round-2 call: the worker's round-2 answer would then be dropped
    // as coming from no pending call, and the round would close one voter short.
    let mut h = Harness::new(config(), &["w1", "w2", "w3"]);
    let first = h.submit("t1", "What is 2 + 2?");
    assert!(first.iter().all(|(_, r)| r.attempt == 1));
    let timeout = first[0].1.timeout_ms;
    let mut second = Vec::new();
    let mut elapsed = 0;
    while second.is_empty() {
        assert!(elapsed <= timeout * 4, "no second round");
        h.advance(500);
        elapsed += 500;
        second = keep_alive(&mut h);
    }
    let (worker, round_one) = first[0].clone();
    let (_, round_two) = second.iter().find(|(w, _)| *w == worker).cloned().expect("the worker is asked again");
    assert_eq!(round_two.attempt, 2);
    let failures_before = h.machine.tasks[&round_one.task].failures.len();
    h.fail(&worker, &round_one, LinkError::Worker(crate::worker::WorkerError::Llm(crate::llm::LlmError::Timeout)));
    let state = &h.machine.tasks[&round_one.task];
    assert!(state.assignments[&worker].pending, "the round-2 ask was ended by a round-1 failure");
    assert_eq!(state.assignments[&worker].attempt, 2);
    assert_eq!(state.failures.len(), failures_before, "a stale failure is not recorded again");
    assert!(
        !h.commands().iter().any(|c| matches!(c, Command::Cancel { worker: w, .. } if *w == worker)),
        "the round-2 call was cancelled"
    );
    for (other, request) in &second {
        h.answer(other, request, "4");
    }
    let result = h.results().pop().expect("round 2 decides");
    assert_eq!(result.answer(), Some("4"));
    assert!(result.metadata.votes.iter().any(|v| v.worker == worker && v.attempt == 2));
}

/// An answer `worker` sends for `request`, whatever it says: any text, any confidence.
pub(super) fn answer_from(worker: &WorkerId, request: &ExecuteRequest, text: String, confidence: f64) -> WorkerAnswer {
    WorkerAnswer {
        worker: worker.clone(),
        task: request.task.clone(),
        attempt: request.attempt,
        text,
        confidence,
        llm_calls: 1,
        prompt_tokens: 1,
        completion_tokens: 1,
        latency_ms: 10,
        rate_limit_wait_ms: 0,
    }
}

#[test]
fn oversized_answers_and_absurd_confidences_are_refused_at_the_boundary_not_a_panic() {
    // Regression: a 65 KiB answer reached decide(), which refuses it, and the machine's
    // expect() panicked; a NaN confidence was silently read as 0, a 7 as 1.
    let oversized = "4".repeat(crate::consensus::ANSWER_BYTES_MAX + 1);
    type Counter = fn(&SupervisorStats) -> u64;
    let cases: [(String, f64, Counter); 4] = [
        (oversized, 0.9, |s| s.rejected_too_long),
        ("4".into(), f64::NAN, |s| s.rejected_confidence),
        ("4".into(), 7.0, |s| s.rejected_confidence),
        ("4".into(), -0.5, |s| s.rejected_confidence),
    ];
    for (text, confidence, counter) in cases {
        let mut config = config();
        config.early_stop = false;
        let mut h = Harness::new(config, &["w1", "w2", "w3", "w4"]);
        let asked = h.submit("t1", "What is 2 + 2?");
        let (hostile_worker, request) = asked[0].clone();
        // Once on its own call, once pushed outside it: both refused and counted.
        let on_call = answer_from(&hostile_worker, &request, text.clone(), confidence);
        h.machine.handle_answer(&hostile_worker, &request.task, request.attempt, Ok(on_call), h.now_ms);
        h.machine.handle_delivered(answer_from(&hostile_worker, &request, text, confidence), h.now_ms);
        assert_eq!(counter(h.machine.stats()), 2, "confidence {confidence}");
        // The refused round failed: someone else is asked in its place.
        let replacement = h.executes();
        assert!(replacement.iter().all(|(w, _)| *w != hostile_worker), "{replacement:?}");
        for (worker, request) in asked[1..].iter().chain(&replacement) {
            h.answer(worker, request, "4");
        }
        let result = h.results().pop().expect("the task still ends with one result");
        assert!(result.is_agreed(), "{result:?}");
        assert!(result.metadata.votes.iter().all(|v| v.worker != hostile_worker), "a refused answer never votes");
    }
}

#[test]
fn absurd_token_counts_saturate_instead_of_overflowing() {
    let mut h = Harness::new(config(), &["w1", "w2", "w3"]);
    let asked = h.submit("t1", "What is 2 + 2?");
    for (worker, request) in &asked {
        let boast = WorkerAnswer {
            llm_calls: u32::MAX,
            prompt_tokens: u64::MAX,
            completion_tokens: u64::MAX,
            ..answer_from(worker, request, "4".to_owned(), 0.9)
        };
        h.machine.handle_answer(worker, &request.task, request.attempt, Ok(boast), h.now_ms);
    }
    let result = h.results().pop().expect("one result");
    assert_eq!(result.answer(), Some("4"));
    assert_eq!(result.metadata.prompt_tokens, u64::MAX);
    assert_eq!(result.metadata.completion_tokens, u64::MAX);
}
