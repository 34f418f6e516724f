//! The answer-table runner shared by the table files (`answer_table.rs` holds the
//! numeric, exact and auto rows; other files append their own rows with the same
//! [`Row`] type and call [`run`]).
//!
//! A row is a set of answers, how they are matched ([`Mode`]), what must come of them
//! ([`Expect`]) and a one-line reason. [`run`] checks every row and reports every
//! failing one at once, with its reason.

#![allow(dead_code, reason = "each table file uses the part of the runner it needs")]

use std::collections::BTreeSet;

use quorum_core::HeuristicAnalyser;
use quorum_core::consensus::{
    Ballot, ConsensusConfig, ExclusionReason, Extracted, NumberValue, Strategy, Unreadable, decide, extract,
};

/// How a row's answers are matched.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// A fixed strategy.
    Fixed(Strategy),
    /// `auto`: the heuristic analyser on the task text when there is one, else
    /// [`Strategy::infer_from_answers`] (as `quorum consensus` does).
    Auto { task: Option<&'static str> },
}

pub const EXACT: Mode = Mode::Fixed(Strategy::Exact);
pub const NUMERIC: Mode = Mode::Fixed(Strategy::Numeric);
pub const SEMANTIC: Mode = Mode::Fixed(Strategy::Semantic);
pub const AUTO: Mode = Mode::Auto { task: None };

/// What must come of a row's answers.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    /// Every answer reads this number, not as a percentage.
    Value(f64),
    /// Every answer reads this number, as a percentage.
    Percent(f64),
    /// Every answer has this exact key.
    Key(&'static str),
    /// Every answer is excluded for this reason.
    Excluded(ExclusionReason),
    /// `decide` groups the answers (by index) exactly so, with nothing excluded; the
    /// order of groups and of members does not matter.
    Groups(&'static [&'static [usize]]),
    /// The strategy the mode picks (for `auto` rows).
    Routed(Strategy),
    /// Both: the strategy `auto` picks, and the grouping under it.
    RoutedGroups(Strategy, &'static [&'static [usize]]),
}

/// One line of the table.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    pub mode: Mode,
    pub answers: &'static [&'static str],
    pub expect: Expect,
    /// Why the row expects what it does, in one line.
    pub why: &'static str,
}

/// Shorthand for a row.
pub const fn row(mode: Mode, answers: &'static [&'static str], expect: Expect, why: &'static str) -> Row {
    Row { mode, answers, expect, why }
}

/// Checks every row; panics listing every failing row with its reason.
pub fn run(rows: &[Row]) {
    let failures: Vec<String> = rows
        .iter()
        .enumerate()
        .filter_map(|(index, row)| check(row).err().map(|problem| format!("row {index} ({}): {problem}", row.why)))
        .collect();
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), rows.len(), failures.join("\n"));
}

fn strategy_of(row: &Row) -> Strategy {
    match row.mode {
        Mode::Fixed(strategy) => strategy,
        Mode::Auto { task: Some(task) } => HeuristicAnalyser::default().analyse(task).strategy,
        Mode::Auto { task: None } => Strategy::infer_from_answers(row.answers.iter().copied()),
    }
}

fn check(row: &Row) -> Result<(), String> {
    let strategy = strategy_of(row);
    match row.expect {
        Expect::Value(value) => each_number(row, NumberValue { value, percent: false }),
        Expect::Percent(value) => each_number(row, NumberValue { value, percent: true }),
        Expect::Key(key) => each(row, strategy, |answer, got| match got {
            Ok(Extracted::Key(got)) if got == key => Ok(()),
            other => Err(format!("{answer:?} gave {other:?}, expected key {key:?}")),
        }),
        Expect::Excluded(reason) => {
            each(row, strategy, |answer, got| match got {
                Err(unreadable) if unreadable.reason() == reason => Ok(()),
                other => Err(format!("{answer:?} gave {other:?}, expected exclusion {reason:?}")),
            })?;
            let decision = decide(&ballots(row), &ConsensusConfig::default().with_strategy(strategy))
                .map_err(|error| error.to_string())?;
            let reasons: Vec<ExclusionReason> = decision.excluded.iter().map(|e| e.reason).collect();
            if reasons == vec![reason; row.answers.len()] && decision.counted == 0 {
                Ok(())
            } else {
                Err(format!("decide excluded {reasons:?} and counted {}", decision.counted))
            }
        }
        Expect::Groups(groups) => grouped(row, strategy, groups),
        Expect::Routed(expected) => routed(strategy, expected),
        Expect::RoutedGroups(expected, groups) => {
            routed(strategy, expected)?;
            grouped(row, strategy, groups)
        }
    }
}

fn routed(strategy: Strategy, expected: Strategy) -> Result<(), String> {
    if strategy == expected { Ok(()) } else { Err(format!("routed to {strategy:?}, expected {expected:?}")) }
}

fn each(
    row: &Row,
    strategy: Strategy,
    verdict: impl Fn(&str, Result<Extracted, Unreadable>) -> Result<(), String>,
) -> Result<(), String> {
    row.answers.iter().try_for_each(|answer| verdict(answer, extract(answer, strategy)))
}

fn each_number(row: &Row, expected: NumberValue) -> Result<(), String> {
    each(row, Strategy::Numeric, |answer, got| match got {
        Ok(Extracted::Number(got))
            if got.percent == expected.percent
                && (got.value - expected.value).abs() <= 1e-12 * expected.value.abs().max(1.0) =>
        {
            Ok(())
        }
        other => Err(format!("{answer:?} gave {other:?}, expected {expected}")),
    })
}

fn ballots(row: &Row) -> Vec<Ballot> {
    row.answers.iter().enumerate().map(|(index, answer)| Ballot::new(format!("w{index:02}"), *answer)).collect()
}

fn grouped(row: &Row, strategy: Strategy, groups: &[&[usize]]) -> Result<(), String> {
    let config = ConsensusConfig::default().with_strategy(strategy);
    let decision = decide(&ballots(row), &config).map_err(|error| error.to_string())?;
    if !decision.excluded.is_empty() {
        return Err(format!("excluded {:?}", decision.excluded));
    }
    let got: BTreeSet<BTreeSet<usize>> = decision
        .groups
        .iter()
        .map(|group| group.members.iter().map(|m| m.as_str()[1..].parse::<usize>().expect("wNN ids")).collect())
        .collect();
    let expected: BTreeSet<BTreeSet<usize>> = groups.iter().map(|g| g.iter().copied().collect()).collect();
    if got == expected { Ok(()) } else { Err(format!("grouped {got:?}, expected {expected:?}")) }
}
