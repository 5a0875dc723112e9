//! Training and measuring: `compile`, `fit`, `evaluate`, `predict`, `train_on_batch`.

use super::config::FitConfig;
use super::history::{History, Scores};
use super::progress::Progress;
use super::sequential::{Compiled, Sequential};
use crate::losses::Loss;
use crate::metrics::Metric;
use crate::optimizers::Optimizer;
use crate::{Error, Result};
use ndarray::{concatenate, ArrayBase, ArrayD, ArrayViewD, Axis, Data, Dimension};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// Running sums of a loss and metrics over batches, weighted by samples as Keras weights them.
struct Totals {
    loss_sum: f64,
    samples: usize,
    metrics: Vec<(Metric, f64, usize)>,
}

impl Totals {
    fn new(metrics: &[Metric]) -> Self {
        Totals {
            loss_sum: 0.0,
            samples: 0,
            metrics: metrics.iter().map(|&m| (m, 0.0, 0)).collect(),
        }
    }

    fn add(&mut self, loss: f32, output: ArrayViewD<'_, f32>, y: ArrayViewD<'_, f32>) {
        let batch = output.shape()[0];
        self.loss_sum += f64::from(loss) * batch as f64;
        self.samples += batch;
        for (metric, sum, count) in &mut self.metrics {
            let (s, c) = metric.batch_totals(output.view(), y.view());
            *sum += s;
            *count += c;
        }
    }

    fn scores(&self) -> Scores {
        let mean =
            |sum: f64, count: usize| if count == 0 { 0.0 } else { (sum / count as f64) as f32 };
        Scores {
            loss: mean(self.loss_sum, self.samples),
            metrics: self
                .metrics
                .iter()
                .map(|&(m, s, c)| (m.name().to_string(), mean(s, c)))
                .collect(),
        }
    }
}

impl Sequential {
    /// Sets the optimizer, the loss and the metrics that `fit` and `evaluate` use, as Keras'
    /// `compile`. Compiling again resets the optimizer's state.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when a hyper-parameter of the optimizer is out of its domain.
    pub fn compile(
        &mut self,
        optimizer: impl Optimizer + 'static,
        loss: Loss,
        metrics: &[Metric],
    ) -> Result<()> {
        optimizer.validate()?;
        self.compiled =
            Some(Compiled { optimizer: Box::new(optimizer), loss, metrics: metrics.to_vec() });
        Ok(())
    }

    /// Trains the model, as Keras' `fit`, and returns the per-epoch [`History`].
    ///
    /// `x` holds one sample per row (`(samples, 500)` token ids for the lesson's model); `y`
    /// holds the targets (`(samples,)` or `(samples, 1)` labels for a sigmoid output).
    ///
    /// # Errors
    /// [`Error::NotCompiled`] before `compile`; [`Error::EmptyInput`], [`Error::LengthMismatch`]
    /// and [`Error::ShapeMismatch`] for bad `x`, `y` or validation data;
    /// [`Error::InvalidArgument`] for a bad `epochs`, `batch_size` or `validation_split`;
    /// [`Error::NonFiniteLoss`] when the loss becomes NaN or infinite (training stops there);
    /// and the layers' errors (ids out of range).
    pub fn fit<S1, D1, S2, D2>(
        &mut self,
        x: &ArrayBase<S1, D1>,
        y: &ArrayBase<S2, D2>,
        config: &FitConfig,
    ) -> Result<History>
    where
        S1: Data<Elem = f32>,
        D1: Dimension,
        S2: Data<Elem = f32>,
        D2: Dimension,
    {
        let (x, y) = (x.view().into_dyn(), y.view().into_dyn());
        self.check_compiled("fit")?;
        self.check_pair(&x, &y, "x")?;
        if config.batch_size == 0 {
            return Err(Error::invalid("batch_size", "a positive integer", config.batch_size));
        }
        if !(0.0..1.0).contains(&config.validation_split) {
            return Err(Error::invalid(
                "validation_split",
                "a number in [0, 1)",
                config.validation_split,
            ));
        }
        let samples = x.shape()[0];
        let (x_train, y_train, validation) = match &config.validation_data {
            Some((x_val, y_val)) => {
                self.check_pair(&x_val.view(), &y_val.view(), "validation x")?;
                (x.view(), y.view(), Some((x_val.view(), y_val.view())))
            }
            None if config.validation_split > 0.0 => {
                // Keras holds out the last samples, before any shuffling.
                let split_at =
                    (samples as f64 * (1.0 - f64::from(config.validation_split))).floor() as usize;
                if split_at == 0 || split_at == samples {
                    return Err(Error::invalid(
                        "validation_split",
                        format!(
                            "a fraction that leaves samples on both sides of {samples} samples"
                        ),
                        config.validation_split,
                    ));
                }
                let (x_t, x_v) = x.view().split_at(Axis(0), split_at);
                let (y_t, y_v) = y.view().split_at(Axis(0), split_at);
                (x_t, y_t, Some((x_v, y_v)))
            }
            None => (x.view(), y.view(), None),
        };
        let y_train = self.conform(y_train)?;
        let validation = match validation {
            Some((xv, yv)) => Some((xv, self.conform(yv)?)),
            None => None,
        };

        let mut shuffler = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::seed_from_u64(self.rng.gen()),
        };
        let train_samples = x_train.shape()[0];
        let mut order: Vec<usize> = (0..train_samples).collect();
        let mut history = History::default();
        for epoch in 1..=config.epochs {
            if config.shuffle {
                order.shuffle(&mut shuffler);
            }
            let progress =
                Progress::start_epoch(config.verbose, epoch, config.epochs, train_samples);
            let metrics = self.compiled_metrics();
            let mut totals = Totals::new(&metrics);
            for (batch_index, rows) in order.chunks(config.batch_size).enumerate() {
                let (x_batch, y_batch) = if config.shuffle {
                    (x_train.select(Axis(0), rows), y_train.select(Axis(0), rows))
                } else {
                    let range = rows[0]..rows[0] + rows.len();
                    (
                        x_train.slice_axis(Axis(0), range.clone().into()).to_owned(),
                        y_train.slice_axis(Axis(0), range.into()).to_owned(),
                    )
                };
                let (loss, output) = self.train_step(x_batch.view(), y_batch.view())?;
                if !loss.is_finite() {
                    return Err(Error::NonFiniteLoss { epoch, batch: batch_index + 1, loss });
                }
                totals.add(loss, output.view(), y_batch.view());
                progress.batch_done(totals.samples, &totals.scores());
            }
            let train_scores = totals.scores();
            let val_scores = match &validation {
                Some((xv, yv)) => {
                    Some(self.evaluate_conformed(xv.view(), yv.view(), config.batch_size)?)
                }
                None => None,
            };
            history.push("", &train_scores);
            if let Some(val) = &val_scores {
                history.push("val_", val);
            }
            progress.finish(&train_scores, val_scores.as_ref());
        }
        Ok(history)
    }

    /// Runs one gradient update on one batch, as Keras' `train_on_batch`; returns the batch's
    /// loss and metrics computed before the update.
    ///
    /// # Errors
    /// As [`Sequential::fit`].
    pub fn train_on_batch<S1, D1, S2, D2>(
        &mut self,
        x: &ArrayBase<S1, D1>,
        y: &ArrayBase<S2, D2>,
    ) -> Result<Scores>
    where
        S1: Data<Elem = f32>,
        D1: Dimension,
        S2: Data<Elem = f32>,
        D2: Dimension,
    {
        let (x, y) = (x.view().into_dyn(), y.view().into_dyn());
        self.check_compiled("train_on_batch")?;
        self.check_pair(&x, &y, "x")?;
        let y = self.conform(y)?;
        let (loss, output) = self.train_step(x, y.view())?;
        let mut totals = Totals::new(&self.compiled_metrics());
        totals.add(loss, output.view(), y.view());
        Ok(totals.scores())
    }

    /// Loss and metrics of the model on `x`, `y`, as Keras' `evaluate`: batch values averaged
    /// with weights by batch size.
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
        self.check_compiled("evaluate")?;
        self.check_pair(&x, &y, "x")?;
        let y = self.conform(y)?;
        self.evaluate_conformed(x, y.view(), batch_size)
    }

    /// The model's outputs for `x`, computed `batch_size` samples at a time, as Keras'
    /// `predict`.
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
        let mut outputs = Vec::new();
        for start in (0..x.shape()[0]).step_by(batch_size) {
            let end = (start + batch_size).min(x.shape()[0]);
            outputs.push(self.forward(x.slice_axis(Axis(0), (start..end).into()), false)?.0);
        }
        let views: Vec<_> = outputs.iter().map(|o| o.view()).collect();
        concatenate(Axis(0), &views).map_err(|e| Error::NotBuilt(format!("predict: {e}")))
    }

    fn evaluate_conformed(
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
        for start in (0..x.shape()[0]).step_by(batch_size) {
            let range = start..(start + batch_size).min(x.shape()[0]);
            let y_batch = y.slice_axis(Axis(0), range.clone().into());
            let (output, mask) = self.forward(x.slice_axis(Axis(0), range.into()), false)?;
            let logits = self.output_logits();
            let (value, _) =
                loss.value_and_grad(output.view(), logits, y_batch.view(), mask.as_ref());
            totals.add(value, output.view(), y_batch);
        }
        Ok(totals.scores())
    }

    /// Forward, loss, backward and one optimizer update on a batch.
    fn train_step(
        &mut self,
        x: ArrayViewD<'_, f32>,
        y: ArrayViewD<'_, f32>,
    ) -> Result<(f32, ArrayD<f32>)> {
        let loss = self.loss()?;
        self.zero_grads();
        let (output, mask) = self.forward(x, true)?;
        let (value, grad) =
            loss.value_and_grad(output.view(), self.output_logits(), y, mask.as_ref());
        if !value.is_finite() {
            return Ok((value, output));
        }
        self.backward(grad)?;
        let mut compiled = self.compiled.take().ok_or(Error::NotCompiled("training"))?;
        compiled.optimizer.apply(&mut self.trainable_params());
        self.compiled = Some(compiled);
        Ok((value, output))
    }

    fn loss(&self) -> Result<Loss> {
        self.compiled.as_ref().map(|c| c.loss).ok_or(Error::NotCompiled("training"))
    }

    fn compiled_metrics(&self) -> Vec<Metric> {
        self.compiled.as_ref().map(|c| c.metrics.clone()).unwrap_or_default()
    }

    fn check_compiled(&self, call: &'static str) -> Result<()> {
        if self.compiled.is_none() {
            return Err(Error::NotCompiled(call));
        }
        Ok(())
    }

    /// Builds the model from `x` if needed and checks `x`'s shape.
    fn prepare_input(&mut self, x: &ArrayViewD<'_, f32>) -> Result<()> {
        if x.ndim() == 0 || x.shape()[0] == 0 {
            return Err(Error::EmptyInput("x"));
        }
        if self.input_shape.is_none() {
            self.input_shape = Some(x.shape()[1..].to_vec());
        }
        self.ensure_built()?;
        self.check_input(x)
    }

    fn check_pair(
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

    /// Targets checked against the loss and the model's output, in the shape the loss reads.
    fn conform(&self, y: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>> {
        self.loss()?.conform_targets(y, &self.output_shape())
    }
}
