//! [`RaggedSequences`]: sequences of token ids of different lengths with their labels, cut into
//! batches each padded to its own longest sequence.

use crate::text::{pad_sequences, Padding, Truncating};
use crate::training::{Batch, DataSource};
use crate::{Error, Result};
use ndarray::{Array2, ArrayD, Axis};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Token-id sequences of different lengths and one label (row) per sequence, batched without
/// padding every sequence to the longest of the whole set: each batch is padded to its own
/// longest sequence (`tf.data`'s `padded_batch`), and with
/// [`RaggedSequences::bucket_boundaries`] sequences of similar lengths are batched together
/// (`tf.data.experimental.bucket_by_sequence_length`), so that a batch pads little.
///
/// Padding uses id 0 before or after each sequence ([`Padding`], as `pad_sequences`), so an
/// `Embedding` with `mask_zero(true)` masks it. With [`RaggedSequences::maxlen`] longer
/// sequences are cut ([`Truncating`], Keras' `"pre"` by default: the last `maxlen` ids are
/// kept). The model must take sequences of any length: an `Embedding` without `input_length`.
///
/// An epoch's batches ([`RaggedSequences::epoch`]) are seeded and deterministic: with
/// shuffling (the default) the sequences are shuffled by the given generator; without
/// bucketing they are then cut into batches in that order; with bucketing each one goes, in
/// that order, to the bucket of its length, and a bucket gives a batch as soon as it holds
/// `batch_size` sequences; what remains in the buckets at the end gives the last batches, in
/// bucket order (`tf.data`'s `group_by_window`).
///
/// # Examples
/// ```
/// use rnnkit::data::RaggedSequences;
/// use rnnkit::text::Padding;
/// use rand::{rngs::StdRng, SeedableRng};
/// # fn main() -> rnnkit::Result<()> {
/// let reviews = vec![vec![4, 8, 2], vec![7], vec![3, 3, 9, 1, 5], vec![6, 2]];
/// let labels = ndarray::array![1.0, 0.0, 1.0, 0.0];
/// let data = RaggedSequences::new(reviews, labels.into_dyn())?
///     .batch_size(2)
///     .padding(Padding::Post)
///     .bucket_boundaries(vec![3]) // lengths 1-2 and 3+
///     .shuffle(false);
/// let epoch = data.epoch(&mut StdRng::seed_from_u64(0))?;
/// // The long bucket fills first (at the third review), then the short one.
/// assert_eq!(epoch, [vec![0, 2], vec![1, 3]]);
/// let short = data.batch(&epoch[1])?;
/// assert_eq!(short.x, ndarray::array![[7.0, 0.0], [6.0, 2.0]]);
/// assert_eq!(short.y, ndarray::array![0.0, 0.0].into_dyn());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RaggedSequences {
    sequences: Vec<Vec<u32>>,
    labels: ArrayD<f32>,
    batch_size: usize,
    padding: Padding,
    truncating: Truncating,
    maxlen: Option<usize>,
    boundaries: Vec<usize>,
    shuffle: bool,
}

/// One padded batch of [`RaggedSequences`].
#[derive(Clone, Debug, PartialEq)]
pub struct RaggedBatch {
    /// The sequences' indices in the set, in the batch's order.
    pub indices: Vec<usize>,
    /// The ids, `(batch, steps)`, `steps` the batch's longest sequence (cut to `maxlen`).
    pub x: Array2<f32>,
    /// The labels, `(batch, ..)`: the rows of the set's labels at `indices`.
    pub y: ArrayD<f32>,
}

impl RaggedSequences {
    /// Sequences of token ids and their labels, one row of `labels` (its first axis) per
    /// sequence. Defaults: batch size 32, [`Padding::Pre`], [`Truncating::Pre`], no `maxlen`,
    /// no bucketing, shuffled.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] without sequences, [`Error::LengthMismatch`] when `labels` does
    /// not have one row per sequence.
    pub fn new(sequences: Vec<Vec<u32>>, labels: ArrayD<f32>) -> Result<Self> {
        if sequences.is_empty() {
            return Err(Error::EmptyInput("sequences"));
        }
        let rows = labels.shape().first().copied().unwrap_or(0);
        if rows != sequences.len() {
            return Err(Error::LengthMismatch { x: sequences.len(), y: rows });
        }
        Ok(RaggedSequences {
            sequences,
            labels,
            batch_size: 32,
            padding: Padding::Pre,
            truncating: Truncating::Pre,
            maxlen: None,
            boundaries: Vec::new(),
            shuffle: true,
        })
    }

    /// Sequences per batch. Default: 32. Zero is refused by [`RaggedSequences::epoch`].
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Where the padding ids (0) go. Default: [`Padding::Pre`], as `pad_sequences`.
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// Which end a sequence longer than `maxlen` loses. Default: [`Truncating::Pre`].
    pub fn truncating(mut self, truncating: Truncating) -> Self {
        self.truncating = truncating;
        self
    }

    /// Cuts sequences longer than `maxlen` ids. Default: none. Zero is refused by
    /// [`RaggedSequences::epoch`].
    pub fn maxlen(mut self, maxlen: usize) -> Self {
        self.maxlen = Some(maxlen);
        self
    }

    /// Buckets by length (after `maxlen`): with boundaries b₀ < b₁ < ..., lengths below b₀ go
    /// to the first bucket, lengths in [bᵢ₋₁, bᵢ) to bucket i, lengths from the last boundary on
    /// to the last bucket, as `bucket_by_sequence_length`'s `bucket_boundaries`. Default: none
    /// (one bucket). Boundaries that do not increase strictly are refused by
    /// [`RaggedSequences::epoch`].
    pub fn bucket_boundaries(mut self, boundaries: Vec<usize>) -> Self {
        self.boundaries = boundaries;
        self
    }

    /// Shuffles the sequences at every epoch. Default: `true`.
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.sequences.len()
    }

    /// Whether there are no sequences (never: [`RaggedSequences::new`] refuses that).
    pub fn is_empty(&self) -> bool {
        self.sequences.is_empty()
    }

    /// The sequences' labels.
    pub fn labels(&self) -> &ArrayD<f32> {
        &self.labels
    }

    /// A sequence's length as batched: cut to `maxlen`.
    pub(crate) fn length(&self, index: usize) -> usize {
        let length = self.sequences[index].len();
        self.maxlen.map_or(length, |maxlen| length.min(maxlen))
    }

    /// The bucket of a length: the number of boundaries at or below it.
    fn bucket(&self, length: usize) -> usize {
        self.boundaries.partition_point(|&boundary| boundary <= length)
    }

    fn check(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(Error::invalid("batch_size", "a positive integer", 0));
        }
        if self.maxlen == Some(0) {
            return Err(Error::invalid("maxlen", "a positive integer", 0));
        }
        if self.boundaries.windows(2).any(|pair| pair[0] >= pair[1])
            || self.boundaries.first() == Some(&0)
        {
            let listed: Vec<String> = self.boundaries.iter().map(ToString::to_string).collect();
            return Err(Error::invalid(
                "bucket_boundaries",
                "positive lengths in strictly increasing order",
                format!("[{}]", listed.join(", ")),
            ));
        }
        Ok(())
    }

    /// One epoch's batches, as lists of sequence indices (see the type's documentation for the
    /// order); `rng` shuffles when shuffling is on. Each index appears in exactly one batch.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a zero `batch_size` or `maxlen`, and bucket boundaries
    /// that are not positive and strictly increasing.
    pub fn epoch(&self, rng: &mut StdRng) -> Result<Vec<Vec<usize>>> {
        self.plan(self.shuffle.then_some(rng))
    }

    /// The batches as a [`DataSource`] for the training loops (`rnnkit::training::fit`,
    /// `evaluate`, `predict`): one epoch's batches per pass, shuffled from a generator seeded
    /// with `seed` when shuffling is on, or, for measuring ([`RaggedSource::in_order`]), never.
    ///
    /// # Errors
    /// As [`RaggedSequences::epoch`], for bad batching settings.
    pub fn source(&self, seed: u64) -> Result<RaggedSource<'_>> {
        self.check()?;
        let shuffler = self.shuffle.then(|| StdRng::seed_from_u64(seed));
        Ok(RaggedSource { data: self, shuffler, plan: Vec::new(), next: 0 })
    }

    fn plan(&self, shuffler: Option<&mut StdRng>) -> Result<Vec<Vec<usize>>> {
        self.check()?;
        Ok(self.plan_checked(shuffler))
    }

    fn plan_checked(&self, shuffler: Option<&mut StdRng>) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..self.sequences.len()).collect();
        if let Some(rng) = shuffler {
            order.shuffle(rng);
        }
        if self.boundaries.is_empty() {
            return order.chunks(self.batch_size).map(<[usize]>::to_vec).collect();
        }
        let mut buckets = vec![Vec::with_capacity(self.batch_size); self.boundaries.len() + 1];
        let mut batches = Vec::with_capacity(order.len().div_ceil(self.batch_size));
        for index in order {
            let bucket = &mut buckets[self.bucket(self.length(index))];
            bucket.push(index);
            if bucket.len() == self.batch_size {
                batches.push(std::mem::replace(bucket, Vec::with_capacity(self.batch_size)));
            }
        }
        batches.extend(buckets.into_iter().filter(|bucket| !bucket.is_empty()));
        batches
    }

    /// The batch of the sequences at `indices`: ids padded to the longest of them (cut to
    /// `maxlen`; at least one step, so that a batch of empty sequences is one padding step) and
    /// their labels.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] for no indices, [`Error::InvalidArgument`] for an index past the
    /// sequences or an id above 2²⁴ (not exact in `f32`).
    pub fn batch(&self, indices: &[usize]) -> Result<RaggedBatch> {
        if indices.is_empty() {
            return Err(Error::EmptyInput("indices"));
        }
        if let Some(&bad) = indices.iter().find(|&&index| index >= self.sequences.len()) {
            return Err(Error::invalid(
                "indices",
                format!("indices below {} (the number of sequences)", self.sequences.len()),
                bad,
            ));
        }
        let steps = indices.iter().map(|&index| self.length(index)).max().unwrap_or(0).max(1);
        let rows: Vec<&[u32]> =
            indices.iter().map(|&index| self.sequences[index].as_slice()).collect();
        let x = pad_sequences(&rows, Some(steps), self.padding, self.truncating, 0.0)?;
        let y = self.labels.select(Axis(0), indices);
        Ok(RaggedBatch { indices: indices.to_vec(), x, y })
    }
}

/// [`RaggedSequences`] as a [`DataSource`]: each pass takes the batches of
/// [`RaggedSequences::epoch`], padded one at a time as they are asked for.
#[derive(Debug)]
pub struct RaggedSource<'a> {
    data: &'a RaggedSequences,
    shuffler: Option<StdRng>,
    plan: Vec<Vec<usize>>,
    next: usize,
}

impl RaggedSource<'_> {
    /// The same batches, never shuffled (for `evaluate` and `predict`, whose outputs then
    /// follow the batches' order: the sequences' order unless bucketed).
    pub fn in_order(mut self) -> Self {
        self.shuffler = None;
        self
    }
}

impl DataSource for RaggedSource<'_> {
    fn samples(&self) -> usize {
        self.data.len()
    }

    fn start_epoch(&mut self) {
        self.plan = self.data.plan_checked(self.shuffler.as_mut());
        self.next = 0;
    }

    fn next_batch(&mut self) -> Result<Option<Batch>> {
        let Some(indices) = self.plan.get(self.next) else { return Ok(None) };
        self.next += 1;
        let RaggedBatch { x, y, .. } = self.data.batch(indices)?;
        Ok(Some(Batch::new(vec![x.into_dyn()], vec![y])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};
    use rand::SeedableRng;

    fn data(lengths: &[usize]) -> RaggedSequences {
        let sequences: Vec<Vec<u32>> = lengths
            .iter()
            .enumerate()
            .map(|(i, &n)| (1..=n as u32).map(|t| t + 10 * i as u32).collect())
            .collect();
        let labels = Array1::from_iter((0..lengths.len()).map(|i| i as f32)).into_dyn();
        RaggedSequences::new(sequences, labels).expect("valid")
    }

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    #[test]
    fn each_batch_is_padded_to_its_longest_pre_or_post() {
        let data = data(&[2, 4, 1, 3]).batch_size(2).shuffle(false);
        let epoch = data.epoch(&mut rng()).unwrap();
        assert_eq!(epoch, vec![vec![0, 1], vec![2, 3]]);
        let first = data.batch(&epoch[0]).unwrap();
        assert_eq!(first.x, array![[0.0, 0.0, 1.0, 2.0], [11.0, 12.0, 13.0, 14.0]]);
        assert_eq!(first.y, array![0.0, 1.0].into_dyn());
        let post = data.clone().padding(Padding::Post).batch(&epoch[1]).unwrap();
        assert_eq!(post.x, array![[21.0, 0.0, 0.0], [31.0, 32.0, 33.0]]);
        // maxlen cuts before padding: the last ids are kept by default.
        let cut = data.clone().maxlen(2).batch(&[1, 2]).unwrap();
        assert_eq!(cut.x, array![[13.0, 14.0], [0.0, 21.0]]);
        let cut = data.maxlen(2).truncating(Truncating::Post).batch(&[1]).unwrap();
        assert_eq!(cut.x, array![[11.0, 12.0]]);
    }

    #[test]
    fn epochs_are_seeded_shuffled_and_cover_every_sequence_once() {
        let data = data(&[3; 50]).batch_size(8);
        let a = data.epoch(&mut rng()).unwrap();
        assert_eq!(a, data.epoch(&mut rng()).unwrap(), "same seed, same batches");
        let mut generator = rng();
        let first = data.epoch(&mut generator).unwrap();
        assert_ne!(first, data.epoch(&mut generator).unwrap(), "the next epoch reshuffles");
        let mut seen: Vec<usize> = a.concat();
        seen.sort_unstable();
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
        assert_eq!(a.iter().map(Vec::len).collect::<Vec<_>>(), [8, 8, 8, 8, 8, 8, 2]);
    }

    #[test]
    fn buckets_group_lengths_and_emit_when_full() {
        // Lengths 1..=12 twice; boundaries 4 and 8: buckets [1, 4), [4, 8), [8, ∞).
        let lengths: Vec<usize> = (1..=12).chain(1..=12).collect();
        let data = data(&lengths).batch_size(3).bucket_boundaries(vec![4, 8]).maxlen(10);
        let epoch = data.epoch(&mut rng()).unwrap();
        let mut seen: Vec<usize> = epoch.concat();
        seen.sort_unstable();
        assert_eq!(seen, (0..24).collect::<Vec<_>>());
        for batch in &epoch {
            let buckets: Vec<usize> = batch.iter().map(|&i| data.bucket(data.length(i))).collect();
            assert!(buckets.windows(2).all(|w| w[0] == w[1]), "one bucket per batch: {buckets:?}");
            let padded = data.batch(batch).unwrap();
            let longest = batch.iter().map(|&i| lengths[i].min(10)).max().unwrap();
            assert_eq!(padded.x.ncols(), longest);
        }
        // Buckets of 6, 8 and 10 sequences: batches of 3 fill 2 + 2 + 3, then 2 + 1 remain.
        let sizes: Vec<usize> = epoch.iter().map(Vec::len).collect();
        assert_eq!(sizes.iter().filter(|&&n| n == 3).count(), 7);
        assert_eq!(sizes[7..], [2, 1], "the remainders come last, in bucket order");
        assert_eq!(epoch, data.epoch(&mut rng()).unwrap(), "seeded");
        // Without shuffling, a bucket's batch keeps the sequences' order.
        let ordered = data.shuffle(false).epoch(&mut rng()).unwrap();
        assert_eq!(ordered[0], [0, 1, 2]);
        assert_eq!(ordered[1], [3, 4, 5]);
    }

    #[test]
    fn bad_settings_are_errors_that_say_what_is_expected() {
        let labels = array![1.0, 0.0].into_dyn();
        let error = RaggedSequences::new(vec![vec![1]], labels.clone()).unwrap_err();
        assert!(matches!(error, Error::LengthMismatch { x: 1, y: 2 }), "{error}");
        assert!(RaggedSequences::new(Vec::new(), Array1::<f32>::zeros(0).into_dyn()).is_err());
        let data = RaggedSequences::new(vec![vec![1], vec![]], labels).unwrap();
        let error = data.clone().batch_size(0).epoch(&mut rng()).unwrap_err().to_string();
        assert!(error.contains("batch_size") && error.contains("positive"), "{error}");
        let error = data.clone().maxlen(0).epoch(&mut rng()).unwrap_err().to_string();
        assert!(error.contains("maxlen"), "{error}");
        let error =
            data.clone().bucket_boundaries(vec![5, 5]).epoch(&mut rng()).unwrap_err().to_string();
        assert!(error.contains("strictly increasing") && error.contains("[5, 5]"), "{error}");
        assert!(data.batch(&[2]).unwrap_err().to_string().contains("below 2"));
        assert!(data.batch(&[]).is_err());
        // A batch of empty sequences is one padding step.
        assert_eq!(data.batch(&[1]).unwrap().x, array![[0.0]]);
    }
}
