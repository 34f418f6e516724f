use super::*;

fn limits() -> DelegationLimits {
    DelegationLimits::default()
}

fn delegate(subtasks: &[&str]) -> NextStep {
    NextStep::Delegate { subtasks: subtasks.iter().map(|text| (*text).to_owned()).collect() }
}

#[test]
fn reads_plain_fenced_and_wrapped_replies() {
    let plain = parse_next_step(r#"{"step": "delegate", "subtasks": ["a", " b "]}"#, &limits());
    assert_eq!(plain, Ok(delegate(&["a", "b"])));
    assert_eq!(parse_next_step(r#"{"step":"execute"}"#, &limits()), Ok(NextStep::Execute));
    let fenced = "```json\n{\"step\": \"Execute\", \"reason\": \"simple\"}\n```";
    assert_eq!(parse_next_step(fenced, &limits()), Ok(NextStep::Execute));
    let prose = "Sure! Here is my plan: {\"step\": \"DELEGATE\", \"subtasks\": [\"x {1}\", \"y\"]} Hope it helps {.";
    assert_eq!(parse_next_step(prose, &limits()), Ok(delegate(&["x {1}", "y"])));
    // A brace in the prose before the object is skipped.
    let brace_first = "Steps {in order}: {\"step\": \"execute\"}";
    assert_eq!(parse_next_step(brace_first, &limits()), Ok(NextStep::Execute));
}

#[test]
fn names_what_is_wrong() {
    let parse = |reply: &str| parse_next_step(reply, &limits());
    assert_eq!(parse("  \n "), Err(NextStepError::Empty));
    assert_eq!(parse("I would just answer it."), Err(NextStepError::NoJsonObject));
    assert_eq!(parse("{\"step\": \"deleg"), Err(NextStepError::NoJsonObject));
    assert_eq!(parse("[\"execute\"]"), Err(NextStepError::NoJsonObject));
    assert_eq!(parse("{\"plan\": \"execute\"}"), Err(NextStepError::MissingStep));
    assert_eq!(parse("{\"step\": 1}"), Err(NextStepError::MissingStep));
    assert_eq!(parse("{\"step\": \"vote\"}"), Err(NextStepError::UnknownStep { step: "vote".into() }));
    assert_eq!(parse("{\"step\": \"delegate\"}"), Err(NextStepError::MissingSubtasks));
    assert_eq!(parse("{\"step\": \"delegate\", \"subtasks\": \"a, b\"}"), Err(NextStepError::MissingSubtasks));
    assert_eq!(
        parse("{\"step\": \"delegate\", \"subtasks\": [\"a\", 2]}"),
        Err(NextStepError::SubtaskNotText { index: 1 })
    );
    assert_eq!(parse("{\"step\": \"delegate\", \"subtasks\": []}"), Err(NextStepError::TooFewSubtasks { count: 0 }));
    assert_eq!(
        parse("{\"step\": \"delegate\", \"subtasks\": [\"only\"]}"),
        Err(NextStepError::TooFewSubtasks { count: 1 })
    );
    assert_eq!(
        parse("{\"step\": \"delegate\", \"subtasks\": [\"a\", \"  \"]}"),
        Err(NextStepError::EmptySubtask { index: 1 })
    );
}

#[test]
fn an_unknown_step_is_quoted_only_in_part() {
    let reply = format!("{{\"step\": \"{}\"}}", "é".repeat(100));
    let Err(NextStepError::UnknownStep { step }) = parse_next_step(&reply, &limits()) else {
        panic!("expected an unknown step");
    };
    assert!(step.len() <= STEP_EXCERPT_BYTES_MAX);
    assert_eq!(step, "é".repeat(STEP_EXCERPT_BYTES_MAX / 2));
}

#[test]
fn subtask_count_is_bounded_by_the_limits() {
    let reply = |count: usize| {
        let subtasks: Vec<String> = (0..count).map(|index| format!("part {index}")).collect();
        serde_json::json!({ "step": "delegate", "subtasks": subtasks }).to_string()
    };
    let narrow = DelegationLimits { subtasks_max: 3, ..limits() };
    for count in 2..=3 {
        let Ok(NextStep::Delegate { subtasks }) = parse_next_step(&reply(count), &narrow) else {
            panic!("{count} subtasks are within 2..=3");
        };
        assert_eq!(subtasks.len(), count);
    }
    assert_eq!(parse_next_step(&reply(4), &narrow), Err(NextStepError::TooManySubtasks { count: 4, subtasks_max: 3 }));
    assert!(parse_next_step(&reply(4), &limits()).is_ok());
}

#[test]
fn texts_are_bounded() {
    let long = "x".repeat(TASK_TEXT_BYTES_MAX + 1);
    let reply = serde_json::json!({ "step": "delegate", "subtasks": ["a", long] }).to_string();
    assert_eq!(
        parse_next_step(&reply, &limits()),
        Err(NextStepError::SubtaskTooLong { index: 1, bytes: TASK_TEXT_BYTES_MAX + 1 })
    );
    let exactly = "x".repeat(TASK_TEXT_BYTES_MAX);
    let reply = serde_json::json!({ "step": "delegate", "subtasks": ["a", exactly] }).to_string();
    assert!(parse_next_step(&reply, &limits()).is_ok());
    let huge = format!("{{\"step\": \"execute\"}}{}", " ".repeat(NEXT_STEP_REPLY_BYTES_MAX));
    assert_eq!(parse_next_step(&huge, &limits()), Err(NextStepError::TooLong { bytes: huge.len() }));
}

#[test]
fn hostile_braces_are_tried_a_bounded_number_of_times() {
    // Past the first OBJECT_STARTS_TRIED_MAX braces the object is not looked for.
    let reply = format!("{}{{\"step\": \"execute\"}}", "{ ".repeat(OBJECT_STARTS_TRIED_MAX));
    assert_eq!(parse_next_step(&reply, &limits()), Err(NextStepError::NoJsonObject));
    let reply = format!("{}{{\"step\": \"execute\"}}", "{ ".repeat(OBJECT_STARTS_TRIED_MAX - 1));
    assert_eq!(parse_next_step(&reply, &limits()), Ok(NextStep::Execute));
}

#[test]
fn limits_default_validate_and_parse_strictly() {
    assert_eq!(limits(), DelegationLimits { depth_max: 2, subtasks_max: 4 });
    assert!(limits().validate().is_ok());
    assert!(DelegationLimits { depth_max: DELEGATION_DEPTH_MAX + 1, ..limits() }.validate().is_err());
    assert!(DelegationLimits { subtasks_max: 1, ..limits() }.validate().is_err());
    assert!(DelegationLimits { subtasks_max: SUBTASKS_MAX + 1, ..limits() }.validate().is_err());
    assert!(DelegationLimits { depth_max: 0, subtasks_max: SUBTASKS_MAX }.validate().is_ok());
    let parsed: DelegationLimits = serde_json::from_str(r#"{"depth_max": 1}"#).unwrap();
    assert_eq!(parsed, DelegationLimits { depth_max: 1, subtasks_max: 4 });
    assert!(serde_json::from_str::<DelegationLimits>(r#"{"depth": 1}"#).is_err());
}

#[test]
fn planner_prompt_is_marked_and_carries_the_task() {
    let request = planner_prompt("How many legs do 3 spiders have?", 1, &limits());
    assert!(request.system.starts_with(PLANNER_SYSTEM_PREFIX));
    assert!(request.system.contains("between 2 and 4"));
    assert!(request.system.contains("1 more level(s)"));
    assert_eq!(request.prompt, "How many legs do 3 spiders have?");
    assert_eq!(request.completion_tokens_max, PLANNER_COMPLETION_TOKENS_MAX);
    // A task at the depth limit (or past it) is told no more splitting is allowed.
    assert!(planner_prompt("t", 5, &limits()).system.contains("0 more level(s)"));
}

#[test]
fn subtask_text_contains_the_parent_and_stays_bounded() {
    let text = subtask_text("What is 6 * 7?", "Multiply 6 by 7", 1, 2);
    assert_eq!(text, "Multiply 6 by 7\n\n(Part 1 of 2 of the task: What is 6 * 7?)");

    // A huge subtask is cut, on a char boundary, to fit; the parent stays whole.
    let parent = "p".repeat(TASK_TEXT_BYTES_MAX / 2);
    let text = subtask_text(&parent, &"ü".repeat(TASK_TEXT_BYTES_MAX), 2, 3);
    assert!(text.len() <= TASK_TEXT_BYTES_MAX);
    assert!(text.len() >= TASK_TEXT_BYTES_MAX - 1, "the room is used");
    assert!(text.contains(&parent));
    assert!(text.starts_with('ü'));

    // A parent with no room left keeps every byte; the subtask goes.
    let parent = "q".repeat(TASK_TEXT_BYTES_MAX);
    let text = subtask_text(&parent, "anything", 1, 2);
    assert!(text.contains(&parent));
    assert!(!text.contains("anything"));
}

#[test]
fn compose_text_contains_the_parent_parts_and_answers() {
    let parts = vec![("Count the legs of one spider".to_owned(), Some("8".to_owned())), ("Times 3".to_owned(), None)];
    let text = compose_text("How many legs do 3 spiders have?", &parts);
    assert!(text.starts_with("Task: How many legs do 3 spiders have?\n"));
    assert!(text.contains("Part 1: Count the legs of one spider\nAnswer 1: 8\n"));
    assert!(text.contains(&format!("Part 2: Times 3\nAnswer 2: {NO_ANSWER}\n")));
    assert!(text.ends_with("give the answer to the task itself."));
}

#[test]
fn compose_text_stays_bounded_keeping_the_parent_and_the_answers() {
    let parent = "r".repeat(TASK_TEXT_BYTES_MAX / 4);
    let parts: Vec<(String, Option<String>)> =
        (0..4).map(|index| ("s".repeat(TASK_TEXT_BYTES_MAX), Some(format!("answer-{index}")))).collect();
    let text = compose_text(&parent, &parts);
    assert!(text.len() <= TASK_TEXT_BYTES_MAX);
    assert!(text.contains(&parent));
    for index in 0..4 {
        assert!(text.contains(&format!("answer-{index}")), "answer {index} kept");
    }
    assert!(text.ends_with("give the answer to the task itself."));

    // More parts than there is room for even their labels: still bounded.
    let many: Vec<(String, Option<String>)> = (0..20_000).map(|_| (String::new(), None)).collect();
    let text = compose_text(&parent, &many);
    assert!(text.len() <= TASK_TEXT_BYTES_MAX);
    assert!(text.contains(&parent));
}

#[test]
fn next_step_serialises_in_the_planner_reply_form() {
    let json = serde_json::to_string(&delegate(&["a", "b"])).unwrap();
    assert_eq!(parse_next_step(&json, &limits()), Ok(delegate(&["a", "b"])));
    assert_eq!(serde_json::to_string(&NextStep::Execute).unwrap(), r#"{"step":"execute"}"#);
}
