//! `extract` on arbitrary UTF-8, for every strategy: it must never panic, and an
//! extracted value's text must extract to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use quorum_core::consensus::{Strategy, WRAPPER_LAYERS_MAX, extract};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    for strategy in [Strategy::Exact, Strategy::Numeric, Strategy::Semantic] {
        let Ok(extracted) = extract(text, strategy) else { continue };
        // Idempotence is promised for answers nesting fewer than WRAPPER_LAYERS_MAX
        // wrappers, which every text shorter than two delimiters per layer does.
        if text.len() < 2 * WRAPPER_LAYERS_MAX {
            assert_eq!(extract(&extracted.to_string(), strategy), Ok(extracted), "{text:?} under {strategy:?}");
        }
    }
});
