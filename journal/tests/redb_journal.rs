//! The redb journal on a real file: every write kind round-trips, replays change
//! nothing, compaction bounds the file, and what is not a journal is refused by name.

mod support;

use quorum_core::{Journal, JournalError, JournalWrite, MemoryJournal, TaskId};
use quorum_journal::{CountingBackend, CrashDisk, JOURNAL_FORMAT_VERSION, JournalOptions, RedbJournal};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use support::{accepted, delivered, finished, folded, round, voted};

const TASKS: TableDefinition<&str, &[u8]> = TableDefinition::new("tasks");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

fn options(finished_kept_max: usize) -> JournalOptions {
    JournalOptions { finished_kept_max }
}

/// One task through every write kind, and a second left unfinished.
fn every_kind() -> Vec<JournalWrite> {
    let text = "What is 6 times 7?";
    vec![
        accepted("t1", text),
        accepted("t2", "Name the capital of France."),
        round("t1", 1),
        voted("t1", "w1", 1, "42"),
        voted("t1", "w2", 1, "41"),
        round("t1", 2),
        voted("t1", "w3", 2, "42"),
        voted("t2", "w1", 1, "Paris"),
        finished("t1", text, "42", &["w1", "w2", "w3"]),
        delivered("t1"),
    ]
}

#[test]
fn every_write_kind_round_trips_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.redb");
    let writes = every_kind();
    {
        let journal = RedbJournal::open(&path, JournalOptions::default()).unwrap();
        assert_eq!(journal.load().unwrap(), folded([]), "a new journal is empty");
        for write in &writes {
            journal.write(core::slice::from_ref(write), write.must_sync()).unwrap();
        }
        assert_eq!(journal.load().unwrap(), folded(&writes));
    }
    let reopened = RedbJournal::open(&path, JournalOptions::default()).unwrap();
    let state = reopened.load().unwrap();
    assert_eq!(state, folded(&writes), "a clean reopen loads every write");
    let t1 = &state.tasks[&TaskId::new("t1")];
    assert_eq!((t1.attempt, t1.votes.len(), t1.delivered), (2, 3, true));
    assert_eq!(t1.result.as_ref().and_then(|result| result.answer()), Some("42"));
    assert!(state.powers.is_some(), "the powers of the result are kept");
    assert_eq!(state.next_sequence, 2);
    assert_eq!(state.unfinished().len(), 1);
}

#[test]
fn one_batch_of_many_writes_equals_them_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let journal = RedbJournal::open(&dir.path().join("batch.redb"), JournalOptions::default()).unwrap();
    let writes = every_kind();
    journal.write(&writes, true).unwrap();
    assert_eq!(journal.load().unwrap(), folded(&writes));
}

#[test]
fn replaying_writes_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let journal = RedbJournal::open(&dir.path().join("replay.redb"), JournalOptions::default()).unwrap();
    let writes = every_kind();
    journal.write(&writes, true).unwrap();
    let once = journal.load().unwrap();
    journal.write(&writes, true).unwrap();
    for write in &writes {
        journal.write(core::slice::from_ref(write), false).unwrap();
    }
    assert_eq!(journal.load().unwrap(), once, "a replay neither adds votes nor tasks nor changes a result");
    // A second, different result for a finished task is not taken either (its
    // powers are, as quorum-core's fold takes them).
    let second = finished("t1", "What is 6 times 7?", "41", &["w2"]);
    journal.write(core::slice::from_ref(&second), true).unwrap();
    let after = journal.load().unwrap();
    assert_eq!(after, folded(writes.iter().chain([&second])));
    assert_eq!(after.tasks, once.tasks, "a result once written is never replaced");
}

#[test]
fn writes_about_tasks_it_does_not_hold_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let journal = RedbJournal::open(&dir.path().join("unknown.redb"), JournalOptions::default()).unwrap();
    let text = "What is 1 + 1?";
    journal
        .write(&[round("ghost", 1), voted("ghost", "w1", 1, "2"), finished("ghost", text, "2", &["w1"])], true)
        .unwrap();
    journal.write(&[delivered("ghost")], true).unwrap();
    assert_eq!(journal.load().unwrap(), folded([]));
}

/// Bytes on a disk after each of `tasks` tasks (of about 10 KB each) with
/// `finished_kept_max`.
fn disk_sizes(tasks: usize, finished_kept_max: usize) -> Vec<u64> {
    let disk = CrashDisk::new();
    let journal = RedbJournal::with_backend(disk.attach(), options(finished_kept_max)).unwrap();
    let mut sizes = Vec::new();
    for index in 0..tasks {
        let id = format!("task-{index}");
        let text = format!("Summarise this report {index}: {}", "the quarterly figures rose again. ".repeat(250));
        let workers = ["w1", "w2", "w3"];
        journal.write(&[accepted(&id, &text)], true).unwrap();
        journal.write(&[round(&id, 1)], false).unwrap();
        for worker in workers {
            journal.write(&[voted(&id, worker, 1, "They rose.")], false).unwrap();
        }
        journal.write(&[finished(&id, &text, "They rose.", &workers)], true).unwrap();
        journal.write(&[delivered(&id)], false).unwrap();
        sizes.push(disk.len_bytes());
    }
    let state = journal.load().unwrap();
    assert_eq!(state.finished().len(), tasks.min(finished_kept_max));
    assert_eq!(state.tasks.len(), tasks.min(finished_kept_max), "no unfinished task is left behind");
    sizes
}

#[test]
fn compaction_keeps_the_file_bounded() {
    const KEPT: usize = 20;
    const TASKS: usize = 10 * KEPT;
    let sizes = disk_sizes(TASKS, KEPT);
    // The bound: by twice the kept tasks, pages for the tasks kept plus those of the
    // tasks dropped since the last durable commit (which redb frees only after it)
    // are allocated; from then on freed pages are reused, so the file never exceeds
    // the largest size it had by then.
    let bound = *sizes[..2 * KEPT].iter().max().unwrap();
    let largest_later = *sizes[2 * KEPT..].iter().max().unwrap();
    assert!(largest_later <= bound, "the file grew past {bound} bytes to {largest_later}: {sizes:?}");

    // Without compaction the same load keeps growing: the bound above can fail.
    let unbounded = disk_sizes(TASKS, usize::MAX);
    assert!(unbounded[TASKS - 1] > 2 * bound, "kept everything in {} bytes, bound {bound}", unbounded[TASKS - 1]);
}

#[test]
fn compaction_drops_delivered_tasks_first_as_the_core_rule_does() {
    let dir = tempfile::tempdir().unwrap();
    let journal = RedbJournal::open(&dir.path().join("order.redb"), options(2)).unwrap();
    let reference = MemoryJournal::with_finished_kept_max(2);
    let task = |index: usize| {
        let (id, text) = (format!("t{index}"), format!("What is {index} + {index}?"));
        [accepted(&id, &text), finished(&id, &text, "x", &["w1"])]
    };
    // t0 and t1 finish, t1 is delivered; when t2 finishes, t1 goes although t0 is
    // older, because t0's client never came for it.
    let mut writes: Vec<JournalWrite> = task(0).into_iter().chain(task(1)).collect();
    writes.push(delivered("t1"));
    writes.extend(task(2));
    for write in &writes {
        journal.write(core::slice::from_ref(write), write.must_sync()).unwrap();
        reference.write(core::slice::from_ref(write), write.must_sync()).unwrap();
    }
    let state = journal.load().unwrap();
    assert_eq!(state, reference.load().unwrap(), "the same tasks as quorum-core's MemoryJournal keeps");
    let kept: Vec<&str> = state.tasks.keys().map(TaskId::as_str).collect();
    assert_eq!(kept, ["t0", "t2"], "delivered t1 dropped before the undelivered, older t0");
}

#[test]
fn a_synced_write_costs_one_fsync_and_an_unsynced_one_none() {
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.path().join("count.redb"))
        .unwrap();
    let backend = CountingBackend::new(redb::backends::FileBackend::new(file).unwrap());
    let counts = backend.counts();
    let journal = RedbJournal::with_backend(backend, JournalOptions::default()).unwrap();
    let (syncs, bytes) = (counts.syncs(), counts.bytes_written());
    journal.write(&[accepted("t1", "What is 2 + 2?")], true).unwrap();
    assert_eq!(counts.syncs() - syncs, 1, "a synced write is one fsync");
    assert!(counts.bytes_written() > bytes);
    let syncs = counts.syncs();
    journal.write(&[round("t1", 1), voted("t1", "w1", 1, "4")], false).unwrap();
    assert_eq!(counts.syncs(), syncs, "an unsynced write does not fsync");
}

fn corrupt_detail(error: JournalError) -> String {
    match error {
        JournalError::Corrupt { detail } => detail,
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn an_undecodable_task_is_corrupt_naming_table_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.redb");
    let writes = every_kind();
    RedbJournal::open(&path, JournalOptions::default()).unwrap().write(&writes, true).unwrap();
    {
        let database = redb::Database::open(&path).unwrap();
        let transaction = database.begin_write().unwrap();
        transaction.open_table(TASKS).unwrap().insert("t2", b"{not json".as_slice()).unwrap();
        transaction.commit().unwrap();
    }
    let journal = RedbJournal::open(&path, JournalOptions::default()).unwrap();
    let detail = corrupt_detail(journal.load().unwrap_err());
    assert!(detail.contains("table `tasks`") && detail.contains("\"t2\""), "{detail}");
    assert!(detail.contains(&path.display().to_string()), "{detail}");
    let write_error = journal.write(&[voted("t2", "w9", 1, "Lyon")], false).unwrap_err();
    assert!(corrupt_detail(write_error).contains("\"t2\""));

    // A well-formed task under another task's key is corrupt too.
    {
        drop(journal);
        let database = redb::Database::open(&path).unwrap();
        let transaction = database.begin_write().unwrap();
        {
            let mut tasks = transaction.open_table(TASKS).unwrap();
            let t1 = tasks.get("t1").unwrap().unwrap().value().to_vec();
            tasks.insert("t2", t1.as_slice()).unwrap();
        }
        transaction.commit().unwrap();
    }
    let detail = corrupt_detail(RedbJournal::open(&path, JournalOptions::default()).unwrap().load().unwrap_err());
    assert!(detail.contains("\"t2\"") && detail.contains("holds task \"t1\""), "{detail}");
}

#[test]
fn a_file_that_is_not_a_database_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "these are my notes, not a database\n".repeat(200)).unwrap();
    let error = RedbJournal::open(&path, JournalOptions::default()).unwrap_err();
    let detail = corrupt_detail(error);
    assert!(detail.contains(&path.display().to_string()), "{detail}");
}

#[test]
fn a_redb_database_that_is_not_a_journal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.redb");
    {
        let database = redb::Database::create(&path).unwrap();
        let transaction = database.begin_write().unwrap();
        transaction.open_table(TableDefinition::<u64, u64>::new("prices")).unwrap().insert(1, 2).unwrap();
        transaction.commit().unwrap();
    }
    let detail = corrupt_detail(RedbJournal::open(&path, JournalOptions::default()).unwrap_err());
    assert!(detail.contains("not a quorum journal"), "{detail}");
}

#[test]
fn a_journal_of_a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.redb");
    drop(RedbJournal::open(&path, JournalOptions::default()).unwrap());
    {
        let database = redb::Database::open(&path).unwrap();
        let read = database.begin_read().unwrap();
        let version = read.open_table(META).unwrap().get("format_version").unwrap().unwrap().value().to_vec();
        assert_eq!(version, JOURNAL_FORMAT_VERSION.to_string().as_bytes());
        drop(read);
        let transaction = database.begin_write().unwrap();
        let newer = (JOURNAL_FORMAT_VERSION + 1).to_string();
        transaction.open_table(META).unwrap().insert("format_version", newer.as_bytes()).unwrap();
        transaction.commit().unwrap();
    }
    let detail = corrupt_detail(RedbJournal::open(&path, JournalOptions::default()).unwrap_err());
    assert!(detail.contains("format version 2 is newer"), "{detail}");
}

#[test]
fn a_path_that_cannot_be_opened_is_a_storage_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-directory").join("journal.redb");
    match RedbJournal::open(&path, JournalOptions::default()).unwrap_err() {
        JournalError::Storage { detail } => assert!(detail.contains("missing-directory"), "{detail}"),
        other => panic!("expected Storage, got {other:?}"),
    }
}

#[test]
fn a_second_writer_on_the_same_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.redb");
    let _first = RedbJournal::open(&path, JournalOptions::default()).unwrap();
    assert!(matches!(RedbJournal::open(&path, JournalOptions::default()), Err(JournalError::Storage { .. })));
}

#[test]
fn debug_names_the_path_never_the_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("debug.redb");
    let journal = RedbJournal::open(&path, JournalOptions::default()).unwrap();
    let secret = "sk-planted-SECRET-4242";
    journal.write(&[accepted("t1", &format!("Is {secret} a valid key?"))], true).unwrap();
    let debug = format!("{journal:?}");
    assert!(debug.contains(&path.display().to_string()), "{debug}");
    assert!(!debug.contains(secret), "{debug}");

    let on_backend = RedbJournal::with_backend(CrashDisk::new().attach(), JournalOptions::default()).unwrap();
    on_backend.write(&[accepted("t1", &format!("Is {secret} a valid key?"))], true).unwrap();
    let debug = format!("{on_backend:?}");
    assert!(debug.contains("CrashDiskHandle") && !debug.contains(secret), "{debug}");
}
