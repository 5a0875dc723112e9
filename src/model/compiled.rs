//! What `compile` sets and what every model's steps do with it, said once for `Sequential` and
//! `Functional`: the loss of each output and their sum, the running loss and metrics per
//! output, and the optimizer's update.

use super::history::Scores;
use crate::activations::Activation;
use crate::losses::{Loss, LossGrad};
use crate::metrics::Metric;
use crate::optimizers::Optimizer;
use crate::param::{Mask, Param};
use crate::training::Tracker;
use crate::Result;
use ndarray::ArrayViewD;

/// What `compile` sets.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) optimizer: Box<dyn Optimizer>,
    pub(crate) loss: Loss,
    pub(crate) metrics: Vec<Metric>,
    /// The metrics that read sample weights (Keras' `weighted_metrics`).
    pub(crate) weighted_metrics: Vec<Metric>,
    /// Each layer's trainability when `compile` was called: freezing or unfreezing a layer
    /// takes effect at the next `compile`, as in Keras.
    pub(crate) trainable: Vec<bool>,
}

/// One output of a step, with what its loss reads.
pub(crate) struct OutputLoss<'a> {
    /// The model's output.
    pub(crate) output: ArrayViewD<'a, f32>,
    /// The logits and activation of the layer that made it, when the loss may use them.
    pub(crate) logits: Option<(Activation, ArrayViewD<'a, f32>)>,
    /// The targets, conformed to the output.
    pub(crate) y: ArrayViewD<'a, f32>,
    /// The output's mask.
    pub(crate) mask: Option<&'a Mask>,
    /// The sample weights of this output.
    pub(crate) sample_weight: Option<ArrayViewD<'a, f32>>,
}

impl Compiled {
    /// What `compile` sets, its optimizer and loss checked as Keras' constructors check them.
    pub(crate) fn new(
        optimizer: Box<dyn Optimizer>,
        loss: Loss,
        metrics: &[Metric],
        weighted_metrics: &[Metric],
        trainable: Vec<bool>,
    ) -> Result<Compiled> {
        optimizer.validate()?;
        loss.validate()?;
        Ok(Compiled {
            optimizer,
            loss,
            metrics: metrics.to_vec(),
            weighted_metrics: weighted_metrics.to_vec(),
            trainable,
        })
    }

    /// The loss of each output and its gradient, and their sum (Keras applies one loss to
    /// every output and adds the values).
    pub(crate) fn losses(&self, outputs: &[OutputLoss<'_>]) -> Result<(f32, Vec<(f32, LossGrad)>)> {
        let mut each = Vec::with_capacity(outputs.len());
        for out in outputs {
            each.push(self.loss.value_and_grad(
                out.output.view(),
                out.logits.as_ref().map(|(a, z)| (*a, z.view())),
                out.y.view(),
                out.mask,
                out.sample_weight.clone(),
            )?);
        }
        let total = match each.split_first() {
            Some(((first, _), rest)) => rest.iter().fold(*first, |sum, (v, _)| sum + v),
            None => 0.0,
        };
        Ok((total, each))
    }

    /// One optimizer update of `params` (the weights in the optimizer's order).
    pub(crate) fn apply(&mut self, params: &mut [&mut Param]) {
        self.optimizer.apply(params);
    }
}

/// The running loss and metrics of a model's steps: for one output, Keras' `loss` and the
/// compiled metrics; for several, the summed `loss`, each output's `<output>_loss`, and each
/// metric per output as `<output>_<metric>` (Keras 3's names).
#[derive(Clone, Debug)]
pub(crate) struct Trackers {
    /// The summed loss, for a model of several outputs.
    total: Option<Tracker>,
    /// Each output's name and its loss and metrics.
    outputs: Vec<(String, Tracker)>,
}

impl Default for Trackers {
    fn default() -> Self {
        Trackers { total: None, outputs: vec![(String::new(), Tracker::new(&[], &[]))] }
    }
}

impl Trackers {
    /// Trackers of `compiled`'s metrics for outputs named `output_names`.
    pub(crate) fn new(compiled: &Compiled, output_names: &[String]) -> Self {
        let tracker = || Tracker::new(&compiled.metrics, &compiled.weighted_metrics);
        Trackers {
            total: (output_names.len() > 1).then(|| Tracker::new(&[], &[])),
            outputs: output_names.iter().map(|name| (name.clone(), tracker())).collect(),
        }
    }

    /// Forgets every batch.
    pub(crate) fn reset(&mut self) {
        self.total.iter_mut().for_each(Tracker::reset);
        self.outputs.iter_mut().for_each(|(_, t)| t.reset());
    }

    /// Adds a batch: the summed loss, and each output's loss with what its metrics read.
    pub(crate) fn add(
        &mut self,
        total: f32,
        outputs: &[OutputLoss<'_>],
        losses: &[f32],
    ) -> Result<()> {
        if let (Some(tracker), Some(first)) = (&mut self.total, outputs.first()) {
            tracker.add(total, first.output.view(), first.y.view(), None, None)?;
        }
        for ((_, tracker), (out, &loss)) in self.outputs.iter_mut().zip(outputs.iter().zip(losses))
        {
            tracker.add(
                loss,
                out.output.view(),
                out.y.view(),
                out.mask,
                out.sample_weight.clone(),
            )?;
        }
        Ok(())
    }

    /// The mean loss and metrics under their names.
    pub(crate) fn scores(&self) -> Scores {
        match &self.total {
            None => self
                .outputs
                .first()
                .map_or(Scores { loss: 0.0, metrics: Vec::new() }, |(_, t)| t.scores()),
            Some(total) => {
                let mut metrics = Vec::new();
                let each: Vec<(&String, Scores)> =
                    self.outputs.iter().map(|(name, t)| (name, t.scores())).collect();
                for (name, scores) in &each {
                    metrics.push((format!("{name}_loss"), scores.loss));
                }
                for (name, scores) in &each {
                    for (metric, value) in &scores.metrics {
                        metrics.push((format!("{name}_{metric}"), *value));
                    }
                }
                Scores { loss: total.scores().loss, metrics }
            }
        }
    }
}
