//! `Sequential` as a [`Model`] the shared training loops drive: its train, test and predict
//! steps on one input and one target array, its running metrics, its weights and optimizer.

use super::compiled::{OutputLoss, Trackers};
use super::folding::FoldedStart;
use super::history::Scores;
use super::sequential::Sequential;
use crate::optimizers::Optimizer;
use crate::param::Mask;
use crate::training::{Batch, Model};
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayViewD};
use std::fmt;
use std::path::Path;

/// What the steps keep between calls: the running loss and metrics, and the folded start of
/// the model during a run of inference steps.
pub(super) struct StepState {
    pub(super) tracker: Trackers,
    folded: Option<FoldedStart>,
    /// The samples of a run of inference steps whose folding is not decided yet: the first
    /// batch's length decides it (sequences of any length have no length before).
    undecided: Option<usize>,
}

impl Default for StepState {
    fn default() -> Self {
        StepState { tracker: Trackers::default(), folded: None, undecided: None }
    }
}

impl fmt::Debug for StepState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepState")
            .field("tracker", &self.tracker)
            .field("folded", &self.folded.is_some())
            .finish()
    }
}

impl Sequential {
    /// The batch's one input, its targets in the shape the loss reads and its sample weights
    /// in the shape of the output's leading axes.
    fn single_pair<'b>(&mut self, batch: &'b Batch) -> Result<Pair<'b>> {
        let x = self.single_input(&batch.x)?;
        let [y] = batch.y.as_slice() else {
            return Err(Error::invalid("y", "one target array", batch.y.len()));
        };
        if batch.sample_weight.len() > 1 {
            let found = batch.sample_weight.len();
            return Err(Error::invalid("sample_weight", "at most one array", found));
        }
        let weights = match batch.sample_weight(0) {
            Some(w) => Some(self.conform_sample_weight(w, x.shape())?),
            None => None,
        };
        let y = self.conform(x.shape(), y.view())?;
        Ok((x, y, weights))
    }

    /// The one input of a batch, checked against the model's input shape.
    fn single_input<'b>(&mut self, x: &'b [ArrayD<f32>]) -> Result<ArrayViewD<'b, f32>> {
        let [x] = x else {
            return Err(Error::invalid(
                "x",
                "one input array (a Sequential has one input)",
                x.len(),
            ));
        };
        self.prepare_input(&x.view())?;
        Ok(x.view())
    }

    /// Forward in inference mode, through the folded start when one is prepared. The first
    /// batch of a run of inference steps decides whether to fold, from the run's samples and
    /// that batch's length.
    fn infer(&mut self, x: ArrayViewD<'_, f32>) -> Result<(ArrayD<f32>, Option<Mask>)> {
        if let Some(samples) = self.steps.undecided.take() {
            let steps = x.shape().get(1).copied().unwrap_or(1);
            self.steps.folded = self.fold_start(&[samples, steps])?;
        }
        let folded = self.steps.folded.take();
        let result = self.forward(x, false, folded.as_ref());
        self.steps.folded = folded;
        result
    }
}

impl Sequential {
    /// The loss of `output` against `y` through the compiled state, added to the running
    /// scores; when `train`ing, back-propagated and applied (unless it is not finite).
    fn score(
        &mut self,
        output: ArrayD<f32>,
        mask: Option<Mask>,
        y: &ArrayD<f32>,
        weights: Option<&ArrayD<f32>>,
        train: bool,
    ) -> Result<f32> {
        let mut compiled = self.compiled.take().ok_or(Error::NotCompiled("training"))?;
        let result = (|| {
            let out = || OutputLoss {
                output: output.view(),
                logits: None,
                y: y.view(),
                mask: mask.as_ref(),
                sample_weight: weights.map(|w| w.view()),
            };
            let (value, mut grads) =
                compiled.losses(&[OutputLoss { logits: self.output_logits(), ..out() }])?;
            if train && value.is_finite() {
                let (_, grad) = grads.swap_remove(0);
                self.backward(grad)?;
                compiled.apply(&mut self.trainable_params(&compiled.trainable));
            }
            self.steps.tracker.add(value, &[out()], &[value])?;
            Ok(value)
        })();
        self.compiled = Some(compiled);
        result
    }
}

/// A batch's input, conformed targets and sample weights.
type Pair<'b> = (ArrayViewD<'b, f32>, ArrayD<f32>, Option<ArrayD<f32>>);

impl Model for Sequential {
    fn train_step(&mut self, batch: &Batch) -> Result<f32> {
        let (x, y, weights) = self.single_pair(batch)?;
        self.zero_grads();
        let (output, mask) = self.forward(x, true, None)?;
        self.score(output, mask, &y, weights.as_ref(), true)
    }

    fn test_step(&mut self, batch: &Batch) -> Result<f32> {
        let (x, y, weights) = self.single_pair(batch)?;
        let (output, mask) = self.infer(x)?;
        self.score(output, mask, &y, weights.as_ref(), false)
    }

    fn predict_step(&mut self, x: &[ArrayViewD<'_, f32>]) -> Result<Vec<ArrayD<f32>>> {
        let [x] = x else {
            return Err(Error::invalid(
                "x",
                "one input array (a Sequential has one input)",
                x.len(),
            ));
        };
        self.prepare_input(x)?;
        Ok(vec![self.infer(x.view())?.0])
    }

    fn begin_inference(&mut self, samples: usize) -> Result<()> {
        self.steps.folded = None;
        self.steps.undecided = Some(samples);
        Ok(())
    }

    fn end_inference(&mut self) {
        self.steps.folded = None;
        self.steps.undecided = None;
    }

    fn reset_metrics(&mut self) {
        self.steps.tracker.reset();
    }

    fn metrics_result(&self) -> Scores {
        self.steps.tracker.scores()
    }

    fn get_weights(&self) -> Vec<ArrayD<f32>> {
        Sequential::get_weights(self)
    }

    fn set_weights(&mut self, weights: Vec<ArrayD<f32>>) -> Result<()> {
        Sequential::set_weights(self, weights)
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        Sequential::save_weights(self, path)
    }

    fn optimizer(&self) -> Option<&dyn Optimizer> {
        Sequential::optimizer(self)
    }

    fn optimizer_mut(&mut self) -> Option<&mut dyn Optimizer> {
        Sequential::optimizer_mut(self)
    }
}
