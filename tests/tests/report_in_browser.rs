//! The HTML report, opened in headless Chromium: it must render a full page of
//! content, not a blank or broken one; its faults must sit where they belong, and a
//! click on a mark must find its task. Chromium comes from `scripts/setup.sh`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use quorum_scenarios::{Invocation, find, render_report, run_scenario};
use quorum_sim::{FaultKind, Happening, RunBudget, TraceEvent};
use serde_json::Value;

const WIDTH: u32 = 1300;
const HEIGHT: u32 = 900;
/// A browser that has not finished by then is stuck.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser"] {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join(name))
            .find(|p| p.is_file());
        if let Some(path) = found {
            return path;
        }
    }
    panic!("Chromium is not installed: run scripts/setup.sh (the README's test command does)");
}

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quorum-browser-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Screenshots `url` and returns (width, height, share of non-white pixels, distinct colours).
fn screenshot(url: &str, name: &str) -> (u32, u32, f64, usize) {
    let png = scratch().join(format!("{name}.png"));
    run_chromium(name, &format!("--screenshot={}", png.display()), url, Stdio::null());
    measure(&png)
}

/// The page's DOM after its scripts ran, as Chromium serialises it.
fn dump_dom(url: &str, name: &str) -> String {
    let dom = scratch().join(format!("{name}.dom.html"));
    run_chromium(name, "--dump-dom", url, Stdio::from(std::fs::File::create(&dom).unwrap()));
    std::fs::read_to_string(&dom).unwrap()
}

fn run_chromium(name: &str, action: &str, url: &str, stdout: Stdio) {
    let profile = scratch().join(format!("{name}-profile"));
    // The flags keep Chromium off the network entirely (this machine has none), as
    // a self-contained report must not need it.
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", profile.display()),
            &format!("--window-size={WIDTH},{HEIGHT}"),
            action,
            url,
        ])
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn measure(png: &Path) -> (u32, u32, f64, usize) {
    let decoder =
        png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).expect("a screenshot was written")));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buffer).unwrap();
    let channels = frame.color_type.samples();
    let pixels = &buffer[..frame.buffer_size()];
    let mut non_white = 0usize;
    let mut colours = std::collections::BTreeSet::new();
    for pixel in pixels.chunks(channels) {
        let rgb = [pixel[0], pixel[1], pixel.get(2).copied().unwrap_or(pixel[0])];
        if rgb.iter().any(|&c| c < 240) {
            non_white += 1;
        }
        // Coarse buckets: anti-aliasing noise does not count as colours.
        colours.insert([rgb[0] / 32, rgb[1] / 32, rgb[2] / 32]);
    }
    let total = (frame.width * frame.height) as f64;
    (frame.width, frame.height, non_white as f64 / total, colours.len())
}

#[test]
fn the_report_renders_a_timeline_and_a_table_in_chromium() {
    let scenario = find("worker-crash").unwrap();
    let (run, outcome) = run_scenario(&scenario, 2, &Invocation::catalogue(), RunBudget::default()).unwrap();
    let path = scratch().join("report.html");
    std::fs::write(&path, render_report(&scenario, &run, &outcome)).unwrap();

    let (width, height, ink, colours) = screenshot(&format!("file://{}", path.display()), "report");
    assert_eq!((width, height), (WIDTH, HEIGHT));
    assert!(ink > 0.05, "only {:.1}% of the page is drawn", ink * 100.0);
    assert!(colours >= 8, "the timeline's marks and faults are in colour: {colours} colours");

    // Control: the same measurement calls an empty page empty, so the checks above
    // can fail.
    let blank = scratch().join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").unwrap();
    let (_, _, blank_ink, _) = screenshot(&format!("file://{}", blank.display()), "blank");
    assert!(blank_ink < 0.01, "a blank page measured {:.1}% ink", blank_ink * 100.0);
}

/// Appended to a copy of the report: measures the laid-out faults, lanes and hover
/// texts, then clicks a mark of `TASK` as a user would, and writes what it found into
/// `<pre id="measured">` for `--dump-dom`.
const MEASURE: &str = r#"<script>(function(){
function box(e){var b=e.getBoundingClientRect();return {left:b.left,top:b.top,right:b.right,bottom:b.bottom};}
function all(selector){return Array.prototype.map.call(document.querySelectorAll(selector),function(e){
return {fault:e.getAttribute('data-fault'),host:e.getAttribute('data-host'),lane:e.getAttribute('data-lane'),box:box(e)};});}
var out={lanes:all('[data-lane]'),bars:all('.fault-bar'),shades:all('.shade'),restarts:all('.restart')};
out.titles=Array.prototype.map.call(document.querySelectorAll('svg title'),function(t){return t.textContent;});
function highlighted(){return Array.prototype.map.call(document.querySelectorAll('tr.highlight'),function(r){return r.id;});}
out.before=highlighted();
var row=document.getElementById('task-TASK');
out.row_before=row?box(row):null;
var mark=document.querySelector('svg [data-task="TASK"]');
out.clicked=mark!==null;
if(mark){mark.dispatchEvent(new MouseEvent('click',{bubbles:true,cancelable:true,view:window}));}
out.after=highlighted();
out.row=row?box(row):null;
out.viewport=window.innerHeight;
var pre=document.createElement('pre');pre.id='measured';pre.textContent=JSON.stringify(out);document.body.appendChild(pre);
})();</script>"#;

/// The first swarm seed whose faults include a crash the host comes back from, a
/// partition, and two faults at once.
fn swarm_run_with_every_kind_of_fault_drawing() -> (u64, Vec<TraceEvent>, String) {
    let scenario = find("swarm").unwrap();
    for seed in 1..=40 {
        let (run, outcome) = run_scenario(&scenario, seed, &Invocation::catalogue(), RunBudget::default()).unwrap();
        let events = outcome.trace.events();
        let faults: Vec<(bool, &FaultKind)> = events
            .iter()
            .filter_map(|e| match &e.what {
                Happening::Fault { start, fault } => Some((*start, fault)),
                _ => None,
            })
            .collect();
        let restarted = events.windows(2).any(|pair| {
            matches!(&pair[0].what, Happening::Fault { start: false, fault: FaultKind::Crash { host } } if *host == pair[1].host)
                && matches!(pair[1].what, Happening::WorkerStart)
        });
        let partition = faults.iter().any(|(start, fault)| *start && matches!(fault, FaultKind::Partition { .. }));
        let mut open = 0i32;
        let overlap = faults.iter().any(|(start, _)| {
            open += if *start { 1 } else { -1 };
            open >= 2
        });
        if restarted && partition && overlap {
            return (seed, events, render_report(&scenario, &run, &outcome));
        }
    }
    panic!("no swarm seed in 1..=40 has a restarted crash, a partition and overlapping faults");
}

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap()
}

#[test]
fn faults_sit_on_their_lanes_and_a_click_finds_the_task_in_chromium() {
    let (seed, events, html) = swarm_run_with_every_kind_of_fault_drawing();
    // The last task decided: its row is far down the table, out of view until clicked.
    let task = events
        .iter()
        .rev()
        .filter(|e| e.host == "supervisor")
        .find_map(|e| match &e.what {
            Happening::Result { task, .. } => Some(task.to_string()),
            _ => None,
        })
        .unwrap();
    let page = html.replace("</body>", &format!("{}</body>", MEASURE.replace("TASK", &task)));
    let path = scratch().join("measured.html");
    std::fs::write(&path, page).unwrap();
    let dom = dump_dom(&format!("file://{}", path.display()), "measured");
    let json = dom
        .split("<pre id=\"measured\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("seed {seed}: the measuring script did not run"))
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&");
    let measured: Value = serde_json::from_str(&json).unwrap();
    let lane = |host: &str| -> (f64, f64) {
        let lane = measured["lanes"].as_array().unwrap().iter().find(|l| l["lane"] == host).unwrap();
        (number(&lane["box"]["top"]), number(&lane["box"]["bottom"]))
    };
    let near = |a: f64, b: f64| (a - b).abs() < 1.0;

    // A crash's shading and bar end where the host comes back, at its restart mark.
    let restarts = measured["restarts"].as_array().unwrap();
    assert!(!restarts.is_empty(), "seed {seed}: the restart is drawn");
    for restart in restarts {
        let restart_x = (number(&restart["box"]["left"]) + number(&restart["box"]["right"])) / 2.0;
        let host = restart["host"].as_str().unwrap();
        let shade = measured["shades"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["fault"] == restart["fault"] && s["host"] == host)
            .expect("the crashed host's lane is shaded");
        let bar = measured["bars"].as_array().unwrap().iter().find(|b| b["fault"] == restart["fault"]).unwrap();
        assert!(near(number(&shade["box"]["right"]), restart_x), "seed {seed}: {shade} ends at the restart {restart}");
        assert!(near(number(&bar["box"]["right"]), restart_x), "seed {seed}: {bar} ends at the restart {restart}");
        let (top, bottom) = lane(host);
        assert!(number(&restart["box"]["top"]) >= top - 0.5 && number(&restart["box"]["bottom"]) <= bottom + 0.5);
    }

    // A partition shades exactly the lanes of the hosts on either side.
    let started: Vec<&FaultKind> = events
        .iter()
        .filter_map(|e| match &e.what {
            Happening::Fault { start: true, fault } => Some(fault),
            _ => None,
        })
        .collect();
    let (index, (left, right)) = started
        .iter()
        .enumerate()
        .find_map(|(index, fault)| match fault {
            FaultKind::Partition { left, right } => Some((index, (left, right))),
            _ => None,
        })
        .unwrap();
    let mut involved: Vec<&str> = left.iter().chain(right).map(String::as_str).collect();
    involved.sort();
    let shades: Vec<&Value> =
        measured["shades"].as_array().unwrap().iter().filter(|s| s["fault"] == index.to_string().as_str()).collect();
    let mut shaded: Vec<&str> = shades.iter().map(|s| s["host"].as_str().unwrap()).collect();
    shaded.sort();
    assert_eq!(shaded, involved, "seed {seed}: partition {left:?} | {right:?}");
    for shade in &shades {
        let (top, bottom) = lane(shade["host"].as_str().unwrap());
        assert!(near(number(&shade["box"]["top"]), top) && near(number(&shade["box"]["bottom"]), bottom), "{shade}");
    }
    // Swarm partitions may cut the client off too; when this one does not, no shade
    // reaches into its lane.
    if !involved.contains(&"client") {
        let (client_top, _) = lane("client");
        assert!(
            shades.iter().all(|s| number(&s["box"]["bottom"]) <= client_top + 0.5),
            "the client lane is not shaded"
        );
    }

    // Faults at the same time are on different rows of the faults area.
    let bars = measured["bars"].as_array().unwrap();
    let mut overlapping = 0;
    for (i, a) in bars.iter().enumerate() {
        for b in &bars[i + 1..] {
            let (a, b) = (&a["box"], &b["box"]);
            if number(&a["left"]) < number(&b["right"]) - 1.0 && number(&b["left"]) < number(&a["right"]) - 1.0 {
                overlapping += 1;
                assert!(
                    number(&a["bottom"]) <= number(&b["top"]) || number(&b["bottom"]) <= number(&a["top"]),
                    "seed {seed}: overlapping faults drawn on top of each other: {a} {b}"
                );
            }
        }
    }
    assert!(overlapping > 0, "seed {seed}: two faults overlap in time");
    let (faults_top, faults_bottom) = lane("faults");
    assert!(
        bars.iter().all(|b| number(&b["box"]["top"]) >= faults_top && number(&b["box"]["bottom"]) <= faults_bottom)
    );

    // Hover texts are sentences that start with the time, never raw JSON.
    let titles: Vec<&str> = measured["titles"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert!(titles.len() > 100, "{} hover texts", titles.len());
    for title in &titles {
        let (time, sentence) = title.split_once(" s: ").unwrap_or_else(|| panic!("no time first: {title}"));
        assert!(time.parse::<f64>().is_ok() && sentence.len() > 5, "{title}");
        assert!(!title.contains('{') && !title.contains('}'), "raw JSON in: {title}");
    }
    assert!(titles.iter().any(|t| t.contains(": partition between ") && t.contains(" starts (lasts ")));
    assert!(titles.iter().any(|t| t.contains(" restarts after its crash at ")));
    assert!(titles.iter().any(|t| t.contains(" asked the model about t") && t.contains(": answered \"")));

    // A click on a mark of the task highlights its row, and only it, and scrolls it
    // into view.
    assert_eq!(measured["clicked"], true, "a mark of {task} exists");
    assert_eq!(measured["before"], serde_json::json!([]), "nothing highlighted before the click");
    assert_eq!(measured["after"], serde_json::json!([format!("task-{task}")]));
    let viewport = number(&measured["viewport"]);
    assert!(number(&measured["row_before"]["top"]) > viewport, "the row of {task} starts out of view");
    let row = &measured["row"];
    assert!(
        number(&row["top"]) >= 0.0 && number(&row["bottom"]) <= viewport,
        "the row of {task} is in view after the click: {row}, viewport {viewport}"
    );
}
