//! The claim signature: what an answer commits to, read deterministically, so that
//! semantic grouping never puts two contradicting answers in one group, whatever their
//! similarity.
//!
//! What the signature reads and when two conflict is documented on [`Claim`].

mod bounded;
mod lexicon;
mod token;

use serde::{Deserialize, Serialize};

use bounded::{BoundedSet, Vocabulary};
use lexicon::{Direction, NumberWord};
use token::{Kind, Shape, Token};

/// Most distinct numbers and months a signature keeps before it overflows.
pub const CLAIM_QUANTITIES_MAX: usize = 32;
/// Most distinct names (of each kind: mid-sentence, sentence-initial) a signature keeps.
pub const CLAIM_NAMES_MAX: usize = 32;
/// The hash of "i": a capital "I" is the pronoun, not a name.
const PRONOUN_I: u64 = short_word_hash(b'i' as u64, 1);

/// Most distinct (subject, opposite predicate) pairs a signature keeps.
pub const CLAIM_PREDICATES_MAX: usize = 32;
/// Most distinct relations a signature keeps.
pub const CLAIM_RELATIONS_MAX: usize = 16;
/// Content words kept on each side of a relation word.
const RELATION_CONTEXT_WORDS: usize = 4;
/// How far before "than" a comparative is looked for ("more expensive than").
const COMPARATIVE_REACH_TOKENS: usize = 3;

/// Why two answers cannot be in one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimConflict {
    /// A different number of negations.
    Polarity,
    /// Opposite predicates ("rises" / "falls").
    OppositePredicates,
    /// Different numbers or dates.
    Quantities,
    /// Names that differ on both sides.
    Names,
    /// The same relation with its arguments the other way round.
    ReversedRelation,
}

/// The claim signature of one answer: what it commits to, read deterministically.
///
/// Lexical and embedding similarity both rate "X is Y" and "X is not Y", "prices rise"
/// and "prices fall", "A precedes B" and "B precedes A", or one sentence frame with
/// another number, date or name, *higher* than a true paraphrase. A [`Claim`] reads
/// the parts of an answer that such pairs differ in, and two answers are *compatible*
/// only when every part agrees:
///
/// - **Polarity**: the number of negations ("not", "no", "never", "none", "nobody",
///   "nothing", "nowhere", "neither", "cannot", and every "n't" contraction; "nor"
///   continues a negation and "not only / just / merely" adds rather than negates).
///   The counts must be equal. Comparing counts rather than parity is the
///   conservative reading of double negation: "it is not untrue" and "it is not false
///   that it is not" are kept apart from "it is true" rather than guessed equal.
/// - **Quantities**: the set of numbers stated (digits with thousands groups and
///   decimals, signs, number words such as "three" or "twenty five", scale words such
///   as "3 million") and of months named ("July"; "May" and "March" only capitalised
///   next to a number). The sets must be equal: "1969" and "1970", "3 moons" and "2
///   moons", "7 March" and "3 July" all conflict; "1,000" and "one thousand" agree.
/// - **Names**: capitalised words not at the start of a sentence, acronyms, single
///   capital letters ("option B") and words with an inner capital ("iPhone"), plus
///   capitalised words at the start of a sentence unless the answer uses them in lower
///   case too ("Water boils ..." / "... the water"). A paraphrase may leave a name out
///   ("It is Paris" for "Paris is the capital of France"), so one answer's names must
///   be a subset of the other's; a name one states and the other lacks *while the
///   other also states one the first lacks* is a conflict ("Paris ..." / "Lyon ...").
///   A sentence-initial word of one answer that the other uses in lower case is not a
///   name for that pair.
/// - **Opposite predicates** from a small documented lexicon (the lexicon's `OPPOSITES`:
///   rises/falls, increases/decreases, true/false, more/less, higher/lower,
///   accept/reject, legal/illegal, win/lose, ...): one answer using only one side of a
///   pair and the other only the other side conflict; and the same per subject (the
///   content word before the predicate in its clause), so "prices rise when rates
///   fall" and "prices fall when rates fall" conflict although both use both sides.
///   Conservatively, "prices rise in summer and fall in winter" and "prices fall in
///   winter and rise in summer" are kept apart too (the subject of the second verb is
///   not resolved).
/// - **Argument order** around a relation word (the lexicon's `RELATIONS`: precedes,
///   follows, before, after, causes, orbits, contains, beats, "than" after a
///   comparative, ...): up to four content words on each side within the clause.
///   Relations are normalised ("B follows A", "B is preceded by A" and "A precedes B"
///   read alike; "Y is smaller than X" reads as "X is larger than Y"), and two answers
///   conflict when one puts some word X before a relation and Y after it and the other
///   puts Y before and X after the same relation. A relation word with an argument on
///   both sides is read as a relation only, not also as an opposite predicate.
///
/// Identical texts are always compatible. Every part is held in a set of bounded size
/// (see `CLAIM_*_MAX`), so comparing two signatures costs the same for a
/// sentence as for a 64 KiB answer; an answer past a bound is compatible only with an
/// answer stating exactly the same parts. The guard errs towards keeping answers apart
/// (a missed paraphrase costs a split vote, a merged contradiction a wrong answer), and
/// neither embeddings nor an [`crate::Entailment`] judge can override it.
#[derive(Clone, Debug, Default)]
pub struct Claim {
    /// Hash of the whole text: identical texts are always compatible.
    text_hash: u64,
    negations: u32,
    /// Bit `p`: side 0 (resp. 1) of opposite pair `p` is used outside a relation.
    opposites_up: u64,
    opposites_down: u64,
    /// The same per subject: the content word before the predicate in its clause.
    subject_predicates: SubjectPredicates,
    quantities: BoundedSet,
    strong_names: BoundedSet,
    /// Sentence-initial capitalised words not used in lower case in the same answer.
    weak_names: BoundedSet,
    vocabulary: Vocabulary,
    relations: Relations,
}

impl Claim {
    /// Reads the signature of `text`. Linear in its length; never fails.
    pub fn new(text: &str) -> Self {
        ClaimReader::default().read(text, &mut |_, _| {})
    }

    /// Whether two answers may share a group: `None`, or the first part that conflicts
    /// (checked in the order of [`ClaimConflict`]). Symmetric.
    pub fn conflict_with(&self, other: &Self) -> Option<ClaimConflict> {
        if self.text_hash == other.text_hash {
            return None;
        }
        if self.negations != other.negations {
            return Some(ClaimConflict::Polarity);
        }
        let only_up = |c: &Self| c.opposites_up & !c.opposites_down;
        let only_down = |c: &Self| c.opposites_down & !c.opposites_up;
        if (only_up(self) & only_down(other)) | (only_down(self) & only_up(other)) != 0
            || self.subject_predicates.conflict(&other.subject_predicates)
        {
            return Some(ClaimConflict::OppositePredicates);
        }
        if !self.quantities.same(&other.quantities) {
            return Some(ClaimConflict::Quantities);
        }
        if !self.names_compatible(other) {
            return Some(ClaimConflict::Names);
        }
        if self.relations.conflict(&other.relations) {
            return Some(ClaimConflict::ReversedRelation);
        }
        None
    }

    /// Whether two answers may share a group.
    pub fn is_compatible(&self, other: &Self) -> bool {
        self.conflict_with(other).is_none()
    }

    fn read_parts(&mut self, tokens: &[Token], consumed: &[bool]) {
        let mut number = PendingNumber::default();
        for (index, token) in tokens.iter().enumerate() {
            match token.kind {
                Kind::Clause | Kind::Sentence => number.flush(&mut self.quantities),
                Kind::Number => {
                    number.flush(&mut self.quantities);
                    number.start(token.value(), false);
                }
                Kind::Word => {
                    let next = tokens.get(index + 1);
                    if number.read_word(token, next, &mut self.quantities) {
                        continue;
                    }
                    number.flush(&mut self.quantities);
                    self.read_word(tokens, index, consumed[index]);
                }
            }
        }
        number.flush(&mut self.quantities);
    }

    fn read_word(&mut self, tokens: &[Token], index: usize, consumed: bool) {
        let token = &tokens[index];
        let entry = token.entry;
        if let Some((month, ambiguous)) = entry.and_then(|e| e.month) {
            let beside_number =
                |i: Option<usize>| i.and_then(|i| tokens.get(i)).is_some_and(|t| t.kind == Kind::Number);
            let next_to_number = beside_number(index.checked_sub(1)) || beside_number(Some(index + 1));
            if !ambiguous || (token.shape == Shape::Capitalised && next_to_number) {
                self.quantities.insert(month_key(month), CLAIM_QUANTITIES_MAX);
                return;
            }
        }
        if token.negated || entry.is_some_and(|e| e.negation) {
            let modified = entry.is_some_and(|e| e.word == "not")
                && tokens.get(index + 1).is_some_and(|next| next.entry.is_some_and(|e| e.not_modifier));
            if !modified {
                self.negations += 1;
            }
            return;
        }
        if let Some(entry) = entry
            && !consumed
        {
            let subject = subject_before(tokens, index);
            for &(pair, side) in &entry.opposites {
                let bit = 1u64 << pair;
                if side == 0 {
                    self.opposites_up |= bit;
                } else {
                    self.opposites_down |= bit;
                }
                if let Some(subject) = subject {
                    self.subject_predicates.insert(subject, pair, side);
                }
            }
        }
        self.read_name(token);
    }

    fn read_name(&mut self, token: &Token) {
        // A listed word (a predicate, relation, number or month word) is never a name.
        let listed = token.entry.is_some_and(|e| {
            !e.opposites.is_empty() || e.relation.is_some() || e.comparative.is_some() || e.number.is_some()
        });
        let stop = token.entry.is_some_and(|e| e.stop);
        match token.shape {
            Shape::Acronym => self.strong_names.insert(token.key(), CLAIM_NAMES_MAX),
            Shape::Letter if !token.sentence_start && token.key() != PRONOUN_I => {
                self.strong_names.insert(token.key(), CLAIM_NAMES_MAX);
            }
            _ if stop || listed => {}
            Shape::Inner => self.strong_names.insert(token.key(), CLAIM_NAMES_MAX),
            Shape::Capitalised if token.sentence_start => self.weak_names.insert(token.key(), CLAIM_NAMES_MAX),
            Shape::Capitalised => self.strong_names.insert(token.key(), CLAIM_NAMES_MAX),
            Shape::Lower => self.vocabulary.insert(token.key()),
            Shape::Letter => {}
        }
    }

    /// Names of `self` for a comparison with `other`: its strong names, and its weak
    /// ones that `other` does not use in lower case.
    fn names_for(&self, other: &Self) -> Vec<u64> {
        let mut names: Vec<u64> = self.strong_names.items().to_vec();
        names.extend(self.weak_names.items().iter().copied().filter(|&w| other.vocabulary.contains(w) != Some(true)));
        names.sort_unstable();
        names.dedup();
        names
    }

    fn names_compatible(&self, other: &Self) -> bool {
        let overflowed = |c: &Self| c.strong_names.is_overflowed() || c.weak_names.is_overflowed();
        if overflowed(self) || overflowed(other) {
            let all = |c: &Self| c.strong_names.occurrences().wrapping_add(c.weak_names.occurrences());
            return overflowed(self) && overflowed(other) && all(self) == all(other);
        }
        let (mine, theirs) = (self.names_for(other), other.names_for(self));
        let subset = |small: &[u64], large: &[u64]| small.iter().all(|n| large.binary_search(n).is_ok());
        subset(&mine, &theirs) || subset(&theirs, &mine)
    }
}

/// Reads claims one answer after another, reusing its buffers (a 64 KiB answer has
/// some ten thousand tokens).
#[derive(Debug, Default)]
pub(crate) struct ClaimReader {
    tokens: Vec<Token>,
    consumed: Vec<bool>,
}

impl ClaimReader {
    /// The claim of `text`; every word and number it reads also goes to `on_word` (see
    /// [`read_words`]), so a caller that needs both reads the text once.
    pub(crate) fn read(&mut self, text: &str, on_word: &mut impl FnMut(&[u8], u64)) -> Claim {
        token::read(text, &mut self.tokens, true, on_word);
        self.consumed.clear();
        self.consumed.resize(self.tokens.len(), false);
        let relations = Relations::read(&self.tokens, &mut self.consumed);
        let mut claim = Claim { text_hash: word_hash(text.as_bytes()), relations, ..Claim::default() };
        claim.read_parts(&self.tokens, &self.consumed);
        let (strong, vocabulary) = (&claim.strong_names, &claim.vocabulary);
        claim.weak_names.retain(|&name| !strong.contains(name) && vocabulary.contains(name) != Some(true));
        claim
    }
}

/// Hands every word of `text` (lower-cased, apostrophe suffixes dropped, with its
/// [`word_hash`]) and every number (its digits, without thousands separators) to
/// `on_word`: the words similarity is computed on, split exactly as claims read them.
pub(crate) fn read_words(text: &str, on_word: &mut impl FnMut(&[u8], u64)) {
    token::read(text, &mut Vec::new(), false, on_word);
}

/// A number being read across words: "twenty five", "3 million", "one hundred".
#[derive(Default)]
struct PendingNumber {
    value: Option<f64>,
    /// After a tens word: a units word may follow.
    takes_units: bool,
}

impl PendingNumber {
    fn start(&mut self, value: f64, takes_units: bool) {
        self.value = Some(value);
        self.takes_units = takes_units;
    }

    fn flush(&mut self, quantities: &mut BoundedSet) {
        if let Some(value) = self.value.take() {
            quantities.insert(token::number_key(value), CLAIM_QUANTITIES_MAX);
        }
        self.takes_units = false;
    }

    /// Reads a number word into the pending number; `false` when `token` is not one.
    fn read_word(&mut self, token: &Token, next: Option<&Token>, quantities: &mut BoundedSet) -> bool {
        let Some(word) = token.entry.and_then(|e| e.number) else { return false };
        match word {
            NumberWord::Scale(scale) => match self.value.as_mut() {
                Some(value) => {
                    *value *= scale;
                    self.takes_units = false;
                }
                None => self.start(scale, false),
            },
            NumberWord::Units(units) => match self.value.as_mut() {
                Some(value) if self.takes_units => {
                    *value += units;
                    self.takes_units = false;
                }
                _ => {
                    self.flush(quantities);
                    self.start(units, false);
                }
            },
            NumberWord::Tens(tens) => {
                self.flush(quantities);
                self.start(tens, true);
            }
            NumberWord::One => {
                let before_scale =
                    next.and_then(|n| n.entry).is_some_and(|e| matches!(e.number, Some(NumberWord::Scale(_))));
                if !before_scale {
                    return false;
                }
                self.flush(quantities);
                self.start(1.0, false);
            }
        }
        true
    }
}

/// One relation as read: its family and the content words on each side, oriented
/// (a backward relation word has its sides swapped).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Relation {
    family: u64,
    /// Sorted, distinct.
    left: Vec<u64>,
    /// Sorted, distinct.
    right: Vec<u64>,
}

impl Relation {
    /// "X .. Y" here and "Y .. X" there, for some words X != Y.
    fn reversed_in(&self, other: &Self) -> bool {
        if self.family != other.family {
            return false;
        }
        let shared = |a: &[u64], b: &[u64]| a.iter().copied().filter(|x| b.contains(x)).collect::<Vec<u64>>();
        let forward = shared(&self.left, &other.right);
        let backward = shared(&self.right, &other.left);
        forward.iter().any(|x| backward.iter().any(|y| x != y))
    }

    fn key(&self) -> u64 {
        let side = |words: &[u64]| words.iter().fold(0u64, |h, &w| mix(h ^ w));
        mix(self.family ^ mix(side(&self.left)) ^ side(&self.right).rotate_left(17))
    }
}

/// The relations of an answer, bounded like a [`BoundedSet`].
#[derive(Clone, Debug, Default)]
struct Relations {
    items: Vec<Relation>,
    overflowed: bool,
    occurrences: u64,
}

impl Relations {
    /// Finds every relation word with content words on both sides, and marks it (and
    /// the comparative before a "than") as consumed.
    fn read(tokens: &[Token], consumed: &mut [bool]) -> Self {
        let mut relations = Self::default();
        for index in 0..tokens.len() {
            let token = &tokens[index];
            let Some(entry) = token.entry.filter(|_| token.kind == Kind::Word) else { continue };
            let (family, direction, comparative, right_start) = if entry.word == "than" {
                let comparative = comparative_before(tokens, index);
                match comparative {
                    Some((at, direction)) => (u64::from(lexicon::relation::THAN), direction, Some(at), index + 1),
                    // An unlisted comparative ("redder than") is a family of its own.
                    None => {
                        let before = index.checked_sub(1).map_or(0, |i| tokens[i].key());
                        (mix(before ^ 0x7468_616e), Direction::Forward, None, index + 1) // "than"
                    }
                }
            } else if let Some((family, direction)) = entry.relation {
                match tokens.get(index + 1) {
                    Some(next) if next.is_word("by") => (u64::from(family), direction.flipped(), None, index + 2),
                    _ => (u64::from(family), direction, None, index + 1),
                }
            } else {
                continue;
            };
            let left = context(tokens[..index].iter().enumerate().rev(), comparative);
            let right = context(tokens.iter().enumerate().skip(right_start), None);
            if left.is_empty() || right.is_empty() {
                continue;
            }
            consumed[index] = true;
            if let Some(at) = comparative {
                consumed[at] = true;
            }
            let (left, right) = match direction {
                Direction::Forward => (left, right),
                Direction::Backward => (right, left),
            };
            relations.insert(Relation { family, left, right });
        }
        relations
    }

    fn insert(&mut self, relation: Relation) {
        self.occurrences = self.occurrences.wrapping_add(relation.key());
        if self.overflowed {
            return;
        }
        if let Err(at) = self.items.binary_search(&relation) {
            if self.items.len() == CLAIM_RELATIONS_MAX {
                self.overflowed = true;
                self.items = Vec::new();
            } else {
                self.items.insert(at, relation);
            }
        }
    }

    fn conflict(&self, other: &Self) -> bool {
        if self.overflowed || other.overflowed {
            return !(self.overflowed && other.overflowed && self.occurrences == other.occurrences);
        }
        self.items.iter().any(|mine| other.items.iter().any(|theirs| mine.reversed_in(theirs)))
    }
}

/// Opposite predicates per subject, so that "prices rise when rates fall" and "prices
/// fall when rates fall" conflict although both use both sides of rise/fall. Bounded
/// like a [`BoundedSet`].
#[derive(Clone, Debug, Default)]
struct SubjectPredicates {
    /// Sorted by (subject, pair); the mask has bit 0 for side 0, bit 1 for side 1.
    items: Vec<(u64, u8, u8)>,
    overflowed: bool,
    occurrences: u64,
}

impl SubjectPredicates {
    fn insert(&mut self, subject: u64, pair: u8, side: u8) {
        self.occurrences = self.occurrences.wrapping_add(mix(subject ^ (u64::from(pair) << 8 | u64::from(side))));
        if self.overflowed {
            return;
        }
        let bit = 1u8 << side;
        match self.items.binary_search_by(|&(s, p, _)| (s, p).cmp(&(subject, pair))) {
            Ok(at) => self.items[at].2 |= bit,
            Err(_) if self.items.len() == CLAIM_PREDICATES_MAX => {
                self.overflowed = true;
                self.items = Vec::new();
            }
            Err(at) => self.items.insert(at, (subject, pair, bit)),
        }
    }

    /// One side of a pair for a subject here, only the other side for it there; past
    /// the bound, anything but the same predicates word for word.
    fn conflict(&self, other: &Self) -> bool {
        if self.overflowed || other.overflowed {
            return !(self.overflowed && other.overflowed && self.occurrences == other.occurrences);
        }
        let (mut i, mut j) = (0, 0);
        while i < self.items.len() && j < other.items.len() {
            let (mine, theirs) = (self.items[i], other.items[j]);
            match (mine.0, mine.1).cmp(&(theirs.0, theirs.1)) {
                core::cmp::Ordering::Less => i += 1,
                core::cmp::Ordering::Greater => j += 1,
                core::cmp::Ordering::Equal => {
                    if mine.2 != theirs.2 && mine.2 != 0b11 && theirs.2 != 0b11 {
                        return true;
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        false
    }
}

/// The subject of a predicate word at `index`: the nearest content word before it in
/// its clause (function words, negations and listed words skipped), within
/// [`RELATION_CONTEXT_WORDS`] tokens.
fn subject_before(tokens: &[Token], index: usize) -> Option<u64> {
    tokens[..index]
        .iter()
        .rev()
        .take(RELATION_CONTEXT_WORDS)
        .take_while(|t| !t.is_boundary())
        .find(|t| {
            t.kind == Kind::Word
                && !t.negated
                && t.entry.is_none_or(|e| {
                    !(e.stop
                        || e.negation
                        || !e.opposites.is_empty()
                        || e.relation.is_some()
                        || e.comparative.is_some()
                        || e.number.is_some())
                })
        })
        .map(Token::key)
}

/// The nearest listed comparative within reach before "than" at `than`, in the same
/// clause.
fn comparative_before(tokens: &[Token], than: usize) -> Option<(usize, Direction)> {
    (than.saturating_sub(COMPARATIVE_REACH_TOKENS)..than)
        .rev()
        .take_while(|&i| !tokens[i].is_boundary())
        .find_map(|i| tokens[i].entry.and_then(|e| e.comparative).map(|direction| (i, direction)))
}

/// Up to [`RELATION_CONTEXT_WORDS`] content words (and numbers) walking away from a
/// relation word, stopping at a clause boundary; function words, negations and the
/// comparative at `skip` do not count.
fn context<'a>(walk: impl Iterator<Item = (usize, &'a Token)>, skip: Option<usize>) -> Vec<u64> {
    let mut words = Vec::with_capacity(RELATION_CONTEXT_WORDS);
    for (index, token) in walk {
        if token.is_boundary() || words.len() == RELATION_CONTEXT_WORDS {
            break;
        }
        let function = token.negated || token.entry.is_some_and(|e| e.stop || e.negation);
        if Some(index) == skip || function {
            continue;
        }
        words.push(token.key());
    }
    words.sort_unstable();
    words.dedup();
    words
}

fn month_key(month: u8) -> u64 {
    mix(u64::from(month) ^ 0x006d_6f6e_7468) // "month"
}

/// A hash of a word (or any bytes): eight bytes at a time folded in with one
/// multiplication each, the rest packed little-endian, then [`mix`]. Stable across runs
/// and machines, and one finaliser for the short words it mostly sees.
pub(crate) fn word_hash(bytes: &[u8]) -> u64 {
    let mut hash = word_seed(bytes.len());
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        hash = (hash ^ u64::from_le_bytes(chunk.try_into().expect("eight bytes"))).wrapping_mul(FOLD).rotate_left(29);
    }
    mix(hash ^ packed_tail(chunks.remainder()))
}

/// [`word_hash`] of a word shorter than eight bytes, given packed little-endian.
pub(crate) const fn short_word_hash(packed: u64, length: usize) -> u64 {
    debug_assert!(length < 8);
    mix(word_seed(length) ^ packed)
}

const FOLD: u64 = 0x9e37_79b9_7f4a_7c15;

const fn word_seed(length: usize) -> u64 {
    0x243f_6a88_85a3_08d3 ^ (length as u64).wrapping_mul(FOLD)
}

/// Up to seven bytes packed little-endian, read with overlapping loads rather than
/// copied (a copy of variable length costs a call and a stall per word).
fn packed_tail(tail: &[u8]) -> u64 {
    let length = tail.len();
    let four = |at: usize| u64::from(u32::from_le_bytes([tail[at], tail[at + 1], tail[at + 2], tail[at + 3]]));
    if length >= 4 {
        // The two loads overlap on equal bytes, so or-ing them is exact.
        four(0) | (four(length - 4) << (8 * (length - 4)))
    } else {
        tail.iter().enumerate().fold(0, |packed, (at, &byte)| packed | (u64::from(byte) << (8 * at)))
    }
}

/// The splitmix64 finaliser: spreads every input bit over the output.
pub(crate) const fn mix(mut value: u64) -> u64 {
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

#[cfg(test)]
mod tests;
