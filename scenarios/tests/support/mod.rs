//! Real processes on 127.0.0.1 for the tests: the `quorum` binary with a planted
//! token, and a child process killed (-9) and reaped when its guard drops, however
//! the test ends.

#![allow(dead_code, clippy::missing_panics_doc)]

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// The token every honest process shares: planted, so the tests can look for it
/// where it must never be.
pub const SECRET: &str = "planted-cli-secret-0123456789abcdef";
pub const WRONG: &str = "not-the-shared-token-9876543210";
/// Longest wait for anything a process should do soon.
pub const WAIT: Duration = Duration::from_secs(60);

/// The `quorum` binary with the planted token, no model key, and a data directory
/// of this test process (never the user's).
pub fn quorum() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quorum"));
    command
        .env("QUORUM_TOKEN", SECRET)
        .env("QUORUM_TOKEN_FILE", temp_dir().join("no-token-file"))
        .env("QUORUM_DATA_DIR", temp_dir().join("data-default"))
        .env("RUST_LOG", "warn")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL");
    command
}

/// This test process's directory.
pub fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quorum-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A directory no other test of this process uses, named after `what`.
pub fn fresh_dir(what: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = temp_dir().join(format!("{what}-{}", NEXT.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A port free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn is_alive(pid: u32) -> bool {
    Command::new("kill").args(["-0", &pid.to_string()]).stderr(Stdio::null()).status().unwrap().success()
}

pub fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).stderr(Stdio::null()).status();
}

/// A child process, killed (-9) and reaped when dropped; its standard output read
/// line by line as it comes.
pub struct Process {
    pub child: Child,
    lines: Receiver<String>,
    pub seen: Vec<String>,
}

impl Process {
    pub fn start(command: &mut Command) -> Self {
        let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        Self { child, lines, seen: Vec::new() }
    }

    /// Reads lines until one matches `wanted`; returns it.
    pub fn wait_for(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        while started.elapsed() < WAIT {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
                self.seen.push(line.clone());
                if wanted(&line) {
                    return line;
                }
            } else if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the process exited ({status}) after printing {:#?}", self.seen);
            }
        }
        panic!("no such line in time; printed {:#?}", self.seen);
    }

    /// Waits until the process exits; returns its exit code and standard error.
    pub fn wait_exit(&mut self) -> (Option<i32>, String) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stderr = String::new();
                self.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
                    self.seen.push(line);
                }
                return (status.code(), stderr);
            }
            assert!(started.elapsed() < WAIT, "the process did not exit; printed {:#?}", self.seen);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
