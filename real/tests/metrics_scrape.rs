//! A supervisor node's `GET /metrics` over real TCP on 127.0.0.1, after a task its
//! three workers agreed on.

mod support;

use support::{SECRET, SupervisorProcess, token, workload};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The whole response to `request` sent to `address`.
async fn http(address: &str, request: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

/// The value of the sample named exactly `sample` (name and labels).
fn sample(text: &str, sample: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_counts_the_agreed_task_its_latency_its_workers_and_every_rejection_reason() {
    let (tasks, truths) = workload(1);
    let mut supervisor = SupervisorProcess::start(token()).await;
    let metrics = supervisor.serve_metrics().await;
    let _workers = supervisor.workers(&["w1", "w2", "w3"], &truths, 20).await;
    let client = supervisor.client(&token());

    let before = http(&metrics, b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n").await;
    let (_, body) = before.split_once("\r\n\r\n").unwrap();
    assert_eq!(sample(body, "quorum_tasks_total{outcome=\"agreed\"}"), Some(0.0), "{body}");

    let result = client.submit(tasks[0].clone()).await.unwrap().result().await.unwrap();
    assert!(result.is_agreed(), "{:?}", result.outcome);

    let response = http(&metrics, b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n").await;
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Content-Type: text/plain; version=0.0.4"), "{head}");
    assert!(head.contains(&format!("Content-Length: {}", body.len())), "{head}");
    assert_eq!(sample(body, "quorum_tasks_total{outcome=\"agreed\"}"), Some(1.0), "{body}");
    assert_eq!(sample(body, "quorum_tasks_total{outcome=\"no_consensus\"}"), Some(0.0), "{body}");
    assert_eq!(sample(body, "quorum_tasks_total{outcome=\"failed\"}"), Some(0.0), "{body}");
    assert_eq!(sample(body, "quorum_task_latency_seconds_count"), Some(1.0), "{body}");
    assert_eq!(sample(body, "quorum_task_latency_seconds_bucket{le=\"+Inf\"}"), Some(1.0), "{body}");
    let latency_seconds = result.latency_ms() as f64 / 1_000.0;
    assert_eq!(sample(body, "quorum_task_latency_seconds_sum"), Some(latency_seconds), "{body}");
    assert_eq!(sample(body, "quorum_llm_calls_total"), Some(result.metadata.llm_calls as f64), "{body}");
    assert_eq!(
        sample(body, "quorum_llm_tokens_total{kind=\"prompt\"}"),
        Some(result.metadata.prompt_tokens as f64),
        "{body}"
    );
    assert!(result.metadata.llm_calls >= 3, "{}", result.metadata.llm_calls);
    let retries = result.metadata.llm_calls - result.metadata.votes.len() as u64;
    assert_eq!(sample(body, "quorum_llm_retries_total"), Some(retries as f64), "{body}");
    // The mock has no rate limit here: a wait would be invented.
    assert_eq!(sample(body, "quorum_rate_limit_wait_seconds_total"), Some(0.0), "{body}");
    assert_eq!(sample(body, "quorum_workers{status=\"available\"}"), Some(3.0), "{body}");
    assert_eq!(sample(body, "quorum_workers{status=\"offline\"}"), Some(0.0), "{body}");
    for reason in supervisor.service.stats().counters().keys().filter(|name| name.as_str() != "rounds_started") {
        let value = sample(body, &format!("quorum_rejections_total{{reason=\"{reason}\"}}"));
        assert!(value.is_some(), "{reason} missing: {body}");
    }
    assert!(sample(body, "quorum_rounds_started_total").unwrap() >= 1.0, "{body}");
    assert!(!response.contains(SECRET), "the token never reaches a scrape");

    // Anything else is refused with a status naming why; the server keeps serving.
    let other = http(&metrics, b"GET /secrets HTTP/1.1\r\n\r\n").await;
    assert!(other.starts_with("HTTP/1.1 404 Not Found\r\n") && other.ends_with("only /metrics is served\n"), "{other}");
    let garbage = http(&metrics, b"\x00\x01garbage\r\n\r\n").await;
    assert!(garbage.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{garbage}");
    let again = http(&metrics, b"GET /metrics HTTP/1.0\r\n\r\n").await;
    assert!(again.starts_with("HTTP/1.1 200 OK\r\n"), "{again}");

    // Stopping the node stops its metrics server.
    supervisor.stop().await.unwrap();
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&metrics).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(refused, "the metrics port still accepts after stop");
}
