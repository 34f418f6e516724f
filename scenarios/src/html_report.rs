//! `--report F.html`: one self-contained page (no network fetches) showing a run as a
//! timeline, one lane per host, and a table of tasks.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use quorum_core::mock::workload::generate;
use quorum_core::{Outcome, TaskResult};
use quorum_sim::{FaultKind, Happening, LlmReply, Reply, Request, RunOutcome, TraceEvent};

use crate::runner::ScenarioRun;
use crate::scenario::Scenario;

/// Most trace marks drawn; beyond it message marks are thinned (faults, LLM calls and
/// results are always drawn).
pub const TIMELINE_MARKS_MAX: usize = 40_000;

const WIDTH: f64 = 1200.0;
const LABEL: f64 = 110.0;
const LANE: f64 = 26.0;

/// Renders the report.
pub fn render_report(scenario: &Scenario, run: &ScenarioRun, outcome: &RunOutcome) -> String {
    let mut html = String::with_capacity(64 * 1024);
    let verdict = if run.passed { "PASS" } else { "FAIL" };
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>quorum: {name} seed {seed}</title>\
         <style>{STYLE}</style></head><body><h1>{name} <span class=\"{class}\">{verdict}</span></h1><p>{description}</p>",
        name = escape(&run.scenario),
        seed = run.seed,
        class = verdict.to_lowercase(),
        description = escape(&scenario.description),
    );
    let _ = write!(html, "<p class=\"numbers\">seed {}: {}</p>", run.seed, escape(&run.headline()));
    if !run.violations.is_empty() {
        html.push_str("<h2>Violations</h2><ul class=\"violations\">");
        for violation in &run.violations {
            let _ = write!(html, "<li>{}</li>", escape(violation));
        }
        let _ = write!(html, "</ul><p>replay: <code>{}</code></p>", escape(&run.replay));
    }
    html.push_str("<h2>Timeline</h2>");
    html.push_str(&timeline(&outcome.trace.events(), outcome.report.sim_ms));
    html.push_str(LEGEND);
    html.push_str("<h2>Tasks</h2>");
    html.push_str(&task_table(scenario, outcome));
    let _ = writeln!(html, "<script>{SCRIPT}</script></body></html>");
    html
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#222}h1 span{font-size:60%;padding:2px 8px;\
border-radius:4px;color:#fff}.pass{background:#2a7d2a}.fail{background:#b32020}.numbers{color:#555}\
table{border-collapse:collapse;font-size:13px;width:100%}td,th{border:1px solid #ccc;padding:4px;vertical-align:top;\
text-align:left}th{background:#f3f3f3}.agreed{color:#2a7d2a}.no_consensus{color:#a06000}.failed{color:#b32020}\
.wrong{background:#fde8e8}svg{border:1px solid #ddd;background:#fcfcfc}.legend span{margin-right:14px;font-size:13px}\
.violations li{color:#b32020}ul.votes{margin:0;padding-left:16px}svg [data-task]{cursor:pointer}\
tr.highlight td{background:#fff1a8}svg .highlight{stroke:#000;stroke-width:2}";

const LEGEND: &str = "<p class=\"legend\"><span style=\"color:#999\">| message sent</span>\
<span style=\"color:#2a7d2a\">| reply</span><span style=\"color:#d00\">&times; lost or timed out</span>\
<span style=\"color:#7b3fb5\">&#9679; LLM answer</span><span style=\"color:#e07b00\">&#9679; LLM error</span>\
<span style=\"color:#1f5fbf\">&#9670; result</span><span style=\"color:#c0c\">&#9650; twin</span>\
<span style=\"background:#f8c8c8\">&nbsp;fault&nbsp;</span><span style=\"background:#555;color:#fff\">&nbsp;crash&nbsp;</span>\
<span style=\"color:#0a8f3c\">&#9646; restart</span>\
<span>hover a mark to read it; click one to find its task in the table</span></p>";

/// Clicking a mark that concerns a task highlights that task's row and its marks.
const SCRIPT: &str = "document.addEventListener('click',function(event){\
var mark=event.target.closest('svg [data-task]');if(!mark){return;}\
var task=mark.getAttribute('data-task');\
document.querySelectorAll('.highlight').forEach(function(e){e.classList.remove('highlight');});\
document.querySelectorAll('svg [data-task]').forEach(function(e){\
if(e.getAttribute('data-task')===task){e.classList.add('highlight');}});\
var row=document.getElementById('task-'+task);\
if(row){row.classList.add('highlight');row.scrollIntoView({block:'center'});}});";

/// Top of the faults area.
const TOP: f64 = 10.0;
/// Height of one row of the faults area; overlapping faults take one row each.
const FAULT_ROW: f64 = 18.0;

/// Where things go: the faults area (one row per overlapping fault), then one lane
/// per host.
struct Layout {
    hosts: Vec<String>,
    fault_rows: usize,
    span_ms: f64,
}

impl Layout {
    /// Hosts in display order: the supervisor (when there is one), workers or P2P
    /// agents by number (twins after their sibling), the client.
    fn new(events: &[TraceEvent], fault_rows: usize, span_ms: u64) -> Self {
        let mut workers: Vec<String> =
            events.iter().map(|e| e.host.clone()).filter(|h| is_worker(h) || is_agent(h)).collect();
        workers.sort_by_key(|w| natural_key(w));
        workers.dedup();
        let p2p = events.iter().any(|e| is_agent(&e.host));
        let mut hosts = if p2p { Vec::new() } else { vec!["supervisor".to_owned()] };
        hosts.extend(workers);
        hosts.push("client".to_owned());
        Self { hosts, fault_rows: fault_rows.max(1), span_ms: span_ms.max(1) as f64 }
    }

    fn x(&self, at_ms: u64) -> f64 {
        LABEL + (WIDTH - LABEL - 10.0) * at_ms as f64 / self.span_ms
    }

    fn faults_height(&self) -> f64 {
        FAULT_ROW * self.fault_rows as f64 + 8.0
    }

    fn fault_row_top(&self, row: usize) -> f64 {
        TOP + 4.0 + FAULT_ROW * row as f64
    }

    fn host_top(&self, host: &str) -> Option<f64> {
        let index = self.hosts.iter().position(|h| h == host)?;
        Some(TOP + self.faults_height() + LANE * index as f64)
    }

    fn workers(&self) -> impl Iterator<Item = &String> {
        self.hosts.iter().filter(|h| is_worker(h))
    }

    fn height(&self) -> f64 {
        TOP + self.faults_height() + LANE * self.hosts.len() as f64 + 30.0
    }
}

/// A P2P agent's host: `a0`, `a12`, or a twin's `a3-twin`.
fn is_agent(host: &str) -> bool {
    let name = host.strip_suffix("-twin").unwrap_or(host);
    name.len() > 1 && name.starts_with('a') && name[1..].bytes().all(|b| b.is_ascii_digit())
}

/// Orders `w2` before `w10`, and a twin right after its sibling.
fn natural_key(host: &str) -> (String, usize, String, bool) {
    let name = host.strip_suffix("-twin").unwrap_or(host);
    let digits = name.trim_start_matches(|c: char| !c.is_ascii_digit());
    let prefix = name[..name.len() - digits.len()].to_owned();
    (prefix, digits.len(), digits.to_owned(), host.ends_with("-twin"))
}

fn is_worker(host: &str) -> bool {
    host.len() > 1 && host.starts_with('w') && host[1..].bytes().all(|b| b.is_ascii_digit())
}

fn timeline(events: &[TraceEvent], sim_ms: u64) -> String {
    let end_ms = events.iter().map(|e| e.at_ms).max().unwrap_or(0).max(sim_ms);
    let faults = fault_spans(events, end_ms);
    let layout = Layout::new(events, faults.iter().map(|f| f.row + 1).max().unwrap_or(1), end_ms);
    let height = layout.height();
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">"
    );
    let _ = write!(
        svg,
        "<rect data-lane=\"faults\" x=\"0\" y=\"{TOP}\" width=\"{WIDTH}\" height=\"{}\" fill=\"#fff4f4\"/>\
         <text x=\"6\" y=\"{}\" font-size=\"12\">faults</text>",
        layout.faults_height(),
        TOP + 15.0
    );
    for (index, host) in layout.hosts.iter().enumerate() {
        let top = layout.host_top(host).unwrap_or_default();
        let _ = write!(
            svg,
            "<rect data-lane=\"{host}\" x=\"0\" y=\"{top}\" width=\"{WIDTH}\" height=\"{LANE}\" fill=\"{}\"/>\
             <text x=\"6\" y=\"{}\" font-size=\"12\">{host}</text>",
            if index % 2 == 0 { "#f4f4f4" } else { "#fafafa" },
            top + 17.0,
            host = escape(host),
        );
    }
    // Time axis.
    let step_ms = [1_000u64, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000]
        .into_iter()
        .find(|s| layout.span_ms / *s as f64 <= 12.0)
        .unwrap_or(120_000);
    let mut tick = 0;
    while tick as f64 <= layout.span_ms {
        let _ = write!(
            svg,
            "<line x1=\"{0}\" x2=\"{0}\" y1=\"{TOP}\" y2=\"{1}\" stroke=\"#ddd\"/><text x=\"{0}\" y=\"{2}\" font-size=\"11\" fill=\"#666\">{3}s</text>",
            layout.x(tick),
            height - 20.0,
            height - 6.0,
            tick / 1000
        );
        tick += step_ms;
    }
    for (index, fault) in faults.iter().enumerate() {
        draw_fault(&mut svg, &layout, index, fault);
    }
    let restarts: BTreeSet<usize> = faults.iter().filter_map(|f| f.restart.map(|(index, _)| index)).collect();
    let llm_tasks = llm_tasks(events);
    let messages = events.iter().filter(|e| e.is_message()).count();
    let thin = messages.div_ceil(TIMELINE_MARKS_MAX).max(1);
    let mut message_index = 0usize;
    for (index, event) in events.iter().enumerate() {
        if matches!(event.what, Happening::Liveness) {
            let _ = write!(
                svg,
                "<line class=\"heal\" x1=\"{0}\" x2=\"{0}\" y1=\"{TOP}\" y2=\"{1}\" stroke=\"#0a8f3c\" stroke-dasharray=\"4 3\"><title>{2}</title></line>",
                layout.x(event.at_ms),
                height - 20.0,
                escape(&describe(event, None).sentence)
            );
            continue;
        }
        if restarts.contains(&index) {
            continue;
        }
        let Some(top) = layout.host_top(&event.host) else { continue };
        if event.is_message() {
            message_index += 1;
            if !message_index.is_multiple_of(thin) {
                continue;
            }
        }
        let described = describe(event, llm_tasks.get(&index).map(String::as_str));
        if let Some(mark) = mark(event, layout.x(event.at_ms), top, &described) {
            svg.push_str(&mark);
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The SVG mark of one event at `cx` on the lane starting at `top`, if it has one.
fn mark(event: &TraceEvent, cx: f64, top: f64, described: &Described) -> Option<String> {
    let title = format!("<title>{}</title>", escape(&described.sentence));
    let attributes = match &described.task {
        Some(task) => format!("class=\"mark\" data-task=\"{}\"", escape(task)),
        None => "class=\"mark\"".to_owned(),
    };
    let mark = match event.kind() {
        "send" => format!(
            "<line {attributes} x1=\"{cx}\" x2=\"{cx}\" y1=\"{}\" y2=\"{}\" stroke=\"#999\">{title}</line>",
            top + 3.0,
            top + 10.0
        ),
        "recv" => format!(
            "<line {attributes} x1=\"{cx}\" x2=\"{cx}\" y1=\"{}\" y2=\"{}\" stroke=\"#2a7d2a\">{title}</line>",
            top + 10.0,
            top + 17.0
        ),
        "drop" => format!(
            "<text {attributes} x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#d00\">&#215;{title}</text>",
            cx - 3.0,
            top + 22.0
        ),
        "llm" => {
            let answered = matches!(event.what, Happening::Llm { reply: LlmReply::Ok { .. } });
            let colour = if answered { "#7b3fb5" } else { "#e07b00" };
            format!("<circle {attributes} cx=\"{cx}\" cy=\"{}\" r=\"3\" fill=\"{colour}\">{title}</circle>", top + 13.0)
        }
        "result" => {
            format!("<path {attributes} d=\"M{cx} {} l5 6 l-5 6 l-5 -6 z\" fill=\"#1f5fbf\">{title}</path>", top + 7.0)
        }
        "twin" | "push" => {
            format!("<path {attributes} d=\"M{cx} {} l5 9 h-10 z\" fill=\"#c0c\">{title}</path>", top + 8.0)
        }
        "proposed" => format!(
            "<rect {attributes} x=\"{}\" y=\"{}\" width=\"6\" height=\"6\" fill=\"#1f8f8f\">{title}</rect>",
            cx - 3.0,
            top + 2.0
        ),
        "voted" => format!(
            "<line {attributes} x1=\"{cx}\" x2=\"{cx}\" y1=\"{}\" y2=\"{}\" stroke=\"#6aa6a6\">{title}</line>",
            top + 9.0,
            top + 15.0
        ),
        "view_timeout" => format!(
            "<text {attributes} x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#e07b00\">&#8635;{title}</text>",
            cx - 4.0,
            top + 12.0
        ),
        "committed" => {
            format!("<path {attributes} d=\"M{cx} {} l4 5 l-4 5 l-4 -5 z\" fill=\"#0a8f3c\">{title}</path>", top + 12.0)
        }
        "delegated" | "byzantine" => {
            let colour = if event.kind() == "byzantine" { "#d00" } else { "#7b3fb5" };
            format!("<path {attributes} d=\"M{cx} {} l5 9 h-10 z\" fill=\"{colour}\">{title}</path>", top + 8.0)
        }
        "start" | "stop" | "scale_up" | "scale_down" | "resubmit" | "refused" => format!(
            "<rect {attributes} x=\"{}\" y=\"{top}\" width=\"2\" height=\"{LANE}\" fill=\"#333\">{title}</rect>",
            cx - 1.0
        ),
        _ => return None,
    };
    Some(mark)
}

/// How a fault ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// Its own `end` event.
    Recorded,
    /// The network healed (the liveness phase began): every fault ended.
    Healed,
    /// Still on when the trace ends.
    RunEnd,
}

/// One fault as drawn.
#[derive(Debug)]
struct FaultSpan {
    fault: FaultKind,
    start_ms: u64,
    /// When the bar ends: the fault's end, or for a crash the host's restart.
    end_ms: u64,
    ending: Ending,
    /// For a crash: the index and time of the host's next `start` event.
    restart: Option<(usize, u64)>,
    /// Row in the faults area; faults that overlap in time never share one.
    row: usize,
}

impl FaultSpan {
    fn kind(&self) -> &'static str {
        self.fault.name()
    }

    /// The crashed host, for a crash.
    fn crashed_host(&self) -> Option<&str> {
        match &self.fault {
            FaultKind::Crash { host } => Some(host),
            _ => None,
        }
    }

    /// The hosts whose lanes the fault shades.
    fn hosts(&self, layout: &Layout) -> Vec<String> {
        let mut hosts = match &self.fault {
            FaultKind::Partition { left, right }
            | FaultKind::Hold { left, right }
            | FaultKind::Latency { left, right, .. } => [left.clone(), right.clone()].concat(),
            FaultKind::PartitionOneWay { from, to } => [from.clone(), to.clone()].concat(),
            FaultKind::Crash { host } => vec![host.clone()],
            FaultKind::LlmStorm { .. } => layout.workers().cloned().collect(),
        };
        hosts.sort();
        hosts.dedup();
        hosts
    }

    /// Hover text: what the fault is, when, for how long.
    fn sentence(&self) -> String {
        let list = |hosts: &[String]| hosts.join(", ");
        let what = match &self.fault {
            FaultKind::Partition { left, right } => format!("partition between {} and {}", list(left), list(right)),
            FaultKind::PartitionOneWay { from, to } => format!("one-way partition from {} to {}", list(from), list(to)),
            FaultKind::Hold { left, right } => {
                format!("hold between {} and {} (messages wait, then all arrive)", list(left), list(right))
            }
            FaultKind::Crash { host } => format!("crash of {host}"),
            FaultKind::Latency { left, right, latency_ms } => {
                format!("latency of up to {latency_ms} ms between {} and {}", list(left), list(right))
            }
            FaultKind::LlmStorm { error_rate } => {
                format!("LLM storm ({:.0}% of model calls rate limited)", error_rate * 100.0)
            }
        };
        let lasts = seconds(self.end_ms - self.start_ms);
        let how = match (self.restart, self.ending) {
            (Some((_, at_ms)), _) if at_ms <= self.end_ms => format!("lasts {lasts}, until the restart"),
            (_, Ending::Recorded) => format!("lasts {lasts}"),
            (_, Ending::Healed) => format!("lasts {lasts}, until the network heals"),
            (_, Ending::RunEnd) => format!("lasts {lasts}, still on when the run ends"),
        };
        format!("{}: {what} starts ({how})", seconds(self.start_ms))
    }
}

/// Pairs fault starts with their ends; a heal ends every open fault, the trace's end
/// ends the rest. A crash ends where its host records `start` again. Rows are given
/// greedily, so overlapping faults are stacked.
fn fault_spans(events: &[TraceEvent], end_ms: u64) -> Vec<FaultSpan> {
    let mut open: Vec<(usize, u64, &FaultKind)> = Vec::new();
    let mut closed: Vec<(usize, u64, &FaultKind, u64, Ending)> = Vec::new();
    for (index, event) in events.iter().enumerate() {
        match &event.what {
            Happening::Fault { start: true, fault } => open.push((index, event.at_ms, fault)),
            Happening::Fault { start: false, fault } => {
                if let Some(position) = open.iter().position(|(_, _, f)| *f == fault) {
                    let (start_index, start_ms, fault) = open.remove(position);
                    closed.push((start_index, start_ms, fault, event.at_ms, Ending::Recorded));
                }
            }
            Happening::Liveness => {
                closed.extend(open.drain(..).map(|(i, start_ms, f)| (i, start_ms, f, event.at_ms, Ending::Healed)));
            }
            _ => {}
        }
    }
    closed.extend(open.into_iter().map(|(i, start_ms, f)| (i, start_ms, f, end_ms, Ending::RunEnd)));
    closed.sort_by_key(|(index, ..)| *index);
    let mut row_ends: Vec<u64> = Vec::new();
    closed
        .into_iter()
        .map(|(start_index, start_ms, fault, end_ms, ending)| {
            let restart = match fault {
                FaultKind::Crash { host } => restart_of(events, start_index, host, fault),
                _ => None,
            };
            let end_ms = restart.map_or(end_ms, |(_, at_ms)| at_ms.min(end_ms)).max(start_ms);
            let row = match row_ends.iter().position(|&row_end| row_end <= start_ms) {
                Some(row) => row,
                None => {
                    row_ends.push(0);
                    row_ends.len() - 1
                }
            };
            // A zero-length fault still occupies its row for a moment.
            row_ends[row] = end_ms.max(start_ms + 1);
            FaultSpan { fault: fault.clone(), start_ms, end_ms, ending, restart, row }
        })
        .collect()
}

/// The host's first `start` after the crash that began at `start_index`, unless the
/// same crash begins again first.
fn restart_of(events: &[TraceEvent], start_index: usize, host: &str, crash: &FaultKind) -> Option<(usize, u64)> {
    for (index, event) in events.iter().enumerate().skip(start_index + 1) {
        if event.host == host && event.kind() == "start" {
            return Some((index, event.at_ms));
        }
        if matches!(&event.what, Happening::Fault { start: true, fault } if fault == crash) {
            return None;
        }
    }
    None
}

/// A fault: a bar on its row of the faults area, shading on the lanes of the hosts it
/// touches, and for a crash a mark where the host comes back.
fn draw_fault(svg: &mut String, layout: &Layout, index: usize, fault: &FaultSpan) {
    let kind = fault.kind();
    let (colour, opacity) = if kind == "crash" { ("#555", "0.6") } else { ("#f8c8c8", "0.45") };
    let left = layout.x(fault.start_ms);
    let width = (layout.x(fault.end_ms) - left).max(2.0);
    let title = format!("<title>{}</title>", escape(&fault.sentence()));
    let top = layout.fault_row_top(fault.row);
    // A long bar also names the hosts it touches.
    let label = if width > 160.0 { format!("{kind} {}", fault.hosts(layout).join(" ")) } else { kind.to_owned() };
    let _ = write!(
        svg,
        "<rect class=\"fault-bar\" data-fault=\"{index}\" data-kind=\"{kind}\" x=\"{left}\" y=\"{top}\" width=\"{width}\" \
         height=\"{}\" fill=\"{colour}\" opacity=\"0.9\">{title}</rect>\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"{}\" pointer-events=\"none\">{}</text>",
        FAULT_ROW - 4.0,
        left + 2.0,
        top + 10.0,
        if kind == "crash" { "#fff" } else { "#222" },
        escape(&label),
        kind = escape(kind),
    );
    for host in fault.hosts(layout) {
        if let Some(lane) = layout.host_top(&host) {
            let _ = write!(
                svg,
                "<rect class=\"shade\" data-fault=\"{index}\" data-host=\"{host}\" x=\"{left}\" y=\"{lane}\" width=\"{width}\" \
                 height=\"{LANE}\" fill=\"{colour}\" opacity=\"{opacity}\">{title}</rect>",
                host = escape(&host)
            );
        }
    }
    if let Some((_, at_ms)) = fault.restart
        && let Some(host) = fault.crashed_host()
        && let Some(lane) = layout.host_top(host)
    {
        let cx = layout.x(at_ms);
        let title = format!(
            "<title>{}: {host} restarts after its crash at {} (down {})</title>",
            seconds(at_ms),
            seconds(fault.start_ms),
            seconds(at_ms.saturating_sub(fault.start_ms)),
            host = escape(host)
        );
        let _ = write!(
            svg,
            "<rect class=\"restart\" data-fault=\"{index}\" data-host=\"{host}\" x=\"{}\" y=\"{lane}\" width=\"3\" \
             height=\"{LANE}\" fill=\"#0a8f3c\">{title}</rect>\
             <text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#0a8f3c\" pointer-events=\"none\">restart</text>",
            cx - 1.5,
            cx + 3.0,
            lane + 10.0,
            host = escape(host)
        );
    }
}

/// Simulated time as seconds with one decimal: `12.4 s`.
fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// An event in words, and the task it concerns if any.
#[derive(Debug, PartialEq)]
struct Described {
    sentence: String,
    task: Option<String>,
}

/// Hover text for an event: a sentence per kind the hosts record.
/// `llm_task` is the task an LLM call was for, if known.
fn describe(event: &TraceEvent, llm_task: Option<&str>) -> Described {
    let host = event.host.as_str();
    let task = |task: &quorum_core::TaskId| Some(task.to_string());
    let (text, about): (String, Option<String>) = match &event.what {
        Happening::Submit { task: id } => (format!("the client submits {id}"), task(id)),
        Happening::Poll { task: id } => (format!("the client asks for the result of {id}"), task(id)),
        Happening::Send { to, request } => {
            (format!("{host} asks {to} {}", request_words(request)), request.task().cloned().map(|t| t.to_string()))
        }
        Happening::Recv { from, reply } => match reply {
            Reply::Answer { task: id, attempt, text } => {
                (format!("{from} answers {id} (attempt {attempt}): \"{}\"", shorten(text)), task(id))
            }
            Reply::Heartbeat { load } => (format!("{from} replies to the heartbeat (load {load})"), None),
            Reply::Cancelled => (format!("{from} confirms the cancel"), None),
            Reply::Failed { error } => (format!("{from} could not answer: {error}"), None),
        },
        Happening::Drop { to, request, error } => (
            format!("{host} asked {to} {}, but got no reply: {error}", request_words(request)),
            request.task().map(ToString::to_string),
        ),
        Happening::Llm { reply } => {
            let about = llm_task.map(|task| format!(" about {task}")).unwrap_or_default();
            let how = match reply {
                LlmReply::Truncated => "the reply was cut off".to_owned(),
                LlmReply::Error { error } => format!("the call failed ({error})"),
                LlmReply::Ok { text } => match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(reply) if reply["answer"].is_string() => {
                        let answer = format!("answered \"{}\"", shorten(reply["answer"].as_str().unwrap_or_default()));
                        match reply["confidence"].as_f64() {
                            Some(confidence) => format!("{answer} (confidence {confidence:.2})"),
                            None => answer,
                        }
                    }
                    _ => format!("replied \"{}\"", shorten(text)),
                },
            };
            (format!("{host} asked the model{about}: {how}"), llm_task.map(str::to_owned))
        }
        Happening::LlmCall { prompt_bytes } => {
            (format!("{host} calls the model ({prompt_bytes} bytes of prompt)"), None)
        }
        Happening::Result { task: id, outcome } => {
            let outcome = outcome_words(outcome);
            let who = if host == "client" { "the client receives the result of" } else { "the supervisor decides" };
            (format!("{who} {id}: {outcome}"), task(id))
        }
        Happening::Twin { task: id, attempt, text } => {
            (format!("a twin of {host} sends a conflicting answer to {id} (attempt {attempt}): \"{text}\""), task(id))
        }
        Happening::Push { task: id, attempt, text } => {
            (format!("{host} pushes an answer to {id} (attempt {attempt}): \"{}\"", shorten(text)), task(id))
        }
        Happening::SupervisorStart => ("the supervisor starts".to_owned(), None),
        Happening::Recovered { finished, unfinished } => (
            format!("the supervisor reads its journal: {finished} finished task(s) answer again, {unfinished} go on"),
            None,
        ),
        Happening::WorkerStart => (format!("{host} starts serving"), None),
        Happening::WorkerStop => (format!("{host} stops: worker released"), None),
        Happening::ScaleUp { started } if started.is_empty() => {
            ("the supervisor tries to scale up but starts no worker".to_owned(), None)
        }
        Happening::ScaleUp { started } => (format!("the supervisor scales up, starting {}", started.join(", ")), None),
        Happening::ScaleDown { worker } => (format!("the supervisor scales down, releasing {worker}"), None),
        Happening::Resubmit { task: id } => {
            (format!("the supervisor did not know {id}; the client submits it again"), task(id))
        }
        Happening::Refused { task: id, reason } => (format!("the supervisor refuses {id}: {reason}"), task(id)),
        Happening::Delivered { worker, task: id, attempt } => {
            (format!("the supervisor takes an answer pushed by {worker} for {id} (attempt {attempt})"), task(id))
        }
        Happening::BadFrame { error } => (format!("{host} received a malformed message: {error}"), None),
        Happening::ClientDone { results } => (format!("the client is done: {results} results"), None),
        Happening::Liveness => ("the faults end and the network heals: the liveness phase begins".to_owned(), None),
        Happening::End { violations } => (format!("the run ends: {violations} violations"), None),
        Happening::Fault { start, fault } => {
            let verb = if *start { "starts" } else { "ends" };
            (format!("fault {} {verb}", fault.name()), None)
        }
        Happening::AgentStart { restored: false } => (format!("agent {host} starts"), None),
        Happening::AgentStart { restored: true } => {
            (format!("agent {host} restarts from its persisted safety state"), None)
        }
        Happening::Proposed { view, height, block, task: id } => {
            let carrying = id.as_ref().map_or_else(|| "no task".to_owned(), |id| format!("task {id}"));
            (
                format!("{host} leads view {view}: proposes block {block} at height {height} with {carrying}"),
                id.as_ref().and_then(task),
            )
        }
        Happening::Voted { view, block } => (format!("{host} votes for block {block} of view {view}"), None),
        Happening::ViewTimeout { view } => (format!("{host} times out of view {view} and sends NEW-VIEW"), None),
        Happening::Committed { height, view, at_view, block, task: id, outcome } => (
            format!(
                "{host} commits block {block} (height {height}, view {view}, {} view(s) later): {id} {}",
                at_view.saturating_sub(*view),
                outcome_words(outcome)
            ),
            task(id),
        ),
        Happening::Delegated { task: id, subtasks } => {
            (format!("{host} follows the committed plan: {id} is split into {subtasks} subtasks"), task(id))
        }
        Happening::Byzantine { act } => (format!("byzantine {host}: {act}"), None),
    };
    Described { sentence: format!("{}: {text}", seconds(event.at_ms)), task: about }
}

/// An outcome in words.
fn outcome_words(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Agreed { answer, support, .. } => format!("agreed on \"{}\" (support {support:.3})", shorten(answer)),
        Outcome::NoConsensus { reason, .. } => format!("no consensus ({reason:?})"),
        Outcome::Failed { reason } => format!("failed ({reason:?})"),
    }
}

/// A request as words after "asks w1".
fn request_words(request: &Request) -> String {
    match request {
        Request::Execute { task, attempt } => format!("to answer {task} (attempt {attempt})"),
        Request::Heartbeat => "for a heartbeat".to_owned(),
        Request::Cancel { task } => format!("to cancel {task}"),
    }
}

/// Long answers are cut for hover text.
fn shorten(text: &str) -> String {
    const CHARACTERS_MAX: usize = 160;
    if text.chars().count() <= CHARACTERS_MAX {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(CHARACTERS_MAX).collect();
    short.push('…');
    short
}

/// An LLM call made while its worker had several tasks in flight.
struct PendingCall<'a> {
    /// The call's event.
    index: usize,
    /// The tasks it may have been for.
    candidates: Vec<&'a str>,
    /// The model's answer, to match against the worker's next answers.
    answer: Option<String>,
}

/// Which task each LLM call was for (event index to task), as far as the trace tells:
/// a worker's calls belong to the tasks the supervisor has asked it to answer and it
/// has not answered yet; with several such tasks, the one it then answers with the
/// model's answer.
fn llm_tasks(events: &[TraceEvent]) -> BTreeMap<usize, String> {
    let mut asked: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    // Per worker: calls not yet attributed, with their candidate tasks and answer.
    let mut pending: BTreeMap<&str, Vec<PendingCall<'_>>> = BTreeMap::new();
    let mut tasks = BTreeMap::new();
    for (index, event) in events.iter().enumerate() {
        match &event.what {
            Happening::Send { to, request: Request::Execute { task, .. } } => {
                let in_flight = asked.entry(to.as_str()).or_default();
                if !in_flight.contains(&task.as_str()) {
                    in_flight.push(task.as_str());
                }
            }
            Happening::Send { to, request: Request::Cancel { task } }
            | Happening::Drop { to, request: Request::Execute { task, .. }, .. } => {
                asked.entry(to.as_str()).or_default().retain(|t| *t != task.as_str());
            }
            Happening::Recv { from, reply: Reply::Answer { task, text, .. } } => {
                let (worker, task) = (from.as_str(), task.as_str());
                if let Some(calls) = pending.get_mut(worker) {
                    calls.retain(|call| {
                        let matches = call.candidates.contains(&task) && call.answer.as_deref() == Some(text.as_str());
                        if matches {
                            tasks.insert(call.index, task.to_owned());
                        }
                        !matches && call.candidates.iter().any(|t| *t != task)
                    });
                }
                asked.entry(worker).or_default().retain(|t| *t != task);
            }
            Happening::WorkerStart | Happening::SupervisorStart => {
                asked.remove(event.host.as_str());
                pending.remove(event.host.as_str());
            }
            Happening::Llm { reply } => {
                let candidates = asked.get(event.host.as_str()).cloned().unwrap_or_default();
                if let [task] = candidates.as_slice() {
                    tasks.insert(index, (*task).to_owned());
                } else if candidates.len() > 1 {
                    let answer = match reply {
                        LlmReply::Ok { text } => serde_json::from_str::<serde_json::Value>(text)
                            .ok()
                            .and_then(|reply| reply["answer"].as_str().map(str::to_owned)),
                        LlmReply::Truncated | LlmReply::Error { .. } => None,
                    };
                    pending.entry(event.host.as_str()).or_default().push(PendingCall { index, candidates, answer });
                }
            }
            _ => {}
        }
    }
    tasks
}

fn task_table(scenario: &Scenario, outcome: &RunOutcome) -> String {
    let workload = generate(outcome.seed, &scenario.cluster.workload);
    let mut html = String::from(
        "<table><tr><th>task</th><th>question</th><th>ground truth</th><th>outcome</th><th>answer</th><th>support / margin / threshold</th>\
         <th>votes</th><th>alternatives</th><th>rounds</th><th>latency</th></tr>",
    );
    for planned in &workload.tasks {
        let result = outcome.results.get(&planned.task.id).and_then(|r| r.result.as_ref());
        let truth = planned.task.ground_truth.clone().unwrap_or_default();
        let _ = write!(
            html,
            "<tr id=\"task-{id}\" data-task=\"{id}\"><td>{id}</td><td>{}</td><td>{}</td>",
            escape(&planned.task.text),
            escape(&truth),
            id = escape(planned.task.id.as_str()),
        );
        match result {
            None => html.push_str(
                "<td class=\"failed\">no result</td><td></td><td></td><td></td><td></td><td></td><td></td></tr>",
            ),
            Some(result) => row(&mut html, result, &planned.task.text, &workload.truths),
        }
    }
    html.push_str("</table>");
    html
}

fn row(html: &mut String, result: &TaskResult, text: &str, truths: &quorum_core::mock::workload::TruthBook) {
    let (class, label, answer, numbers) = match &result.outcome {
        Outcome::Agreed { answer, support, margin, .. } => {
            ("agreed", "agreed".to_owned(), answer.clone(), format!("{support:.3} / {margin:.3}"))
        }
        Outcome::NoConsensus { reason, support, margin } => {
            ("no_consensus", format!("no consensus ({reason:?})"), String::new(), format!("{support:.3} / {margin:.3}"))
        }
        Outcome::Failed { reason } => ("failed", format!("failed ({reason:?})"), String::new(), String::new()),
    };
    let wrong = result
        .answer()
        .is_some_and(|answer| truths.get(text).is_some_and(|truth| !quorum_sim::is_correct(answer, truth)));
    let mut votes = String::from("<ul class=\"votes\">");
    for vote in &result.metadata.votes {
        let _ = write!(
            votes,
            "<li>{}: &ldquo;{}&rdquo; (confidence {:.2}, power {:.2})</li>",
            escape(vote.worker.as_str()),
            escape(&vote.text),
            vote.confidence,
            vote.power
        );
    }
    for failure in &result.metadata.failures {
        let _ = write!(
            votes,
            "<li class=\"failed\">{}: {}</li>",
            escape(failure.worker.as_str()),
            escape(&failure.error.to_string())
        );
    }
    votes.push_str("</ul>");
    let mut alternatives = String::from("<ul class=\"votes\">");
    for group in &result.alternatives {
        let members: Vec<&str> = group.members.iter().map(|m| m.as_str()).collect();
        let _ = write!(
            alternatives,
            "<li>&ldquo;{}&rdquo; {:.3} by {}</li>",
            escape(&group.representative),
            group.support,
            escape(&members.join(", "))
        );
    }
    alternatives.push_str("</ul>");
    let _ = write!(
        html,
        "<td class=\"{class}\">{}</td><td{}>{}</td><td>{numbers} / {:.3}</td><td>{votes}</td><td>{alternatives}</td><td>{}</td><td>{} ms</td></tr>",
        escape(&label),
        if wrong { " class=\"wrong\"" } else { "" },
        escape(&answer),
        result.metadata.threshold,
        result.metadata.rounds,
        result.latency_ms()
    );
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use quorum_core::consensus::NoConsensusReason;
    use quorum_core::{FailureReason, TaskId, WorkerId};

    use super::*;
    use crate::catalogue::find;
    use crate::runner::run_scenario;

    #[test]
    fn the_report_is_self_contained_and_shows_every_host_and_task() {
        let scenario = find("worker-crash").unwrap();
        let (run, outcome) =
            run_scenario(&scenario, 3, &crate::runner::Invocation::catalogue(), quorum_sim::RunBudget::default())
                .unwrap();
        let html = render_report(&scenario, &run, &outcome);
        assert!(html.starts_with("<!DOCTYPE html>"));
        for external in ["http://", "https://", "<script src", "<link"] {
            let outside_svg_namespace = html.replace("http://www.w3.org/2000/svg", "");
            assert!(!outside_svg_namespace.contains(external), "fetches {external}");
        }
        for lane in ["supervisor", "w1", "w5", "client", "faults"] {
            assert!(html.contains(&format!(">{lane}</text>")), "lane {lane}");
        }
        assert!(html.contains("crash"), "the crash is drawn");
        assert_eq!(html.matches("<tr id=\"task-").count(), run.tasks, "a row per task");
    }

    #[test]
    fn a_p2p_report_has_a_lane_per_agent_and_shows_proposals_votes_timeouts_and_commits() {
        let scenario = find("p2p-leader-crash").unwrap();
        let (run, outcome) =
            run_scenario(&scenario, 2, &crate::runner::Invocation::catalogue(), quorum_sim::RunBudget::default())
                .unwrap();
        let html = render_report(&scenario, &run, &outcome);
        for lane in ["a0", "a1", "a2", "a3", "client"] {
            assert!(html.contains(&format!(">{lane}</text>")), "lane {lane}");
        }
        assert!(!html.contains(">supervisor</text>"), "P2P mode has no supervisor lane");
        for sentence in ["proposes block", "votes for block", "times out of view", "commits block"] {
            assert!(html.contains(sentence), "no mark reads {sentence:?}");
        }
        assert_eq!(html.matches("<tr id=\"task-").count(), run.tasks, "a row per task");
    }

    #[test]
    fn twins_sit_right_after_their_sibling() {
        let mut hosts = vec!["a10", "a3-twin", "a2", "a3", "w1"];
        hosts.sort_by_key(|host| natural_key(host));
        assert_eq!(hosts, vec!["a2", "a3", "a3-twin", "a10", "w1"]);
    }

    fn event(at_ms: u64, host: &str, what: Happening) -> TraceEvent {
        TraceEvent { at_ms, host: host.to_owned(), what }
    }

    /// A fault starting or ending, the fault written as in a scenario file.
    fn fault(at_ms: u64, start: bool, kind: &str) -> TraceEvent {
        event(at_ms, "sim", Happening::Fault { start, fault: serde_json::from_str(kind).unwrap() })
    }

    fn end(at_ms: u64) -> TraceEvent {
        event(at_ms, "sim", Happening::End { violations: 0 })
    }

    fn worker_start(at_ms: u64, host: &str) -> TraceEvent {
        event(at_ms, host, Happening::WorkerStart)
    }

    const CRASH_W1: &str = r#"{"kind":"crash","host":"w1"}"#;
    const PARTITION: &str = r#"{"kind":"partition","left":["supervisor"],"right":["w1","w2"]}"#;

    fn hosts_up() -> Vec<TraceEvent> {
        let mut events = vec![event(0, "supervisor", Happening::SupervisorStart)];
        events.extend(["w1", "w2", "w3"].iter().map(|h| worker_start(0, h)));
        events
    }

    #[test]
    fn a_crash_ends_where_its_host_restarts() {
        let mut events = hosts_up();
        events.push(fault(1_000, true, CRASH_W1));
        events.push(fault(4_000, false, CRASH_W1));
        events.push(worker_start(4_000, "w1"));
        events.push(end(10_000));
        let spans = fault_spans(&events, 10_000);
        assert_eq!(spans.len(), 1);
        assert_eq!((spans[0].start_ms, spans[0].end_ms, spans[0].restart), (1_000, 4_000, Some((6, 4_000))));
        assert_eq!(spans[0].sentence(), "1.0 s: crash of w1 starts (lasts 3.0 s, until the restart)");
        let svg = timeline(&events, 10_000);
        assert!(svg.contains("class=\"restart\" data-fault=\"0\" data-host=\"w1\""), "the restart is drawn");
        assert!(svg.contains(">restart</text>"), "and labelled");
        assert!(svg.contains("<title>4.0 s: w1 restarts after its crash at 1.0 s (down 3.0 s)</title>"));
        // The restart's `start` event is drawn once, as the restart.
        assert!(!svg.contains("4.0 s: w1 starts serving"));
        assert!(svg.contains("0.0 s: w1 starts serving"));
    }

    #[test]
    fn a_crash_ends_at_the_restart_even_without_an_end_event() {
        let mut events = hosts_up();
        events.push(fault(1_000, true, CRASH_W1));
        events.push(worker_start(2_500, "w1"));
        events.push(end(10_000));
        let spans = fault_spans(&events, 10_000);
        assert_eq!((spans[0].end_ms, spans[0].restart), (2_500, Some((5, 2_500))));
        assert_eq!(spans[0].sentence(), "1.0 s: crash of w1 starts (lasts 1.5 s, until the restart)");
        // A second crash of the same host that never ends does not borrow a restart
        // from before it.
        events.insert(6, fault(3_000, true, CRASH_W1));
        let spans = fault_spans(&events, 10_000);
        assert_eq!((spans[1].start_ms, spans[1].end_ms, spans[1].restart), (3_000, 10_000, None));
    }

    #[test]
    fn a_crash_the_host_never_comes_back_from_lasts_to_the_end_of_the_trace() {
        let mut events = hosts_up();
        events.push(fault(1_000, true, CRASH_W1));
        events.push(worker_start(9_000, "w2"));
        events.push(end(12_000));
        let spans = fault_spans(&events, 12_000);
        assert_eq!((spans[0].end_ms, spans[0].restart, spans[0].ending), (12_000, None, Ending::RunEnd));
        assert!(spans[0].sentence().ends_with("(lasts 11.0 s, still on when the run ends)"));
        assert!(!timeline(&events, 12_000).contains("class=\"restart\""));
    }

    #[test]
    fn the_liveness_phase_ends_every_open_fault() {
        let mut events = hosts_up();
        events.push(fault(1_000, true, PARTITION));
        events.push(fault(2_000, true, r#"{"kind":"llm_storm","error_rate":0.5}"#));
        events.push(event(5_000, "sim", Happening::Liveness));
        events.push(end(9_000));
        let spans = fault_spans(&events, 9_000);
        assert_eq!(spans.iter().map(|s| (s.end_ms, s.ending)).collect::<Vec<_>>(), [(5_000, Ending::Healed); 2]);
    }

    #[test]
    fn overlapping_faults_get_rows_of_their_own_and_the_area_grows() {
        let mut events = hosts_up();
        let storm = r#"{"kind":"llm_storm","error_rate":0.5}"#;
        for (at_ms, start, kind) in [
            (1_000, true, PARTITION),
            (2_000, true, storm),
            (3_000, false, PARTITION),
            (3_500, true, CRASH_W1),
            (4_000, false, storm),
            (5_000, false, CRASH_W1),
            (6_000, true, PARTITION),
            (7_000, false, PARTITION),
        ] {
            events.push(fault(at_ms, start, kind));
        }
        let spans = fault_spans(&events, 8_000);
        assert_eq!(spans.iter().map(|s| s.row).collect::<Vec<_>>(), [0, 1, 0, 0]);
        let one_row = Layout::new(&events, 1, 8_000);
        let two_rows = Layout::new(&events, 2, 8_000);
        assert!(two_rows.host_top("supervisor").unwrap() >= one_row.host_top("supervisor").unwrap() + FAULT_ROW);
        assert!(two_rows.fault_row_top(1) + FAULT_ROW <= two_rows.host_top("supervisor").unwrap() + 4.0);
        let svg = timeline(&events, 8_000);
        let tops: Vec<&str> = svg
            .split("<rect class=\"fault-bar\"")
            .skip(1)
            .map(|bar| bar.split("y=\"").nth(1).unwrap().split('"').next().unwrap())
            .collect();
        assert_eq!(tops.len(), 4);
        assert_ne!(tops[0], tops[1], "the storm overlaps the partition: another row");
        assert_eq!(tops[0], tops[2]);
    }

    #[test]
    fn faults_shade_only_the_lanes_of_their_hosts() {
        let events = hosts_up();
        let layout = Layout::new(&events, 1, 1_000);
        let span = |fault: &str| FaultSpan {
            fault: serde_json::from_str(fault).unwrap(),
            start_ms: 0,
            end_ms: 1,
            ending: Ending::Recorded,
            restart: None,
            row: 0,
        };
        for (fault, hosts) in [
            (PARTITION, &["supervisor", "w1", "w2"][..]),
            (r#"{"kind":"partition_one_way","from":["w3"],"to":["supervisor"]}"#, &["supervisor", "w3"]),
            (r#"{"kind":"hold","left":["w2"],"right":["w3"]}"#, &["w2", "w3"]),
            (CRASH_W1, &["w1"]),
            (r#"{"kind":"latency","left":["w1"],"right":["w3"],"latency_ms":2000}"#, &["w1", "w3"]),
            (r#"{"kind":"llm_storm","error_rate":0.7}"#, &["w1", "w2", "w3"]),
        ] {
            assert_eq!(span(fault).hosts(&layout), hosts, "{fault}");
        }
        let mut events = events;
        events.push(fault(100, true, PARTITION));
        let svg = timeline(&events, 1_000);
        let shaded: Vec<&str> = svg
            .split("<rect class=\"shade\"")
            .skip(1)
            .map(|shade| shade.split("data-host=\"").nth(1).unwrap().split('"').next().unwrap())
            .collect();
        assert_eq!(shaded, ["supervisor", "w1", "w2"]);
    }

    #[test]
    fn hover_text_is_a_sentence_per_kind() {
        let (w2, t004) = (WorkerId::new("w2"), TaskId::new("t004"));
        let execute = Request::Execute { task: t004.clone(), attempt: 1 };
        let send = |request: Request| event(3_100, "supervisor", Happening::Send { to: w2.clone(), request });
        let recv = |reply: Reply| event(3_100, "supervisor", Happening::Recv { from: w2.clone(), reply });
        let llm = |reply: LlmReply| event(3_100, "w2", Happening::Llm { reply });
        let ok = |text: &str| llm(LlmReply::Ok { text: text.to_owned() });
        let result =
            |host: &str, outcome: Outcome| event(3_100, host, Happening::Result { task: t004.clone(), outcome });
        let at = |host: &str, what: Happening| event(3_100, host, what);
        let cases = [
            (
                event(12_400, "sim", Happening::Liveness),
                "12.4 s: the faults end and the network heals: the liveness phase begins",
                None,
            ),
            (send(execute.clone()), "3.1 s: supervisor asks w2 to answer t004 (attempt 1)", Some("t004")),
            (send(Request::Heartbeat), "3.1 s: supervisor asks w2 for a heartbeat", None),
            (send(Request::Cancel { task: t004.clone() }), "3.1 s: supervisor asks w2 to cancel t004", Some("t004")),
            (at("client", Happening::Submit { task: t004.clone() }), "3.1 s: the client submits t004", Some("t004")),
            (
                at("client", Happening::Poll { task: t004.clone() }),
                "3.1 s: the client asks for the result of t004",
                Some("t004"),
            ),
            (
                recv(Reply::Answer { task: t004.clone(), attempt: 2, text: "Paris".to_owned() }),
                "3.1 s: w2 answers t004 (attempt 2): \"Paris\"",
                Some("t004"),
            ),
            (recv(Reply::Heartbeat { load: 3 }), "3.1 s: w2 replies to the heartbeat (load 3)", None),
            (recv(Reply::Cancelled), "3.1 s: w2 confirms the cancel", None),
            (
                recv(Reply::Failed { error: "model refused".to_owned() }),
                "3.1 s: w2 could not answer: model refused",
                None,
            ),
            (
                at(
                    "supervisor",
                    Happening::Drop { to: w2.clone(), request: execute, error: "worker unavailable".to_owned() },
                ),
                "3.1 s: supervisor asked w2 to answer t004 (attempt 1), but got no reply: worker unavailable",
                Some("t004"),
            ),
            (
                ok(r#"{"answer":"Paris","confidence":0.9}"#),
                "3.1 s: w2 asked the model about t004: answered \"Paris\" (confidence 0.90)",
                Some("t004"),
            ),
            (
                llm(LlmReply::Error { error: "rate limited".to_owned() }),
                "3.1 s: w2 asked the model about t004: the call failed (rate limited)",
                Some("t004"),
            ),
            (llm(LlmReply::Truncated), "3.1 s: w2 asked the model about t004: the reply was cut off", Some("t004")),
            (ok("néant"), "3.1 s: w2 asked the model about t004: replied \"néant\"", Some("t004")),
            (
                at("w2", Happening::LlmCall { prompt_bytes: 812 }),
                "3.1 s: w2 calls the model (812 bytes of prompt)",
                None,
            ),
            (
                result(
                    "supervisor",
                    Outcome::Agreed { answer: "Paris".to_owned(), support: 1.0, margin: 1.0, confidence: 0.9 },
                ),
                "3.1 s: the supervisor decides t004: agreed on \"Paris\" (support 1.000)",
                Some("t004"),
            ),
            (
                result(
                    "client",
                    Outcome::NoConsensus { reason: NoConsensusReason::BelowThreshold, support: 0.4, margin: 0.0 },
                ),
                "3.1 s: the client receives the result of t004: no consensus (BelowThreshold)",
                Some("t004"),
            ),
            (
                result("supervisor", Outcome::Failed { reason: FailureReason::ShutDown }),
                "3.1 s: the supervisor decides t004: failed (ShutDown)",
                Some("t004"),
            ),
            (
                at("w3", Happening::Twin { task: t004.clone(), attempt: 1, text: "TWIN".to_owned() }),
                "3.1 s: a twin of w3 sends a conflicting answer to t004 (attempt 1): \"TWIN\"",
                Some("t004"),
            ),
            (at("supervisor", Happening::SupervisorStart), "3.1 s: the supervisor starts", None),
            (at("w3", Happening::WorkerStart), "3.1 s: w3 starts serving", None),
            (at("w3", Happening::WorkerStop), "3.1 s: w3 stops: worker released", None),
            (
                at("supervisor", Happening::ScaleUp { started: vec!["w6".to_owned(), "w7".to_owned()] }),
                "3.1 s: the supervisor scales up, starting w6, w7",
                None,
            ),
            (
                at("supervisor", Happening::ScaleUp { started: Vec::new() }),
                "3.1 s: the supervisor tries to scale up but starts no worker",
                None,
            ),
            (
                at("supervisor", Happening::ScaleDown { worker: WorkerId::new("w6") }),
                "3.1 s: the supervisor scales down, releasing w6",
                None,
            ),
            (
                at("client", Happening::Resubmit { task: t004.clone() }),
                "3.1 s: the supervisor did not know t004; the client submits it again",
                Some("t004"),
            ),
            (
                at("client", Happening::Refused { task: t004.clone(), reason: "queue full".to_owned() }),
                "3.1 s: the supervisor refuses t004: queue full",
                Some("t004"),
            ),
            (
                at("supervisor", Happening::Delivered { worker: WorkerId::new("w3"), task: t004.clone(), attempt: 1 }),
                "3.1 s: the supervisor takes an answer pushed by w3 for t004 (attempt 1)",
                Some("t004"),
            ),
            (
                at("w3", Happening::BadFrame { error: "frame too long".to_owned() }),
                "3.1 s: w3 received a malformed message: frame too long",
                None,
            ),
            (at("client", Happening::ClientDone { results: 20 }), "3.1 s: the client is done: 20 results", None),
            (at("sim", Happening::End { violations: 0 }), "3.1 s: the run ends: 0 violations", None),
            (fault(3_100, false, CRASH_W1), "3.1 s: fault crash ends", None),
        ];
        for (event, sentence, task) in cases {
            let described = describe(&event, Some("t004"));
            assert_eq!(
                described,
                Described { sentence: sentence.to_owned(), task: task.map(str::to_owned) },
                "{event:?}"
            );
        }
        let unknown = describe(&llm(LlmReply::Truncated), None);
        assert_eq!(unknown.sentence, "3.1 s: w2 asked the model: the reply was cut off");
        assert_eq!(unknown.task, None);
    }

    #[test]
    fn llm_calls_are_tied_to_the_task_their_worker_was_answering() {
        let w1 = WorkerId::new("w1");
        let execute = |at_ms: u64, task: &str| {
            let request = Request::Execute { task: TaskId::new(task), attempt: 1 };
            event(at_ms, "supervisor", Happening::Send { to: w1.clone(), request })
        };
        let answer = |at_ms: u64, task: &str, text: &str| {
            let reply = Reply::Answer { task: TaskId::new(task), attempt: 1, text: text.to_owned() };
            event(at_ms, "supervisor", Happening::Recv { from: w1.clone(), reply })
        };
        let llm = |at_ms: u64, answer: &str| {
            let text = format!(r#"{{"answer":"{answer}"}}"#);
            event(at_ms, "w1", Happening::Llm { reply: LlmReply::Ok { text } })
        };
        let events = [
            execute(0, "t001"),
            llm(1, "Oslo"),
            answer(2, "t001", "Oslo"),
            execute(3, "t002"),
            execute(4, "t003"),
            llm(5, "Rome"),
            llm(6, "Lima"),
            answer(7, "t003", "Lima"),
            answer(8, "t002", "Rome"),
            event(9, "w1", Happening::Llm { reply: LlmReply::Truncated }),
        ];
        let tasks = llm_tasks(&events);
        let expected: BTreeMap<usize, String> =
            [(1, "t001"), (5, "t002"), (6, "t003")].into_iter().map(|(i, t)| (i, t.to_owned())).collect();
        assert_eq!(tasks, expected, "nothing in flight at 9: no task");
    }

    #[test]
    fn marks_of_a_task_point_at_its_row() {
        let scenario = find("worker-crash").unwrap();
        let (run, outcome) =
            run_scenario(&scenario, 3, &crate::runner::Invocation::catalogue(), quorum_sim::RunBudget::default())
                .unwrap();
        let html = render_report(&scenario, &run, &outcome);
        assert!(html.contains("<tr id=\"task-t000\" data-task=\"t000\">"));
        assert!(html.contains("class=\"mark\" data-task=\"t000\""));
        assert!(html.contains("<script>document.addEventListener('click'"));
        let titles: Vec<&str> = html.split("<title>").skip(2).map(|t| t.split("</title>").next().unwrap()).collect();
        assert!(titles.len() > 100);
        for title in titles {
            assert!(!title.contains('{') && !title.starts_with("at "), "raw hover text: {title}");
        }
    }

    #[test]
    fn escaping_neutralises_markup() {
        assert_eq!(escape("<b>\"x\" & 'y'</b>"), "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;");
    }
}
