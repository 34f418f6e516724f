//! The run trace: every message, LLM call, fault, answer, decision and result, in
//! simulated time, with a hash that two runs of one seed must share.

use std::sync::{Arc, Mutex, PoisonError};

mod event;

use serde::{Deserialize, Serialize};

use quorum_core::mock::CallObserver;
use quorum_core::{Completion, LlmError};

pub use event::{Happening, LlmReply, Reply, Request, TraceEvent};

/// Events kept in memory; beyond it they are still hashed and counted, not stored.
const TRACE_EVENTS_MAX: usize = 2_000_000;

#[derive(Debug, Default)]
struct TraceState {
    events: Vec<TraceEvent>,
    hash: u64,
    count: u64,
}

/// A shared, append-only trace. Clones record into the same trace.
#[derive(Clone, Debug)]
pub struct Trace {
    state: Arc<Mutex<TraceState>>,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

impl Default for Trace {
    fn default() -> Self {
        Self { state: Arc::new(Mutex::new(TraceState { hash: FNV_OFFSET, ..TraceState::default() })) }
    }
}

impl Trace {
    /// An empty trace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an event at the current host's simulated time (0 outside a host).
    pub(crate) fn record(&self, host: &str, what: Happening) {
        let at_ms = turmoil::sim_elapsed().map_or(0, |elapsed| elapsed.as_millis() as u64);
        self.record_at(at_ms, host, what);
    }

    /// Records an event at an explicit simulated time.
    pub(crate) fn record_at(&self, at_ms: u64, host: &str, what: Happening) {
        let event = TraceEvent { at_ms, host: host.to_owned(), what };
        let line = event.canonical_line();
        let mut state = self.lock();
        // FNV-1a over every canonical line and its newline: stable across machines,
        // runs and versions of the event types.
        for byte in line.bytes().chain(core::iter::once(b'\n')) {
            state.hash ^= u64::from(byte);
            state.hash = state.hash.wrapping_mul(FNV_PRIME);
        }
        state.count += 1;
        if state.events.len() < TRACE_EVENTS_MAX {
            state.events.push(event);
        }
    }

    /// The hash of every event so far, as 16 hex digits.
    pub fn hash(&self) -> String {
        format!("{:016x}", self.lock().hash)
    }

    /// Events recorded (including any beyond `TRACE_EVENTS_MAX`, which are counted but not kept).
    pub fn len(&self) -> u64 {
        self.lock().count
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stored events.
    pub fn events(&self) -> Vec<TraceEvent> {
        self.lock().events.clone()
    }

    /// The last `count` stored events.
    pub fn tail(&self, count: usize) -> Vec<TraceEvent> {
        let state = self.lock();
        state.events[state.events.len().saturating_sub(count)..].to_vec()
    }

    /// The stored events as JSON lines.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for event in &self.lock().events {
            out.push_str(&event.to_json_line());
            out.push('\n');
        }
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TraceState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The mock LLM's calls: [`Happening::LlmCall`] when a call is made,
/// [`Happening::Llm`] with its outcome when it ends.
impl CallObserver for Trace {
    fn call_started(&self, model: &str, prompt_bytes: usize) {
        self.record(model, Happening::LlmCall { prompt_bytes });
    }

    fn call_finished(&self, model: &str, outcome: &Result<Completion, LlmError>) {
        let reply = match outcome {
            Ok(completion) if completion.truncated => LlmReply::Truncated,
            Ok(completion) => LlmReply::Ok { text: completion.text.clone() },
            Err(error) => LlmReply::Error { error: error.to_string() },
        };
        self.record(model, Happening::Llm { reply });
    }
}

/// Where two traces part.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// Index of the first differing event.
    pub index: usize,
    /// That event in the first trace (None when it ended first).
    pub first: Option<TraceEvent>,
    /// That event in the second trace.
    pub second: Option<TraceEvent>,
}

/// The first event at which two traces differ, if any.
pub fn first_divergence(first: &[TraceEvent], second: &[TraceEvent]) -> Option<Divergence> {
    let index = first
        .iter()
        .zip(second)
        .position(|(a, b)| a != b)
        .or_else(|| (first.len() != second.len()).then_some(first.len().min(second.len())))?;
    Some(Divergence { index, first: first.get(index).cloned(), second: second.get(index).cloned() })
}

#[cfg(test)]
mod tests {
    use quorum_core::{TaskId, WorkerId};

    use super::*;

    #[test]
    fn hash_depends_on_every_event_and_divergence_is_located() {
        let a = Trace::new();
        let b = Trace::new();
        let answer = |text: &str| Happening::Recv {
            from: WorkerId::new("w2"),
            reply: Reply::Answer { task: TaskId::new("t1"), attempt: 1, text: text.to_owned() },
        };
        for trace in [&a, &b] {
            trace.record_at(1, "w1", Happening::Send { to: WorkerId::new("w2"), request: Request::Heartbeat });
        }
        assert_eq!(a.hash(), b.hash());
        a.record_at(2, "w1", answer("4"));
        b.record_at(2, "w1", answer("5"));
        assert_ne!(a.hash(), b.hash());
        let divergence = first_divergence(&a.events(), &b.events()).unwrap();
        assert_eq!(divergence.index, 1);
        assert!(first_divergence(&a.events(), &a.events()).is_none());
        assert_eq!(first_divergence(&a.events(), &a.events()[..1]).unwrap().index, 1);
    }

    #[test]
    fn the_hash_covers_the_canonical_lines_of_the_first_traces() {
        // The hash of these two events as the string-typed traces recorded them: a
        // typed event must render to the same line, or every recorded hash changes.
        let trace = Trace::new();
        trace.record_at(0, "supervisor", Happening::SupervisorStart);
        trace.record_at(
            7,
            "supervisor",
            Happening::Recv {
                from: WorkerId::new("w1"),
                reply: Reply::Answer { task: TaskId::new("t001"), attempt: 1, text: "Paris \"x\"".to_owned() },
            },
        );
        let lines = trace.events().iter().map(TraceEvent::canonical_line).collect::<Vec<_>>();
        assert_eq!(
            lines,
            [
                r#"{"at_ms":0,"host":"supervisor","kind":"start","detail":"supervisor up"}"#,
                r#"{"at_ms":7,"host":"supervisor","kind":"recv","detail":"w1 answer t001 #1 \"Paris \\\"x\\\"\""}"#,
            ]
        );
        let mut hash = FNV_OFFSET;
        for byte in lines.iter().flat_map(|line| line.bytes().chain(core::iter::once(b'\n'))) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
        }
        assert_eq!(trace.hash(), format!("{hash:016x}"));
    }

    #[test]
    fn typed_events_read_back_from_their_json_lines() {
        let event = TraceEvent {
            at_ms: 3,
            host: "sim".to_owned(),
            what: Happening::Fault { start: true, fault: crate::FaultKind::Crash { host: "w2".to_owned() } },
        };
        let line = event.to_json_line();
        assert!(line.contains(r#""kind":"fault""#), "{line}");
        assert_eq!(serde_json::from_str::<TraceEvent>(&line).unwrap(), event);
        assert_eq!(event.detail(), r#"start {"kind":"crash","host":"w2"}"#);
    }
}
