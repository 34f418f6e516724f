//! Partitioning counted answers into groups that say the same thing (exact keys and
//! numeric windows; semantic grouping lives in [`super::semantic`]).
//!
//! Every function here sees the answers in canonical order (sorted by worker id, then
//! text), and breaks every tie by that order, so the partition never depends on the
//! order in which answers arrived.

use std::collections::BTreeMap;

use super::Units;

/// One group: indices into the canonical answers, and the index of the member that
/// represents it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawGroup {
    pub(crate) members: Vec<usize>,
    pub(crate) representative: usize,
}

/// Exact matching: one group per key. The representative is the heaviest member.
pub(crate) fn by_key(keys: &[String], weights: &[Units]) -> Vec<RawGroup> {
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, key) in keys.iter().enumerate() {
        by_key.entry(key).or_default().push(index);
    }
    by_key
        .into_values()
        .map(|members| {
            let representative = heaviest(&members, weights);
            RawGroup { members, representative }
        })
        .collect()
}

/// Whether two numbers are equal within `absolute + relative * max(|a|, |b|)`.
pub(crate) fn within_tolerance(a: f64, b: f64, absolute: f64, relative: f64) -> bool {
    (a - b).abs() <= absolute + relative * a.abs().max(b.abs())
}

/// Numeric matching: repeatedly takes the heaviest window of values whose ends are
/// within tolerance of each other (ties: more members, then the lower window), so
/// every pair in a group is within tolerance and the majority cluster is found whole.
/// The representative is the member closest to the group's weighted median.
pub(crate) fn by_number(values: &[f64], weights: &[Units], absolute: f64, relative: f64) -> Vec<RawGroup> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let mut groups = Vec::new();
    while !order.is_empty() {
        let mut best: Option<(Units, usize, usize, usize)> = None; // weight, len, start, end
        for start in 0..order.len() {
            let mut end = start;
            let mut weight: Units = 0;
            while end < order.len() && within_tolerance(values[order[start]], values[order[end]], absolute, relative) {
                weight += weights[order[end]];
                end += 1;
            }
            let better = match best {
                None => true,
                Some((best_weight, best_len, _, _)) => (weight, end - start) > (best_weight, best_len),
            };
            if better {
                best = Some((weight, end - start, start, end));
            }
        }
        let (_, _, start, end) = best.expect("a non-empty list has a window");
        let members: Vec<usize> = order.drain(start..end).collect();
        let representative = closest_to_weighted_median(&members, values, weights);
        let mut sorted_members = members;
        sorted_members.sort_unstable();
        groups.push(RawGroup { members: sorted_members, representative });
    }
    groups
}

fn heaviest(members: &[usize], weights: &[Units]) -> usize {
    let mut best = members[0];
    for &member in members {
        if weights[member] > weights[best] {
            best = member;
        }
    }
    best
}

fn closest_to_weighted_median(members: &[usize], values: &[f64], weights: &[Units]) -> usize {
    // `members` is sorted by value; the weighted median is where half the weight lies
    // below.
    let total: Units = members.iter().map(|&m| weights[m]).sum();
    let mut running: Units = 0;
    let mut median = values[members[0]];
    for &member in members {
        running += weights[member];
        if running * 2 >= total {
            median = values[member];
            break;
        }
    }
    let mut best = members[0];
    for &member in members {
        let distance = (values[member] - median).abs();
        let best_distance = (values[best] - median).abs();
        if distance < best_distance
            || (distance == best_distance
                && (weights[member], core::cmp::Reverse(member)) > (weights[best], core::cmp::Reverse(best)))
        {
            best = member;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_windows_find_the_majority_cluster_whole() {
        // A chain 0, 0.9, 1.1, 1.2 with tolerance 1: the dense cluster {0.9, 1.1, 1.2}
        // wins, rather than whatever a greedy scan from the left would take.
        let values = [0.0, 0.9, 1.1, 1.2];
        let groups = by_number(&values, &[1, 1, 1, 1], 1.0, 0.0);
        assert_eq!(groups[0].members, vec![1, 2, 3]);
        assert_eq!(groups[1].members, vec![0]);
    }

    #[test]
    fn numeric_groups_never_span_more_than_the_tolerance() {
        let values: Vec<f64> = (0..20).map(|i| f64::from(i) * 0.3).collect();
        let groups = by_number(&values, &[1; 20], 1.0, 0.0);
        for group in &groups {
            for &a in &group.members {
                for &b in &group.members {
                    assert!((values[a] - values[b]).abs() <= 1.0 + 1e-12);
                }
            }
        }
        let covered: usize = groups.iter().map(|g| g.members.len()).sum();
        assert_eq!(covered, 20);
    }
}
