//! The journal on turmoil's simulated disk: a host writes through
//! `RedbJournal::with_backend(TurmoilDisk)`, the simulation cuts its power and crashes
//! it mid-run, bounces it, and the new incarnation loads exactly what was synced;
//! the same seed gives the same states.

#[path = "../../journal/tests/support/mod.rs"]
mod support;

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use quorum_core::{Journal, JournalState, JournalWrite};
use quorum_journal::{JournalOptions, RedbJournal};
use quorum_sim::{DiskPower, TurmoilDisk};

const HOST: &str = "supervisor";

#[derive(Debug, Default)]
struct Log {
    /// What each incarnation loaded on start.
    loaded: Vec<JournalState>,
    /// Every batch written and acknowledged, by incarnation.
    written: Vec<Vec<(Vec<JournalWrite>, bool)>>,
}

/// The host's software: load, then journal tasks one batch every 7 ms.
fn software(log: Rc<RefCell<Log>>, power: DiskPower) -> impl Fn() -> futures_like::Software {
    move || {
        let (log, power) = (log.clone(), power.clone());
        Box::pin(async move {
            let disk = TurmoilDisk::open(Path::new("/var/quorum/journal.redb"), &power)?;
            let journal = RedbJournal::with_backend(disk, JournalOptions::default())?;
            let incarnation = {
                let mut log = log.borrow_mut();
                log.loaded.push(journal.load()?);
                log.written.push(Vec::new());
                log.written.len()
            };
            for index in 0.. {
                for (writes, sync) in support::task_batches(&format!("i{incarnation}-t{index}")) {
                    tokio::time::sleep(Duration::from_millis(7)).await;
                    journal.write(&writes, sync)?;
                    log.borrow_mut().written[incarnation - 1].push((writes, sync));
                }
            }
            Ok(())
        })
    }
}

/// Poor man's boxed host future type, so `software` can name it.
mod futures_like {
    pub type Software = core::pin::Pin<Box<dyn core::future::Future<Output = turmoil::Result> + 'static>>;
}

fn step_until(sim: &mut turmoil::Sim<'_>, until: Duration) {
    while sim.elapsed() < until {
        sim.step().expect("simulation step");
    }
}

/// Runs the host, crashes it at 230 ms and 460 ms (both after an unsynced vote) (bouncing it each time), and
/// returns the log.
fn run(seed: u64) -> Log {
    let log = Rc::new(RefCell::new(Log::default()));
    let power = DiskPower::new();
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .epoch(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .simulation_duration(Duration::from_secs(10))
        .build();
    sim.host(HOST, software(log.clone(), power.clone()));
    for crash_at_ms in [230, 460] {
        step_until(&mut sim, Duration::from_millis(crash_at_ms));
        power.cut();
        sim.crash(HOST);
        sim.bounce(HOST);
    }
    step_until(&mut sim, Duration::from_millis(600));
    // The last incarnation dies with the sim; cut first so it writes nothing more.
    power.cut();
    log.take()
}

#[test]
fn a_crashed_host_reloads_exactly_what_it_synced() {
    let log = run(7);
    assert_eq!(log.loaded.len(), 3, "three incarnations");
    assert_eq!(log.loaded[0], JournalState::default(), "the first starts on an empty disk");
    let mut expected = JournalState::default();
    for incarnation in 0..2 {
        let written = &log.written[incarnation];
        let last_synced = written.iter().rposition(|(_, sync)| *sync).expect("a synced write") + 1;
        assert!(last_synced < written.len(), "the crash came after unsynced writes, which it must lose");
        for write in written[..last_synced].iter().flat_map(|(writes, _)| writes) {
            expected.apply(write);
        }
        let loaded = &log.loaded[incarnation + 1];
        assert_eq!(
            loaded,
            &expected,
            "incarnation {} loads what was synced before crash {}",
            incarnation + 2,
            incarnation + 1
        );
        assert!(!loaded.finished().is_empty() && !loaded.unfinished().is_empty());
    }
}

#[test]
fn the_same_seed_loads_the_same_states() {
    let (first, second) = (run(11), run(11));
    assert_eq!(first.loaded, second.loaded);
    assert_eq!(
        first.written.iter().map(Vec::len).collect::<Vec<_>>(),
        second.written.iter().map(Vec::len).collect::<Vec<_>>()
    );
}
