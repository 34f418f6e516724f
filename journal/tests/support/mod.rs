//! The writes a supervisor makes, for the journal's tests and its cost bench.

#![allow(dead_code, unreachable_pub)]

use quorum_core::consensus::Weighting;
use quorum_core::{
    HeuristicAnalyser, JournalState, JournalWrite, Outcome, PowerConfig, ResultMetadata, Task, TaskId, TaskResult,
    Vote, VotingPowers, WorkerId,
};

/// A task the journal accepts.
pub fn accepted(id: &str, text: &str) -> JournalWrite {
    let plan = HeuristicAnalyser::default().analyse(text);
    JournalWrite::Accepted { task: Task::new(id, text), plan }
}

/// Round `attempt` of task `id` started.
pub fn round(id: &str, attempt: u32) -> JournalWrite {
    JournalWrite::RoundStarted { task: TaskId::new(id), attempt }
}

/// Worker `worker`'s answer `text` in round `attempt` counted.
pub fn voted(id: &str, worker: &str, attempt: u32, text: &str) -> JournalWrite {
    JournalWrite::Voted { task: TaskId::new(id), vote: vote(worker, attempt, text), spent: Default::default() }
}

fn vote(worker: &str, attempt: u32, text: &str) -> Vote {
    Vote {
        worker: WorkerId::new(worker),
        attempt,
        text: text.to_owned(),
        confidence: 0.9,
        reported_confidence: None,
        power: 1.0,
        latency_ms: 120,
        embedding: None,
        meaning: None,
    }
}

/// Task `id` agreed on `answer`; `powers_seen` workers have a record.
pub fn finished(id: &str, text: &str, answer: &str, workers: &[&str]) -> JournalWrite {
    let plan = HeuristicAnalyser::default().analyse(text);
    let votes: Vec<Vote> = workers.iter().map(|worker| vote(worker, 1, answer)).collect();
    let mut powers = VotingPowers::new(PowerConfig::default(), Weighting::default());
    for worker in workers {
        powers.record(&WorkerId::new(*worker), true, 0.9);
    }
    let result = TaskResult {
        task: TaskId::new(id),
        outcome: Outcome::Agreed { answer: answer.to_owned(), support: 1.0, margin: 1.0, confidence: 0.9 },
        alternatives: Vec::new(),
        metadata: ResultMetadata {
            plan,
            threshold: 0.6,
            workers_asked: workers.iter().map(|worker| WorkerId::new(*worker)).collect(),
            votes,
            excluded: Vec::new(),
            failures: Vec::new(),
            rounds: 1,
            early_stopped: false,
            submitted_at_ms: 1_000,
            started_at_ms: Some(1_001),
            finished_at_ms: 1_500,
            llm_calls: workers.len() as u64,
            prompt_tokens: 300,
            completion_tokens: 30,
            rate_limit_wait_ms: 0,
        },
    };
    JournalWrite::Finished { result: Box::new(result), powers }
}

/// A client received task `id`'s result.
pub fn delivered(id: &str) -> JournalWrite {
    JournalWrite::Delivered { task: TaskId::new(id) }
}

/// What a supervisor writes for one task that three workers agree on, in batches
/// with their sync flag: the acceptance (synced before the client hears it), the
/// round, three votes, the result (synced) and its delivery.
pub fn task_batches(id: &str) -> Vec<(Vec<JournalWrite>, bool)> {
    let text = format!("What is the sum of 17 and 25 in task {id}?");
    let workers = ["w1", "w2", "w3"];
    let mut batches = vec![(vec![accepted(id, &text)], true), (vec![round(id, 1)], false)];
    for worker in workers {
        batches.push((vec![voted(id, worker, 1, "42")], false));
    }
    batches.push((vec![finished(id, &text, "42", &workers)], true));
    batches.push((vec![delivered(id)], false));
    batches
}

/// The writes folded by quorum-core's own rule: what a journal must load.
pub fn folded<'a>(writes: impl IntoIterator<Item = &'a JournalWrite>) -> JournalState {
    let mut state = JournalState::default();
    for write in writes {
        state.apply(write);
    }
    state
}
