//! `FitConfig`: the arguments of `fit`, with Keras' defaults.

use ndarray::ArrayD;
use std::collections::HashMap;

/// How [`Sequential::fit`](super::Sequential::fit) trains; `FitConfig::default()` holds Keras'
/// defaults, so set only what differs:
///
/// ```
/// use rnnkit::prelude::*;
/// let config = FitConfig { epochs: 3, batch_size: 32, validation_split: 0.2, ..FitConfig::default() };
/// assert!(config.shuffle);
/// ```
///
/// Callbacks (`EarlyStopping`, `ModelCheckpoint`, `TerminateOnNaN`) hold state, so they are not
/// part of this plain value: pass them to
/// [`Sequential::fit_with_callbacks`](super::Sequential::fit_with_callbacks).
#[derive(Clone, Debug)]
pub struct FitConfig {
    /// Passes over the training data. Default: 1.
    pub epochs: usize,
    /// Samples per gradient update. Default: 32.
    pub batch_size: usize,
    /// Fraction in [0, 1) of the samples, taken from the end of `x` and `y` before shuffling,
    /// held out for validation (as Keras). Default: 0.
    pub validation_split: f32,
    /// Validation samples `(x, y)`; when set, `validation_split` is ignored. Default: none.
    pub validation_data: Option<(ArrayD<f32>, ArrayD<f32>)>,
    /// Shuffle the training samples before each epoch. Default: `true`.
    pub shuffle: bool,
    /// Seed of the shuffling; `None` draws from the model's generator (itself seeded by
    /// [`Sequential::seed`](super::Sequential::seed)). Default: `None`.
    pub seed: Option<u64>,
    /// 0 = silent, 1 = a progress bar per epoch, 2 = one line per epoch. Default: 1.
    pub verbose: u8,
    /// Keras' `sample_weight`: a weight per training sample, `(samples,)`, or per step of a
    /// sequence output, `(samples, steps)`. The loss becomes Σ w·loss divided by the number of
    /// samples (or unmasked steps) of the batch — not by the weights' sum, as Keras 3's
    /// `sum_over_batch_size` — and the `weighted_metrics` of
    /// [`Sequential::compile_with_weighted_metrics`](super::Sequential::compile_with_weighted_metrics)
    /// weigh each sample by w. With `validation_split`, the held-out samples keep their
    /// weights. Default: none.
    pub sample_weight: Option<ArrayD<f32>>,
    /// Keras' `class_weight`: each training sample weighs the weight of its class (1 for a
    /// class not listed), the class being the target rounded, or its argmax for one-hot
    /// targets; for imbalanced data. Applies to the training samples only, as in Keras; not
    /// with `sample_weight`, nor with sequence targets. Default: none.
    pub class_weight: Option<HashMap<usize, f32>>,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            epochs: 1,
            batch_size: 32,
            validation_split: 0.0,
            validation_data: None,
            shuffle: true,
            seed: None,
            verbose: 1,
            sample_weight: None,
            class_weight: None,
        }
    }
}
