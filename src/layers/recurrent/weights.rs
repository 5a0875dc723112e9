//! The weights as the loops of `steps.rs` read them, and the weight gradients as they produce
//! them: gate blocks of `units` columns, each a contiguous matrix, so that every product runs
//! through `kernels` with `units` (or `features`) columns.

use super::cell::Cell;
use crate::kernels::PackedRhs;
use crate::layers::{not_built, Param};
use crate::shape::array_shape;
use crate::{Error, Result};

/// The weights as the loops read them.
pub(super) struct Packed {
    pub(super) features: usize,
    pub(super) units: usize,
    pub(super) has_bias: bool,
    /// W_g, the kernel's gate blocks of `units` columns, each `(features, units)` row-major,
    /// for the products through a dropout mask, which scales it first.
    kernel: Vec<f32>,
    /// Wᵀ, `(GATES·units, features)`: W_gᵀ is its g-th block of `units` rows.
    kernel_t: Vec<f32>,
    /// W_g, U_g, W_gᵀ and U_gᵀ of every gate, laid out once for the products of every step.
    kernel_panels: Vec<PackedRhs>,
    recurrent_panels: Vec<PackedRhs>,
    kernel_t_panels: Vec<PackedRhs>,
    recurrent_t_panels: Vec<PackedRhs>,
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
        let kernel = gate_blocks(&flat[0]);
        let kernel_t = transposed(&flat[0], features);
        let (recurrent, recurrent_t) = (gate_blocks(&flat[1]), transposed(&flat[1], units));
        // Gate block g of a matrix of `rows` rows and `cols` columns per gate, laid out.
        let panels = |blocks: &[f32], rows: usize, cols: usize| -> Vec<PackedRhs> {
            let len = (rows * cols).max(1);
            blocks.chunks_exact(len).map(|block| PackedRhs::new(block, rows, cols, cols)).collect()
        };
        Ok(Packed {
            features,
            units,
            has_bias: flat.len() > 2,
            kernel_panels: panels(&kernel, features, units),
            recurrent_panels: panels(&recurrent, units, units),
            kernel_t_panels: panels(&kernel_t, units, features),
            recurrent_t_panels: panels(&recurrent_t, units, units),
            kernel,
            kernel_t,
            step_init,
        })
    }

    /// W_g, `(features, units)` row-major.
    pub(super) fn kernel_gate(&self, gate: usize) -> &[f32] {
        &self.kernel[gate * self.features * self.units..][..self.features * self.units]
    }

    /// W_gᵀ, `(units, features)` row-major.
    pub(super) fn kernel_gate_t(&self, gate: usize) -> &[f32] {
        &self.kernel_t[gate * self.units * self.features..][..self.units * self.features]
    }

    /// W_g laid out for `kernels::add_matmul_packed`.
    pub(super) fn kernel_panels(&self, gate: usize) -> &PackedRhs {
        &self.kernel_panels[gate]
    }

    /// U_g laid out for `kernels::add_matmul_packed`.
    pub(super) fn recurrent_panels(&self, gate: usize) -> &PackedRhs {
        &self.recurrent_panels[gate]
    }

    /// W_gᵀ laid out for `kernels::add_matmul_packed`.
    pub(super) fn kernel_t_panels(&self, gate: usize) -> &PackedRhs {
        &self.kernel_t_panels[gate]
    }

    /// U_gᵀ laid out for `kernels::add_matmul_packed`.
    pub(super) fn recurrent_t_panels(&self, gate: usize) -> &PackedRhs {
        &self.recurrent_t_panels[gate]
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
