//! `AdditiveAttention`: Bahdanau-style attention.

use super::scored::Scored;
use super::scored_layer::scored_layer;
use super::scores::Kind;

/// Additive attention, a.k.a. Bahdanau-style attention, as Keras 3's `AdditiveAttention`: the
/// scores are a non-linear sum of query and key,
///
/// scores[i, j] = Σ_d scale_d · tanh(query[i, d] + key[j, d]),
///
/// then output = softmax(scores) · value over the key steps, with `key = value` when only
/// `[query, value]` are given. `scale` is a trainable vector of `dim` values (glorot_uniform);
/// without `use_scale` it is 1.
///
/// Masks, causal mask, dropout and the attention-scores output are [`Attention`](super::Attention)'s.
///
/// # Shapes
/// Inputs `[query (batch, Tq, dim), value (batch, Tv, value_dim)]` or with a third
/// `key (batch, Tv, dim)`; masks `(batch, Tq)` and `(batch, Tv)`. Outputs
/// `(batch, Tq, value_dim)` and, with scores, `(batch, Tq, Tv)`.
///
/// # Errors
/// As [`Attention`](super::Attention)'s.
///
/// # Examples
/// ```
/// use ndarray::ArrayD;
/// use rand::{rngs::StdRng, SeedableRng};
/// use rnnkit::layers::{AdditiveAttention, Layer, LayerExt};
/// # fn main() -> rnnkit::Result<()> {
/// let mut layer = AdditiveAttention::new();
/// layer.build_multi(&[vec![4, 8], vec![6, 8]], &mut StdRng::seed_from_u64(0))?;
/// assert_eq!(layer.count_params(), 8);
/// let query = ArrayD::<f32>::ones(ndarray::IxDyn(&[2, 4, 8]));
/// let value = ArrayD::<f32>::zeros(ndarray::IxDyn(&[2, 6, 8]));
/// let out = layer.forward_multi(&[query.view(), value.view()], &[None, None], false)?;
/// assert_eq!(out[0].shape(), [2, 4, 8]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct AdditiveAttention {
    inner: Scored,
}

impl Default for AdditiveAttention {
    fn default() -> Self {
        AdditiveAttention::new()
    }
}

impl AdditiveAttention {
    /// Additive attention with Keras' defaults: a trainable `scale`, no dropout, no causal
    /// mask, one output.
    pub fn new() -> Self {
        AdditiveAttention { inner: Scored::new(Kind::Additive, true) }
    }

    /// Whether the tanh terms are weighted by the trainable vector `scale`. Default: `true`.
    pub fn use_scale(mut self, use_scale: bool) -> Self {
        self.inner.use_scale = use_scale;
        self
    }

    /// The fraction of attention weights dropped while training, in `[0, 1)`. Default: 0.
    pub fn dropout(mut self, rate: f32) -> Self {
        self.inner.dropout = rate;
        self
    }

    /// Seeds the generator of the dropout (Keras' `seed`). Default: drawn from the model's
    /// generator when the layer is built.
    pub fn seed(mut self, seed: u64) -> Self {
        self.inner.seed = Some(seed);
        self
    }

    /// Whether query step `i` may attend only to key steps `j ≤ i`. Default: `false`.
    pub fn use_causal_mask(mut self, use_causal_mask: bool) -> Self {
        self.inner.use_causal_mask = use_causal_mask;
        self
    }

    /// Whether the layer has a second output, the attention weights `(batch, Tq, Tv)`.
    /// Default: `false`.
    pub fn return_attention_scores(mut self, return_attention_scores: bool) -> Self {
        self.inner.return_attention_scores = return_attention_scores;
        self
    }
}

scored_layer!(AdditiveAttention, "AdditiveAttention");
