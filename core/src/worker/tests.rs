use super::*;
use crate::testing::ScriptedLlm;

fn request(task: &str, timeout_ms: u64) -> ExecuteRequest {
    ExecuteRequest {
        task: task.into(),
        attempt: 1,
        text: "What is 2 + 2?".into(),
        strategy: Strategy::Numeric,
        timeout_ms,
    }
}

fn worker(llm: ScriptedLlm, config: WorkerConfig) -> Worker<ScriptedLlm> {
    Worker::new("w1".into(), config, llm, 7).unwrap()
}

#[tokio::test(start_paused = true)]
async fn answers_with_parsed_text_confidence_and_costs() {
    let worker = worker(ScriptedLlm::answering(300, "4"), WorkerConfig::default());
    let answer = worker.execute(request("t1", 5_000)).await.unwrap();
    assert_eq!((answer.text.as_str(), answer.confidence), ("4", 0.9));
    assert_eq!((answer.llm_calls, answer.prompt_tokens, answer.completion_tokens), (1, 10, 5));
    assert_eq!(answer.latency_ms, 300);
    assert_eq!(answer.rate_limit_wait_ms, 0, "no limit, no wait");
    assert_eq!(worker.heartbeat().load, 0, "finished work leaves the running set");
}

#[tokio::test(start_paused = true)]
async fn retries_rate_limits_honouring_retry_after_then_answers() {
    let llm = ScriptedLlm::new(10, |_, call| {
        if call < 3 {
            Err(LlmError::RateLimited { retry_after_ms: Some(2_000) })
        } else {
            Ok("Answer: 4\nConfidence: 0.7".into())
        }
    });
    let worker = worker(llm, WorkerConfig::default());
    let started = Instant::now();
    let answer = worker.execute(request("t1", 60_000)).await.unwrap();
    assert_eq!(answer.llm_calls, 3);
    assert!(started.elapsed() >= core::time::Duration::from_millis(4_000), "waited Retry-After twice");
    // The waits the server asked for are reported, and are all the answer waited.
    assert!((4_000..6_000).contains(&answer.rate_limit_wait_ms), "{}", answer.rate_limit_wait_ms);
    assert!(answer.rate_limit_wait_ms <= answer.latency_ms);
}

#[tokio::test(start_paused = true)]
async fn final_errors_are_not_retried() {
    let llm = ScriptedLlm::new(10, |_, _| Err(LlmError::QuotaExhausted));
    let worker = worker(llm, WorkerConfig::default());
    assert_eq!(worker.execute(request("t1", 60_000)).await, Err(WorkerError::Llm(LlmError::QuotaExhausted)));
    assert_eq!(worker.llm.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn garbage_replies_are_retried_then_reported() {
    let llm = ScriptedLlm::new(10, |_, _| Ok("{\"answer\": \"4".into()));
    let worker = worker(llm, WorkerConfig::default());
    assert_eq!(worker.execute(request("t1", 60_000)).await, Err(WorkerError::BadReply(ReplyError::Malformed)));
    assert_eq!(worker.llm.calls(), RetryPolicy::default().attempts_max);
}

#[tokio::test(start_paused = true)]
async fn deadline_capacity_and_cancel() {
    let worker =
        Arc::new(worker(ScriptedLlm::answering(10_000, "4"), WorkerConfig { capacity: 1, ..WorkerConfig::default() }));
    assert_eq!(worker.execute(request("slow", 1_000)).await, Err(WorkerError::DeadlineExceeded));

    let running = {
        let worker = Arc::clone(&worker);
        tokio::spawn(async move { worker.execute(request("t2", 60_000)).await })
    };
    tokio::task::yield_now().await;
    assert_eq!(worker.heartbeat().load, 1);
    assert_eq!(worker.execute(request("t3", 60_000)).await, Err(WorkerError::Busy { capacity: 1 }));
    assert!(worker.cancel(&"t2".into()));
    assert_eq!(running.await.unwrap(), Err(WorkerError::Cancelled));
    assert_eq!(worker.heartbeat().load, 0);
}

#[tokio::test(start_paused = true)]
async fn shared_limiter_paces_calls() {
    use crate::rate_limit::{RateLimit, TokenBucket};
    let limiter = Arc::new(Mutex::new(TokenBucket::new(RateLimit { requests_per_minute: 60, burst: 1 }, 0)));
    let worker = worker(ScriptedLlm::answering(0, "4"), WorkerConfig::default()).with_limiter(limiter);
    let started = Instant::now();
    let mut waits_ms = Vec::new();
    for task in ["a", "b", "c"] {
        waits_ms.push(worker.execute(request(task, 60_000)).await.unwrap().rate_limit_wait_ms);
    }
    assert!(started.elapsed() >= core::time::Duration::from_millis(2_000), "three calls at one per second");
    // The first call finds a token; the others wait about a second each, and say so.
    assert_eq!(waits_ms[0], 0);
    assert!(waits_ms[1..].iter().all(|wait_ms| (900..=1_100).contains(wait_ms)), "{waits_ms:?}");
}

#[test]
fn invalid_config_is_named() {
    let config = WorkerConfig { capacity: 0, ..WorkerConfig::default() };
    let error = Worker::new("w".into(), config, ScriptedLlm::answering(0, "x"), 1).unwrap_err();
    assert!(error.to_string().contains("worker.capacity"));
}
