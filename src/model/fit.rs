//! Training: `compile`, `fit` (with callbacks) and `train_on_batch`, the shared loops of
//! [`crate::training`] on arrays.

use super::compiled::Compiled;
use super::config::FitConfig;
use super::history::{History, Scores};
use super::sequential::Sequential;
use crate::callbacks::Callback;
use crate::layers::LayerExt;
use crate::losses::Loss;
use crate::metrics::Metric;
use crate::optimizers::Optimizer;
use crate::training::{self, ArraySource, Batch, DataSource};
use crate::Result;
use ndarray::{ArrayBase, Data, Dimension};
use rand::Rng;

impl Sequential {
    /// Sets the optimizer, the loss and the metrics that `fit` and `evaluate` use, as Keras'
    /// `compile`. Compiling again resets the optimizer's state.
    ///
    /// Which layers train is decided here, as in Keras: a layer frozen or unfrozen
    /// (`set_trainable`) after `compile` keeps its previous behaviour until `compile` is called
    /// again.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when a hyper-parameter of the
    /// optimizer is out of its domain.
    pub fn compile(
        &mut self,
        optimizer: impl Optimizer + 'static,
        loss: Loss,
        metrics: &[Metric],
    ) -> Result<()> {
        self.compile_with_weighted_metrics(optimizer, loss, metrics, &[])
    }

    /// [`Sequential::compile`] with Keras' `weighted_metrics` as well: metrics that weigh each
    /// sample (or step) by the `sample_weight` or `class_weight` given to `fit`, `evaluate` or
    /// `train_on_batch`, while those of `metrics` ignore the weights, as in Keras 3. A weighted
    /// metric whose name is taken by one of `metrics` is logged as `weighted_<name>`
    /// (`weighted_accuracy`).
    ///
    /// # Errors
    /// As [`Sequential::compile`].
    ///
    /// # Examples
    /// ```
    /// use ndarray::{array, Array2};
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let mut model = Sequential::new();
    /// model.add(Dense::new(1).activation(Activation::Sigmoid));
    /// model.compile_with_weighted_metrics(
    ///     Sgd::new(0.1),
    ///     Loss::BinaryCrossentropy,
    ///     &[Metric::Accuracy],
    ///     &[Metric::Accuracy],
    /// )?;
    /// let x = Array2::from_shape_fn((4, 2), |(i, j)| (i + j) as f32);
    /// let y = array![0.0f32, 1.0, 1.0, 0.0];
    /// let weights = array![1.0f32, 1.0, 0.0, 0.0]; // only the first two samples count
    /// let scores = model.evaluate_weighted(&x, &y, &weights, 32)?;
    /// assert!(scores.metric("weighted_accuracy").is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub fn compile_with_weighted_metrics(
        &mut self,
        optimizer: impl Optimizer + 'static,
        loss: Loss,
        metrics: &[Metric],
        weighted_metrics: &[Metric],
    ) -> Result<()> {
        let trainable = self.layers.iter().map(|l| l.is_trainable()).collect();
        let compiled =
            Compiled::new(Box::new(optimizer), loss, metrics, weighted_metrics, trainable)?;
        self.set_compiled(compiled);
        Ok(())
    }

    /// The optimizer set by [`Sequential::compile`], or `None` before it (Keras'
    /// `model.optimizer`): its learning rate, iterations and settings.
    pub fn optimizer(&self) -> Option<&dyn Optimizer> {
        self.compiled.as_ref().map(|c| c.optimizer.as_ref())
    }

    /// The compiled optimizer, to change: its learning rate between `fit` calls, as Keras'
    /// `model.optimizer.learning_rate = ...` (through
    /// [`LearningRateControl`](crate::optimizers::LearningRateControl)). `None` before
    /// `compile`.
    ///
    /// # Examples
    /// ```
    /// use ndarray::{Array1, Array2};
    /// use rnnkit::optimizers::LearningRateControl;
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let mut model = Sequential::new();
    /// model.add(Dense::new(1).activation(Activation::Sigmoid));
    /// model.compile(Sgd::new(0.1), Loss::BinaryCrossentropy, &[])?;
    /// let x = Array2::from_shape_fn((8, 2), |(i, j)| (i + j) as f32 / 8.0);
    /// let y = Array1::from_shape_fn(8, |i| (i % 2) as f32);
    /// model.fit(&x, &y, &FitConfig { verbose: 0, ..FitConfig::default() })?;
    /// if let Some(optimizer) = model.optimizer_mut() {
    ///     optimizer.set_learning_rate(0.01)?;
    /// }
    /// assert_eq!(model.optimizer().map(|o| o.learning_rate()), Some(0.01));
    /// assert_eq!(model.optimizer().map(|o| o.iterations()), Some(1));
    /// # Ok(())
    /// # }
    /// ```
    pub fn optimizer_mut(&mut self) -> Option<&mut dyn Optimizer> {
        match &mut self.compiled {
            Some(compiled) => Some(compiled.optimizer.as_mut()),
            None => None,
        }
    }

    /// Trains the model, as Keras' `fit`, and returns the per-epoch [`History`].
    ///
    /// `x` holds one sample per row (`(samples, 500)` token ids for the lesson's model); `y`
    /// holds the targets (`(samples,)` or `(samples, 1)` labels for a sigmoid output). The same
    /// as [`Sequential::fit_with_callbacks`] without callbacks.
    ///
    /// # Shapes
    /// `x`: `(samples, ..input_shape)`, e.g. `(samples, 500)` ids. `y`: `(samples,
    /// ..output_shape)`, where a trailing axis of 1 may be left out (`(samples,)` for a
    /// `(None, 1)` output), or class ids `(samples, ..)` without the class axis for
    /// [`Loss::SparseCategoricalCrossentropy`]. Validation data likewise.
    ///
    /// # Errors
    /// [`Error::NotCompiled`](crate::Error::NotCompiled) before `compile`;
    /// [`Error::EmptyInput`](crate::Error::EmptyInput),
    /// [`Error::LengthMismatch`](crate::Error::LengthMismatch) and
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for bad `x`, `y`, validation data or
    /// sample weights; [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a bad
    /// `epochs`, `batch_size` or `validation_split`, or `class_weight` with `sample_weight`;
    /// [`Error::NonFiniteLoss`](crate::Error::NonFiniteLoss) when the loss becomes NaN or
    /// infinite (training stops there; the batch updates no weight); and the layers' errors
    /// (ids out of range).
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
        self.fit_with_callbacks(x, y, config, &mut [])
    }

    /// Trains the model as [`Sequential::fit`] does, running `callbacks` after each batch and
    /// each epoch, as Keras' `fit(..., callbacks=[...])`. The callbacks are borrowed, so their
    /// state can be read afterwards; the returned [`History`] records why training stopped
    /// ([`History::stop_reason`]).
    ///
    /// Order, as Keras: every callback's `on_train_begin`; per epoch, `on_epoch_begin`,
    /// `on_batch_end` after each batch, then validation, then `on_epoch_end` (whose additions
    /// to the logs, such as `learning_rate`, the history records); finally `on_train_end`. A
    /// callback that returns [`Control::Stop`](crate::callbacks::Control::Stop) after a batch
    /// ends the epoch there (its values are still recorded and validated), and after an epoch
    /// ends training; the first reason given is the one recorded. The loop itself is
    /// [`training::fit`](crate::training::fit), which any [`Model`](crate::training::Model)
    /// shares.
    ///
    /// # Errors
    /// Those of [`Sequential::fit`] — except that with a callback that stops on a non-finite
    /// loss ([`TerminateOnNaN`](crate::callbacks::TerminateOnNaN)) `fit` returns `Ok` — and
    /// any error a callback returns (a monitored value that is not recorded, a checkpoint that
    /// cannot be written).
    ///
    /// # Examples
    /// ```
    /// use ndarray::{Array1, Array2};
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let mut model = Sequential::new();
    /// model.add(Dense::new(1).activation(Activation::Sigmoid));
    /// model.compile(Sgd::new(0.5), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    /// let x = Array2::from_shape_fn((40, 2), |(i, j)| (i + j) as f32 / 40.0 - 0.5);
    /// let y = Array1::from_shape_fn(40, |i| (i % 2) as f32);
    /// let mut early_stopping = EarlyStopping::new().monitor("loss").patience(2);
    /// let config = FitConfig { epochs: 200, verbose: 0, ..FitConfig::default() };
    /// let history = model.fit_with_callbacks(&x, &y, &config, &mut [&mut early_stopping])?;
    /// assert_eq!(history.stop_reason() == &StopReason::Completed, history.epochs() == 200);
    /// # Ok(())
    /// # }
    /// ```
    pub fn fit_with_callbacks<S1, D1, S2, D2>(
        &mut self,
        x: &ArrayBase<S1, D1>,
        y: &ArrayBase<S2, D2>,
        config: &FitConfig,
        callbacks: &mut [&mut dyn Callback],
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
        let sample_weight = self.fit_sample_weight(x.shape(), &y, config)?;
        let data = training::split(x.view(), y.view(), sample_weight.as_ref(), config)?;
        // Class weights weigh the training samples only, as in Keras.
        let data = if config.class_weight.is_some() {
            training::Split {
                validation: data.validation.map(|(x_val, y_val, _)| (x_val, y_val, None)),
                ..data
            }
        } else {
            data
        };
        if let Some((x_val, y_val)) = &config.validation_data {
            self.check_pair(&x_val.view(), &y_val.view(), "validation x")?;
        }
        let y_train = self.conform(data.x_train.shape(), data.y_train)?;
        let validation = match data.validation {
            Some((x_val, y_val, w_val)) => {
                let y_val = self.conform(x_val.shape(), y_val)?;
                Some((x_val, y_val, w_val))
            }
            None => None,
        };
        // Drawn even without shuffling, so that `shuffle` does not change the model's generator.
        let seed = config.seed.unwrap_or_else(|| self.rng.gen());
        let mut train =
            ArraySource::new(vec![data.x_train], vec![y_train.view()], config.batch_size)?
                .sample_weight(vec![data.w_train])?;
        if config.shuffle {
            train = train.shuffled(seed);
        }
        let mut validation = match &validation {
            Some((x_val, y_val, w_val)) => Some(
                ArraySource::new(vec![x_val.view()], vec![y_val.view()], config.batch_size)?
                    .sample_weight(vec![w_val.clone()])?,
            ),
            None => None,
        };
        let validation = validation.as_mut().map(|source| source as &mut dyn DataSource);
        training::fit(self, &mut train, validation, config, callbacks)
    }

    /// Runs one gradient update on one batch, as Keras' `train_on_batch`; returns the batch's
    /// loss and metrics computed before the update.
    ///
    /// # Shapes
    /// As [`Sequential::fit`], for one batch: `x` `(batch, ..input_shape)`, `y` `(batch, ..)`.
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
        let y = self.checked_targets("train_on_batch", &x, y)?;
        training::train_on_batch(self, &Batch::new(vec![x.to_owned()], vec![y]))
    }

    /// [`Sequential::train_on_batch`] with a weight per sample, `(batch,)`, or per step of a
    /// sequence output, `(batch, steps)` (Keras' `train_on_batch(x, y, sample_weight=...)`):
    /// the loss is Σ w·loss over the samples (or steps) divided by their count, and the
    /// weighted metrics weigh each by w.
    ///
    /// # Errors
    /// As [`Sequential::train_on_batch`], and
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for weights that do not fit the batch
    /// or the output.
    pub fn train_on_batch_weighted<S1, D1, S2, D2, S3, D3>(
        &mut self,
        x: &ArrayBase<S1, D1>,
        y: &ArrayBase<S2, D2>,
        sample_weight: &ArrayBase<S3, D3>,
    ) -> Result<Scores>
    where
        S1: Data<Elem = f32>,
        D1: Dimension,
        S2: Data<Elem = f32>,
        D2: Dimension,
        S3: Data<Elem = f32>,
        D3: Dimension,
    {
        let (x, y) = (x.view().into_dyn(), y.view().into_dyn());
        let y = self.checked_targets("train_on_batch", &x, y)?;
        let weights = self.conform_sample_weight(sample_weight.view().into_dyn(), x.shape())?;
        let mut batch = Batch::new(vec![x.to_owned()], vec![y]);
        batch.sample_weight = vec![Some(weights)];
        training::train_on_batch(self, &batch)
    }
}
