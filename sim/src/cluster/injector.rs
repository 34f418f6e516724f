//! The fault injector: applies and reverts faults on the turmoil world.

use core::time::Duration;
use std::collections::BTreeMap;

use quorum_core::mock::LlmControl;

use super::config::SUPERVISOR_HOST;
use crate::faults::{Fault, FaultKind, LinkCuts};
use crate::journal_disk::DiskPower;
use crate::trace::{Happening, Trace};

/// Applies and reverts faults on the simulation.
pub(super) struct Injector<'a> {
    faults: &'a [Fault],
    cuts: LinkCuts,
    holds: LinkCuts,
    crashed: BTreeMap<String, u32>,
    storms: Vec<(usize, f64)>,
    latency_ms_max: u64,
    control: LlmControl,
    trace: Trace,
    /// The supervisor's disk power, cut as it crashes.
    supervisor_disk: DiskPower,
}
impl<'a> Injector<'a> {
    /// An injector for `faults`, nothing applied yet; `latency_ms_max` is the
    /// network's own latency, which a latency fault's end restores.
    pub(super) fn new(
        faults: &'a [Fault],
        latency_ms_max: u64,
        control: LlmControl,
        trace: Trace,
        supervisor_disk: DiskPower,
    ) -> Self {
        Self {
            faults,
            cuts: LinkCuts::default(),
            holds: LinkCuts::default(),
            crashed: BTreeMap::new(),
            storms: Vec::new(),
            latency_ms_max,
            control,
            trace,
            supervisor_disk,
        }
    }

    pub(super) fn apply(&mut self, sim: &mut turmoil::Sim<'_>, index: usize, start: bool, now_ms: u64) {
        let fault = &self.faults[index];
        self.trace.record_at(now_ms, "sim", Happening::Fault { start, fault: fault.kind.clone() });
        match &fault.kind {
            FaultKind::Partition { left, right } => {
                for (a, b) in pairs(left, right) {
                    self.cut(sim, &a, &b, start);
                    self.cut(sim, &b, &a, start);
                }
            }
            FaultKind::PartitionOneWay { from, to } => {
                for (a, b) in pairs(from, to) {
                    self.cut(sim, &a, &b, start);
                }
            }
            FaultKind::Hold { left, right } => {
                for (a, b) in pairs(left, right) {
                    if start && self.holds.cut(&a, &b) {
                        sim.hold(a.as_str(), b.as_str());
                    } else if !start && self.holds.heal(&a, &b) {
                        sim.release(a.as_str(), b.as_str());
                    }
                }
            }
            FaultKind::Crash { host } => {
                let count = self.crashed.entry(host.clone()).or_insert(0);
                if start {
                    *count += 1;
                    if *count == 1 {
                        // A crash, not a clean shutdown: the dying journal writes
                        // nothing more (its close would flush and sync).
                        if host == SUPERVISOR_HOST {
                            self.supervisor_disk.cut();
                        }
                        sim.crash(host.as_str());
                    }
                } else if *count > 0 {
                    *count -= 1;
                    if *count == 0 {
                        sim.bounce(host.as_str());
                    }
                }
            }
            FaultKind::Latency { left, right, latency_ms } => {
                let value = Duration::from_millis(if start { *latency_ms } else { self.latency_ms_max.max(1) });
                for (a, b) in pairs(left, right) {
                    sim.set_link_max_message_latency(a.as_str(), b.as_str(), value);
                }
            }
            FaultKind::LlmStorm { error_rate } => {
                if start {
                    self.storms.push((index, *error_rate));
                } else {
                    self.storms.retain(|(i, _)| *i != index);
                }
                self.control.set_storm(self.storms.iter().map(|(_, rate)| *rate).fold(0.0, f64::max));
            }
        }
    }

    fn cut(&mut self, sim: &mut turmoil::Sim<'_>, from: &str, to: &str, start: bool) {
        if start && self.cuts.cut(from, to) {
            sim.partition_oneway(from, to);
        } else if !start && self.cuts.heal(from, to) {
            sim.repair_oneway(from, to);
        }
    }

    /// Every fault has ended: whatever is still cut, held, crashed, slow or stormy
    /// ends now (nothing, unless faults were cut short at the end of the phase).
    pub(super) fn heal_all(&mut self, sim: &mut turmoil::Sim<'_>, now_ms: u64) {
        self.trace.record_at(now_ms, "sim", Happening::Liveness);
        for (from, to) in self.cuts.cut_links() {
            sim.repair_oneway(from.as_str(), to.as_str());
        }
        self.cuts = LinkCuts::default();
        for (a, b) in self.holds.cut_links() {
            sim.release(a.as_str(), b.as_str());
        }
        self.holds = LinkCuts::default();
        for (host, count) in core::mem::take(&mut self.crashed) {
            if count > 0 {
                sim.bounce(host.as_str());
            }
        }
        for fault in self.faults {
            if let FaultKind::Latency { left, right, .. } = &fault.kind {
                for (a, b) in pairs(left, right) {
                    sim.set_link_max_message_latency(
                        a.as_str(),
                        b.as_str(),
                        Duration::from_millis(self.latency_ms_max.max(1)),
                    );
                }
            }
        }
        self.storms.clear();
        self.control.set_storm(0.0);
    }
}

fn pairs(left: &[String], right: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in left {
        for b in right {
            if a != b {
                out.push((a.clone(), b.clone()));
            }
        }
    }
    out
}
