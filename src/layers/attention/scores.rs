//! The scores of `Attention` and `AdditiveAttention`, query against key, and their gradients.

use super::batched_matmul;
use ndarray::{Array3, Array4, ArrayView3, ArrayView4, Axis};

/// How a query step and a key step score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `Attention(score_mode="dot")`: `s = scale · q·k`.
    Dot,
    /// `Attention(score_mode="concat")`: `s = c · Σ_d tanh(scale · (q_d + k_d))`.
    Concat,
    /// `AdditiveAttention`: `s = Σ_d scale_d · tanh(q_d + k_d)`.
    Additive,
}

/// The weights a score reads: a scalar or per-feature `scale` (1 when absent) and the scalar
/// `concat_score_weight` `c` (1 when absent).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ScoreWeights<'a> {
    pub(crate) scale: Option<&'a [f32]>,
    pub(crate) concat: Option<f32>,
}

/// What the backward of the scores needs besides the inputs: `q·kᵀ` before the scale (dot
/// product with a scale) or the `tanh` terms `(batch, Tq, Tv, dim)` (concat, additive).
#[derive(Clone, Debug)]
pub(crate) enum ScoreCache {
    None,
    Unscaled(Array4<f32>),
    Tanh(Array4<f32>),
}

/// The scores `(batch, 1, Tq, Tv)` of `query (batch, Tq, dim)` against `key (batch, Tv, dim)`,
/// and, when `keep` is true, what their backward needs.
pub(crate) fn scores(
    kind: Kind,
    weights: ScoreWeights<'_>,
    query: ArrayView3<'_, f32>,
    key: ArrayView3<'_, f32>,
    keep: bool,
) -> (Array4<f32>, ScoreCache) {
    let (batch, tq, dim) = query.dim();
    let tv = key.dim().1;
    let mut scores = Array4::<f32>::zeros((batch, 1, tq, tv));
    if kind == Kind::Dot {
        let q = query.insert_axis(Axis(1));
        let k = key.insert_axis(Axis(1)).permuted_axes([0, 1, 3, 2]);
        batched_matmul(1.0, q, k, 0.0, scores.view_mut());
        let Some(&[scale]) = weights.scale else {
            return (scores, ScoreCache::None);
        };
        let unscaled = keep.then(|| scores.clone());
        scores.mapv_inplace(|s| s * scale);
        return (scores, unscaled.map_or(ScoreCache::None, ScoreCache::Unscaled));
    }
    // tanh(a · (q + k)) with a the scalar scale of `Concat`, weighted by the per-feature scale
    // of `Additive`, summed over the features and multiplied by `c`; one query step's
    // (Tv, dim) block of tanh terms at a time, kept for the backward or in one reused buffer.
    let inner = match (kind, weights.scale) {
        (Kind::Concat, Some(&[a])) => a,
        _ => 1.0,
    };
    let outer = if kind == Kind::Additive { weights.scale } else { None };
    let c = weights.concat.unwrap_or(1.0);
    let (query, key) = (query.as_standard_layout(), key.as_standard_layout());
    let (Some(qs), Some(ks)) = (query.as_slice(), key.as_slice()) else {
        return (scores, ScoreCache::None);
    };
    let block_len = tv * dim;
    let mut tanh = Array4::<f32>::zeros(if keep { (batch, tq, tv, dim) } else { (1, 1, tv, dim) });
    for b in 0..batch {
        for i in 0..tq {
            let q = &qs[(b * tq + i) * dim..][..dim];
            let offset = if keep { (b * tq + i) * block_len } else { 0 };
            let Some(block) = tanh.as_slice_mut().map(|t| &mut t[offset..offset + block_len])
            else {
                continue;
            };
            for (row, k) in
                block.chunks_exact_mut(dim.max(1)).zip(ks[b * block_len..].chunks(dim.max(1)))
            {
                for ((u, &q), &k) in row.iter_mut().zip(q).zip(k) {
                    *u = inner * (q + k);
                }
            }
            crate::kernels::tanh_inplace(block);
            for (j, row) in block.chunks_exact(dim.max(1)).enumerate().take(tv) {
                let sum: f32 = match outer {
                    Some(w) => row.iter().zip(w).map(|(t, w)| w * t).sum(),
                    None => row.iter().sum(),
                };
                scores[[b, 0, i, j]] = c * sum;
            }
        }
    }
    let cache = if keep { ScoreCache::Tanh(tanh) } else { ScoreCache::None };
    (scores, cache)
}

/// Gradients of the scores given `grad` = dL/dscores `(batch, 1, Tq, Tv)`: returns
/// (dL/dquery, dL/dkey, dL/dscale (as many values as the scale), dL/dc).
pub(crate) fn scores_grad(
    kind: Kind,
    weights: ScoreWeights<'_>,
    query: ArrayView3<'_, f32>,
    key: ArrayView3<'_, f32>,
    cache: &ScoreCache,
    grad: ArrayView4<'_, f32>,
) -> (Array3<f32>, Array3<f32>, Vec<f32>, f32) {
    let mut d_query = Array3::<f32>::zeros(query.raw_dim());
    let mut d_key = Array3::<f32>::zeros(key.raw_dim());
    let scale_len = weights.scale.map_or(0, <[f32]>::len);
    let mut d_scale = vec![0.0f32; scale_len];
    let mut d_concat = 0.0f32;
    if kind == Kind::Dot {
        let alpha = weights.scale.map_or(1.0, |s| s[0]);
        let k = key.insert_axis(Axis(1));
        let q = query.insert_axis(Axis(1));
        let g = grad;
        let gt = grad.permuted_axes([0, 1, 3, 2]);
        batched_matmul(alpha, g, k, 0.0, d_query.view_mut().insert_axis(Axis(1)));
        batched_matmul(alpha, gt, q, 0.0, d_key.view_mut().insert_axis(Axis(1)));
        if let ScoreCache::Unscaled(unscaled) = cache {
            d_scale[0] = (&grad * unscaled).sum();
        }
        return (d_query, d_key, d_scale, d_concat);
    }
    let ScoreCache::Tanh(tanh) = cache else {
        return (d_query, d_key, d_scale, d_concat);
    };
    let inner = match (kind, weights.scale) {
        (Kind::Concat, Some(&[a])) => a,
        _ => 1.0,
    };
    let outer = if kind == Kind::Additive { weights.scale } else { None };
    let c = weights.concat.unwrap_or(1.0);
    let (batch, tq, dim) = query.dim();
    let tv = key.dim().1;
    let (query, key) = (query.as_standard_layout(), key.as_standard_layout());
    let (Some(qs), Some(ks), Some(ts)) = (query.as_slice(), key.as_slice(), tanh.as_slice()) else {
        return (d_query, d_key, d_scale, d_concat);
    };
    let (Some(dqs), Some(dks)) = (d_query.as_slice_mut(), d_key.as_slice_mut()) else {
        return (
            Array3::zeros((batch, tq, dim)),
            Array3::zeros((batch, tv, dim)),
            d_scale,
            d_concat,
        );
    };
    for b in 0..batch {
        for i in 0..tq {
            let q = &qs[(b * tq + i) * dim..][..dim];
            let dq = &mut dqs[(b * tq + i) * dim..][..dim];
            for j in 0..tv {
                let g = grad[[b, 0, i, j]];
                let t = &ts[((b * tq + i) * tv + j) * dim..][..dim];
                let k = &ks[(b * tv + j) * dim..][..dim];
                let dk = &mut dks[(b * tv + j) * dim..][..dim];
                let mut weighted = 0.0f32;
                for d in 0..dim {
                    let w = outer.map_or(1.0, |w| w[d]);
                    weighted += w * t[d];
                    // d tanh(u)/du = 1 − tanh², u = a · (q + k).
                    let du = g * c * w * (1.0 - t[d] * t[d]);
                    dq[d] += du * inner;
                    dk[d] += du * inner;
                    match kind {
                        Kind::Additive if scale_len > 0 => d_scale[d] += g * c * t[d],
                        Kind::Concat if scale_len > 0 => d_scale[0] += du * (q[d] + k[d]),
                        _ => {}
                    }
                }
                d_concat += g * weighted;
            }
        }
    }
    (d_query, d_key, d_scale, d_concat)
}
