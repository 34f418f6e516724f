//! `--report F.html`: one self-contained page (no network fetches) showing a run as a
//! timeline, one lane per host, and a table of tasks.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use quorum_core::{Outcome, TaskResult};
use quorum_sim::workload::generate;
use quorum_sim::{RunOutcome, TraceEvent};

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
    /// Hosts in display order: the supervisor, workers by number, the client.
    fn new(events: &[TraceEvent], fault_rows: usize, span_ms: u64) -> Self {
        let mut workers: Vec<String> = events.iter().map(|e| e.host.clone()).filter(|h| is_worker(h)).collect();
        workers.sort_by_key(|w| (w.len(), w.clone()));
        workers.dedup();
        let mut hosts = vec!["supervisor".to_owned()];
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
    let messages = events.iter().filter(|e| matches!(e.kind.as_str(), "send" | "recv" | "drop")).count();
    let thin = messages.div_ceil(TIMELINE_MARKS_MAX).max(1);
    let mut message_index = 0usize;
    for (index, event) in events.iter().enumerate() {
        if event.host == "sim" && matches!(event.kind.as_str(), "liveness" | "heal") {
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
        if matches!(event.kind.as_str(), "send" | "recv" | "drop") {
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
    let mark = match event.kind.as_str() {
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
            let colour = if event.detail.starts_with("ok") { "#7b3fb5" } else { "#e07b00" };
            format!("<circle {attributes} cx=\"{cx}\" cy=\"{}\" r=\"3\" fill=\"{colour}\">{title}</circle>", top + 13.0)
        }
        "result" => {
            format!("<path {attributes} d=\"M{cx} {} l5 6 l-5 6 l-5 -6 z\" fill=\"#1f5fbf\">{title}</path>", top + 7.0)
        }
        "twin" => format!("<path {attributes} d=\"M{cx} {} l5 9 h-10 z\" fill=\"#c0c\">{title}</path>", top + 8.0),
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
    /// The network healed (`liveness` or `heal`): every fault ended.
    Healed,
    /// Still on when the trace ends.
    RunEnd,
}

/// One fault as drawn.
#[derive(Debug)]
struct FaultSpan {
    /// The serialized `FaultKind`, parsed.
    fault: serde_json::Value,
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
    fn kind(&self) -> &str {
        self.fault["kind"].as_str().unwrap_or("fault")
    }

    /// The hosts whose lanes the fault shades.
    fn hosts(&self, layout: &Layout) -> Vec<String> {
        let names = |key: &str| -> Vec<String> {
            self.fault[key].as_array().into_iter().flatten().filter_map(|h| h.as_str().map(str::to_owned)).collect()
        };
        let mut hosts = match self.kind() {
            "partition" | "hold" | "latency" => [names("left"), names("right")].concat(),
            "partition_one_way" => [names("from"), names("to")].concat(),
            "crash" => self.fault["host"].as_str().map(str::to_owned).into_iter().collect(),
            "llm_storm" => layout.workers().cloned().collect(),
            _ => Vec::new(),
        };
        hosts.sort();
        hosts.dedup();
        hosts
    }

    /// Hover text: what the fault is, when, for how long.
    fn sentence(&self) -> String {
        let list = |key: &str| {
            let names: Vec<&str> =
                self.fault[key].as_array().into_iter().flatten().filter_map(|h| h.as_str()).collect();
            names.join(", ")
        };
        let what = match self.kind() {
            "partition" => format!("partition between {} and {}", list("left"), list("right")),
            "partition_one_way" => format!("one-way partition from {} to {}", list("from"), list("to")),
            "hold" => format!("hold between {} and {} (messages wait, then all arrive)", list("left"), list("right")),
            "crash" => format!("crash of {}", self.fault["host"].as_str().unwrap_or("a host")),
            "latency" => format!(
                "latency of up to {} ms between {} and {}",
                self.fault["latency_ms"].as_u64().unwrap_or(0),
                list("left"),
                list("right")
            ),
            "llm_storm" => format!(
                "LLM storm ({:.0}% of model calls rate limited)",
                self.fault["error_rate"].as_f64().unwrap_or(0.0) * 100.0
            ),
            other => format!("fault {other}"),
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
    let mut open: Vec<(usize, u64, String)> = Vec::new();
    let mut closed: Vec<(usize, u64, String, u64, Ending)> = Vec::new();
    for (index, event) in events.iter().enumerate().filter(|(_, e)| e.host == "sim") {
        match event.kind.as_str() {
            "fault" => {
                if let Some(fault) = event.detail.strip_prefix("start ") {
                    open.push((index, event.at_ms, fault.to_owned()));
                } else if let Some(fault) = event.detail.strip_prefix("end ")
                    && let Some(position) = open.iter().position(|(_, _, f)| f == fault)
                {
                    let (start_index, start_ms, fault) = open.remove(position);
                    closed.push((start_index, start_ms, fault, event.at_ms, Ending::Recorded));
                }
            }
            "liveness" | "heal" => {
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
        .map(|(start_index, start_ms, raw, end_ms, ending)| {
            let fault: serde_json::Value = serde_json::from_str(&raw).unwrap_or_default();
            let restart = match (fault["kind"].as_str(), fault["host"].as_str()) {
                (Some("crash"), Some(host)) => restart_of(events, start_index, host, &raw),
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
            FaultSpan { fault, start_ms, end_ms, ending, restart, row }
        })
        .collect()
}

/// The host's first `start` after the crash that began at `start_index`, unless the
/// same crash begins again first.
fn restart_of(events: &[TraceEvent], start_index: usize, host: &str, raw: &str) -> Option<(usize, u64)> {
    for (index, event) in events.iter().enumerate().skip(start_index + 1) {
        if event.host == host && event.kind == "start" {
            return Some((index, event.at_ms));
        }
        if event.host == "sim" && event.kind == "fault" && event.detail.strip_prefix("start ") == Some(raw) {
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
        && let Some(host) = fault.fault["host"].as_str()
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

/// Hover text for an event: a sentence per kind the hosts record, else
/// `at X s, HOST: KIND DETAIL`. `llm_task` is the task an LLM call was for, if known.
fn describe(event: &TraceEvent, llm_task: Option<&str>) -> Described {
    sentence(event, llm_task).unwrap_or_else(|| Described {
        sentence: format!("at {}, {}: {} {}", seconds(event.at_ms), event.host, event.kind, event.detail)
            .trim_end()
            .to_owned(),
        task: None,
    })
}

fn sentence(event: &TraceEvent, llm_task: Option<&str>) -> Option<Described> {
    let host = event.host.as_str();
    let detail = event.detail.as_str();
    let words: Vec<&str> = detail.split(' ').collect();
    let (text, task): (String, Option<&str>) = match (event.kind.as_str(), host) {
        ("send", "client") => match words.as_slice() {
            ["submit", task] => (format!("the client submits {task}"), Some(task)),
            ["poll", task] => (format!("the client asks for the result of {task}"), Some(task)),
            _ => return None,
        },
        ("send", _) => {
            let (worker, request) = detail.split_once(' ')?;
            let (what, task) = request_words(request)?;
            (format!("{host} asks {worker} {what}"), task)
        }
        ("recv", _) => {
            let (worker, response) = detail.split_once(' ')?;
            match response.split(' ').collect::<Vec<_>>().as_slice() {
                ["answer", task, attempt, ..] => {
                    let text = unquote(response.splitn(4, ' ').nth(3)?)?;
                    (
                        format!(
                            "{worker} answers {task} (attempt {}): \"{}\"",
                            attempt.strip_prefix('#')?,
                            shorten(&text)
                        ),
                        Some(*task),
                    )
                }
                ["heartbeat", "load", load] => (format!("{worker} replies to the heartbeat (load {load})"), None),
                ["cancelled"] => (format!("{worker} confirms the cancel"), None),
                _ => {
                    let error = response.strip_prefix("failed: ")?;
                    (format!("{worker} could not answer: {error}"), None)
                }
            }
        }
        ("drop", _) => {
            let (worker, rest) = detail.split_once(' ')?;
            let (request, error) = rest.split_once(": ")?;
            let (what, task) = request_words(request)?;
            (format!("{host} asked {worker} {what}, but got no reply: {error}"), task)
        }
        ("llm", _) => {
            let about = llm_task.map(|task| format!(" about {task}")).unwrap_or_default();
            let how = if detail == "truncated" {
                "the reply was cut off".to_owned()
            } else if let Some(error) = detail.strip_prefix("error ") {
                format!("the call failed ({error})")
            } else {
                let text = unquote(detail.strip_prefix("ok ")?)?;
                match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(reply) if reply["answer"].is_string() => {
                        let answer = format!("answered \"{}\"", shorten(reply["answer"].as_str().unwrap_or_default()));
                        match reply["confidence"].as_f64() {
                            Some(confidence) => format!("{answer} (confidence {confidence:.2})"),
                            None => answer,
                        }
                    }
                    _ => format!("replied \"{}\"", shorten(&text)),
                }
            };
            (format!("{host} asked the model{about}: {how}"), llm_task)
        }
        ("result", _) => {
            let (task, outcome) = detail.split_once(' ')?;
            let outcome = if let Some(rest) = outcome.strip_prefix("agreed ") {
                let (answer, support) = rest.rsplit_once(" support ")?;
                format!("agreed on \"{}\" (support {support})", shorten(&unquote(answer)?))
            } else if let Some(reason) = outcome.strip_prefix("no_consensus ") {
                format!("no consensus ({reason})")
            } else {
                format!("failed ({})", outcome.strip_prefix("failed ")?)
            };
            let who = if host == "client" { "the client receives the result of" } else { "the supervisor decides" };
            (format!("{who} {task}: {outcome}"), Some(task))
        }
        ("twin", _) => {
            let [task, attempt, ..] = words.as_slice() else { return None };
            let text = unquote(detail.splitn(3, ' ').nth(2)?)?;
            let attempt = attempt.strip_prefix('#')?;
            (
                format!("a twin of {host} sends a conflicting answer to {task} (attempt {attempt}): \"{text}\""),
                Some(task),
            )
        }
        ("start", "supervisor") => ("the supervisor starts".to_owned(), None),
        ("start", _) => (format!("{host} starts serving"), None),
        ("stop", _) => (format!("{host} stops: {detail}"), None),
        ("scale_up", _) if detail.is_empty() => {
            ("the supervisor tries to scale up but starts no worker".to_owned(), None)
        }
        ("scale_up", _) => (format!("the supervisor scales up, starting {}", words.join(", ")), None),
        ("scale_down", _) => (format!("the supervisor scales down, releasing {detail}"), None),
        ("resubmit", _) => (format!("the supervisor did not know {detail}; the client submits it again"), Some(detail)),
        ("refused", _) => {
            let (task, reason) = detail.split_once(": ")?;
            (format!("the supervisor refuses {task}: {reason}"), Some(task))
        }
        ("delivered", _) => {
            let [worker, task, attempt] = words.as_slice() else { return None };
            let attempt = attempt.strip_prefix('#')?;
            (format!("the supervisor takes an answer pushed by {worker} for {task} (attempt {attempt})"), Some(task))
        }
        ("bad_frame", _) => (format!("{host} received a malformed message: {detail}"), None),
        ("done", "client") => (format!("the client is done: {detail}"), None),
        ("liveness", "sim") => ("the faults end and the network heals: the liveness phase begins".to_owned(), None),
        ("heal", "sim") => ("the network heals: every fault ends".to_owned(), None),
        ("end", "sim") => (format!("the run ends: {detail}"), None),
        _ => return None,
    };
    Some(Described { sentence: format!("{}: {text}", seconds(event.at_ms)), task: task.map(str::to_owned) })
}

/// A request as `SimLink` labels it (`execute t004 #1`, `heartbeat`, `cancel t004`),
/// as words after "asks w1", and its task.
fn request_words(request: &str) -> Option<(String, Option<&str>)> {
    match request.split(' ').collect::<Vec<_>>().as_slice() {
        ["execute", task, attempt] => {
            Some((format!("to answer {task} (attempt {})", attempt.strip_prefix('#')?), Some(*task)))
        }
        ["heartbeat"] => Some(("for a heartbeat".to_owned(), None)),
        ["cancel", task] => Some((format!("to cancel {task}"), Some(*task))),
        _ => None,
    }
}

/// Undoes Rust's `{:?}` quoting of a string.
fn unquote(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut characters = inner.chars();
    while let Some(character) = characters.next() {
        if character != '\\' {
            out.push(character);
            continue;
        }
        match characters.next()? {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            '0' => out.push('\0'),
            'u' => {
                let hex: String = characters.by_ref().skip(1).take_while(|c| *c != '}').collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            other => out.push(other),
        }
    }
    Some(out)
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
        let words: Vec<&str> = event.detail.split(' ').collect();
        match (event.kind.as_str(), words.as_slice()) {
            ("send", [worker, "execute", task, _]) if event.host != "client" => {
                let in_flight = asked.entry(worker).or_default();
                if !in_flight.contains(task) {
                    in_flight.push(task);
                }
            }
            ("send", [worker, "cancel", task]) | ("drop", [worker, "execute", task, ..]) => {
                asked.entry(worker).or_default().retain(|t| t != task);
            }
            ("recv", [worker, "answer", task, ..]) => {
                let answer = unquote(event.detail.splitn(5, ' ').nth(4).unwrap_or_default());
                if let Some(calls) = pending.get_mut(worker) {
                    calls.retain(|call| {
                        let matches = call.candidates.contains(task) && call.answer.is_some() && call.answer == answer;
                        if matches {
                            tasks.insert(call.index, (*task).to_owned());
                        }
                        !matches && call.candidates.iter().any(|t| t != task)
                    });
                }
                asked.entry(worker).or_default().retain(|t| t != task);
            }
            ("start", _) => {
                asked.remove(event.host.as_str());
                pending.remove(event.host.as_str());
            }
            ("llm", _) => {
                let candidates = asked.get(event.host.as_str()).cloned().unwrap_or_default();
                if let [task] = candidates.as_slice() {
                    tasks.insert(index, (*task).to_owned());
                } else if candidates.len() > 1 {
                    let answer = event
                        .detail
                        .strip_prefix("ok ")
                        .and_then(unquote)
                        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
                        .and_then(|reply| reply["answer"].as_str().map(str::to_owned));
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

fn row(html: &mut String, result: &TaskResult, text: &str, truths: &quorum_sim::workload::TruthBook) {
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
        .is_some_and(|answer| truths.get(text).is_some_and(|truth| !quorum_sim::report::is_correct(answer, truth)));
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

    fn event(at_ms: u64, host: &str, kind: &str, detail: &str) -> TraceEvent {
        TraceEvent { at_ms, host: host.to_owned(), kind: kind.to_owned(), detail: detail.to_owned() }
    }

    const CRASH_W1: &str = r#"{"kind":"crash","host":"w1"}"#;
    const PARTITION: &str = r#"{"kind":"partition","left":["supervisor"],"right":["w1","w2"]}"#;

    fn hosts_up() -> Vec<TraceEvent> {
        ["supervisor", "w1", "w2", "w3"].iter().map(|h| event(0, h, "start", "up")).collect()
    }

    #[test]
    fn a_crash_ends_where_its_host_restarts() {
        let mut events = hosts_up();
        events.push(event(1_000, "sim", "fault", &format!("start {CRASH_W1}")));
        events.push(event(4_000, "sim", "fault", &format!("end {CRASH_W1}")));
        events.push(event(4_000, "w1", "start", "worker serving"));
        events.push(event(10_000, "sim", "end", "0 violations"));
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
        events.push(event(1_000, "sim", "fault", &format!("start {CRASH_W1}")));
        events.push(event(2_500, "w1", "start", "worker serving"));
        events.push(event(10_000, "sim", "end", "0 violations"));
        let spans = fault_spans(&events, 10_000);
        assert_eq!((spans[0].end_ms, spans[0].restart), (2_500, Some((5, 2_500))));
        assert_eq!(spans[0].sentence(), "1.0 s: crash of w1 starts (lasts 1.5 s, until the restart)");
        // A second crash of the same host that never ends does not borrow a restart
        // from before it.
        events.insert(6, event(3_000, "sim", "fault", &format!("start {CRASH_W1}")));
        let spans = fault_spans(&events, 10_000);
        assert_eq!((spans[1].start_ms, spans[1].end_ms, spans[1].restart), (3_000, 10_000, None));
    }

    #[test]
    fn a_crash_the_host_never_comes_back_from_lasts_to_the_end_of_the_trace() {
        let mut events = hosts_up();
        events.push(event(1_000, "sim", "fault", &format!("start {CRASH_W1}")));
        events.push(event(9_000, "w2", "start", "worker serving"));
        events.push(event(12_000, "sim", "end", "0 violations"));
        let spans = fault_spans(&events, 12_000);
        assert_eq!((spans[0].end_ms, spans[0].restart, spans[0].ending), (12_000, None, Ending::RunEnd));
        assert!(spans[0].sentence().ends_with("(lasts 11.0 s, still on when the run ends)"));
        assert!(!timeline(&events, 12_000).contains("class=\"restart\""));
    }

    #[test]
    fn liveness_and_heal_end_every_open_fault() {
        for heal in ["liveness", "heal"] {
            let mut events = hosts_up();
            events.push(event(1_000, "sim", "fault", &format!("start {PARTITION}")));
            events.push(event(2_000, "sim", "fault", r#"start {"kind":"llm_storm","error_rate":0.5}"#));
            events.push(event(5_000, "sim", heal, "faults end, network heals"));
            events.push(event(9_000, "sim", "end", "0 violations"));
            let spans = fault_spans(&events, 9_000);
            assert_eq!(spans.iter().map(|s| (s.end_ms, s.ending)).collect::<Vec<_>>(), [(5_000, Ending::Healed); 2]);
        }
    }

    #[test]
    fn overlapping_faults_get_rows_of_their_own_and_the_area_grows() {
        let mut events = hosts_up();
        let storm = r#"{"kind":"llm_storm","error_rate":0.5}"#;
        for (at_ms, verb, fault) in [
            (1_000, "start", PARTITION),
            (2_000, "start", storm),
            (3_000, "end", PARTITION),
            (3_500, "start", CRASH_W1),
            (4_000, "end", storm),
            (5_000, "end", CRASH_W1),
            (6_000, "start", PARTITION),
            (7_000, "end", PARTITION),
        ] {
            events.push(event(at_ms, "sim", "fault", &format!("{verb} {fault}")));
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
        events.push(event(100, "sim", "fault", &format!("start {PARTITION}")));
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
        let answer = r#"ok "{\"answer\":\"Paris\",\"confidence\":0.9}""#;
        let cases = [
            (
                event(12_400, "sim", "liveness", "faults end, network heals"),
                "12.4 s: the faults end and the network heals: the liveness phase begins",
                None,
            ),
            (
                event(3_100, "supervisor", "send", "w2 execute t004 #1"),
                "3.1 s: supervisor asks w2 to answer t004 (attempt 1)",
                Some("t004"),
            ),
            (event(3_100, "supervisor", "send", "w2 heartbeat"), "3.1 s: supervisor asks w2 for a heartbeat", None),
            (
                event(3_100, "supervisor", "send", "w2 cancel t004"),
                "3.1 s: supervisor asks w2 to cancel t004",
                Some("t004"),
            ),
            (event(3_100, "client", "send", "submit t004"), "3.1 s: the client submits t004", Some("t004")),
            (
                event(3_100, "client", "send", "poll t004"),
                "3.1 s: the client asks for the result of t004",
                Some("t004"),
            ),
            (
                event(3_100, "supervisor", "recv", r#"w2 answer t004 #2 "Paris""#),
                "3.1 s: w2 answers t004 (attempt 2): \"Paris\"",
                Some("t004"),
            ),
            (
                event(3_100, "supervisor", "recv", "w2 heartbeat load 3"),
                "3.1 s: w2 replies to the heartbeat (load 3)",
                None,
            ),
            (event(3_100, "supervisor", "recv", "w2 cancelled"), "3.1 s: w2 confirms the cancel", None),
            (
                event(3_100, "supervisor", "recv", "w2 failed: model refused"),
                "3.1 s: w2 could not answer: model refused",
                None,
            ),
            (
                event(3_100, "supervisor", "drop", "w2 execute t004 #1: worker unavailable"),
                "3.1 s: supervisor asked w2 to answer t004 (attempt 1), but got no reply: worker unavailable",
                Some("t004"),
            ),
            (
                event(3_100, "w2", "llm", answer),
                "3.1 s: w2 asked the model about t004: answered \"Paris\" (confidence 0.90)",
                Some("t004"),
            ),
            (
                event(3_100, "w2", "llm", "error rate limited"),
                "3.1 s: w2 asked the model about t004: the call failed (rate limited)",
                Some("t004"),
            ),
            (
                event(3_100, "w2", "llm", "truncated"),
                "3.1 s: w2 asked the model about t004: the reply was cut off",
                Some("t004"),
            ),
            (
                event(3_100, "w2", "llm", r#"ok "n\u{e9}ant""#),
                "3.1 s: w2 asked the model about t004: replied \"néant\"",
                Some("t004"),
            ),
            (
                event(3_100, "supervisor", "result", r#"t004 agreed "Paris" support 1.000"#),
                "3.1 s: the supervisor decides t004: agreed on \"Paris\" (support 1.000)",
                Some("t004"),
            ),
            (
                event(3_100, "client", "result", "t004 no_consensus Split"),
                "3.1 s: the client receives the result of t004: no consensus (Split)",
                Some("t004"),
            ),
            (
                event(3_100, "supervisor", "result", "t004 failed NoWorkers"),
                "3.1 s: the supervisor decides t004: failed (NoWorkers)",
                Some("t004"),
            ),
            (
                event(3_100, "w3", "twin", r#"t004 #1 "TWIN""#),
                "3.1 s: a twin of w3 sends a conflicting answer to t004 (attempt 1): \"TWIN\"",
                Some("t004"),
            ),
            (event(3_100, "supervisor", "start", "supervisor up"), "3.1 s: the supervisor starts", None),
            (event(3_100, "w3", "start", "worker serving"), "3.1 s: w3 starts serving", None),
            (event(3_100, "w3", "stop", "worker released"), "3.1 s: w3 stops: worker released", None),
            (event(3_100, "supervisor", "scale_up", "w6 w7"), "3.1 s: the supervisor scales up, starting w6, w7", None),
            (event(3_100, "supervisor", "scale_down", "w6"), "3.1 s: the supervisor scales down, releasing w6", None),
            (
                event(3_100, "client", "resubmit", "t004"),
                "3.1 s: the supervisor did not know t004; the client submits it again",
                Some("t004"),
            ),
            (
                event(3_100, "client", "refused", "t004: queue full"),
                "3.1 s: the supervisor refuses t004: queue full",
                Some("t004"),
            ),
            (
                event(3_100, "supervisor", "delivered", "w3 t004 #1"),
                "3.1 s: the supervisor takes an answer pushed by w3 for t004 (attempt 1)",
                Some("t004"),
            ),
            (
                event(3_100, "w3", "bad_frame", "frame too long"),
                "3.1 s: w3 received a malformed message: frame too long",
                None,
            ),
            (event(3_100, "client", "done", "20 results"), "3.1 s: the client is done: 20 results", None),
            (event(3_100, "sim", "heal", ""), "3.1 s: the network heals: every fault ends", None),
            (event(3_100, "sim", "end", "0 violations"), "3.1 s: the run ends: 0 violations", None),
            (event(3_100, "w3", "gossip", "{\"x\":1}"), "at 3.1 s, w3: gossip {\"x\":1}", None),
            (event(3_100, "supervisor", "send", "w2 teleport"), "at 3.1 s, supervisor: send w2 teleport", None),
        ];
        for (event, sentence, task) in cases {
            let described = describe(&event, Some("t004"));
            assert_eq!(
                described,
                Described { sentence: sentence.to_owned(), task: task.map(str::to_owned) },
                "{event:?}"
            );
        }
        let unknown = describe(&event(3_100, "w2", "llm", "truncated"), None);
        assert_eq!(unknown.sentence, "3.1 s: w2 asked the model: the reply was cut off");
        assert_eq!(unknown.task, None);
    }

    #[test]
    fn llm_calls_are_tied_to_the_task_their_worker_was_answering() {
        let events = [
            event(0, "supervisor", "send", "w1 execute t001 #1"),
            event(1, "w1", "llm", r#"ok "{\"answer\":\"Oslo\"}""#),
            event(2, "supervisor", "recv", r#"w1 answer t001 #1 "Oslo""#),
            event(3, "supervisor", "send", "w1 execute t002 #1"),
            event(4, "supervisor", "send", "w1 execute t003 #1"),
            event(5, "w1", "llm", r#"ok "{\"answer\":\"Rome\"}""#),
            event(6, "w1", "llm", r#"ok "{\"answer\":\"Lima\"}""#),
            event(7, "supervisor", "recv", r#"w1 answer t003 #1 "Lima""#),
            event(8, "supervisor", "recv", r#"w1 answer t002 #1 "Rome""#),
            event(9, "w1", "llm", "truncated"),
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
