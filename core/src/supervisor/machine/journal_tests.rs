//! Journaling and recovery, by hand: what the machine writes, and how a new
//! incarnation resumes from what survived.

use super::tests::{Harness, config};
use super::*;
use crate::journal::{Journal, JournalState, JournalWrite, MemoryJournal};

const WORKERS: [&str; 3] = ["w1", "w2", "w3"];

/// A machine journaling into `journal` (resumed from it), with three workers.
fn journaled(journal: &MemoryJournal) -> Harness {
    let mut h = Harness::new(config(), &[]);
    h.machine.recover(&journal.load().unwrap(), 0);
    for worker in WORKERS {
        h.machine.handle_worker_joined(WorkerId::from(worker), 0);
    }
    h
}

/// What the driver does: writes what the machine journaled, synced if any is a promise.
fn flush(h: &mut Harness, journal: &MemoryJournal) -> Vec<JournalWrite> {
    let writes: Vec<JournalWrite> = core::iter::from_fn(|| h.machine.poll_journal()).collect();
    let sync = writes.iter().any(JournalWrite::must_sync);
    journal.write(&writes, sync).unwrap();
    writes
}

#[test]
fn a_machine_without_a_journal_writes_nothing() {
    let mut h = Harness::new(config(), &WORKERS);
    let asked = h.submit("t1", "What is 2 + 2?");
    for (worker, request) in &asked {
        h.answer(worker, request, "4");
    }
    assert_eq!(h.results().len(), 1);
    assert_eq!(h.machine.poll_journal(), None);
}

#[test]
fn acceptance_rounds_votes_and_the_result_are_journaled_in_order() {
    let journal = MemoryJournal::new();
    let mut h = journaled(&journal);
    flush(&mut h, &journal);
    let asked = h.submit("t1", "What is 2 + 2?");
    let kinds = |writes: &[JournalWrite]| -> Vec<&'static str> {
        writes
            .iter()
            .map(|w| match w {
                JournalWrite::Accepted { .. } => "accepted",
                JournalWrite::RoundStarted { .. } => "round",
                JournalWrite::Voted { .. } => "voted",
                JournalWrite::Finished { .. } => "finished",
                JournalWrite::Delivered { .. } => "delivered",
            })
            .collect()
    };
    assert_eq!(kinds(&flush(&mut h, &journal)), ["accepted", "round"]);
    assert_eq!(journal.syncs(), 1, "the acceptance is synced");
    h.answer(&asked[0].0, &asked[0].1, "4");
    h.answer(&asked[1].0, &asked[1].1, "4");
    let result = h.results().pop().unwrap();
    assert_eq!(kinds(&flush(&mut h, &journal)), ["voted", "voted", "finished"]);
    assert_eq!(journal.syncs(), 2, "the result is synced");
    h.machine.handle_result_delivered(&result.task);
    assert_eq!(kinds(&flush(&mut h, &journal)), ["delivered"]);
    // The late third answer is no vote, so nothing is journaled for it.
    h.answer(&asked[2].0, &asked[2].1, "4");
    assert_eq!(h.machine.poll_journal(), None);
    let state = journal.load().unwrap();
    let entry = &state.tasks[&TaskId::from("t1")];
    assert_eq!(entry.result.as_deref(), Some(&result));
    assert!(entry.delivered);
    assert_eq!(state.powers.as_ref(), Some(h.machine.powers()));
}

#[test]
fn a_restart_resumes_an_unfinished_task_with_its_votes_and_asks_only_the_others() {
    let journal = MemoryJournal::new();
    let mut before = journaled(&journal);
    let asked = before.submit("t1", "What is 2 + 2?");
    flush(&mut before, &journal);
    before.answer(&asked[0].0, &asked[0].1, "4");
    // The vote is journaled without a sync; a later synced write (another task's
    // acceptance) makes it durable before the crash.
    before.submit("t2", "What is 3 + 3?");
    flush(&mut before, &journal);
    journal.crash();

    let mut after = journaled(&journal);
    let executes = after.executes();
    let t1: Vec<&(WorkerId, ExecuteRequest)> = executes.iter().filter(|(_, r)| r.task.as_str() == "t1").collect();
    assert!(!t1.is_empty(), "t1 resumes: {executes:?}");
    assert!(t1.iter().all(|(worker, request)| *worker != asked[0].0 && request.attempt == 2), "{t1:?}");
    // The old round's straggler is no vote in the new incarnation.
    after.answer(&asked[1].0, &asked[1].1, "5");
    assert!(after.results().is_empty());
    for (worker, request) in t1 {
        after.answer(worker, request, "4");
    }
    let result = after.results().into_iter().find(|r| r.task.as_str() == "t1").unwrap();
    assert!(result.is_agreed(), "{:?}", result.outcome);
    let voters: Vec<&str> = result.metadata.votes.iter().map(|v| v.worker.as_str()).collect();
    assert!(voters.contains(&asked[0].0.as_str()), "the vote from before the crash counts: {voters:?}");
    assert_eq!(voters.iter().filter(|w| **w == asked[0].0.as_str()).count(), 1, "and counts once");
    // Its cost was journaled with it: the result counts every answer's calls and tokens.
    let votes = result.metadata.votes.len() as u64;
    assert_eq!(result.metadata.llm_calls, votes, "one call per answer, before and after the crash");
    assert_eq!(result.metadata.prompt_tokens, 10 * votes);
    after.machine.assert_invariants().unwrap();
}

#[test]
fn a_finished_task_answers_from_the_journal_and_powers_survive() {
    let journal = MemoryJournal::new();
    let mut before = journaled(&journal);
    let asked = before.submit("t1", "What is 2 + 2?");
    before.answer(&asked[0].0, &asked[0].1, "4");
    before.answer(&asked[1].0, &asked[1].1, "5");
    before.answer(&asked[2].0, &asked[2].1, "4");
    let result = before.results().pop().unwrap();
    flush(&mut before, &journal);
    let powers = before.machine.powers().clone();
    journal.crash();

    let mut after = journaled(&journal);
    assert_eq!(after.machine.powers(), &powers, "what the workers earned is kept");
    let again = after.machine.handle_submit(crate::task::Task::new("t1", "What is 2 + 2?"), None, 0).unwrap();
    assert_eq!(again, Submitted::Completed(Box::new(result)), "the same result, not a second one");
    assert!(after.executes().is_empty());
    assert!(after.results().is_empty());
}

#[test]
fn an_acceptance_lost_before_its_sync_never_happened() {
    let journal = MemoryJournal::new();
    let mut before = journaled(&journal);
    before.submit("t1", "What is 2 + 2?");
    // Crashed before the driver wrote it: the client never heard "accepted".
    journal.crash();
    let state: JournalState = journal.load().unwrap();
    assert!(state.tasks.is_empty());
    let mut after = journaled(&journal);
    assert!(after.executes().is_empty());
}
