//! The callbacks of one `fit`, called in order, and the first stop any of them asks for.

use crate::callbacks::{Callback, Control, Logs};
use crate::metrics::Metric;
use crate::model::{Scores, Sequential, StopReason};
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
    pub(crate) fn train_begin(
        &mut self,
        metrics: &[Metric],
        validation: bool,
        model: &mut Sequential,
    ) -> Result<()> {
        let keys = log_keys(metrics, validation);
        for callback in self.callbacks.iter_mut() {
            callback.on_train_begin(&keys, model)?;
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

    /// After `epoch`, with its training and validation scores.
    pub(crate) fn epoch_end(
        &mut self,
        epoch: usize,
        train: &Scores,
        validation: Option<&Scores>,
        model: &mut Sequential,
    ) -> Result<()> {
        let logs = epoch_logs(train, validation);
        for callback in self.callbacks.iter_mut() {
            if let Control::Stop(reason) = callback.on_epoch_end(epoch, &logs, model)? {
                self.stop.get_or_insert(reason);
            }
        }
        Ok(())
    }

    /// After the last epoch; returns why training stopped.
    pub(crate) fn train_end(mut self, model: &mut Sequential) -> Result<StopReason> {
        let reason = self.stop.take().unwrap_or_default();
        for callback in self.callbacks.iter_mut() {
            callback.on_train_end(&reason, model)?;
        }
        Ok(reason)
    }
}

/// The names of the epoch logs: `loss`, the metrics, then the same with `val_`.
fn log_keys(metrics: &[Metric], validation: bool) -> Vec<String> {
    let train: Vec<String> =
        std::iter::once("loss").chain(metrics.iter().map(|m| m.name())).map(String::from).collect();
    let val: Vec<String> =
        if validation { train.iter().map(|k| format!("val_{k}")).collect() } else { Vec::new() };
    [train, val].concat()
}

/// Training (and validation) scores as callback logs.
fn epoch_logs(train: &Scores, validation: Option<&Scores>) -> Logs {
    let mut logs = Logs::default();
    for (prefix, scores) in std::iter::once(("", train)).chain(validation.map(|v| ("val_", v))) {
        logs.insert(format!("{prefix}loss"), scores.loss);
        for (name, value) in &scores.metrics {
            logs.insert(format!("{prefix}{name}"), *value);
        }
    }
    logs
}
