//! `MultiHeadAttention`: scaled dot-product attention over several learned projections.

use super::heads::{attend, attend_grad, Attended};
use super::projection::{
    heads_of, project, project_grad, projection, projection_mut, rows_of, Layout, Projection,
};
use super::softmax::{Padding, ScoreMask};
use crate::layers::layer::{expect_generators, ForwardCache};
use crate::layers::multi_input::{check_grads, check_inputs, takes_a_list};
use crate::layers::{not_built, Generator, GeneratorState, Layer, LayerBase, Mask, Param};
use crate::saving::{f32_value, Config};
use crate::shape::{array_shape, keras_shape, NONE};
use crate::{Error, Result};
use ndarray::{Array2, Array4, ArrayD, ArrayViewD, Ix4, Zip};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Multi-head attention, as Keras 3's `MultiHeadAttention` ("Attention is all you need"):
/// query, key and value are projected into `num_heads` heads (`key_dim` values per head for
/// query and key, `value_dim` for value); each head attends with
///
/// softmax(Q_h·K_hᵀ / √key_dim) · V_h,
///
/// and the heads' results are projected back to the query's features (or to `output_shape`).
/// The weights are Keras', in Keras' shapes and order (`query/kernel (features, heads,
/// key_dim)`, `query/bias (heads, key_dim)`, then `key/…`, `value/…`, and
/// `attention_output/kernel (heads, value_dim, output)`, `attention_output/bias (output)`), so
/// `get_weights`/`set_weights` exchange them with Keras unchanged.
///
/// Masks as Keras': the query's and the value's (and the key's, when given) masks form the
/// attention mask (query step i may attend to key step j when both are real), with
/// [`MultiHeadAttention::use_causal_mask`] adding j ≤ i; the output's mask is the query's.
/// Where a query step may attend to nothing, Keras 3 (TensorFlow) differs by path and so does
/// this layer: with no dropout and no scores returned the step attends uniformly to every key
/// step, otherwise its attention weights are zero.
///
/// Keras passes `use_causal_mask` and `return_attention_scores` when the layer is called; here
/// they are options of the layer. With scores, the second output is the attention weights
/// `(batch, heads, Tq, Tv)` before dropout, as Keras returns them. `dropout` drops attention
/// weights while training, from the layer's own seeded generator.
///
/// # Shapes
/// Inputs `[query (batch, Tq, query_dim), value (batch, Tv, value_features)]`, or with a third
/// `key (batch, Tv, key_features)`; masks `(batch, Tq)`, `(batch, Tv)`. Outputs
/// `(batch, Tq, output_shape or query_dim)` and, with scores, `(batch, heads, Tq, Tv)`.
///
/// # Errors
/// The single-input calls return [`Error::InvalidArgument`]: the layer takes a list of inputs.
/// `build_multi` refuses other than 2 or 3 inputs, inputs not of rank 3 (batch included) or of
/// unknown feature size, a key whose steps differ from the value's, and `num_heads`, `key_dim`,
/// `value_dim` or `output_shape` of 0 or `dropout` outside `[0, 1)`.
///
/// # Examples
/// Self-attention over a sequence of 10 steps of 16 features, with 2 heads of 8:
/// ```
/// use ndarray::ArrayD;
/// use rand::{rngs::StdRng, SeedableRng};
/// use rnnkit::layers::{Layer, LayerExt, MultiHeadAttention};
/// # fn main() -> rnnkit::Result<()> {
/// let mut layer = MultiHeadAttention::new(2, 8).use_causal_mask(true);
/// layer.build_multi(&[vec![10, 16], vec![10, 16]], &mut StdRng::seed_from_u64(0))?;
/// // 3 projections of 16·2·8 + 2·8, and the output 2·8·16 + 16.
/// assert_eq!(layer.count_params(), 3 * (256 + 16) + 256 + 16);
/// let x = ArrayD::<f32>::ones(ndarray::IxDyn(&[4, 10, 16]));
/// let out = layer.forward_multi(&[x.view(), x.view()], &[None, None], false)?;
/// assert_eq!(out[0].shape(), [4, 10, 16]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MultiHeadAttention {
    base: LayerBase,
    num_heads: usize,
    key_dim: usize,
    value_dim: Option<usize>,
    dropout: f32,
    use_bias: bool,
    output_shape: Option<usize>,
    seed: Option<u64>,
    use_causal_mask: bool,
    return_attention_scores: bool,
    rng: Option<Generator>,
    /// query, key, value and attention_output: kernel, then bias when `use_bias`.
    weights: Vec<Param>,
    input_shapes: Vec<Vec<usize>>,
    cache: Option<Cache>,
}

/// What a training-mode forward keeps for the backward.
#[derive(Clone, Debug)]
struct Cache {
    /// The query, value and (when given) key inputs as `(batch·steps, features)`.
    inputs: Vec<Array2<f32>>,
    /// The projected query, key and value, `(batch, steps, heads, head_dim)`.
    query: Array4<f32>,
    key: Array4<f32>,
    value: Array4<f32>,
    attended: Attended,
    mask: ScoreMask,
    padding: Padding,
    output_shape: Vec<usize>,
}

impl MultiHeadAttention {
    /// Multi-head attention with `num_heads` heads of `key_dim` values for query and key, and
    /// Keras' defaults: `value_dim = key_dim`, no dropout, biases, output projected to the
    /// query's features, glorot_uniform kernels and zero biases.
    pub fn new(num_heads: usize, key_dim: usize) -> Self {
        MultiHeadAttention {
            base: LayerBase::new(),
            num_heads,
            key_dim,
            value_dim: None,
            dropout: 0.0,
            use_bias: true,
            output_shape: None,
            seed: None,
            use_causal_mask: false,
            return_attention_scores: false,
            rng: None,
            weights: Vec::new(),
            input_shapes: Vec::new(),
            cache: None,
        }
    }

    /// The values per head of the value projection. Default: `key_dim`.
    pub fn value_dim(mut self, value_dim: usize) -> Self {
        self.value_dim = Some(value_dim);
        self
    }

    /// The fraction of attention weights dropped while training, in `[0, 1)`. Default: 0.
    pub fn dropout(mut self, rate: f32) -> Self {
        self.dropout = rate;
        self
    }

    /// Whether the four projections add biases. Default: `true`.
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }

    /// The output's features (Keras' `output_shape` of one axis). Default: the query's.
    pub fn output_shape(mut self, features: usize) -> Self {
        self.output_shape = Some(features);
        self
    }

    /// Seeds the generator of the dropout (Keras' `seed`). Default: drawn from the model's
    /// generator when the layer is built.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Whether query step `i` may attend only to key steps `j ≤ i` (a decoder's
    /// self-attention). Default: `false`.
    pub fn use_causal_mask(mut self, use_causal_mask: bool) -> Self {
        self.use_causal_mask = use_causal_mask;
        self
    }

    /// Whether the layer has a second output, the attention weights `(batch, heads, Tq, Tv)`.
    /// Default: `false`.
    pub fn return_attention_scores(mut self, return_attention_scores: bool) -> Self {
        self.return_attention_scores = return_attention_scores;
        self
    }

    fn head_value_dim(&self) -> usize {
        self.value_dim.unwrap_or(self.key_dim)
    }

    /// The sizes of the weights, from the built inputs' features and the options.
    fn layout(&self) -> Layout {
        let query = self.input_shapes.first().map_or(0, |s| s[1]);
        let value = self.input_shapes.get(1).map_or(0, |s| s[1]);
        Layout {
            heads: self.num_heads,
            key_dim: self.key_dim,
            value_dim: self.head_value_dim(),
            query,
            key: self.input_shapes.get(2).map_or(value, |s| s[1]),
            value,
            output: self.output_shape.unwrap_or(query),
            use_bias: self.use_bias,
        }
    }

    fn single_input(&self) -> Error {
        takes_a_list(&self.base.name, "MultiHeadAttention", "[query, value] or [query, value, key]")
    }

    /// How Keras' masked softmax treats a query step that may attend to nothing (see the
    /// type's documentation).
    fn padding(&self) -> Padding {
        if self.dropout > 0.0 || self.return_attention_scores {
            Padding::Zero
        } else {
            Padding::Uniform
        }
    }

    fn invalid_shapes(&self, shapes: &[Vec<usize>]) -> Error {
        let found: Vec<String> = shapes.iter().map(|s| keras_shape(s)).collect();
        Error::ShapeMismatch {
            layer: self.base.name.clone(),
            expected: "[query (None, Tq, query_dim), value (None, Tv, value_features), key (None, \
                       Tv, key_features)] with known features"
                .into(),
            found: found.join(", "),
        }
    }

    fn check_options(&self) -> Result<()> {
        for (name, value) in [
            ("num_heads", Some(self.num_heads)),
            ("key_dim", Some(self.key_dim)),
            ("value_dim", self.value_dim),
            ("output_shape", self.output_shape),
        ] {
            if value == Some(0) {
                return Err(Error::invalid(name, "a positive integer", 0));
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::invalid("dropout", "a number in [0, 1)", self.dropout));
        }
        Ok(())
    }
}

/// The logical and of two optional masks of the same shape.
fn and_masks(a: Option<&Mask>, b: Option<&Mask>) -> Option<Mask> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Zip::from(a).and(b).map_collect(|&a, &b| a && b)),
        (a, b) => a.or(b).cloned(),
    }
}

impl Layer for MultiHeadAttention {
    fn class_name(&self) -> &'static str {
        "MultiHeadAttention"
    }

    fn get_config(&self) -> Option<Config> {
        Some(Config::from_iter([
            ("num_heads".to_string(), self.num_heads.into()),
            ("key_dim".to_string(), self.key_dim.into()),
            ("value_dim".to_string(), self.head_value_dim().into()),
            ("dropout".to_string(), f32_value(self.dropout)),
            ("use_bias".to_string(), self.use_bias.into()),
            ("output_shape".to_string(), self.output_shape.map(|n| vec![n]).into()),
            ("seed".to_string(), self.seed.into()),
            ("use_causal_mask".to_string(), self.use_causal_mask.into()),
            ("return_attention_scores".to_string(), self.return_attention_scores.into()),
        ]))
    }

    fn base(&self) -> &LayerBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut LayerBase {
        &mut self.base
    }

    fn build(&mut self, _input_shape: &[usize], _rng: &mut StdRng) -> Result<Vec<usize>> {
        Err(self.single_input())
    }

    fn forward(
        &mut self,
        _input: ArrayViewD<'_, f32>,
        _mask: Option<&Mask>,
        _training: bool,
    ) -> Result<ArrayD<f32>> {
        Err(self.single_input())
    }

    fn backward(
        &mut self,
        _grad_output: ArrayViewD<'_, f32>,
        _input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        Err(self.single_input())
    }

    fn build_multi(&mut self, shapes: &[Vec<usize>], rng: &mut StdRng) -> Result<Vec<Vec<usize>>> {
        self.check_options()?;
        if !(2..=3).contains(&shapes.len()) {
            return Err(Error::invalid(
                format!("inputs of layer '{}'", self.base.name),
                "a list of 2 or 3 inputs, [query, value] or [query, value, key]",
                shapes.len(),
            ));
        }
        let known = |s: &Vec<usize>| s.len() == 2 && s[1] != NONE && s[1] > 0;
        let key_steps = shapes.get(2).map_or(shapes[1][0], |s| s[0]);
        if !shapes.iter().all(known) || key_steps != shapes[1][0] {
            return Err(self.invalid_shapes(shapes));
        }
        self.input_shapes = shapes.to_vec();
        let layout = self.layout();
        layout.check_sizes(&self.base.name)?;
        self.weights = layout.init(rng);
        let drawn = rng.gen::<u64>();
        self.rng = Some(Generator::seed_from_u64(self.seed.unwrap_or(drawn)));
        let query = &shapes[0];
        let output = vec![query[0], self.output_shape.unwrap_or(query[1])];
        let mut outputs = vec![self.base.built(query, output)];
        if self.return_attention_scores {
            outputs.push(vec![self.num_heads, query[0], shapes[1][0]]);
        }
        Ok(outputs)
    }

    fn forward_multi(
        &mut self,
        inputs: &[ArrayViewD<'_, f32>],
        masks: &[Option<&Mask>],
        training: bool,
    ) -> Result<Vec<ArrayD<f32>>> {
        self.base.built_input().map_err(|_| not_built(&self.base.name))?;
        check_inputs(&self.base.name, &self.input_shapes, inputs, masks)?;
        self.layout().check(&self.base.name, &self.weights)?;
        let (batch, tq, tv) = (inputs[0].shape()[0], inputs[0].shape()[1], inputs[1].shape()[1]);
        if inputs.get(2).is_some_and(|key| key.shape()[1] != tv) {
            let shapes: Vec<Vec<usize>> = inputs.iter().map(|x| x.shape()[1..].to_vec()).collect();
            return Err(self.invalid_shapes(&shapes));
        }
        let (heads, key_dim, value_dim) = (self.num_heads, self.key_dim, self.head_value_dim());
        let rows: Vec<Array2<f32>> = inputs.iter().map(rows_of).collect::<Result<_>>()?;
        let key_rows = rows.get(2).unwrap_or(&rows[1]);
        let (kernel, bias) = projection(&self.weights, self.use_bias, Projection::Query);
        let query = heads_of(
            project(&self.base.name, rows[0].view(), kernel, bias, heads * key_dim)?,
            batch,
            heads,
        )?;
        let (kernel, bias) = projection(&self.weights, self.use_bias, Projection::Key);
        let key = heads_of(
            project(&self.base.name, key_rows.view(), kernel, bias, heads * key_dim)?,
            batch,
            heads,
        )?;
        let (kernel, bias) = projection(&self.weights, self.use_bias, Projection::Value);
        let value = heads_of(
            project(&self.base.name, rows[1].view(), kernel, bias, heads * value_dim)?,
            batch,
            heads,
        )?;

        let mask = ScoreMask {
            query: masks[0].cloned(),
            key: and_masks(masks[1], masks.get(2).copied().flatten()),
            causal: self.use_causal_mask,
        };
        let padding = self.padding();
        let dropout = match &mut self.rng {
            Some(rng) if training && self.dropout > 0.0 => Some((self.dropout, rng)),
            _ => None,
        };
        let attended = attend(query.view(), key.view(), value.view(), &mask, padding, dropout);
        let context = attended
            .context
            .view()
            .into_shape_with_order((batch * tq, heads * value_dim))
            .map_err(|_| not_built(&self.base.name))?;
        let (kernel, bias) = projection(&self.weights, self.use_bias, Projection::Output);
        let features = self.output_shape.unwrap_or(inputs[0].shape()[2]);
        let output = project(&self.base.name, context.view(), kernel, bias, features)?
            .into_shape_with_order((batch, tq, features))
            .map_err(|_| not_built(&self.base.name))?
            .into_dyn();
        let scores = self.return_attention_scores.then(|| attended.weights.clone().into_dyn());
        self.cache = training.then(|| Cache {
            inputs: rows,
            query,
            key,
            value,
            attended,
            mask,
            padding,
            output_shape: output.shape().to_vec(),
        });
        Ok(std::iter::once(output).chain(scores).collect())
    }

    fn backward_multi(
        &mut self,
        grads: &[ArrayViewD<'_, f32>],
        input_grads: bool,
    ) -> Result<Vec<Option<ArrayD<f32>>>> {
        let cache =
            self.cache.take().ok_or_else(|| Error::NoForwardCache(self.base.name.clone()))?;
        let result = self.backward_with(&cache, grads, input_grads);
        self.cache = Some(cache);
        result
    }

    fn compute_mask_multi(
        &self,
        inputs: &[ArrayViewD<'_, f32>],
        masks: &[Option<&Mask>],
    ) -> Result<Vec<Option<Mask>>> {
        check_inputs(&self.base.name, &self.input_shapes, inputs, masks)?;
        let mut result = vec![masks[0].cloned()];
        if self.return_attention_scores {
            result.push(None);
        }
        Ok(result)
    }

    fn take_forward_cache(&mut self) -> Option<ForwardCache> {
        self.cache.take().map(|cache| Box::new(cache) as ForwardCache)
    }

    fn put_forward_cache(&mut self, cache: ForwardCache) -> Result<()> {
        let cache =
            cache.downcast::<Cache>().map_err(|_| Error::NoForwardCache(self.base.name.clone()))?;
        self.cache = Some(*cache);
        Ok(())
    }

    fn params(&self) -> Vec<&Param> {
        self.weights.iter().collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.weights.iter_mut().collect()
    }

    fn generator_states(&self) -> Vec<GeneratorState> {
        self.rng.iter().map(GeneratorState::of).collect()
    }

    fn set_generator_states(&mut self, states: Vec<GeneratorState>) -> Result<()> {
        expect_generators(&self.base.name, usize::from(self.rng.is_some()), &states)?;
        self.rng = states.first().map(GeneratorState::generator);
        Ok(())
    }
}

impl MultiHeadAttention {
    /// The backward of the forward that kept `cache`.
    fn backward_with(
        &mut self,
        cache: &Cache,
        grads: &[ArrayViewD<'_, f32>],
        input_grads: bool,
    ) -> Result<Vec<Option<ArrayD<f32>>>> {
        let scores_shape = cache.attended.weights.shape().to_vec();
        let mut shapes: Vec<&[usize]> = vec![&cache.output_shape];
        if self.return_attention_scores {
            shapes.push(&scores_shape);
        }
        check_grads(&self.base.name, grads, &shapes)?;
        let (batch, heads, tq, tv) = cache.attended.weights.dim();
        let name = self.base.name.clone();
        let d_output = grads[0]
            .to_shape((batch * tq, cache.output_shape[2]))
            .map_err(|_| not_built(&self.base.name))?;
        let context = cache.attended.context.view();
        let context = context
            .to_shape((batch * tq, heads * self.head_value_dim()))
            .map_err(|_| not_built(&self.base.name))?;
        let (kernel, bias) = projection_mut(&mut self.weights, self.use_bias, Projection::Output);
        let d_context = project_grad(&name, context.view(), d_output.view(), kernel, bias, true)?
            .unwrap_or_default();
        let d_context = heads_of(d_context, batch, heads)?;
        let d_scores = match grads.get(1) {
            Some(g) => {
                Some(g.view().into_dimensionality::<Ix4>().map_err(|_| Error::ShapeMismatch {
                    layer: format!("{} (backward, output 1)", self.base.name),
                    expected: array_shape(&scores_shape),
                    found: array_shape(g.shape()),
                })?)
            }
            None => None,
        };
        let (d_query, d_key, d_value) = attend_grad(
            cache.query.view(),
            cache.key.view(),
            cache.value.view(),
            &cache.attended,
            d_context.view(),
            d_scores,
            &cache.mask,
            cache.padding,
            self.dropout,
        );
        let flat = |a: Array4<f32>, rows: usize| -> Result<Array2<f32>> {
            let width = a.len() / rows.max(1);
            a.into_shape_with_order((rows, width)).map_err(|_| not_built(&self.base.name))
        };
        let (d_query, d_key, d_value) =
            (flat(d_query, batch * tq)?, flat(d_key, batch * tv)?, flat(d_value, batch * tv)?);
        let key_rows = cache.inputs.get(2).unwrap_or(&cache.inputs[1]);
        let grad_of = |this: &mut Self, which, x: &Array2<f32>, g: &Array2<f32>| {
            let (kernel, bias) = projection_mut(&mut this.weights, this.use_bias, which);
            project_grad(&name, x.view(), g.view(), kernel, bias, input_grads)
        };
        let dx_query = grad_of(self, Projection::Query, &cache.inputs[0], &d_query)?;
        let dx_key = grad_of(self, Projection::Key, key_rows, &d_key)?;
        let dx_value = grad_of(self, Projection::Value, &cache.inputs[1], &d_value)?;
        if !input_grads {
            return Ok(vec![None; cache.inputs.len()]);
        }
        let shaped = |g: Option<Array2<f32>>, steps: usize| -> Result<Option<ArrayD<f32>>> {
            g.map(|g| {
                let features = g.ncols();
                g.into_shape_with_order((batch, steps, features))
                    .map(|g| g.into_dyn())
                    .map_err(|_| not_built(&self.base.name))
            })
            .transpose()
        };
        let mut result = vec![shaped(dx_query, tq)?];
        if cache.inputs.len() == 3 {
            result.push(shaped(dx_value, tv)?);
            result.push(shaped(dx_key, tv)?);
        } else {
            let summed = match (dx_value, dx_key) {
                (Some(v), Some(k)) => Some(v + k),
                (v, _) => v,
            };
            result.push(shaped(summed, tv)?);
        }
        Ok(result)
    }
}
