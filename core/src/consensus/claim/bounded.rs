//! Sets of fixed largest size, so a signature costs the same to compare whatever the
//! answer's length.

use std::hash::Hasher;

/// A set of hashes holding at most a given number of distinct items. Past that it
/// *overflows*: the items are dropped and only an order-free hash of every occurrence
/// is kept, so two overflowed sets compare as "the same items, the same number of
/// times" and an overflowed set never equals one that did not overflow. That is
/// conservative: answers stating that many names or numbers are compatible only when
/// they state exactly the same ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct BoundedSet {
    /// Sorted, distinct; empty once overflowed.
    items: Vec<u64>,
    overflowed: bool,
    /// Wrapping sum of [`super::mix`] of every occurrence.
    occurrences: u64,
}

impl BoundedSet {
    pub(super) fn insert(&mut self, item: u64, capacity: usize) {
        self.occurrences = self.occurrences.wrapping_add(super::mix(item));
        if self.overflowed {
            return;
        }
        if let Err(at) = self.items.binary_search(&item) {
            if self.items.len() == capacity {
                self.overflowed = true;
                self.items = Vec::new();
            } else {
                self.items.insert(at, item);
            }
        }
    }

    pub(super) fn items(&self) -> &[u64] {
        &self.items
    }

    pub(super) fn is_overflowed(&self) -> bool {
        self.overflowed
    }

    pub(super) fn occurrences(&self) -> u64 {
        self.occurrences
    }

    pub(super) fn contains(&self, item: u64) -> bool {
        self.items.binary_search(&item).is_ok()
    }

    pub(super) fn retain(&mut self, keep: impl FnMut(&u64) -> bool) {
        self.items.retain(keep);
    }

    /// The same set (see the type's documentation for overflowed sets).
    pub(super) fn same(&self, other: &Self) -> bool {
        match (self.overflowed, other.overflowed) {
            (false, false) => self.items == other.items,
            (true, true) => self.occurrences == other.occurrences,
            _ => false,
        }
    }
}

/// The words an answer uses in lower case, to tell a capitalised common word at the
/// start of a sentence ("Water boils ...") from a name ("Paris is ..."). An
/// open-addressing table of fixed size: past [`Vocabulary::CAPACITY`] distinct words it
/// stops recording (then it can still say "used", never "not used"), so a 64 KiB answer
/// costs no more than a page of text. Membership only: nothing iterates it.
#[derive(Clone, Debug, Default)]
pub(super) struct Vocabulary {
    /// Empty until the first insertion; slots hold word hashes, 0 for none.
    slots: Vec<u64>,
    len: usize,
    overflowed: bool,
}

impl Vocabulary {
    /// Most distinct words recorded.
    pub(super) const CAPACITY: usize = 512;
    /// Twice the capacity, a power of two: probes stay short.
    const SLOTS: usize = 1_024;

    pub(super) fn insert(&mut self, word: u64) {
        if self.overflowed {
            return;
        }
        if self.slots.is_empty() {
            self.slots = vec![0; Self::SLOTS];
        }
        let word = word.max(1);
        let mut slot = (word >> 32) as usize & (Self::SLOTS - 1);
        loop {
            match self.slots[slot] {
                0 => break,
                found if found == word => return,
                _ => slot = (slot + 1) & (Self::SLOTS - 1),
            }
        }
        if self.len == Self::CAPACITY {
            self.overflowed = true;
        } else {
            self.slots[slot] = word;
            self.len += 1;
        }
    }

    /// `Some(true)` when the word is used in lower case, `Some(false)` when it is not,
    /// `None` when the vocabulary overflowed and the word was not recorded.
    pub(super) fn contains(&self, word: u64) -> Option<bool> {
        if !self.slots.is_empty() {
            let word = word.max(1);
            let mut slot = (word >> 32) as usize & (Self::SLOTS - 1);
            loop {
                match self.slots[slot] {
                    0 => break,
                    found if found == word => return Some(true),
                    _ => slot = (slot + 1) & (Self::SLOTS - 1),
                }
            }
        }
        if self.overflowed { None } else { Some(false) }
    }
}

/// Word hashes are already mixed: hashing them again would only cost.
#[derive(Default)]
pub(super) struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_overflows_into_an_occurrence_hash() {
        let (mut small, mut other) = (BoundedSet::default(), BoundedSet::default());
        for item in [3, 1, 2, 1] {
            small.insert(item, 3);
        }
        for item in [1, 2, 3] {
            other.insert(item, 3);
        }
        assert_eq!(small.items(), &[1, 2, 3]);
        assert!(small.same(&other), "sets, not multisets, below the capacity");
        small.insert(4, 3);
        other.insert(4, 3);
        assert!(small.is_overflowed());
        assert!(!small.same(&other), "overflowed: one more 1 is a different text");
        other.insert(1, 3);
        assert!(small.same(&other));
        let mut under = BoundedSet::default();
        under.insert(1, 3);
        assert!(!under.same(&small));
    }

    #[test]
    fn vocabulary_says_when_it_cannot_tell() {
        let mut vocabulary = Vocabulary::default();
        assert_eq!(vocabulary.contains(7), Some(false));
        for word in 0..Vocabulary::CAPACITY as u64 {
            vocabulary.insert(word << 32);
        }
        vocabulary.insert(0);
        assert_eq!(vocabulary.contains(0), Some(true), "0 and 1 share a slot value");
        assert_eq!(vocabulary.contains(12 << 32), Some(true));
        assert_eq!(vocabulary.contains(u64::MAX), Some(false));
        vocabulary.insert(u64::MAX);
        assert_eq!(vocabulary.contains(u64::MAX), None, "full: cannot tell");
        assert_eq!(vocabulary.contains(12 << 32), Some(true));
    }
}
