//! The weights as the loops of `steps.rs` read them, and the weight gradients as they produce
//! them: gate blocks of `units` columns, each a contiguous matrix, so that every product runs
//! through `kernels` with `units` (or `features`) columns.

use super::cell::Cell;
use crate::layers::{not_built, Param};
use crate::shape::array_shape;
use crate::{Error, Result};

/// The weights as the loops read them.
pub(super) struct Packed {
    pub(super) features: usize,
    pub(super) units: usize,
    pub(super) has_bias: bool,
    /// W_g, the kernel's gate blocks of `units` columns, each `(features, units)` row-major.
    kernel: Vec<f32>,
    /// U_g, the recurrent kernel's gate blocks, each `(units, units)`.
    recurrent: Vec<f32>,
    /// Wᵀ, `(GATES·units, features)`: W_gᵀ is its g-th block of `units` rows.
    kernel_t: Vec<f32>,
    /// Uᵀ, `(GATES·units, units)`: U_gᵀ is its g-th block of `units` rows.
    recurrent_t: Vec<f32>,
    /// One sample's step row before the products: the input bias in blocks `0..GATES`, plus
    /// the recurrent bias of gate g in block `RECURRENT_INTO[g]`.
    pub(super) step_init: Vec<f32>,
}

impl Packed {
    /// Checks the weights' shapes and lays them out for the loops.
    pub(super) fn new<C: Cell>(
        layer: &str,
        weights: &[Param],
        features: usize,
        units: usize,
    ) -> Result<Self> {
        let columns = C::LAYOUT.columns(units);
        let bias_shape = C::LAYOUT.bias_shape(units);
        let expected = [vec![features, columns], vec![units, columns], bias_shape];
        if weights.len() < 2 {
            return Err(not_built(layer));
        }
        let mut flat = Vec::with_capacity(3);
        for (index, (param, shape)) in weights.iter().zip(&expected).enumerate() {
            if param.value.shape() != shape.as_slice() {
                return Err(Error::WeightMismatch {
                    layer: layer.to_string(),
                    index,
                    expected: format!("{} {}", param.name(), array_shape(shape)),
                    found: array_shape(param.value.shape()),
                });
            }
            flat.push(param.value.iter().copied().collect::<Vec<f32>>());
        }
        let gate_blocks = |matrix: &[f32]| -> Vec<f32> {
            let mut out = Vec::with_capacity(matrix.len());
            for g in 0..C::LAYOUT.gates {
                for row in matrix.chunks_exact(columns) {
                    out.extend_from_slice(&row[g * units..(g + 1) * units]);
                }
            }
            out
        };
        let transposed = |matrix: &[f32], rows: usize| -> Vec<f32> {
            let mut out = vec![0.0; matrix.len()];
            for (r, row) in matrix.chunks_exact(columns).enumerate() {
                for (c, &w) in row.iter().enumerate() {
                    out[c * rows + r] = w;
                }
            }
            out
        };
        let mut step_init = vec![0.0; C::LAYOUT.step_blocks * units];
        if let Some(bias) = flat.get(2) {
            step_init[..columns].copy_from_slice(&bias[..columns]);
            if C::LAYOUT.recurrent_bias {
                for (g, &block) in C::LAYOUT.recurrent_into.iter().enumerate() {
                    let recurrent_bias = &bias[columns + g * units..][..units];
                    let into = &mut step_init[block * units..][..units];
                    into.iter_mut().zip(recurrent_bias).for_each(|(v, b)| *v += b);
                }
            }
        }
        Ok(Packed {
            features,
            units,
            has_bias: flat.len() > 2,
            kernel: gate_blocks(&flat[0]),
            recurrent: gate_blocks(&flat[1]),
            kernel_t: transposed(&flat[0], features),
            recurrent_t: transposed(&flat[1], units),
            step_init,
        })
    }

    pub(super) fn kernel_gate(&self, gate: usize) -> &[f32] {
        &self.kernel[gate * self.features * self.units..][..self.features * self.units]
    }

    pub(super) fn recurrent_gate(&self, gate: usize) -> &[f32] {
        &self.recurrent[gate * self.units * self.units..][..self.units * self.units]
    }

    pub(super) fn kernel_gate_t(&self, gate: usize) -> &[f32] {
        &self.kernel_t[gate * self.units * self.features..][..self.units * self.features]
    }

    pub(super) fn recurrent_gate_t(&self, gate: usize) -> &[f32] {
        &self.recurrent_t[gate * self.units * self.units..][..self.units * self.units]
    }
}

/// A chunk's share of the weight gradients, kernels in gate blocks as [`Packed`].
pub(super) struct ChunkGradients {
    pub(super) kernel: Vec<f32>,
    pub(super) recurrent: Vec<f32>,
    pub(super) bias: Vec<f32>,
}

impl ChunkGradients {
    /// Adds the gradients into the weights' `grad`, in Keras' layout.
    pub(super) fn add_into(&self, weights: &mut [Param], units: usize, gates: usize) {
        let columns = gates * units;
        for (param, gradient) in weights.iter_mut().zip([&self.kernel, &self.recurrent]) {
            let Some(grad) = param.grad.as_slice_mut() else { continue };
            let rows = grad.len() / columns;
            for (g, block) in gradient.chunks_exact(rows * units).enumerate() {
                for (grad_row, block_row) in
                    grad.chunks_exact_mut(columns).zip(block.chunks_exact(units))
                {
                    let into = &mut grad_row[g * units..(g + 1) * units];
                    into.iter_mut().zip(block_row).for_each(|(a, b)| *a += b);
                }
            }
        }
        if let Some(grad) = weights.get_mut(2).and_then(|p| p.grad.as_slice_mut()) {
            grad.iter_mut().zip(&self.bias).for_each(|(a, b)| *a += b);
        }
    }
}
