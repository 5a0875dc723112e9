//! [`Model`]: what the trainer drives and what callbacks reach, whatever the model's structure.

use super::Batch;
use crate::model::Scores;
use crate::optimizers::Optimizer;
use crate::Result;
use ndarray::{ArrayD, ArrayViewD};
use std::path::Path;

/// A model seen from training: Keras' `train_step`, `test_step` and `predict_step`, its
/// metrics, its weights and its optimizer. [`fit`](super::fit), [`evaluate`](super::evaluate),
/// [`predict`](super::predict) and [`train_on_batch`](super::train_on_batch) drive any model
/// through it, and callbacks receive it as `&mut dyn Model` (Keras' `self.model`).
///
/// Inputs and targets are lists of arrays, one per model input and output, sliced into batches
/// along axis 0 ([`Sequential`](crate::model::Sequential) takes one of each). As in Keras, the
/// model keeps the running state of its loss and metrics: the steps add each batch to it,
/// [`Model::reset_metrics`] clears it and [`Model::metrics_result`] reads it.
///
/// # Examples
/// A callback that reads the learning rate through the model:
/// ```
/// use rnnkit::callbacks::{Callback, Control, Logs};
/// use rnnkit::training::Model;
///
/// struct PrintRate;
///
/// impl Callback for PrintRate {
///     fn on_epoch_end(
///         &mut self,
///         epoch: usize,
///         _logs: &mut Logs,
///         model: &mut dyn Model,
///     ) -> rnnkit::Result<Control> {
///         if let Some(optimizer) = model.optimizer() {
///             println!("epoch {epoch}: learning rate {}", optimizer.learning_rate());
///         }
///         Ok(Control::Continue)
///     }
/// }
/// # let _ = PrintRate;
/// ```
pub trait Model {
    /// One gradient update on `batch`, as Keras' `train_step`: forward in training mode, the
    /// loss (weighted by the batch's sample weights), back-propagation and an optimizer update;
    /// adds the batch's loss and metrics (computed before the update) to the running state and
    /// returns the batch's loss. A NaN or infinite loss updates no weight.
    ///
    /// # Errors
    /// The model's own: not compiled, inputs or targets that do not fit it.
    fn train_step(&mut self, batch: &Batch) -> Result<f32>;

    /// The loss and metrics of `batch` in inference mode, added to the running state, as
    /// Keras' `test_step`; returns the batch's loss.
    ///
    /// # Errors
    /// As [`Model::train_step`].
    fn test_step(&mut self, batch: &Batch) -> Result<f32>;

    /// The outputs for a batch of inputs `x`, in inference mode, as Keras' `predict_step`.
    ///
    /// # Errors
    /// Inputs that do not fit the model.
    fn predict_step(&mut self, x: &[ArrayViewD<'_, f32>]) -> Result<Vec<ArrayD<f32>>>;

    /// Called before a run of test or predict steps over `samples` samples, during which the
    /// weights do not change (a model may precompute from them); [`Model::end_inference`]
    /// follows, also when a step failed. Default: nothing.
    ///
    /// # Errors
    /// The model's own.
    fn begin_inference(&mut self, samples: usize) -> Result<()> {
        let _ = samples;
        Ok(())
    }

    /// Called after a run of test or predict steps. Default: nothing.
    fn end_inference(&mut self) {}

    /// Forgets the batches added to the loss and the metrics (Keras' `reset_metrics`).
    fn reset_metrics(&mut self);

    /// The mean loss and each metric over the batches added since the last reset, with their
    /// names (Keras' `get_metrics_result`): `loss`, then the compiled metrics.
    fn metrics_result(&self) -> Scores;

    /// Copies of every weight, in Keras' order (`model.get_weights()`).
    fn get_weights(&self) -> Vec<ArrayD<f32>>;

    /// Replaces every weight, in Keras' order (`model.set_weights()`).
    ///
    /// # Errors
    /// Weights whose count or shapes differ from the model's; the model is then unchanged.
    fn set_weights(&mut self, weights: Vec<ArrayD<f32>>) -> Result<()>;

    /// Writes every weight to `path` (`model.save_weights()`).
    ///
    /// # Errors
    /// A model not built yet, or a file that cannot be written.
    fn save_weights(&self, path: &Path) -> Result<()>;

    /// The optimizer set by `compile`, or `None` before it (Keras' `model.optimizer`).
    fn optimizer(&self) -> Option<&dyn Optimizer>;

    /// The optimizer set by `compile`, to change (its learning rate, say).
    fn optimizer_mut(&mut self) -> Option<&mut dyn Optimizer>;
}
