//! One test per class of worker input the machine refuses at its boundary: each
//! asserts the counter, the health mark (or its absence, where honest workers send
//! the same), and that the task still ends with exactly one correct result.

use super::tests::{Harness, answer_from, config, not_asked};
use super::*;
use crate::link::{Heartbeat, LinkError};
use crate::pool::WorkerStatus;

const WORKERS: [&str; 4] = ["w1", "w2", "w3", "w4"];

/// Four workers, no early stop and no escalation, one task asked of three.
fn asked_three() -> (Harness, Vec<(WorkerId, ExecuteRequest)>) {
    let mut config = config();
    config.early_stop = false;
    config.escalation_workers = 0;
    let mut h = Harness::new(config, &WORKERS);
    let asked = h.submit("t1", "What is 2 + 2?");
    assert_eq!(asked.len(), 3);
    (h, asked)
}

fn status(h: &Harness, worker: &WorkerId) -> WorkerStatus {
    let workers = h.machine.workers(h.now_ms);
    workers.into_iter().find(|w| &w.worker == worker).expect("a known worker").status
}

/// Answers "4" for every ask in `asked` plus any new ask, then returns the one result.
fn finish_with_fours(h: &mut Harness, asked: &[(WorkerId, ExecuteRequest)], skip: Option<&WorkerId>) -> TaskResult {
    let replacements = h.executes();
    for (worker, request) in asked.iter().chain(&replacements) {
        if Some(worker) != skip {
            h.answer(worker, request, "4");
        }
    }
    let results = h.results();
    assert_eq!(results.len(), 1, "exactly one result: {results:?}");
    let result = results.into_iter().next().expect("checked above");
    assert_eq!(result.answer(), Some("4"), "{result:?}");
    assert!(h.results().is_empty());
    h.machine.assert_invariants().unwrap();
    result
}

#[test]
fn a_flood_of_pushed_answers_is_capped_at_one_per_call_and_marks_the_worker() {
    let (mut h, asked) = asked_three();
    let (flooder, request) = asked[0].clone();
    for _ in 0..5 {
        h.machine.handle_delivered(answer_from(&flooder, &request, "4".into(), 0.9), h.now_ms);
    }
    // One push per call is allowed (and counts as its vote); the other four are a
    // flood: refused, counted, and three marks in a row take the worker offline.
    assert_eq!(h.machine.stats().rejected_flood, 4);
    assert_eq!(status(&h, &flooder), WorkerStatus::Offline);
    let state = &h.machine.tasks[&request.task];
    assert_eq!(state.votes.iter().filter(|v| v.worker == flooder).count(), 1, "a flood cannot grow the votes");
    let result = finish_with_fours(&mut h, &asked, Some(&flooder));
    assert!(result.metadata.votes.iter().filter(|v| v.worker == flooder).count() <= 1);
}

#[test]
fn answers_for_unknown_and_finished_tasks_are_counted_without_a_mark() {
    let (mut h, asked) = asked_three();
    let (worker, request) = asked[0].clone();
    let ghost = ExecuteRequest { task: TaskId::from("never-submitted"), ..request.clone() };
    h.machine.handle_delivered(answer_from(&worker, &ghost, "4".into(), 0.9), h.now_ms);
    assert_eq!(h.machine.stats().unknown_task_answers, 1);
    // An earlier incarnation's task looks the same: honest, so no mark.
    assert_eq!(status(&h, &worker), WorkerStatus::Available);
    finish_with_fours(&mut h, &asked, None);
    h.machine.handle_delivered(answer_from(&worker, &request, "5".into(), 0.9), h.now_ms);
    h.answer(&worker, &request, "5");
    assert_eq!(h.machine.stats().late_answers, 2);
    assert_eq!(h.machine.stats().unknown_task_answers, 1, "a finished task is told from an unknown one");
    assert_eq!(status(&h, &worker), WorkerStatus::Available, "stragglers are honest");
    assert!(h.results().is_empty(), "no second result");
}

#[test]
fn answers_for_round_zero_or_a_round_not_reached_are_refused_and_marked() {
    let (mut h, asked) = asked_three();
    let (worker, request) = asked[0].clone();
    for attempt in [0, 2, u32::MAX] {
        let forged = ExecuteRequest { attempt, ..request.clone() };
        h.machine.handle_delivered(answer_from(&worker, &forged, "5".into(), 0.9), h.now_ms);
    }
    assert_eq!(h.machine.stats().rejected_unknown_round, 3);
    assert_eq!(status(&h, &worker), WorkerStatus::Offline, "three marks in a row");
    assert!(h.machine.tasks[&request.task].votes.is_empty(), "none of them voted");
    finish_with_fours(&mut h, &asked, Some(&worker));
}

#[test]
fn an_answer_for_a_round_the_worker_was_not_asked_in_is_refused_and_marked() {
    let mut config = config();
    config.early_stop = false;
    let mut h = Harness::new(config, &["w1", "w2", "w3", "w4", "w5"]);
    let first = h.submit("t1", "What is 2 + 2?");
    h.answer(&first[0].0, &first[0].1, "4");
    h.answer(&first[1].0, &first[1].1, "5");
    h.fail(&first[2].0, &first[2].1, LinkError::Unavailable);
    // A split: round 2 asks two fresh workers; the round-1 workers were not asked in it.
    let second = h.executes();
    assert_eq!(second.len(), 2);
    let (outsider, round_one) = first[0].clone();
    let round_two = ExecuteRequest { attempt: 2, ..round_one };
    h.machine.handle_delivered(answer_from(&outsider, &round_two, "5".into(), 0.9), h.now_ms);
    assert_eq!(h.machine.stats().rejected_not_asked_in_round, 1);
    assert_eq!(status(&h, &outsider), WorkerStatus::Suspect);
    let votes = &h.machine.tasks[&round_two.task].votes;
    assert_eq!(votes.iter().filter(|v| v.worker == outsider).count(), 1, "only its round-1 vote");
    for (worker, request) in &second {
        h.answer(worker, request, "4");
    }
    let results = h.results();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].answer(), Some("4"));
}

#[test]
fn an_answer_from_a_worker_never_asked_is_refused_and_marked() {
    let (mut h, asked) = asked_three();
    let stranger = not_asked(&WORKERS, &asked);
    h.machine.handle_delivered(answer_from(&stranger, &asked[0].1, "5".into(), 0.9), h.now_ms);
    h.answer(&stranger, &asked[1].1, "5");
    assert_eq!(h.machine.stats().unassigned_answers, 2);
    assert_eq!(status(&h, &stranger), WorkerStatus::Suspect, "marked, once per refused answer");
    let result = finish_with_fours(&mut h, &asked, None);
    assert!(result.metadata.votes.iter().all(|v| v.worker != stranger));
}

#[test]
fn repeats_count_once_unmarked_and_a_conflicting_answer_is_an_equivocation_marked() {
    let (mut h, asked) = asked_three();
    let (repeater, request) = asked[0].clone();
    h.answer(&repeater, &request, "4");
    h.machine.handle_delivered(answer_from(&repeater, &request, "4".into(), 0.9), h.now_ms);
    assert_eq!(h.machine.stats().repeated_answers, 1);
    assert_eq!(status(&h, &repeater), WorkerStatus::Available, "a repeat is no fault");
    let (twin, request) = asked[1].clone();
    h.machine.handle_delivered(answer_from(&twin, &request, "7".into(), 0.9), h.now_ms);
    h.answer(&twin, &request, "4");
    assert_eq!(h.machine.stats().equivocations, 1);
    assert_eq!(status(&h, &twin), WorkerStatus::Suspect);
    let result = finish_with_fours(&mut h, &asked[2..], None);
    assert_eq!(result.metadata.votes.iter().filter(|v| v.worker == twin).count(), 2, "both kept, both excluded");
    assert!(result.alternatives.iter().all(|g| !g.members.contains(&twin)));
}

#[test]
fn a_reply_naming_another_round_fails_the_call_and_marks_the_worker() {
    let (mut h, asked) = asked_three();
    let (worker, request) = asked[0].clone();
    let other_round = ExecuteRequest { attempt: request.attempt + 1, ..request.clone() };
    let reply = answer_from(&worker, &other_round, "5".into(), 0.9);
    h.machine.handle_answer(&worker, &request.task, request.attempt, Ok(reply), h.now_ms);
    assert_eq!(h.machine.stats().rejected_misaddressed, 1);
    assert_eq!(status(&h, &worker), WorkerStatus::Suspect);
    let state = &h.machine.tasks[&request.task];
    assert!(!state.assignments[&worker].pending, "the call ended");
    assert!(state.failures.iter().any(|f| f.worker == worker), "as a failure of the round");
    finish_with_fours(&mut h, &asked, Some(&worker));
}

#[test]
fn absurd_heartbeats_are_refused_marked_and_end_in_the_workers_work_reassigned() {
    let (mut h, asked) = asked_three();
    let (boaster, _) = asked[0].clone();
    let heartbeats = [
        Heartbeat { worker: boaster.clone(), load: 5, capacity: 4 },
        Heartbeat { worker: boaster.clone(), load: 0, capacity: 0 },
        Heartbeat { worker: boaster.clone(), load: 0, capacity: crate::pool::WORKER_CAPACITY_MAX + 1 },
    ];
    for heartbeat in heartbeats {
        h.machine.handle_heartbeat(&boaster, Ok(heartbeat), h.now_ms);
    }
    let stats = h.machine.stats();
    assert_eq!((stats.rejected_heartbeat_load, stats.rejected_heartbeat_capacity), (1, 2));
    assert_eq!(status(&h, &boaster), WorkerStatus::Offline, "three refused heartbeats in a row");
    let workers = h.machine.workers(h.now_ms);
    let capacity = workers.iter().find(|w| w.worker == boaster).unwrap().capacity;
    assert_eq!(capacity, 4, "a refused heartbeat changes nothing it claims");
    // A heartbeat that names another worker is refused as well.
    let other = asked[1].0.clone();
    let forged = Heartbeat { worker: boaster.clone(), load: 0, capacity: 4 };
    h.machine.handle_heartbeat(&other, Ok(forged), h.now_ms);
    assert_eq!(h.machine.stats().rejected_heartbeat_worker, 1);
    assert_eq!(status(&h, &other), WorkerStatus::Suspect);
    let result = finish_with_fours(&mut h, &asked, Some(&boaster));
    assert!(result.metadata.failures.iter().any(|f| f.worker == boaster && f.error == LinkError::Unavailable));
}
