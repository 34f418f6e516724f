//! Real P2P mode with real processes on 127.0.0.1: four `quorum agent` processes
//! over quorum-grpc, tasks submitted to any agent with `quorum submit --agent`; the
//! leader is killed (-9) mid-task and the task still commits; restarted on its data
//! directory, it catches up on the chain.

#![cfg(unix)]

mod support;

use quorum_real::node::mock_questions;
use support::{Process, free_port, fresh_dir, quorum, signal};

/// Four agents `a0..a3` on free ports, each with every other as a peer; each model
/// takes `latency_ms` per answer.
struct Network {
    ports: Vec<u16>,
    dirs: Vec<std::path::PathBuf>,
    agents: Vec<Option<Process>>,
    latency_ms: u64,
}

impl Network {
    fn start(latency_ms: u64) -> Self {
        let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
        let dirs = (0..4).map(|i| fresh_dir(&format!("agent-a{i}"))).collect();
        let mut network = Self { ports, dirs, agents: Vec::new(), latency_ms };
        let agents = (0..4).map(|index| Some(network.spawn(index))).collect();
        network.agents = agents;
        for agent in network.agents.iter_mut().flatten() {
            agent.wait_for(|line| line.ends_with("ready: 4 agents"));
        }
        network
    }

    fn spawn(&self, index: usize) -> Process {
        let mut command = quorum();
        command.args(["agent", "--id", &format!("a{index}"), "--listen", &self.address(index)]);
        command.arg("--data-dir").arg(&self.dirs[index]);
        command.args(["--llm", "mock", "--mock-latency-ms", &self.latency_ms.to_string(), "--view-timeout-ms", "500"]);
        for peer in (0..4).filter(|&peer| peer != index) {
            command.args(["--peer", &self.address(peer)]);
        }
        Process::start(&mut command)
    }

    fn address(&self, index: usize) -> String {
        format!("127.0.0.1:{}", self.ports[index])
    }

    fn kill(&mut self, index: usize) {
        let process = self.agents[index].take().expect("running");
        signal(process.child.id(), "KILL");
        drop(process);
    }
}

fn submit(network: &Network, to: usize, id: &str, text: &str) -> Process {
    let mut command = quorum();
    command.args(["submit", "--agent", &network.address(to), "--id", id, text]);
    Process::start(&mut command)
}

#[test]
fn a_task_commits_on_every_agent_though_the_leader_is_killed_mid_task() {
    let workload = mock_questions();
    let (question, truth) = (&workload.tasks[0].task.text, workload.truths[&workload.tasks[0].task.text].canonical());
    // Slow models: a1, the first view's leader, is killed while the answers are
    // still being worked out.
    let mut network = Network::start(1_500);
    let mut submitted = submit(&network, 0, "k1", question);
    submitted.wait_for(|line| line == "k1: Accepted");
    network.kill(1);
    let committed = submitted.wait_for(|line| line.starts_with("committed at height"));
    assert!(!committed.ends_with("proposed by a1)"), "the killed leader proposed it: {committed}");
    let result = submitted.wait_for(|line| line.starts_with("agreed: ") || line.starts_with("no consensus"));
    assert!(result.starts_with(&format!("agreed: {truth} ")), "{result}");
    let (code, _) = submitted.wait_exit();
    assert_eq!(code, Some(0));
    for index in [0, 2, 3] {
        let agent = network.agents[index].as_mut().unwrap();
        let line = agent.wait_for(|line| line.starts_with(&format!("agent a{index} committed k1 ")));
        assert!(line.ends_with(&format!(": {truth}")), "{line}");
    }
    // a1 restarts on its data directory (its key and safety state) and learns the
    // commit it missed from its peers.
    let mut restarted = network.spawn(1);
    restarted.wait_for(|line| line == "agent a1 ready: 4 agents");
    let caught_up = restarted.wait_for(|line| line.starts_with("agent a1 committed k1 "));
    assert!(caught_up.ends_with(&format!(": {truth}")), "{caught_up}");
    // Any agent takes tasks: one submitted to the restarted agent commits too.
    let second = &workload.tasks[1].task.text;
    let mut again = submit(&network, 1, "k2", second);
    let result = again.wait_for(|line| line.starts_with("agreed: ") || line.starts_with("no consensus"));
    assert!(result.starts_with(&format!("agreed: {} ", workload.truths[second].canonical())), "{result}");
    network.agents[1] = Some(restarted);
}

#[test]
fn agents_refuse_bad_input_by_name() {
    let network = Network::start(100);
    let mut reserved = submit(&network, 2, "k/plan", "What?");
    let (code, stderr) = reserved.wait_exit();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("k/plan") && stderr.contains('/'), "{stderr}");
    let mut bad_peer = quorum();
    bad_peer.args(["agent", "--listen", "127.0.0.1:0", "--peer", "not an address"]);
    let mut bad_peer = Process::start(&mut bad_peer);
    let (code, stderr) = bad_peer.wait_exit();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--peer not an address"), "{stderr}");
    assert!(!stderr.contains(support::SECRET), "the token leaked: {stderr}");
    drop(network);
}

#[test]
fn up_p2p_starts_agents_that_take_tasks_and_stops_them_on_sigterm() {
    let mut command = quorum();
    command.args(["up", "--p2p", "--agents", "4", "--llm", "mock", "--mock-latency-ms", "200"]);
    command.arg("--data-dir").arg(fresh_dir("up-p2p"));
    let mut up = Process::start(&mut command);
    // In whatever order they come.
    let ready = |line: &str| line.starts_with("agent a") && line.ends_with(" ready: 4 agents");
    while up.seen.iter().filter(|line| ready(line)).count() < 4 {
        up.wait_for(ready);
    }
    // "agent a2 pid 1234 at http://127.0.0.1:40000"
    let started: Vec<(u32, String)> = up
        .seen
        .iter()
        .filter_map(|line| match line.split(' ').collect::<Vec<_>>().as_slice() {
            ["agent", _, "pid", pid, "at", address] => Some((pid.parse().unwrap(), (*address).to_owned())),
            _ => None,
        })
        .collect();
    assert_eq!(started.len(), 4, "{:#?}", up.seen);
    let workload = mock_questions();
    let question = &workload.tasks[2].task.text;
    let mut command = quorum();
    command.args(["submit", "--agent", started[2].1.trim_start_matches("http://"), "--id", "u1", question]);
    let mut submitted = Process::start(&mut command);
    let result = submitted.wait_for(|line| line.starts_with("agreed: ") || line.starts_with("no consensus"));
    assert!(result.starts_with(&format!("agreed: {} ", workload.truths[question].canonical())), "{result}");
    signal(up.child.id(), "TERM");
    let (code, stderr) = up.wait_exit();
    assert_eq!(code, Some(0), "{stderr}");
    for (pid, _) in started {
        assert!(!support::is_alive(pid), "agent pid {pid} outlived up");
    }
}
