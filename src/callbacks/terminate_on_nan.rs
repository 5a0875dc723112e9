//! `TerminateOnNaN`: stop training cleanly when the loss stops being a number.

use super::{Callback, Control, Logs};
use crate::model::StopReason;
use crate::Result;

/// Stops training when the loss becomes NaN or infinite, as Keras'
/// `keras.callbacks.TerminateOnNaN`: `fit` then returns `Ok` with a
/// [`History`](crate::model::History) whose [`stop_reason`](crate::model::History::stop_reason)
/// is [`StopReason::NonFiniteLoss`] (epoch and batch, from 1).
///
/// The batch whose loss is not finite updates no weight. As in Keras, its epoch is still
/// finished: its (non-finite) values are recorded, validation runs and the other callbacks'
/// epoch-end code runs. Without this callback `fit` returns
/// [`Error::NonFiniteLoss`](crate::Error::NonFiniteLoss) instead (Keras would go on
/// training on NaN weights).
///
/// # Examples
/// ```
/// use rnnkit::callbacks::{Callback, Control, Logs};
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut terminate = TerminateOnNaN::new();
/// let logs: Logs = [("loss", f32::NAN)].into_iter().collect();
/// let control = terminate.on_batch_end(2, 5, &logs)?;
/// assert!(matches!(
///     control,
///     Control::Stop(StopReason::NonFiniteLoss { epoch: 2, batch: 5, .. })
/// ));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TerminateOnNaN;

impl TerminateOnNaN {
    /// The callback.
    pub fn new() -> Self {
        TerminateOnNaN
    }
}

impl Callback for TerminateOnNaN {
    fn on_batch_end(&mut self, epoch: usize, batch: usize, logs: &Logs) -> Result<Control> {
        Ok(match logs.get("loss") {
            Some(loss) if !loss.is_finite() => {
                Control::Stop(StopReason::NonFiniteLoss { epoch, batch, loss })
            }
            _ => Control::Continue,
        })
    }
}
