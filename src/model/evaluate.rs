//! Measuring: `evaluate` and `predict`, and the input checks that `fit` shares.

use super::history::Scores;
use super::sequential::Sequential;
use crate::losses::Loss;
use crate::metrics::{Metric, MetricState};
use crate::param::Mask;
use crate::{Error, Result};
use ndarray::{concatenate, ArrayBase, ArrayD, ArrayViewD, Axis, Data, Dimension};

/// A loss averaged over batches, weighted by samples as Keras weights it, and the metrics'
/// states accumulated over the same batches (Keras' stateful metrics: masked steps skipped where
/// Keras skips them).
pub(super) struct Totals {
    loss_sum: f64,
    pub(super) samples: usize,
    metrics: Vec<MetricState>,
}

impl Totals {
    pub(super) fn new(metrics: &[Metric]) -> Self {
        Totals { loss_sum: 0.0, samples: 0, metrics: metrics.iter().map(|m| m.state()).collect() }
    }

    /// Adds a batch: its loss, the model's output, the targets and the output's mask.
    pub(super) fn add(
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

    pub(super) fn scores(&self) -> Scores {
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

impl Sequential {
    /// Loss and metrics of the model on `x`, `y`, as Keras' `evaluate`: batch values averaged
    /// with weights by batch size.
    ///
    /// # Shapes
    /// `x` and `y` as for [`Sequential::fit`]; the scores are means over the samples.
    ///
    /// # Errors
    /// [`Error::NotCompiled`] before `compile`, the input errors of [`Sequential::fit`], and
    /// [`Error::InvalidArgument`] for a zero `batch_size`.
    pub fn evaluate<S1, D1, S2, D2>(
        &mut self,
        x: &ArrayBase<S1, D1>,
        y: &ArrayBase<S2, D2>,
        batch_size: usize,
    ) -> Result<Scores>
    where
        S1: Data<Elem = f32>,
        D1: Dimension,
        S2: Data<Elem = f32>,
        D2: Dimension,
    {
        let (x, y) = (x.view().into_dyn(), y.view().into_dyn());
        let y = self.checked_targets("evaluate", &x, y)?;
        self.evaluate_conformed(x, y.view(), batch_size)
    }

    /// The model's outputs for `x`, computed `batch_size` samples at a time, as Keras'
    /// `predict`.
    ///
    /// # Shapes
    /// `x` `(samples, ..input_shape)` gives `(samples, ..output_shape)`: `(samples, 1)`
    /// probabilities for the lesson's model.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] and [`Error::ShapeMismatch`] for bad `x`, [`Error::InvalidArgument`]
    /// for a zero `batch_size`, and the layers' errors (ids out of range).
    pub fn predict<S, D>(&mut self, x: &ArrayBase<S, D>, batch_size: usize) -> Result<ArrayD<f32>>
    where
        S: Data<Elem = f32>,
        D: Dimension,
    {
        let x = x.view().into_dyn();
        self.prepare_input(&x)?;
        if batch_size == 0 {
            return Err(Error::invalid("batch_size", "a positive integer", batch_size));
        }
        let folded = self.fold_start(x.shape())?;
        let mut outputs = Vec::new();
        for start in (0..x.shape()[0]).step_by(batch_size) {
            let end = (start + batch_size).min(x.shape()[0]);
            let batch = x.slice_axis(Axis(0), (start..end).into());
            outputs.push(self.forward(batch, false, folded.as_ref())?.0);
        }
        let views: Vec<_> = outputs.iter().map(|o| o.view()).collect();
        concatenate(Axis(0), &views).map_err(|e| Error::NotBuilt(format!("predict: {e}")))
    }

    pub(super) fn evaluate_conformed(
        &mut self,
        x: ArrayViewD<'_, f32>,
        y: ArrayViewD<'_, f32>,
        batch_size: usize,
    ) -> Result<Scores> {
        if batch_size == 0 {
            return Err(Error::invalid("batch_size", "a positive integer", batch_size));
        }
        let loss = self.loss()?;
        let mut totals = Totals::new(&self.compiled_metrics());
        let folded = self.fold_start(x.shape())?;
        for start in (0..x.shape()[0]).step_by(batch_size) {
            let range = start..(start + batch_size).min(x.shape()[0]);
            let y_batch = y.slice_axis(Axis(0), range.clone().into());
            let batch = x.slice_axis(Axis(0), range.into());
            let (output, mask) = self.forward(batch, false, folded.as_ref())?;
            let logits = self.output_logits();
            let (value, _) =
                loss.value_and_grad(output.view(), logits, y_batch.view(), mask.as_ref());
            totals.add(value, output.view(), y_batch, mask.as_ref())?;
        }
        Ok(totals.scores())
    }

    pub(super) fn loss(&self) -> Result<Loss> {
        self.compiled.as_ref().map(|c| c.loss).ok_or(Error::NotCompiled("training"))
    }

    pub(super) fn compiled_metrics(&self) -> Vec<Metric> {
        self.compiled.as_ref().map(|c| c.metrics.clone()).unwrap_or_default()
    }

    /// The checks every compiled entry point makes on one `(x, y)` pair: compiled, `x` of the
    /// input shape, as many targets as samples; returns the targets in the shape the loss reads.
    pub(super) fn checked_targets(
        &mut self,
        call: &'static str,
        x: &ArrayViewD<'_, f32>,
        y: ArrayViewD<'_, f32>,
    ) -> Result<ArrayD<f32>> {
        self.check_compiled(call)?;
        self.check_pair(x, &y, "x")?;
        self.conform(x.shape(), y)
    }

    pub(super) fn check_compiled(&self, call: &'static str) -> Result<()> {
        if self.compiled.is_none() {
            return Err(Error::NotCompiled(call));
        }
        Ok(())
    }

    /// Builds the model from `x` if needed and checks `x`'s shape.
    pub(super) fn prepare_input(&mut self, x: &ArrayViewD<'_, f32>) -> Result<()> {
        if x.ndim() == 0 || x.shape()[0] == 0 {
            return Err(Error::EmptyInput("x"));
        }
        if self.input_shape.is_none() && self.declared_input_shape().is_none() {
            self.build_from(x.shape())?;
        }
        self.ensure_built()?;
        self.check_input(x)
    }

    pub(super) fn check_pair(
        &mut self,
        x: &ArrayViewD<'_, f32>,
        y: &ArrayViewD<'_, f32>,
        what: &'static str,
    ) -> Result<()> {
        if x.ndim() == 0 || x.shape()[0] == 0 {
            return Err(Error::EmptyInput(what));
        }
        self.prepare_input(x)?;
        let y_samples = y.shape().first().copied().unwrap_or(0);
        if y_samples != x.shape()[0] {
            return Err(Error::LengthMismatch { x: x.shape()[0], y: y_samples });
        }
        Ok(())
    }

    /// Targets checked against the loss and the model's output for inputs of shape `x_shape`,
    /// in the shape the loss reads.
    pub(super) fn conform(&self, x_shape: &[usize], y: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>> {
        self.loss()?.conform_targets(y, &self.output_shape_for(x_shape))
    }
}
