//! The journal on a disk that loses what was never synced: after a crash at any
//! point, with any prefix of the unsynced operations having reached the disk, the
//! journal reopens and loads exactly the writes up to some batch no earlier than the
//! last synced one: every synced acceptance and result is there, no batch shows in
//! part, and lost unsynced votes corrupt nothing.

mod support;

use quorum_core::{Journal, JournalError, JournalState, JournalWrite};
use quorum_journal::{CrashDisk, JournalOptions, RedbJournal};
use support::{accepted, folded, round, task_batches, voted};

/// Three tasks through the whole supervisor sequence, interleaved, and a fourth left
/// unfinished with unsynced votes at the end.
fn batches() -> Vec<(Vec<JournalWrite>, bool)> {
    let per_task: Vec<_> = ["a", "b", "c"].map(task_batches).into_iter().collect();
    let mut batches = Vec::new();
    for index in 0..per_task[0].len() {
        for task in &per_task {
            batches.push(task[index].clone());
        }
    }
    batches.push((vec![accepted("d", "What is 3 + 4?")], true));
    batches.push((vec![round("d", 1), voted("d", "w1", 1, "7")], false));
    batches.push((vec![voted("d", "w2", 1, "7")], false));
    batches
}

/// The state after the first `count` batches.
fn after(batches: &[(Vec<JournalWrite>, bool)], count: usize) -> JournalState {
    folded(batches[..count].iter().flat_map(|(writes, _)| writes))
}

fn open(disk: &CrashDisk) -> Result<RedbJournal, JournalError> {
    RedbJournal::with_backend(disk.attach(), JournalOptions::default())
}

#[test]
fn a_crash_anywhere_loses_only_unsynced_batches_and_never_corrupts() {
    let batches = batches();
    let mut checked = 0;
    for crash_after in 0..=batches.len() {
        // How many operations the disk holds unsynced at the crash.
        let pending = {
            let disk = CrashDisk::new();
            let journal = open(&disk).unwrap();
            for (writes, sync) in &batches[..crash_after] {
                journal.write(writes, *sync).unwrap();
            }
            disk.pending_operations()
        };
        let last_synced = batches[..crash_after].iter().rposition(|(_, sync)| *sync).map_or(0, |index| index + 1);
        let candidates: Vec<JournalState> = (last_synced..=crash_after).map(|count| after(&batches, count)).collect();
        for operations_kept in 0..=pending {
            let disk = CrashDisk::new();
            let journal = open(&disk).unwrap();
            for (writes, sync) in &batches[..crash_after] {
                journal.write(writes, *sync).unwrap();
            }
            disk.crash_keeping(operations_kept);
            // The dead process's database goes away without writing anything more.
            drop(journal);

            let reopened = open(&disk).unwrap_or_else(|error| {
                panic!("reopen after {crash_after} batches, {operations_kept}/{pending} ops kept: {error}")
            });
            let state = reopened.load().unwrap();
            assert!(
                candidates.contains(&state),
                "after {crash_after} batches with {operations_kept}/{pending} unsynced ops kept, the journal \
                 loaded a state that is no prefix of batches {last_synced}..={crash_after}: {state:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > batches.len(), "every crash point checked, {checked} crashes");
}

#[test]
fn a_recovered_journal_goes_on_and_survives_the_next_crash() {
    let batches = batches();
    let disk = CrashDisk::new();
    let journal = open(&disk).unwrap();
    for (writes, sync) in &batches {
        journal.write(writes, *sync).unwrap();
    }
    disk.crash();
    drop(journal);

    let last_synced = batches.iter().rposition(|(_, sync)| *sync).unwrap() + 1;
    let journal = open(&disk).unwrap();
    let recovered = journal.load().unwrap();
    assert_eq!(recovered, after(&batches, last_synced), "the unsynced votes of the last task are lost, nothing else");
    assert_eq!(recovered.unfinished().len(), 1);
    assert_eq!(recovered.finished().len(), 3);

    // The new incarnation asks again and its synced writes stick.
    let again = vec![round("d", 2), voted("d", "w3", 2, "7")];
    journal.write(&again, false).unwrap();
    journal.write(&[accepted("e", "What is 5 + 5?")], true).unwrap();
    disk.crash();
    drop(journal);
    let state = open(&disk).unwrap().load().unwrap();
    let mut expected = recovered;
    for write in again.iter().chain([&accepted("e", "What is 5 + 5?")]) {
        expected.apply(write);
    }
    assert_eq!(state, expected, "an unsynced write before a synced one is durable with it");
}

#[test]
fn a_disk_that_fails_surfaces_as_a_storage_error() {
    let disk = CrashDisk::new();
    let journal = open(&disk).unwrap();
    disk.crash();
    match journal.write(&[accepted("a", "What is 1 + 1?")], true) {
        Err(JournalError::Storage { detail }) => assert!(detail.contains("crashed"), "{detail}"),
        other => panic!("expected a storage error, got {other:?}"),
    }
}

#[test]
fn bytes_rotted_at_rest_fail_the_open_as_corrupt() {
    let disk = CrashDisk::new();
    let journal = open(&disk).unwrap();
    for (writes, sync) in batches() {
        journal.write(&writes, sync).unwrap();
    }
    drop(journal);
    // Flip every byte of the second page onward: redb's checksums catch it on open.
    disk.corrupt(|bytes| {
        for byte in &mut bytes[4096..] {
            *byte ^= 0x5a;
        }
    });
    match open(&disk) {
        Err(JournalError::Corrupt { .. }) => {}
        Err(other) => panic!("expected Corrupt, got {other:?}"),
        Ok(journal) => panic!("a rotted journal opened: {:?}", journal.load()),
    }
}
