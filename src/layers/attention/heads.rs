//! Scaled dot-product attention of projected heads, `softmax(Q·Kᵀ/√key_dim)·V` per sample and
//! head, and its gradient: the middle of `MultiHeadAttention`, between its projections.

use super::softmax::{masked_softmax, masked_softmax_grad, Padding, ScoreMask};
use super::{batched_matmul, drop_grad, dropped_weights};
use crate::layers::Generator;
use ndarray::{Array4, ArrayView4};

/// The result of [`attend`], kept for [`attend_grad`].
#[derive(Clone, Debug)]
pub(crate) struct Attended {
    /// The attention weights `(batch, heads, Tq, Tv)` before dropout.
    pub(crate) weights: Array4<f32>,
    /// The weights after dropout and which were kept, when dropout ran.
    pub(crate) dropped: Option<(Array4<f32>, Array4<bool>)>,
    /// The heads' results `(batch, Tq, heads, value_dim)`.
    pub(crate) context: Array4<f32>,
}

/// Attends with `query (batch, Tq, heads, key_dim)` over `key (batch, Tv, heads, key_dim)` and
/// `value (batch, Tv, heads, value_dim)`, masked as `mask` and `padding` say; `dropout` (rate
/// and generator) drops weights while training.
pub(crate) fn attend(
    query: ArrayView4<'_, f32>,
    key: ArrayView4<'_, f32>,
    value: ArrayView4<'_, f32>,
    mask: &ScoreMask,
    padding: Padding,
    dropout: Option<(f32, &mut Generator)>,
) -> Attended {
    let (batch, tq, heads, key_dim) = query.dim();
    let (tv, value_dim) = (key.dim().1, value.dim().3);
    let mut weights = Array4::<f32>::zeros((batch, heads, tq, tv));
    let scale = 1.0 / (key_dim as f32).sqrt();
    batched_matmul(
        scale,
        query.permuted_axes([0, 2, 1, 3]),
        key.permuted_axes([0, 2, 3, 1]),
        0.0,
        weights.view_mut(),
    );
    masked_softmax(weights.view_mut(), mask, padding);
    let dropped = dropped_weights(&weights, dropout);
    let applied = dropped.as_ref().map_or(&weights, |(kept, _)| kept);
    let mut context = Array4::<f32>::zeros((batch, tq, heads, value_dim));
    batched_matmul(
        1.0,
        applied.view(),
        value.permuted_axes([0, 2, 1, 3]),
        0.0,
        context.view_mut().permuted_axes([0, 2, 1, 3]),
    );
    Attended { weights, dropped, context }
}

/// The gradients (query, key, value), each in its input's layout, of [`attend`] given
/// `d_context` (the context's layout) and, when the weights were an output, `d_weights`.
#[allow(clippy::too_many_arguments)] // The operands of `attend` and their gradients.
pub(crate) fn attend_grad(
    query: ArrayView4<'_, f32>,
    key: ArrayView4<'_, f32>,
    value: ArrayView4<'_, f32>,
    attended: &Attended,
    d_context: ArrayView4<'_, f32>,
    d_weights: Option<ArrayView4<'_, f32>>,
    mask: &ScoreMask,
    padding: Padding,
    dropout: f32,
) -> (Array4<f32>, Array4<f32>, Array4<f32>) {
    let key_dim = query.dim().3;
    let d_context = d_context.permuted_axes([0, 2, 1, 3]);
    let applied = attended.dropped.as_ref().map_or(&attended.weights, |(kept, _)| kept);
    // dP = dC·Vᵀ (through the dropout), plus the gradient of the returned weights; dV = Pᵀ·dC.
    let mut d_scores = Array4::<f32>::zeros(attended.weights.raw_dim());
    batched_matmul(1.0, d_context, value.permuted_axes([0, 2, 3, 1]), 0.0, d_scores.view_mut());
    let mut d_value = Array4::<f32>::zeros(value.raw_dim());
    batched_matmul(
        1.0,
        applied.view().permuted_axes([0, 1, 3, 2]),
        d_context,
        0.0,
        d_value.view_mut().permuted_axes([0, 2, 1, 3]),
    );
    if let Some((_, keep)) = &attended.dropped {
        drop_grad(&mut d_scores, keep, dropout);
    }
    if let Some(d_weights) = d_weights {
        d_scores += &d_weights;
    }
    masked_softmax_grad(attended.weights.view(), d_scores.view_mut(), mask, padding);
    // dQ = dS·K / √key_dim and dK = dSᵀ·Q / √key_dim.
    let scale = 1.0 / (key_dim as f32).sqrt();
    let mut d_query = Array4::<f32>::zeros(query.raw_dim());
    batched_matmul(
        scale,
        d_scores.view(),
        key.permuted_axes([0, 2, 1, 3]),
        0.0,
        d_query.view_mut().permuted_axes([0, 2, 1, 3]),
    );
    let mut d_key = Array4::<f32>::zeros(key.raw_dim());
    batched_matmul(
        scale,
        d_scores.view().permuted_axes([0, 1, 3, 2]),
        query.permuted_axes([0, 2, 1, 3]),
        0.0,
        d_key.view_mut().permuted_axes([0, 2, 1, 3]),
    );
    (d_query, d_key, d_value)
}
