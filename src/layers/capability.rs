//! What some layers can do beyond [`Layer`](super::Layer), asked for by the model through typed
//! accessors ([`Layer::output_head`](super::Layer::output_head), ...) rather than by naming
//! layer types.

use crate::activations::Activation;
use crate::param::Mask;
use crate::Result;
use ndarray::{ArrayD, ArrayView2, ArrayViewD};

/// A layer whose output is an activation of logits it keeps (`Dense`): a loss reads them to
/// work from logits when the activation is a sigmoid or softmax, as Keras does inside `fit`.
pub trait OutputHead {
    /// The activation applied last.
    fn activation(&self) -> Activation;

    /// The pre-activation output of the last `forward`, in the output's shape.
    fn logits(&self) -> Option<ArrayViewD<'_, f32>>;

    /// As [`Layer::backward`](super::Layer::backward), from the gradient with respect to the
    /// logits of the last training-mode `forward`.
    ///
    /// # Errors
    /// [`Error::NoForwardCache`](crate::Error::NoForwardCache) without a preceding
    /// training-mode `forward`, and
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when `grad_logits` does not have
    /// the output's shape.
    fn backward_logits(
        &mut self,
        grad_logits: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>>;
}

/// A layer that looks token ids up in a table (`Embedding`).
pub trait LookupTable {
    /// The table `(ids, features)`, once built.
    fn table(&self) -> Option<ArrayView2<'_, f32>>;

    /// The table row of every id of a batch `(batch, ..input_shape)`, checked as `forward`
    /// checks them.
    ///
    /// # Errors
    /// As the layer's `forward`: not built, a batch of another shape, an id out of range.
    fn checked_rows(&self, ids: &ArrayViewD<'_, f32>) -> Result<Vec<usize>>;
}

/// A layer that can read token ids through a [`LookupTable`] folded into its input projection
/// (the recurrent layers): `predict` and `evaluate` then skip the embedded sequence, with
/// bit-identical outputs.
pub trait FoldsLookup {
    /// Values per row of a folded table.
    fn folded_width(&self) -> usize;

    /// The table `(ids, features)` folded into the input projection, row-major
    /// `(ids, folded_width)`.
    ///
    /// # Errors
    /// When the layer is not built or the table's width is not the layer's input width.
    fn fold(&self, table: ArrayView2<'_, f32>) -> Result<Vec<f32>>;

    /// Inference on the table rows of a `(batch, steps)` batch of ids, through `folded`.
    ///
    /// # Errors
    /// When the layer is not built, or `rows`, `folded` or `mask` do not fit `shape`.
    fn forward_folded(
        &mut self,
        rows: &[usize],
        shape: (usize, usize),
        folded: &[f32],
        mask: Option<&Mask>,
    ) -> Result<ArrayD<f32>>;
}
