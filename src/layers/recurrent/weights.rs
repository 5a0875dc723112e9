//! The weights as the loops of `steps.rs` read them, and the weight gradients as they produce
//! them: gate blocks of `units` columns, each a contiguous matrix, so that every product runs
//! through `kernels` with `units` (or `features`) columns.

use super::cell::Cell;
use crate::kernels::PackedRhs;
use crate::layers::{not_built, Param};
use crate::shape::array_shape;
use crate::{Error, Result};

/// The pass whose products a [`Packed`] serves: each reads its own half of the layouts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Pass {
    /// The recurrence: x_t·W_g and h_{t−1}·U_g.
    Forward,
    /// BPTT: dZ·W_gᵀ and dZ·U_gᵀ.
    Backward,
}

/// The weights as the loops of one [`Pass`] read them; the other pass's layouts stay empty.
pub(super) struct Packed {
    pub(super) features: usize,
    pub(super) units: usize,
    pub(super) has_bias: bool,
    /// Forward: W_g, the kernel's gate blocks of `units` columns, each `(features, units)`
    /// row-major, for the products through a dropout mask, which scales it first.
    kernel: Vec<f32>,
    /// Backward: Wᵀ, `(GATES·units, features)`: W_gᵀ is its g-th block of `units` rows.
    kernel_t: Vec<f32>,
    /// W_g and U_g (forward), W_gᵀ and U_gᵀ (backward) of every gate, laid out once for the
    /// products of every step.
    kernel_panels: Vec<PackedRhs>,
    recurrent_panels: Vec<PackedRhs>,
    kernel_t_panels: Vec<PackedRhs>,
    recurrent_t_panels: Vec<PackedRhs>,
    /// Forward: one sample's step row before the products ([`step_init`]).
    pub(super) step_init: Vec<f32>,
}

impl Packed {
    /// Checks the weights' shapes and lays them out for the loops of `pass`.
    pub(super) fn new<C: Cell>(
        layer: &str,
        weights: &[Param],
        features: usize,
        units: usize,
        pass: Pass,
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
            flat.push(param.value.as_standard_layout());
        }
        let flat: Option<Vec<&[f32]>> = flat.iter().map(|value| value.as_slice()).collect();
        let flat = flat.ok_or_else(|| not_built(layer))?;
        let (kernel, recurrent, bias) = (flat[0], flat[1], flat.get(2).copied());
        let gates = C::LAYOUT.gates;
        // Gate block g of a `(rows, columns)` matrix, `(rows, units)`, laid out (read in place:
        // row k of the block starts at k·columns + g·units).
        let gate_panels = |matrix: &[f32], rows: usize| -> Vec<PackedRhs> {
            let block = |g: usize| &matrix[(g * units).min(matrix.len())..];
            (0..gates).map(|g| PackedRhs::new(block(g), rows, units, columns)).collect()
        };
        // The transposed gate blocks, `(units, rows)` each, one after the other.
        let transposed = |matrix: &[f32], rows: usize| -> Vec<f32> {
            let mut out = vec![0.0; matrix.len()];
            for (r, row) in matrix.chunks_exact(columns).enumerate() {
                for (c, &w) in row.iter().enumerate() {
                    out[c * rows + r] = w;
                }
            }
            out
        };
        let block_panels = |blocks: &[f32], rows: usize, cols: usize| -> Vec<PackedRhs> {
            let len = (rows * cols).max(1);
            blocks.chunks_exact(len).map(|block| PackedRhs::new(block, rows, cols, cols)).collect()
        };
        let mut packed = Packed {
            features,
            units,
            has_bias: bias.is_some(),
            kernel: Vec::new(),
            kernel_t: Vec::new(),
            kernel_panels: Vec::new(),
            recurrent_panels: Vec::new(),
            kernel_t_panels: Vec::new(),
            recurrent_t_panels: Vec::new(),
            step_init: Vec::new(),
        };
        match pass {
            Pass::Forward => {
                packed.kernel = Vec::with_capacity(kernel.len());
                for g in 0..gates {
                    for row in kernel.chunks_exact(columns) {
                        packed.kernel.extend_from_slice(&row[g * units..(g + 1) * units]);
                    }
                }
                packed.kernel_panels = gate_panels(kernel, features);
                packed.recurrent_panels = gate_panels(recurrent, units);
                packed.step_init = step_init::<C>(bias, units);
            }
            Pass::Backward => {
                packed.kernel_t = transposed(kernel, features);
                packed.kernel_t_panels = block_panels(&packed.kernel_t, units, features);
                packed.recurrent_t_panels =
                    block_panels(&transposed(recurrent, units), units, units);
            }
        }
        Ok(packed)
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

/// One sample's step row before the products, from the bias (`None`: zeros): the input bias
/// in blocks `0..GATES`, plus the recurrent bias of gate g in block `RECURRENT_INTO[g]`.
fn step_init<C: Cell>(bias: Option<&[f32]>, units: usize) -> Vec<f32> {
    let columns = C::LAYOUT.columns(units);
    let mut step_init = vec![0.0; C::LAYOUT.step_blocks * units];
    if let Some(bias) = bias {
        step_init[..columns].copy_from_slice(&bias[..columns]);
        if C::LAYOUT.recurrent_bias {
            for (g, &block) in C::LAYOUT.recurrent_into.iter().enumerate() {
                let recurrent_bias = &bias[columns + g * units..][..units];
                let into = &mut step_init[block * units..][..units];
                into.iter_mut().zip(recurrent_bias).for_each(|(v, b)| *v += b);
            }
        }
    }
    step_init
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
