//! What `Attention` and `AdditiveAttention` share (Keras' `AdditiveAttention` subclasses
//! `Attention`): their inputs, masks, softmax, dropout, value product and gradients; they
//! differ only in how a query scores against a key ([`Kind`]).

use super::scores::{scores, scores_grad, Kind, ScoreCache, ScoreWeights};
use super::softmax::{masked_softmax, masked_softmax_grad, Padding, ScoreMask};
use super::{batched_matmul, drop_grad, dropped_weights};
use crate::layers::layer::{expect_generators, ForwardCache};
use crate::layers::multi_input::{check_grads, check_inputs};
use crate::layers::{Generator, GeneratorState, LayerBase, Mask, Param};
use crate::saving::{f32_value, Config};
use crate::shape::keras_shape;
use crate::{Error, Result};
use ndarray::{Array3, Array4, ArrayD, ArrayView3, ArrayViewD, Axis, Ix3};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The state and options of an `Attention` or `AdditiveAttention` layer.
#[derive(Clone, Debug)]
pub(crate) struct Scored {
    pub(crate) base: LayerBase,
    pub(crate) kind: Kind,
    pub(crate) use_scale: bool,
    pub(crate) dropout: f32,
    pub(crate) seed: Option<u64>,
    pub(crate) use_causal_mask: bool,
    pub(crate) return_attention_scores: bool,
    rng: Option<Generator>,
    /// `scale` (when `use_scale`), then `concat_score_weight` (`Concat`), Keras' order.
    pub(crate) weights: Vec<Param>,
    input_shapes: Vec<Vec<usize>>,
    cache: Option<Cache>,
}

/// What a training-mode forward keeps for the backward.
#[derive(Clone, Debug)]
struct Cache {
    query: Array3<f32>,
    value: Array3<f32>,
    /// The key, when it is not the value.
    key: Option<Array3<f32>>,
    scores: ScoreCache,
    /// The softmax weights `(batch, 1, Tq, Tv)`, before dropout.
    weights: Array4<f32>,
    /// The weights after dropout and which were kept, when dropout ran.
    dropped: Option<(Array4<f32>, Array4<bool>)>,
    mask: ScoreMask,
    query_mask: Option<Mask>,
    output_shape: Vec<usize>,
}

impl Scored {
    pub(crate) fn new(kind: Kind, use_scale: bool) -> Self {
        Scored {
            base: LayerBase::new(),
            kind,
            use_scale,
            dropout: 0.0,
            seed: None,
            use_causal_mask: false,
            return_attention_scores: false,
            rng: None,
            weights: Vec::new(),
            input_shapes: Vec::new(),
            cache: None,
        }
    }

    fn score_weights(&self) -> ScoreWeights<'_> {
        let mut weights = self.weights.iter();
        let scale = self.use_scale.then(|| weights.next()).flatten();
        let concat = (self.kind == Kind::Concat).then(|| weights.next()).flatten();
        ScoreWeights {
            scale: scale.and_then(|p| p.value.as_slice()),
            concat: concat.and_then(|p| p.value.iter().next().copied()),
        }
    }

    fn shape_error(&self, expected: &str, shapes: &[Vec<usize>]) -> Error {
        let found: Vec<String> = shapes.iter().map(|s| keras_shape(s)).collect();
        Error::ShapeMismatch {
            layer: self.base.name.clone(),
            expected: expected.into(),
            found: found.join(", "),
        }
    }

    pub(crate) fn build_multi(
        &mut self,
        shapes: &[Vec<usize>],
        rng: &mut StdRng,
    ) -> Result<Vec<Vec<usize>>> {
        if !(2..=3).contains(&shapes.len()) {
            return Err(Error::invalid(
                format!("inputs of layer '{}'", self.base.name),
                "a list of 2 or 3 inputs, [query, value] or [query, value, key]",
                shapes.len(),
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::invalid("dropout", "a number in [0, 1)", self.dropout));
        }
        let expected = "[query (None, Tq, dim), value (None, Tv, value_dim), key (None, Tv, dim)]";
        if shapes.iter().any(|s| s.len() != 2) {
            return Err(self.shape_error(expected, shapes));
        }
        let (query, value) = (&shapes[0], &shapes[1]);
        let key = shapes.get(2).unwrap_or(value);
        let same =
            |a: usize, b: usize| a == b || a == crate::shape::NONE || b == crate::shape::NONE;
        let dim = query[1];
        if !same(key[0], value[0]) || key[1] != dim || dim == crate::shape::NONE || dim == 0 {
            return Err(self.shape_error(expected, shapes));
        }
        self.weights.clear();
        if self.use_scale {
            let scale = match self.kind {
                Kind::Additive => {
                    // glorot_uniform of a vector: fan_in = fan_out = dim.
                    let limit = (3.0 / dim as f64).sqrt() as f32;
                    ArrayD::from_shape_simple_fn(ndarray::IxDyn(&[dim]), || {
                        rng.gen_range(-limit..limit)
                    })
                }
                Kind::Dot | Kind::Concat => ArrayD::ones(ndarray::IxDyn(&[])),
            };
            self.weights.push(Param::new("scale", scale));
        }
        if self.kind == Kind::Concat {
            self.weights.push(Param::new("concat_score_weight", ArrayD::ones(ndarray::IxDyn(&[]))));
        }
        let drawn = rng.gen::<u64>();
        self.rng = Some(Generator::seed_from_u64(self.seed.unwrap_or(drawn)));
        self.input_shapes = shapes.to_vec();
        let output = vec![query[0], value[1]];
        let mut outputs = vec![self.base.built(query, output)];
        if self.return_attention_scores {
            outputs.push(vec![query[0], value[0]]);
        }
        Ok(outputs)
    }

    pub(crate) fn forward_multi(
        &mut self,
        inputs: &[ArrayViewD<'_, f32>],
        masks: &[Option<&Mask>],
        training: bool,
    ) -> Result<Vec<ArrayD<f32>>> {
        self.base.built_input()?;
        check_inputs(&self.base.name, &self.input_shapes, inputs, masks)?;
        let views: Vec<ArrayView3<'_, f32>> = inputs
            .iter()
            .map(|x| x.view().into_dimensionality::<Ix3>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| crate::layers::not_built(&self.base.name))?;
        let (query, value) = (views[0], views[1]);
        let key = views.get(2).copied().unwrap_or(value);
        if key.dim().1 != value.dim().1 {
            let shapes: Vec<Vec<usize>> = inputs.iter().map(|x| x.shape()[1..].to_vec()).collect();
            return Err(self.shape_error("a key with as many steps as the value", &shapes));
        }
        let (mut weights, score_cache) =
            scores(self.kind, self.score_weights(), query, key, training);
        let mask = ScoreMask { query: None, key: masks[1].cloned(), causal: self.use_causal_mask };
        masked_softmax(weights.view_mut(), &mask, Padding::Subtract);
        let dropout = match &mut self.rng {
            Some(rng) if training && self.dropout > 0.0 => Some((self.dropout, rng)),
            _ => None,
        };
        let dropped = dropped_weights(&weights, dropout);
        let applied = dropped.as_ref().map_or(&weights, |(kept, _)| kept);
        let (batch, tq, _) = query.dim();
        let mut output = Array4::<f32>::zeros((batch, 1, tq, value.dim().2));
        batched_matmul(1.0, applied.view(), value.insert_axis(Axis(1)), 0.0, output.view_mut());
        let mut output = output.remove_axis(Axis(1));
        if let Some(query_mask) = masks[0] {
            zero_masked_rows(&mut output, query_mask);
        }
        let scores_out =
            self.return_attention_scores.then(|| applied.clone().remove_axis(Axis(1)).into_dyn());
        self.cache = training.then(|| Cache {
            query: query.to_owned(),
            value: value.to_owned(),
            key: views.get(2).map(|k| k.to_owned()),
            scores: score_cache,
            weights,
            dropped,
            mask,
            query_mask: masks[0].cloned(),
            output_shape: output.shape().to_vec(),
        });
        Ok(std::iter::once(output.into_dyn()).chain(scores_out).collect())
    }

    pub(crate) fn backward_multi(
        &mut self,
        grads: &[ArrayViewD<'_, f32>],
        input_grads: bool,
    ) -> Result<Vec<Option<ArrayD<f32>>>> {
        let cache =
            self.cache.as_ref().ok_or_else(|| Error::NoForwardCache(self.base.name.clone()))?;
        let scores_shape: Vec<usize> = cache
            .weights
            .shape()
            .iter()
            .enumerate()
            .filter(|&(a, _)| a != 1)
            .map(|(_, &d)| d)
            .collect();
        let mut shapes: Vec<&[usize]> = vec![&cache.output_shape];
        if self.return_attention_scores {
            shapes.push(&scores_shape);
        }
        check_grads(&self.base.name, grads, &shapes)?;
        let mut d_output = grads[0]
            .to_owned()
            .into_dimensionality::<Ix3>()
            .map_err(|_| Error::NoForwardCache(self.base.name.clone()))?;
        if let Some(query_mask) = &cache.query_mask {
            zero_masked_rows(&mut d_output, query_mask);
        }
        let d_output = d_output.insert_axis(Axis(1));
        let applied = cache.dropped.as_ref().map_or(&cache.weights, |(kept, _)| kept);
        // dV = Pᵀ·dO and dP = dO·Vᵀ (+ the gradient of the returned scores).
        let mut d_value = Array3::<f32>::zeros(cache.value.raw_dim());
        batched_matmul(
            1.0,
            applied.view().permuted_axes([0, 1, 3, 2]),
            d_output.view(),
            0.0,
            d_value.view_mut().insert_axis(Axis(1)),
        );
        let mut d_weights = Array4::<f32>::zeros(cache.weights.raw_dim());
        if let Some(d_scores) = grads.get(1) {
            d_weights.assign(&d_scores.view().insert_axis(Axis(1)));
        }
        let value_t = cache.value.view().insert_axis(Axis(1)).permuted_axes([0, 1, 3, 2]);
        batched_matmul(1.0, d_output.view(), value_t, 1.0, d_weights.view_mut());
        if let Some((_, keep)) = &cache.dropped {
            drop_grad(&mut d_weights, keep, self.dropout);
        }
        masked_softmax_grad(
            cache.weights.view(),
            d_weights.view_mut(),
            &cache.mask,
            Padding::Subtract,
        );
        let key = cache.key.as_ref().unwrap_or(&cache.value);
        let (d_query, d_key, d_scale, d_concat) = scores_grad(
            self.kind,
            self.score_weights(),
            cache.query.view(),
            key.view(),
            &cache.scores,
            d_weights.view(),
        );
        let mut params = self.weights.iter_mut();
        if self.use_scale {
            if let Some(scale) = params.next() {
                scale.grad.iter_mut().zip(&d_scale).for_each(|(g, d)| *g += d);
            }
        }
        if self.kind == Kind::Concat {
            if let Some(concat) = params.next() {
                concat.grad.iter_mut().for_each(|g| *g += d_concat);
            }
        }
        if !input_grads {
            return Ok(vec![None; 2 + usize::from(cache.key.is_some())]);
        }
        let mut result = vec![Some(d_query.into_dyn())];
        if cache.key.is_some() {
            result.push(Some(d_value.into_dyn()));
            result.push(Some(d_key.into_dyn()));
        } else {
            result.push(Some((d_value + d_key).into_dyn()));
        }
        Ok(result)
    }

    pub(crate) fn compute_mask_multi(
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

    /// Keras' `get_config` arguments, with the call options rnnkit keeps on the layer.
    pub(crate) fn config(&self) -> Config {
        let mut config = Config::new();
        config.insert("use_scale".into(), self.use_scale.into());
        match self.kind {
            Kind::Dot => config.insert("score_mode".into(), "dot".into()),
            Kind::Concat => config.insert("score_mode".into(), "concat".into()),
            Kind::Additive => None,
        };
        config.insert("dropout".into(), f32_value(self.dropout));
        config.insert("seed".into(), self.seed.into());
        config.insert("use_causal_mask".into(), self.use_causal_mask.into());
        config.insert("return_attention_scores".into(), self.return_attention_scores.into());
        config
    }

    pub(crate) fn take_forward_cache(&mut self) -> Option<ForwardCache> {
        self.cache.take().map(|cache| Box::new(cache) as ForwardCache)
    }

    pub(crate) fn put_forward_cache(&mut self, cache: ForwardCache) -> Result<()> {
        let cache =
            cache.downcast::<Cache>().map_err(|_| Error::NoForwardCache(self.base.name.clone()))?;
        self.cache = Some(*cache);
        Ok(())
    }

    pub(crate) fn generator_states(&self) -> Vec<GeneratorState> {
        self.rng.iter().map(GeneratorState::of).collect()
    }

    pub(crate) fn set_generator_states(&mut self, states: Vec<GeneratorState>) -> Result<()> {
        expect_generators(&self.base.name, usize::from(self.rng.is_some()), &states)?;
        self.rng = states.first().map(GeneratorState::generator);
        Ok(())
    }
}

/// Sets to zero the rows `(batch, step, :)` of `array` whose step `mask` marks as padding.
pub(crate) fn zero_masked_rows(array: &mut Array3<f32>, mask: &Mask) {
    for ((b, t), &real) in mask.indexed_iter() {
        if !real {
            array.slice_mut(ndarray::s![b, t, ..]).fill(0.0);
        }
    }
}
