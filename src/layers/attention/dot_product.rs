//! `Attention`: Luong-style dot-product attention.

use super::scored::Scored;
use super::scored_layer::scored_layer;
use super::scores::Kind;

/// How [`Attention`] scores a query step against a key step (Keras' `score_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ScoreMode {
    /// `"dot"`: the dot product `q·k` (times `scale` with `use_scale`).
    #[default]
    Dot,
    /// `"concat"`: `concat_score_weight · Σ_d tanh(q_d + k_d)` (`scale · (q_d + k_d)` inside the
    /// tanh with `use_scale`).
    Concat,
}

/// Dot-product attention, a.k.a. Luong-style attention, as Keras 3's `Attention`: each query
/// step attends to the value's steps with the weights softmax(q·kᵀ) over the key steps,
///
/// output = softmax(scores(query, key)) · value,
///
/// with `key = value` when only `[query, value]` are given.
///
/// Masks as Keras': the value's mask keeps its padded steps out of the softmax (10⁹ is
/// subtracted from their scores; a key's own mask is not read, as in Keras); the output is zero
/// at the query's padded steps, and its mask is the query's. [`Attention::use_causal_mask`] also keeps each query step from attending to
/// later key steps. With [`Attention::return_attention_scores`] the layer has a second output,
/// the attention weights (after dropout, as Keras returns them), whose mask is none.
///
/// Keras passes `use_causal_mask` and `return_attention_scores` when the layer is called; here
/// they are options of the layer. `dropout` drops attention weights while training, from the
/// layer's own seeded generator (the numbers differ from Keras' generator).
///
/// # Shapes
/// Inputs `[query (batch, Tq, dim), value (batch, Tv, value_dim)]` or with a third
/// `key (batch, Tv, dim)`; masks `(batch, Tq)` and `(batch, Tv)`. Outputs
/// `(batch, Tq, value_dim)` and, with scores, `(batch, Tq, Tv)`.
///
/// # Errors
/// The single-input calls (`build`, `forward`, `backward`), as in a `Sequential` model, return
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument): the layer takes a list of inputs.
/// `build_multi` refuses other than 2 or 3 inputs, a key whose steps or features do not fit,
/// and a `dropout` outside `[0, 1)`.
///
/// # Examples
/// ```
/// use ndarray::{array, ArrayD};
/// use rand::{rngs::StdRng, SeedableRng};
/// use rnnkit::layers::{Attention, Layer};
/// # fn main() -> rnnkit::Result<()> {
/// let mut layer = Attention::new().return_attention_scores(true);
/// layer.build_multi(&[vec![1, 2], vec![3, 2]], &mut StdRng::seed_from_u64(0))?;
/// let query: ArrayD<f32> = array![[[1.0, 0.0]]].into_dyn();
/// let value: ArrayD<f32> = array![[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]].into_dyn();
/// let out = layer.forward_multi(&[query.view(), value.view()], &[None, None], false)?;
/// assert_eq!(out[0].shape(), [1, 1, 2]);
/// assert_eq!(out[1].shape(), [1, 1, 3]);
/// // The first value step scores e¹, the others e⁰.
/// let e = std::f32::consts::E;
/// assert!((out[1][[0, 0, 0]] - e / (e + 2.0)).abs() < 1e-6);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Attention {
    inner: Scored,
}

impl Default for Attention {
    fn default() -> Self {
        Attention::new()
    }
}

impl Attention {
    /// Dot-product attention with Keras' defaults: no scale, `score_mode` dot, no dropout, no
    /// causal mask, one output.
    pub fn new() -> Self {
        Attention { inner: Scored::new(Kind::Dot, false) }
    }

    /// Whether the scores are multiplied by a trainable scalar `scale` (initially 1).
    /// Default: `false`.
    pub fn use_scale(mut self, use_scale: bool) -> Self {
        self.inner.use_scale = use_scale;
        self
    }

    /// How scores are computed (Keras' `score_mode`); `Concat` adds the trainable scalar
    /// `concat_score_weight` (initially 1). Default: [`ScoreMode::Dot`].
    pub fn score_mode(mut self, score_mode: ScoreMode) -> Self {
        self.inner.kind = match score_mode {
            ScoreMode::Dot => Kind::Dot,
            ScoreMode::Concat => Kind::Concat,
        };
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

    /// Whether query step `i` may attend only to key steps `j ≤ i` (decoder self-attention).
    /// Default: `false`.
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

scored_layer!(Attention, "Attention");
