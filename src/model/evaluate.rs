//! Measuring: `evaluate` and `predict`, the shared loops of [`crate::training`] on arrays.

use super::history::Scores;
use super::sequential::Sequential;
use crate::training::{self, ArraySource};
use crate::Result;
use ndarray::{ArrayBase, ArrayD, Data, Dimension};

impl Sequential {
    /// Loss and metrics of the model on `x`, `y`, as Keras' `evaluate`: batch values averaged
    /// with weights by batch size.
    ///
    /// # Shapes
    /// `x` and `y` as for [`Sequential::fit`]; the scores are means over the samples.
    ///
    /// # Errors
    /// [`Error::NotCompiled`](crate::Error::NotCompiled) before `compile`, the input errors of
    /// [`Sequential::fit`], and [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a
    /// zero `batch_size`.
    pub fn evaluate<S1, D1, S2, D2>(
        &mut self,
        x: &ArrayBase<S1, D1>,
        y: &ArrayBase<S2, D2>,
        batch_size: usize,
    ) -> Result<Scores>
    where
        S1: Data<Elem = f32>,
        D1: Dimension,
        S2: Data<Elem = f32>,
        D2: Dimension,
    {
        let (x, y) = (x.view().into_dyn(), y.view().into_dyn());
        let y = self.checked_targets("evaluate", &x, y)?;
        let mut source = ArraySource::new(vec![x], vec![y.view()], batch_size)?;
        training::evaluate(self, &mut source)
    }

    /// [`Sequential::evaluate`] with a weight per sample, `(samples,)`, or per step of a
    /// sequence output, `(samples, steps)` (Keras' `evaluate(x, y, sample_weight=...)`): each
    /// batch's loss is Σ w·loss divided by the batch's count of samples (or unmasked steps),
    /// the batches averaged by size; the weighted metrics weigh each sample by w, the others
    /// ignore the weights.
    ///
    /// # Errors
    /// As [`Sequential::evaluate`], and [`Error::ShapeMismatch`](crate::Error::ShapeMismatch)
    /// for weights that do not fit the data or the output.
    pub fn evaluate_weighted<S1, D1, S2, D2, S3, D3>(
        &mut self,
        x: &ArrayBase<S1, D1>,
        y: &ArrayBase<S2, D2>,
        sample_weight: &ArrayBase<S3, D3>,
        batch_size: usize,
    ) -> Result<Scores>
    where
        S1: Data<Elem = f32>,
        D1: Dimension,
        S2: Data<Elem = f32>,
        D2: Dimension,
        S3: Data<Elem = f32>,
        D3: Dimension,
    {
        let (x, y) = (x.view().into_dyn(), y.view().into_dyn());
        let y = self.checked_targets("evaluate", &x, y)?;
        let weights = self.conform_sample_weight(sample_weight.view().into_dyn(), x.shape()[0])?;
        let mut source = ArraySource::new(vec![x], vec![y.view()], batch_size)?
            .sample_weight(vec![Some(weights.view())])?;
        training::evaluate(self, &mut source)
    }

    /// The model's outputs for `x`, computed `batch_size` samples at a time, as Keras'
    /// `predict`.
    ///
    /// # Shapes
    /// `x` `(samples, ..input_shape)` gives `(samples, ..output_shape)`: `(samples, 1)`
    /// probabilities for the lesson's model.
    ///
    /// # Errors
    /// [`Error::EmptyInput`](crate::Error::EmptyInput) and
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for bad `x`,
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a zero `batch_size`, and
    /// the layers' errors (ids out of range).
    pub fn predict<S, D>(&mut self, x: &ArrayBase<S, D>, batch_size: usize) -> Result<ArrayD<f32>>
    where
        S: Data<Elem = f32>,
        D: Dimension,
    {
        let x = x.view().into_dyn();
        self.prepare_input(&x)?;
        let mut source = ArraySource::new(vec![x], Vec::new(), batch_size)?;
        let mut outputs = training::predict(self, &mut source)?;
        Ok(outputs.swap_remove(0))
    }
}
