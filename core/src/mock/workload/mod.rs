//! Seeded workloads: tasks with ground truth, arrival times and priorities.
//!
//! # Layout
//! - this file: [`WorkloadConfig`], [`Truth`], [`generate`] and the classic questions;
//! - `hard_bank`: the hard questions ([`QuestionBank::Hard`]);
//! - `claim`: claim-shaped semantic truths and their contradictions.

mod claim;
mod hard_bank;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Priority, SeededRng, Task};

/// What the mock LLM knows about a task: the right answer and plausible wrong ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Truth {
    /// A number.
    Numeric {
        /// The right value.
        value: f64,
    },
    /// A short answer.
    Exact {
        /// The right answer.
        answer: String,
        /// Wrong answers a model might give.
        wrong: Vec<String>,
    },
    /// Free text.
    Semantic {
        /// Right answers, in several phrasings.
        phrasings: Vec<String>,
        /// Wrong answers.
        wrong: Vec<String>,
        /// Wrong answers in the frames of the right ones (the claim negated, reversed,
        /// swapped, or with another name or number), for a claim; else empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        contradictions: Vec<String>,
    },
}

impl Truth {
    /// The canonical right answer, as a task's ground truth.
    pub fn canonical(&self) -> String {
        match self {
            Self::Numeric { value } => format_number(*value),
            Self::Exact { answer, .. } => answer.clone(),
            Self::Semantic { phrasings, .. } => phrasings[0].clone(),
        }
    }

    /// Whether a semantic `answer` is right, by the sentences the workload itself
    /// knows: the longest of its right phrasings, wrong answers and contradictions
    /// that the answer quotes (words compared in lower case, punctuation and wrappers
    /// such as "Answer:" or "**" ignored) decides. `None` when it quotes none of
    /// them, or for other truths: then only a reader can judge.
    pub fn known_verdict(&self, answer: &str) -> Option<bool> {
        self.known_answer(answer).map(|known| known == KnownAnswer::Right)
    }

    /// Which of the workload's own answers a semantic `answer` states, by the same
    /// rule as [`Self::known_verdict`]: every right phrasing is one answer, each wrong
    /// answer and contradiction another. `None` when it quotes none of them, or for
    /// other truths.
    pub fn known_answer(&self, answer: &str) -> Option<KnownAnswer> {
        let Self::Semantic { phrasings, wrong, contradictions } = self else {
            return None;
        };
        let answer = format!(" {} ", folded_words(answer));
        let known = phrasings.iter().chain(wrong).chain(contradictions);
        // (length in bytes of the folded sentence, its index in `known`)
        let mut best: Option<(usize, usize)> = None;
        for (index, sentence) in known.enumerate() {
            let words = folded_words(sentence);
            // Longest first; on a tie (never between the workload's own distinct
            // sentences) the first listed.
            if !words.is_empty()
                && answer.contains(&format!(" {words} "))
                && best.is_none_or(|(length, _)| words.len() > length)
            {
                best = Some((words.len(), index));
            }
        }
        best.map(|(_, index)| match index.checked_sub(phrasings.len()) {
            None => KnownAnswer::Right,
            Some(index) => KnownAnswer::Wrong { index },
        })
    }
}

/// One of the answers a semantic [`Truth`] knows: what [`Truth::known_answer`] finds
/// an answer states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum KnownAnswer {
    /// The right answer, in any of its phrasings.
    Right,
    /// Wrong answer number `index`, counting the wrong answers, then the
    /// contradictions.
    Wrong {
        /// Which wrong answer.
        index: usize,
    },
}

/// Words of `text` in lower case, separated by single spaces; every character that is
/// not a letter or a digit separates words.
pub(crate) fn folded_words(text: &str) -> String {
    let lower: String =
        text.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect::<String>().to_lowercase();
    lower.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Writes a number the way a person would: no trailing `.0`.
pub fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 { format!("{}", value as i64) } else { format!("{value}") }
}

/// Ground truth by task text (what the mock sees in its prompt).
pub type TruthBook = BTreeMap<String, Truth>;

/// The ground truth for a prompt: the truth of the prompt itself when it is a task
/// text of the book, else that of the longest task text the prompt contains (on a tie,
/// the first in key order), so that a P2P subtask of a task and the task's compose step
/// (whose texts quote the task) are answered with the task's truth. `None` when the
/// prompt contains no task text.
///
/// The fallback scans every key (a linear `contains` per key): cheap for workloads of
/// a few hundred tasks, and only paid by prompts that are not task texts.
pub fn truth_for<'a>(truths: &'a TruthBook, prompt: &str) -> Option<&'a Truth> {
    if let Some(truth) = truths.get(prompt) {
        return Some(truth);
    }
    let mut best: Option<(&str, &Truth)> = None;
    for (text, truth) in truths {
        // Strictly longer only: the first of equally long texts, in key order, stays.
        if !text.is_empty() && best.is_none_or(|(known, _)| text.len() > known.len()) && prompt.contains(text.as_str())
        {
            best = Some((text, truth));
        }
    }
    best.map(|(_, truth)| truth)
}

/// How tasks arrive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "pattern")]
pub enum Arrival {
    /// One task every `interval_ms`.
    Steady {
        /// Gap between tasks.
        interval_ms: u64,
    },
    /// `size` tasks at once, then a gap.
    Bursts {
        /// Tasks per burst.
        size: usize,
        /// Gap between bursts.
        gap_ms: u64,
    },
}

/// Which questions a workload asks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionBank {
    /// Arithmetic and word problems with whole answers, capitals and sentiment,
    /// open explanations.
    #[default]
    Classic,
    /// Questions whose answers models write in forms that fool a naive reader:
    /// quotients, thousands and millions, negative differences and small sums;
    /// capitals with accents, answers whose symbols are the answer ("C++", "B+"),
    /// lettered choices; claims with a relation ("Mercury is closer to the Sun than
    /// Venus") whose contradictions share their frame.
    Hard,
}

/// The shape of a workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkloadConfig {
    /// Tasks in all. Default 20.
    pub tasks: usize,
    /// Relative share of numeric tasks (arithmetic and word problems). Default 2.
    pub numeric: u32,
    /// Relative share of exact tasks (factual and classification). Default 2.
    pub exact: u32,
    /// Relative share of semantic tasks (open questions). Default 1.
    pub semantic: u32,
    /// Arrival pattern. Default one task every 500 ms.
    pub arrival: Arrival,
    /// Whether priorities vary (else all normal). Default true.
    pub priorities: bool,
    /// Which questions. Default classic.
    pub questions: QuestionBank,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        Self {
            tasks: 20,
            numeric: 2,
            exact: 2,
            semantic: 1,
            arrival: Arrival::Steady { interval_ms: 500 },
            priorities: true,
            questions: QuestionBank::Classic,
        }
    }
}

/// Most tasks one workload generates.
pub const WORKLOAD_TASKS_MAX: usize = 100_000;
/// Latest arrival a workload may have (one day of simulated time).
pub const WORKLOAD_ARRIVALS_MS_MAX: u64 = 86_400_000;
/// Relative tolerance of the ground truth of numeric tasks: the workload's own, so
/// that the system never grades itself with the tolerance its plan chose.
pub const TRUTH_TOLERANCE_RELATIVE: f64 = 1.0e-6;

impl WorkloadConfig {
    /// When the last task arrives.
    pub fn last_arrival_ms(&self) -> u64 {
        arrival_ms(&self.arrival, self.tasks.saturating_sub(1))
    }

    /// Checks the task count, the shares and the arrivals.
    ///
    /// # Errors
    /// The field and what is wrong.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.tasks == 0 || self.tasks > WORKLOAD_TASKS_MAX {
            return Err(("workload.tasks".to_owned(), format!("{}; must be in 1..={WORKLOAD_TASKS_MAX}", self.tasks)));
        }
        if u64::from(self.numeric) + u64::from(self.exact) + u64::from(self.semantic) == 0 {
            return Err(("workload.numeric".to_owned(), "numeric, exact and semantic shares are all 0".to_owned()));
        }
        if let Arrival::Bursts { size: 0, .. } = self.arrival {
            return Err(("workload.arrival.size".to_owned(), "a burst needs at least 1 task".to_owned()));
        }
        let last = self.last_arrival_ms();
        if last > WORKLOAD_ARRIVALS_MS_MAX {
            return Err((
                "workload.arrival".to_owned(),
                format!(
                    "the last of {} tasks would arrive at {last} ms; at most {WORKLOAD_ARRIVALS_MS_MAX}",
                    self.tasks
                ),
            ));
        }
        Ok(())
    }
}

/// A task and when the client submits it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedTask {
    /// Submission time, ms.
    pub at_ms: u64,
    /// The task, with its ground truth.
    pub task: Task,
}

/// A generated workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// Tasks in submission order.
    pub tasks: Vec<PlannedTask>,
    /// Ground truth by task text.
    pub truths: TruthBook,
}

const CAPITALS: [(&str, &str); 12] = [
    ("France", "Paris"),
    ("Japan", "Tokyo"),
    ("Australia", "Canberra"),
    ("Canada", "Ottawa"),
    ("Brazil", "Brasilia"),
    ("Kenya", "Nairobi"),
    ("Norway", "Oslo"),
    ("Egypt", "Cairo"),
    ("Peru", "Lima"),
    ("Turkey", "Ankara"),
    ("Vietnam", "Hanoi"),
    ("Portugal", "Lisbon"),
];
const SENTIMENTS: [(&str, &str); 6] = [
    ("I loved every minute of it.", "positive"),
    ("The service was slow and the food was cold.", "negative"),
    ("Absolutely fantastic, would come again!", "positive"),
    ("I want my money back.", "negative"),
    ("Best purchase I made this year.", "positive"),
    ("It broke after two days.", "negative"),
];
const OPEN_QUESTIONS: [(&str, [&str; 3], [&str; 2]); 4] = [
    (
        "Explain why water boils at a lower temperature at high altitude.",
        [
            "Water boils at a lower temperature at high altitude because the air pressure is lower.",
            "At high altitude the air pressure is lower, so water boils at a lower temperature.",
            "Lower air pressure at high altitude lets water boil at a lower temperature.",
        ],
        ["Because mountains are colder, water boils sooner.", "Gravity is weaker up high."],
    ),
    (
        "Explain why the sky looks blue during the day.",
        [
            "The sky looks blue because air molecules scatter blue sunlight more than red light.",
            "Blue light from the sun is scattered more by air molecules, so the sky looks blue.",
            "Air scatters the short blue wavelengths of sunlight more, which makes the sky look blue.",
        ],
        ["The sky reflects the blue colour of the oceans.", "Oxygen gas itself is tinted that way."],
    ),
    (
        "Describe why metal feels colder than wood at the same temperature.",
        [
            "Metal feels colder because it conducts heat away from your hand faster than wood.",
            "Metal conducts heat faster than wood, so it draws heat from your skin quicker and feels colder.",
            "Because metal is a better heat conductor than wood, it pulls heat from the hand faster and feels colder.",
        ],
        ["Metal is actually at a lower temperature than wood.", "Wood produces its own heat."],
    ),
    (
        "Explain why we have seasons on Earth.",
        [
            "We have seasons because the Earth's axis is tilted, changing how directly sunlight hits each hemisphere.",
            "The tilt of Earth's axis changes how directly sunlight hits each hemisphere during the year, causing seasons.",
            "Seasons happen because Earth's tilted axis makes sunlight hit each hemisphere more or less directly over the year.",
        ],
        [
            "Seasons happen because the Earth gets closer to the sun in summer.",
            "Ocean currents carry warm water around the planet.",
        ],
    ),
];

/// Generates `config.tasks` tasks from `seed`.
pub fn generate(seed: u64, config: &WorkloadConfig) -> Workload {
    let mut rng = SeededRng::derive(seed, "workload");
    let mut tasks = Vec::with_capacity(config.tasks.min(WORKLOAD_TASKS_MAX));
    let mut truths = TruthBook::new();
    let shares = [config.numeric, config.exact, config.semantic];
    let total_share: u32 = shares.iter().sum::<u32>().max(1);
    for index in 0..config.tasks.min(WORKLOAD_TASKS_MAX) {
        let id = format!("t{index:03}");
        let mut pick = rng.range_u64(0, u64::from(total_share)) as u32;
        let kind = shares.iter().position(|&share| {
            let inside = pick < share;
            pick = pick.saturating_sub(share);
            inside
        });
        let (question, truth) = match (config.questions, kind.unwrap_or(0)) {
            (QuestionBank::Classic, 0) => numeric_task(&mut rng),
            (QuestionBank::Classic, 1) => exact_task(&mut rng),
            (QuestionBank::Classic, _) => semantic_task(&mut rng),
            (QuestionBank::Hard, 0) => hard_bank::numeric_task(&mut rng),
            (QuestionBank::Hard, 1) => hard_bank::exact_task(&mut rng),
            (QuestionBank::Hard, _) => hard_bank::semantic_task(&mut rng),
        };
        // The id in the text keeps texts unique, so the mock finds each task's truth.
        let text = format!("({id}) {question}");
        let priority = if config.priorities {
            [Priority::Low, Priority::Normal, Priority::Normal, Priority::High][rng.index(4)]
        } else {
            Priority::Normal
        };
        let task = Task::new(id.as_str(), text.clone()).with_ground_truth(truth.canonical()).with_priority(priority);
        truths.insert(text, truth);
        tasks.push(PlannedTask { at_ms: arrival_ms(&config.arrival, index), task });
    }
    Workload { tasks, truths }
}

fn arrival_ms(arrival: &Arrival, index: usize) -> u64 {
    match *arrival {
        Arrival::Steady { interval_ms } => (index as u64).saturating_mul(interval_ms),
        Arrival::Bursts { size, gap_ms } => ((index / size.max(1)) as u64).saturating_mul(gap_ms),
    }
}

fn numeric_task(rng: &mut SeededRng) -> (String, Truth) {
    let a = rng.range_u64(2, 99) as i64;
    let b = rng.range_u64(2, 99) as i64;
    let (question, value) = match rng.index(5) {
        0 => (format!("What is {a} + {b}?"), a + b),
        1 => (format!("What is {a} * {b}?"), a * b),
        2 => (format!("What is {a} - {b}?"), a - b),
        3 => (format!("A shop has {a} apples and receives {b} more. How many apples does it have in total?"), a + b),
        _ => (format!("Each box holds {a} pens. How many pens are in {b} boxes in total?"), a * b),
    };
    (question, Truth::Numeric { value: value as f64 })
}

fn exact_task(rng: &mut SeededRng) -> (String, Truth) {
    if rng.chance(0.6) {
        let (country, capital) = CAPITALS[rng.index(CAPITALS.len())];
        let wrong = CAPITALS.iter().filter(|(_, c)| *c != capital).take(3).map(|(_, c)| (*c).to_owned()).collect();
        (format!("What is the capital of {country}?"), Truth::Exact { answer: capital.to_owned(), wrong })
    } else {
        let (review, sentiment) = SENTIMENTS[rng.index(SENTIMENTS.len())];
        let other = if sentiment == "positive" { "negative" } else { "positive" };
        (
            format!("Classify the sentiment of this review as positive or negative: '{review}'"),
            Truth::Exact { answer: sentiment.to_owned(), wrong: vec![other.to_owned(), "neutral".to_owned()] },
        )
    }
}

fn semantic_task(rng: &mut SeededRng) -> (String, Truth) {
    let (question, phrasings, wrong) = OPEN_QUESTIONS[rng.index(OPEN_QUESTIONS.len())];
    (
        question.to_owned(),
        Truth::Semantic {
            phrasings: phrasings.iter().map(|p| (*p).to_owned()).collect(),
            wrong: wrong.iter().map(|w| (*w).to_owned()).collect(),
            contradictions: Vec::new(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HeuristicAnalyser;
    use crate::consensus::Strategy;

    #[test]
    fn a_prompt_quoting_tasks_gets_the_truth_of_the_longest() {
        let numeric = |value| Truth::Numeric { value };
        let book: TruthBook = [
            (String::new(), numeric(0.0)),
            ("What is 2 + 3?".to_owned(), numeric(5.0)),
            ("Sum: What is 2 + 3? Then double it.".to_owned(), numeric(10.0)),
            ("bbb".to_owned(), numeric(2.0)),
            ("aaa".to_owned(), numeric(1.0)),
        ]
        .into_iter()
        .collect();
        assert_eq!(truth_for(&book, "What is 2 + 3?"), Some(&numeric(5.0)));
        assert_eq!(truth_for(&book, "Part 1 of 2 of the task: What is 2 + 3?"), Some(&numeric(5.0)));
        let nested = "(Part 2 of 2 of the task: Sum: What is 2 + 3? Then double it.)";
        assert_eq!(truth_for(&book, nested), Some(&numeric(10.0)), "the longest task quoted");
        assert_eq!(truth_for(&book, "bbb aaa"), Some(&numeric(1.0)), "a tie goes to the first key");
        // The empty text is a key, but it is in every prompt: never a fallback.
        assert_eq!(truth_for(&book, "What is 7 + 1?"), None);
        assert_eq!(truth_for(&book, ""), Some(&numeric(0.0)));
    }

    #[test]
    fn same_seed_same_workload_and_every_task_has_its_truth() {
        let config = WorkloadConfig { tasks: 50, ..WorkloadConfig::default() };
        let workload = generate(9, &config);
        assert_eq!(workload, generate(9, &config));
        assert_ne!(workload, generate(10, &config));
        for planned in &workload.tasks {
            let truth = &workload.truths[&planned.task.text];
            assert_eq!(planned.task.ground_truth.as_deref(), Some(truth.canonical().as_str()));
        }
    }

    #[test]
    fn the_analyser_picks_the_strategy_each_task_was_made_for() {
        for questions in [QuestionBank::Classic, QuestionBank::Hard] {
            let workload = generate(3, &WorkloadConfig { tasks: 200, questions, ..WorkloadConfig::default() });
            let analyser = HeuristicAnalyser::default();
            for planned in &workload.tasks {
                let expected = match workload.truths[&planned.task.text] {
                    Truth::Numeric { .. } => Strategy::Numeric,
                    Truth::Exact { .. } => Strategy::Exact,
                    Truth::Semantic { .. } => Strategy::Semantic,
                };
                assert_eq!(analyser.analyse(&planned.task.text).strategy, expected, "{}", planned.task.text);
            }
        }
    }

    #[test]
    fn the_hard_bank_asks_every_kind_of_hard_question() {
        let config = WorkloadConfig { tasks: 300, questions: QuestionBank::Hard, ..WorkloadConfig::default() };
        let workload = generate(4, &config);
        let truths: Vec<&Truth> = workload.truths.values().collect();
        let values: Vec<f64> =
            truths.iter().filter_map(|t| if let Truth::Numeric { value } = t { Some(*value) } else { None }).collect();
        assert!(values.iter().any(|v| v.fract() != 0.0), "quotients");
        assert!(values.iter().any(|v| *v >= 1_000_000.0), "millions");
        assert!(values.iter().any(|v| *v < 0.0), "negative differences");
        let answers: Vec<&str> = truths
            .iter()
            .filter_map(|t| if let Truth::Exact { answer, .. } = t { Some(answer.as_str()) } else { None })
            .collect();
        for expected in ["Bogotá", "C++", "B+", "B"] {
            assert!(answers.contains(&expected), "{expected} in {answers:?}");
        }
        let claims =
            truths.iter().filter(|t| matches!(t, Truth::Semantic { contradictions, .. } if !contradictions.is_empty()));
        assert!(claims.count() > 50);
        // The classic bank is what it always was: no claims.
        let classic = generate(4, &WorkloadConfig { tasks: 300, ..WorkloadConfig::default() });
        assert!(
            classic
                .truths
                .values()
                .all(|t| !matches!(t, Truth::Semantic { contradictions, .. } if !contradictions.is_empty()))
        );
    }

    #[test]
    fn known_sentences_judge_semantic_answers_and_the_longest_quote_wins() {
        let truth =
            hard_bank_claim("Describe in one sentence how the distances of Mercury and Venus from the Sun compare.");
        assert_eq!(truth.known_verdict("Mercury is closer to the Sun than Venus."), Some(true));
        assert_eq!(truth.known_verdict("**Answer: mercury is closer to the sun than venus**"), Some(true));
        assert_eq!(truth.known_verdict("Mercury is not closer to the Sun than Venus."), Some(false));
        assert_eq!(truth.known_verdict("Venus is closer to the Sun than Mercury"), Some(false));
        assert_eq!(truth.known_verdict("Compared with Mercury, Venus lies closer to the Sun."), Some(false));
        assert_eq!(truth.known_verdict("Mercury is the smallest planet."), None);
        assert_eq!(Truth::Numeric { value: 1.0 }.known_verdict("1"), None);
    }

    fn hard_bank_claim(question: &str) -> Truth {
        let config = WorkloadConfig {
            tasks: 300,
            semantic: 1,
            numeric: 0,
            exact: 0,
            questions: QuestionBank::Hard,
            ..WorkloadConfig::default()
        };
        let workload = generate(1, &config);
        workload.truths.iter().find(|(text, _)| text.ends_with(question)).map(|(_, truth)| truth.clone()).unwrap()
    }

    #[test]
    fn bursts_arrive_together() {
        let config = WorkloadConfig {
            tasks: 6,
            arrival: Arrival::Bursts { size: 3, gap_ms: 1_000 },
            ..WorkloadConfig::default()
        };
        let times: Vec<u64> = generate(1, &config).tasks.iter().map(|t| t.at_ms).collect();
        assert_eq!(times, vec![0, 0, 0, 1_000, 1_000, 1_000]);
    }
}
