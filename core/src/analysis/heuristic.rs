//! The deterministic analyser: reads cues in the task's text.

use super::{AnalysisLimits, COMPLEXITY_MAX, TaskPlan};
use crate::consensus::{ConsensusConfig, Strategy, Unreadable, extract};

/// Words that ask for a calculation.
const CALCULATION_CUES: [&str; 14] = [
    "how many",
    "how much",
    "calculate",
    "compute",
    "sum of",
    "total",
    "product of",
    "average",
    "percent",
    "multiply",
    "divide",
    "subtract",
    "plus",
    "minus",
];
/// Words that ask for free text.
const OPEN_CUES: [&str; 11] = [
    "explain",
    "why",
    "describe",
    "summarize",
    "summarise",
    "compare",
    "discuss",
    "how does",
    "how do",
    "what are the",
    "write",
];
/// Words that ask for a choice between two options, which workers agree on by chance
/// half the time.
const BINARY_CUES: [&str; 4] = ["yes or no", "true or false", "is it true", "true/false"];
/// Verbs that open a question answered by yes or no ("Is it legal ...?", "Does 7
/// divide 91?"), unless "you" follows ("Can you compute ...?" asks for work).
const YES_NO_OPENERS: [&str; 22] = [
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "should", "would", "will", "has", "have", "had",
    "may", "might", "must", "shall", "isn't", "aren't", "doesn't",
];
/// Words that mark several steps.
const STEP_CUES: [&str; 6] = [" then ", " after ", " step", " first ", " finally ", ";"];
/// Words that allow an approximate number.
const APPROXIMATE_CUES: [&str; 5] = ["approximately", "about", "roughly", "estimate", "around"];

/// Raise of the agreement threshold for a yes/no question.
const BINARY_THRESHOLD_RAISE: f64 = 0.1;
/// Relative tolerance at least, for a task that asks for an approximation.
const APPROXIMATE_TOLERANCE_RELATIVE: f64 = 0.05;
/// Relative tolerance at least, for a division (workers round differently).
const DIVISION_TOLERANCE_RELATIVE: f64 = 1.0e-3;

/// The heuristic analyser. Its plans start from a base consensus config (the
/// supervisor's) and only adapt it: the threshold rises for coin-flip questions, the
/// relative tolerance widens for approximations and divisions, and the strategy comes
/// from the text unless one is forced.
#[derive(Clone, Debug, Default)]
pub struct HeuristicAnalyser {
    limits: AnalysisLimits,
    base: ConsensusConfig,
    strategy: Option<Strategy>,
}

impl HeuristicAnalyser {
    /// An analyser that keeps its plans within `limits`, from the default consensus
    /// config.
    pub fn new(limits: AnalysisLimits) -> Self {
        Self { limits, base: ConsensusConfig::default(), strategy: None }
    }

    /// Plans adapt from `base`; `strategy`, when given, is used for every task.
    #[must_use]
    pub fn with_base(mut self, base: ConsensusConfig, strategy: Option<Strategy>) -> Self {
        self.base = base;
        self.strategy = strategy;
        self
    }

    /// The limits it plans within.
    pub fn limits(&self) -> &AnalysisLimits {
        &self.limits
    }

    /// Plans a task from its text.
    pub fn analyse(&self, text: &str) -> TaskPlan {
        let lower = format!(" {} ", text.to_lowercase());
        let has = |cues: &[&str]| cues.iter().any(|cue| lower.contains(cue));
        let words = text.split_whitespace().count();
        let operators = arithmetic_operators(text);
        // Any number at all: the task's own numbers are often several ("the total of 3
        // and 4"), which an answer could not commit to but a task may well state.
        let mentions_number =
            !matches!(extract(text, Strategy::Numeric), Err(Unreadable::NoNumber | Unreadable::Empty));
        let calculation = operators > 0 || (has(&CALCULATION_CUES) && mentions_number);
        let open = has(&OPEN_CUES);
        let strategy = self.strategy.unwrap_or(if open || words > 40 {
            Strategy::Semantic
        } else if asks_yes_or_no(text, &lower) {
            // Answered by a polarity: exact matching on it keeps "Yes, it is legal" and
            // "No, it is not legal" apart, which lexical similarity does not.
            Strategy::Exact
        } else if calculation {
            Strategy::Numeric
        } else {
            Strategy::Exact
        });

        let steps = STEP_CUES.iter().filter(|cue| lower.contains(*cue)).count();
        let complexity =
            1 + (words / 15).min(4) + operators.min(3) + steps.min(2) + usize::from(strategy == Strategy::Semantic);
        let complexity = complexity.min(usize::from(COMPLEXITY_MAX)) as u8;

        // 3 workers for easy tasks, 2 more per tier of difficulty.
        let workers = self.limits.clamp_workers(3 + 2 * usize::from((complexity - 1) / 3));
        let timeout_ms = self.limits.clamp_timeout_ms(
            self.limits.timeout_ms_base + u64::from(complexity - 1) * self.limits.timeout_ms_per_complexity,
        );
        let binary = has(&BINARY_CUES);
        // A coin-flip question needs a larger majority to mean anything.
        let raise = if binary { BINARY_THRESHOLD_RAISE } else { 0.0 };
        let threshold = (self.base.threshold + raise).min(self.base.threshold_max.max(self.base.threshold));
        let widened = if has(&APPROXIMATE_CUES) {
            APPROXIMATE_TOLERANCE_RELATIVE
        } else if text.contains('/') || has(&["divide", "average", "percent", "ratio"]) {
            DIVISION_TOLERANCE_RELATIVE
        } else {
            0.0
        };
        let tolerance_relative = self.base.tolerance_relative.max(widened);
        TaskPlan {
            complexity,
            workers,
            timeout_ms,
            strategy,
            threshold,
            tolerance_absolute: self.base.tolerance_absolute,
            tolerance_relative,
        }
    }
}

/// Whether the task asks a yes/no question: a binary cue ("yes or no", "true or
/// false"), or a question that opens with a verb ("Is ...?", "Does ...?") and offers
/// no alternatives ("Is it 3 or 4?" is answered by a value).
fn asks_yes_or_no(text: &str, lower: &str) -> bool {
    if BINARY_CUES.iter().any(|cue| lower.contains(cue)) {
        return true;
    }
    let mut words = lower.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\''));
    let opens_with_verb = words.next().is_some_and(|w| YES_NO_OPENERS.contains(&w));
    let asks_for_work = words.next() == Some("you");
    opens_with_verb && !asks_for_work && text.contains('?') && !lower.contains(" or ")
}

/// Arithmetic operators standing between two numbers ("3 + 4", "12*7", "10 / 4").
fn arithmetic_operators(text: &str) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let mut count = 0;
    for (index, &character) in chars.iter().enumerate() {
        if !matches!(character, '+' | '-' | '*' | '/' | '×' | '÷' | '^') {
            continue;
        }
        let before = chars[..index].iter().rev().find(|c| !c.is_whitespace());
        let after = chars[index + 1..].iter().find(|c| !c.is_whitespace());
        if before.is_some_and(|c| c.is_ascii_digit() || *c == ')')
            && after.is_some_and(|c| c.is_ascii_digit() || *c == '(')
        {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> TaskPlan {
        HeuristicAnalyser::default().analyse(text)
    }

    #[test]
    fn picks_the_strategy_from_the_text() {
        assert_eq!(plan("What is 17 * 23?").strategy, Strategy::Numeric);
        assert_eq!(plan("How many legs do 3 spiders have in total?").strategy, Strategy::Numeric);
        assert_eq!(plan("What is the capital of France?").strategy, Strategy::Exact);
        assert_eq!(plan("Classify the sentiment: 'I loved it'").strategy, Strategy::Exact);
        assert_eq!(plan("Explain why the sky is blue.").strategy, Strategy::Semantic);
        assert_eq!(plan("What is the total of 3 and 4?").strategy, Strategy::Numeric);
    }

    #[test]
    fn yes_no_questions_are_matched_on_polarity() {
        // Regression: answers "Yes, it is legal" / "No, it is not legal" went to
        // semantic matching, which grouped them.
        assert_eq!(plan("Is it legal to drive at sixteen in Ohio?").strategy, Strategy::Exact);
        assert_eq!(plan("Does 7 divide 91?").strategy, Strategy::Exact);
        assert_eq!(plan("Is 17 * 23 equal to 391?").strategy, Strategy::Exact);
        assert_eq!(plan("True or false: water boils at 100 C at sea level.").strategy, Strategy::Exact);
        assert_eq!(plan("Can you compute 17 * 23?").strategy, Strategy::Numeric);
        assert_eq!(plan("Is the answer 3 or 4?").strategy, Strategy::Exact);
        assert_eq!(plan("Is it legal? Explain why.").strategy, Strategy::Semantic);
    }

    #[test]
    fn harder_tasks_get_more_workers_and_time() {
        let easy = plan("What is 2 + 2?");
        let hard = plan(
            "First compute 12 * 7 + 3 - 4 / 2, then multiply the result by 3; finally subtract 5 and report the total.",
        );
        assert!(hard.complexity > easy.complexity);
        assert!(hard.workers > easy.workers);
        assert!(hard.timeout_ms > easy.timeout_ms);
        for p in [&easy, &hard] {
            assert_eq!(p.workers % 2, 1);
        }
    }

    #[test]
    fn binary_questions_need_more_agreement_and_estimates_more_tolerance() {
        assert!(plan("Yes or no: is water wet?").threshold > plan("Name the largest ocean.").threshold);
        assert!(
            plan("Roughly how many 7 day weeks are in 365 days?").tolerance_relative
                > plan("What is 365 / 7?").tolerance_relative
        );
    }

    #[test]
    fn deterministic() {
        let text = "Describe the water cycle in two sentences.";
        assert_eq!(plan(text), plan(text));
    }
}
