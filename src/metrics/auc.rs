//! Keras' `AUC`: confusion counts at evenly spaced thresholds and the area they enclose.

use crate::{Error, Result};

/// Which curve [`Auc`] integrates, as Keras' `curve`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AucCurve {
    /// Receiver operating characteristic: recall against the false-positive rate (`"ROC"`).
    #[default]
    Roc,
    /// Precision against recall (`"PR"`).
    Pr,
}

/// How [`Auc`] sums the area between two thresholds, as Keras' `summation_method`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AucSummation {
    /// Trapezoids for ROC; for PR, Keras' closed-form interpolation of precision, which models
    /// true and predicted positives as linear between thresholds (Davis & Goadrich).
    #[default]
    Interpolation,
    /// Rectangles of the lower of the two heights (`"minoring"`).
    Minoring,
    /// Rectangles of the higher of the two heights (`"majoring"`).
    Majoring,
}

/// The configuration of Keras' `AUC` metric; use it as [`Metric::Auc`](super::Metric::Auc).
///
/// With n thresholds (Keras' default 200) at −ε, 1/(n−1), …, (n−2)/(n−1), 1 + ε, a prediction p
/// (clipped to [0, 1]) counts as positive at threshold i when ⌈p·(n−1)⌉ − 1 ≥ i, the bucketing of
/// Keras' evenly-distributed-thresholds path (`keras/src/metrics/metrics_utils.py`). Targets
/// count as positive when non-zero.
///
/// # Examples
/// ```
/// use rnnkit::metrics::{Auc, AucCurve, Metric};
/// let pr_auc = Metric::Auc(Auc::new().curve(AucCurve::Pr));
/// assert_eq!(pr_auc.name(), "auc");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Auc {
    curve: AucCurve,
    num_thresholds: usize,
    summation_method: AucSummation,
}

impl Default for Auc {
    fn default() -> Self {
        Auc::new()
    }
}

impl Auc {
    /// ROC AUC with 200 thresholds and interpolation: Keras' `AUC()`.
    pub fn new() -> Self {
        Auc {
            curve: AucCurve::Roc,
            num_thresholds: 200,
            summation_method: AucSummation::Interpolation,
        }
    }

    /// The curve. Default: [`AucCurve::Roc`].
    pub fn curve(mut self, curve: AucCurve) -> Self {
        self.curve = curve;
        self
    }

    /// The number of thresholds, at least 2. Default: 200.
    pub fn num_thresholds(mut self, num_thresholds: usize) -> Self {
        self.num_thresholds = num_thresholds;
        self
    }

    /// The summation method. Default: [`AucSummation::Interpolation`].
    pub fn summation_method(mut self, summation_method: AucSummation) -> Self {
        self.summation_method = summation_method;
        self
    }

    /// The curve, the number of thresholds and the summation method, for a saved model.
    pub(crate) fn parts(self) -> (AucCurve, usize, AucSummation) {
        (self.curve, self.num_thresholds, self.summation_method)
    }

    pub(super) fn validate(self) -> Result<()> {
        if self.num_thresholds > 1 {
            Ok(())
        } else {
            Err(Error::invalid("num_thresholds", "an integer > 1", self.num_thresholds))
        }
    }

    pub(super) fn thresholds(self) -> usize {
        self.num_thresholds.max(2)
    }

    /// The threshold bucket of a prediction: the last threshold it exceeds.
    pub(super) fn bucket(self, p: f32) -> usize {
        let steps = (self.thresholds() - 1) as f32;
        let index = (p.clamp(0.0, 1.0) * steps).ceil() - 1.0;
        // NaN and the first bucket both land on 0, as Keras' relu.
        index.max(0.0) as usize
    }

    /// The area, from the weighted counts of positive and negative targets per bucket.
    pub(super) fn result(self, positives: &[f64], negatives: &[f64]) -> f64 {
        let n = positives.len();
        // tp[i], fp[i]: weights of predictions above threshold i (suffix sums of the buckets).
        let suffix = |buckets: &[f64]| {
            let mut sums = vec![0.0; n];
            let mut running = 0.0;
            for i in (0..n).rev() {
                running += buckets[i];
                sums[i] = running;
            }
            sums
        };
        let (tp, fp) = (suffix(positives), suffix(negatives));
        let (pos, neg) = (tp.first().copied().unwrap_or(0.0), fp.first().copied().unwrap_or(0.0));
        let fneg: Vec<f64> = tp.iter().map(|&t| pos - t).collect();
        if self.curve == AucCurve::Pr && self.summation_method == AucSummation::Interpolation {
            return interpolate_pr_auc(&tp, &fp, &fneg);
        }
        let recall: Vec<f64> =
            tp.iter().zip(&fneg).map(|(&t, &f)| divide_no_nan(t, t + f)).collect();
        let (x, y): (Vec<f64>, Vec<f64>) = match self.curve {
            AucCurve::Roc => {
                let fpr = fp.iter().map(|&f| divide_no_nan(f, f + (neg - f))).collect();
                (fpr, recall)
            }
            AucCurve::Pr => {
                let precision =
                    tp.iter().zip(&fp).map(|(&t, &f)| divide_no_nan(t, t + f)).collect();
                (recall, precision)
            }
        };
        (0..n - 1)
            .map(|i| {
                let height = match self.summation_method {
                    AucSummation::Interpolation => (y[i] + y[i + 1]) / 2.0,
                    AucSummation::Minoring => y[i].min(y[i + 1]),
                    AucSummation::Majoring => y[i].max(y[i + 1]),
                };
                (x[i] - x[i + 1]) * height
            })
            .sum()
    }
}

/// Keras' `interpolate_pr_auc`: within each interval, precision = (TP_A + slope·(P − P_A)) / P
/// integrated in closed form.
fn interpolate_pr_auc(tp: &[f64], fp: &[f64], fneg: &[f64]) -> f64 {
    let p: Vec<f64> = tp.iter().zip(fp).map(|(t, f)| t + f).collect();
    (0..tp.len() - 1)
        .map(|i| {
            let dtp = tp[i] - tp[i + 1];
            let dp = p[i] - p[i + 1];
            let slope = divide_no_nan(dtp, dp.max(0.0));
            let intercept = tp[i + 1] - slope * p[i + 1];
            let ratio = if p[i] > 0.0 && p[i + 1] > 0.0 {
                divide_no_nan(p[i], p[i + 1].max(0.0))
            } else {
                1.0
            };
            divide_no_nan(
                slope * (dtp + intercept * ratio.ln()),
                (tp[i + 1] + fneg[i + 1]).max(0.0),
            )
        })
        .sum()
}

/// x / y, or 0 when y is 0 (Keras' `divide_no_nan`).
pub(super) fn divide_no_nan(x: f64, y: f64) -> f64 {
    if y == 0.0 {
        0.0
    } else {
        x / y
    }
}
