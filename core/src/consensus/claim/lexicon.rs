//! The small, documented word lists a claim signature is read with.
//!
//! Every list is plain data, so a reader can check exactly what the guard knows. Words
//! are matched after lower-casing, with an apostrophe suffix (`'s`, `'re`, ...) removed;
//! a word may play several roles ("lower" is a comparative and one side of high/low).
//! The lists are deliberately small: a word the guard does not know can only make two
//! answers *look* compatible, and similarity (or an entailment judge) still has to
//! group them; a word it knows wrongly can only keep two answers apart.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::OnceLock;

use super::bounded::Prehashed;

/// Words that negate what a clause says. Contractions ending in `n't` (and their
/// apostrophe-less spellings listed here) count too. "nor" is not listed: it only
/// continues a "neither" or "not" that already counted. "not only", "not just" and
/// "not merely" do not negate ("not only big but also fast").
pub(super) const NEGATIONS: &[&str] = &[
    "not", "no", "never", "none", "nobody", "nothing", "nowhere", "neither", "cannot", "dont", "doesnt", "didnt",
    "isnt", "wasnt", "arent", "werent", "cant", "wont", "couldnt", "shouldnt", "wouldnt", "hasnt", "havent", "hadnt",
    "mustnt", "neednt", "aint",
];

/// Words after "not" that turn it into an addition rather than a negation.
pub(super) const NOT_MODIFIERS: &[&str] = &["only", "just", "merely"];

/// Function words: never a name, never an argument of a relation.
pub(super) const STOP: &[&str] = &[
    "a",
    "about",
    "also",
    "although",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "being",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "each",
    "either",
    "else",
    "etc",
    "every",
    "for",
    "from",
    "had",
    "has",
    "have",
    "he",
    "hence",
    "her",
    "here",
    "hers",
    "him",
    "his",
    "how",
    "however",
    "i",
    "if",
    "in",
    "indeed",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "may",
    "me",
    "might",
    "most",
    "must",
    "my",
    "nor",
    "of",
    "on",
    "or",
    "our",
    "ours",
    "overall",
    "shall",
    "she",
    "should",
    "since",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "then",
    "there",
    "therefore",
    "these",
    "they",
    "this",
    "those",
    "thus",
    "to",
    "too",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "whereas",
    "whether",
    "which",
    "while",
    "who",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "would",
    "yes",
    "yet",
    "you",
    "your",
    "yours",
    "answer",
    "generally",
    "typically",
    "usually",
    "actually",
    "basically",
    "essentially",
    "well",
    "certainly",
    "definitely",
    "probably",
    "perhaps",
    "maybe",
    "simply",
    "just",
    "only",
    "merely",
    "sure",
    "ok",
    "okay",
    "note",
    "according",
    "let",
    "lets",
    "let's",
    "s",
    "t",
    "d",
    "ll",
    "re",
    "ve",
    "m",
];

/// Pairs of opposite predicates: one side of a pair in one answer and only the other
/// side in another is a contradiction ("prices rise" / "prices fall"). Inflections are
/// listed by hand (rise, rises, rose, risen, rising) rather than stemmed, so nothing
/// outside the list is caught by accident. At most 64 pairs (one bit each).
pub(super) const OPPOSITES: &[(&[&str], &[&str])] = &[
    (&["rise", "rises", "rose", "risen", "rising"], &["fall", "falls", "fell", "fallen", "falling"]),
    (&["increase", "increases", "increased", "increasing"], &["decrease", "decreases", "decreased", "decreasing"]),
    (&["grow", "grows", "grew", "grown", "growing"], &["shrink", "shrinks", "shrank", "shrunk", "shrinking"]),
    (&["true"], &["false"]),
    (&["before"], &["after"]),
    (&["precede", "precedes", "preceded", "preceding"], &["follow", "follows", "followed"]),
    (&["more"], &["less", "fewer"]),
    (&["high", "higher", "highest"], &["low", "lower", "lowest"]),
    (&["above"], &["below"]),
    (
        &["large", "larger", "largest", "big", "bigger", "biggest", "greater", "greatest"],
        &["small", "smaller", "smallest", "lesser"],
    ),
    (&["gain", "gains", "gained", "gaining"], &["lose", "loses", "lost", "losing"]),
    (&["win", "wins", "won", "winning"], &["lose", "loses", "lost", "losing"]),
    (
        &["accept", "accepts", "accepted", "accepting", "approve", "approves", "approved"],
        &["reject", "rejects", "rejected", "rejecting"],
    ),
    (
        &["allow", "allows", "allowed", "allowing", "permit", "permits", "permitted"],
        &["forbid", "forbids", "forbidden", "forbade", "prohibit", "prohibits", "prohibited", "ban", "bans", "banned"],
    ),
    (&["legal", "lawful"], &["illegal", "unlawful"]),
    (&["possible"], &["impossible"]),
    (&["correct"], &["incorrect"]),
    (&["valid"], &["invalid"]),
    (&["hot", "hotter", "hottest"], &["cold", "colder", "coldest"]),
    (&["warm", "warmer", "warmest"], &["cool", "cooler", "coolest"]),
    (&["fast", "faster", "fastest"], &["slow", "slower", "slowest"]),
    (&["early", "earlier", "earliest"], &["late", "later", "latest"]),
    (&["maximum", "max"], &["minimum", "min"]),
    (&["first"], &["last"]),
    (&["positive"], &["negative"]),
    (&["north", "northern"], &["south", "southern"]),
    (&["east", "eastern"], &["west", "western"]),
    (&["up"], &["down"]),
    (
        &["success", "succeed", "succeeds", "succeeded", "successful"],
        &["failure", "fail", "fails", "failed", "unsuccessful"],
    ),
    (&["agree", "agrees", "agreed"], &["disagree", "disagrees", "disagreed"]),
    (&["include", "includes", "included"], &["exclude", "excludes", "excluded"]),
    (&["strong", "stronger", "strongest"], &["weak", "weaker", "weakest"]),
    (&["safe", "safer", "safest"], &["unsafe", "dangerous"]),
    (&["good", "better", "best"], &["bad", "worse", "worst"]),
    (&["buy", "buys", "bought"], &["sell", "sells", "sold"]),
    (&["import", "imports", "imported"], &["export", "exports", "exported"]),
    (&["guilty"], &["innocent"]),
    (&["alive"], &["dead"]),
    (&["attract", "attracts", "attracted"], &["repel", "repels", "repelled"]),
    (&["acidic"], &["alkaline"]),
    (&["same", "identical"], &["different"]),
    (&["clockwise"], &["counterclockwise", "anticlockwise"]),
    (&["majority"], &["minority"]),
    (&["inside", "internal"], &["outside", "external"]),
    (&["heavy", "heavier", "heaviest"], &["light", "lighter", "lightest"]),
    (&["old", "older", "oldest"], &["young", "younger", "youngest"]),
    (&["long", "longer", "longest", "tall", "taller", "tallest"], &["short", "shorter", "shortest"]),
    (&["wide", "wider", "widest"], &["narrow", "narrower", "narrowest"]),
    (&["rich", "richer", "richest"], &["poor", "poorer", "poorest"]),
    (&["open", "opens", "opened"], &["close", "closes", "closed"]),
    (&["enable", "enables", "enabled"], &["disable", "disables", "disabled"]),
    (&["cheap", "cheaper", "cheapest"], &["expensive"]),
    (&["deep", "deeper", "deepest"], &["shallow", "shallower", "shallowest"]),
    (&["add", "adds", "added"], &["remove", "removes", "removed"]),
    (&["sink", "sinks", "sank", "sunk"], &["float", "floats", "floated"]),
    (&["freeze", "freezes", "froze", "frozen"], &["melt", "melts", "melted"]),
    (&["absorb", "absorbs", "absorbed"], &["emit", "emits", "emitted"]),
    (&["exothermic"], &["endothermic"]),
];

const _: () = assert!(OPPOSITES.len() <= 64, "one bit per pair in a u64");

/// Which way a relation reads: `Forward` keeps "A rel B" as (A, B), `Backward` turns
/// it into (B, A), so "A precedes B", "B follows A" and "B is preceded by A" all read
/// as (A, B).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Direction {
    Forward,
    Backward,
}

impl Direction {
    pub(super) fn flipped(self) -> Self {
        match self {
            Self::Forward => Self::Backward,
            Self::Backward => Self::Forward,
        }
    }
}

/// Relation families whose arguments have an order.
pub(super) mod relation {
    /// Order in time or sequence: precedes, follows, before, after.
    pub(in super::super) const ORDER: u8 = 1;
    /// Comparison with "than" (or exceeds, outnumbers).
    pub(in super::super) const THAN: u8 = 2;
    /// Causes.
    pub(in super::super) const CAUSE: u8 = 3;
    /// Orbits.
    pub(in super::super) const ORBIT: u8 = 4;
    /// Contains.
    pub(in super::super) const CONTAIN: u8 = 5;
    /// Beats, defeats.
    pub(in super::super) const BEAT: u8 = 6;
    /// Eats.
    pub(in super::super) const EAT: u8 = 7;
    /// Owns.
    pub(in super::super) const OWN: u8 = 8;
    /// Implies.
    pub(in super::super) const IMPLY: u8 = 9;
    /// Above, below.
    pub(in super::super) const VERTICAL: u8 = 10;
    /// North of, south of.
    pub(in super::super) const NORTH_SOUTH: u8 = 11;
    /// East of, west of.
    pub(in super::super) const EAST_WEST: u8 = 12;
}

/// Relation words: the family and the direction. A relation verb directly followed by
/// "by" reads the other way ("A is preceded by B" is "B precedes A").
pub(super) const RELATIONS: &[(&[&str], u8, Direction)] = &[
    (&["precede", "precedes", "preceded", "preceding", "before"], relation::ORDER, Direction::Forward),
    (&["follow", "follows", "followed", "after"], relation::ORDER, Direction::Backward),
    (
        &["exceed", "exceeds", "exceeded", "outnumber", "outnumbers", "outweigh", "outweighs"],
        relation::THAN,
        Direction::Forward,
    ),
    (&["surpass", "surpasses", "surpassed"], relation::THAN, Direction::Forward),
    (&["cause", "causes", "caused"], relation::CAUSE, Direction::Forward),
    (&["orbit", "orbits", "orbited", "orbiting"], relation::ORBIT, Direction::Forward),
    (&["contain", "contains", "contained"], relation::CONTAIN, Direction::Forward),
    (&["beat", "beats", "defeat", "defeats", "defeated"], relation::BEAT, Direction::Forward),
    (&["eat", "eats", "ate", "eaten"], relation::EAT, Direction::Forward),
    (&["own", "owns", "owned"], relation::OWN, Direction::Forward),
    (&["imply", "implies", "implied"], relation::IMPLY, Direction::Forward),
    (&["above"], relation::VERTICAL, Direction::Forward),
    (&["below", "beneath"], relation::VERTICAL, Direction::Backward),
    (&["north"], relation::NORTH_SOUTH, Direction::Forward),
    (&["south"], relation::NORTH_SOUTH, Direction::Backward),
    (&["east"], relation::EAST_WEST, Direction::Forward),
    (&["west"], relation::EAST_WEST, Direction::Backward),
];

/// Comparatives read before "than": "A is larger than B" is (A, B) forward, "B is
/// smaller than A" backward, so the two agree and "B is larger than A" does not. Every
/// listed comparative shares one family, which is conservative: "A is older than B"
/// and "A is shorter than B" are kept apart (they are different claims anyway). A
/// comparative not listed makes a family of its own ("redder than").
pub(super) const COMPARATIVES: &[(&[&str], Direction)] = &[
    (
        &[
            "more", "greater", "larger", "bigger", "higher", "taller", "longer", "heavier", "older", "faster",
            "stronger", "better", "hotter", "warmer", "wider", "deeper", "richer", "earlier", "costlier", "further",
            "farther",
        ],
        Direction::Forward,
    ),
    (
        &[
            "less",
            "fewer",
            "smaller",
            "lower",
            "shorter",
            "lighter",
            "younger",
            "slower",
            "weaker",
            "worse",
            "colder",
            "cooler",
            "narrower",
            "shallower",
            "poorer",
            "lesser",
            "later",
            "cheaper",
            "nearer",
            "closer",
        ],
        Direction::Backward,
    ),
];

/// How a number word combines with its neighbours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum NumberWord {
    /// 0, 2..=19: a value on its own, or the units after a tens word.
    Units(f64),
    /// 20, 30, ..., 90: may take units after it ("twenty five").
    Tens(f64),
    /// hundred, thousand, million, billion, trillion: multiplies the number before it.
    Scale(f64),
    /// "one": a number only before a scale word ("one million"); alone it is usually a
    /// pronoun ("one of the reasons").
    One,
}

/// Number words read as numbers, so "three moons" states the same number as "3 moons".
pub(super) const NUMBER_WORDS: &[(&str, NumberWord)] = &[
    ("zero", NumberWord::Units(0.0)),
    ("one", NumberWord::One),
    ("two", NumberWord::Units(2.0)),
    ("three", NumberWord::Units(3.0)),
    ("four", NumberWord::Units(4.0)),
    ("five", NumberWord::Units(5.0)),
    ("six", NumberWord::Units(6.0)),
    ("seven", NumberWord::Units(7.0)),
    ("eight", NumberWord::Units(8.0)),
    ("nine", NumberWord::Units(9.0)),
    ("ten", NumberWord::Units(10.0)),
    ("eleven", NumberWord::Units(11.0)),
    ("twelve", NumberWord::Units(12.0)),
    ("thirteen", NumberWord::Units(13.0)),
    ("fourteen", NumberWord::Units(14.0)),
    ("fifteen", NumberWord::Units(15.0)),
    ("sixteen", NumberWord::Units(16.0)),
    ("seventeen", NumberWord::Units(17.0)),
    ("eighteen", NumberWord::Units(18.0)),
    ("nineteen", NumberWord::Units(19.0)),
    ("twenty", NumberWord::Tens(20.0)),
    ("thirty", NumberWord::Tens(30.0)),
    ("forty", NumberWord::Tens(40.0)),
    ("fifty", NumberWord::Tens(50.0)),
    ("sixty", NumberWord::Tens(60.0)),
    ("seventy", NumberWord::Tens(70.0)),
    ("eighty", NumberWord::Tens(80.0)),
    ("ninety", NumberWord::Tens(90.0)),
    ("hundred", NumberWord::Scale(1.0e2)),
    ("thousand", NumberWord::Scale(1.0e3)),
    ("million", NumberWord::Scale(1.0e6)),
    ("billion", NumberWord::Scale(1.0e9)),
    ("trillion", NumberWord::Scale(1.0e12)),
];

/// Month names and the month they state. Months are kept apart from plain numbers, so
/// "7 March" and "3 July" differ. The ones marked `true` are also ordinary words ("may",
/// "march", "jan"): they count as a month only capitalised and next to a number.
pub(super) const MONTHS: &[(&str, u8, bool)] = &[
    ("january", 1, false),
    ("february", 2, false),
    ("march", 3, true),
    ("april", 4, false),
    ("may", 5, true),
    ("june", 6, false),
    ("july", 7, false),
    ("august", 8, false),
    ("september", 9, false),
    ("october", 10, false),
    ("november", 11, false),
    ("december", 12, false),
    ("jan", 1, true),
    ("feb", 2, true),
    ("mar", 3, true),
    ("apr", 4, true),
    ("jun", 6, true),
    ("jul", 7, true),
    ("aug", 8, true),
    ("sep", 9, true),
    ("sept", 9, true),
    ("oct", 10, true),
    ("nov", 11, true),
    ("dec", 12, true),
];

/// Everything the lists say about one word.
#[derive(Debug, Default)]
pub(super) struct Entry {
    /// The word itself (guards against a hash collision with an unlisted word).
    pub(super) word: &'static str,
    pub(super) stop: bool,
    pub(super) negation: bool,
    pub(super) not_modifier: bool,
    /// (pair index in [`OPPOSITES`], side 0 or 1).
    pub(super) opposites: Vec<(u8, u8)>,
    pub(super) relation: Option<(u8, Direction)>,
    pub(super) comparative: Option<Direction>,
    pub(super) number: Option<NumberWord>,
    /// (month, needs to be capitalised and next to a number).
    pub(super) month: Option<(u8, bool)>,
}

/// Looks a lower-cased word up by its [`super::word_hash`]; `None` for a word no list
/// names.
pub(super) fn lookup(hash: u64, word: &[u8]) -> Option<&'static Entry> {
    let lexicon = lexicon();
    // Most words of an answer are in no list: one bit test turns most of them away
    // before the map is probed.
    let bit = (hash >> 52) as usize;
    if lexicon.filter[bit / 64] & (1 << (bit % 64)) == 0 {
        return None;
    }
    lexicon.table.get(&hash).filter(|entry| entry.word.as_bytes() == word)
}

/// Membership only: nothing iterates this map, so its order cannot leak.
type Table = HashMap<u64, Entry, BuildHasherDefault<Prehashed>>;

/// The table, and a bit per 12 high hash bits set for every listed word.
struct Lexicon {
    table: Table,
    filter: [u64; 64],
}

fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let table = build();
        let mut filter = [0u64; 64];
        for &hash in table.keys() {
            let bit = (hash >> 52) as usize;
            filter[bit / 64] |= 1 << (bit % 64);
        }
        Lexicon { table, filter }
    })
}

fn build() -> Table {
    let mut table = Table::default();
    fn entry<'t>(table: &'t mut Table, word: &'static str) -> &'t mut Entry {
        let entry = table.entry(super::word_hash(word.as_bytes())).or_default();
        assert!(entry.word.is_empty() || entry.word == word, "lexicon hash collision: {word} / {}", entry.word);
        entry.word = word;
        entry
    }
    for &word in STOP {
        entry(&mut table, word).stop = true;
    }
    for &word in NEGATIONS {
        entry(&mut table, word).negation = true;
    }
    for &word in NOT_MODIFIERS {
        entry(&mut table, word).not_modifier = true;
    }
    for (pair, (up, down)) in OPPOSITES.iter().enumerate() {
        for (side, words) in [(0u8, up), (1u8, down)] {
            for &word in words.iter() {
                entry(&mut table, word).opposites.push((pair as u8, side));
            }
        }
    }
    for &(words, family, direction) in RELATIONS {
        for &word in words {
            entry(&mut table, word).relation = Some((family, direction));
        }
    }
    for &(words, direction) in COMPARATIVES {
        for &word in words {
            entry(&mut table, word).comparative = Some(direction);
        }
    }
    for &(word, number) in NUMBER_WORDS {
        entry(&mut table, word).number = Some(number);
    }
    for &(word, month, ambiguous) in MONTHS {
        entry(&mut table, word).month = Some((month, ambiguous));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_word_is_found_with_all_its_roles() {
        let lower = lookup(super::super::word_hash(b"lower"), b"lower").unwrap();
        assert_eq!(lower.comparative, Some(Direction::Backward));
        assert_eq!(lower.opposites, vec![(7, 1)]);
        let lose = lookup(super::super::word_hash(b"lose"), b"lose").unwrap();
        assert_eq!(lose.opposites.len(), 2, "gain/lose and win/lose");
        assert!(lookup(super::super::word_hash(b"paris"), b"paris").is_none());
        assert!(lookup(super::super::word_hash(b"not"), b"not").unwrap().negation);
    }

    #[test]
    fn a_word_is_never_on_both_sides_of_one_pair() {
        for (up, down) in OPPOSITES {
            for word in up.iter() {
                assert!(!down.contains(word), "{word}");
            }
        }
    }
}
