//! The running state of a metric over batches (Keras' `update_state` / `result`).

use super::auc::divide_no_nan;
use super::rows::RowFn;
use super::Metric;
use crate::param::Mask;
use crate::shape::array_shape;
use crate::{Error, Result};
use ndarray::ArrayViewD;

/// A metric's accumulated state: feed it batches with [`MetricState::update`], read the value
/// over all of them with [`MetricState::result`].
///
/// The metrics built on a per-sample value (accuracies, mean errors) keep Keras' `Mean`
/// variables: each sample adds the mean over its steps of value × weight to `total`, and the
/// mean over its steps of its weights to `count`; the result is `total / count` (0 when
/// `count` is 0). `Precision` and `Recall` keep weighted true-positive, false-positive and
/// false-negative counts; `AUC` keeps weighted counts per threshold bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricState {
    metric: Metric,
    totals: Totals,
}

#[derive(Clone, Debug, PartialEq)]
enum Totals {
    Mean { total: f64, count: f64 },
    Confusion { true_positives: f64, false_positives: f64, false_negatives: f64 },
    Buckets { positives: Vec<f64>, negatives: Vec<f64> },
}

impl MetricState {
    pub(super) fn new(metric: Metric) -> Self {
        let totals = match metric {
            Metric::Precision { .. } | Metric::Recall { .. } => Totals::Confusion {
                true_positives: 0.0,
                false_positives: 0.0,
                false_negatives: 0.0,
            },
            Metric::Auc(auc) => Totals::Buckets {
                positives: vec![0.0; auc.thresholds()],
                negatives: vec![0.0; auc.thresholds()],
            },
            _ => Totals::Mean { total: 0.0, count: 0.0 },
        };
        MetricState { metric, totals }
    }

    /// The metric this state measures.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// Forgets every batch (Keras' `reset_state`), as at the start of an epoch.
    pub fn reset(&mut self) {
        *self = MetricState::new(self.metric);
    }

    /// Adds one batch: the model's `output` (`(batch, units)` or `(batch, steps, units)`) and
    /// its targets `y` (the outputs' shape, without the trailing axis of 1 for one unit, or
    /// class ids for the sparse accuracy).
    ///
    /// `mask`, of shape `(batch, steps)` for a 3-D output, marks the real steps (as the
    /// model's output mask); the metrics that read masks in Keras 3 skip the others (see
    /// [`Metric::reads_mask`]). `sample_weight`, of shape `(batch,)` for a 2-D output or
    /// `(batch, steps)` for a 3-D one, weighs each sample or step (Keras' `weighted_metrics`).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when `y`, `mask` or `sample_weight` does not fit `output`, and
    /// [`Error::InvalidArgument`] for a metric whose arguments fail [`Metric::validate`]; the
    /// state is then unchanged.
    pub fn update(
        &mut self,
        output: ArrayViewD<'_, f32>,
        y: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
        sample_weight: Option<ArrayViewD<'_, f32>>,
    ) -> Result<()> {
        self.metric.validate()?;
        let shape = output.shape();
        let row_fn = RowFn::resolve(self.metric, shape, y.shape());
        row_fn.check_targets(self.metric, shape, y.shape())?;
        let leading = &shape[..shape.len() - 1];
        check_weights(self.metric, leading, mask, sample_weight.as_ref())?;
        let output = output.as_standard_layout();
        let y = y.as_standard_layout();
        let sample_weight = sample_weight.as_ref().map(|w| w.as_standard_layout());
        let (Some(p), Some(y), weights) =
            (output.as_slice(), y.as_slice(), sample_weight.as_ref().map(|w| w.as_slice()))
        else {
            return Err(Error::invalid("arrays", "standard-layout arrays", "another layout"));
        };
        let units = shape.last().copied().unwrap_or(1).max(1);
        let rows = p.len() / units;
        let per_row = y.len() / rows.max(1);
        // Each row's weight: its sample weight, times 0 or 1 from the mask when the metric
        // reads masks (Keras' `apply_mask` with reduction "sum").
        let mut row_weights: Vec<f64> = weights
            .flatten()
            .map_or_else(|| vec![1.0; rows], |w| w.iter().map(|&w| f64::from(w)).collect());
        if let Some(mask) = mask.filter(|_| self.metric.reads_mask()) {
            for (w, &keep) in row_weights.iter_mut().zip(mask.iter()) {
                if !keep {
                    *w = 0.0;
                }
            }
        }
        let weight = |row: usize| row_weights[row];
        let steps = if shape.len() == 3 { shape[1] as f64 } else { 1.0 };
        match &mut self.totals {
            Totals::Mean { total, count } => {
                for row in 0..rows {
                    let w = weight(row);
                    let value = row_fn.value(
                        &p[row * units..(row + 1) * units],
                        &y[row * per_row..(row + 1) * per_row],
                    );
                    // Keras reduces each sample to the mean over its steps.
                    *total += value * w / steps;
                    *count += w / steps;
                }
            }
            Totals::Confusion { true_positives, false_positives, false_negatives } => {
                let threshold = match self.metric {
                    Metric::Precision { threshold } | Metric::Recall { threshold } => threshold,
                    _ => 0.5,
                };
                for (i, (&p, &y)) in p.iter().zip(y).enumerate() {
                    let w = weight(i / units);
                    match (y != 0.0, p > threshold) {
                        (true, true) => *true_positives += w,
                        (false, true) => *false_positives += w,
                        (true, false) => *false_negatives += w,
                        (false, false) => {}
                    }
                }
            }
            Totals::Buckets { positives, negatives } => {
                let Metric::Auc(auc) = self.metric else { return Ok(()) };
                for (i, (&p, &y)) in p.iter().zip(y).enumerate() {
                    let bucket = auc.bucket(p);
                    let counts = if y != 0.0 { &mut *positives } else { &mut *negatives };
                    counts[bucket] += weight(i / units);
                }
            }
        }
        Ok(())
    }

    /// The metric over every batch since the last reset (Keras' `result()`).
    pub fn result(&self) -> f32 {
        let value = match &self.totals {
            Totals::Mean { total, count } => {
                let mean = divide_no_nan(*total, *count);
                if self.metric == Metric::RootMeanSquaredError {
                    mean.sqrt()
                } else {
                    mean
                }
            }
            Totals::Confusion { true_positives, false_positives, false_negatives } => {
                let others = if let Metric::Recall { .. } = self.metric {
                    false_negatives
                } else {
                    false_positives
                };
                divide_no_nan(*true_positives, true_positives + others)
            }
            Totals::Buckets { positives, negatives } => match self.metric {
                Metric::Auc(auc) => auc.result(positives, negatives),
                _ => 0.0,
            },
        };
        value as f32
    }
}

/// Checks that a mask and sample weights cover the output's leading axes.
fn check_weights(
    metric: Metric,
    leading: &[usize],
    mask: Option<&Mask>,
    sample_weight: Option<&ArrayViewD<'_, f32>>,
) -> Result<()> {
    let mismatch = |what: &str, expected: &[usize], found: &[usize]| Error::ShapeMismatch {
        layer: format!("metric {} {what}", metric.name()),
        expected: array_shape(expected),
        found: array_shape(found),
    };
    if let Some(mask) = mask {
        if leading.len() != 2 || mask.shape() != leading {
            return Err(mismatch(
                "mask (a (batch, steps) mask for 3-D outputs)",
                leading,
                mask.shape(),
            ));
        }
    }
    if let Some(weights) = sample_weight {
        if weights.shape() != leading {
            return Err(mismatch("sample_weight", leading, weights.shape()));
        }
    }
    Ok(())
}
