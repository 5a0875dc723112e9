//! `LearningRateScheduler`: set the learning rate at the start of each epoch from a function.

use super::python_float::python_repr;
use super::Logs;
use crate::optimizers::LearningRateControl;
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
/// # Examples
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
        LearningRateScheduler { schedule: Box::new(schedule), verbose: 0 }
    }

    /// 1 prints Keras' message at each epoch. Default: 0.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }

    /// Sets the optimizer's rate for `epoch` (counted from 1) and returns Keras' message
    /// (`"Epoch 1: LearningRateScheduler setting learning rate to 0.01."`), also printed after
    /// an empty line when `verbose` is 1.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the schedule returns a negative or non-finite rate, or
    /// the optimizer's rate comes from a schedule.
    pub fn on_epoch_begin(
        &mut self,
        epoch: usize,
        optimizer: &mut dyn LearningRateControl,
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
        Ok(message)
    }

    /// Records the rate in force as `learning_rate` in the epoch's logs.
    pub fn on_epoch_end(&mut self, logs: &mut Logs, optimizer: &dyn LearningRateControl) {
        logs.insert("learning_rate", optimizer.current_learning_rate());
    }
}
