//! `LearningRateScheduler`: set the learning rate at the start of each epoch from a function.

use super::python_float::python_repr;
use super::{Callback, Control, Logs};
use crate::optimizers::LearningRateControl;
use crate::training::Model;
use crate::{Error, Result};
use std::fmt;

/// Sets the learning rate at the start of each epoch to `schedule(epoch, rate)`, as Keras'
/// `keras.callbacks.LearningRateScheduler`.
///
/// The function receives the epoch counted from 0 (as Keras passes it) and the current rate
/// as a Python float would hold it (the optimizer's `f32` rate widened to `f64`), and returns
/// the new rate, stored as `f32`. The rate in force is recorded in the logs as
/// `learning_rate` at the end of each epoch, as Keras records it.
///
/// Pass it to [`Sequential::fit_with_callbacks`](crate::model::Sequential::fit_with_callbacks)
/// (it reaches the model's optimizer through [`Model::optimizer_mut`]), or drive an optimizer
/// directly with [`LearningRateScheduler::on_epoch_begin`]. [`LearningRateScheduler::messages`]
/// keeps what it printed or would have printed.
///
/// # Examples
/// In `fit`, halving the rate from the third epoch on:
/// ```
/// use ndarray::{Array1, Array2};
/// use rnnkit::callbacks::LearningRateScheduler;
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(Dense::new(1).activation(Activation::Sigmoid));
/// model.compile(Sgd::new(0.5), Loss::BinaryCrossentropy, &[])?;
/// let x = Array2::from_shape_fn((16, 2), |(i, j)| (i + j) as f32 / 16.0);
/// let y = Array1::from_shape_fn(16, |i| (i % 2) as f32);
/// let mut scheduler =
///     LearningRateScheduler::new(|epoch, lr| if epoch < 2 { lr } else { lr * 0.5 });
/// let config = FitConfig { epochs: 4, verbose: 0, ..FitConfig::default() };
/// let history = model.fit_with_callbacks(&x, &y, &config, &mut [&mut scheduler])?;
/// assert_eq!(history.metric("learning_rate"), Some(&[0.5, 0.5, 0.25, 0.125][..]));
/// # Ok(())
/// # }
/// ```
///
/// On an optimizer alone:
/// ```
/// use rnnkit::callbacks::LearningRateScheduler;
/// use rnnkit::optimizers::{Adagrad, LearningRateControl};
/// # fn main() -> rnnkit::Result<()> {
/// let mut optimizer = Adagrad::new(0.01);
/// let mut scheduler =
///     LearningRateScheduler::new(|epoch, lr| if epoch < 2 { lr } else { lr * 0.5 });
/// for epoch in 1..=3 {
///     scheduler.on_epoch_begin(epoch, &mut optimizer)?;
/// }
/// assert_eq!(optimizer.current_learning_rate(), 0.005);
/// # Ok(())
/// # }
/// ```
pub struct LearningRateScheduler {
    schedule: Box<dyn FnMut(usize, f64) -> f64 + Send>,
    verbose: u8,
    messages: Vec<String>,
}

impl fmt::Debug for LearningRateScheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LearningRateScheduler")
            .field("verbose", &self.verbose)
            .finish_non_exhaustive()
    }
}

impl LearningRateScheduler {
    /// A scheduler calling `schedule(epoch from 0, current rate)` before each epoch.
    pub fn new(schedule: impl FnMut(usize, f64) -> f64 + Send + 'static) -> Self {
        LearningRateScheduler { schedule: Box::new(schedule), verbose: 0, messages: Vec::new() }
    }

    /// 1 prints Keras' message at each epoch. Default: 0.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }

    /// Keras' messages since the start of the last `fit`, one per epoch (`"Epoch 1:
    /// LearningRateScheduler setting learning rate to 0.01."`), kept whatever `verbose` is.
    pub fn messages(&self) -> &[String] {
        &self.messages
    }

    /// Sets the optimizer's rate for `epoch` (counted from 1) and returns Keras' message
    /// (`"Epoch 1: LearningRateScheduler setting learning rate to 0.01."`), also printed after
    /// an empty line when `verbose` is 1.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the schedule returns a negative or non-finite rate, or
    /// the optimizer's rate comes from a schedule.
    pub fn on_epoch_begin<O: LearningRateControl + ?Sized>(
        &mut self,
        epoch: usize,
        optimizer: &mut O,
    ) -> Result<String> {
        let current = f64::from(optimizer.current_learning_rate());
        let rate = (self.schedule)(epoch.saturating_sub(1), current);
        if !(rate.is_finite() && rate >= 0.0) {
            return Err(Error::invalid(
                "LearningRateScheduler schedule",
                "a function returning a finite rate ≥ 0",
                rate,
            ));
        }
        optimizer.set_learning_rate(rate as f32)?;
        let message = format!(
            "Epoch {epoch}: LearningRateScheduler setting learning rate to {}.",
            python_repr(rate)
        );
        if self.verbose > 0 {
            println!("\n{message}");
        }
        self.messages.push(message.clone());
        Ok(message)
    }

    /// Records the rate in force as `learning_rate` in the epoch's logs.
    pub fn on_epoch_end<O: LearningRateControl + ?Sized>(
        &mut self,
        logs: &mut Logs,
        optimizer: &O,
    ) {
        logs.insert("learning_rate", optimizer.current_learning_rate());
    }
}

impl Callback for LearningRateScheduler {
    fn on_train_begin(&mut self, _keys: &[String], _model: &mut dyn Model) -> Result<()> {
        self.messages.clear();
        Ok(())
    }

    fn on_epoch_begin(&mut self, epoch: usize, model: &mut dyn Model) -> Result<()> {
        let optimizer = model.optimizer_mut().ok_or(Error::NotCompiled("LearningRateScheduler"))?;
        LearningRateScheduler::on_epoch_begin(self, epoch, optimizer).map(|_| ())
    }

    fn on_epoch_end(
        &mut self,
        _epoch: usize,
        logs: &mut Logs,
        model: &mut dyn Model,
    ) -> Result<Control> {
        let optimizer = model.optimizer().ok_or(Error::NotCompiled("LearningRateScheduler"))?;
        LearningRateScheduler::on_epoch_end(self, logs, optimizer);
        Ok(Control::Continue)
    }
}
