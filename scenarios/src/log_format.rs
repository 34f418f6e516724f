//! [`LogFormat`]: how the real-mode commands write their logs, and [`init_logs`].

/// How logs are written on standard error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per event, with its span (a task's id) as fields: for log
    /// collectors.
    Json,
}

impl LogFormat {
    /// The flag's value, as `--log-format` takes it (for child processes).
    pub fn as_flag(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
        }
    }
}

/// `--log-format`, shared by the real-mode commands.
#[derive(Clone, Copy, Debug, Default, clap::Args)]
pub struct LogArgs {
    /// Logs on standard error as text lines or JSON objects; `RUST_LOG` filters
    /// them (default `warn`).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Logs on standard error in `format`: `RUST_LOG`, default `warn`, wall-clock times.
pub fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => logs.try_init(),
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(false).try_init(),
    };
}
