//! The HTML report, opened in headless Chromium: it must render a full page of
//! content, not a blank or broken one. Chromium comes from `scripts/setup.sh`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use quorum_scenarios::{Invocation, find, render_report, run_scenario};
use quorum_sim::RunBudget;

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
    let dir = scratch();
    let png = dir.join(format!("{name}.png"));
    let profile = dir.join(format!("{name}-profile"));
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
            &format!("--screenshot={}", png.display()),
            url,
        ])
        .stdout(Stdio::null())
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
    measure(&png)
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
