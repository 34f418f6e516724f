//! `--report F.html`: one self-contained page (no network fetches) showing a run as a
//! timeline, one lane per host, and a table of tasks.

use std::collections::BTreeMap;
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
    html.push_str("</body></html>\n");
    html
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#222}h1 span{font-size:60%;padding:2px 8px;\
border-radius:4px;color:#fff}.pass{background:#2a7d2a}.fail{background:#b32020}.numbers{color:#555}\
table{border-collapse:collapse;font-size:13px;width:100%}td,th{border:1px solid #ccc;padding:4px;vertical-align:top;\
text-align:left}th{background:#f3f3f3}.agreed{color:#2a7d2a}.no_consensus{color:#a06000}.failed{color:#b32020}\
.wrong{background:#fde8e8}svg{border:1px solid #ddd;background:#fcfcfc}.legend span{margin-right:14px;font-size:13px}\
.violations li{color:#b32020}ul.votes{margin:0;padding-left:16px}";

const LEGEND: &str = "<p class=\"legend\"><span style=\"color:#999\">| message sent</span>\
<span style=\"color:#2a7d2a\">| reply</span><span style=\"color:#d00\">&times; lost or timed out</span>\
<span style=\"color:#7b3fb5\">&#9679; LLM answer</span><span style=\"color:#e07b00\">&#9679; LLM error</span>\
<span style=\"color:#1f5fbf\">&#9670; result</span><span style=\"color:#c0c\">&#9650; twin</span>\
<span style=\"background:#f8c8c8\">&nbsp;fault&nbsp;</span><span style=\"background:#555;color:#fff\">&nbsp;crash&nbsp;</span></p>";

/// Lanes in display order: faults, the supervisor, workers by number, the client.
fn lanes(events: &[TraceEvent]) -> Vec<String> {
    let mut workers: Vec<String> = events.iter().map(|e| e.host.clone()).filter(|h| h.starts_with('w')).collect();
    workers.sort_by_key(|w| (w.len(), w.clone()));
    workers.dedup();
    let mut lanes = vec!["faults".to_owned(), "supervisor".to_owned()];
    lanes.extend(workers);
    lanes.push("client".to_owned());
    lanes
}

fn timeline(events: &[TraceEvent], sim_ms: u64) -> String {
    let lanes = lanes(events);
    let lane_of: BTreeMap<&str, usize> = lanes.iter().enumerate().map(|(i, l)| (l.as_str(), i)).collect();
    let height = LANE * lanes.len() as f64 + 30.0;
    let span = sim_ms.max(1) as f64;
    let x = |at_ms: u64| LABEL + (WIDTH - LABEL - 10.0) * at_ms as f64 / span;
    let y = |lane: usize| 10.0 + LANE * lane as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">"
    );
    for (index, lane) in lanes.iter().enumerate() {
        let _ = write!(
            svg,
            "<rect x=\"0\" y=\"{}\" width=\"{WIDTH}\" height=\"{LANE}\" fill=\"{}\"/><text x=\"6\" y=\"{}\" font-size=\"12\">{}</text>",
            y(index),
            if index % 2 == 0 { "#f4f4f4" } else { "#fafafa" },
            y(index) + 17.0,
            escape(lane)
        );
    }
    // Time axis.
    let step_ms = [1_000u64, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000]
        .into_iter()
        .find(|s| span / *s as f64 <= 12.0)
        .unwrap_or(120_000);
    let mut tick = 0;
    while tick as f64 <= span {
        let _ = write!(
            svg,
            "<line x1=\"{0}\" x2=\"{0}\" y1=\"10\" y2=\"{1}\" stroke=\"#ddd\"/><text x=\"{0}\" y=\"{2}\" font-size=\"11\" fill=\"#666\">{3}s</text>",
            x(tick),
            height - 20.0,
            height - 6.0,
            tick / 1000
        );
        tick += step_ms;
    }
    draw_faults(&mut svg, events, &lane_of, &x, &y, sim_ms);
    let messages = events.iter().filter(|e| matches!(e.kind.as_str(), "send" | "recv" | "drop")).count();
    let thin = messages.div_ceil(TIMELINE_MARKS_MAX).max(1);
    let mut message_index = 0usize;
    for event in events {
        let Some(&lane) = lane_of.get(event.host.as_str()) else { continue };
        if matches!(event.kind.as_str(), "send" | "recv" | "drop") {
            message_index += 1;
            if !message_index.is_multiple_of(thin) {
                continue;
            }
        }
        if let Some(mark) = mark(event, x(event.at_ms), y(lane)) {
            svg.push_str(&mark);
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The SVG mark of one event at `cx` on the lane starting at `top`, if it has one.
fn mark(event: &TraceEvent, cx: f64, top: f64) -> Option<String> {
    let title = format!(
        "<title>{} ms {} {}: {}</title>",
        event.at_ms,
        escape(&event.host),
        escape(&event.kind),
        escape(&event.detail)
    );
    let mark = match event.kind.as_str() {
        "send" => format!(
            "<line x1=\"{cx}\" x2=\"{cx}\" y1=\"{}\" y2=\"{}\" stroke=\"#999\">{title}</line>",
            top + 3.0,
            top + 10.0
        ),
        "recv" => format!(
            "<line x1=\"{cx}\" x2=\"{cx}\" y1=\"{}\" y2=\"{}\" stroke=\"#2a7d2a\">{title}</line>",
            top + 10.0,
            top + 17.0
        ),
        "drop" => {
            format!("<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#d00\">&#215;{title}</text>", cx - 3.0, top + 22.0)
        }
        "llm" => {
            let colour = if event.detail.starts_with("ok") { "#7b3fb5" } else { "#e07b00" };
            format!("<circle cx=\"{cx}\" cy=\"{}\" r=\"3\" fill=\"{colour}\">{title}</circle>", top + 13.0)
        }
        "result" => format!("<path d=\"M{cx} {} l5 6 l-5 6 l-5 -6 z\" fill=\"#1f5fbf\">{title}</path>", top + 7.0),
        "twin" => format!("<path d=\"M{cx} {} l5 9 h-10 z\" fill=\"#c0c\">{title}</path>", top + 8.0),
        "start" | "stop" | "scale_up" | "scale_down" | "resubmit" | "refused" => {
            format!("<rect x=\"{}\" y=\"{top}\" width=\"2\" height=\"{LANE}\" fill=\"#333\">{title}</rect>", cx - 1.0)
        }
        _ => return None,
    };
    Some(mark)
}

/// Faults as bars: on the faults lane, and on the lanes of the hosts they touch.
fn draw_faults(
    svg: &mut String,
    events: &[TraceEvent],
    lane_of: &BTreeMap<&str, usize>,
    x: &dyn Fn(u64) -> f64,
    y: &dyn Fn(usize) -> f64,
    sim_ms: u64,
) {
    let mut open: Vec<(u64, String)> = Vec::new();
    let mut bars: Vec<(u64, u64, String)> = Vec::new();
    for event in events.iter().filter(|e| e.kind == "fault") {
        if let Some(fault) = event.detail.strip_prefix("start ") {
            open.push((event.at_ms, fault.to_owned()));
        } else if let Some(fault) = event.detail.strip_prefix("end ")
            && let Some(position) = open.iter().position(|(_, f)| f == fault)
        {
            let (start, fault) = open.remove(position);
            bars.push((start, event.at_ms, fault));
        }
    }
    // Faults still open when the run ended (the liveness phase heals them silently).
    bars.extend(open.into_iter().map(|(start, fault)| (start, sim_ms, fault)));
    for (start, end, fault) in bars {
        let parsed: serde_json::Value = serde_json::from_str(&fault).unwrap_or_default();
        let kind = parsed["kind"].as_str().unwrap_or("fault");
        let width = (x(end) - x(start)).max(2.0);
        let mut touched: Vec<String> = Vec::new();
        for key in ["left", "right", "from", "to"] {
            touched.extend(parsed[key].as_array().into_iter().flatten().filter_map(|h| h.as_str().map(str::to_owned)));
        }
        touched.extend(parsed["host"].as_str().map(str::to_owned));
        let colour = if kind == "crash" { "#555" } else { "#f8c8c8" };
        let title = format!("<title>{start}..{end} ms: {}</title>", escape(&fault));
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"{}\" width=\"{width}\" height=\"{}\" fill=\"{colour}\" opacity=\"0.8\">{title}</rect>",
            x(start),
            y(0) + 4.0,
            LANE - 8.0
        );
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\">{}</text>",
            x(start) + 2.0,
            y(0) + 16.0,
            escape(kind)
        );
        for host in touched {
            if let Some(&lane) = lane_of.get(host.as_str()) {
                let opacity = if kind == "crash" { "0.6" } else { "0.35" };
                let _ = write!(
                    svg,
                    "<rect x=\"{}\" y=\"{}\" width=\"{width}\" height=\"{LANE}\" fill=\"{colour}\" opacity=\"{opacity}\">{title}</rect>",
                    x(start),
                    y(lane)
                );
            }
        }
    }
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
            "<tr><td>{}</td><td>{}</td><td>{}</td>",
            escape(planned.task.id.as_str()),
            escape(&planned.task.text),
            escape(&truth)
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
        let (run, outcome) = run_scenario(&scenario, 3, &crate::runner::Invocation::catalogue(), quorum_sim::RunBudget::default()).unwrap();
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
        assert_eq!(html.matches("<tr>").count(), run.tasks + 1, "a row per task");
    }

    #[test]
    fn escaping_neutralises_markup() {
        assert_eq!(escape("<b>\"x\" & 'y'</b>"), "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;");
    }
}
