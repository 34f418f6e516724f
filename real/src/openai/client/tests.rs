use super::*;

fn chat_body(content: &str, finish_reason: Option<&str>) -> String {
    serde_json::json!({
        "id": "c1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
    })
    .to_string()
}

#[test]
fn a_completion_with_its_usage() {
    let completion = completion_from(chat_body("4", Some("stop")).as_bytes(), None).unwrap();
    assert_eq!(completion, Completion { text: "4".into(), prompt_tokens: 12, completion_tokens: 5, truncated: false });
}

#[test]
fn anything_but_stop_is_truncated() {
    for reason in [Some("length"), Some("content_filter"), None] {
        let completion = completion_from(chat_body("The answer is", reason).as_bytes(), None).unwrap();
        assert!(completion.truncated, "{reason:?}");
    }
}

#[test]
fn garbage_is_a_bad_response_never_a_panic() {
    let bodies = [
        "".to_owned(),
        "{".to_owned(),
        "null".to_owned(),
        "\u{0}\u{ff}".to_owned(),
        r#"{"choices": "no"}"#.to_owned(),
        chat_body("x", Some("stop")).replace(r#""choices":[{"#, r#""choices":[],"x":[{"#),
        chat_body("x", Some("stop")).replace(r#""content":"x""#, r#""content":null"#),
        chat_body("x", Some("a_new_reason")),
    ];
    for body in bodies {
        let error = completion_from(body.as_bytes(), None).unwrap_err();
        assert!(matches!(error, LlmError::BadResponse { .. }), "{body}: {error}");
    }
}

#[test]
fn embeddings_come_back_in_the_texts_order() {
    let body = serde_json::json!({
        "object": "list", "model": "e",
        "data": [{"index": 1, "object": "embedding", "embedding": [0.0, 1.0]},
                 {"index": 0, "object": "embedding", "embedding": [1.0, 0.0]}],
        "usage": {"prompt_tokens": 4, "total_tokens": 4}
    });
    let vectors = embeddings_from(body.to_string().as_bytes(), 2, None).unwrap();
    assert_eq!(vectors, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
    for (data, texts) in [
        (r#"[{"index":0,"object":"embedding","embedding":[1.0]}]"#, 2),
        (
            r#"[{"index":0,"object":"embedding","embedding":[1.0]},{"index":0,"object":"embedding","embedding":[1.0]}]"#,
            2,
        ),
        (r#"[{"index":5,"object":"embedding","embedding":[1.0]}]"#, 1),
    ] {
        let body =
            format!(r#"{{"object":"list","model":"e","data":{data},"usage":{{"prompt_tokens":1,"total_tokens":1}}}}"#);
        let error = embeddings_from(body.as_bytes(), texts, None).unwrap_err();
        assert!(matches!(error, LlmError::BadResponse { .. }), "{data}: {error}");
    }
}

#[test]
fn the_token_cap_field_follows_the_endpoint() {
    let request =
        CompletionRequest { system: "s".into(), prompt: "p".into(), completion_tokens_max: 64, temperature: 0.5 };
    let local =
        OpenAiLlm::new(OpenAiConfig { base_url: "http://127.0.0.1:9/v1".into(), ..OpenAiConfig::default() }).unwrap();
    let body = serde_json::to_value(local.chat_request(&request)).unwrap();
    assert_eq!((body["max_tokens"].as_u64(), body.get("max_completion_tokens")), (Some(64), None));
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["content"], "p");
    let openai = OpenAiLlm::new(OpenAiConfig::default()).unwrap();
    let body = serde_json::to_value(openai.chat_request(&request)).unwrap();
    assert_eq!((body["max_completion_tokens"].as_u64(), body.get("max_tokens")), (Some(64), None));
}
