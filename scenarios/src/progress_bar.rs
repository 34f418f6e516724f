//! [`progress_printer`]: the progress a sweep and a live run draw on standard error.

use std::io::{IsTerminal, Write};

/// What a progress display counts and how it names it.
#[derive(Clone, Copy, Debug)]
pub struct ProgressLabels {
    /// The line prefix when standard error is not a terminal (`sweep`).
    pub name: &'static str,
    /// What is counted (`runs`, `tasks`).
    pub units: &'static str,
    /// Its rate (`seeds/s`, `tasks/s`).
    pub rate_units: &'static str,
    /// Whether to print a line per tenth when standard error is not a terminal
    /// (otherwise nothing is shown there).
    pub lines_otherwise: bool,
}

/// Progress on standard error, called with `(done, total, failed)`: a bar on a
/// terminal, a line per tenth otherwise (when `labels.lines_otherwise`).
pub fn progress_printer(labels: ProgressLabels) -> impl FnMut(usize, usize, usize) {
    let terminal = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let mut last_tenth = 0;
    move |done, total, failed| {
        let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
        let ProgressLabels { name, units, rate_units, lines_otherwise } = labels;
        let mut stderr = std::io::stderr().lock();
        if terminal {
            let filled = (done * 30 / total.max(1)).min(30);
            let bar = format!("{}{}", "=".repeat(filled), " ".repeat(30 - filled));
            let _ = write!(stderr, "\r[{bar}] {done}/{total} {units}, {failed} failed, {rate:.1} {rate_units} ");
            if done == total {
                let _ = writeln!(stderr);
            }
        } else if lines_otherwise && (done * 10 / total.max(1) > last_tenth || done == total) {
            last_tenth = done * 10 / total.max(1);
            let _ = writeln!(stderr, "{name}: {done}/{total} {units}, {failed} failed, {rate:.1} {rate_units}");
        }
    }
}
