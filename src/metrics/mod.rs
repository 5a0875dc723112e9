//! Metrics reported by `fit` and `evaluate`, as Keras 3's stateful metrics.
//!
//! A [`Metric`] names what to measure; [`Metric::state`] gives a [`MetricState`] that
//! accumulates batches with [`MetricState::update`] and reports the value over all of them with
//! [`MetricState::result`], exactly as Keras' `update_state` / `result`: an epoch's accuracy is
//! the correct count over the whole epoch, not a mean of per-batch accuracies, and an AUC is
//! computed from the confusion counts of every batch.
//!
//! # Masks and sample weights
//!
//! As in Keras 3, the metrics that wrap a per-sample function (the accuracies and the mean
//! errors except `RootMeanSquaredError`) skip masked steps: with
//! `mask_zero` or `Masking` and `return_sequences`, only real steps count. `Precision`,
//! `Recall`, `AUC` and `RootMeanSquaredError` do not read the mask in Keras 3 and count every
//! step; rnnkit gives the same numbers (`tests/metrics.rs` checks both against Keras).
//! Sample weights (Keras' `weighted_metrics`) multiply each sample's (or each step's)
//! contribution.
//!
//! # Examples
//! ```
//! use ndarray::array;
//! use rnnkit::metrics::Metric;
//!
//! # fn main() -> rnnkit::Result<()> {
//! let mut precision = Metric::Precision { threshold: 0.5 }.state();
//! let (p, y) = (array![[0.9f32], [0.8], [0.2]], array![[1.0f32], [0.0], [1.0]]);
//! precision.update(p.view().into_dyn(), y.view().into_dyn(), None, None)?;
//! let (p, y) = (array![[0.7f32], [0.1]], array![[1.0f32], [1.0]]);
//! precision.update(p.view().into_dyn(), y.view().into_dyn(), None, None)?;
//! assert_eq!(precision.result(), 2.0 / 3.0); // 2 true positives among 3 predicted positives
//! # Ok(())
//! # }
//! ```

mod auc;
mod rows;
mod state;

pub use auc::{Auc, AucCurve, AucSummation};
pub use state::MetricState;

use crate::{Error, Result};

/// A metric, named as in Keras 3 (`keras.metrics.*`). Fields hold Keras' arguments; each
/// variant's documentation gives Keras' default.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Metric {
    /// Keras' `"accuracy"`: resolved from the shapes as Keras does — binary (threshold 0.5) for
    /// one output unit, sparse categorical when targets are class ids, categorical (argmax)
    /// otherwise.
    Accuracy,
    /// `BinaryAccuracy(threshold=0.5)`: the share of outputs with `(p > threshold) == y`.
    BinaryAccuracy {
        /// Outputs above it count as 1. Keras' default: 0.5.
        threshold: f32,
    },
    /// `CategoricalAccuracy()`: `argmax(p) == argmax(y)` for one-hot targets.
    CategoricalAccuracy,
    /// `SparseCategoricalAccuracy()`: `argmax(p) == y` for class-id targets.
    SparseCategoricalAccuracy,
    /// `TopKCategoricalAccuracy(k=5)`: the target class (one-hot) is among the `k` highest
    /// outputs (ties with the target's output count in its favour, as Keras' `in_top_k`).
    TopKCategoricalAccuracy {
        /// How many of the highest outputs count. Keras' default: 5.
        k: usize,
    },
    /// `Precision(thresholds=0.5)`: true positives / predicted positives, with outputs above
    /// `threshold` predicted positive and non-zero targets positive.
    Precision {
        /// Keras' default: 0.5.
        threshold: f32,
    },
    /// `Recall(thresholds=0.5)`: true positives / actual positives.
    Recall {
        /// Keras' default: 0.5.
        threshold: f32,
    },
    /// `AUC(...)`: area under the ROC or precision-recall curve, from confusion counts at
    /// evenly spaced thresholds (Keras' 200 by default). See [`Auc`].
    Auc(Auc),
    /// `MeanAbsoluteError()`: |p − y| averaged over the last axis, then over samples.
    MeanAbsoluteError,
    /// `MeanSquaredError()`: (p − y)² averaged over the last axis, then over samples.
    MeanSquaredError,
    /// `RootMeanSquaredError()`: the square root of the mean of (p − y)².
    RootMeanSquaredError,
}

impl Metric {
    /// The name under which the metric appears in `History` and `Scores`: Keras 3's default
    /// name (`"accuracy"`, `"binary_accuracy"`, `"precision"`, `"auc"`,
    /// `"root_mean_squared_error"`, ...); validation values add `val_`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::BinaryAccuracy { .. } => "binary_accuracy",
            Metric::CategoricalAccuracy => "categorical_accuracy",
            Metric::SparseCategoricalAccuracy => "sparse_categorical_accuracy",
            Metric::TopKCategoricalAccuracy { .. } => "top_k_categorical_accuracy",
            Metric::Precision { .. } => "precision",
            Metric::Recall { .. } => "recall",
            Metric::Auc(_) => "auc",
            Metric::MeanAbsoluteError => "mean_absolute_error",
            Metric::MeanSquaredError => "mean_squared_error",
            Metric::RootMeanSquaredError => "root_mean_squared_error",
        }
    }

    /// Whether higher values are better (Keras' metric `_direction`), which callbacks in
    /// `mode` auto follow.
    pub fn higher_is_better(self) -> bool {
        !matches!(
            self,
            Metric::MeanAbsoluteError | Metric::MeanSquaredError | Metric::RootMeanSquaredError
        )
    }

    /// Whether the metric skips masked steps, as Keras 3: the metrics built on a per-sample
    /// function (`MeanMetricWrapper`) read the mask; `Precision`, `Recall`, `AUC` and
    /// `RootMeanSquaredError` do not.
    pub fn reads_mask(self) -> bool {
        !matches!(
            self,
            Metric::Precision { .. }
                | Metric::Recall { .. }
                | Metric::Auc(_)
                | Metric::RootMeanSquaredError
        )
    }

    /// Checks the arguments, as Keras' constructors do.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a threshold outside [0, 1], `k` = 0 or fewer than two AUC
    /// thresholds.
    pub fn validate(self) -> Result<()> {
        let unit = |name: &str, value: f32| {
            if (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(Error::invalid(name, "a threshold in [0, 1]", value))
            }
        };
        match self {
            Metric::BinaryAccuracy { threshold } => unit("threshold", threshold),
            Metric::Precision { threshold } | Metric::Recall { threshold } => {
                unit("thresholds", threshold)
            }
            Metric::TopKCategoricalAccuracy { k: 0 } => {
                Err(Error::invalid("k", "a positive integer", 0))
            }
            Metric::Auc(auc) => auc.validate(),
            _ => Ok(()),
        }
    }

    /// A fresh accumulator for this metric (Keras' metric object after `reset_state`).
    pub fn state(self) -> MetricState {
        MetricState::new(self)
    }
}
