//! The projections of `MultiHeadAttention` (Keras' `EinsumDense` sublayers): their weights in
//! Keras' names, shapes and order, and `x·W + b` over the last axis with the kernel kept in
//! Keras' shape and read as a matrix.

use crate::initializers;
use crate::layers::Param;
use crate::shape::array_shape;
use crate::{Error, Result};
use ndarray::{Array2, Array4, ArrayView2, ArrayViewD, Axis, CowArray, Ix1, Ix2};
use rand::rngs::StdRng;
use rand::Rng;

/// The four projections, in Keras' order of the weights.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Projection {
    Query = 0,
    Key = 1,
    Value = 2,
    Output = 3,
}

/// Keras' names of the weights, kernel and bias of each projection in order.
const NAMES: [[&str; 2]; 4] = [
    ["query/kernel", "query/bias"],
    ["key/kernel", "key/bias"],
    ["value/kernel", "value/bias"],
    ["attention_output/kernel", "attention_output/bias"],
];

/// The sizes the weights of a `MultiHeadAttention` follow.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    pub(crate) heads: usize,
    pub(crate) key_dim: usize,
    pub(crate) value_dim: usize,
    /// The features of the query, key and value inputs and of the output.
    pub(crate) query: usize,
    pub(crate) key: usize,
    pub(crate) value: usize,
    pub(crate) output: usize,
    pub(crate) use_bias: bool,
}

impl Layout {
    /// Keras' names and shapes of the weights, in Keras' order: `query/kernel (query, heads,
    /// key_dim)`, `query/bias (heads, key_dim)`, the same for key and value (`value_dim`), then
    /// `attention_output/kernel (heads, value_dim, output)` and `attention_output/bias
    /// (output)`; no biases without `use_bias`.
    fn weights(&self) -> Vec<(&'static str, Vec<usize>)> {
        let (heads, key_dim, value_dim) = (self.heads, self.key_dim, self.value_dim);
        let shapes = [
            (vec![self.query, heads, key_dim], vec![heads, key_dim]),
            (vec![self.key, heads, key_dim], vec![heads, key_dim]),
            (vec![self.value, heads, value_dim], vec![heads, value_dim]),
            (vec![heads, value_dim, self.output], vec![self.output]),
        ];
        let mut weights = Vec::new();
        for ([kernel_name, bias_name], (kernel, bias)) in NAMES.iter().zip(shapes) {
            weights.push((*kernel_name, kernel));
            if self.use_bias {
                weights.push((*bias_name, bias));
            }
        }
        weights
    }

    /// Checks, before any weight is drawn, that the weights fit in memory.
    pub(crate) fn check_sizes(&self, layer: &str) -> crate::Result<()> {
        let weights = self.weights();
        let shapes: Vec<&[usize]> = weights.iter().map(|(_, s)| s.as_slice()).collect();
        initializers::check_sizes(layer, "num_heads, key_dim, value_dim", &shapes)
    }

    /// New weights: glorot_uniform kernels, zero biases (Keras' defaults).
    pub(crate) fn init(&self, rng: &mut StdRng) -> Vec<Param> {
        let init = |shape: &[usize], rng: &mut StdRng| match *shape {
            [a, b, c] => glorot_kernel([a, b, c], rng),
            _ => initializers::zeros(shape),
        };
        self.weights()
            .into_iter()
            .map(|(name, shape)| Param::new(name, init(&shape, rng)))
            .collect()
    }

    /// Checks that `weights` still have the shapes they were built with.
    pub(crate) fn check(&self, layer: &str, weights: &[Param]) -> Result<()> {
        for (index, (param, (_, shape))) in weights.iter().zip(self.weights()).enumerate() {
            if param.value.shape() != shape.as_slice() {
                return Err(Error::WeightMismatch {
                    layer: layer.to_string(),
                    index,
                    expected: array_shape(&shape),
                    found: array_shape(param.value.shape()),
                });
            }
        }
        Ok(())
    }
}

/// The kernel and (with `use_bias`) bias of a projection among `weights`.
pub(crate) fn projection(
    weights: &[Param],
    use_bias: bool,
    which: Projection,
) -> (&Param, Option<&Param>) {
    let start = which as usize * (1 + usize::from(use_bias));
    (&weights[start], use_bias.then(|| &weights[start + 1]))
}

/// As [`projection`], mutable.
pub(crate) fn projection_mut(
    weights: &mut [Param],
    use_bias: bool,
    which: Projection,
) -> (&mut Param, Option<&mut Param>) {
    let start = which as usize * (1 + usize::from(use_bias));
    let (kernel, rest) = weights[start..].split_at_mut(1);
    (&mut kernel[0], rest.first_mut().filter(|_| use_bias))
}

/// `(batch·steps, features)` of a `(batch, steps, features)` input.
pub(crate) fn rows_of(input: &ArrayViewD<'_, f32>) -> Result<Array2<f32>> {
    let (batch, steps, features) = (input.shape()[0], input.shape()[1], input.shape()[2]);
    input
        .to_shape((batch * steps, features))
        .map(|rows| rows.into_owned())
        .map_err(|_| Error::invalid("input", "an array of rank 3", array_shape(input.shape())))
}

/// `(batch·steps, heads·dim)` as `(batch, steps, heads, dim)`.
pub(crate) fn heads_of(rows: Array2<f32>, batch: usize, heads: usize) -> Result<Array4<f32>> {
    let (samples, width) = rows.dim();
    let shape = (batch, samples / batch.max(1), heads, width / heads.max(1));
    rows.into_shape_with_order(shape)
        .map_err(|_| Error::invalid("projection", "(batch·steps, heads·dim)", samples))
}

/// A kernel of Keras' shape `shape` (`(features, heads, head_dim)` or
/// `(heads, head_dim, features)`), glorot_uniform with Keras' fans for kernels of rank 3:
/// `fan_in = shape[1]·shape[0]`, `fan_out = shape[2]·shape[0]`.
fn glorot_kernel(shape: [usize; 3], rng: &mut StdRng) -> ndarray::ArrayD<f32> {
    let (fan_in, fan_out) = (shape[1] * shape[0], shape[2] * shape[0]);
    let limit = (6.0 / (fan_in as f64 + fan_out as f64)).sqrt() as f32;
    ndarray::ArrayD::from_shape_simple_fn(ndarray::IxDyn(&shape), || rng.gen_range(-limit..limit))
}

/// A weight read as a matrix `(rows, cols)` (a kernel: its first axis, or its first two for
/// the output projection, as rows) or a vector (`cols = 0`: a bias).
fn reshaped<'a>(
    layer: &str,
    param: &'a Param,
    rows: usize,
    cols: usize,
) -> Result<CowArray<'a, f32, ndarray::IxDyn>> {
    let shape: Vec<usize> = if cols == 0 { vec![rows] } else { vec![rows, cols] };
    param.value.to_shape(shape).map(|v| v.into_dyn()).map_err(|_| mismatch(layer, param))
}

/// `x (samples, rows) · kernel + bias`, the kernel holding `rows · cols` values.
pub(crate) fn project(
    layer: &str,
    x: ArrayView2<'_, f32>,
    kernel: &Param,
    bias: Option<&Param>,
    cols: usize,
) -> Result<Array2<f32>> {
    let matrix = reshaped(layer, kernel, x.ncols(), cols)?;
    let matrix = matrix.view().into_dimensionality::<Ix2>().map_err(|_| mismatch(layer, kernel))?;
    let mut out = x.dot(&matrix);
    if let Some(bias) = bias {
        let flat = reshaped(layer, bias, cols, 0)?;
        out += &flat.view().into_dimensionality::<Ix1>().map_err(|_| mismatch(layer, bias))?;
    }
    Ok(out)
}

/// Adds the gradients of `kernel` (`xᵀ·grad`) and `bias` (`Σ grad`) and returns dL/dx
/// (`grad · kernelᵀ`) when `input_grad` is true.
pub(crate) fn project_grad(
    layer: &str,
    x: ArrayView2<'_, f32>,
    grad: ArrayView2<'_, f32>,
    kernel: &mut Param,
    bias: Option<&mut Param>,
    input_grad: bool,
) -> Result<Option<Array2<f32>>> {
    let d_kernel = x.t().dot(&grad);
    let shape = kernel.grad.raw_dim();
    let d_kernel = d_kernel.into_shape_with_order(shape).map_err(|_| mismatch(layer, kernel))?;
    kernel.grad += &d_kernel;
    if let Some(bias) = bias {
        let d_bias = grad.sum_axis(Axis(0)).into_shape_with_order(bias.grad.raw_dim());
        bias.grad += &d_bias.map_err(|_| mismatch(layer, bias))?;
    }
    if !input_grad {
        return Ok(None);
    }
    let matrix = reshaped(layer, kernel, x.ncols(), grad.ncols())?;
    let matrix = matrix.view().into_dimensionality::<Ix2>().map_err(|_| mismatch(layer, kernel))?;
    Ok(Some(grad.dot(&matrix.t())))
}

/// The error for a weight whose shape was changed after the layer was built.
fn mismatch(layer: &str, param: &Param) -> Error {
    Error::invalid(
        format!("weight '{}' of layer '{layer}'", param.name()),
        "the shape it was built with",
        array_shape(param.value.shape()),
    )
}
