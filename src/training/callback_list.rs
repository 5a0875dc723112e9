//! The callbacks of one `fit`, called in order, and the first stop any of them asks for
//! (Keras' `callbacks/callback_list.py`).

use super::Model;
use crate::callbacks::{Callback, Control, Logs};
use crate::model::{Scores, StopReason};
use crate::Result;

/// The callbacks of one `fit` and the first stop one of them asked for.
pub(crate) struct CallbackList<'a, 'b> {
    callbacks: &'a mut [&'b mut dyn Callback],
    stop: Option<StopReason>,
}

impl<'a, 'b> CallbackList<'a, 'b> {
    pub(crate) fn new(callbacks: &'a mut [&'b mut dyn Callback]) -> Self {
        CallbackList { callbacks, stop: None }
    }

    /// Whether a callback asked training to stop.
    pub(crate) fn stopped(&self) -> bool {
        self.stop.is_some()
    }

    /// Before the first epoch, with the names the logs will hold.
    pub(crate) fn train_begin(&mut self, keys: &[String], model: &mut dyn Model) -> Result<()> {
        for callback in self.callbacks.iter_mut() {
            callback.on_train_begin(keys, model)?;
        }
        Ok(())
    }

    /// Before `epoch`.
    pub(crate) fn epoch_begin(&mut self, epoch: usize, model: &mut dyn Model) -> Result<()> {
        for callback in self.callbacks.iter_mut() {
            callback.on_epoch_begin(epoch, model)?;
        }
        Ok(())
    }

    /// After batch `batch` of `epoch`, with the epoch's running scores.
    pub(crate) fn batch_end(&mut self, epoch: usize, batch: usize, running: &Scores) -> Result<()> {
        if self.callbacks.is_empty() {
            return Ok(());
        }
        let logs = epoch_logs(running, None);
        for callback in self.callbacks.iter_mut() {
            if let Control::Stop(reason) = callback.on_batch_end(epoch, batch, &logs)? {
                self.stop.get_or_insert(reason);
            }
        }
        Ok(())
    }

    /// After `epoch`, with its logs, which each callback may change for the next ones and for
    /// the history (Keras passes one `logs` dict along the list, `History` last).
    pub(crate) fn epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        model: &mut dyn Model,
    ) -> Result<()> {
        for callback in self.callbacks.iter_mut() {
            if let Control::Stop(reason) = callback.on_epoch_end(epoch, logs, model)? {
                self.stop.get_or_insert(reason);
            }
        }
        Ok(())
    }

    /// After the last epoch; returns why training stopped.
    pub(crate) fn train_end(mut self, model: &mut dyn Model) -> Result<StopReason> {
        let reason = self.stop.take().unwrap_or_default();
        for callback in self.callbacks.iter_mut() {
            callback.on_train_end(&reason, model)?;
        }
        Ok(reason)
    }
}

/// The names of the epoch logs: `loss`, the metrics, then the same with `val_`.
pub(super) fn log_keys(scores: &Scores, validation: bool) -> Vec<String> {
    let logs = epoch_logs(scores, validation.then_some(scores));
    logs.keys().map(String::from).collect()
}

/// Training (and validation) scores as callback logs.
pub(super) fn epoch_logs(train: &Scores, validation: Option<&Scores>) -> Logs {
    let mut logs = Logs::default();
    for (prefix, scores) in std::iter::once(("", train)).chain(validation.map(|v| ("val_", v))) {
        logs.insert(format!("{prefix}loss"), scores.loss);
        for (name, value) in &scores.metrics {
            logs.insert(format!("{prefix}{name}"), *value);
        }
    }
    logs
}
