//! Simulation throughput: seeds per second and simulated seconds per wall second for
//! the standard run (5 workers, 20 tasks, swarm faults) on the simulation's own
//! frames, the same run over the gRPC stack real mode ships (`Transport::Grpc`), and
//! a bare turmoil run with the same hosts, tick, latency, simulated duration and
//! message count; as ratios: gRPC against frames (target: within 2x), and the
//! harness's overhead over turmoil itself.
//!
//! `cargo bench -p quorum-sim --bench throughput` (set `QUORUM_BENCH_SEEDS` for more
//! or fewer seeds; default 20).

use std::io::Write;
use std::time::{Duration, Instant};

use quorum_sim::{ClusterConfig, Swarm, Transport, run};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use turmoil::net::{TcpListener, TcpStream};

fn standard() -> ClusterConfig {
    let mut config = ClusterConfig::default();
    if let Some(tick_ms) = std::env::var("QUORUM_BENCH_TICK_MS").ok().and_then(|v| v.parse().ok()) {
        config.tick_ms = tick_ms;
    }
    config.faults.swarm = Some(Swarm::default());
    config
}

struct Figures {
    runs: u64,
    sim: Duration,
    wall: Duration,
}

impl Figures {
    fn seeds_per_second(&self) -> f64 {
        self.runs as f64 / self.wall.as_secs_f64()
    }

    fn speedup(&self) -> f64 {
        self.sim.as_secs_f64() / self.wall.as_secs_f64()
    }
}

/// One exchange of a small frame, as the harness's calls do.
async fn exchange(host: &str, port: u16) {
    let call = async {
        let mut stream = TcpStream::connect((host, port)).await.ok()?;
        stream.write_all(&[0, 0, 0, 2, b'{', b'}']).await.ok()?;
        let mut reply = [0u8; 6];
        stream.read_exact(&mut reply).await.ok()
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), call).await;
}

async fn echo_server(port: u16) -> turmoil::Result {
    let listener = TcpListener::bind(("0.0.0.0", port)).await?;
    loop {
        let (mut stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let mut request = [0u8; 6];
            if stream.read_exact(&mut request).await.is_ok() {
                let _ = stream.write_all(&request).await;
            }
        });
    }
}

/// The same hosts exchanging the same number of messages over the same simulated
/// time, with nothing else: no LLM, no consensus, no faults, no trace.
fn bare_turmoil(seed: u64, config: &ClusterConfig, supervisor_calls: u64, client_calls: u64, sim_ms: u64) {
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .simulation_duration(Duration::from_millis(sim_ms + 60_000))
        .tick_duration(Duration::from_millis(config.tick_ms))
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(config.latency_ms_max))
        .build();
    let workers: Vec<String> = config.workers.iter().map(|w| w.name.clone()).collect();
    let worker_names = workers.clone();
    sim.host("supervisor", move || {
        let workers = worker_names.clone();
        async move {
            tokio::spawn(async move {
                let gap = Duration::from_millis(sim_ms / supervisor_calls.max(1));
                for call in 0..supervisor_calls {
                    exchange(&workers[call as usize % workers.len()], 7000).await;
                    tokio::time::sleep(gap).await;
                }
            });
            echo_server(9000).await
        }
    });
    for worker in &workers {
        sim.host(worker.as_str(), || echo_server(7000));
    }
    sim.client("client", async move {
        let gap = Duration::from_millis(sim_ms / client_calls.max(1));
        for _ in 0..client_calls {
            exchange("supervisor", 9000).await;
            tokio::time::sleep(gap).await;
        }
        Ok(())
    });
    sim.run().expect("the bare run completes");
}

fn main() {
    let seeds: u64 = std::env::var("QUORUM_BENCH_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let config = standard();
    let grpc_config = ClusterConfig { transport: Transport::Grpc, ..config.clone() };
    let mut harness = Figures { runs: 0, sim: Duration::ZERO, wall: Duration::ZERO };
    let mut grpc = Figures { runs: 0, sim: Duration::ZERO, wall: Duration::ZERO };
    let mut bare = Figures { runs: 0, sim: Duration::ZERO, wall: Duration::ZERO };
    let mut messages = 0u64;
    let mut failures = 0u64;
    for seed in 1..=seeds {
        let started = Instant::now();
        let outcome = run(seed, &config).expect("the standard config is valid");
        harness.wall += started.elapsed();
        harness.sim += Duration::from_millis(outcome.report.sim_ms);
        harness.runs += 1;
        failures += u64::from(!outcome.passed());
        let events = outcome.trace.events();
        let supervisor_calls = events.iter().filter(|e| e.kind() == "send" && e.host == "supervisor").count() as u64;
        let client_calls = events.iter().filter(|e| e.kind() == "send" && e.host == "client").count() as u64;
        messages += supervisor_calls + client_calls;

        let started = Instant::now();
        let outcome = run(seed, &grpc_config).expect("the standard config is valid");
        grpc.wall += started.elapsed();
        grpc.sim += Duration::from_millis(outcome.report.sim_ms);
        grpc.runs += 1;
        failures += u64::from(!outcome.passed());

        let started = Instant::now();
        bare_turmoil(seed, &config, supervisor_calls, client_calls, outcome.report.sim_ms);
        bare.wall += started.elapsed();
        bare.sim += Duration::from_millis(outcome.report.sim_ms);
        bare.runs += 1;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "standard run: 5 workers, 20 tasks, swarm faults; {seeds} seeds on each transport, {failures} failed, {} framed calls per run",
        messages / seeds.max(1)
    );
    let _ = writeln!(out, "{:<14} {:>12} {:>14} {:>20}", "", "seeds/s", "wall ms/run", "sim s per wall s");
    for (name, figures) in [("harness", &harness), ("harness, grpc", &grpc), ("bare turmoil", &bare)] {
        let _ = writeln!(
            out,
            "{name:<14} {:>12.1} {:>14.2} {:>20.0}",
            figures.seeds_per_second(),
            figures.wall.as_secs_f64() * 1000.0 / figures.runs as f64,
            figures.speedup()
        );
    }
    let _ = writeln!(
        out,
        "harness overhead: {:.2}x the wall time of bare turmoil",
        harness.wall.as_secs_f64() / bare.wall.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "grpc transport: {:.2}x the wall time of frames (target: within 2x)",
        grpc.wall.as_secs_f64() / harness.wall.as_secs_f64()
    );
}
