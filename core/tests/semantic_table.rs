//! Semantic matching, row by row: answer pairs a careful reader keeps apart (and that
//! the lexical score alone would join), and paraphrases that must stay together, each
//! run through `decide` with the semantic strategy and its default settings.

use quorum_core::consensus::{Ballot, Claim, ConsensusConfig, Strategy, decide, text_similarity};

/// Apart: must never share a group. Together: must form one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Apart,
    Together,
}
use Expect::{Apart, Together};

/// (expectation, left, right, reason).
type Row = (Expect, &'static str, &'static str, &'static str);

const ROWS: &[Row] = &[
    // Negation.
    (Apart, "Paris is the capital of France.", "Paris is not the capital of France.", "a plain negation"),
    (Apart, "The drug is safe for children.", "The drug isn't safe for children.", "a contracted negation"),
    (Apart, "The bridge can carry trucks.", "The bridge cannot carry trucks.", "cannot"),
    (Apart, "Whales are mammals that breathe air.", "Whales are not mammals that breathe air.", "not, in the middle"),
    (Apart, "The vaccine causes autism.", "The vaccine never causes autism.", "never"),
    (Apart, "Some birds can fly at night.", "No birds can fly at night.", "no as a determiner"),
    (Apart, "The function returns a value.", "The function doesn't return a value.", "doesn't"),
    (Apart, "It is raining in London today.", "It is not raining in London today.", "not before the verb phrase"),
    (Apart, "Yes, the contract is valid.", "No, the contract is valid.", "an answer led by yes or no"),
    // Opposite predicates.
    (Apart, "Prices rise when interest rates fall.", "Prices fall when interest rates fall.", "rise / fall"),
    (Apart, "Unemployment increased in 2020.", "Unemployment decreased in 2020.", "increased / decreased"),
    (Apart, "The statement is true.", "The statement is false.", "true / false"),
    (Apart, "Gambling is legal in Nevada.", "Gambling is illegal in Nevada.", "legal / illegal"),
    (Apart, "The committee accepted the proposal.", "The committee rejected the proposal.", "accepted / rejected"),
    (Apart, "Smoking is allowed on the terrace.", "Smoking is forbidden on the terrace.", "allowed / forbidden"),
    (Apart, "The home team won the final.", "The home team lost the final.", "won / lost"),
    (Apart, "Boiling point is higher at altitude.", "Boiling point is lower at altitude.", "higher / lower"),
    (Apart, "Ice floats on water.", "Ice sinks in water.", "floats / sinks"),
    (Apart, "The reaction is exothermic.", "The reaction is endothermic.", "exothermic / endothermic"),
    (Apart, "The stock price went up after the report.", "The stock price went down after the report.", "up / down"),
    // Reversed relations.
    (
        Apart,
        "The Bronze Age precedes the Iron Age.",
        "The Iron Age precedes the Bronze Age.",
        "precedes, arguments swapped",
    ),
    (Apart, "Jupiter is larger than Saturn.", "Saturn is larger than Jupiter.", "comparative, arguments swapped"),
    (Apart, "The Earth orbits the Sun.", "The Sun orbits the Earth.", "orbits, arguments swapped"),
    (Apart, "Smoking causes lung cancer.", "Lung cancer causes smoking.", "causes, arguments swapped"),
    (Apart, "Breakfast comes before lunch.", "Lunch comes before breakfast.", "before, arguments swapped"),
    (
        Apart,
        "Germany beat Brazil in the semifinal.",
        "Brazil beat Germany in the semifinal.",
        "beat, arguments swapped",
    ),
    (Apart, "Jupiter has more moons than Mars.", "Mars has more moons than Jupiter.", "more ... than, swapped"),
    (
        Apart,
        "The Bronze Age precedes the Iron Age.",
        "The Bronze Age follows the Iron Age.",
        "precedes / follows, same order",
    ),
    (Apart, "Jupiter is larger than Saturn.", "Jupiter is smaller than Saturn.", "larger / smaller than"),
    (Apart, "Wolves eat rabbits.", "Rabbits eat wolves.", "eat, arguments swapped"),
    // Other numbers, dates and names in the same frame.
    (Apart, "The Moon landing was in 1969.", "The Moon landing was in 1972.", "another year"),
    (Apart, "Mars has 2 moons.", "Mars has 3 moons.", "another count"),
    (
        Apart,
        "The boiling point of water is 100 degrees Celsius.",
        "The boiling point of water is 90 degrees Celsius.",
        "another value",
    ),
    (Apart, "The treaty was signed on 4 July 1776.", "The treaty was signed on 4 August 1776.", "another month"),
    (Apart, "The meeting is on 12 March 2024.", "The meeting is on 21 March 2024.", "another day"),
    (Apart, "The population is about 3.5 million.", "The population is about 35 million.", "a misplaced decimal point"),
    (Apart, "The temperature dropped to -5 degrees.", "The temperature dropped to 5 degrees.", "another sign"),
    (Apart, "Paris is the capital of France.", "Lyon is the capital of France.", "another name, sentence-initial"),
    (Apart, "The capital of Australia is Canberra.", "The capital of Australia is Sydney.", "another name at the end"),
    (
        Apart,
        "Neil Armstrong was the first man on the Moon.",
        "Buzz Aldrin was the first man on the Moon.",
        "another person",
    ),
    (Apart, "The correct answer is option B.", "The correct answer is option C.", "another option letter"),
    (Apart, "The virus was identified by the CDC.", "The virus was identified by the WHO.", "another acronym"),
    (Apart, "Mount Everest is in Nepal.", "Mount Everest is in Peru.", "another country"),
    (Apart, "It has three moons.", "It has four moons.", "number words"),
    // Paraphrases that must stay together.
    (Together, "Paris is the capital of France.", "The capital of France is Paris.", "reordered clauses"),
    (Together, "Paris is the capital of France.", "paris is the capital of france", "case and punctuation"),
    (
        Together,
        "Water boils at 100 degrees Celsius at sea level.",
        "At sea level, water boils at 100 degrees Celsius.",
        "a fronted phrase",
    ),
    (
        Together,
        "The Bronze Age precedes the Iron Age.",
        "The Iron Age follows the Bronze Age.",
        "precedes / follows, reversed",
    ),
    (
        Together,
        "The Bronze Age precedes the Iron Age.",
        "The Iron Age is preceded by the Bronze Age.",
        "a passive relation",
    ),
    (Together, "Jupiter is larger than Saturn.", "Saturn is smaller than Jupiter.", "the converse comparative"),
    (Together, "Smoking causes lung cancer.", "Lung cancer is caused by smoking.", "a passive cause"),
    (Together, "Breakfast comes before lunch.", "Lunch comes after breakfast.", "before / after, reversed"),
    (Together, "Mars has two moons.", "Mars has 2 moons.", "a number word for digits"),
    (Together, "The city has 1,000,000 inhabitants.", "The city has 1000000 inhabitants.", "thousands separators"),
    (Together, "The city has one million inhabitants.", "The city has 1,000,000 inhabitants.", "a scale word"),
    (Together, "The treaty was signed on July 4, 1776.", "The treaty was signed on 4 July 1776.", "date order"),
    (Together, "Prices rise when demand rises.", "When demand rises, prices rise too.", "a clause moved, a word added"),
    (
        Together,
        "The drug is not safe for children.",
        "For children, the drug is not safe.",
        "a negation kept on both sides",
    ),
    (Together, "Whales are mammals.", "Whales are indeed mammals.", "an added adverb"),
    (Together, "The Earth orbits the Sun.", "The Earth is orbiting the Sun.", "another inflection"),
    (Together, "Armstrong walked on the Moon in 1969.", "In 1969, Armstrong walked on the Moon.", "a fronted date"),
    (
        Together,
        "Canberra is the capital of Australia.",
        "The capital of Australia is Canberra.",
        "reordered, names kept",
    ),
    (Together, "France's capital is Paris.", "Paris is the capital of France.", "a possessive"),
    (
        Together,
        "Jupiter has more moons than Mars.",
        "Mars has fewer moons than Jupiter.",
        "the converse of more ... than",
    ),
    (Together, "The answer is option B.", "The answer is option B, as explained.", "an added remark without a claim"),
    (Together, "Light travels faster than sound.", "Sound travels slower than light.", "the converse speed comparison"),
];

fn config() -> ConsensusConfig {
    ConsensusConfig::default().with_strategy(Strategy::Semantic)
}

fn groups_for(left: &str, right: &str) -> usize {
    let ballots = [Ballot::new("w0", left), Ballot::new("w1", right)];
    decide(&ballots, &config()).unwrap().groups.len()
}

#[test]
fn the_table_holds_row_by_row() {
    assert!(ROWS.len() >= 50, "at least 50 rows: {}", ROWS.len());
    let mut failures = Vec::new();
    for &(expect, left, right, reason) in ROWS {
        let groups = groups_for(left, right);
        let holds = match expect {
            Apart => groups == 2,
            Together => groups == 1,
        };
        if !holds {
            let conflict = Claim::new(left).conflict_with(&Claim::new(right));
            let similarity = text_similarity(left, right);
            failures.push(format!(
                "{expect:?} ({reason}): {left:?} / {right:?}: {groups} groups, similarity {similarity:.3}, conflict {conflict:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{} rows fail:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_apart_row_is_one_the_score_alone_would_join() {
    // Otherwise the row would pass without the claim guard and test nothing.
    let join_min = config().similarity_join_min;
    for &(expect, left, right, reason) in ROWS {
        if expect == Apart {
            let similarity = text_similarity(left, right);
            assert!(similarity >= join_min, "{reason}: {left:?} / {right:?} score {similarity:.3}");
            assert!(Claim::new(left).conflict_with(&Claim::new(right)).is_some(), "{reason}");
        }
    }
}

#[test]
fn a_majority_of_paraphrases_wins_over_a_louder_contradiction() {
    // Three paraphrases and two copies of the negation, each pair above the join
    // level: the paraphrases win alone, the negation never joins them.
    let ballots = [
        Ballot::new("w0", "The Bronze Age precedes the Iron Age."),
        Ballot::new("w1", "The Iron Age follows the Bronze Age."),
        Ballot::new("w2", "The Bronze Age precedes the Iron Age"),
        Ballot::new("w3", "The Iron Age precedes the Bronze Age."),
        Ballot::new("w4", "The Iron Age precedes the Bronze Age!").power(1.5),
    ];
    let decision = decide(&ballots, &config()).unwrap();
    let leader = decision.leader().unwrap();
    assert_eq!(leader.members.len(), 3, "{decision:#?}");
    assert!(leader.members.iter().all(|m| ["w0", "w1", "w2"].contains(&m.as_str())), "{decision:#?}");
    assert!(decision.groups.iter().all(|g| g.members.len() <= 3));
}
