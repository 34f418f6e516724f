//! The adaptive threshold.
//!
//! The configured threshold is a floor, never lowered. It is raised:
//! - to unanimity (1.0) when fewer than [`SMALL_PANEL_ANSWERS`] answers were counted,
//!   because with one or two voices a single dissent is a tie, not a minority;
//! - by `raise_per_extra_group x (groups - 2) x (1 - s)`, where `s` is the mean
//!   similarity between the groups' representatives (0 for exact and numeric
//!   matching), because a vote fragmented over many unrelated answers is weaker
//!   evidence than a two-way split, while groups that are near-paraphrases of each
//!   other do not signal real disagreement;
//!
//! and capped at `max(threshold, threshold_max)`. More groups or less similar groups
//! therefore never lower the bar.

use super::ConsensusConfig;

/// Below this many counted answers, agreement must be unanimous.
pub const SMALL_PANEL_ANSWERS: usize = 3;

/// The threshold applied for `counted` answers in `groups` groups whose representatives
/// are `mean_similarity` similar on average (`0..=1`).
pub fn adaptive_threshold(config: &ConsensusConfig, counted: usize, groups: usize, mean_similarity: f64) -> f64 {
    let base = config.threshold;
    if counted < SMALL_PANEL_ANSWERS {
        return 1.0_f64.max(base);
    }
    let extra_groups = groups.saturating_sub(2) as f64;
    let dissimilarity = (1.0 - mean_similarity).clamp(0.0, 1.0);
    let raised = base + config.raise_per_extra_group * extra_groups * dissimilarity;
    raised.min(config.threshold_max.max(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_below_base_and_monotone_in_groups_and_dissimilarity() {
        let config = ConsensusConfig::default();
        let mut previous = 0.0;
        for groups in 1..40 {
            let threshold = adaptive_threshold(&config, 10, groups, 0.0);
            assert!(threshold >= config.threshold);
            assert!(threshold >= previous, "more groups lowered the bar at {groups}");
            assert!(threshold <= config.threshold_max);
            previous = threshold;
        }
        let similar = adaptive_threshold(&config, 10, 5, 0.9);
        let dissimilar = adaptive_threshold(&config, 10, 5, 0.1);
        assert!(dissimilar > similar);
    }

    #[test]
    fn small_panels_need_unanimity() {
        let config = ConsensusConfig::default();
        assert_eq!(adaptive_threshold(&config, 2, 1, 0.0), 1.0);
        assert_eq!(adaptive_threshold(&config, 3, 1, 0.0), config.threshold);
    }

    #[test]
    fn cap_never_lowers_a_high_base() {
        let config = ConsensusConfig { threshold: 0.95, ..ConsensusConfig::default() };
        assert_eq!(adaptive_threshold(&config, 10, 20, 0.0), 0.95);
    }
}
