//! The canonical byte encoding of everything signed or hashed, written by hand so that
//! it never depends on a serializer's field order or version: each value is a domain
//! tag (a fixed ASCII string naming what is encoded and its version, so a signature
//! over one kind of message can never be replayed as another), then its fields in a
//! fixed order. Integers are big-endian fixed width, floats their IEEE-754 bits,
//! strings and sequences a `u64` length then their bytes or items, options a `0`/`1`
//! byte then the value.

use crate::consensus::{Decision, Exclusion, ExclusionReason, Group, NoConsensusReason, Verdict};

/// A growing canonical encoding.
#[derive(Debug, Default)]
pub(crate) struct Encoder {
    bytes: Vec<u8>,
}

impl Encoder {
    /// An encoding that starts with the domain tag `domain`.
    pub(crate) fn new(domain: &str) -> Self {
        let mut encoder = Self::default();
        encoder.str(domain);
        encoder
    }

    pub(crate) fn u8(&mut self, value: u8) -> &mut Self {
        self.bytes.push(value);
        self
    }

    pub(crate) fn u64(&mut self, value: u64) -> &mut Self {
        self.bytes.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(crate) fn f64(&mut self, value: f64) -> &mut Self {
        self.u64(value.to_bits())
    }

    pub(crate) fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.u64(value.len() as u64);
        self.bytes.extend_from_slice(value);
        self
    }

    pub(crate) fn str(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    pub(crate) fn len(&mut self, count: usize) -> &mut Self {
        self.u64(count as u64)
    }

    pub(crate) fn option_str(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            None => self.u8(0),
            Some(text) => self.u8(1).str(text),
        }
    }

    /// Every field of a consensus decision, so that a block's hash binds the whole
    /// decision and not only its answer.
    pub(crate) fn decision(&mut self, decision: &Decision) -> &mut Self {
        self.verdict(decision.verdict)
            .option_str(decision.answer.as_deref())
            .f64(decision.support)
            .f64(decision.margin)
            .f64(decision.confidence)
            .str(decision.strategy.as_str())
            .str(decision.weighting.as_str())
            .f64(decision.threshold_base)
            .f64(decision.threshold)
            .len(decision.groups.len());
        for group in &decision.groups {
            self.group(group);
        }
        self.len(decision.counted).len(decision.excluded.len());
        for exclusion in &decision.excluded {
            self.exclusion(exclusion);
        }
        self
    }

    fn verdict(&mut self, verdict: Verdict) -> &mut Self {
        match verdict {
            Verdict::Agreed => self.u8(0),
            Verdict::NoConsensus(NoConsensusReason::NoAnswers) => self.u8(1),
            Verdict::NoConsensus(NoConsensusReason::BelowThreshold) => self.u8(2),
            Verdict::NoConsensus(NoConsensusReason::MarginTooSmall) => self.u8(3),
        }
    }

    fn group(&mut self, group: &Group) -> &mut Self {
        self.str(&group.representative).len(group.members.len());
        for member in &group.members {
            self.str(member.as_str());
        }
        self.f64(group.weight).f64(group.support).f64(group.confidence)
    }

    fn exclusion(&mut self, exclusion: &Exclusion) -> &mut Self {
        let reason = match exclusion.reason {
            ExclusionReason::Equivocated => 0,
            ExclusionReason::NoNumber => 1,
            ExclusionReason::Empty => 2,
            ExclusionReason::AmbiguousNumber => 3,
            ExclusionReason::NumberOutOfRange => 4,
        };
        self.str(exclusion.worker.as_str()).u8(reason).option_str(exclusion.detail.as_deref())
    }

    /// The encoded bytes.
    pub(crate) fn finish(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_prefix_strings_so_no_two_splits_encode_alike() {
        let mut ab_c = Encoder::new("t");
        ab_c.str("ab").str("c");
        let mut a_bc = Encoder::new("t");
        a_bc.str("a").str("bc");
        assert_ne!(ab_c.finish(), a_bc.finish());
    }

    #[test]
    fn the_domain_separates_equal_fields() {
        let mut vote = Encoder::new("quorum/p2p/vote/v1");
        vote.u64(3);
        let mut timeout = Encoder::new("quorum/p2p/timeout/v1");
        timeout.u64(3);
        assert_ne!(vote.finish(), timeout.finish());
    }

    #[test]
    fn pinned_encoding_never_changes() {
        // Regression pin: signatures and block hashes stay valid across versions only
        // while this layout stays exactly the same.
        let mut encoder = Encoder::new("d");
        encoder.u8(7).u64(1).f64(1.0).option_str(None).option_str(Some("x"));
        let expected: Vec<u8> = [
            &[0, 0, 0, 0, 0, 0, 0, 1, b'd'][..],
            &[7],
            &[0, 0, 0, 0, 0, 0, 0, 1],
            &[0x3f, 0xf0, 0, 0, 0, 0, 0, 0],
            &[0],
            &[1, 0, 0, 0, 0, 0, 0, 0, 1, b'x'],
        ]
        .concat();
        assert_eq!(encoder.finish(), &expected[..]);
    }
}
