//! Callbacks: code that `fit` runs after each batch and each epoch, as Keras' `callbacks=[...]`.
//!
//! Pass them to [`Sequential::fit_with_callbacks`](crate::model::Sequential::fit_with_callbacks); they are borrowed, so their state
//! (`EarlyStopping`'s best epoch, `ModelCheckpoint`'s last file) can be read afterwards. The
//! [`History`](crate::model::History) that `fit` returns records why training stopped
//! ([`StopReason`]).
//!
//! * [`EarlyStopping`]: stop when a monitored value (`val_loss`) stops improving, optionally
//!   restoring the best epoch's weights.
//! * [`ModelCheckpoint`]: save the weights after each epoch, or only the best ones.
//! * [`TerminateOnNaN`]: stop cleanly when the loss becomes NaN or infinite.
//! * [`ReduceLROnPlateau`] and [`LearningRateScheduler`]: change the optimizer's learning rate
//!   between epochs (through the model's [`Model::optimizer_mut`]) and record it in the
//!   history as `learning_rate`, as Keras does.
//!
//! # Examples
//! ```
//! use ndarray::{Array1, Array2};
//! use rnnkit::prelude::*;
//! # fn main() -> rnnkit::Result<()> {
//! let mut model = Sequential::new();
//! model.add(Dense::new(1).activation(Activation::Sigmoid));
//! model.compile(Sgd::new(0.1), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
//! let x = Array2::from_shape_fn((64, 3), |(i, j)| ((i * 7 + j * 3) % 5) as f32 - 2.0);
//! let y = Array1::from_shape_fn(64, |i| (i % 2) as f32);
//!
//! let mut early_stopping = EarlyStopping::new().monitor("val_loss").patience(2);
//! let mut terminate_on_nan = TerminateOnNaN::new();
//! let config =
//!     FitConfig { epochs: 50, validation_split: 0.25, verbose: 0, ..FitConfig::default() };
//! let history = model.fit_with_callbacks(
//!     &x,
//!     &y,
//!     &config,
//!     &mut [&mut early_stopping, &mut terminate_on_nan],
//! )?;
//! println!("{} epochs: {}", history.epochs(), history.stop_reason());
//! # Ok(())
//! # }
//! ```

mod early_stopping;
mod learning_rate_scheduler;
mod model_checkpoint;
mod monitor;
mod python_float;
mod reduce_lr_on_plateau;
mod terminate_on_nan;

pub use early_stopping::EarlyStopping;
pub use learning_rate_scheduler::LearningRateScheduler;
pub use model_checkpoint::ModelCheckpoint;
pub use monitor::Mode;
pub use reduce_lr_on_plateau::ReduceLROnPlateau;
pub use terminate_on_nan::TerminateOnNaN;

pub use crate::model::StopReason;
use crate::training::Model;
use crate::Result;
use std::fmt;

/// Whether training goes on after a callback ran.
#[derive(Clone, Debug, PartialEq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop training (Keras' `model.stop_training = True`), for this reason. After a batch,
    /// the epoch is finished as Keras finishes it: its values are recorded, validation runs and
    /// the epoch-end callbacks are called; then `fit` returns.
    Stop(StopReason),
}

/// Named values that `fit` passes to callbacks, as Keras' `logs` dict: `loss`, each metric
/// (`accuracy`) and, with validation data, `val_loss`, `val_accuracy`. After a batch they are
/// the running means over the epoch so far; after an epoch, the epoch's values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Logs {
    values: Vec<(String, f32)>,
}

impl Logs {
    /// The value of `name`, if recorded.
    pub fn get(&self, name: &str) -> Option<f32> {
        self.values.iter().find(|(key, _)| key == name).map(|&(_, value)| value)
    }

    /// Sets `name` to `value`, keeping the order in which names were first set.
    pub fn insert(&mut self, name: impl Into<String>, value: f32) {
        let name = name.into();
        match self.values.iter_mut().find(|(key, _)| *key == name) {
            Some((_, slot)) => *slot = value,
            None => self.values.push((name, value)),
        }
    }

    /// The names and values, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f32)> {
        self.values.iter().map(|(key, value)| (key.as_str(), *value))
    }

    /// The names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|(key, _)| key.as_str())
    }
}

impl fmt::Display for Logs {
    /// `loss: 0.4123 - accuracy: 0.8125 - val_loss: 0.5012`, as Keras' progress bar prints
    /// them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (name, value)) in self.iter().enumerate() {
            let separator = if index == 0 { "" } else { " - " };
            write!(f, "{separator}{name}: {value:.4}")?;
        }
        Ok(())
    }
}

impl<S: Into<String>> FromIterator<(S, f32)> for Logs {
    fn from_iter<I: IntoIterator<Item = (S, f32)>>(iter: I) -> Self {
        let mut logs = Logs::default();
        for (name, value) in iter {
            logs.insert(name, value);
        }
        logs
    }
}

/// Code run by [`Sequential::fit_with_callbacks`](crate::model::Sequential::fit_with_callbacks) (or [`training::fit`](crate::training::fit)
/// for any model) at fixed points of training, as Keras' `keras.callbacks.Callback`. Every
/// method has a default that does nothing, so implement only what you need. Epochs and batches
/// are counted from 1. The model comes as `&mut dyn Model`
/// ([`Model`](crate::training::Model)): its weights, its optimizer (to change the learning
/// rate) and its saving, whatever kind of model it is.
///
/// # Errors
/// An `Err` from any method stops `fit`, which returns it.
///
/// # Examples
/// ```
/// use rnnkit::callbacks::{Callback, Control, Logs};
/// use rnnkit::model::StopReason;
/// use rnnkit::training::Model;
///
/// /// Stops as soon as the training accuracy reaches a target.
/// struct StopAtAccuracy(f32);
///
/// impl Callback for StopAtAccuracy {
///     fn on_epoch_end(
///         &mut self,
///         epoch: usize,
///         logs: &mut Logs,
///         _model: &mut dyn Model,
///     ) -> rnnkit::Result<Control> {
///         Ok(match logs.get("accuracy") {
///             Some(accuracy) if accuracy >= self.0 => Control::Stop(StopReason::Requested {
///                 epoch,
///                 reason: format!("accuracy reached {accuracy}"),
///             }),
///             _ => Control::Continue,
///         })
///     }
/// }
/// # let _stop = StopAtAccuracy(0.9);
/// ```
pub trait Callback {
    /// Before the first epoch. `keys` are the names the epoch logs will hold (`loss`,
    /// `accuracy`, `val_loss`, ...), so a callback can check what it monitors up front.
    ///
    /// # Errors
    /// A callback returns [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a
    /// setting that cannot work (a monitored name that is not in `keys`).
    fn on_train_begin(&mut self, keys: &[String], model: &mut dyn Model) -> Result<()> {
        let _ = (keys, model);
        Ok(())
    }

    /// Before each epoch (Keras' `on_epoch_begin`): where a learning-rate schedule sets the
    /// epoch's rate through [`Model::optimizer_mut`].
    ///
    /// # Errors
    /// Any error of the callback's own work.
    fn on_epoch_begin(&mut self, epoch: usize, model: &mut dyn Model) -> Result<()> {
        let _ = (epoch, model);
        Ok(())
    }

    /// After each training batch, with the running `loss` and metrics of the epoch.
    ///
    /// # Errors
    /// Any error of the callback's own work.
    fn on_batch_end(&mut self, epoch: usize, batch: usize, logs: &Logs) -> Result<Control> {
        let _ = (epoch, batch, logs);
        Ok(Control::Continue)
    }

    /// After each epoch (and its validation), with the epoch's values. As in Keras, a callback
    /// may add values to `logs` (`ReduceLROnPlateau` adds `learning_rate`): the callbacks after
    /// it see them, and the [`History`](crate::model::History) records the logs as the last
    /// callback left them.
    ///
    /// # Errors
    /// Any error of the callback's own work (a checkpoint that cannot be written).
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        model: &mut dyn Model,
    ) -> Result<Control> {
        let _ = (epoch, logs, model);
        Ok(Control::Continue)
    }

    /// After the last epoch, with the reason training stopped.
    ///
    /// # Errors
    /// Any error of the callback's own work.
    fn on_train_end(&mut self, reason: &StopReason, model: &mut dyn Model) -> Result<()> {
        let _ = (reason, model);
        Ok(())
    }
}
