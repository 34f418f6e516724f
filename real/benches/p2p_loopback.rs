//! P2P commits on loopback: for 4, 7 and 10 agents, the product's agent nodes
//! ([`run_agent`]) in this process on 127.0.0.1, over quorum-grpc and real TCP, each
//! with an instant deterministic model. Submits a fixed set of tasks spread over the
//! agents and measures, from the first submit until every agent has committed every
//! task: commits per second (wall), commit latency in views (the view an agent
//! committed a block in minus the block's own view; p50 and max over every agent's
//! commits, as the simulation's `P2pReport` counts it), views per commit, and task
//! latency (submit to the first agent's commit; p50 and p99), and how many tasks
//! committed with fewer answers than a quorum after the answer wait (a known loss
//! of task notices, see `Commits::short`). Every figure is also given as a ratio
//! against 4 agents, measured in the same run.
//!
//! `cargo bench -p quorum-real --bench p2p_loopback`; `QUORUM_BENCH_TASKS=N`
//! (default 200) sets the tasks per agent count.
//!
//! The commit's view is not in [`AgentNodeEvent::Committed`]; the node logs it
//! (`at_view` on its `committed` event), so this bench reads that event's fields
//! with a tracing layer, and fails loudly when an agent's commit comes without one.

use core::future::Future;
use core::time::Duration;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use quorum_core::p2p::{AgentConfig, AgentId, AgentKey, ReplicaConfig};
use quorum_core::{BoxLlm, Completion, CompletionRequest, Llm, LlmError, Task, TaskId};
use quorum_real::node::{AgentNodeConfig, AgentNodeEvent, NodeError, run_agent};
use quorum_real::{AgentClient, AuthToken, GrpcConfig};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt as _};

/// Agent counts measured; the first is the baseline of the ratios.
const AGENT_COUNTS: [usize; 3] = [4, 7, 10];
/// Tasks per agent count by default.
const TASKS_DEFAULT: usize = 200;
/// Submits in flight at once: a batch is awaited before the next goes out.
const SUBMIT_BATCH: usize = 20;
/// The first view timeout: short, so that a view without a proposal costs little.
const VIEW_TIMEOUT_MS: u64 = 200;
/// The cap of the doubling view timeout (the replica's default is 60 s): an idle
/// stretch doubles it, and a task only one agent offers waits for that agent's turn
/// to lead, so an uncapped timeout can stall a run for minutes.
const VIEW_TIMEOUT_MS_MAX: u64 = 1_600;
/// How long an agent waits for a quorum of answers before it offers what it has
/// (default 10 s). The model is instant, so a quorum normally comes in a few ms; a
/// task whose notice agents dropped (see [`Commits::short`]) waits this long.
const ANSWER_WAIT_MS: u64 = 1_000;
/// Longest one agent count may take, from the first submit to the last commit.
const COMMITS_WAIT_MS_MAX: u64 = 60_000;
/// Longest the agents may take to learn each other.
const READY_WAIT_MS_MAX: u64 = 30_000;
/// The shared bearer token (a fixed, bench-only value).
const TOKEN: &str = "bench-token-0123456789abcdef";
/// What the model answers, every time.
const ANSWER_JSON: &str = r#"{"answer": "42", "confidence": 0.9}"#;

/// A model that answers at once, always the same: every figure is the network's.
struct InstantModel;

impl Llm for InstantModel {
    fn complete(&self, _request: CompletionRequest) -> impl Future<Output = Result<Completion, LlmError>> + Send {
        let completion =
            Completion { text: ANSWER_JSON.to_owned(), prompt_tokens: 0, completion_tokens: 0, truncated: false };
        core::future::ready(Ok(completion))
    }
}

/// Commit latencies in views, from the agents' `committed` log events.
#[derive(Clone, Default)]
struct CommitViews(Arc<Mutex<Vec<u64>>>);

impl CommitViews {
    fn take(&self) -> Vec<u64> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The `view` and `at_view` fields of one event.
#[derive(Default)]
struct ViewFields {
    is_commit: bool,
    view: Option<u64>,
    at_view: Option<u64>,
}

impl Visit for ViewFields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "view" => self.view = Some(value),
            "at_view" => self.at_view = Some(value),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn core::fmt::Debug) {
        if field.name() == "message" {
            self.is_commit = format!("{value:?}") == "committed";
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CommitViews {
    fn on_event(&self, event: &tracing::Event<'_>, _context: Context<'_, S>) {
        if !event.metadata().target().starts_with("quorum_real::node::agent_node") {
            return;
        }
        let mut fields = ViewFields::default();
        event.record(&mut fields);
        if fields.is_commit {
            let (view, at_view) = fields.view.zip(fields.at_view).expect("a commit event names view and at_view");
            self.0.lock().unwrap_or_else(PoisonError::into_inner).push(at_view.saturating_sub(view));
        }
    }
}

/// An agent's event, as it happened.
struct Heard {
    agent: usize,
    event: AgentNodeEvent,
    at: Instant,
}

/// A running network of agents.
struct Network {
    addresses: Vec<String>,
    stops: Vec<oneshot::Sender<()>>,
    nodes: Vec<JoinHandle<Result<(), NodeError>>>,
    heard: mpsc::UnboundedReceiver<Heard>,
}

fn node_config(index: usize, addresses: &[String]) -> AgentNodeConfig {
    let key = AgentKey::from_seed(AgentId::new(format!("a{index}")), 1);
    let peers = addresses.iter().enumerate().filter(|&(peer, _)| peer != index).map(|(_, a)| a.clone()).collect();
    let mut config = AgentNodeConfig::new(key, peers);
    config.agent = AgentConfig {
        replica: ReplicaConfig {
            view_timeout_ms: VIEW_TIMEOUT_MS,
            view_timeout_ms_max: VIEW_TIMEOUT_MS_MAX,
            ..ReplicaConfig::default()
        },
        answer_wait_ms: ANSWER_WAIT_MS,
        ..AgentConfig::default()
    };
    config.safety_path = None;
    config
}

impl Network {
    /// Binds every listener first, then starts each agent with the others as peers.
    async fn start(agents: usize, token: &AuthToken) -> Self {
        let mut listeners = Vec::with_capacity(agents);
        for _ in 0..agents {
            listeners.push(TcpListener::bind("127.0.0.1:0").await.expect("a loopback port"));
        }
        let addresses: Vec<String> =
            listeners.iter().map(|l| format!("http://{}", l.local_addr().expect("bound"))).collect();
        let (tell, heard) = mpsc::unbounded_channel();
        let (mut stops, mut nodes) = (Vec::new(), Vec::new());
        for (index, listener) in listeners.into_iter().enumerate() {
            let (stop, stopped) = oneshot::channel::<()>();
            let tell = tell.clone();
            let report = move |event| {
                let _ = tell.send(Heard { agent: index, event, at: Instant::now() });
            };
            let shutdown = async move {
                let _ = stopped.await;
            };
            let model = BoxLlm::new(InstantModel);
            let config = node_config(index, &addresses);
            nodes.push(tokio::spawn(run_agent(config, model, token.clone(), listener, shutdown, report)));
            stops.push(stop);
        }
        Self { addresses, stops, nodes, heard }
    }

    async fn wait_ready(&mut self) {
        let mut ready = BTreeSet::new();
        let wait = async {
            while ready.len() < self.nodes.len() {
                let heard = self.heard.recv().await.expect("the agents run");
                if let AgentNodeEvent::Ready { agents } = heard.event {
                    assert_eq!(agents, self.nodes.len(), "agent a{} sees {agents} agents", heard.agent);
                    ready.insert(heard.agent);
                }
            }
        };
        tokio::time::timeout(Duration::from_millis(READY_WAIT_MS_MAX), wait).await.expect("every agent is ready");
    }

    /// Stops every agent (its shutdown future) and waits for each to end cleanly.
    async fn stop(self) {
        for stop in self.stops {
            let _ = stop.send(());
        }
        for (index, node) in self.nodes.into_iter().enumerate() {
            let ended = node.await.expect("the agent's task ends");
            ended.unwrap_or_else(|error| panic!("agent a{index} stopped with an error: {error}"));
        }
    }
}

fn tasks(count: usize) -> Vec<Task> {
    (0..count).map(|k| Task::new(format!("t{k}"), format!("Task {k}: what is six times seven?"))).collect()
}

/// Submits every task, to agent `k % n`, in concurrent batches; returns each task's
/// submit time.
async fn submit_all(clients: Vec<AgentClient>, tasks: Vec<Task>) -> BTreeMap<TaskId, Instant> {
    let mut submitted = BTreeMap::new();
    let mut index = 0;
    for batch in tasks.chunks(SUBMIT_BATCH) {
        let mut calls = Vec::with_capacity(batch.len());
        for task in batch {
            let client = clients[index % clients.len()].clone();
            submitted.insert(task.id.clone(), Instant::now());
            let task = task.clone();
            calls.push(tokio::spawn(async move { client.submit(task).await }));
            index += 1;
        }
        for call in calls {
            call.await.expect("the submit task ends").expect("the agent takes the task");
        }
    }
    submitted
}

/// What every agent's commits of the bench's tasks showed.
struct Commits {
    /// Which agent committed which task.
    seen: BTreeSet<(usize, TaskId)>,
    /// When the first agent committed each task.
    first: BTreeMap<TaskId, Instant>,
    /// When the last agent committed the last task.
    last: Instant,
    /// The highest view of a committed block.
    view_highest: u64,
    /// Tasks committed with fewer answers than a quorum (n - f): offered after the
    /// answer wait. In this network, tasks that some agents never answered: an agent
    /// that hears a peer's answer before the task's notice opens the task without its
    /// text, then ignores the notice as a task it already knows (`Agent::on_notice`
    /// returns on any status but unknown), so it never asks its model or offers the
    /// task, which commits only when an agent that has the text gives up waiting.
    short: usize,
}

impl Commits {
    /// Where it stands: for a run that did not finish.
    fn progress(&self, agents: usize, tasks: usize) -> String {
        let per_agent: Vec<usize> =
            (0..agents).map(|agent| self.seen.iter().filter(|(by, _)| *by == agent).count()).collect();
        format!(
            "{} of {} commits; {} of {tasks} tasks committed somewhere; per agent {per_agent:?}; highest view {}",
            self.seen.len(),
            agents * tasks,
            self.first.len(),
            self.view_highest
        )
    }
}

/// Waits until every agent has committed every task of `ids`.
async fn wait_commits(
    heard: &mut mpsc::UnboundedReceiver<Heard>,
    agents: usize,
    ids: &BTreeSet<TaskId>,
    commits: &mut Commits,
) {
    let quorum = agents - (agents - 1) / 3;
    while commits.seen.len() < agents * ids.len() {
        let heard = heard.recv().await.expect("the agents run");
        let AgentNodeEvent::Committed(done) = heard.event else { continue };
        if !ids.contains(done.task()) {
            continue;
        }
        let fresh = commits.seen.insert((heard.agent, done.task().clone()));
        assert!(fresh, "a{} committed {} twice", heard.agent, done.task());
        if !commits.first.contains_key(done.task()) {
            commits.first.insert(done.task().clone(), heard.at);
            commits.short += usize::from(done.payload.answers.len() < quorum);
        }
        commits.last = heard.at;
        commits.view_highest = commits.view_highest.max(done.view.0);
    }
}

/// One agent count's figures.
struct Figures {
    agents: usize,
    tasks: usize,
    /// From the first submit to the last agent's last commit.
    wall: Duration,
    /// Commit latency in views, sorted.
    commit_views: Vec<u64>,
    view_highest: u64,
    /// Tasks committed with fewer answers than a quorum ([`Commits::short`]).
    short: usize,
    /// Submit to the first commit, sorted.
    task_latencies: Vec<Duration>,
}

fn percentile<T: Copy + Default>(sorted: &[T], percent: usize) -> T {
    sorted.get((sorted.len() * percent / 100).min(sorted.len().saturating_sub(1))).copied().unwrap_or_default()
}

impl Figures {
    fn commits_per_second(&self) -> f64 {
        self.tasks as f64 / self.wall.as_secs_f64()
    }

    fn views_per_commit(&self) -> f64 {
        self.view_highest as f64 / self.tasks as f64
    }

    fn task_ms(&self, percent: usize) -> f64 {
        percentile(&self.task_latencies, percent).as_secs_f64() * 1000.0
    }
}

async fn measure(agents: usize, task_count: usize, token: &AuthToken, views: &CommitViews) -> Figures {
    let mut network = Network::start(agents, token).await;
    network.wait_ready().await;
    views.take();
    let clients: Vec<AgentClient> = network
        .addresses
        .iter()
        .map(|address| AgentClient::connect(address, token, GrpcConfig::default()).expect("a valid address"))
        .collect();
    let tasks = tasks(task_count);
    let ids: BTreeSet<TaskId> = tasks.iter().map(|task| task.id.clone()).collect();
    let started = Instant::now();
    let submitting = tokio::spawn(submit_all(clients, tasks));
    let mut commits =
        Commits { seen: BTreeSet::new(), first: BTreeMap::new(), last: Instant::now(), view_highest: 0, short: 0 };
    let waited = tokio::time::timeout(
        Duration::from_millis(COMMITS_WAIT_MS_MAX),
        wait_commits(&mut network.heard, agents, &ids, &mut commits),
    );
    if waited.await.is_err() {
        let progress = commits.progress(agents, task_count);
        panic!("{agents} agents: not every task committed in {COMMITS_WAIT_MS_MAX} ms: {progress}");
    }
    let submitted = submitting.await.expect("every task submitted");
    network.stop().await;
    let mut commit_views = views.take();
    assert_eq!(commit_views.len(), agents * task_count, "every commit logged its view");
    commit_views.sort_unstable();
    let mut task_latencies: Vec<Duration> =
        submitted.iter().map(|(task, at)| commits.first[task].saturating_duration_since(*at)).collect();
    task_latencies.sort_unstable();
    let wall = commits.last.saturating_duration_since(started);
    Figures {
        agents,
        tasks: task_count,
        wall,
        commit_views,
        view_highest: commits.view_highest,
        short: commits.short,
        task_latencies,
    }
}

fn print(out: &mut impl std::io::Write, rows: &[Figures]) -> std::io::Result<()> {
    let base = &rows[0];
    writeln!(
        out,
        "P2P on loopback: run_agent nodes over gRPC on 127.0.0.1, instant model, view timeout {VIEW_TIMEOUT_MS} ms \
         (at most {VIEW_TIMEOUT_MS_MAX} ms), answer wait {ANSWER_WAIT_MS} ms, {} tasks spread over the agents, submitted {SUBMIT_BATCH} at once",
        base.tasks
    )?;
    writeln!(
        out,
        "{:<10} {:>10} {:>7} {:>9} {:>9} {:>10} {:>7} {:>12} {:>7} {:>12} {:>7} {:>7} {:>8}",
        "agents",
        "commits/s",
        "vs 4",
        "views p50",
        "views max",
        "views/cmt",
        "vs 4",
        "task p50 ms",
        "vs 4",
        "task p99 ms",
        "vs 4",
        "short",
        "wall s"
    )?;
    for row in rows {
        writeln!(
            out,
            "{:<10} {:>10.1} {:>7.2} {:>9} {:>9} {:>10.2} {:>7.2} {:>12.1} {:>7.2} {:>12.1} {:>7.2} {:>7} {:>8.2}",
            row.agents,
            row.commits_per_second(),
            row.commits_per_second() / base.commits_per_second(),
            percentile(&row.commit_views, 50),
            row.commit_views.last().copied().unwrap_or(0),
            row.views_per_commit(),
            row.views_per_commit() / base.views_per_commit(),
            row.task_ms(50),
            row.task_ms(50) / base.task_ms(50),
            row.task_ms(99),
            row.task_ms(99) / base.task_ms(99),
            row.short,
            row.wall.as_secs_f64()
        )?;
    }
    writeln!(
        out,
        "commits/s: tasks committed on every agent per wall second, first submit to last commit; views p50/max: the \
         view an agent committed a block in minus the block's view, over every agent's commits; views/cmt: the \
         highest committed block's view over the tasks; task: submit to the first agent's commit; short: tasks \
         committed with fewer answers than a quorum (offered only after the answer wait)"
    )
}

fn main() {
    let task_count: usize = std::env::var("QUORUM_BENCH_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(TASKS_DEFAULT);
    let views = CommitViews::default();
    let subscriber =
        tracing_subscriber::registry().with(tracing_subscriber::filter::LevelFilter::INFO).with(views.clone());
    tracing::subscriber::set_global_default(subscriber).expect("the bench's subscriber is the first");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let token = AuthToken::new(TOKEN).expect("a valid token");
    let rows: Vec<Figures> = runtime.block_on(async {
        let mut rows = Vec::new();
        for agents in AGENT_COUNTS {
            rows.push(measure(agents, task_count, &token, &views).await);
        }
        rows
    });
    let _ = print(&mut std::io::stdout().lock(), &rows);
}
