//! Inference through a lookup layer and the layer after it, without the lookup's output: an
//! `Embedding` (a [`LookupTable`](crate::layers::LookupTable)) followed by a recurrent layer
//! (which [`FoldsLookup`](crate::layers::FoldsLookup)).
//!
//! The recurrent layer's first product, x_t·W_g + b_g, only ever sees rows of the Embedding's
//! table, so `predict` and `evaluate` fold the table into it once per call, where that pays:
//! E·W_g + b_g for every row, `(input_dim, GATES·units)`. Each step then copies its id's folded
//! row instead of materialising the embedded sequence and multiplying it, which halves the
//! arithmetic of the lesson's model. The folded rows are computed in the same order as the loop
//! computes the product for one embedded id, so the outputs are bit-identical to the
//! layer-by-layer path.

use super::Sequential;
use crate::layers::{LayerExt, Mask};
use crate::Result;
use ndarray::{ArrayD, ArrayViewD};

/// The largest folded table a call builds: 64 MiB (the lesson's LSTM needs 5 MB). A larger
/// vocabulary or layer keeps the layer-by-layer path, whose memory does not grow with the table.
const MAX_FOLDED_BYTES: usize = 64 << 20;

/// The largest folded table that stays mostly in a server CPU's caches while the recurrence
/// runs (24 MiB: of a last-level cache of 32 MiB, what the weights and other work leave). A
/// larger one is read from memory, a folded row (`GATES·units` values) per id, and then pays
/// only when it saves enough arithmetic per value read: [`MIN_UNCACHED_FEATURES`].
const CACHED_FOLDED_BYTES: usize = 24 << 20;

/// The fewest embedding features for which a folded table larger than [`CACHED_FOLDED_BYTES`]
/// pays: each value read from memory then saves at least 64 multiply-adds. (After
/// Embedding(10000, 32), inference ran folded 0–5% faster for LSTM(128), a 20 MB table, and
/// unfolded 9% faster for LSTM(200), 32 MB, and 8% for LSTM(256), 41 MB; after
/// Embedding(10000, 128), folded 42% faster for LSTM(128) and 19% for LSTM(256).)
const MIN_UNCACHED_FEATURES: usize = 64;

/// The largest folded table whose building and reading cost little next to what it saves: it
/// pays from one lookup per table row.
const SMALL_FOLDED_BYTES: usize = 2 << 20;

/// Lookups per table row from which a folded table that is neither small nor behind a wide
/// Embedding pays for its building, in one call. (After Embedding(10000, 32), 1.3 lookups per
/// row: inference ran unfolded 18% faster for LSTM(128) and 16% for GRU(64); 2.6 and 3.2: even
/// for LSTM(128) and LSTM(32); 5.1: folded 10% faster for LSTM(128). After Embedding(10000,
/// 128), 1.3: folded 3% faster for LSTM(128). SimpleRNN(32)'s 1.3 MB table, 3.2: folded 14%.)
const LOOKUPS_PER_ROW: usize = 4;

/// An Embedding's table folded into the recurrent layer after it, for one `predict` or
/// `evaluate` call.
pub(super) struct FoldedStart {
    table: Vec<f32>,
}

/// Whether a call that looks up `lookups` ids builds a folded table of `rows` rows and `bytes`
/// bytes, for an Embedding of `features` features: it fits in [`MAX_FOLDED_BYTES`], and either
/// in [`CACHED_FOLDED_BYTES`] or the Embedding has at least [`MIN_UNCACHED_FEATURES`] features;
/// and the call looks up at least one id per row ([`LOOKUPS_PER_ROW`] unless the table is small
/// or the Embedding wide), below which folding costs more than it saves.
fn folding_pays(rows: usize, lookups: usize, bytes: usize, features: usize) -> bool {
    let wide = features >= MIN_UNCACHED_FEATURES;
    let per_row = if bytes <= SMALL_FOLDED_BYTES || wide { 1 } else { LOOKUPS_PER_ROW };
    bytes <= MAX_FOLDED_BYTES
        && (bytes <= CACHED_FOLDED_BYTES || wide)
        && lookups >= rows.saturating_mul(per_row)
}

impl Sequential {
    /// Folds the model's first two layers when the first is a lookup table and the second can
    /// fold it, and when a folded table of its size pays for the batch of ids `x_shape`
    /// `(samples, steps)` ([`folding_pays`]). `None` otherwise.
    pub(super) fn fold_start(&mut self, x_shape: &[usize]) -> Result<Option<FoldedStart>> {
        let [first, second, ..] = self.layers.as_mut_slice() else { return Ok(None) };
        let Some(lookup) = first.lookup_table() else { return Ok(None) };
        let (Some(table), Some(shape)) = (lookup.table(), first.output_shape()) else {
            return Ok(None);
        };
        if shape.len() != 2 {
            return Ok(None);
        }
        let Some(recurrent) = second.folds_lookup() else { return Ok(None) };
        let lookups = x_shape.iter().copied().fold(1usize, usize::saturating_mul);
        let bytes = table.nrows().saturating_mul(recurrent.folded_width()).saturating_mul(4);
        if !folding_pays(table.nrows(), lookups, bytes, table.ncols()) {
            return Ok(None);
        }
        Ok(Some(FoldedStart { table: recurrent.fold(table)? }))
    }

    /// The first two layers' output and mask for a batch, through `folded`: the lookup
    /// layer's checks and mask, then the folding layer on the folded rows. `None` when the
    /// model's start does not fold (the layers then run one by one).
    pub(super) fn forward_folded(
        &mut self,
        x: ArrayViewD<'_, f32>,
        folded: &FoldedStart,
    ) -> Result<Option<(ArrayD<f32>, Option<Mask>)>> {
        let [first, second, ..] = self.layers.as_mut_slice() else { return Ok(None) };
        let (Some(lookup), &[batch, steps]) = (first.lookup_table(), x.shape()) else {
            return Ok(None);
        };
        let rows = lookup.checked_rows(&x)?;
        let mask = first.compute_mask(x.view(), None)?;
        let next_mask = second.compute_mask(x.view(), mask.as_ref())?;
        let Some(recurrent) = second.folds_lookup() else { return Ok(None) };
        let output =
            recurrent.forward_folded(&rows, (batch, steps), &folded.table, mask.as_ref())?;
        Ok(Some((output, next_mask)))
    }
}

#[cfg(test)]
mod tests {
    use super::{
        folding_pays, CACHED_FOLDED_BYTES, LOOKUPS_PER_ROW, MAX_FOLDED_BYTES,
        MIN_UNCACHED_FEATURES, SMALL_FOLDED_BYTES,
    };
    use crate::prelude::*;
    use ndarray::Array2;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    const VOCABULARY: usize = 20;
    const STEPS: usize = 7;

    /// Ids in `1..VOCABULARY`, the first `padded` steps of every other row 0 (pre-padding).
    fn ids(samples: usize, padded: usize) -> Array2<f32> {
        let mut rng = StdRng::seed_from_u64(5);
        Array2::from_shape_fn((samples, STEPS), |(i, t)| {
            if i % 2 == 1 && t < padded {
                0.0
            } else {
                rng.gen_range(1..VOCABULARY) as f32
            }
        })
    }

    fn model(recurrent: impl crate::layers::Layer + 'static, mask_zero: bool) -> Sequential {
        let mut model = Sequential::new().seed(9);
        model.add(Embedding::new(VOCABULARY, 4).input_length(STEPS).mask_zero(mask_zero));
        model.add(recurrent);
        model.add(Dense::new(2).activation(Activation::Softmax));
        model.build(&[STEPS]).expect("model builds");
        // Biases away from zero, so that folding them in is tested too.
        let weights = model
            .get_weights()
            .into_iter()
            .enumerate()
            .map(|(k, w)| if w.ndim() == 1 { w.mapv(|v| v + 0.1 * (k as f32 + 1.0)) } else { w })
            .collect();
        model.set_weights(weights).expect("same shapes");
        model
    }

    /// Folded inference equals layer-by-layer inference bit for bit, for every recurrent
    /// layer, narrow and wide, reading either way, with and without a padding mask, returning sequences or not.
    #[test]
    fn folded_inference_is_bit_identical_to_the_layers() {
        let x = ids(13, 3);
        for mask_zero in [false, true] {
            for backwards in [false, true] {
                for sequences in [false, true] {
                    let models = [
                        model(
                            SimpleRnn::new(5).go_backwards(backwards).return_sequences(sequences),
                            mask_zero,
                        ),
                        model(
                            Lstm::new(3).go_backwards(backwards).return_sequences(sequences),
                            mask_zero,
                        ),
                        model(
                            Gru::new(4).go_backwards(backwards).return_sequences(sequences),
                            mask_zero,
                        ),
                        // Wide enough that the look-up runs in several blocks of steps.
                        model(
                            Lstm::new(150).go_backwards(backwards).return_sequences(sequences),
                            mask_zero,
                        ),
                    ];
                    for mut model in models {
                        let folded = model.fold_start(x.shape()).expect("folds");
                        assert!(folded.is_some(), "13·7 lookups in a table of 20 rows fold");
                        let (fast, fast_mask) = model
                            .forward(x.view().into_dyn(), false, folded.as_ref())
                            .expect("folded inference");
                        let (plain, plain_mask) =
                            model.forward(x.view().into_dyn(), false, None).expect("inference");
                        assert_eq!(fast, plain, "mask_zero {mask_zero}, backwards {backwards}");
                        assert_eq!(fast_mask, plain_mask);
                    }
                }
            }
        }
    }

    /// Folding applies only to an Embedding followed by a SimpleRnn, Lstm or Gru, and only when
    /// the call looks up more ids than the table has rows; the folded path checks ids as the
    /// Embedding does.
    #[test]
    fn folding_applies_where_it_pays_and_checks_ids() {
        let mut few = model(Lstm::new(3), false);
        assert!(few.fold_start(&[2, STEPS]).expect("no error").is_none(), "2·7 lookups < 20 rows");
        let mut bidirectional = model(Bidirectional::new(Lstm::new(3)), false);
        assert!(bidirectional.fold_start(&[100, STEPS]).expect("no error").is_none());
        let mut dense = Sequential::new();
        dense.add(Embedding::new(VOCABULARY, 4).input_length(STEPS));
        dense.add(Flatten::new());
        dense.build(&[STEPS]).expect("model builds");
        assert!(dense.fold_start(&[100, STEPS]).expect("no error").is_none());

        // A folded table over the memory cap: 600,000 rows × 4·8 values, 77 MB.
        let mut large = Sequential::new();
        large.add(Embedding::new(600_000, 2).input_length(STEPS));
        large.add(Lstm::new(8));
        large.build(&[STEPS]).expect("model builds");
        assert!(large.fold_start(&[100_000, STEPS]).expect("no error").is_none());

        let mut lstm = model(Lstm::new(3), true);
        let folded = lstm.fold_start(&[100, STEPS]).expect("folds");
        let mut bad = ids(4, 0);
        bad[[2, 3]] = VOCABULARY as f32;
        let error = lstm.forward(bad.view().into_dyn(), false, folded.as_ref()).unwrap_err();
        assert!(matches!(error, crate::Error::IdOutOfRange { .. }), "{error}");
        let wrong = Array2::<f32>::ones((4, STEPS + 1));
        let error = lstm.forward(wrong.view().into_dyn(), false, folded.as_ref()).unwrap_err();
        assert!(matches!(error, crate::Error::ShapeMismatch { .. }), "{error}");
    }

    #[test]
    fn folding_pays_for_cached_tables_and_for_wide_embeddings_up_to_the_limit() {
        const MIB: usize = 1 << 20;
        let pays = |bytes, features| folding_pays(10_000, 1_000_000, bytes, features);
        // The lesson's model (1.3 MB), at any width of Embedding.
        assert!(pays(10_000 * 32 * 4, 32));
        assert!(pays(CACHED_FOLDED_BYTES, 1));
        // After Embedding(10000, 32), LSTM(128)'s 20 MB table stays in cache; LSTM(200)'s 32 MB
        // and LSTM(256)'s 41 MB are read from memory, which costs more than they save.
        assert!(pays(10_000 * 512 * 4, 32));
        assert!(!pays(10_000 * 800 * 4, 32));
        assert!(!pays(10_000 * 1024 * 4, 32));
        assert!(!pays(CACHED_FOLDED_BYTES + 1, MIN_UNCACHED_FEATURES - 1));
        // ... after Embedding(10000, 128): folded.
        assert!(pays(10_000 * 1024 * 4, 128));
        assert!(pays(MAX_FOLDED_BYTES, MIN_UNCACHED_FEATURES));
        // Never above the limit.
        assert!(!pays(MAX_FOLDED_BYTES + 1, 4096));
        assert!(!pays(100 * MIB, 512));
    }

    #[test]
    fn folding_pays_from_enough_lookups_per_row() {
        let (rows, small, large) = (10_000, SMALL_FOLDED_BYTES, 10_000 * 512 * 4);
        // Fewer lookups than rows: never.
        assert!(!folding_pays(rows, rows - 1, small, 32));
        assert!(!folding_pays(rows, rows - 1, large, 128));
        // A small table, or a wide Embedding's: from one lookup per row.
        assert!(folding_pays(rows, rows, small, 32));
        assert!(folding_pays(rows, rows, large, MIN_UNCACHED_FEATURES));
        // A larger table after a narrow Embedding: from `LOOKUPS_PER_ROW`.
        assert!(!folding_pays(rows, rows, small + 1, 32));
        assert!(!folding_pays(rows, LOOKUPS_PER_ROW * rows - 1, large, 32));
        assert!(folding_pays(rows, LOOKUPS_PER_ROW * rows, large, 32));
    }
}
