//! The running loss and metrics of an epoch or an evaluation (Keras' loss tracker and compiled
//! metrics), which a model keeps and its steps update.

use crate::metrics::{Metric, MetricState};
use crate::model::Scores;
use crate::param::Mask;
use crate::Result;
use ndarray::ArrayViewD;

/// A loss averaged over batches weighted by their sizes (Keras' `Mean` loss tracker, updated
/// with `sample_weight=batch_size`), and the metrics' states accumulated over the same batches
/// (Keras' stateful metrics: masked steps skipped where Keras skips them). The compiled
/// `metrics` ignore sample weights; the `weighted_metrics` use them, as in Keras 3.
#[derive(Clone, Debug)]
pub(crate) struct Tracker {
    loss_sum: f64,
    samples: usize,
    metrics: Vec<Tracked>,
}

/// One metric, its name in the logs and whether it reads the sample weights.
#[derive(Clone, Debug)]
struct Tracked {
    name: String,
    state: MetricState,
    weighted: bool,
}

impl Tracker {
    /// A tracker of `metrics` and `weighted_metrics`, named as Keras 3's `CompileMetrics`
    /// names them: a metric's own name, `_1`, `_2`, ... for a repeated one; a weighted metric
    /// whose name is taken becomes `weighted_<name>` (then numbered).
    pub(crate) fn new(metrics: &[Metric], weighted_metrics: &[Metric]) -> Self {
        let mut tracked: Vec<Tracked> = Vec::new();
        let mut counts: Vec<(String, usize)> = Vec::new();
        let unique = |name: String, counts: &mut Vec<(String, usize)>| -> String {
            match counts.iter_mut().find(|(n, _)| *n == name) {
                Some((_, count)) => {
                    let numbered = format!("{name}_{count}");
                    *count += 1;
                    numbered
                }
                None => {
                    counts.push((name.clone(), 1));
                    name
                }
            }
        };
        for &metric in metrics {
            let name = unique(metric.name().to_string(), &mut counts);
            tracked.push(Tracked { name, state: metric.state(), weighted: false });
        }
        for &metric in weighted_metrics {
            let taken = counts.iter().any(|(n, _)| n == metric.name());
            let name = if taken {
                unique(format!("weighted_{}", metric.name()), &mut counts)
            } else {
                unique(metric.name().to_string(), &mut counts)
            };
            tracked.push(Tracked { name, state: metric.state(), weighted: true });
        }
        Tracker { loss_sum: 0.0, samples: 0, metrics: tracked }
    }

    /// Forgets every batch.
    pub(crate) fn reset(&mut self) {
        self.loss_sum = 0.0;
        self.samples = 0;
        self.metrics.iter_mut().for_each(|m| m.state.reset());
    }

    /// Adds a batch: its loss, the model's output, the targets, the output's mask and the
    /// sample weights (which only the weighted metrics read).
    pub(crate) fn add(
        &mut self,
        loss: f32,
        output: ArrayViewD<'_, f32>,
        y: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
        sample_weight: Option<ArrayViewD<'_, f32>>,
    ) -> Result<()> {
        let batch = output.shape()[0];
        for tracked in &mut self.metrics {
            let weights = if tracked.weighted { sample_weight.clone() } else { None };
            tracked.state.update(output.view(), y.view(), mask, weights)?;
        }
        self.loss_sum += f64::from(loss) * batch as f64;
        self.samples += batch;
        Ok(())
    }

    /// The mean loss and each metric's value, under its name.
    pub(crate) fn scores(&self) -> Scores {
        let loss =
            if self.samples == 0 { 0.0 } else { (self.loss_sum / self.samples as f64) as f32 };
        Scores {
            loss,
            metrics: self.metrics.iter().map(|m| (m.name.clone(), m.state.result())).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_keras_compile_metrics() {
        let auc = Metric::Auc(crate::metrics::Auc::default());
        let tracker = Tracker::new(
            &[Metric::Accuracy, auc, auc],
            &[Metric::Accuracy, Metric::Accuracy, Metric::Precision { threshold: 0.5 }],
        );
        let names: Vec<String> = tracker.scores().metrics.into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["accuracy", "auc", "auc_1", "weighted_accuracy", "weighted_accuracy_1", "precision"]
        );
    }
}
