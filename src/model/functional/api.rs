//! `Functional`'s `compile`, `fit`, `evaluate`, `predict` and `train_on_batch` on lists of
//! arrays: checks, then the shared loops of [`crate::training`].

use super::Functional;
use crate::callbacks::Callback;
use crate::losses::{class_weight_to_sample_weights, Loss};
use crate::metrics::Metric;
use crate::model::compiled::{Compiled, Trackers};
use crate::model::{FitConfig, History, Scores};
use crate::optimizers::Optimizer;
use crate::shape::{array_shape, fits, keras_shape, NONE};
use crate::training::{self, ArraySource, Batch, DataSource};
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayViewD, Axis};
use rand::Rng;

/// The batch size of `predict` and `evaluate`: Keras' default, 32.
const DEFAULT_BATCH_SIZE: usize = 32;

impl Functional {
    /// Sets the optimizer, the loss and the metrics, as Keras' `compile`. With several
    /// outputs the loss is applied to each output and summed, and each metric is computed for
    /// each output (`<output>_<metric>` in the logs; Keras 3 asks for the list once per output,
    /// `[[m], [m]]`, which this is). Which layers train is decided here, as in Keras.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when a hyper-parameter of the optimizer is out of its domain.
    pub fn compile(
        &mut self,
        optimizer: impl Optimizer + 'static,
        loss: Loss,
        metrics: &[Metric],
    ) -> Result<()> {
        self.compile_with_weighted_metrics(optimizer, loss, metrics, &[])
    }

    /// [`Functional::compile`] with Keras' `weighted_metrics`, as
    /// [`Sequential::compile_with_weighted_metrics`](crate::model::Sequential::compile_with_weighted_metrics).
    ///
    /// # Errors
    /// As [`Functional::compile`].
    pub fn compile_with_weighted_metrics(
        &mut self,
        optimizer: impl Optimizer + 'static,
        loss: Loss,
        metrics: &[Metric],
        weighted_metrics: &[Metric],
    ) -> Result<()> {
        let trainable = self.trainable_flags();
        let compiled =
            Compiled::new(Box::new(optimizer), loss, metrics, weighted_metrics, trainable)?;
        self.set_compiled(compiled);
        Ok(())
    }

    /// Installs what `compile` sets, with fresh running metrics.
    pub(crate) fn set_compiled(&mut self, compiled: Compiled) {
        self.tracker = Trackers::new(&compiled, &self.output_names());
        self.compiled = Some(compiled);
    }

    /// What `compile` set; `None` before it.
    pub(crate) fn compiled_settings(&self) -> Option<&Compiled> {
        self.compiled.as_ref()
    }

    /// The optimizer set by `compile`, or `None` before it (Keras' `model.optimizer`).
    pub fn optimizer(&self) -> Option<&dyn Optimizer> {
        self.compiled.as_ref().map(|c| c.optimizer.as_ref())
    }

    /// The compiled optimizer, to change (its learning rate); `None` before `compile`.
    pub fn optimizer_mut(&mut self) -> Option<&mut dyn Optimizer> {
        match &mut self.compiled {
            Some(compiled) => Some(compiled.optimizer.as_mut()),
            None => None,
        }
    }

    /// Trains the model, as Keras' `fit(x=[...], y=[...])`, and returns the per-epoch
    /// [`History`]: `x` holds one array per input, `y` one per output, all with the samples
    /// along axis 0.
    ///
    /// Of `config`, `sample_weight` and `class_weight` are for a model of one output, and
    /// `validation_data` for a model of one input and one output
    /// ([`Functional::fit_with_validation`] takes lists); `validation_split` keeps the last
    /// part of every array for validation, as Keras.
    ///
    /// # Errors
    /// [`Error::NotCompiled`] before `compile`; [`Error::InvalidArgument`] for a number of
    /// arrays that is not the number of inputs (or outputs) and for a bad `config`;
    /// [`Error::ShapeMismatch`] for an array that does not fit its input or output;
    /// [`Error::LengthMismatch`] for arrays of different numbers of samples;
    /// [`Error::NonFiniteLoss`] when the loss becomes NaN or infinite; the layers' errors.
    ///
    /// # Examples
    /// ```
    /// use ndarray::Array2;
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let a = Input::new(&[2]);
    /// let b = Input::new(&[3]);
    /// let ha = Dense::new(4).call(&a)?;
    /// let hb = Dense::new(4).call(&b)?;
    /// let out_a = Dense::new(1).call(&ha)?;
    /// let out_b = Dense::new(1).call(&hb)?;
    /// let mut model = Functional::new(&[&a, &b], &[&out_a, &out_b])?;
    /// model.compile(Sgd::new(0.05), Loss::MeanSquaredError, &[Metric::MeanAbsoluteError])?;
    /// let xa = Array2::from_shape_fn((16, 2), |(i, j)| (i + j) as f32 / 16.0).into_dyn();
    /// let xb = Array2::from_shape_fn((16, 3), |(i, j)| (i * j) as f32 / 48.0).into_dyn();
    /// let ya = Array2::from_shape_fn((16, 1), |(i, _)| i as f32 / 16.0).into_dyn();
    /// let yb = Array2::from_shape_fn((16, 1), |(i, _)| 1.0 - i as f32 / 16.0).into_dyn();
    /// let config = FitConfig { epochs: 3, verbose: 0, ..FitConfig::default() };
    /// let history = model.fit(&[xa.view(), xb.view()], &[ya.view(), yb.view()], &config)?;
    /// assert_eq!(history.epochs(), 3);
    /// let names = model.output_names();
    /// assert!(history.metric(&format!("{}_loss", names[0])).is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub fn fit(
        &mut self,
        x: &[ArrayViewD<'_, f32>],
        y: &[ArrayViewD<'_, f32>],
        config: &FitConfig,
    ) -> Result<History> {
        self.fit_with_callbacks(x, y, config, &mut [])
    }

    /// [`Functional::fit`] with `callbacks`, run as
    /// [`Sequential::fit_with_callbacks`](crate::model::Sequential::fit_with_callbacks) runs them.
    ///
    /// # Errors
    /// Those of [`Functional::fit`] and any error a callback returns.
    pub fn fit_with_callbacks(
        &mut self,
        x: &[ArrayViewD<'_, f32>],
        y: &[ArrayViewD<'_, f32>],
        config: &FitConfig,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History> {
        let validation = match &config.validation_data {
            Some((x_val, y_val)) => {
                if self.graph.inputs.len() != 1 || self.graph.outputs.len() != 1 {
                    return Err(Error::invalid(
                        "validation_data",
                        "a model of one input and one output (use `fit_with_validation`)",
                        format!(
                            "{} inputs and {} outputs",
                            self.graph.inputs.len(),
                            self.graph.outputs.len()
                        ),
                    ));
                }
                Some((vec![x_val.view()], vec![y_val.view()]))
            }
            None => None,
        };
        self.fit_lists(x, y, validation, config, callbacks)
    }

    /// [`Functional::fit_with_callbacks`] evaluated after each epoch on `x_val`, `y_val` (lists
    /// as `x` and `y`), Keras' `validation_data=([...], [...])`.
    ///
    /// # Errors
    /// Those of [`Functional::fit`], for the validation arrays as well.
    pub fn fit_with_validation(
        &mut self,
        x: &[ArrayViewD<'_, f32>],
        y: &[ArrayViewD<'_, f32>],
        (x_val, y_val): (&[ArrayViewD<'_, f32>], &[ArrayViewD<'_, f32>]),
        config: &FitConfig,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History> {
        self.fit_lists(x, y, Some((x_val.to_vec(), y_val.to_vec())), config, callbacks)
    }

    fn fit_lists<'a>(
        &mut self,
        x: &[ArrayViewD<'a, f32>],
        y: &[ArrayViewD<'a, f32>],
        validation: Option<Lists<'a>>,
        config: &FitConfig,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History> {
        if self.compiled.is_none() {
            return Err(Error::NotCompiled("fit"));
        }
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
        let samples = self.check_pair(x, y)?;
        let weights = self.fit_sample_weight(y, samples, config)?;
        let (train, validation, w_train, w_val) = match validation {
            Some(lists) => {
                self.check_pair(&lists.0, &lists.1)?;
                ((x.to_vec(), y.to_vec()), Some(lists), weights.as_ref().map(|w| w.view()), None)
            }
            None if config.validation_split > 0.0 => {
                let at =
                    (samples as f64 * (1.0 - f64::from(config.validation_split))).floor() as usize;
                if at == 0 || at == samples {
                    return Err(Error::invalid(
                        "validation_split",
                        format!(
                            "a fraction that leaves samples on both sides of {samples} samples"
                        ),
                        config.validation_split,
                    ));
                }
                let (w_train, w_val) = match &weights {
                    Some(w) => {
                        let (head, tail) = w.view().split_at(Axis(0), at);
                        // Class weights weigh the training samples only, as in Keras.
                        (Some(head), config.class_weight.is_none().then_some(tail))
                    }
                    None => (None, None),
                };
                (
                    (cut(x, at, true), cut(y, at, true)),
                    Some((cut(x, at, false), cut(y, at, false))),
                    w_train,
                    w_val,
                )
            }
            None => ((x.to_vec(), y.to_vec()), None, weights.as_ref().map(|w| w.view()), None),
        };
        // Drawn even without shuffling, so that `shuffle` does not change the model's generator.
        let seed = config.seed.unwrap_or_else(|| self.rng.gen());
        let mut source =
            ArraySource::new(train.0, train.1, config.batch_size)?.sample_weight(vec![w_train])?;
        if config.shuffle {
            source = source.shuffled(seed);
        }
        let mut validation = match validation {
            Some((x_val, y_val)) => Some(
                ArraySource::new(x_val, y_val, config.batch_size)?.sample_weight(vec![w_val])?,
            ),
            None => None,
        };
        let validation = validation.as_mut().map(|s| s as &mut dyn DataSource);
        training::fit(self, &mut source, validation, config, callbacks)
    }

    /// The training samples' weights `fit` uses, for a model of one output.
    fn fit_sample_weight(
        &self,
        y: &[ArrayViewD<'_, f32>],
        samples: usize,
        config: &FitConfig,
    ) -> Result<Option<ArrayD<f32>>> {
        if (config.sample_weight.is_some() || config.class_weight.is_some()) && y.len() != 1 {
            return Err(Error::invalid(
                "sample_weight",
                "weights for a model of one output",
                format!("a model of {} outputs", y.len()),
            ));
        }
        match (&config.sample_weight, &config.class_weight) {
            (Some(_), Some(_)) => Err(Error::invalid(
                "class_weight",
                "either sample_weight or class_weight, not both (as Keras)",
                "both",
            )),
            (Some(weights), None) => {
                if weights.shape().first() != Some(&samples) {
                    return Err(Error::ShapeMismatch {
                        layer: "sample_weight".into(),
                        expected: format!("({samples},) or ({samples}, steps)"),
                        found: array_shape(weights.shape()),
                    });
                }
                Ok(Some(weights.clone()))
            }
            (None, Some(class_weight)) => {
                Ok(Some(class_weight_to_sample_weights(y[0].view(), class_weight)?.into_dyn()))
            }
            (None, None) => Ok(None),
        }
    }

    /// Loss and metrics on `x`, `y` (one array per input and per output), 32 samples at a
    /// time, as Keras' `evaluate`.
    ///
    /// # Errors
    /// [`Error::NotCompiled`] before `compile` and the array errors of [`Functional::fit`].
    pub fn evaluate(
        &mut self,
        x: &[ArrayViewD<'_, f32>],
        y: &[ArrayViewD<'_, f32>],
    ) -> Result<Scores> {
        self.evaluate_batched(x, y, DEFAULT_BATCH_SIZE)
    }

    /// As [`Functional::evaluate`], `batch_size` samples at a time.
    ///
    /// # Errors
    /// Those of [`Functional::evaluate`], and [`Error::InvalidArgument`] for a zero
    /// `batch_size`.
    pub fn evaluate_batched(
        &mut self,
        x: &[ArrayViewD<'_, f32>],
        y: &[ArrayViewD<'_, f32>],
        batch_size: usize,
    ) -> Result<Scores> {
        if self.compiled.is_none() {
            return Err(Error::NotCompiled("evaluate"));
        }
        self.check_pair(x, y)?;
        let mut source = ArraySource::new(x.to_vec(), y.to_vec(), batch_size)?;
        training::evaluate(self, &mut source)
    }

    /// The model's outputs for `x` (one array per input), one array per output, 32 samples at
    /// a time, as Keras' `predict`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a number of arrays that is not the number of inputs,
    /// [`Error::ShapeMismatch`], [`Error::LengthMismatch`] and [`Error::EmptyInput`] for arrays
    /// that do not fit, and the layers' errors.
    pub fn predict(&mut self, x: &[ArrayViewD<'_, f32>]) -> Result<Vec<ArrayD<f32>>> {
        self.predict_batched(x, DEFAULT_BATCH_SIZE)
    }

    /// As [`Functional::predict`], `batch_size` samples at a time.
    ///
    /// # Errors
    /// Those of [`Functional::predict`], and [`Error::InvalidArgument`] for a zero
    /// `batch_size`.
    pub fn predict_batched(
        &mut self,
        x: &[ArrayViewD<'_, f32>],
        batch_size: usize,
    ) -> Result<Vec<ArrayD<f32>>> {
        self.check_inputs(x)?;
        let mut source = ArraySource::new(x.to_vec(), Vec::new(), batch_size)?;
        training::predict(self, &mut source)
    }

    /// One gradient update on one batch, as Keras' `train_on_batch`; returns the batch's loss
    /// and metrics computed before the update.
    ///
    /// # Errors
    /// As [`Functional::fit`].
    pub fn train_on_batch(
        &mut self,
        x: &[ArrayViewD<'_, f32>],
        y: &[ArrayViewD<'_, f32>],
    ) -> Result<Scores> {
        if self.compiled.is_none() {
            return Err(Error::NotCompiled("train_on_batch"));
        }
        self.check_pair(x, y)?;
        let batch = Batch::new(
            x.iter().map(|a| a.to_owned()).collect(),
            y.iter().map(|a| a.to_owned()).collect(),
        );
        training::train_on_batch(self, &batch)
    }

    /// Checks one array per input, each of its input's per-sample shape, all with the same
    /// number of samples (at least one); returns that number.
    pub(crate) fn check_inputs(&self, x: &[ArrayViewD<'_, f32>]) -> Result<usize> {
        let inputs = &self.graph.inputs;
        if x.len() != inputs.len() {
            let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
            return Err(Error::invalid(
                "x",
                format!(
                    "{} input array(s), one per model input ({})",
                    inputs.len(),
                    names.join(", ")
                ),
                x.len(),
            ));
        }
        let samples = x[0].shape().first().copied().unwrap_or(0);
        for (array, input) in x.iter().zip(inputs) {
            if array.ndim() == 0 || !fits(&input.shape, &array.shape()[1..]) {
                return Err(Error::ShapeMismatch {
                    layer: format!("{} (input '{}')", self.name, input.name),
                    expected: keras_shape(&input.shape),
                    found: array_shape(array.shape()),
                });
            }
            if array.shape()[0] != samples {
                return Err(Error::LengthMismatch { x: samples, y: array.shape()[0] });
            }
        }
        if samples == 0 {
            return Err(Error::EmptyInput("x"));
        }
        Ok(samples)
    }

    /// Checks `x` as [`Functional::check_inputs`] and one target array per output with as many
    /// samples, each fitting its output for the compiled loss; returns the number of samples.
    fn check_pair(&self, x: &[ArrayViewD<'_, f32>], y: &[ArrayViewD<'_, f32>]) -> Result<usize> {
        let samples = self.check_inputs(x)?;
        let outputs = self.output_shapes();
        if y.len() != outputs.len() {
            return Err(Error::invalid(
                "y",
                format!("{} target array(s), one per model output", outputs.len()),
                y.len(),
            ));
        }
        let loss = self.compiled.as_ref().map(|c| c.loss).ok_or(Error::NotCompiled("training"))?;
        for (target, shape) in y.iter().zip(&outputs) {
            let found = target.shape().first().copied().unwrap_or(0);
            if found != samples {
                return Err(Error::LengthMismatch { x: samples, y: found });
            }
            // An axis of any length takes the target's size on that axis.
            let resolved: Vec<usize> = shape
                .iter()
                .enumerate()
                .map(|(i, &d)| match d {
                    NONE => target.shape().get(i + 1).copied().unwrap_or(1),
                    d => d,
                })
                .collect();
            loss.conform_targets(target.view(), &resolved)?;
        }
        Ok(samples)
    }
}

/// The first `at` samples of every array, or the others.
fn cut<'a>(arrays: &[ArrayViewD<'a, f32>], at: usize, first: bool) -> Vec<ArrayViewD<'a, f32>> {
    arrays
        .iter()
        .map(|a| {
            let (head, tail) = a.clone().split_at(Axis(0), at);
            if first {
                head
            } else {
                tail
            }
        })
        .collect()
}

/// Inputs and targets, one array per model input and per output.
type Lists<'a> = (Vec<ArrayViewD<'a, f32>>, Vec<ArrayViewD<'a, f32>>);
