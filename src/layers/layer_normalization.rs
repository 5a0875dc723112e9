//! `LayerNormalization`: normalizes each sample's features to zero mean and unit variance.

use super::{not_built, Layer, LayerBase, Mask, Param};
use crate::initializers;
use crate::saving::{f32_value, Config};
use crate::shape::{array_shape, expect_batch_of, keras_shape, NONE};
use crate::{Error, Result};
use ndarray::{Array1, Array2, ArrayD, ArrayViewD, Axis, IxDyn, Zip};
use rand::rngs::StdRng;

/// y = (x − mean) / √(var + ε) · γ + β over the last axis of each position, as Keras'
/// `LayerNormalization(axis=-1)`, with the mean and the (population) variance taken over the
/// features of that position alone, and `γ = gamma (features)`, `β = beta (features)`.
///
/// Masks pass through unchanged: every position is normalized on its own.
///
/// # Shapes
/// Input and output `(batch, ..., features)`.
///
/// # Examples
/// ```
/// use ndarray::array;
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(LayerNormalization::new());
/// model.build(&[4])?;
/// assert_eq!(model.summary()?.total_params(), 8);
/// let y = model.predict(&array![[1.0f32, 2.0, 3.0, 4.0]])?;
/// assert!(y.sum().abs() < 1e-5);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct LayerNormalization {
    base: LayerBase,
    epsilon: f32,
    center: bool,
    scale: bool,
    /// `gamma` (when `scale`), then `beta` (when `center`), Keras' order.
    weights: Vec<Param>,
    cache: Option<NormCache>,
}

/// What `forward` keeps for `backward`, with positions as rows.
#[derive(Clone, Debug)]
struct NormCache {
    normalized: Array2<f32>,
    /// 1 / √(var + ε) per row.
    inverse_std: Array1<f32>,
    shape: Vec<usize>,
}

impl Default for LayerNormalization {
    fn default() -> Self {
        LayerNormalization::new()
    }
}

impl LayerNormalization {
    /// A layer normalization with Keras' defaults: `epsilon` 0.001, `center` and `scale` on,
    /// gamma ones and beta zeros.
    pub fn new() -> Self {
        LayerNormalization {
            base: LayerBase::new(),
            epsilon: 1e-3,
            center: true,
            scale: true,
            weights: Vec::new(),
            cache: None,
        }
    }

    /// The small value ε added to the variance. Default: 0.001.
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Whether the layer adds the offset β. Default: `true`.
    pub fn center(mut self, center: bool) -> Self {
        self.center = center;
        self
    }

    /// Whether the layer multiplies by the scale γ. Default: `true`.
    pub fn scale(mut self, scale: bool) -> Self {
        self.scale = scale;
        self
    }

    fn gamma(&self) -> Option<&Param> {
        self.scale.then(|| self.weights.first()).flatten()
    }

    fn beta(&self) -> Option<&Param> {
        self.center.then(|| self.weights.last()).flatten()
    }

    /// The gradients of gamma and beta, in the order of `weights`.
    fn add_weight_grads(&mut self, d_gamma: Array1<f32>, d_beta: Array1<f32>) {
        let mut weights = self.weights.iter_mut();
        if self.scale {
            if let Some(gamma) = weights.next() {
                gamma.grad += &d_gamma;
            }
        }
        if self.center {
            if let Some(beta) = weights.next() {
                beta.grad += &d_beta;
            }
        }
    }
}

impl Layer for LayerNormalization {
    fn class_name(&self) -> &'static str {
        "LayerNormalization"
    }

    fn get_config(&self) -> Option<Config> {
        Some(Config::from_iter([
            ("epsilon".to_string(), f32_value(self.epsilon)),
            ("center".to_string(), self.center.into()),
            ("scale".to_string(), self.scale.into()),
        ]))
    }

    fn base(&self) -> &LayerBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut LayerBase {
        &mut self.base
    }

    fn build(&mut self, input_shape: &[usize], _rng: &mut StdRng) -> Result<Vec<usize>> {
        if !(self.epsilon.is_finite() && self.epsilon > 0.0) {
            return Err(Error::invalid("epsilon", "a positive finite number", self.epsilon));
        }
        let Some(&features) = input_shape.last().filter(|&&d| d > 0 && d != NONE) else {
            return Err(Error::ShapeMismatch {
                layer: self.base.name.clone(),
                expected: "(None, ..., features) with features > 0".into(),
                found: keras_shape(input_shape),
            });
        };
        self.weights.clear();
        if self.scale {
            self.weights.push(Param::new("gamma", ArrayD::ones(IxDyn(&[features]))));
        }
        if self.center {
            self.weights.push(Param::new("beta", initializers::zeros(&[features])));
        }
        Ok(self.base.built(input_shape, input_shape.to_vec()))
    }

    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        _mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        expect_batch_of(&self.base.name, self.base.built_input()?, input.shape())?;
        let features = input.shape()[input.ndim() - 1];
        let input = input.as_standard_layout();
        let rows = input
            .view()
            .into_shape_with_order((input.len() / features, features))
            .map_err(|_| not_built(&self.base.name))?;
        let mut normalized = Array2::<f32>::zeros(rows.raw_dim());
        let mut inverse_std = Array1::<f32>::zeros(rows.nrows());
        Zip::from(normalized.rows_mut()).and(&mut inverse_std).and(rows.rows()).for_each(
            |mut out, inv, row| {
                let mean = row.sum() / features as f32;
                let variance =
                    row.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() / features as f32;
                *inv = 1.0 / (variance + self.epsilon).sqrt();
                Zip::from(&mut out).and(&row).for_each(|o, &v| *o = (v - mean) * *inv);
            },
        );
        // Training keeps the normalized values for `backward`; inference reuses their buffer.
        let (mut output, kept) =
            if training { (normalized.clone(), Some(normalized)) } else { (normalized, None) };
        if let Some(gamma) = self.gamma() {
            output *= &gamma.value;
        }
        if let Some(beta) = self.beta() {
            output += &beta.value;
        }
        let shape = input.shape().to_vec();
        self.cache =
            kept.map(|normalized| NormCache { normalized, inverse_std, shape: shape.clone() });
        output.into_shape_with_order(IxDyn(&shape)).map_err(|_| not_built(&self.base.name))
    }

    fn backward(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        let cache =
            self.cache.as_ref().ok_or_else(|| Error::NoForwardCache(self.base.name.clone()))?;
        let dy = grad_output
            .to_shape(cache.normalized.raw_dim())
            .ok()
            .filter(|_| grad_output.shape() == cache.shape.as_slice());
        let Some(dy) = dy else {
            return Err(Error::ShapeMismatch {
                layer: format!("{} (backward)", self.base.name),
                expected: array_shape(&cache.shape),
                found: array_shape(grad_output.shape()),
            });
        };
        let d_gamma = (&dy * &cache.normalized).sum_axis(Axis(0));
        let d_beta = dy.sum_axis(Axis(0));
        let d_input = input_grad.then(|| {
            // dx = inv · (g − mean(g) − x̂ · mean(g ⊙ x̂)) per position, with g = dy ⊙ γ.
            let mut g = dy.to_owned();
            if let Some(gamma) = self.gamma() {
                g *= &gamma.value;
            }
            let features = g.ncols() as f32;
            Zip::from(g.rows_mut()).and(cache.normalized.rows()).and(&cache.inverse_std).for_each(
                |mut g, x_hat, &inv| {
                    let mean_g = g.sum() / features;
                    let mean_gx = g.dot(&x_hat) / features;
                    Zip::from(&mut g).and(&x_hat).for_each(|g, &x| {
                        *g = inv * (*g - mean_g - x * mean_gx);
                    });
                },
            );
            g.into_shape_with_order(IxDyn(&cache.shape))
        });
        self.add_weight_grads(d_gamma, d_beta);
        d_input.transpose().map_err(|_| not_built(&self.base.name))
    }

    fn params(&self) -> Vec<&Param> {
        self.weights.iter().collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.weights.iter_mut().collect()
    }

    fn take_forward_cache(&mut self) -> Option<super::ForwardCache> {
        super::cache::take::<Self, _>(&mut self.cache)
    }

    fn put_forward_cache(&mut self, cache: super::ForwardCache) -> Result<()> {
        super::cache::put::<Self, _>(&self.base.name, &mut self.cache, cache)
    }
}
