//! Semantic grouping: similar answers together, contradicting answers never.
//!
//! 1. **Similarity**, from the best source every answer has: the meaning class an
//!    entailment judge assigned ([`Ballot::meaning`], 1 within a class, 0 across), else
//!    embeddings of one common length (cosine), else the lexical [`Profile`] (a
//!    fixed-size sketch of words and trigrams).
//! 2. **The guard**: two answers whose [`Claim`] signatures conflict (negation, opposite
//!    predicates, other numbers, dates or names, a reversed relation) are never in one
//!    group, whatever the similarity. It applies to every source, embeddings and
//!    entailment judges included: a small embedding model rates "Paris is not the
//!    capital of France" closer to "Paris is the capital of France" than a paraphrase.
//! 3. **Join**: repeatedly, the free answer whose neighbourhood (free answers at least
//!    `similarity_join_min` similar *and* compatible, itself included) weighs the most
//!    (ties: more neighbours, then canonical order) becomes a centre; its neighbours
//!    join it heaviest first (ties: more similar to the centre, then canonical order),
//!    each only if compatible with every member already in. So every member is within
//!    `similarity_join_min` of the centre and every pair of members is compatible.
//! 4. **Merge**: groups whose centres are at least `similarity_merge_min` similar merge,
//!    most similar pairs first, only when every pair across the two is compatible. The
//!    merge level defaults to the join level, so the one `similarity` setting governs
//!    both; a lower merge level is an explicit choice.
//! 5. **Representative**: the weighted medoid of the group's heaviest part (the join
//!    group that weighs the most; a group that merged nothing is its own heaviest part):
//!    the member with the greatest weight-weighted similarity to all members (ties:
//!    heavier, then canonical order). A merged minority never speaks for the group.
//!
//! # Cost
//! Linear in the bytes of the answers to read them: each distinct text is read once,
//! in one pass that yields both its claim signature and its similarity sketch; then
//! one comparison per pair of answers on fixed-size sketches (a dot product of
//! [`super::SKETCH_WORD_BUCKETS`] + [`super::SKETCH_TRIGRAM_BUCKETS`] small integers),
//! whatever the answers' length. Claim signatures are compared only where it matters
//! (similar pairs, centres to merge), cached, each in bounded time (every part of a
//! signature is a set of bounded size). Embeddings cost one dot product of their length
//! per pair, folded to at most [`EMBEDDING_COMPARED_DIMENSIONS_MAX`] numbers first.
//! Measured (`cargo bench -p quorum-core --bench consensus -- semantic_worst_case`,
//! on the shared 2-core development machine under a load of 2 to 3): the largest
//! accepted input, 1,000 distinct answers of 64 KiB, in 0.68 s (52 s before the
//! sketch), 1,000 of 16 KiB in 0.29 s (15 s before), 100 of 16 KiB in 14 ms.

use super::claim::{Claim, ClaimReader, mix};
use super::grouping::RawGroup;
use super::similarity::{LANES, Profile, ProfileBuilder, dot, similarities4};
use super::{Ballot, ConsensusConfig, Units};

/// Groups the counted ballots (see the module documentation); also returns the mean
/// similarity between the groups' representatives.
pub(crate) fn group(
    counted: &[&Ballot],
    texts: &[&str],
    weights: &[Units],
    config: &ConsensusConfig,
) -> (Vec<RawGroup>, f64) {
    let distinct = Distinct::new(texts);
    let lexical = !(uses_meanings(counted) || uses_embeddings(counted));
    // One pass over each distinct text reads its claim and, when similarity is
    // lexical, its profile.
    let mut reader = ClaimReader::default();
    let mut profiles = Vec::new();
    let mut claims = Vec::with_capacity(distinct.texts.len());
    for text in &distinct.texts {
        if lexical {
            let mut builder = ProfileBuilder::default();
            claims.push(reader.read(text, &mut |word, hash| builder.add_word(word, hash)));
            profiles.push(builder.finish());
        } else {
            claims.push(reader.read(text, &mut |_, _| {}));
        }
    }
    let matrix = SimilarityMatrix::new(counted, &distinct, &profiles);
    let mut guard = Guard::new(claims, &distinct);
    let joined = join(&matrix, &mut guard, weights, config.similarity_join_min);
    let merged = merge(joined, &matrix, &mut guard, config.merge_min());
    let groups: Vec<RawGroup> = merged.iter().map(|parts| represent(parts, &matrix, weights)).collect();
    let representatives: Vec<usize> = groups.iter().map(|g| g.representative).collect();
    let mut similarity_sum = 0.0;
    let mut pairs = 0u32;
    for (position, &a) in representatives.iter().enumerate() {
        for &b in &representatives[position + 1..] {
            similarity_sum += matrix.get(a, b);
            pairs += 1;
        }
    }
    let mean = if pairs == 0 { 0.0 } else { similarity_sum / f64::from(pairs) };
    (groups, mean)
}

/// Whether two answers would be grouped together on their own: lexically similar at
/// `similarity_join_min` and compatible claims.
pub(crate) fn texts_match(left: &str, right: &str, config: &ConsensusConfig) -> bool {
    left == right
        || (Profile::new(left).similarity(&Profile::new(right)) >= config.similarity_join_min
            && Claim::new(left).is_compatible(&Claim::new(right)))
}

/// The distinct texts among the answers (panels often repeat an answer word for word;
/// each distinct text is read once).
struct Distinct<'a> {
    texts: Vec<&'a str>,
    /// Index in `texts` of each answer's text.
    of_answer: Vec<usize>,
}

impl<'a> Distinct<'a> {
    fn new(answers: &[&'a str]) -> Self {
        let mut texts = answers.to_vec();
        texts.sort_unstable();
        texts.dedup();
        let of_answer = answers.iter().map(|text| texts.binary_search(text).expect("every text is listed")).collect();
        Self { texts, of_answer }
    }
}

/// Rows per tile of the pairwise comparison: two tiles of sketches (6 KiB each) fit a
/// core's cache.
const TILE_ROWS: usize = 16;

/// Pairwise similarities of the answers, as a dense symmetric matrix over rows (one
/// row per distinct text for lexical similarity, one per answer otherwise).
pub(crate) struct SimilarityMatrix {
    /// Row of each answer in `values`.
    row_of: Vec<usize>,
    rows: usize,
    values: Vec<f64>,
}

impl SimilarityMatrix {
    /// Meaning classes when every answer has one; embeddings when every answer has one
    /// of one common length; lexical otherwise (from `profiles`, one per distinct
    /// text), so that one answer's missing class or embedding never mixes two scales in
    /// one vote.
    fn new(counted: &[&Ballot], distinct: &Distinct<'_>, profiles: &[Profile]) -> Self {
        let per_answer = |values: Vec<f64>| Self { row_of: (0..counted.len()).collect(), rows: counted.len(), values };
        if uses_meanings(counted) {
            let meanings: Vec<Option<u64>> = counted.iter().map(|b| b.meaning).collect();
            return per_answer(Self::fill(counted.len(), |i, j| if meanings[i] == meanings[j] { 1.0 } else { 0.0 }));
        }
        if uses_embeddings(counted) {
            let vectors: Vec<Vec<f32>> =
                counted.iter().map(|b| unit_padded(b.embedding.as_deref().expect("checked above"))).collect();
            return per_answer(Self::fill(counted.len(), |i, j| {
                f64::from(dot(&vectors[i], &vectors[j])).clamp(0.0, 1.0)
            }));
        }
        let rows = profiles.len();
        let values = Self::fill_lexical(profiles);
        Self { row_of: distinct.of_answer.clone(), rows, values }
    }

    /// Every pair once (the upper triangle), in tiles of [`TILE_ROWS`] rows by as many columns, so that the
    /// sketches of a tile stay in cache (a thousand sketches do not fit it; one pass
    /// row by row would stream all of them from memory for every row). Each value
    /// depends only on its pair, so the order changes no bit.
    fn fill(rows: usize, similarity: impl Fn(usize, usize) -> f64) -> Vec<f64> {
        let mut values = vec![1.0; rows * rows];
        for tile_i in (0..rows).step_by(TILE_ROWS) {
            for tile_j in (tile_i..rows).step_by(TILE_ROWS) {
                for i in tile_i..(tile_i + TILE_ROWS).min(rows) {
                    for j in tile_j.max(i + 1)..(tile_j + TILE_ROWS).min(rows) {
                        values[i * rows + j] = similarity(i, j);
                    }
                }
            }
        }
        values
    }

    /// [`Self::fill`] for lexical profiles, four columns at a time.
    fn fill_lexical(profiles: &[Profile]) -> Vec<f64> {
        let rows = profiles.len();
        let mut values = vec![1.0; rows * rows];
        for tile_i in (0..rows).step_by(TILE_ROWS) {
            for tile_j in (tile_i..rows).step_by(TILE_ROWS) {
                for i in tile_i..(tile_i + TILE_ROWS).min(rows) {
                    let (mut j, end) = (tile_j.max(i + 1), (tile_j + TILE_ROWS).min(rows));
                    while j + 4 <= end {
                        let four = [&profiles[j], &profiles[j + 1], &profiles[j + 2], &profiles[j + 3]];
                        values[i * rows + j..i * rows + j + 4].copy_from_slice(&similarities4(&profiles[i], four));
                        j += 4;
                    }
                    for j in j..end {
                        values[i * rows + j] = profiles[i].similarity(&profiles[j]);
                    }
                }
            }
        }
        values
    }

    /// The similarity of answers `i` and `j` (1 for an answer with itself).
    pub(crate) fn get(&self, i: usize, j: usize) -> f64 {
        let (a, b) = (self.row_of[i], self.row_of[j]);
        // Only the upper triangle is filled: it is symmetric.
        self.values[a.min(b) * self.rows + a.max(b)]
    }
}

/// Whether every answer has a meaning class.
fn uses_meanings(counted: &[&Ballot]) -> bool {
    !counted.is_empty() && counted.iter().all(|b| b.meaning.is_some())
}

/// Whether every answer has an embedding, all of one non-zero length.
fn uses_embeddings(counted: &[&Ballot]) -> bool {
    let dimension = counted.first().and_then(|b| b.embedding.as_ref()).map(Vec::len);
    dimension.is_some_and(|d| d > 0) && counted.iter().all(|b| b.embedding.as_ref().map(Vec::len) == dimension)
}

/// Longest embedding compared coordinate by coordinate. Longer ones (up to the 16,384
/// an embedder may return) are first folded into this many coordinates, each input
/// coordinate added with a hashed sign to a hashed one: cosines are kept on average,
/// within about 0.02, and a thousand answers still cost a quarter of a second rather
/// than a whole second.
pub const EMBEDDING_COMPARED_DIMENSIONS_MAX: usize = 4_096;

/// The vector (folded to [`EMBEDDING_COMPARED_DIMENSIONS_MAX`] if longer) scaled to unit
/// length (all zero if it has none, or is not finite), padded with zeros to whole
/// lanes, so that a pair's cosine is one dot product.
fn unit_padded(vector: &[f32]) -> Vec<f32> {
    let compared = vector.len().min(EMBEDDING_COMPARED_DIMENSIONS_MAX);
    let mut folded = vec![0.0f64; compared];
    if vector.len() <= EMBEDDING_COMPARED_DIMENSIONS_MAX {
        for (target, &value) in folded.iter_mut().zip(vector) {
            *target = f64::from(value);
        }
    } else {
        for (index, &value) in vector.iter().enumerate() {
            let hash = mix(index as u64);
            let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
            folded[hash as usize % EMBEDDING_COMPARED_DIMENSIONS_MAX] += sign * f64::from(value);
        }
    }
    let mut unit = vec![0.0f32; compared.div_ceil(LANES) * LANES];
    let norm = folded.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        for (target, value) in unit.iter_mut().zip(folded) {
            *target = (value / norm) as f32;
        }
    }
    unit
}

/// The claim guard over the distinct texts, with every verdict computed at most once.
struct Guard {
    claims: Vec<Claim>,
    text_of: Vec<usize>,
    /// Per pair of distinct texts (lower index first): 0 unknown, 1 compatible, 2 not.
    verdicts: Vec<u8>,
}

impl Guard {
    fn new(claims: Vec<Claim>, distinct: &Distinct<'_>) -> Self {
        let count = claims.len();
        Self { claims, text_of: distinct.of_answer.clone(), verdicts: vec![0; count * count] }
    }

    fn compatible(&mut self, a: usize, b: usize) -> bool {
        let (x, y) = (self.text_of[a].min(self.text_of[b]), self.text_of[a].max(self.text_of[b]));
        if x == y {
            return true;
        }
        let slot = x * self.claims.len() + y;
        match self.verdicts[slot] {
            1 => true,
            2 => false,
            _ => {
                let compatible = self.claims[x].is_compatible(&self.claims[y]);
                self.verdicts[slot] = if compatible { 1 } else { 2 };
                compatible
            }
        }
    }
}

/// Step 3 of the module documentation. Members of each group are sorted; the group's
/// `representative` is its centre.
fn join(matrix: &SimilarityMatrix, guard: &mut Guard, weights: &[Units], join_min: f64) -> Vec<RawGroup> {
    let count = weights.len();
    // Each pair once; rows in order, so every list comes out sorted, itself included.
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); count];
    for i in 0..count {
        neighbours[i].push(i);
        for j in (i + 1)..count {
            if matrix.get(i, j) >= join_min && guard.compatible(i, j) {
                neighbours[i].push(j);
                neighbours[j].push(i);
            }
        }
    }
    // Weight and size of each answer's free neighbourhood, kept up to date as answers
    // are assigned (neighbourhoods are symmetric).
    let mut free: Vec<(Units, usize)> =
        neighbours.iter().map(|n| (n.iter().map(|&j| weights[j]).sum(), n.len())).collect();
    let mut assigned = vec![false; count];
    let mut groups = Vec::new();
    loop {
        let mut best: Option<usize> = None;
        for candidate in (0..count).filter(|&c| !assigned[c]) {
            if best.is_none_or(|b| free[candidate] > free[b]) {
                best = Some(candidate);
            }
        }
        let Some(centre) = best else { break };
        let mut candidates: Vec<usize> =
            neighbours[centre].iter().copied().filter(|&j| j != centre && !assigned[j]).collect();
        candidates.sort_by(|&a, &b| {
            weights[b].cmp(&weights[a]).then(matrix.get(centre, b).total_cmp(&matrix.get(centre, a))).then(a.cmp(&b))
        });
        let mut members = vec![centre];
        for candidate in candidates {
            if members.iter().all(|&member| guard.compatible(member, candidate)) {
                members.push(candidate);
            }
        }
        for &member in &members {
            assigned[member] = true;
            for &k in &neighbours[member] {
                free[k].0 -= weights[member];
                free[k].1 -= 1;
            }
        }
        members.sort_unstable();
        groups.push(RawGroup { members, representative: centre });
    }
    groups
}

/// Step 4 of the module documentation: the final groups, each as the join groups
/// (parts) it is made of, in a deterministic order (by smallest part index).
fn merge(parts: Vec<RawGroup>, matrix: &SimilarityMatrix, guard: &mut Guard, merge_min: f64) -> Vec<Vec<RawGroup>> {
    let count = parts.len();
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for a in 0..count {
        for b in (a + 1)..count {
            let (centre_a, centre_b) = (parts[a].representative, parts[b].representative);
            let similarity = matrix.get(centre_a, centre_b);
            // Centres that conflict can never end in one group: no need to sort them.
            if similarity >= merge_min && guard.compatible(centre_a, centre_b) {
                pairs.push((similarity, a, b));
            }
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    // Each cluster is listed under its smallest part index.
    let mut cluster_of: Vec<usize> = (0..count).collect();
    let mut clusters: Vec<Vec<usize>> = (0..count).map(|p| vec![p]).collect();
    for (_, a, b) in pairs {
        let (first, second) = (cluster_of[a].min(cluster_of[b]), cluster_of[a].max(cluster_of[b]));
        if first == second {
            continue;
        }
        if all_compatible(&parts, &clusters[first], &clusters[second], guard) {
            let moved = std::mem::take(&mut clusters[second]);
            for &part in &moved {
                cluster_of[part] = first;
            }
            clusters[first].extend(moved);
        }
    }
    let mut parts: Vec<Option<RawGroup>> = parts.into_iter().map(Some).collect();
    clusters
        .into_iter()
        .filter(|cluster| !cluster.is_empty())
        .map(|mut cluster| {
            cluster.sort_unstable();
            cluster.iter().map(|&p| parts[p].take().expect("each part in one cluster")).collect()
        })
        .collect()
}

/// Whether every member of one cluster of parts is compatible with every member of
/// the other.
fn all_compatible(parts: &[RawGroup], left: &[usize], right: &[usize], guard: &mut Guard) -> bool {
    for &x in left.iter().flat_map(|&p| &parts[p].members) {
        for &y in right.iter().flat_map(|&p| &parts[p].members) {
            if !guard.compatible(x, y) {
                return false;
            }
        }
    }
    true
}

/// Step 5 of the module documentation: one group from its parts.
fn represent(parts: &[RawGroup], matrix: &SimilarityMatrix, weights: &[Units]) -> RawGroup {
    let weight_of = |part: &RawGroup| part.members.iter().map(|&m| weights[m]).sum::<Units>();
    // Heaviest part; ties: more members, then the earlier part (parts are in order).
    let mut heaviest = &parts[0];
    for part in &parts[1..] {
        if (weight_of(part), part.members.len()) > (weight_of(heaviest), heaviest.members.len()) {
            heaviest = part;
        }
    }
    let mut members: Vec<usize> = parts.iter().flat_map(|p| p.members.iter().copied()).collect();
    members.sort_unstable();
    let centrality = |i: usize| members.iter().map(|&j| weights[j] as f64 * matrix.get(i, j)).sum::<f64>();
    let mut best = heaviest.members[0];
    let mut best_centrality = centrality(best);
    for &candidate in &heaviest.members[1..] {
        let value = centrality(candidate);
        if (value, weights[candidate]) > (best_centrality, weights[best]) {
            best = candidate;
            best_centrality = value;
        }
    }
    RawGroup { members, representative: best }
}

#[cfg(test)]
mod tests;
