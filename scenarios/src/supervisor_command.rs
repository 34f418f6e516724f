//! `quorum supervisor`: the supervisor process, serving clients and workers over gRPC.

use std::net::SocketAddr;
use std::path::PathBuf;

use quorum_core::{SupervisorConfig, WorkerId};
use quorum_real::GrpcConfig;
use quorum_real::node::{SupervisorNode, SupervisorNodeConfig, TokenSecret};

use crate::live_error::{LiveError, runtime, say, shutdown_signal};

/// Where clients find the supervisor by default.
pub const SUPERVISOR_ADDRESS_DEFAULT: &str = "127.0.0.1:7400";

/// `quorum supervisor`'s flags.
#[derive(Clone, Debug, clap::Args)]
pub struct SupervisorArgs {
    /// Where to serve clients and workers (`host:port`).
    #[arg(long, default_value = SUPERVISOR_ADDRESS_DEFAULT)]
    pub listen: SocketAddr,
    /// A worker known from the start: `host:port`, or `ID=host:port` (the id
    /// defaults to `host:port`, as `quorum worker`'s does). Repeatable.
    #[arg(long = "worker")]
    pub workers: Vec<String>,
    /// Wait for every asked worker's answer (no early stop once the leader cannot
    /// be overtaken): every result then carries every worker's vote.
    #[arg(long)]
    pub all_votes: bool,
    /// Serve Prometheus metrics as `GET /metrics` on this `host:port` (port 0
    /// picks a free one, printed at start).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
    /// Journal every accepted task and result to this file (created when missing)
    /// and resume from it at start: a crash then loses no accepted task. Without
    /// it, the supervisor keeps everything in memory.
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// How logs are written.
    #[command(flatten)]
    pub logs: crate::LogArgs,
}

/// The startup line naming where the supervisor journals.
pub(crate) fn journal_line(journal: Option<&std::path::Path>) -> String {
    match journal {
        Some(path) => format!("journal: {}", path.display()),
        None => "journal: none (in memory: a crash loses every task and result)".to_owned(),
    }
}

/// The supervisor's settings for `workers` workers (`None`: as many as join).
pub fn supervisor_config(workers: Option<usize>, all_votes: bool) -> SupervisorConfig {
    let mut config = SupervisorConfig::default();
    if let Some(workers) = workers {
        config = config.fit_to_workers(workers);
    }
    // Workers come and go by themselves (`quorum worker`); nothing here starts more.
    config.scaling = false;
    config.early_stop = !all_votes;
    config
}

/// Serves `node`'s metrics on `address`, if given, and says where.
///
/// # Errors
/// [`LiveError::BadInput`] when `address` cannot be listened on.
pub async fn serve_metrics(node: &mut SupervisorNode, address: Option<SocketAddr>) -> Result<(), LiveError> {
    let Some(address) = address else { return Ok(()) };
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|error| LiveError::BadInput(format!("--metrics: cannot listen on {address}: {error}")))?;
    let bound = listener.local_addr().map_err(|error| LiveError::Failed(error.to_string()))?;
    node.serve_metrics(listener);
    say(&format!("metrics on http://{bound}/metrics"));
    Ok(())
}

/// `ID=host:port` or `host:port` as an id and an address.
fn worker_flag(text: &str) -> Result<(WorkerId, String), LiveError> {
    let (id, address) = match text.split_once('=') {
        Some((id, address)) => (id.trim().to_owned(), address.trim().to_owned()),
        None => {
            let address = text.trim().trim_start_matches("http://").to_owned();
            (address.clone(), address)
        }
    };
    if id.is_empty() || id.len() > quorum_real::WORKER_ID_BYTES_MAX {
        return Err(LiveError::BadInput(format!(
            "--worker {text:?}: expected host:port or ID=host:port, an id of 1..={} bytes",
            quorum_real::WORKER_ID_BYTES_MAX
        )));
    }
    Ok((WorkerId::new(id), address))
}

/// Runs `quorum supervisor` until Ctrl-C or SIGTERM; then every task in flight
/// ends with its result.
///
/// # Errors
/// [`LiveError`] for a missing token, a bad flag or a journal that cannot be opened
/// (exit 2), a failed server or journal (exit 1).
pub fn supervisor(args: &SupervisorArgs) -> Result<(), LiveError> {
    let token = TokenSecret::required()?;
    let config = SupervisorNodeConfig {
        supervisor: supervisor_config(None, args.all_votes),
        grpc: GrpcConfig::default(),
        workers: args.workers.iter().map(|text| worker_flag(text)).collect::<Result<_, _>>()?,
        journal: args.journal.clone(),
    };
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|error| LiveError::BadInput(format!("cannot listen on {}: {error}", args.listen)))?;
        let bound = listener.local_addr().map_err(|error| LiveError::Failed(error.to_string()))?;
        let mut node = SupervisorNode::start(config, token.token().clone(), listener)?;
        say(&format!("supervisor listening on {bound}"));
        say(&journal_line(args.journal.as_deref()));
        serve_metrics(&mut node, args.metrics).await?;
        node.run_until(async {
            let why = shutdown_signal().await;
            tracing::info!(why, "supervisor stopping");
        })
        .await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_flag_names_its_id_or_takes_its_address_as_one() {
        assert_eq!(worker_flag("w1=10.0.0.2:7500").unwrap(), (WorkerId::new("w1"), "10.0.0.2:7500".to_owned()));
        let (id, address) = worker_flag("10.0.0.2:7500").unwrap();
        assert_eq!((id.as_str(), address.as_str()), ("10.0.0.2:7500", "10.0.0.2:7500"));
        assert!(worker_flag("=10.0.0.2:7500").unwrap_err().to_string().contains("ID=host:port"));
        assert!(!supervisor_config(None, true).early_stop);
        assert_eq!(supervisor_config(Some(2), false).analysis.workers_max, 2);
    }
}
