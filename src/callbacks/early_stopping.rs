//! `EarlyStopping`: stop training when a monitored value stops improving.

use super::monitor::{Mode, Monitor};
use super::{Callback, Control, Logs};
use crate::model::StopReason;
use crate::training::Model;
use crate::Result;
use ndarray::ArrayD;

/// Stops training when a monitored value has stopped improving, as Keras'
/// `keras.callbacks.EarlyStopping` (3.x, `keras/src/callbacks/early_stopping.py`), with its
/// defaults: monitor `val_loss`, `min_delta` 0, `patience` 0, mode auto, no baseline, no
/// restore, `start_from_epoch` 0.
///
/// After each epoch past `start_from_epoch`: if the value improves on the best so far by more
/// than `min_delta`, it becomes the best (and, with `restore_best_weights`, the weights are
/// copied) and the count of epochs without improvement restarts — unless a `baseline` is set
/// and the value does not beat it. Otherwise, once `patience` epochs have passed without
/// improvement, training stops (never after the first epoch) with
/// [`StopReason::EarlyStopping`].
///
/// With `restore_best_weights`, the best epoch's weights are put back when training ends — as
/// Keras 3 does, also when it ends for another reason (the last epoch, a NaN loss).
///
/// # Errors
/// `fit` returns [`Error::InvalidArgument`](crate::Error::InvalidArgument) before training when
/// the monitored name is not among the values it records (Keras warns and never stops) or
/// `min_delta` is not finite.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// let early_stopping =
///     EarlyStopping::new().monitor("val_loss").patience(1).restore_best_weights(true);
/// assert_eq!(early_stopping.stopped_epoch(), None);
/// ```
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    monitor: Monitor,
    patience: usize,
    verbose: u8,
    baseline: Option<f32>,
    restore_best_weights: bool,
    start_from_epoch: usize,
    wait: usize,
    stopped_epoch: Option<usize>,
    best: Option<f32>,
    best_epoch: Option<usize>,
    best_weights: Option<Vec<ArrayD<f32>>>,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        EarlyStopping::new()
    }
}

impl EarlyStopping {
    /// Early stopping with Keras' defaults (monitor `val_loss`, patience 0).
    pub fn new() -> Self {
        EarlyStopping {
            monitor: Monitor::new("val_loss"),
            patience: 0,
            verbose: 0,
            baseline: None,
            restore_best_weights: false,
            start_from_epoch: 0,
            wait: 0,
            stopped_epoch: None,
            best: None,
            best_epoch: None,
            best_weights: None,
        }
    }

    /// The value to watch: `loss`, a metric (`accuracy`) or a validation value (`val_loss`,
    /// `val_accuracy`). Default: `"val_loss"`.
    pub fn monitor(mut self, monitor: &str) -> Self {
        self.monitor.name = monitor.to_string();
        self
    }

    /// The smallest change that counts as an improvement (its absolute value is used).
    /// Default: 0.
    pub fn min_delta(mut self, min_delta: f32) -> Self {
        self.monitor.min_delta = min_delta;
        self
    }

    /// Epochs without improvement after which training stops. Default: 0.
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// Whether lower or higher is better. Default: [`Mode::Auto`].
    pub fn mode(mut self, mode: Mode) -> Self {
        self.monitor.mode = mode;
        self
    }

    /// A value the monitored quantity must beat for the patience count to restart. Default:
    /// none.
    pub fn baseline(mut self, baseline: f32) -> Self {
        self.baseline = Some(baseline);
        self
    }

    /// Whether to put back the weights of the best epoch when training ends. Default: `false`.
    pub fn restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best_weights = restore;
        self
    }

    /// Epochs to train before monitoring starts (a warm-up). Default: 0.
    pub fn start_from_epoch(mut self, epochs: usize) -> Self {
        self.start_from_epoch = epochs;
        self
    }

    /// 1 prints Keras' messages ("Epoch 4: early stopping", "Restoring model weights from the
    /// end of the best epoch: 2."); 0 is silent. Default: 0.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }

    /// The epoch (from 1) at which the last `fit` stopped early, if it did.
    pub fn stopped_epoch(&self) -> Option<usize> {
        self.stopped_epoch
    }

    /// The best monitored value of the last `fit`.
    pub fn best(&self) -> Option<f32> {
        self.best
    }

    /// The epoch (from 1) with the best monitored value.
    pub fn best_epoch(&self) -> Option<usize> {
        self.best_epoch
    }
}

impl Callback for EarlyStopping {
    fn on_train_begin(&mut self, keys: &[String], _model: &mut dyn Model) -> Result<()> {
        self.monitor.check("EarlyStopping", keys)?;
        // Reset, so that one instance can serve several `fit` calls (as Keras).
        self.wait = 0;
        self.stopped_epoch = None;
        self.best = None;
        self.best_epoch = None;
        self.best_weights = None;
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        model: &mut dyn Model,
    ) -> Result<Control> {
        let Some(current) = logs.get(&self.monitor.name) else { return Ok(Control::Continue) };
        if epoch <= self.start_from_epoch {
            return Ok(Control::Continue);
        }
        if self.restore_best_weights && self.best_weights.is_none() {
            // Until something improves, the current weights are the best.
            self.best_weights = Some(model.get_weights());
            self.best_epoch = Some(epoch);
        }
        self.wait += 1;
        if self.monitor.is_improvement(current, self.best) {
            self.best = Some(current);
            self.best_epoch = Some(epoch);
            if self.restore_best_weights {
                self.best_weights = Some(model.get_weights());
            }
            // Restart the count only when the value beats both the previous best and the
            // baseline.
            if self.baseline.is_none() || self.monitor.is_improvement(current, self.baseline) {
                self.wait = 0;
            }
            return Ok(Control::Continue);
        }
        if self.wait >= self.patience && epoch > 1 {
            self.stopped_epoch = Some(epoch);
            return Ok(Control::Stop(StopReason::EarlyStopping {
                epoch,
                monitor: self.monitor.name.clone(),
                best_epoch: self.best_epoch.unwrap_or(epoch),
            }));
        }
        Ok(Control::Continue)
    }

    fn on_train_end(&mut self, _reason: &StopReason, model: &mut dyn Model) -> Result<()> {
        if let (Some(epoch), true) = (self.stopped_epoch, self.verbose > 0) {
            println!("Epoch {epoch}: early stopping");
        }
        if let (true, Some(weights)) = (self.restore_best_weights, self.best_weights.take()) {
            if self.verbose > 0 {
                if let Some(best_epoch) = self.best_epoch {
                    println!(
                        "Restoring model weights from the end of the best epoch: {best_epoch}."
                    );
                }
            }
            model.set_weights(weights)?;
        }
        Ok(())
    }
}
