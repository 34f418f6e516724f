//! How long a rate-limited reply asks us to wait, from its headers.
//!
//! Servers say it in several ways: `retry-after-ms` (OpenAI, milliseconds),
//! `Retry-After` in seconds or as an HTTP date (RFC 9110), and OpenAI's
//! `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens` as Go-style durations
//! (`1s`, `6m0s`, `20ms`). All are read here, pure functions of the headers and the
//! time `now`, so every form is tested without a clock.

use std::time::SystemTime;

use reqwest::header::HeaderMap;

/// Longest wait taken from a server: a reply asking for more is believed only up to
/// this, so that a misconfigured proxy cannot park a worker for days (its task's
/// deadline ends the wait earlier in any case).
pub const RETRY_AFTER_MS_MAX: u64 = 3_600_000;

/// The wait a reply asks for, in milliseconds, capped at [`RETRY_AFTER_MS_MAX`];
/// `None` when it names none (or only ones that do not parse).
pub(crate) fn retry_after_ms(headers: &HeaderMap, now: SystemTime) -> Option<u64> {
    let explicit = header(headers, "retry-after-ms")
        .and_then(decimal_ms_from_ms)
        .or_else(|| header(headers, "retry-after").and_then(|text| retry_after_header_ms(text, now)));
    explicit.or_else(|| ratelimit_reset_ms(headers)).map(|ms| ms.min(RETRY_AFTER_MS_MAX))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim)
}

/// `Retry-After`: delay-seconds (a decimal is accepted too) or an HTTP date; a date in
/// the past means now.
fn retry_after_header_ms(text: &str, now: SystemTime) -> Option<u64> {
    if let Some(ms) = decimal_ms_from_seconds(text) {
        return Some(ms);
    }
    let at = httpdate::parse_http_date(text).ok()?;
    let wait = at.duration_since(now).unwrap_or_default();
    Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX))
}

/// The reset of whichever limit is exhausted (`x-ratelimit-remaining-* = 0`); the
/// later of both resets when the reply does not say which.
fn ratelimit_reset_ms(headers: &HeaderMap) -> Option<u64> {
    let limits = ["requests", "tokens"].map(|limit| {
        let reset = header(headers, &format!("x-ratelimit-reset-{limit}")).and_then(reset_duration_ms);
        let exhausted = header(headers, &format!("x-ratelimit-remaining-{limit}")).map(|left| left == "0");
        (reset, exhausted)
    });
    let exhausted: Option<u64> =
        limits.iter().filter(|(_, exhausted)| *exhausted == Some(true)).filter_map(|(reset, _)| *reset).max();
    exhausted.or_else(|| limits.iter().filter_map(|(reset, _)| *reset).max())
}

/// A Go-style duration as OpenAI sends it (`6m0s`, `1h2m3.5s`, `20ms`, `0.5s`),
/// rounded up to whole milliseconds; a bare number is seconds.
pub(crate) fn reset_duration_ms(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    if let Some(ms) = decimal_ms_from_seconds(text) {
        return Some(ms);
    }
    let mut rest = text;
    let mut total_us: u64 = 0;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).filter(|&end| end > 0)?;
        let (number, after) = rest.split_at(number_end);
        let unit_end = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        let unit_us: u64 = match unit {
            "h" => 3_600_000_000,
            "m" => 60_000_000,
            "s" => 1_000_000,
            "ms" => 1_000,
            "us" | "\u{b5}s" => 1,
            _ => return None,
        };
        total_us = total_us.saturating_add(scaled(number, unit_us)?);
        rest = after;
    }
    Some(total_us.div_ceil(1_000))
}

fn decimal_ms_from_seconds(text: &str) -> Option<u64> {
    scaled(text, 1_000_000).map(|us| us.div_ceil(1_000))
}

fn decimal_ms_from_ms(text: &str) -> Option<u64> {
    scaled(text, 1_000).map(|us| us.div_ceil(1_000))
}

/// `number` (digits, at most one `.`) times `unit_us`, in microseconds, rounded up;
/// `None` for anything else, so a negative or exotic value is not a wait.
fn scaled(number: &str, unit_us: u64) -> Option<u64> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole_value: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    // Six fractional digits are below a microsecond for any unit used here.
    let digits = &fraction[..fraction.len().min(6)];
    let fraction_value: u64 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    let fraction_scale = 10u64.pow(digits.len() as u32);
    let fraction_us = (fraction_value * unit_us).div_ceil(fraction_scale);
    Some(whole_value.saturating_mul(unit_us).saturating_add(fraction_us))
}

#[cfg(test)]
mod tests {
    use core::time::Duration;

    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn durations_in_go_style() {
        assert_eq!(reset_duration_ms("1s"), Some(1_000));
        assert_eq!(reset_duration_ms("6m0s"), Some(360_000));
        assert_eq!(reset_duration_ms("20ms"), Some(20));
        assert_eq!(reset_duration_ms("1h2m3.5s"), Some(3_723_500));
        assert_eq!(reset_duration_ms("0.5s"), Some(500));
        assert_eq!(reset_duration_ms("1.2ms"), Some(2), "rounded up");
        assert_eq!(reset_duration_ms("2"), Some(2_000), "a bare number is seconds");
        for bad in ["", "s", "5x", "-1s", "1..2s", "ms5"] {
            assert_eq!(reset_duration_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after_ms(&headers(&[("retry-after", "7")]), now), Some(7_000));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(retry_after_ms(&headers(&[("retry-after", &date)]), now), Some(30_000));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(retry_after_ms(&headers(&[("retry-after", &past)]), now), Some(0));
        assert_eq!(retry_after_ms(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after_ms(&headers(&[("retry-after", "99999999")]), now), Some(RETRY_AFTER_MS_MAX));
    }

    #[test]
    fn milliseconds_header_wins_over_seconds() {
        let now = SystemTime::UNIX_EPOCH;
        let map = headers(&[("retry-after-ms", "250.5"), ("retry-after", "1")]);
        assert_eq!(retry_after_ms(&map, now), Some(251));
    }

    #[test]
    fn reset_of_the_exhausted_limit() {
        let now = SystemTime::UNIX_EPOCH;
        let both = [("x-ratelimit-reset-requests", "20ms"), ("x-ratelimit-reset-tokens", "6m0s")];
        assert_eq!(retry_after_ms(&headers(&both), now), Some(360_000), "the later one when unknown");
        let requests_out = headers(&[
            both[0],
            both[1],
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-remaining-tokens", "1500"),
        ]);
        assert_eq!(retry_after_ms(&requests_out, now), Some(20));
        let explicit = headers(&[both[0], ("retry-after", "3")]);
        assert_eq!(retry_after_ms(&explicit, now), Some(3_000), "Retry-After first");
        assert_eq!(retry_after_ms(&HeaderMap::new(), now), None);
    }
}
