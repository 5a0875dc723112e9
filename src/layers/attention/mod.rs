//! Attention layers: [`Attention`] (Luong's dot product), [`AdditiveAttention`] (Bahdanau's)
//! and [`MultiHeadAttention`], with what they share said once: the masked softmax of the
//! scores and its gradient ([`softmax`]), the dropout of the attention weights and the
//! whole-batch products.

mod additive;
mod dot_product;
mod heads;
mod multi_head;
mod projection;
mod scored;
mod scored_layer;
mod scores;
mod softmax;

pub use additive::AdditiveAttention;
pub use dot_product::{Attention, ScoreMode};
pub use multi_head::MultiHeadAttention;

use super::Generator;
use ndarray::{linalg::general_mat_mul, Array, ArrayView4, ArrayViewMut4, Dimension, Zip};
use rand::RngCore;

/// `out[g, h] = alpha · a[g, h] · b[g, h] + beta · out[g, h]` for every pair of leading indices:
/// one matrix product per (sample, head), each on 2-D views of the operands (transposes and
/// head axes are strided views, never copies).
pub(crate) fn batched_matmul(
    alpha: f32,
    a: ArrayView4<'_, f32>,
    b: ArrayView4<'_, f32>,
    beta: f32,
    mut out: ArrayViewMut4<'_, f32>,
) {
    for ((a, b), mut out) in a.outer_iter().zip(b.outer_iter()).zip(out.outer_iter_mut()) {
        for ((a, b), mut out) in a.outer_iter().zip(b.outer_iter()).zip(out.outer_iter_mut()) {
            general_mat_mul(alpha, &a, &b, beta, &mut out);
        }
    }
}

/// Dropout of the attention weights, as `Dropout`: each weight is kept with probability
/// `1 − rate` (a uniform 32-bit draw at least `rate·2³²`, drawn in row-major order from the
/// layer's generator) and divided by `1 − rate`, or set to zero. Returns the keep mask.
fn drop_weights<D: Dimension>(
    weights: &mut Array<f32, D>,
    rate: f32,
    rng: &mut Generator,
) -> Array<bool, D> {
    let threshold = (f64::from(rate) * 4_294_967_296.0) as u64;
    let keep_prob = 1.0 - rate;
    let mut keep = Array::from_elem(weights.raw_dim(), false);
    Zip::from(&mut keep).and(weights).for_each(|keep, w| {
        *keep = u64::from(rng.next_u32()) >= threshold;
        *w = if *keep { *w / keep_prob } else { 0.0 };
    });
    keep
}

/// The attention weights after dropout and which were kept, when `dropout` (rate and
/// generator) is given: a copy of `weights` through [`drop_weights`].
pub(crate) fn dropped_weights<D: Dimension>(
    weights: &Array<f32, D>,
    dropout: Option<(f32, &mut Generator)>,
) -> Option<(Array<f32, D>, Array<bool, D>)> {
    dropout.map(|(rate, rng)| {
        let mut kept = weights.clone();
        let keep = drop_weights(&mut kept, rate, rng);
        (kept, keep)
    })
}

/// The gradient through [`drop_weights`]: `grad / (1 − rate)` where kept, 0 where dropped.
pub(crate) fn drop_grad<D: Dimension>(grad: &mut Array<f32, D>, keep: &Array<bool, D>, rate: f32) {
    let keep_prob = 1.0 - rate;
    Zip::from(grad).and(keep).for_each(|g, &k| *g = if k { *g / keep_prob } else { 0.0 });
}
