//! Claims: semantic tasks whose truth is one sentence with a relation ("Mercury is
//! closer to the Sun than Venus"), stated in several frames, and the contradictions a
//! model writes in the very same frames: the claim negated, its predicate reversed,
//! its arguments swapped, or one name or number changed.
//!
//! Slots in a frame: `{a}` and `{b}` are the claim's arguments (`{A}`, `{B}` with a
//! capital first letter, for the start of a sentence), `{n}` its number or date.

/// One way of stating a claim, and the same frame contradicting it.
pub(crate) struct Frame {
    /// The claim.
    pub(crate) affirm: &'static str,
    /// The claim negated.
    pub(crate) negate: &'static str,
    /// The claim with its predicate reversed ("closer" for "farther"), if it has an
    /// opposite.
    pub(crate) oppose: Option<&'static str>,
}

/// A true claim, the question it answers, and what makes it false.
pub(crate) struct Claim {
    /// The task's text.
    pub(crate) question: &'static str,
    /// The first argument.
    pub(crate) a: &'static str,
    /// The second argument, if any.
    pub(crate) b: &'static str,
    /// The number or date, if any.
    pub(crate) n: &'static str,
    /// Whether swapping the arguments makes the claim false (an asymmetric relation).
    pub(crate) swappable: bool,
    /// Three frames: the right answers.
    pub(crate) frames: [Frame; 3],
    /// Values of `{a}` that make the claim false.
    pub(crate) other_a: &'static [&'static str],
    /// Values of `{n}` that make the claim false.
    pub(crate) other_n: &'static [&'static str],
    /// Wrong answers unlike the claim (what the plain mock says).
    pub(crate) unrelated: [&'static str; 2],
}

impl Claim {
    /// The claim in each of its frames.
    pub(crate) fn phrasings(&self) -> Vec<String> {
        self.frames.iter().map(|frame| fill(frame.affirm, self.a, self.b, self.n)).collect()
    }

    /// Every contradiction, frame by frame in a fixed order: negated, reversed,
    /// swapped, another `{a}`, another `{n}`.
    pub(crate) fn contradictions(&self) -> Vec<String> {
        let mut out = Vec::new();
        for frame in &self.frames {
            out.push(fill(frame.negate, self.a, self.b, self.n));
            if let Some(oppose) = frame.oppose {
                out.push(fill(oppose, self.a, self.b, self.n));
            }
            if self.swappable {
                out.push(fill(frame.affirm, self.b, self.a, self.n));
            }
            out.extend(self.other_a.iter().map(|a| fill(frame.affirm, a, self.b, self.n)));
            out.extend(self.other_n.iter().map(|n| fill(frame.affirm, self.a, self.b, n)));
        }
        out
    }
}

/// `template` with its slots filled.
fn fill(template: &str, a: &str, b: &str, n: &str) -> String {
    template
        .replace("{a}", a)
        .replace("{A}", &capitalised(a))
        .replace("{b}", b)
        .replace("{B}", &capitalised(b))
        .replace("{n}", n)
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

const fn frame(affirm: &'static str, negate: &'static str, oppose: Option<&'static str>) -> Frame {
    Frame { affirm, negate, oppose }
}

/// The claims of the hard question bank. Opposite predicates used (for a claim
/// lexicon to know): closer / farther, nearer / farther, boils / freezes, boiling /
/// freezing, rise / fall, go up / go down, up / down, higher / lower, taller /
/// shorter, began / ended, started / ended, started / finished, before / after,
/// precedes / follows, earlier / later, larger / smaller, bigger / smaller, faster /
/// slower, less / more, lower / higher.
pub(crate) const CLAIMS: [Claim; 10] = [
    Claim {
        question: "Explain in one sentence at what temperature water boils at sea level.",
        a: "water",
        b: "",
        n: "100",
        swappable: false,
        frames: [
            frame(
                "{A} boils at {n} degrees Celsius at sea level.",
                "{A} does not boil at {n} degrees Celsius at sea level.",
                Some("{A} freezes at {n} degrees Celsius at sea level."),
            ),
            frame(
                "At sea level, {a} boils at {n} °C.",
                "At sea level, {a} does not boil at {n} °C.",
                Some("At sea level, {a} freezes at {n} °C."),
            ),
            frame(
                "The boiling point of {a} at sea level is {n} degrees Celsius.",
                "The boiling point of {a} at sea level is not {n} degrees Celsius.",
                Some("The freezing point of {a} at sea level is {n} degrees Celsius."),
            ),
        ],
        other_a: &["ethanol", "olive oil"],
        other_n: &["90", "80", "120"],
        unrelated: ["Water boils when its molecules stop moving.", "It depends only on the size of the pot."],
    },
    Claim {
        question: "Describe in one sentence how the distances of Mercury and Venus from the Sun compare.",
        a: "Mercury",
        b: "Venus",
        n: "",
        swappable: true,
        frames: [
            frame(
                "{A} is closer to the Sun than {B}.",
                "{A} is not closer to the Sun than {B}.",
                Some("{A} is farther from the Sun than {B}."),
            ),
            frame(
                "{A} orbits nearer to the Sun than {B} does.",
                "{A} does not orbit nearer to the Sun than {B} does.",
                Some("{A} orbits farther from the Sun than {B} does."),
            ),
            frame(
                "Compared with {B}, {A} lies closer to the Sun.",
                "Compared with {B}, {A} does not lie closer to the Sun.",
                Some("Compared with {B}, {A} lies farther from the Sun."),
            ),
        ],
        other_a: &["Mars", "Earth"],
        other_n: &[],
        unrelated: ["Both planets share one orbit around the Moon.", "Planets do not orbit the Sun at all."],
    },
    Claim {
        question: "Explain in one sentence when the Peace of Westphalia was signed.",
        a: "Westphalia",
        b: "",
        n: "1648",
        swappable: false,
        frames: [
            frame("The Peace of {A} was signed in {n}.", "The Peace of {A} was not signed in {n}.", None),
            frame("In {n}, the Peace of {A} was signed.", "In {n}, the Peace of {A} was not signed.", None),
            frame(
                "The signing of the Peace of {A} took place in {n}.",
                "The signing of the Peace of {A} did not take place in {n}.",
                None,
            ),
        ],
        other_a: &["Utrecht", "Versailles"],
        other_n: &["1748", "1618", "1658"],
        unrelated: ["It was a trade fair held every spring.", "No peace has ever been signed in Europe."],
    },
    Claim {
        question: "Explain in one sentence how prices respond when demand increases and supply stays the same.",
        a: "prices",
        b: "demand",
        n: "",
        // "Demand rises when prices increase" would need its verbs inflected again.
        swappable: false,
        frames: [
            frame(
                "{A} rise when {b} increases and supply stays the same.",
                "{A} do not rise when {b} increases and supply stays the same.",
                Some("{A} fall when {b} increases and supply stays the same."),
            ),
            frame(
                "When {b} increases and supply is unchanged, {a} go up.",
                "When {b} increases and supply is unchanged, {a} do not go up.",
                Some("When {b} increases and supply is unchanged, {a} go down."),
            ),
            frame(
                "Higher {b} with the same supply pushes {a} up.",
                "Higher {b} with the same supply does not push {a} up.",
                Some("Higher {b} with the same supply pushes {a} down."),
            ),
        ],
        other_a: &[],
        other_n: &[],
        unrelated: ["Prices are set by the weather.", "Demand has nothing to do with markets."],
    },
    Claim {
        question: "Describe in one sentence how the heights of Mount Everest and K2 compare.",
        a: "Mount Everest",
        b: "K2",
        n: "",
        swappable: true,
        frames: [
            frame("{A} is higher than {B}.", "{A} is not higher than {B}.", Some("{A} is lower than {B}.")),
            frame("{A} is taller than {B}.", "{A} is not taller than {B}.", Some("{A} is shorter than {B}.")),
            frame(
                "The summit of {A} is higher than that of {B}.",
                "The summit of {A} is not higher than that of {B}.",
                Some("The summit of {A} is lower than that of {B}."),
            ),
        ],
        other_a: &["Mont Blanc", "Kilimanjaro"],
        other_n: &[],
        unrelated: ["Mountains grow taller every winter.", "Both are volcanoes under the sea."],
    },
    Claim {
        question: "Explain in one sentence when the First World War began.",
        a: "First World War",
        b: "",
        n: "1914",
        swappable: false,
        frames: [
            frame("The {a} began in {n}.", "The {a} did not begin in {n}.", Some("The {a} ended in {n}.")),
            frame("In {n}, the {a} started.", "In {n}, the {a} did not start.", Some("In {n}, the {a} ended.")),
            frame(
                "The {a} started in the year {n}.",
                "The {a} did not start in the year {n}.",
                Some("The {a} finished in the year {n}."),
            ),
        ],
        other_a: &["Second World War", "Korean War"],
        other_n: &["1918", "1939", "1904"],
        unrelated: ["Wars are declared by the calendar.", "It was a war between two football clubs."],
    },
    Claim {
        question: "Describe in one sentence the order of March and April in the calendar.",
        a: "March",
        b: "April",
        n: "",
        swappable: true,
        frames: [
            frame("{A} comes before {B}.", "{A} does not come before {B}.", Some("{A} comes after {B}.")),
            frame(
                "{A} precedes {B} in the calendar.",
                "{A} does not precede {B} in the calendar.",
                Some("{A} follows {B} in the calendar."),
            ),
            frame(
                "In the calendar, {A} is earlier than {B}.",
                "In the calendar, {A} is not earlier than {B}.",
                Some("In the calendar, {A} is later than {B}."),
            ),
        ],
        other_a: &["May", "June"],
        other_n: &[],
        unrelated: ["Months have no fixed order.", "The calendar starts with the summer."],
    },
    Claim {
        question: "Describe in one sentence how the sizes of Jupiter and Earth compare.",
        a: "Jupiter",
        b: "Earth",
        n: "",
        swappable: true,
        frames: [
            frame("{A} is larger than {B}.", "{A} is not larger than {B}.", Some("{A} is smaller than {B}.")),
            frame(
                "{A} has a bigger diameter than {B}.",
                "{A} does not have a bigger diameter than {B}.",
                Some("{A} has a smaller diameter than {B}."),
            ),
            frame(
                "{A} is much bigger than {B}.",
                "{A} is not much bigger than {B}.",
                Some("{A} is much smaller than {B}."),
            ),
        ],
        other_a: &["Mercury", "Mars"],
        other_n: &[],
        unrelated: ["Planets all have the same size.", "Size cannot be measured in space."],
    },
    Claim {
        question: "Explain in one sentence how the speeds of light and sound in air compare.",
        a: "light",
        b: "sound",
        n: "",
        swappable: true,
        frames: [
            frame(
                "{A} travels faster than {b} in air.",
                "{A} does not travel faster than {b} in air.",
                Some("{A} travels slower than {b} in air."),
            ),
            frame(
                "In air, {a} moves faster than {b}.",
                "In air, {a} does not move faster than {b}.",
                Some("In air, {a} moves slower than {b}."),
            ),
            frame(
                "{A} is faster than {b} when both travel through air.",
                "{A} is not faster than {b} when both travel through air.",
                Some("{A} is slower than {b} when both travel through air."),
            ),
        ],
        other_a: &[],
        other_n: &[],
        unrelated: ["Air stops both of them completely.", "Speed depends on the colour of the sky."],
    },
    Claim {
        question: "Explain in one sentence how the density of ice compares with that of liquid water.",
        a: "ice",
        b: "liquid water",
        n: "",
        swappable: true,
        frames: [
            frame(
                "{A} is less dense than {b}.",
                "{A} is not less dense than {b}.",
                Some("{A} is more dense than {b}."),
            ),
            frame(
                "{A} has a lower density than {b}.",
                "{A} does not have a lower density than {b}.",
                Some("{A} has a higher density than {b}."),
            ),
            frame(
                "Compared with {b}, {a} is less dense.",
                "Compared with {b}, {a} is not less dense.",
                Some("Compared with {b}, {a} is more dense."),
            ),
        ],
        other_a: &["iron", "granite"],
        other_n: &[],
        unrelated: ["Ice is made of a different element.", "Water has no density."],
    },
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn frames_fill_their_slots() {
        let mercury = &CLAIMS[1];
        assert_eq!(mercury.phrasings()[0], "Mercury is closer to the Sun than Venus.");
        let contradictions = mercury.contradictions();
        for expected in [
            "Mercury is not closer to the Sun than Venus.",
            "Mercury is farther from the Sun than Venus.",
            "Venus is closer to the Sun than Mercury.",
            "Mars is closer to the Sun than Venus.",
            "Compared with Mercury, Venus lies closer to the Sun.",
        ] {
            assert!(contradictions.iter().any(|c| c == expected), "{expected} missing from {contradictions:?}");
        }
        let water = &CLAIMS[0];
        assert_eq!(water.phrasings()[1], "At sea level, water boils at 100 °C.");
        assert!(water.contradictions().contains(&"Ethanol boils at 100 degrees Celsius at sea level.".to_owned()));
        assert!(water.contradictions().contains(&"At sea level, water boils at 90 °C.".to_owned()));
        let westphalia = &CLAIMS[2];
        assert!(westphalia.contradictions().contains(&"The Peace of Westphalia was signed in 1618.".to_owned()));
    }

    #[test]
    fn every_claim_has_distinct_right_and_wrong_sentences_without_open_slots() {
        for claim in &CLAIMS {
            let phrasings = claim.phrasings();
            let contradictions = claim.contradictions();
            let all: Vec<&String> = phrasings.iter().chain(&contradictions).collect();
            let distinct: BTreeSet<&String> = all.iter().copied().collect();
            assert_eq!(distinct.len(), all.len(), "{}: a contradiction repeats a phrasing", claim.question);
            assert!(all.iter().all(|s| !s.contains('{') && !s.contains('}')), "{}", claim.question);
            // At least a negation per frame and one more kind of contradiction.
            assert!(contradictions.len() >= 6, "{}: {contradictions:?}", claim.question);
        }
    }
}
