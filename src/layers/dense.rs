//! `Dense`: a fully-connected layer on the last axis.

use super::{not_built, Layer, LayerBase, OutputHead, Param};
use crate::activations::Activation;
use crate::initializers;
use crate::saving::Config;
use crate::shape::{array_shape, expect_batch_of, keras_shape, NONE};
use crate::{Error, Result};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayD, ArrayView2, ArrayViewD, Axis, IxDyn};
use rand::rngs::StdRng;

/// y = act(x·W + b) on the last axis of its input, as Keras' `Dense`, with
/// `W = kernel (input_dim, units)` and `b = bias (units)`.
///
/// # Shapes
/// Input `(batch, input_dim)` or `(batch, steps, input_dim)`; output `(batch, units)` or
/// `(batch, steps, units)`: on a 3-D input the same weights apply at every step.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(Dense::new(1).activation(Activation::Sigmoid));
/// model.build(&[32])?;
/// assert_eq!(model.summary()?.total_params(), 33);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Dense {
    base: LayerBase,
    units: usize,
    activation: Activation,
    use_bias: bool,
    weights: Vec<Param>,
    cache: Option<DenseCache>,
    /// Pre-activation output of the last forward pass, in the output's shape, kept in inference
    /// too: the loss of `evaluate` reads it, as Keras computes cross-entropies from logits.
    logits: Option<ArrayD<f32>>,
}

/// What `forward` keeps for `backward`, all flattened to 2-D `(rows, ·)`.
#[derive(Clone, Debug)]
struct DenseCache {
    input: Array2<f32>,
    output: Array2<f32>,
    output_shape: Vec<usize>,
}

impl Dense {
    /// A dense layer with `units` outputs. Defaults as Keras: linear activation, bias on,
    /// kernel glorot_uniform, bias zeros.
    pub fn new(units: usize) -> Self {
        Dense {
            base: LayerBase::new(),
            units,
            activation: Activation::Linear,
            use_bias: true,
            weights: Vec::new(),
            cache: None,
            logits: None,
        }
    }

    /// The activation `act`. Default: [`Activation::Linear`].
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Whether the layer adds a bias `b`. Default: `true`.
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }

    /// Whether the optimizer updates the weights. Default: `true`.
    pub fn trainable(mut self, trainable: bool) -> Self {
        self.base.trainable = trainable;
        self
    }

    fn kernel(&self) -> Result<ArrayView2<'_, f32>> {
        let kernel = self.weights.first().ok_or_else(|| not_built(&self.base.name))?;
        kernel.value.view().into_dimensionality().map_err(|_| not_built(&self.base.name))
    }
}

impl Layer for Dense {
    fn class_name(&self) -> &'static str {
        "Dense"
    }

    fn get_config(&self) -> Option<Config> {
        Some(Config::from_iter([
            ("units".to_string(), self.units.into()),
            ("activation".to_string(), self.activation.keras_name().into()),
            ("use_bias".to_string(), self.use_bias.into()),
        ]))
    }

    fn base(&self) -> &LayerBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut LayerBase {
        &mut self.base
    }

    fn build(&mut self, input_shape: &[usize], rng: &mut StdRng) -> Result<Vec<usize>> {
        if self.units == 0 {
            return Err(Error::invalid("units", "a positive integer", self.units));
        }
        let Some((&input_dim, leading)) = input_shape.split_last().filter(|(&d, _)| d > 0) else {
            return Err(Error::ShapeMismatch {
                layer: self.base.name.clone(),
                expected: "(None, ..., features) with features > 0".into(),
                found: keras_shape(input_shape),
            });
        };
        if input_dim == NONE {
            return Err(Error::ShapeMismatch {
                layer: self.base.name.clone(),
                expected: "(None, ..., features) with a known number of features, the rows of \
                           the kernel (a Flatten over steps of any length has none: give the \
                           sequences a fixed length, `Embedding::input_length(steps)` or \
                           `model.build(&[steps])`)"
                    .into(),
                found: keras_shape(input_shape),
            });
        }
        initializers::check_sizes(&self.base.name, "units", &[&[input_dim, self.units]])?;
        self.weights =
            vec![Param::new("kernel", initializers::glorot_uniform(input_dim, self.units, rng))];
        if self.use_bias {
            self.weights.push(Param::new("bias", initializers::zeros(&[self.units])));
        }
        let output_shape = leading.iter().copied().chain([self.units]).collect();
        Ok(self.base.built(input_shape, output_shape))
    }

    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        _mask: Option<&super::Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        let kernel = self.kernel()?;
        expect_batch_of(&self.base.name, &self.base.input_shape, input.shape())?;
        let (features, units) = kernel.dim();
        let rows = input.len() / features;
        let input = input.as_standard_layout();
        let flat = input
            .view()
            .into_shape_with_order((rows, features))
            .map_err(|_| not_built(&self.base.name))?;
        let mut logits = Array2::<f32>::zeros((rows, units));
        general_mat_mul(1.0, &flat, &kernel, 0.0, &mut logits);
        if let Some(bias) = self.weights.get(1) {
            logits += &bias.value;
        }
        let mut output = logits.clone();
        self.activation.apply(output.view_mut().into_dyn());
        let mut output_shape = input.shape().to_vec();
        if let Some(last) = output_shape.last_mut() {
            *last = units;
        }
        let shaped = output
            .clone()
            .into_shape_with_order(IxDyn(&output_shape))
            .map_err(|_| not_built(&self.base.name))?;
        // Logits in the output's shape, as the loss reads them along the last axis.
        self.logits = logits.into_shape_with_order(IxDyn(&output_shape)).ok();
        self.cache = training.then(|| DenseCache { input: flat.to_owned(), output, output_shape });
        Ok(shaped)
    }

    fn backward(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        let cache =
            self.cache.as_ref().ok_or_else(|| Error::NoForwardCache(self.base.name.clone()))?;
        if grad_output.shape() != cache.output_shape.as_slice() {
            return Err(Error::ShapeMismatch {
                layer: format!("{} (backward)", self.base.name),
                expected: array_shape(&cache.output_shape),
                found: array_shape(grad_output.shape()),
            });
        }
        let mut grad = grad_output
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(cache.output.raw_dim())
            .map_err(|_| not_built(&self.base.name))?;
        self.activation.backward(cache.output.view().into_dyn(), grad.view_mut().into_dyn());
        self.backward_logits(grad.into_dyn().view(), input_grad)
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

    fn output_head(&mut self) -> Option<&mut dyn OutputHead> {
        Some(self)
    }
}

impl OutputHead for Dense {
    fn activation(&self) -> Activation {
        self.activation
    }

    fn logits(&self) -> Option<ArrayViewD<'_, f32>> {
        self.logits.as_ref().map(|logits| logits.view())
    }

    fn backward_logits(
        &mut self,
        grad_logits: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        let cache =
            self.cache.as_ref().ok_or_else(|| Error::NoForwardCache(self.base.name.clone()))?;
        let kernel = self.kernel()?;
        let rows_units = (cache.output.nrows(), cache.output.ncols());
        let dz = grad_logits.to_shape(rows_units).map_err(|_| Error::ShapeMismatch {
            layer: format!("{} (backward)", self.base.name),
            expected: array_shape(cache.output.shape()),
            found: array_shape(grad_logits.shape()),
        })?;
        let d_input = input_grad.then(|| {
            let mut d_input = Array2::<f32>::zeros(cache.input.raw_dim());
            general_mat_mul(1.0, &dz, &kernel.t(), 0.0, &mut d_input);
            d_input
        });
        let mut d_kernel = Array2::<f32>::zeros(kernel.raw_dim());
        general_mat_mul(1.0, &cache.input.t(), &dz, 0.0, &mut d_kernel);
        let d_bias = dz.sum_axis(Axis(0));
        let mut input_shape = cache.output_shape.clone();
        if let Some(last) = input_shape.last_mut() {
            *last = cache.input.ncols();
        }
        if let Some(p) = self.weights.get_mut(0) {
            p.grad += &d_kernel;
        }
        if let Some(p) = self.weights.get_mut(1) {
            p.grad += &d_bias;
        }
        match d_input {
            Some(d) => Ok(Some(
                d.into_shape_with_order(IxDyn(&input_shape))
                    .map_err(|_| not_built(&self.base.name))?,
            )),
            None => Ok(None),
        }
    }
}
