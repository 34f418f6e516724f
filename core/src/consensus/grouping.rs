//! Partitioning counted answers into groups that say the same thing.
//!
//! Every function here sees the answers in canonical order (sorted by worker id, then
//! text), and breaks every tie by that order, so the partition never depends on the
//! order in which answers arrived.

use std::collections::BTreeMap;

use super::Units;
use super::similarity::{Profile, embedding_similarity};

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

/// Pairwise similarities of the answers, as a dense symmetric matrix over the
/// distinct texts (panels often repeat an answer word for word; each distinct text is
/// profiled and compared once).
pub(crate) struct SimilarityMatrix {
    /// Row of each answer in `values`.
    row_of: Vec<usize>,
    rows: usize,
    values: Vec<f64>,
}

impl SimilarityMatrix {
    /// Embeddings when every answer has one of one common length; lexical otherwise, so
    /// that one answer's missing embedding never mixes two scales in one vote.
    pub(crate) fn new(texts: &[&str], embeddings: &[Option<&[f32]>]) -> Self {
        let dimension = embeddings.first().copied().flatten().map(<[f32]>::len);
        let use_embeddings =
            dimension.is_some_and(|d| d > 0) && embeddings.iter().all(|e| e.map(<[f32]>::len) == dimension);
        if use_embeddings {
            // Equal texts may carry different vectors: one row per answer.
            let rows = texts.len();
            let vectors: Vec<&[f32]> = embeddings.iter().map(|e| e.expect("checked above")).collect();
            let values = Self::fill(rows, |i, j| embedding_similarity(vectors[i], vectors[j]));
            return Self { row_of: (0..rows).collect(), rows, values };
        }
        let mut distinct: Vec<&str> = texts.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let row_of = texts.iter().map(|text| distinct.binary_search(text).expect("every text is listed")).collect();
        let profiles: Vec<Profile> = distinct.iter().map(|text| Profile::new(text)).collect();
        let rows = distinct.len();
        let values = Self::fill(rows, |i, j| profiles[i].similarity(&profiles[j]));
        Self { row_of, rows, values }
    }

    fn fill(rows: usize, similarity: impl Fn(usize, usize) -> f64) -> Vec<f64> {
        let mut values = vec![1.0; rows * rows];
        for i in 0..rows {
            for j in (i + 1)..rows {
                let value = similarity(i, j);
                values[i * rows + j] = value;
                values[j * rows + i] = value;
            }
        }
        values
    }

    pub(crate) fn get(&self, i: usize, j: usize) -> f64 {
        self.values[self.row_of[i] * self.rows + self.row_of[j]]
    }
}

/// Semantic matching: repeatedly takes as a medoid the answer whose neighbourhood (all
/// unassigned answers at least `join_min` similar, itself included) weighs the most
/// (ties: more neighbours, then canonical order), and groups it with that
/// neighbourhood. Every member is within `join_min` of its group's representative.
pub(crate) fn by_similarity(matrix: &SimilarityMatrix, weights: &[Units], join_min: f64) -> Vec<RawGroup> {
    let count = weights.len();
    let neighbours: Vec<Vec<usize>> =
        (0..count).map(|i| (0..count).filter(|&j| matrix.get(i, j) >= join_min).collect()).collect();
    let mut assigned = vec![false; count];
    let mut groups = Vec::new();
    while let Some(first_free) = assigned.iter().position(|done| !done) {
        let mut best: (Units, usize, usize) = (0, 0, first_free); // weight, count, medoid
        for center in (0..count).filter(|&c| !assigned[c]) {
            let (weight, size) = neighbours[center]
                .iter()
                .filter(|&&j| !assigned[j])
                .fold((0 as Units, 0usize), |(w, n), &j| (w + weights[j], n + 1));
            if (weight, size) > (best.0, best.1) {
                best = (weight, size, center);
            }
        }
        let medoid = best.2;
        let members: Vec<usize> = neighbours[medoid].iter().copied().filter(|&j| !assigned[j]).collect();
        for &member in &members {
            assigned[member] = true;
        }
        groups.push(RawGroup { members, representative: medoid });
    }
    groups
}

/// Merges groups whose representatives are at least `merge_min` similar, transitively
/// (union-find, so the order of pairs does not matter). A merged group is represented
/// by the representative of its heaviest part (ties: earlier part).
pub(crate) fn merge_similar(
    groups: Vec<RawGroup>,
    matrix: &SimilarityMatrix,
    weights: &[Units],
    merge_min: f64,
) -> Vec<RawGroup> {
    let count = groups.len();
    let mut parent: Vec<usize> = (0..count).collect();
    fn root(parent: &mut [usize], mut node: usize) -> usize {
        while parent[node] != node {
            parent[node] = parent[parent[node]];
            node = parent[node];
        }
        node
    }
    for a in 0..count {
        for b in (a + 1)..count {
            if matrix.get(groups[a].representative, groups[b].representative) >= merge_min {
                let (root_a, root_b) = (root(&mut parent, a), root(&mut parent, b));
                // The smaller index becomes the root: deterministic, order-free result.
                parent[root_a.max(root_b)] = root_a.min(root_b);
            }
        }
    }
    let weight_of = |group: &RawGroup| group.members.iter().map(|&m| weights[m]).sum::<Units>();
    let mut merged: BTreeMap<usize, (RawGroup, Units)> = BTreeMap::new();
    for (index, group) in groups.into_iter().enumerate() {
        let part_weight = weight_of(&group);
        let group_root = root(&mut parent, index);
        match merged.get_mut(&group_root) {
            None => {
                merged.insert(group_root, (group, part_weight));
            }
            Some((into, heaviest_part)) => {
                if part_weight > *heaviest_part {
                    into.representative = group.representative;
                    *heaviest_part = part_weight;
                }
                into.members.extend(group.members);
            }
        }
    }
    merged
        .into_values()
        .map(|(mut group, _)| {
            group.members.sort_unstable();
            group
        })
        .collect()
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

    #[test]
    fn semantic_merge_is_transitive() {
        let texts = ["alpha beta", "alpha beta gamma", "gamma delta", "omega"];
        let matrix = SimilarityMatrix::new(&texts, &[None; 4]);
        let singletons: Vec<RawGroup> = (0..4).map(|i| RawGroup { members: vec![i], representative: i }).collect();
        let merged = merge_similar(singletons, &matrix, &[1, 1, 1, 1], 0.3);
        assert!(merged.iter().any(|g| g.members == vec![3]));
        assert!(merged.iter().any(|g| g.members.len() == 3), "{merged:?}");
    }
}
