//! Valid consensus configs.

use proptest::prelude::*;

use crate::consensus::{ConsensusConfig, Strategy as Matching, Weighting};

/// Any matching strategy.
pub fn matching() -> BoxedStrategy<Matching> {
    prop_oneof![Just(Matching::Exact), Just(Matching::Numeric), Just(Matching::Semantic)].boxed()
}

/// Either weighting rule.
pub fn weighting() -> BoxedStrategy<Weighting> {
    prop_oneof![Just(Weighting::Linear), Just(Weighting::LogOdds)].boxed()
}

/// Configs that pass [`ConsensusConfig::validate`], over the whole range of every
/// field (thresholds from a bare majority to unanimity, tolerances from exact to
/// loose).
pub fn consensus_config() -> BoxedStrategy<ConsensusConfig> {
    (
        (matching(), weighting()),
        0.0f64..=1.0,
        0.0f64..=0.5,
        0.0f64..=1.0,
        0.0f64..=0.1,
        prop_oneof![Just(0.0), 0.0f64..10.0],
        prop_oneof![Just(0.0), 0.0f64..0.5],
        0.0f64..=1.0,
        proptest::option::of(0.0f64..=1.0),
        0.0f64..=0.5,
    )
        .prop_map(
            |(
                (strategy, weighting),
                threshold,
                margin_min,
                threshold_max,
                raise_per_extra_group,
                tolerance_absolute,
                tolerance_relative,
                similarity_join_min,
                merge_share,
                confidence_floor,
            )| ConsensusConfig {
                strategy,
                weighting,
                threshold,
                margin_min,
                threshold_max,
                raise_per_extra_group,
                tolerance_absolute,
                tolerance_relative,
                similarity_join_min,
                similarity_merge_min: merge_share.map(|share| similarity_join_min * share),
                confidence_floor,
            },
        )
        .boxed()
}

#[cfg(test)]
mod tests {
    use proptest::test_runner::TestRunner;

    use super::*;

    #[test]
    fn every_generated_config_is_valid() {
        let mut runner = TestRunner::deterministic();
        runner
            .run(&consensus_config(), |config| {
                prop_assert!(config.validate().is_ok(), "{config:?}");
                Ok(())
            })
            .unwrap();
    }
}
