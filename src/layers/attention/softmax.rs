//! The softmax of attention scores over the keys, with the masks Keras applies, and its
//! gradient.

use crate::param::Mask;
use ndarray::{ArrayView4, ArrayViewMut4, Axis, Zip};

/// Which (query step, key step) pairs may attend, per sample: the logical and of a query mask
/// `(batch, Tq)`, a key mask `(batch, Tv)` and the causal mask (key step ≤ query step).
#[derive(Clone, Debug, Default)]
pub(crate) struct ScoreMask {
    pub(crate) query: Option<Mask>,
    pub(crate) key: Option<Mask>,
    pub(crate) causal: bool,
}

impl ScoreMask {
    /// Whether nothing is masked.
    pub(crate) fn is_empty(&self) -> bool {
        self.query.is_none() && self.key.is_none() && !self.causal
    }

    /// Whether query step `i` of sample `b` may attend to key step `j`.
    fn allows(&self, b: usize, i: usize, j: usize) -> bool {
        self.query.as_ref().is_none_or(|m| m[[b, i]])
            && self.key.as_ref().is_none_or(|m| m[[b, j]])
            && (!self.causal || j <= i)
    }
}

/// How masked scores enter the softmax; Keras' layers differ, and where a whole row is masked
/// that shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Padding {
    /// `Attention` and `AdditiveAttention`: 10⁹ is subtracted from a masked score (in `f32`), so
    /// a row whose keys are all masked is the softmax of its shifted scores (nearly uniform),
    /// and the gradient flows to every score.
    Subtract,
    /// `MultiHeadAttention` when Keras takes its fused path (no dropout, no scores returned): a
    /// masked score becomes −0.7 · 3.38953·10³⁸, so a fully masked row is uniform; masked
    /// scores take no gradient.
    Uniform,
    /// `MultiHeadAttention` through Keras' `Softmax` layer (dropout, or scores returned): a masked
    /// score becomes −10⁹ and its weight is then set to 0, so a fully masked row is all zeros;
    /// masked scores take no gradient.
    Zero,
}

/// Replaces `scores` `(batch, heads, Tq, Tv)` by their softmax over the keys (the last axis),
/// masked as `mask` and `padding` say.
pub(crate) fn masked_softmax(
    mut scores: ArrayViewMut4<'_, f32>,
    mask: &ScoreMask,
    padding: Padding,
) {
    for (b, mut sample) in scores.outer_iter_mut().enumerate() {
        for mut head in sample.outer_iter_mut() {
            for (i, mut row) in head.outer_iter_mut().enumerate() {
                if !mask.is_empty() {
                    for (j, s) in row.iter_mut().enumerate() {
                        if !mask.allows(b, i, j) {
                            *s = match padding {
                                Padding::Subtract => *s - 1.0e9,
                                Padding::Uniform => -0.7 * 3.38953e38,
                                Padding::Zero => -1.0e9,
                            };
                        }
                    }
                }
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                row.mapv_inplace(|s| (s - max).exp());
                let sum = row.sum();
                row.mapv_inplace(|e| e / sum);
                if padding == Padding::Zero && !mask.is_empty() {
                    for (j, p) in row.iter_mut().enumerate() {
                        if !mask.allows(b, i, j) {
                            *p = 0.0;
                        }
                    }
                }
            }
        }
    }
}

/// Turns `grad` = dL/dweights into dL/dscores in place, given the softmax `weights` of
/// [`masked_softmax`]: `dS = P ⊙ (dP − Σ_j dP ⊙ P)` per row, with the masked scores of
/// [`Padding::Uniform`] and [`Padding::Zero`] taking none.
pub(crate) fn masked_softmax_grad(
    weights: ArrayView4<'_, f32>,
    mut grad: ArrayViewMut4<'_, f32>,
    mask: &ScoreMask,
    padding: Padding,
) {
    Zip::from(weights.lanes(Axis(3))).and(grad.lanes_mut(Axis(3))).for_each(|p, mut g| {
        let dot: f32 = p.iter().zip(g.iter()).map(|(p, g)| p * g).sum();
        Zip::from(&mut g).and(&p).for_each(|g, &p| *g = p * (*g - dot));
    });
    if padding != Padding::Subtract && !mask.is_empty() {
        for (b, mut sample) in grad.outer_iter_mut().enumerate() {
            for mut head in sample.outer_iter_mut() {
                for ((i, j), g) in head.indexed_iter_mut() {
                    if !mask.allows(b, i, j) {
                        *g = 0.0;
                    }
                }
            }
        }
    }
}
