//! Logs in simulated time: a tracing timer that prints the current host's simulated
//! clock instead of the wall clock.

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// Prints `sim=12.345s`, or `sim=-` outside a simulated host.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimTime;

impl FormatTime for SimTime {
    fn format_time(&self, writer: &mut Writer<'_>) -> core::fmt::Result {
        match turmoil::sim_elapsed() {
            Some(elapsed) => write!(writer, "sim={:.3}s", elapsed.as_secs_f64()),
            None => write!(writer, "sim=-"),
        }
    }
}

/// Installs a subscriber that logs with [`SimTime`], filtered by `RUST_LOG` (default
/// `warn`). Safe to call more than once.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ =
        tracing_subscriber::fmt().with_timer(SimTime).with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
