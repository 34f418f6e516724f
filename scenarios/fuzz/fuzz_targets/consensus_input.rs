//! `quorum consensus` on arbitrary input: it must never panic, and an accepted input
//! must give the same bytes twice (the engine is pure).

#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_scenarios::run_consensus;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    if let Ok(output) = run_consensus(text) {
        assert_eq!(run_consensus(text).ok(), Some(output), "{text:?}");
    }
});
