//! The running loss and metrics of an epoch or an evaluation (Keras' loss tracker and compiled
//! metrics), which a model keeps and its steps update.

use crate::metrics::{Metric, MetricState};
use crate::model::Scores;
use crate::param::Mask;
use crate::Result;
use ndarray::ArrayViewD;

/// A loss averaged over batches weighted by their sizes (Keras' `Mean` loss tracker, updated
/// with `sample_weight=batch_size`), and the metrics' states accumulated over the same batches
/// (Keras' stateful metrics: masked steps skipped where Keras skips them).
#[derive(Clone, Debug)]
pub(crate) struct Tracker {
    loss_sum: f64,
    samples: usize,
    metrics: Vec<MetricState>,
}

impl Tracker {
    pub(crate) fn new(metrics: &[Metric]) -> Self {
        Tracker { loss_sum: 0.0, samples: 0, metrics: metrics.iter().map(|m| m.state()).collect() }
    }

    /// Forgets every batch.
    pub(crate) fn reset(&mut self) {
        self.loss_sum = 0.0;
        self.samples = 0;
        self.metrics.iter_mut().for_each(MetricState::reset);
    }

    /// Adds a batch: its loss, the model's output, the targets and the output's mask.
    pub(crate) fn add(
        &mut self,
        loss: f32,
        output: ArrayViewD<'_, f32>,
        y: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
    ) -> Result<()> {
        let batch = output.shape()[0];
        self.loss_sum += f64::from(loss) * batch as f64;
        self.samples += batch;
        for state in &mut self.metrics {
            state.update(output.view(), y.view(), mask, None)?;
        }
        Ok(())
    }

    /// The mean loss and each metric's value.
    pub(crate) fn scores(&self) -> Scores {
        let loss =
            if self.samples == 0 { 0.0 } else { (self.loss_sum / self.samples as f64) as f32 };
        Scores {
            loss,
            metrics: self
                .metrics
                .iter()
                .map(|state| (state.metric().name().to_string(), state.result()))
                .collect(),
        }
    }
}
