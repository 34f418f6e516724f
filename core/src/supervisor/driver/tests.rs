//! The driver over an in-process link, in paused tokio time.

use std::sync::Mutex;

use super::*;
use crate::local_link::LocalLink;
use crate::result::{FailureReason, Outcome};
use crate::scaler::FixedWorkers;
use crate::supervisor::machine::SubmitError;
use crate::task::Task;
use crate::testing::ScriptedLlm;
use crate::worker::{Worker, WorkerConfig};

fn worker(id: &str, answer: &'static str, latency_ms: u64) -> Worker<ScriptedLlm> {
    Worker::new(id.into(), WorkerConfig::default(), ScriptedLlm::answering(latency_ms, answer), 1).unwrap()
}

fn cluster(answers: &[(&str, &'static str, u64)]) -> Arc<LocalLink<ScriptedLlm>> {
    let link = Arc::new(LocalLink::new());
    for (id, answer, latency_ms) in answers {
        link.add(worker(id, answer, *latency_ms)).unwrap();
    }
    link
}

fn ids(answers: &[(&str, &'static str, u64)]) -> Vec<WorkerId> {
    answers.iter().map(|(id, _, _)| WorkerId::from(*id)).collect()
}

fn status_of(status: &SupervisorStatus, worker: &str) -> Option<crate::pool::WorkerStatus> {
    status.workers.iter().find(|w| w.worker.as_str() == worker).map(|w| w.status)
}

#[tokio::test(start_paused = true)]
async fn submits_receives_one_result_per_task_and_drains_on_shutdown() {
    let workers = [("w1", "4", 200), ("w2", "4", 300), ("w3", "5", 400)];
    let link = cluster(&workers);
    let supervisor = Supervisor::new(SupervisorConfig::default(), Arc::clone(&link), FixedWorkers)
        .unwrap()
        .with_workers(ids(&workers));
    let (service, driver) = supervisor.start();
    let running = tokio::spawn(driver.run());
    let mut streams = Vec::new();
    for i in 0..5 {
        let task = TaskId::new(format!("t{i}"));
        assert_eq!(service.submit(Task::new(task.clone(), "What is 2 + 2?")).await.unwrap(), Submitted::Accepted);
        streams.push(service.subscribe(&task).unwrap());
    }
    for events in streams {
        assert_eq!(events.result().await.unwrap().answer(), Some("4"));
    }
    let status = service.status().await.unwrap();
    assert_eq!(status.workers.len(), 3);
    assert!(status.powers.iter().any(|(w, r)| w.as_str() == "w1" && r.power > 1.0));
    service.shutdown().await;
    running.await.unwrap();
    assert_eq!(service.result(&"t4".into()).unwrap().answer(), Some("4"), "results outlive the driver");
    assert_eq!(service.duplicate_results(), 0);
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_running_tasks() {
    let workers = [("w1", "Paris", 5_000), ("w2", "Paris", 5_000), ("w3", "Paris", 5_000)];
    let link = cluster(&workers);
    let supervisor =
        Supervisor::new(SupervisorConfig::default(), link, FixedWorkers).unwrap().with_workers(ids(&workers));
    let (service, driver) = supervisor.start();
    tokio::spawn(driver.run());
    service.submit(Task::new("t1", "What is the capital of France?")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    service.shutdown().await;
    let result = service.result(&"t1".into()).expect("the running task finished before shutdown returned");
    assert_eq!(result.answer(), Some("Paris"));
    assert!(matches!(service.submit(Task::new("t2", "x")).await, Err(SubmitError::ShuttingDown)));
}

#[tokio::test(start_paused = true)]
async fn a_crashed_worker_is_replaced_and_recovers() {
    let workers = [("w1", "4", 100), ("w2", "4", 100), ("w3", "4", 100), ("w4", "4", 100)];
    let link = cluster(&workers);
    let supervisor = Supervisor::new(SupervisorConfig::default(), Arc::clone(&link), FixedWorkers)
        .unwrap()
        .with_workers(ids(&workers));
    let (service, driver) = supervisor.start();
    tokio::spawn(driver.run());
    link.set_down(&"w1".into(), true);
    let mut streams = Vec::new();
    for i in 0..4 {
        let task = TaskId::new(format!("t{i}"));
        service.submit(Task::new(task.clone(), "What is 2 + 2?")).await.unwrap();
        streams.push(service.subscribe(&task).unwrap());
    }
    for events in streams {
        assert_eq!(events.result().await.unwrap().answer(), Some("4"));
    }
    tokio::time::sleep(Duration::from_secs(12)).await;
    let status = service.status().await.unwrap();
    assert_eq!(status_of(&status, "w1"), Some(crate::pool::WorkerStatus::Offline));
    link.set_down(&"w1".into(), false);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status = service.status().await.unwrap();
    assert_eq!(status_of(&status, "w1"), Some(crate::pool::WorkerStatus::Available), "recovered after heartbeats");
    service.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn dropping_every_service_clone_shuts_down_cleanly() {
    let workers = [("w1", "x", 100)];
    let link = cluster(&workers);
    let supervisor = Supervisor::new(SupervisorConfig::default().with_workers(1, 3), link, FixedWorkers)
        .unwrap()
        .with_workers(ids(&workers));
    let (service, driver) = supervisor.start();
    let running = tokio::spawn(driver.run());
    service.submit(Task::new("t1", "Name a letter.")).await.unwrap();
    let events = service.subscribe(&"t1".into()).unwrap();
    drop(service);
    running.await.unwrap();
    // The plan wants three workers (a quorum of two); one alone cannot start it, so the
    // queued task ends with the shutdown rather than vanishing.
    let result = events.result().await.unwrap();
    assert_eq!(result.outcome, Outcome::Failed { reason: FailureReason::ShutDown });
}

#[tokio::test(start_paused = true)]
async fn a_followed_registry_brings_joins_and_leaves_to_the_machine() {
    let workers = [("w1", "4", 100), ("w2", "4", 100), ("w3", "4", 100)];
    let link = cluster(&workers);
    let supervisor = Supervisor::new(SupervisorConfig::default(), Arc::clone(&link), FixedWorkers)
        .unwrap()
        .with_registry(link.registry());
    let (service, driver) = supervisor.start();
    tokio::spawn(driver.run());
    service.submit(Task::new("t1", "What is 2 + 2?")).await.unwrap();
    let result = service.subscribe(&"t1".into()).unwrap().result().await.unwrap();
    assert_eq!(result.answer(), Some("4"), "the registry's members at start are the workers");
    link.add(worker("w4", "4", 100)).unwrap();
    assert!(link.remove(&"w1".into()));
    tokio::time::sleep(Duration::from_millis(10)).await;
    let status = service.status().await.unwrap();
    let known: Vec<&str> = status.workers.iter().map(|w| w.worker.as_str()).collect();
    assert_eq!(known, ["w2", "w3", "w4"]);
    service.submit(Task::new("t2", "What is 2 + 2?")).await.unwrap();
    let result = service.subscribe(&"t2".into()).unwrap().result().await.unwrap();
    assert!(result.metadata.workers_asked.iter().all(|w| w.as_str() != "w1"), "a worker that left is not asked");
    service.shutdown().await;
}

/// Starts spare workers by joining them to the link's registry, as a real scaler
/// would register the processes it starts, and reports them in its reply too.
#[derive(Debug)]
struct RegisteringScaler {
    link: Arc<LocalLink<ScriptedLlm>>,
    spares: Mutex<Vec<&'static str>>,
    calls: Arc<Mutex<u32>>,
}

impl Scaler for RegisteringScaler {
    async fn scale_up(&self, count: usize) -> Result<Vec<WorkerId>, ScaleError> {
        *self.calls.lock().unwrap() += 1;
        let mut spares = self.spares.lock().unwrap();
        let take = count.min(spares.len());
        let started: Vec<&str> = spares.drain(..take).collect();
        if started.is_empty() {
            return Err(ScaleError::NoCapacity);
        }
        for id in &started {
            self.link.add(worker(id, "4", 100)).unwrap();
        }
        Ok(started.into_iter().map(WorkerId::from).collect())
    }

    async fn scale_down(&self, worker: &WorkerId) -> Result<(), ScaleError> {
        if self.link.remove(worker) { Ok(()) } else { Err(ScaleError::UnknownWorker(worker.clone())) }
    }
}

#[tokio::test(start_paused = true)]
async fn a_worker_a_scaler_starts_and_registers_joins_and_works() {
    let link = cluster(&[("w1", "4", 100)]);
    let scaler_calls = Arc::new(Mutex::new(0));
    let scaler = RegisteringScaler {
        link: Arc::clone(&link),
        spares: Mutex::new(vec!["s1", "s2"]),
        calls: Arc::clone(&scaler_calls),
    };
    // Three workers wanted at least: the pool asks the scaler for the two missing.
    let config = SupervisorConfig::default().with_workers(3, 3);
    let supervisor = Supervisor::new(config, Arc::clone(&link), scaler).unwrap().with_registry(link.registry());
    let (service, driver) = supervisor.start();
    tokio::spawn(driver.run());
    service.submit(Task::new("t1", "What is 2 + 2?")).await.unwrap();
    let result = service.subscribe(&"t1".into()).unwrap().result().await.unwrap();
    assert_eq!(result.answer(), Some("4"));
    assert!(result.metadata.workers_asked.iter().any(|w| w.as_str() == "s1"), "a spare joined and was asked");
    assert_eq!(*scaler_calls.lock().unwrap(), 1);
    let status = service.status().await.unwrap();
    let known: Vec<&str> = status.workers.iter().map(|w| w.worker.as_str()).collect();
    assert_eq!(known, ["s1", "s2", "w1"]);
    service.shutdown().await;
}

// ----- the supervisor's own reading of answers: embeddings and meaning classes -----

mod reading {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::consensus::{ConsensusConfig, Strategy, decide};
    use crate::entailment::Entailment;
    use crate::llm::{Embedder, LlmError};
    use crate::recompute::{recompute_mismatches, recorded_ballots};
    use crate::result::TaskResult;

    const CAPITAL: &str = "Paris is the capital of France";
    const SEAT: &str = "Its government sits in Paris";
    const EUROPE: &str = "Paris is in Europe";

    /// What a text states, as the scripted models know it.
    fn fact(text: &str) -> Option<usize> {
        match text {
            CAPITAL | SEAT => Some(0),
            EUROPE => Some(1),
            _ => None,
        }
    }

    /// How the scripted judge behaves.
    #[derive(Clone, Copy, Debug)]
    enum Behaviour {
        /// Answers at once.
        Instant,
        /// Answers after this many ms of tokio time.
        Slow(u64),
        /// Fails every question.
        Failing,
    }

    /// Two texts entail each other when they state the same known fact (or are the
    /// same text). Counts the questions.
    #[derive(Clone, Debug)]
    struct FactJudge {
        behaviour: Behaviour,
        questions: Arc<AtomicUsize>,
    }

    impl FactJudge {
        fn new(behaviour: Behaviour) -> Self {
            Self { behaviour, questions: Arc::new(AtomicUsize::new(0)) }
        }
    }

    impl Entailment for FactJudge {
        async fn entails(&self, premise: &str, hypothesis: &str) -> Result<bool, LlmError> {
            self.questions.fetch_add(1, Ordering::Relaxed);
            match self.behaviour {
                Behaviour::Instant => {}
                Behaviour::Slow(latency_ms) => tokio::time::sleep(Duration::from_millis(latency_ms)).await,
                Behaviour::Failing => return Err(LlmError::Timeout),
            }
            Ok(match (fact(premise), fact(hypothesis)) {
                (Some(premise), Some(hypothesis)) => premise == hypothesis,
                _ => premise == hypothesis,
            })
        }
    }

    /// A direction per known fact; `length` picks a wrong-length vector for EUROPE.
    struct FactEmbedder {
        europe_length: usize,
    }

    impl Embedder for FactEmbedder {
        async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LlmError> {
            Ok(texts
                .iter()
                .map(|text| match fact(text) {
                    Some(0) => vec![1.0, 0.0],
                    Some(_) => {
                        vec![0.0, 1.0].into_iter().chain(core::iter::repeat(0.5)).take(self.europe_length).collect()
                    }
                    None => vec![0.5, 0.5],
                })
                .collect())
        }
    }

    fn semantic_config(model_call_ms: u64) -> SupervisorConfig {
        let mut config = SupervisorConfig::default().fit_to_workers(3);
        config.strategy = Some(Strategy::Semantic);
        config.deadlines.model_call_ms = model_call_ms;
        config
    }

    /// Two of three state the same fact in other words, and the odd one out answers
    /// second, so that no early stop comes before the last answer.
    const PANEL: [(&str, &str, u64); 3] = [("w1", CAPITAL, 100), ("w2", EUROPE, 200), ("w3", SEAT, 300)];

    /// Runs one task over PANEL with the given models; returns its result and the
    /// driver's own count of results emitted twice.
    async fn run_one(config: SupervisorConfig, judge: Option<FactJudge>, embedder: Option<FactEmbedder>) -> TaskResult {
        let link = cluster(&PANEL);
        let mut supervisor = Supervisor::new(config, link, FixedWorkers).unwrap().with_workers(ids(&PANEL));
        if let Some(judge) = judge {
            supervisor = supervisor.with_judge(BoxEntailment::new(judge));
        }
        if let Some(embedder) = embedder {
            supervisor = supervisor.with_embedder(BoxEmbedder::new(embedder));
        }
        let (service, driver) = supervisor.start();
        let running = tokio::spawn(driver.run());
        service.submit(Task::new("t1", "Say something about Paris.")).await.unwrap();
        let result = service.subscribe(&"t1".into()).unwrap().result().await.unwrap();
        service.shutdown().await;
        running.await.unwrap();
        assert_eq!(service.duplicate_results(), 0);
        result
    }

    fn meanings(result: &TaskResult) -> Vec<(String, Option<u64>)> {
        result.metadata.votes.iter().map(|v| (v.worker.to_string(), v.meaning)).collect()
    }

    fn recomputes(result: &TaskResult, config: &SupervisorConfig) {
        let consensus = result.metadata.plan.consensus_config(&config.consensus);
        assert_eq!(recompute_mismatches(result, &consensus), Vec::new(), "{result:#?}");
    }

    #[tokio::test(start_paused = true)]
    async fn judged_meanings_reach_the_votes_decide_and_recompute() {
        let config = semantic_config(5_000);
        let judge = FactJudge::new(Behaviour::Instant);
        let result = run_one(config.clone(), Some(judge.clone()), None).await;
        // Classes in arrival order: w1 opens 0, w2 opens 1, w3 joins 0.
        assert_eq!(
            meanings(&result),
            [("w1".to_owned(), Some(0)), ("w2".to_owned(), Some(1)), ("w3".to_owned(), Some(0))]
        );
        assert!(result.is_agreed(), "{result:#?}");
        assert_eq!(result.alternatives[0].members.len(), 2, "the capital and the seat of government together");
        recomputes(&result, &config);
        // Without the classes the same votes do not agree: the judge decided it.
        let mut lexical = recorded_ballots(&result);
        lexical.iter_mut().for_each(|ballot| ballot.meaning = None);
        let consensus: ConsensusConfig = result.metadata.plan.consensus_config(&config.consensus);
        assert!(!decide(&lexical, &consensus).unwrap().is_agreed());
        // w2's claim conflicts with class 0's (another place), so it opens class 1
        // without a question; w3 is asked both ways about class 0: 2 questions.
        assert_eq!(judge.questions.load(Ordering::Relaxed), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn embeddings_reach_the_votes_and_a_wrong_length_one_is_left_out() {
        let config = semantic_config(5_000);
        let result = run_one(config.clone(), None, Some(FactEmbedder { europe_length: 2 })).await;
        let embedded: Vec<Option<usize>> =
            result.metadata.votes.iter().map(|v| v.embedding.as_ref().map(Vec::len)).collect();
        assert_eq!(embedded, [Some(2), Some(2), Some(2)]);
        assert!(result.is_agreed(), "{result:#?}");
        recomputes(&result, &config);
        // An embedding of another length than the task's first is not kept.
        let result = run_one(config.clone(), None, Some(FactEmbedder { europe_length: 3 })).await;
        let embedded: Vec<Option<usize>> =
            result.metadata.votes.iter().map(|v| v.embedding.as_ref().map(Vec::len)).collect();
        assert_eq!(embedded, [Some(2), None, Some(2)]);
        recomputes(&result, &config);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_judge_leaves_answers_unannotated_and_the_task_gets_its_one_result() {
        let config = semantic_config(5_000);
        let result = run_one(config.clone(), Some(FactJudge::new(Behaviour::Failing)), None).await;
        // w1 opens class 0 and w2 (whose claim conflicts with it) class 1 without a
        // question; w3, whose question failed, stays without a class, so matching
        // for the task is by words.
        assert_eq!(
            meanings(&result),
            [("w1".to_owned(), Some(0)), ("w2".to_owned(), Some(1)), ("w3".to_owned(), None)]
        );
        assert_eq!(result.metadata.votes.len(), 3, "no answer dropped");
        assert!(!result.is_agreed(), "words alone do not group these answers");
        recomputes(&result, &config);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_judge_is_cut_off_by_its_deadline_and_never_stalls_the_driver() {
        let config = semantic_config(1_000);
        let link = cluster(&PANEL);
        let judge = FactJudge::new(Behaviour::Slow(60_000));
        let supervisor = Supervisor::new(config.clone(), link, FixedWorkers)
            .unwrap()
            .with_workers(ids(&PANEL))
            .with_judge(BoxEntailment::new(judge.clone()));
        let (service, driver) = supervisor.start();
        let running = tokio::spawn(driver.run());
        service.submit(Task::new("t1", "Say something about Paris.")).await.unwrap();
        // w3 answered at 300 ms and its reading runs until its deadline at 1,300 ms:
        // the driver answers in between without waiting for the judge.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let asked = Instant::now();
        service.status().await.unwrap();
        assert!(asked.elapsed() < Duration::from_millis(10), "status waited {:?}", asked.elapsed());
        assert!(judge.questions.load(Ordering::Relaxed) >= 1, "a judge call is under way");
        let result = service.subscribe(&"t1".into()).unwrap().result().await.unwrap();
        assert_eq!(
            meanings(&result),
            [("w1".to_owned(), Some(0)), ("w2".to_owned(), Some(1)), ("w3".to_owned(), None)]
        );
        assert!(!result.is_agreed());
        // The last answer was held back by one deadline at most.
        assert!(result.latency_ms() <= 300 + 1_000 + 100, "{} ms", result.latency_ms());
        recomputes(&result, &config);
        service.shutdown().await;
        running.await.unwrap();
        assert_eq!(service.duplicate_results(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_judge_within_its_deadline_gives_the_same_decision_every_run() {
        let config = semantic_config(5_000);
        let first = run_one(config.clone(), Some(FactJudge::new(Behaviour::Slow(150))), None).await;
        let second = run_one(config.clone(), Some(FactJudge::new(Behaviour::Slow(150))), None).await;
        assert_eq!(first, second);
        // Each answer is judged against the classes of every answer before it, in
        // arrival order, whatever the judge's latency.
        assert_eq!(
            meanings(&first),
            [("w1".to_owned(), Some(0)), ("w2".to_owned(), Some(1)), ("w3".to_owned(), Some(0))]
        );
        assert!(first.is_agreed());
        recomputes(&first, &config);
    }

    #[tokio::test(start_paused = true)]
    async fn exact_and_numeric_tasks_are_not_read() {
        let mut config = semantic_config(5_000);
        config.strategy = Some(Strategy::Exact);
        let judge = FactJudge::new(Behaviour::Instant);
        let result = run_one(config, Some(judge.clone()), Some(FactEmbedder { europe_length: 2 })).await;
        assert_eq!(judge.questions.load(Ordering::Relaxed), 0);
        assert!(result.metadata.votes.iter().all(|v| v.meaning.is_none() && v.embedding.is_none()));
    }

    fn answer(worker: &str, text: &str) -> WorkerAnswer {
        WorkerAnswer {
            worker: worker.into(),
            task: "t1".into(),
            attempt: 1,
            text: text.to_owned(),
            confidence: 0.9,
            latency_ms: 10,
            llm_calls: 1,
            prompt_tokens: 1,
            completion_tokens: 1,
            rate_limit_wait_ms: 0,
        }
    }

    fn reply(worker: &str, text: &str) -> Arrival {
        Arrival::Reply { worker: worker.into(), task: "t1".into(), attempt: 1, outcome: Ok(answer(worker, text)) }
    }

    fn read(step: Step) -> ReadFuture {
        match step {
            Step::Read(reading) => reading,
            Step::Feed(arrival) => panic!("fed unread: {arrival:?}"),
            Step::Waiting => panic!("waiting"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_annotator_reads_one_answer_of_a_task_at_a_time_in_arrival_order_and_forgets_on_result() {
        let judge = FactJudge::new(Behaviour::Instant);
        let mut annotator = Annotator::new(None, Some(BoxEntailment::new(judge)), 1_000);
        let first = read(annotator.arrive(reply("w1", CAPITAL), |_| true));
        // While w1 is read, everything of t1 waits, a failed call included.
        assert!(matches!(annotator.arrive(reply("w2", SEAT), |_| true), Step::Waiting));
        let failed =
            Arrival::Reply { worker: "w3".into(), task: "t1".into(), attempt: 1, outcome: Err(LinkError::Timeout) };
        assert!(matches!(annotator.arrive(failed, |_| true), Step::Waiting));
        assert!(annotator.next_waiting(&"t1".into(), |_| true).is_none(), "nothing starts while w1 is read");
        let (arrival, annotations) = annotator.finish(first.await);
        assert!(matches!(arrival, Arrival::Reply { ref worker, .. } if worker.as_str() == "w1"));
        assert_eq!(annotations.meaning, Some(0));
        // Forgotten only once nothing of it waits.
        annotator.forget(&"t1".into());
        assert_eq!(annotator.tasks_remembered(), 1);
        let second = read(annotator.next_waiting(&"t1".into(), |_| true).unwrap());
        let (_, annotations) = annotator.finish(second.await);
        assert_eq!(annotations.meaning, Some(0), "judged against w1's class");
        assert!(matches!(
            annotator.next_waiting(&"t1".into(), |_| true),
            Some(Step::Feed(Arrival::Reply { outcome: Err(_), .. }))
        ));
        assert!(annotator.next_waiting(&"t1".into(), |_| true).is_none());
        assert_eq!(annotator.tasks_remembered(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_annotator_reads_no_unwanted_answer_nor_more_than_two_of_a_worker() {
        let mut annotator = Annotator::new(None, Some(BoxEntailment::new(FactJudge::new(Behaviour::Instant))), 1_000);
        assert!(matches!(annotator.arrive(reply("w1", CAPITAL), |_| false), Step::Feed(_)));
        let misaddressed =
            Arrival::Reply { worker: "w2".into(), task: "t1".into(), attempt: 1, outcome: Ok(answer("w1", SEAT)) };
        assert!(matches!(annotator.arrive(misaddressed, |_| true), Step::Feed(_)));
        for text in [CAPITAL, SEAT] {
            let reading = read(annotator.arrive(Arrival::Pushed(answer("w1", text)), |_| true));
            annotator.finish(reading.await);
        }
        assert!(matches!(annotator.arrive(Arrival::Pushed(answer("w1", EUROPE)), |_| true), Step::Feed(_)));
        // Without models nothing is read.
        let mut idle = Annotator::new(None, None, 1_000);
        assert!(matches!(idle.arrive(reply("w1", CAPITAL), |_| true), Step::Feed(_)));
    }
}

/// A supervisor of `workers` resumed from `journal`, journaling into it.
fn journaled(
    workers: &[(&str, &'static str, u64)],
    journal: Arc<dyn Journal>,
) -> Supervisor<Arc<LocalLink<ScriptedLlm>>, FixedWorkers> {
    Supervisor::new(SupervisorConfig::default(), cluster(workers), FixedWorkers)
        .unwrap()
        .with_workers(ids(workers))
        .with_journal(journal)
        .unwrap()
}

/// A journal whose writes fail from the `fail_from`-th call on.
#[derive(Debug)]
struct FailingJournal {
    inner: crate::journal::MemoryJournal,
    calls: Mutex<usize>,
    fail_from: usize,
}

impl Journal for FailingJournal {
    fn load(&self) -> Result<crate::journal::JournalState, JournalError> {
        self.inner.load()
    }

    fn write(&self, writes: &[JournalWrite], sync: bool) -> Result<(), JournalError> {
        let mut calls = self.calls.lock().unwrap();
        *calls += 1;
        if *calls >= self.fail_from {
            return Err(JournalError::Storage { detail: "disk full".to_owned() });
        }
        self.inner.write(writes, sync)
    }
}

#[tokio::test(start_paused = true)]
async fn an_accepted_task_is_durable_before_the_client_hears_it_and_a_restart_finishes_it() {
    let workers = [("w1", "4", 1_000), ("w2", "4", 1_000), ("w3", "4", 1_000)];
    let journal = crate::journal::MemoryJournal::new();
    let supervisor = journaled(&workers, Arc::new(journal.clone()));
    let (service, driver) = supervisor.start();
    let running = tokio::spawn(driver.run());
    assert_eq!(service.submit(Task::new("t1", "What is 2 + 2?")).await.unwrap(), Submitted::Accepted);
    // The supervisor crashes at once: whatever was not synced is lost, the task is not.
    running.abort();
    journal.crash();
    assert!(journal.load().unwrap().tasks.contains_key(&TaskId::from("t1")));

    // Its successor, on the same journal, finishes it without the client resubmitting.
    let supervisor = journaled(&workers, Arc::new(journal.clone()));
    let (service, driver) = supervisor.start();
    tokio::spawn(driver.run());
    assert_eq!(service.task_status(&"t1".into()), crate::TaskStatus::Pending);
    let result = service.subscribe(&"t1".into()).unwrap().result().await.unwrap();
    assert_eq!(result.answer(), Some("4"));
    // Read by id, the result is delivered, and the journal says so.
    assert!(service.result(&"t1".into()).is_some());
    service.shutdown().await;
    assert!(journal.load().unwrap().tasks[&TaskId::from("t1")].delivered);
}

#[tokio::test(start_paused = true)]
async fn a_journal_that_cannot_write_refuses_the_task_and_stops_the_supervisor() {
    let workers = [("w1", "4", 100), ("w2", "4", 100), ("w3", "4", 100)];
    let journal = FailingJournal { inner: crate::journal::MemoryJournal::new(), calls: Mutex::new(0), fail_from: 1 };
    let supervisor = journaled(&workers, Arc::new(journal));
    let (service, driver) = supervisor.start();
    let running = tokio::spawn(driver.run());
    let refused = service.submit(Task::new("t1", "What is 2 + 2?")).await.unwrap_err();
    assert!(matches!(&refused, SubmitError::Journal(JournalError::Storage { .. })), "{refused}");
    assert!(refused.to_string().contains("disk full"), "{refused}");
    // It stops instead of going on without a journal.
    running.await.unwrap();
    assert!(matches!(service.submit(Task::new("t2", "x")).await, Err(SubmitError::ShuttingDown)));
}
