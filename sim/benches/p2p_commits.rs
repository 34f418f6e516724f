//! P2P commits in simulation: for 4, 7 and 10 honest agents (accuracy 0.97, the
//! mock's default latency of 300 to 1,000 ms per answer), the same workload of 40
//! tasks arriving at once, over a few seeds each. Prints per agent count the tasks
//! committed per simulated second, commit latency in views (p50 and max, as the run's
//! `P2pReport` measures it: views between a block's own view and the view its agent
//! committed it in), views and messages (proposals and votes) per commit, and the
//! wall time per run; as ratios against 4 agents, and the commit rate against the
//! supervisor-mode baseline (5 workers, the same workload) measured in the same run.
//!
//! `cargo bench -p quorum-sim --bench p2p_commits` (set `QUORUM_BENCH_SEEDS` for more
//! or fewer seeds per row; default 5).

use std::io::Write;
use std::time::{Duration, Instant};

use quorum_core::mock::workload::Arrival;
use quorum_sim::{ClusterConfig, LlmProfile, Mode, P2pConfig, RunOutcome, honest_agents, honest_workers, run};

/// Tasks in the workload, all arriving at once: the figures are the network's
/// capacity, not the arrival rate.
const TASKS: usize = 40;
/// Agent counts measured; the first is the baseline of the ratios.
const AGENT_COUNTS: [usize; 3] = [4, 7, 10];
/// Workers of the supervisor-mode baseline (the catalogue's `baseline`).
const SUPERVISOR_WORKERS: usize = 5;
/// A worker's default capacity (tasks at once), measured in one extra row.
const CAPACITY_DEFAULT: u32 = 4;

/// Right answers unless said otherwise, as the catalogue's `reliable` profile.
fn reliable() -> LlmProfile {
    LlmProfile { accuracy: 0.97, ..LlmProfile::default() }
}

/// The catalogue's cluster (faults by 30 s, none here) with the bench's workload.
/// The run ends as soon as the client holds every result (no settle time, which
/// would put a floor under every run's simulated time), and each model takes every
/// task at once (capacity [`TASKS`]), so that a burst measures the protocol rather
/// than the default capacity of 4 (see [`CAPACITY_DEFAULT`]).
fn base() -> ClusterConfig {
    let mut config = ClusterConfig { fault_phase_ms: 30_000, settle_ms: 0, ..ClusterConfig::default() };
    config.workload.tasks = TASKS;
    config.workload.arrival = Arrival::Bursts { size: TASKS, gap_ms: 1_000 };
    config.worker.capacity = TASKS as u32;
    config
}

fn supervisor_config() -> ClusterConfig {
    ClusterConfig { workers: honest_workers(SUPERVISOR_WORKERS, reliable()), ..base() }
}

fn p2p_config(agents: usize) -> ClusterConfig {
    let p2p = P2pConfig { agents: honest_agents(agents, &reliable()), ..P2pConfig::default() };
    ClusterConfig { mode: Mode::P2p, p2p, ..base() }
}

/// 4 agents whose models keep the default capacity: a burst above it is refused by
/// the worker (busy), and an agent asks again only after `answer_wait_ms`, so most
/// tasks commit with the answers a few agents gave, after one or more 10 s waits.
fn p2p_default_capacity() -> ClusterConfig {
    let mut config = p2p_config(AGENT_COUNTS[0]);
    config.worker.capacity = CAPACITY_DEFAULT;
    config
}

/// The sums over one row's seeds.
#[derive(Default)]
struct Row {
    runs: u64,
    committed: u64,
    sim: Duration,
    wall: Duration,
    commit_views_p50_sum: u64,
    commit_views_max: u64,
    views: u64,
    messages: u64,
    latency_ms_p50_sum: u64,
    latency_ms_p99_sum: u64,
}

impl Row {
    fn add(&mut self, outcome: &RunOutcome, wall: Duration) {
        assert!(outcome.passed(), "{}", outcome.failure_report("cargo bench -p quorum-sim --bench p2p_commits"));
        self.runs += 1;
        self.sim += Duration::from_millis(outcome.report.sim_ms);
        self.wall += wall;
        self.latency_ms_p50_sum += outcome.report.latency_ms_p50;
        self.latency_ms_p99_sum += outcome.report.latency_ms_p99;
        let Some(p2p) = &outcome.report.p2p else {
            self.committed += outcome.report.tasks as u64;
            return;
        };
        assert_eq!(p2p.blocks_committed, TASKS, "seed {}: one block per task", outcome.seed);
        self.committed += p2p.blocks_committed as u64;
        self.commit_views_p50_sum += p2p.commit_views_p50;
        self.commit_views_max = self.commit_views_max.max(p2p.commit_views_max);
        self.views += p2p.views_max;
        self.messages += p2p.proposals + p2p.votes;
    }

    fn commits_per_sim_second(&self) -> f64 {
        self.committed as f64 / self.sim.as_secs_f64()
    }

    fn commit_views_p50_mean(&self) -> f64 {
        self.commit_views_p50_sum as f64 / self.runs as f64
    }

    /// Submit to result, simulated ms: the mean over seeds of each run's
    /// percentile.
    fn latency_ms(&self, p99: bool) -> f64 {
        let sum = if p99 { self.latency_ms_p99_sum } else { self.latency_ms_p50_sum };
        sum as f64 / self.runs as f64
    }

    fn views_per_commit(&self) -> f64 {
        self.views as f64 / self.committed as f64
    }

    fn messages_per_commit(&self) -> f64 {
        self.messages as f64 / self.committed as f64
    }

    fn wall_ms_per_run(&self) -> f64 {
        self.wall.as_secs_f64() * 1000.0 / self.runs as f64
    }
}

fn measure(config: &ClusterConfig, seeds: u64) -> Row {
    let mut row = Row::default();
    for seed in 1..=seeds {
        let started = Instant::now();
        let outcome = run(seed, config).expect("the bench's configs are valid");
        row.add(&outcome, started.elapsed());
    }
    row
}

/// A ratio, or blank without a baseline.
fn ratio(value: f64, baseline: Option<f64>) -> String {
    baseline.map_or_else(String::new, |baseline| format!("{:.2}", value / baseline))
}

/// One row of the table; `baseline` is 4 agents' row (none for the supervisor).
fn line(name: &str, row: &Row, baseline: Option<&Row>, supervisor: &Row) -> String {
    let commits = format!(
        "{name:<22} {:>9.2} {:>6} {:>6.2} {:>10.0} {:>10.0}",
        row.commits_per_sim_second(),
        ratio(row.commits_per_sim_second(), baseline.map(Row::commits_per_sim_second)),
        row.commits_per_sim_second() / supervisor.commits_per_sim_second(),
        row.latency_ms(false),
        row.latency_ms(true),
    );
    let wall = format!(
        "{:>11.0} {:>6}",
        row.wall_ms_per_run(),
        ratio(row.wall_ms_per_run(), baseline.map(Row::wall_ms_per_run))
    );
    if row.messages == 0 {
        return format!("{commits} {:>9} {:>9} {:>9} {:>6} {:>8} {:>6} {wall}", "-", "-", "-", "", "-", "");
    }
    format!(
        "{commits} {:>9.1} {:>9} {:>9.2} {:>6} {:>8.1} {:>6} {wall}",
        row.commit_views_p50_mean(),
        row.commit_views_max,
        row.views_per_commit(),
        ratio(row.views_per_commit(), baseline.map(Row::views_per_commit)),
        row.messages_per_commit(),
        ratio(row.messages_per_commit(), baseline.map(Row::messages_per_commit)),
    )
}

/// The measured rows.
struct Table {
    seeds: u64,
    supervisor: Row,
    p2p: Vec<(usize, Row)>,
    default_capacity: Row,
}

fn print(out: &mut impl Write, table: &Table) -> std::io::Result<()> {
    writeln!(
        out,
        "P2P commits in simulation: honest models (accuracy 0.97, 300-1000 ms per answer, capacity {TASKS}), \
         {TASKS} tasks at once, {} seeds per row, every run passed",
        table.seeds
    )?;
    writeln!(
        out,
        "{:<22} {:>9} {:>6} {:>6} {:>10} {:>10} {:>9} {:>9} {:>9} {:>6} {:>8} {:>6} {:>11} {:>6}",
        "",
        "commits/s",
        "vs 4",
        "vs sup",
        "lat p50 ms",
        "lat p99 ms",
        "views p50",
        "views max",
        "views/cmt",
        "vs 4",
        "msgs/cmt",
        "vs 4",
        "wall ms/run",
        "vs 4"
    )?;
    let supervisor = &table.supervisor;
    writeln!(out, "{}", line(&format!("supervisor, {SUPERVISOR_WORKERS} workers"), supervisor, None, supervisor))?;
    let baseline = &table.p2p[0].1;
    for (agents, row) in &table.p2p {
        writeln!(out, "{}", line(&format!("p2p, {agents} agents"), row, Some(baseline), supervisor))?;
    }
    let name = format!("p2p, 4, capacity {CAPACITY_DEFAULT}");
    writeln!(out, "{}", line(&name, &table.default_capacity, Some(baseline), supervisor))?;
    writeln!(
        out,
        "commits/s: tasks committed per simulated second, until the client holds every result (the P2P client polls \
         every 500 ms); lat: submit to result, simulated, mean over seeds of each run's percentile; views p50: mean \
         over seeds of each run's median (a block's commit view minus its own view); views/cmt: highest view over \
         blocks committed; msgs/cmt: proposals and votes per block; vs 4: against 4 agents; vs sup: against the \
         supervisor; capacity {CAPACITY_DEFAULT}: 4 agents whose models keep the default capacity"
    )
}

fn main() {
    let seeds: u64 = std::env::var("QUORUM_BENCH_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let table = Table {
        seeds,
        supervisor: measure(&supervisor_config(), seeds),
        p2p: AGENT_COUNTS.iter().map(|&agents| (agents, measure(&p2p_config(agents), seeds))).collect(),
        default_capacity: measure(&p2p_default_capacity(), seeds),
    };
    let _ = print(&mut std::io::stdout().lock(), &table);
}
