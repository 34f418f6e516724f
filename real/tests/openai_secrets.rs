//! A planted key never shows: not in tracing output (at TRACE, the HTTP stack's
//! included), not in any error's `Display` or `Debug`, not in the client's or the
//! config's `Debug`, even when the server's messages quote it.

mod fault_server;

use std::io::Write;
use std::sync::{Arc, Mutex};

use fault_server::{FaultServer, Reply};
use quorum_core::{CompletionRequest, Embedder, Llm};
use quorum_real::openai::{ApiKey, OpenAiConfig, OpenAiLlm};

const PLANTED: &str = "sk-PLANTED-5e1f0c9a7b";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_key_appears_nowhere() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer({
            let logs = logs.clone();
            move || logs.clone()
        })
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let quoting = format!("Incorrect API key provided: {PLANTED}. You can find your API key at ...");
    let script = vec![
        Reply::error(401, "invalid_request_error", "invalid_api_key", &quoting),
        Reply::error(400, "invalid_request_error", "bad", &quoting),
        Reply::json(404, &format!(r#"{{"error":"{PLANTED}"}}"#)),
        Reply::error(429, "requests", "rate_limit_exceeded", &quoting).with_header("Retry-After", "0"),
        Reply::error(500, "server_error", PLANTED, &quoting),
        Reply::json(200, &format!("not json {PLANTED}")),
        Reply::json(200, &format!(r#"{{"id": "{PLANTED}", "choices": 7}}"#)),
        Reply::completion(&format!("the key was {PLANTED}"), "stop", 1, 1),
        Reply::Stall,
    ];
    let calls = script.len();
    let server = FaultServer::start(script).await;
    let config = OpenAiConfig {
        base_url: server.base_url.clone(),
        api_key: Some(ApiKey::new(PLANTED).unwrap()),
        request_timeout_ms: 300,
        ..OpenAiConfig::default()
    };
    let llm = OpenAiLlm::new(config.clone()).unwrap();
    let mut shown = format!("{llm:?} {config:?} {:?}", config.api_key);
    let request =
        CompletionRequest { system: "s".into(), prompt: "p".into(), completion_tokens_max: 8, temperature: 0.0 };
    for _ in 0..calls - 1 {
        match llm.complete(request.clone()).await {
            Ok(completion) => assert!(completion.text.contains("the key was"), "the model's own text"),
            Err(error) => shown.push_str(&format!("{error} {error:?}\n")),
        }
    }
    let error = llm.embed(&["x".to_owned()]).await.unwrap_err();
    shown.push_str(&format!("{error} {error:?}\n"));
    for url in [format!("http://u:{PLANTED}@127.0.0.1/v1"), "nonsense".to_owned()] {
        let error = OpenAiConfig::from_vars(|name| match name {
            "OPENAI_BASE_URL" => Some(url.clone()),
            "OPENAI_API_KEY" => Some(PLANTED.to_owned()),
            _ => None,
        })
        .unwrap_err();
        shown.push_str(&format!("{error} {error:?}\n"));
    }
    let error = ApiKey::new(&format!("{PLANTED}\u{7}")).unwrap_err();
    shown.push_str(&format!("{error} {error:?}\n"));

    let sent = server.requests();
    assert_eq!(sent.len(), calls, "every call reached the server");
    assert!(sent.iter().all(|r| r.header("authorization") == Some(format!("Bearer {PLANTED}").as_str())));
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("model call failed"), "the logs were captured:\n{logs}");
    assert!(shown.contains("authentication refused") && shown.contains("redacted"), "{shown}");
    assert!(!logs.contains(PLANTED), "the key is in the logs:\n{logs}");
    assert!(!shown.contains(PLANTED), "the key is in an error or a Debug:\n{shown}");
}
