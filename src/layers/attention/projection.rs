//! The projections of `MultiHeadAttention` (Keras' `EinsumDense` sublayers): `x·W + b` over the
//! last axis, with the kernel kept in Keras' shape and read as a matrix.

use crate::layers::Param;
use crate::shape::array_shape;
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2, Axis, CowArray, Ix1, Ix2};
use rand::rngs::StdRng;
use rand::Rng;

/// A kernel of Keras' shape `shape` (`(features, heads, head_dim)` or
/// `(heads, head_dim, features)`), glorot_uniform with Keras' fans for kernels of rank 3:
/// `fan_in = shape[1]·shape[0]`, `fan_out = shape[2]·shape[0]`.
pub(crate) fn glorot_kernel(shape: [usize; 3], rng: &mut StdRng) -> ndarray::ArrayD<f32> {
    let (fan_in, fan_out) = (shape[1] * shape[0], shape[2] * shape[0]);
    let limit = (6.0 / (fan_in as f64 + fan_out as f64)).sqrt() as f32;
    ndarray::ArrayD::from_shape_simple_fn(ndarray::IxDyn(&shape), || rng.gen_range(-limit..limit))
}

/// A weight read as a matrix `(rows, cols)` (a kernel: its first axis, or its first two for
/// the output projection, as rows) or a vector (`cols = 0`: a bias).
fn reshaped(param: &Param, rows: usize, cols: usize) -> Result<CowArray<'_, f32, ndarray::IxDyn>> {
    let shape: Vec<usize> = if cols == 0 { vec![rows] } else { vec![rows, cols] };
    param.value.to_shape(shape.clone()).map(|v| v.into_dyn()).map_err(|_| Error::WeightMismatch {
        layer: "multi_head_attention".into(),
        index: 0,
        expected: format!(
            "{} values, read as {}",
            shape.iter().product::<usize>(),
            array_shape(&shape)
        ),
        found: array_shape(param.value.shape()),
    })
}

/// `x (samples, rows) · kernel + bias`, the kernel holding `rows · cols` values.
pub(crate) fn project(
    x: ArrayView2<'_, f32>,
    kernel: &Param,
    bias: Option<&Param>,
    cols: usize,
) -> Result<Array2<f32>> {
    let matrix = reshaped(kernel, x.ncols(), cols)?;
    let matrix = matrix.view().into_dimensionality::<Ix2>().map_err(|_| mismatch(kernel))?;
    let mut out = x.dot(&matrix);
    if let Some(bias) = bias {
        let flat = reshaped(bias, cols, 0)?;
        out += &flat.view().into_dimensionality::<Ix1>().map_err(|_| mismatch(bias))?;
    }
    Ok(out)
}

/// Adds the gradients of `kernel` (`xᵀ·grad`) and `bias` (`Σ grad`) and returns dL/dx
/// (`grad · kernelᵀ`) when `input_grad` is true.
pub(crate) fn project_grad(
    x: ArrayView2<'_, f32>,
    grad: ArrayView2<'_, f32>,
    kernel: &mut Param,
    bias: Option<&mut Param>,
    input_grad: bool,
) -> Result<Option<Array2<f32>>> {
    let d_kernel = x.t().dot(&grad);
    let shape = kernel.grad.raw_dim();
    let d_kernel = d_kernel.into_shape_with_order(shape).map_err(|_| mismatch(kernel))?;
    kernel.grad += &d_kernel;
    if let Some(bias) = bias {
        let d_bias = grad.sum_axis(Axis(0)).into_shape_with_order(bias.grad.raw_dim());
        bias.grad += &d_bias.map_err(|_| mismatch(bias))?;
    }
    if !input_grad {
        return Ok(None);
    }
    let matrix = reshaped(kernel, x.ncols(), grad.ncols())?;
    let matrix = matrix.view().into_dimensionality::<Ix2>().map_err(|_| mismatch(kernel))?;
    Ok(Some(grad.dot(&matrix.t())))
}

fn mismatch(param: &Param) -> Error {
    Error::WeightMismatch {
        layer: "multi_head_attention".into(),
        index: 0,
        expected: format!("the shape of weight '{}' as built", param.name()),
        found: array_shape(param.value.shape()),
    }
}
