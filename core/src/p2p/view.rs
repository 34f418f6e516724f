//! Views: the pacemaker's rounds, each with one leader.

use core::fmt;

/// A view number. View 0 is genesis; the first proposal is in view 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct View(pub u64);

impl View {
    /// The view after this one (saturating: a view never wraps to an old one).
    pub fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "view {}", self.0)
    }
}
