//! The safety rules of the three-chain HotStuff of LibraBFT (DiemBFT v1-v3), in one
//! small module so that they can be read, tested and persisted on their own.
//!
//! - Vote rule: vote for a block only if its view is above the last view voted in
//!   (never twice in a view) and the view its certificate certifies is at least the
//!   preferred view (the lock).
//! - Lock rule: on voting for a block B whose certificate certifies P, raise the
//!   preferred view to the view P's own certificate certifies (the head of the
//!   two-chain ending in B's certificate).
//!
//! The state must reach stable storage before the vote it allows leaves the replica
//! ([`super::Replica::poll_persist`]); a replica restarted from it can never vote
//! twice in a view nor vote below its lock.

use super::refusal::Refusal;
use super::view::View;

/// What a replica must remember across restarts so as never to break safety.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafetyState {
    /// The last view voted in.
    pub last_voted_view: View,
    /// The lock: blocks must extend a certificate of this view or a later one.
    pub preferred_view: View,
}

/// The rules over a [`SafetyState`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SafetyRules {
    state: SafetyState,
}

impl SafetyRules {
    /// Rules starting from `state` (the default for a fresh replica, the persisted
    /// state after a restart).
    pub fn new(state: SafetyState) -> Self {
        Self { state }
    }

    /// The state to persist.
    pub fn state(&self) -> SafetyState {
        self.state
    }

    /// Whether a vote for a block of `view` extending a certificate of
    /// `justify_view` is allowed.
    ///
    /// # Errors
    /// [`Refusal::AlreadyVoted`] or [`Refusal::BelowLock`].
    pub fn check_vote(&self, view: View, justify_view: View) -> Result<(), Refusal> {
        if view <= self.state.last_voted_view {
            return Err(Refusal::AlreadyVoted { view, last_voted: self.state.last_voted_view });
        }
        if justify_view < self.state.preferred_view {
            return Err(Refusal::BelowLock { justify: justify_view, preferred: self.state.preferred_view });
        }
        Ok(())
    }

    /// Checks, then records a vote for a block of `view` whose certificate certifies
    /// a block of `justify_view`, itself extending a certificate of
    /// `grandparent_view`. Returns the new state, which must be persisted before the
    /// vote is sent.
    ///
    /// # Errors
    /// As [`Self::check_vote`]; the state is then unchanged.
    pub fn record_vote(
        &mut self,
        view: View,
        justify_view: View,
        grandparent_view: View,
    ) -> Result<SafetyState, Refusal> {
        self.check_vote(view, justify_view)?;
        self.state.last_voted_view = view;
        self.state.preferred_view = self.state.preferred_view.max(grandparent_view);
        Ok(self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(last_voted: u64, preferred: u64) -> SafetyRules {
        SafetyRules::new(SafetyState { last_voted_view: View(last_voted), preferred_view: View(preferred) })
    }

    #[test]
    fn never_votes_twice_in_a_view_nor_in_an_older_one() {
        let mut rules = rules(0, 0);
        assert!(rules.record_vote(View(3), View(2), View(1)).is_ok());
        assert_eq!(
            rules.check_vote(View(3), View(2)),
            Err(Refusal::AlreadyVoted { view: View(3), last_voted: View(3) })
        );
        assert!(matches!(rules.check_vote(View(2), View(1)), Err(Refusal::AlreadyVoted { .. })));
        assert_eq!(rules.check_vote(View(4), View(3)), Ok(()));
    }

    #[test]
    fn never_votes_below_the_lock() {
        let rules = rules(5, 4);
        assert_eq!(
            rules.check_vote(View(6), View(3)),
            Err(Refusal::BelowLock { justify: View(3), preferred: View(4) })
        );
        assert_eq!(rules.check_vote(View(6), View(4)), Ok(()));
        assert_eq!(rules.check_vote(View(9), View(5)), Ok(()));
    }

    #[test]
    fn a_vote_raises_the_lock_to_the_two_chain_head_and_never_lowers_it() {
        let mut rules = rules(0, 0);
        let state = rules.record_vote(View(5), View(4), View(3)).unwrap();
        assert_eq!(state, SafetyState { last_voted_view: View(5), preferred_view: View(3) });
        // A later block extending an older (but not locked-out) chain keeps the lock.
        let state = rules.record_vote(View(7), View(3), View(1)).unwrap();
        assert_eq!(state.preferred_view, View(3));
    }

    #[test]
    fn a_refused_vote_changes_nothing() {
        let mut rules = rules(5, 4);
        let before = rules.state();
        assert!(rules.record_vote(View(6), View(2), View(1)).is_err());
        assert!(rules.record_vote(View(5), View(4), View(4)).is_err());
        assert_eq!(rules.state(), before);
    }
}
