//! [`render`]: one scrape in the Prometheus text format (version 0.0.4).

use core::fmt::Write as _;

use quorum_core::{SupervisorStats, SupervisorStatus, WorkerStatus};

use super::task_metrics::TaskCounts;

/// Upper bounds of the task latency histogram's buckets, ms (then `+Inf`). Fixed:
/// from a quick mock answer to a slow model asked over several rounds.
pub const LATENCY_BUCKETS_MS: [u64; 12] =
    [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000];

/// The counter of [`SupervisorStats`] that counts work, not a refused input.
const ROUNDS_STARTED: &str = "rounds_started";

/// The metrics text for `counts`, `stats` and `status` (`None` when the
/// supervisor did not answer: its worker and queue gauges are left out).
pub fn render(counts: &TaskCounts, stats: &SupervisorStats, status: Option<&SupervisorStatus>) -> String {
    let mut text = String::new();
    header(&mut text, "quorum_tasks_total", "counter", "Tasks with a result, by outcome.");
    for (outcome, value) in
        [("agreed", counts.agreed), ("no_consensus", counts.no_consensus), ("failed", counts.failed)]
    {
        line(&mut text, "quorum_tasks_total", &[("outcome", outcome)], value);
    }
    header(
        &mut text,
        "quorum_duplicate_results_total",
        "counter",
        "Second results for one task (0 unless a promise broke).",
    );
    line(&mut text, "quorum_duplicate_results_total", &[], counts.duplicates);

    header(&mut text, "quorum_task_latency_seconds", "histogram", "Time from a task's submission to its result.");
    for (bound_ms, value) in LATENCY_BUCKETS_MS.iter().zip(counts.latency_buckets) {
        let bound = seconds(*bound_ms);
        line(&mut text, "quorum_task_latency_seconds_bucket", &[("le", &bound)], value);
    }
    line(&mut text, "quorum_task_latency_seconds_bucket", &[("le", "+Inf")], counts.tasks());
    let _ = writeln!(text, "quorum_task_latency_seconds_sum {}", seconds(counts.latency_ms_sum));
    line(&mut text, "quorum_task_latency_seconds_count", &[], counts.tasks());

    header(&mut text, "quorum_llm_calls_total", "counter", "LLM calls the workers made for the answers received.");
    line(&mut text, "quorum_llm_calls_total", &[], counts.llm_calls);
    header(&mut text, "quorum_llm_tokens_total", "counter", "LLM tokens spent on those calls, by kind.");
    line(&mut text, "quorum_llm_tokens_total", &[("kind", "prompt")], counts.prompt_tokens);
    line(&mut text, "quorum_llm_tokens_total", &[("kind", "completion")], counts.completion_tokens);
    header(
        &mut text,
        "quorum_llm_retries_total",
        "counter",
        "Of those calls, repeats after a failure or an unusable reply.",
    );
    line(&mut text, "quorum_llm_retries_total", &[], counts.llm_retries);
    header(
        &mut text,
        "quorum_rate_limit_wait_seconds_total",
        "counter",
        "Time workers waited for rate limits (their limiter, or a server's wait after a 429).",
    );
    let _ = writeln!(text, "quorum_rate_limit_wait_seconds_total {}", seconds(counts.rate_limit_wait_ms));

    let counters = stats.counters();
    header(&mut text, "quorum_rounds_started_total", "counter", "Rounds of assignment started.");
    line(&mut text, "quorum_rounds_started_total", &[], counters.get(ROUNDS_STARTED).copied().unwrap_or(0));
    header(&mut text, "quorum_rejections_total", "counter", "Inputs the supervisor refused or ignored, by reason.");
    for (reason, value) in counters.iter().filter(|(name, _)| name.as_str() != ROUNDS_STARTED) {
        line(&mut text, "quorum_rejections_total", &[("reason", reason)], *value);
    }

    if let Some(status) = status {
        header(&mut text, "quorum_workers", "gauge", "Known workers, by status.");
        for (name, wanted) in [
            ("available", WorkerStatus::Available),
            ("busy", WorkerStatus::Busy),
            ("suspect", WorkerStatus::Suspect),
            ("offline", WorkerStatus::Offline),
        ] {
            let value = status.workers.iter().filter(|worker| worker.status == wanted).count();
            line(&mut text, "quorum_workers", &[("status", name)], value as u64);
        }
        header(&mut text, "quorum_tasks_queued", "gauge", "Tasks waiting for workers.");
        line(&mut text, "quorum_tasks_queued", &[], status.queued as u64);
        header(&mut text, "quorum_tasks_running", "gauge", "Tasks being worked on.");
        line(&mut text, "quorum_tasks_running", &[], status.running as u64);
    }
    text
}

fn header(text: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// One sample. Label values here are fixed names or counter names (ASCII letters
/// and `_`): nothing to escape.
fn line(text: &mut String, name: &str, labels: &[(&str, &str)], value: u64) {
    text.push_str(name);
    if !labels.is_empty() {
        text.push('{');
        for (index, (label, value)) in labels.iter().enumerate() {
            if index > 0 {
                text.push(',');
            }
            let _ = write!(text, "{label}=\"{value}\"");
        }
        text.push('}');
    }
    let _ = writeln!(text, " {value}");
}

/// `ms` as seconds, exactly (no float rounding in bucket bounds).
fn seconds(ms: u64) -> String {
    let (whole, fraction) = (ms / 1_000, ms % 1_000);
    if fraction == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{}", format!("{fraction:03}").trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_exact_decimals() {
        assert_eq!(seconds(50), "0.05");
        assert_eq!(seconds(2_500), "2.5");
        assert_eq!(seconds(120_000), "120");
        assert_eq!(seconds(1_234), "1.234");
    }

    #[test]
    fn an_empty_supervisor_renders_zeroes_and_every_rejection_reason() {
        let text = render(&TaskCounts::default(), &SupervisorStats::default(), None);
        assert!(text.contains("quorum_tasks_total{outcome=\"agreed\"} 0\n"), "{text}");
        assert!(text.contains("quorum_task_latency_seconds_bucket{le=\"+Inf\"} 0\n"), "{text}");
        assert!(text.contains("quorum_task_latency_seconds_count 0\n"), "{text}");
        for reason in SupervisorStats::default().counters().keys().filter(|name| name.as_str() != ROUNDS_STARTED) {
            assert!(text.contains(&format!("quorum_rejections_total{{reason=\"{reason}\"}} 0\n")), "{reason}: {text}");
        }
        assert!(!text.contains("reason=\"rounds_started\""), "{text}");
        assert!(!text.contains("quorum_workers"), "no status, no worker gauges: {text}");
    }
}
