//! The supervisor's own reading of answers: an embedding and a meaning class for each
//! answer of a semantic task, made by the supervisor's models before the answer
//! reaches the machine (see the driver's module documentation for why here).
//!
//! Answers of one task are read one at a time, in the order they arrived, and
//! everything that arrives for a task while one of its answers is being read (other
//! answers, failed calls, pushed answers) waits behind it: the machine sees each
//! task's inputs in arrival order, and each answer is judged against the classes of
//! every answer before it. Other tasks are not held up.

use core::future::Future;
use core::pin::Pin;
use core::time::Duration;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use futures_util::future::join;

use crate::boxed::{BoxEmbedder, BoxEntailment};
use crate::consensus::Claim;
use crate::embedding::is_usable_embedding;
use crate::entailment::{ENTAILMENT_QUESTIONS_MAX, MeaningClass, classify};
use crate::link::{LinkError, WorkerAnswer};
use crate::llm::Embedder;
use crate::supervisor::Annotations;
use crate::{TaskId, WorkerId};

/// Inputs of one task that may wait behind an answer being read. Past this, a pushed
/// answer (only a flooding worker sends so many) goes to the machine at once,
/// unread, which refuses it; replies to calls are bounded by the calls the machine
/// makes and always wait their turn.
const WAITING_PER_TASK_MAX: usize = 1_024;

/// Answers of one worker for one task that are read: a worker holds at most two
/// votes for a task (its answer, and a twin's conflicting one); any more are repeats
/// or refused, and not worth a model call.
const READS_PER_WORKER_MAX: usize = 2;

/// Something a worker sent about a task, on its way to the machine.
#[derive(Debug)]
pub(super) enum Arrival {
    /// The reply to an execute call (`handle_answer`).
    Reply { worker: WorkerId, task: TaskId, attempt: u32, outcome: Result<WorkerAnswer, LinkError> },
    /// An answer pushed outside a call (`handle_delivered`).
    Pushed(WorkerAnswer),
}

impl Arrival {
    pub(super) fn task(&self) -> &TaskId {
        match self {
            Self::Reply { task, .. } => task,
            Self::Pushed(answer) => &answer.task,
        }
    }

    /// The answer to read: a well-addressed answer in a reply, or a pushed one.
    fn answer(&self) -> Option<&WorkerAnswer> {
        match self {
            Self::Reply { worker, task, attempt, outcome: Ok(answer) } => {
                answer.is_reply_to(worker, task, *attempt).then_some(answer)
            }
            Self::Reply { .. } => None,
            Self::Pushed(answer) => Some(answer),
        }
    }
}

/// What the judge made of one answer.
#[derive(Debug)]
enum Judged {
    /// No judge is configured.
    Unjudged,
    /// The judge failed, was too slow, or the task's questions ran out.
    Failed,
    /// It means what the class of this index means.
    Joined(usize),
    /// It means something new: a class of its own.
    Opened(Box<MeaningClass>),
}

/// A finished reading of one answer.
#[derive(Debug)]
pub(super) struct Reading {
    arrival: Arrival,
    embedding: Option<Vec<f32>>,
    judged: Judged,
    /// Entailment questions this reading asked.
    questions: usize,
}

/// An answer being read.
pub(super) type ReadFuture = Pin<Box<dyn Future<Output = Box<Reading>> + Send>>;

/// What to do with an arrival.
pub(super) enum Step {
    /// Hand it to the machine now, without annotations.
    Feed(Arrival),
    /// Read it: run this future, then hand the reading to [`Annotator::finish`].
    Read(ReadFuture),
    /// It waits behind an answer being read.
    Waiting,
}

/// The supervisor's models.
struct Models {
    embedder: Option<BoxEmbedder>,
    judge: Option<BoxEntailment>,
}

/// What the annotator remembers of one live task.
#[derive(Debug, Default)]
struct TaskReading {
    /// Meaning classes in the order they were opened; a class's number is its index.
    classes: Vec<MeaningClass>,
    /// Entailment questions asked for the task so far (at most
    /// [`ENTAILMENT_QUESTIONS_MAX`]).
    questions: usize,
    /// The length of the task's first embedding: one of another length would only
    /// turn the task's matching back to words, so it is not kept.
    dimensions: Option<usize>,
    /// Answers read, by worker.
    reads: BTreeMap<WorkerId, usize>,
    /// Whether one of its answers is being read.
    reading: bool,
    /// What arrived while it was, in arrival order.
    waiting: VecDeque<Arrival>,
    /// The task has its result: forget it once nothing waits.
    finished: bool,
}

/// Reads answers with the supervisor's models, if it has any.
pub(super) struct Annotator {
    models: Option<Arc<Models>>,
    model_call: Duration,
    tasks: BTreeMap<TaskId, TaskReading>,
}

impl core::fmt::Debug for Annotator {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter
            .debug_struct("Annotator")
            .field("embedder", &self.models.as_ref().is_some_and(|m| m.embedder.is_some()))
            .field("judge", &self.models.as_ref().is_some_and(|m| m.judge.is_some()))
            .field("tasks", &self.tasks)
            .finish_non_exhaustive()
    }
}

impl Annotator {
    /// An annotator with these models (none: every arrival is fed as it comes), each
    /// call bounded by `model_call_ms`.
    pub(super) fn new(embedder: Option<BoxEmbedder>, judge: Option<BoxEntailment>, model_call_ms: u64) -> Self {
        let models = (embedder.is_some() || judge.is_some()).then(|| Arc::new(Models { embedder, judge }));
        Self { models, model_call: Duration::from_millis(model_call_ms), tasks: BTreeMap::new() }
    }

    /// What to do with `arrival`; `wanted` says whether the machine wants its answer
    /// read ([`crate::SupervisorMachine::wants_annotations`]).
    pub(super) fn arrive(&mut self, arrival: Arrival, wanted: impl Fn(&WorkerAnswer) -> bool) -> Step {
        let Some(models) = &self.models else { return Step::Feed(arrival) };
        if let Some(state) = self.tasks.get_mut(arrival.task())
            && state.reading
        {
            if state.waiting.len() >= WAITING_PER_TASK_MAX && matches!(arrival, Arrival::Pushed(_)) {
                return Step::Feed(arrival);
            }
            state.waiting.push_back(arrival);
            return Step::Waiting;
        }
        let readable = arrival.answer().is_some_and(wanted);
        if !readable {
            return Step::Feed(arrival);
        }
        let models = Arc::clone(models);
        let state = self.tasks.entry(arrival.task().clone()).or_default();
        Self::start(state, models, self.model_call, arrival)
    }

    /// The next step for `task` once nothing of it is being read: its oldest waiting
    /// arrival, fed or read; `None` when nothing waits (a finished task is then
    /// forgotten).
    pub(super) fn next_waiting(&mut self, task: &TaskId, wanted: impl Fn(&WorkerAnswer) -> bool) -> Option<Step> {
        let models = Arc::clone(self.models.as_ref()?);
        let state = self.tasks.get_mut(task)?;
        if state.reading {
            return None;
        }
        let Some(arrival) = state.waiting.pop_front() else {
            if state.finished {
                self.tasks.remove(task);
            }
            return None;
        };
        if !arrival.answer().is_some_and(wanted) {
            return Some(Step::Feed(arrival));
        }
        Some(Self::start(state, models, self.model_call, arrival))
    }

    /// Starts reading `arrival`'s answer for a task in `state`, or feeds it unread
    /// when its worker's answers to the task have all been read.
    fn start(state: &mut TaskReading, models: Arc<Models>, limit: Duration, arrival: Arrival) -> Step {
        let Some(answer) = arrival.answer() else { return Step::Feed(arrival) };
        let reads = state.reads.entry(answer.worker.clone()).or_default();
        if *reads >= READS_PER_WORKER_MAX {
            return Step::Feed(arrival);
        }
        *reads += 1;
        state.reading = true;
        let text = answer.text.clone();
        let classes = state.classes.clone();
        let questions = state.questions;
        Step::Read(Box::pin(async move {
            let (embedding, (judged, asked)) =
                join(embed(&models, limit, &text), judge(&models, limit, &text, &classes, questions)).await;
            Box::new(Reading { arrival, embedding, judged, questions: asked })
        }))
    }

    /// Takes in a finished reading: the arrival and its annotations, to feed the
    /// machine with, after which [`Self::next_waiting`] gives the task's next step.
    pub(super) fn finish(&mut self, reading: Box<Reading>) -> (Arrival, Annotations) {
        let Reading { arrival, embedding, judged, questions } = *reading;
        let Some(state) = self.tasks.get_mut(arrival.task()) else { return (arrival, Annotations::NONE) };
        state.reading = false;
        state.questions = state.questions.saturating_add(questions);
        let meaning = match judged {
            Judged::Unjudged | Judged::Failed => None,
            Judged::Joined(class) => Some(class as u64),
            Judged::Opened(class) => {
                state.classes.push(*class);
                Some((state.classes.len() - 1) as u64)
            }
        };
        let embedding = embedding.filter(|vector| {
            let dimensions = *state.dimensions.get_or_insert(vector.len());
            let usable = is_usable_embedding(vector) && vector.len() == dimensions;
            if !usable {
                tracing::debug!(task = %arrival.task(), length = vector.len(), "embedding not usable; answer unannotated");
            }
            usable
        });
        (arrival, Annotations { embedding, meaning })
    }

    /// `task` has its result: forget what was learnt of it, once nothing of it is
    /// being read or waits (then [`Self::next_waiting`] forgets it).
    pub(super) fn forget(&mut self, task: &TaskId) {
        if let Some(state) = self.tasks.get_mut(task) {
            if state.reading || !state.waiting.is_empty() {
                state.finished = true;
            } else {
                self.tasks.remove(task);
            }
        }
    }

    /// Tasks remembered (live, or finished with a reading still under way).
    #[cfg(test)]
    pub(super) fn tasks_remembered(&self) -> usize {
        self.tasks.len()
    }
}

/// The embedding of `text`, if an embedder is configured and gives one vector in
/// time.
async fn embed(models: &Models, limit: Duration, text: &str) -> Option<Vec<f32>> {
    let embedder = models.embedder.as_ref()?;
    let texts = [text.to_owned()];
    match tokio::time::timeout(limit, embedder.embed(&texts)).await {
        Ok(Ok(mut vectors)) if vectors.len() == 1 => vectors.pop(),
        Ok(Ok(vectors)) => {
            tracing::debug!(vectors = vectors.len(), "embedder returned the wrong count; answer unannotated");
            None
        }
        Ok(Err(error)) => {
            tracing::debug!(%error, "embedder failed; answer unannotated");
            None
        }
        Err(_) => {
            tracing::debug!("embedder timed out; answer unannotated");
            None
        }
    }
}

/// What the judge makes of `text` against `classes`, having asked `questions` for
/// the task before; and how many questions it asked now.
async fn judge(
    models: &Models,
    limit: Duration,
    text: &str,
    classes: &[MeaningClass],
    questions: usize,
) -> (Judged, usize) {
    let Some(judge) = models.judge.as_ref() else { return (Judged::Unjudged, 0) };
    let claim = Claim::new(text);
    let mut asked = questions;
    let outcome =
        tokio::time::timeout(limit, classify(judge, text, &claim, classes, &mut asked, ENTAILMENT_QUESTIONS_MAX)).await;
    let judged = match outcome {
        Ok(Ok(Some(class))) => Judged::Joined(class),
        Ok(Ok(None)) => Judged::Opened(Box::new(MeaningClass::new(text, claim))),
        Ok(Err(error)) => {
            tracing::debug!(%error, "entailment judge failed; answer unannotated");
            Judged::Failed
        }
        Err(_) => {
            tracing::debug!("entailment judge timed out; answer unannotated");
            Judged::Failed
        }
    };
    (judged, asked - questions)
}
