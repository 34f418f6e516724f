//! Faults: scheduled ones ("at t, for d") and random "swarm" ones whose very
//! probabilities come from the seed, expanded into one deterministic timeline.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use quorum_core::SeededRng;

/// What goes wrong.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum FaultKind {
    /// No traffic either way between every host of `left` and every host of `right`.
    Partition {
        /// One side.
        left: Vec<String>,
        /// The other side.
        right: Vec<String>,
    },
    /// No traffic from `from` to `to`; the other direction still works.
    PartitionOneWay {
        /// Senders cut off.
        from: Vec<String>,
        /// Receivers.
        to: Vec<String>,
    },
    /// Messages between the sides are held, then all delivered at the end.
    Hold {
        /// One side.
        left: Vec<String>,
        /// The other side.
        right: Vec<String>,
    },
    /// The host crashes (losing its memory) and restarts after the duration.
    Crash {
        /// Which host.
        host: String,
    },
    /// Message latency between the sides rises to up to `latency_ms`.
    Latency {
        /// One side.
        left: Vec<String>,
        /// The other side.
        right: Vec<String>,
        /// The new maximum latency.
        latency_ms: u64,
    },
    /// Every LLM call fails with a rate limit with this probability.
    LlmStorm {
        /// Probability per call.
        error_rate: f64,
    },
}

impl FaultKind {
    /// Its name, as scenario files write it (`partition`, `crash`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Partition { .. } => "partition",
            Self::PartitionOneWay { .. } => "partition_one_way",
            Self::Hold { .. } => "hold",
            Self::Crash { .. } => "crash",
            Self::Latency { .. } => "latency",
            Self::LlmStorm { .. } => "llm_storm",
        }
    }
}

/// A fault at a time, for a while.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Start, ms of simulated time.
    pub at_ms: u64,
    /// How long it lasts; the liveness phase ends it in any case.
    pub duration_ms: u64,
    /// What.
    #[serde(flatten)]
    pub kind: FaultKind,
}

/// Random faults, "swarm" style: which kinds occur and how often is itself drawn from
/// the seed, so different seeds explore different mixes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Swarm {
    /// How often a fault may start. Default every 2 s.
    pub period_ms: u64,
    /// Longest fault. Default 8 s.
    pub duration_ms_max: u64,
    /// Overall intensity; each kind's probability per period is drawn from
    /// `0..intensity`. Default 0.3.
    pub intensity: f64,
    /// Whether the supervisor may crash. Default true.
    pub crash_supervisor: bool,
}

impl Default for Swarm {
    fn default() -> Self {
        Self { period_ms: 2_000, duration_ms_max: 8_000, intensity: 0.3, crash_supervisor: true }
    }
}

/// Everything that goes wrong in a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultPlan {
    /// Faults at fixed times.
    pub faults: Vec<Fault>,
    /// Random faults, if any.
    pub swarm: Option<Swarm>,
}

/// Longest fault (1 h): the run lasts until every fault has ended.
const FAULT_DURATION_MS_MAX: u64 = 3_600_000;
/// Highest latency a latency fault may set (60 s).
pub(crate) const FAULT_LATENCY_MS_MAX: u64 = 60_000;
/// Shortest swarm period: more often would be thousands of faults a minute.
const SWARM_PERIOD_MS_MIN: u64 = 100;
/// Shortest fault a swarm draws.
const SWARM_DURATION_MS_MIN: u64 = 500;

/// A fault plan field that cannot work: the field's path and why.
type FieldError = (String, String);

/// The hosts a fault plan may name.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hosts<'a> {
    /// Workers and spares.
    pub workers: &'a [String],
    /// The client's host name (may be cut off, never crashed).
    pub client: &'a str,
    /// The supervisor's host name.
    pub supervisor: &'a str,
}

impl Hosts<'_> {
    fn check(&self, field: &str, host: &str, crash: bool) -> Result<(), FieldError> {
        if crash && host == self.client {
            return Err((field.to_owned(), format!("{host:?} is the client, which the harness never crashes")));
        }
        if host == self.supervisor || host == self.client || self.workers.iter().any(|w| w == host) {
            return Ok(());
        }
        Err((
            field.to_owned(),
            format!("no host named {host:?} (hosts: supervisor, client, {})", self.workers.join(", ")),
        ))
    }

    fn check_all(&self, field: &str, hosts: &[String]) -> Result<(), FieldError> {
        if hosts.is_empty() {
            return Err((field.to_owned(), "names no host".to_owned()));
        }
        hosts.iter().try_for_each(|host| self.check(field, host, false))
    }
}

impl FaultKind {
    /// Checks the hosts named and the numbers.
    ///
    /// # Errors
    /// The field (under `prefix`) and what is wrong.
    pub(crate) fn validate(&self, prefix: &str, hosts: Hosts<'_>) -> Result<(), FieldError> {
        match self {
            Self::Partition { left, right } | Self::Hold { left, right } => {
                hosts.check_all(&format!("{prefix}.left"), left)?;
                hosts.check_all(&format!("{prefix}.right"), right)
            }
            Self::PartitionOneWay { from, to } => {
                hosts.check_all(&format!("{prefix}.from"), from)?;
                hosts.check_all(&format!("{prefix}.to"), to)
            }
            Self::Crash { host } => hosts.check(&format!("{prefix}.host"), host, true),
            Self::Latency { left, right, latency_ms } => {
                hosts.check_all(&format!("{prefix}.left"), left)?;
                hosts.check_all(&format!("{prefix}.right"), right)?;
                if *latency_ms == 0 || *latency_ms > FAULT_LATENCY_MS_MAX {
                    return Err((
                        format!("{prefix}.latency_ms"),
                        format!("{latency_ms}; must be in 1..={FAULT_LATENCY_MS_MAX}"),
                    ));
                }
                Ok(())
            }
            Self::LlmStorm { error_rate } => {
                if !(error_rate.is_finite() && (0.0..=1.0).contains(error_rate)) {
                    return Err((
                        format!("{prefix}.error_rate"),
                        format!("{error_rate} is not a probability in 0..=1"),
                    ));
                }
                Ok(())
            }
        }
    }
}

impl Swarm {
    /// Checks the numbers.
    ///
    /// # Errors
    /// The field and what is wrong.
    pub(crate) fn validate(&self) -> Result<(), FieldError> {
        if self.period_ms < SWARM_PERIOD_MS_MIN || self.period_ms > FAULT_DURATION_MS_MAX {
            return Err((
                "faults.swarm.period_ms".to_owned(),
                format!("{}; must be in {SWARM_PERIOD_MS_MIN}..={FAULT_DURATION_MS_MAX}", self.period_ms),
            ));
        }
        if self.duration_ms_max < SWARM_DURATION_MS_MIN || self.duration_ms_max > FAULT_DURATION_MS_MAX {
            return Err((
                "faults.swarm.duration_ms_max".to_owned(),
                format!("{}; must be in {SWARM_DURATION_MS_MIN}..={FAULT_DURATION_MS_MAX}", self.duration_ms_max),
            ));
        }
        if !(self.intensity.is_finite() && (0.0..=1.0).contains(&self.intensity)) {
            return Err(("faults.swarm.intensity".to_owned(), format!("{} is not in 0..=1", self.intensity)));
        }
        Ok(())
    }
}

/// One change to apply: start or end fault number `fault`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct FaultEvent {
    /// When.
    pub at_ms: u64,
    /// Index into the expanded fault list.
    pub fault: usize,
    /// Start (true) or end.
    pub start: bool,
}

impl FaultPlan {
    /// No faults at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// Checks every fault: hosts that exist (the client is never crashed), a start
    /// inside the fault phase, durations and numbers within their maxima.
    ///
    /// # Errors
    /// The field (`faults.faults[i].host`, ...) and what is wrong.
    pub(crate) fn validate(&self, hosts: Hosts<'_>, phase_ms: u64) -> Result<(), FieldError> {
        for (index, fault) in self.faults.iter().enumerate() {
            let prefix = format!("faults.faults[{index}]");
            if fault.at_ms >= phase_ms {
                return Err((
                    format!("{prefix}.at_ms"),
                    format!("{} is not inside the fault phase (fault_phase_ms = {phase_ms})", fault.at_ms),
                ));
            }
            if fault.duration_ms == 0 || fault.duration_ms > FAULT_DURATION_MS_MAX {
                return Err((
                    format!("{prefix}.duration_ms"),
                    format!("{}; must be in 1..={FAULT_DURATION_MS_MAX}", fault.duration_ms),
                ));
            }
            fault.kind.validate(&prefix, hosts)?;
        }
        self.swarm.as_ref().map_or(Ok(()), Swarm::validate)
    }

    /// The scheduled faults plus the swarm's, drawn from `seed` over `0..phase_ms`;
    /// swarm partitions, holds and latency split the supervisor, the workers and the
    /// client; swarm crashes hit the supervisor or a worker.
    pub(crate) fn expand(&self, seed: u64, phase_ms: u64, workers: &[String], client: &str) -> Vec<Fault> {
        let mut faults: Vec<Fault> = self.faults.iter().filter(|f| f.at_ms < phase_ms).cloned().collect();
        if let Some(swarm) = &self.swarm {
            faults.extend(swarm_faults(swarm, seed, phase_ms, workers, client));
        }
        faults
    }
}

/// The start and end events of `faults`, in time order (ends before starts at one
/// instant, then by fault index): a deterministic timeline.
pub(crate) fn timeline(faults: &[Fault], phase_ms: u64) -> Vec<FaultEvent> {
    let mut events = Vec::with_capacity(faults.len() * 2);
    for (index, fault) in faults.iter().enumerate() {
        events.push(FaultEvent { at_ms: fault.at_ms, fault: index, start: true });
        let end = fault.at_ms.saturating_add(fault.duration_ms).min(phase_ms);
        events.push(FaultEvent { at_ms: end, fault: index, start: false });
    }
    events.sort_by_key(|e| (e.at_ms, e.start, e.fault));
    events
}

fn swarm_faults(swarm: &Swarm, seed: u64, phase_ms: u64, workers: &[String], client: &str) -> Vec<Fault> {
    let mut rng = SeededRng::derive(seed, "swarm");
    let intensity = swarm.intensity.clamp(0.0, 1.0);
    // The mix itself is random: some seeds are all partitions, some all crashes.
    let mut probability = || rng.next_f64() * intensity;
    let rates = [probability(), probability(), probability(), probability(), probability(), probability()];
    let mut faults = Vec::new();
    let mut at_ms = swarm.period_ms;
    let everyone: Vec<String> = core::iter::once("supervisor".to_owned())
        .chain(workers.iter().cloned())
        .chain(core::iter::once(client.to_owned()))
        .collect();
    while at_ms < phase_ms && !workers.is_empty() {
        for (kind, &rate) in rates.iter().enumerate() {
            if !rng.chance(rate) {
                continue;
            }
            let duration_ms =
                rng.range_u64(SWARM_DURATION_MS_MIN, swarm.duration_ms_max.max(SWARM_DURATION_MS_MIN + 1));
            let (left, right) = split(&mut rng, &everyone);
            let kind = match kind {
                0 => FaultKind::Partition { left, right },
                1 => FaultKind::PartitionOneWay { from: left, to: right },
                2 => FaultKind::Hold { left, right },
                3 => {
                    let host = if swarm.crash_supervisor && rng.chance(0.25) {
                        "supervisor".to_owned()
                    } else {
                        workers[rng.index(workers.len())].clone()
                    };
                    FaultKind::Crash { host }
                }
                4 => FaultKind::Latency { left, right, latency_ms: rng.range_u64(200, 3_000) },
                _ => FaultKind::LlmStorm { error_rate: 0.3 + 0.6 * rng.next_f64() },
            };
            faults.push(Fault { at_ms, duration_ms, kind });
        }
        at_ms = at_ms.saturating_add(swarm.period_ms.max(SWARM_PERIOD_MS_MIN));
    }
    faults
}

/// A random non-trivial split of `hosts` into two sides.
fn split(rng: &mut SeededRng, hosts: &[String]) -> (Vec<String>, Vec<String>) {
    let mut left = Vec::new();
    let mut right = Vec::new();
    for host in hosts {
        if rng.chance(0.5) { left.push(host.clone()) } else { right.push(host.clone()) }
    }
    if left.is_empty() {
        left.push(right.remove(0));
    } else if right.is_empty() {
        right.push(left.remove(0));
    }
    (left, right)
}

/// Reference counts of cut directed links, so that overlapping faults heal a link
/// only when the last of them ends.
#[derive(Clone, Debug, Default)]
pub(crate) struct LinkCuts {
    counts: BTreeMap<(String, String), u32>,
}

impl LinkCuts {
    /// Counts a cut of `from -> to`; true when the link was whole until now.
    pub(crate) fn cut(&mut self, from: &str, to: &str) -> bool {
        let count = self.counts.entry((from.to_owned(), to.to_owned())).or_insert(0);
        *count += 1;
        *count == 1
    }

    /// Ends one cut of `from -> to`; true when the link is whole again.
    pub(crate) fn heal(&mut self, from: &str, to: &str) -> bool {
        let key = (from.to_owned(), to.to_owned());
        match self.counts.get_mut(&key) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => {
                self.counts.remove(&key);
                true
            }
            None => false,
        }
    }

    /// Every link still cut.
    pub(crate) fn cut_links(&self) -> Vec<(String, String)> {
        self.counts.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workers() -> Vec<String> {
        (1..=5).map(|i| format!("w{i}")).collect()
    }

    #[test]
    fn swarm_is_seeded_and_stays_in_the_fault_phase() {
        let plan = FaultPlan { faults: vec![], swarm: Some(Swarm::default()) };
        let a = plan.expand(11, 30_000, &workers(), "client");
        assert_eq!(a, plan.expand(11, 30_000, &workers(), "client"));
        let differs = (12..20).any(|seed| plan.expand(seed, 30_000, &workers(), "client") != a);
        assert!(differs);
        for event in timeline(&a, 30_000) {
            assert!(event.at_ms <= 30_000);
        }
    }

    #[test]
    fn timeline_orders_ends_before_starts_at_one_instant() {
        let crash = |at_ms, duration_ms| Fault { at_ms, duration_ms, kind: FaultKind::Crash { host: "w1".into() } };
        let events = timeline(&[crash(0, 1_000), crash(1_000, 500)], 10_000);
        let order: Vec<(u64, bool)> = events.iter().map(|e| (e.at_ms, e.start)).collect();
        assert_eq!(order, vec![(0, true), (1_000, false), (1_000, true), (1_500, false)]);
    }

    #[test]
    fn overlapping_cuts_heal_only_when_the_last_ends() {
        let mut cuts = LinkCuts::default();
        assert!(cuts.cut("a", "b"));
        assert!(!cuts.cut("a", "b"));
        assert!(!cuts.heal("a", "b"));
        assert!(cuts.heal("a", "b"));
        assert!(!cuts.heal("a", "b"));
        assert!(cuts.cut_links().is_empty());
    }
}
