//! The weights as the loops of `steps.rs` read them, and the weight gradients as they produce
//! them: gate blocks of `units` columns, each a contiguous matrix, so that every product runs
//! through `kernels` with `units` (or `features`) columns.

use super::cell::Cell;
use crate::kernels::{isa, FlushDenormals, Isa, PackedRhs, PARALLEL_VALUES};
use crate::layers::{not_built, Param};
use crate::shape::array_shape;
use crate::{Error, Result};
use rayon::prelude::*;

/// The pass whose products a [`Packed`] serves: each reads its own part of the layouts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Pass {
    /// The recurrence: x_t·W_g and h_{t−1}·U_g.
    Forward,
    /// An `Embedding`'s table folded into the input projection: E·W_g + b_g alone.
    Fold,
    /// BPTT: dZ·W_gᵀ and dZ·U_gᵀ.
    Backward,
}

/// The weights as the loops of one [`Pass`] read them; the other pass's layouts stay empty.
#[derive(Clone, Debug)]
pub(super) struct Packed {
    pub(super) features: usize,
    /// The kernels the layouts were made for.
    isa: Isa,
    pub(super) units: usize,
    pub(super) has_bias: bool,
    /// Forward: W_g, the kernel's gate blocks of `units` columns, each `(features, units)`
    /// row-major, for the products through a dropout mask, which scales it first.
    kernel: Vec<f32>,
    /// Backward: Wᵀ, `(GATES·units, features)`: W_gᵀ is its g-th block of `units` rows.
    kernel_t: Vec<f32>,
    /// W_g and U_g (forward; W_g alone for a fold), W_gᵀ and U_gᵀ (backward) of every gate,
    /// laid out once for the products of every step.
    kernel_panels: Vec<PackedRhs>,
    recurrent_panels: Vec<PackedRhs>,
    kernel_t_panels: Vec<PackedRhs>,
    recurrent_t_panels: Vec<PackedRhs>,
    /// Forward and fold: one sample's step row before the products ([`step_init`]).
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
            transpose_into(matrix, rows, columns, &mut out);
            out
        };
        let block_panels = |blocks: &[f32], rows: usize, cols: usize| -> Vec<PackedRhs> {
            let len = (rows * cols).max(1);
            blocks.chunks_exact(len).map(|block| PackedRhs::new(block, rows, cols, cols)).collect()
        };
        let mut packed = Packed {
            features,
            isa: isa::best(),
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
            Pass::Fold => {
                packed.kernel_panels = gate_panels(kernel, features);
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

    /// Whether these layouts serve the weights they were made from for an input of `features`
    /// features on this thread's kernels (the weights unchanged since: the caller's part).
    pub(super) fn serves(&self, features: usize) -> bool {
        self.features == features && self.isa == isa::best()
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

/// Writes the transpose of the row-major `(rows, cols)` `matrix` into `out`, `(cols, rows)`, in
/// tiles that keep both sides' cache lines in use, tasks of output rows in parallel.
fn transpose_into(matrix: &[f32], rows: usize, cols: usize, out: &mut [f32]) {
    const TILE: usize = 16;
    let strip = |first: usize, out_rows: &mut [f32]| {
        let width = out_rows.len() / rows.max(1);
        for r0 in (0..rows).step_by(TILE) {
            for c in 0..width {
                let out_row = &mut out_rows[c * rows..][r0..(r0 + TILE).min(rows)];
                for (r, value) in out_row.iter_mut().enumerate() {
                    *value = matrix[(r0 + r) * cols + first + c];
                }
            }
        }
    };
    if matrix.len() < PARALLEL_VALUES || rows == 0 {
        strip(0, out);
    } else {
        out.par_chunks_mut(TILE * rows)
            .enumerate()
            .for_each(|(task, out_rows)| strip(task * TILE, out_rows));
    }
}

/// A chunk's share of the weight gradients, kernels in gate blocks as [`Packed`].
pub(super) struct ChunkGradients {
    pub(super) kernel: Vec<f32>,
    pub(super) recurrent: Vec<f32>,
    pub(super) bias: Vec<f32>,
}

impl ChunkGradients {
    /// Adds every chunk's gradients into the weights' `grad`, in Keras' layout. Each value
    /// receives the chunks' shares in chunk order, so the sums do not depend on the number of
    /// threads; rows of the weights are summed in parallel, flushing subnormal sums to zero
    /// on every thread as the engine's own loops do.
    pub(super) fn reduce_into(
        partials: &[ChunkGradients],
        weights: &mut [Param],
        units: usize,
        gates: usize,
    ) {
        let _flush = FlushDenormals::new();
        let columns = gates * units;
        for (index, param) in weights.iter_mut().enumerate().take(2) {
            let Some(grad) = param.grad.as_slice_mut() else { continue };
            let rows = grad.len() / columns.max(1);
            let add_rows = |first: usize, grad_rows: &mut [f32]| {
                for partial in partials {
                    let blocks = if index == 0 { &partial.kernel } else { &partial.recurrent };
                    for (r, grad_row) in grad_rows.chunks_exact_mut(columns).enumerate() {
                        for (g, into) in grad_row.chunks_exact_mut(units).enumerate() {
                            let from = &blocks[(g * rows + first + r) * units..][..units];
                            into.iter_mut().zip(from).for_each(|(a, b)| *a += b);
                        }
                    }
                }
            };
            if grad.len() * partials.len() < PARALLEL_VALUES {
                add_rows(0, grad);
            } else {
                // Tasks of about a quarter of the threshold's additions each.
                let per_row = (columns * partials.len()).max(1);
                let rows_per_task = (PARALLEL_VALUES / 4 / per_row).max(1);
                grad.par_chunks_mut(rows_per_task * columns).enumerate().for_each(
                    |(task, grad_rows)| {
                        let _flush = FlushDenormals::new();
                        add_rows(task * rows_per_task, grad_rows)
                    },
                );
            }
        }
        if let Some(grad) = weights.get_mut(2).and_then(|p| p.grad.as_slice_mut()) {
            for partial in partials {
                grad.iter_mut().zip(&partial.bias).for_each(|(a, b)| *a += b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::ArrayD;

    /// Values that differ in their low bits, so that a changed order of additions shows.
    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len as u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) ^ seed) % 1_000) as f32 * 1e-3 - 0.4)
            .collect()
    }

    #[test]
    fn transpose_into_matches_the_definition_on_both_sides_of_the_parallel_size() {
        for (rows, cols) in [(1, 1), (3, 17), (16, 16), (33, 70), (256, 1024), (300, 257)] {
            let matrix = values(rows * cols, 7);
            let mut out = vec![f32::NAN; rows * cols];
            transpose_into(&matrix, rows, cols, &mut out);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(
                        out[c * rows + r],
                        matrix[r * cols + c],
                        "({rows}, {cols}) at {r}, {c}"
                    );
                }
            }
        }
    }

    #[test]
    fn reduce_into_flushes_subnormal_sums_on_every_path() {
        // 2.0e-38 − 1.5e-38 (both normal) is subnormal: zero with flush-to-zero, on the
        // calling thread (small weights) and on the pool's (large ones) alike.
        for units in [4, 128] {
            let columns = 4 * units;
            let partial = ChunkGradients {
                kernel: vec![-1.5e-38; 3 * columns],
                recurrent: vec![-1.5e-38; units * columns],
                bias: vec![-1.5e-38; columns],
            };
            let mut weights: Vec<Param> = [vec![3, columns], vec![units, columns], vec![columns]]
                .into_iter()
                .map(|shape| {
                    let mut param = Param::new("w", ArrayD::zeros(shape));
                    param.grad.fill(2.0e-38);
                    param
                })
                .collect();
            ChunkGradients::reduce_into(&[partial], &mut weights, units, 4);
            for param in &weights {
                assert!(param.grad.iter().all(|&v| v.to_bits() == 0), "{units} units");
            }
        }
    }

    #[test]
    fn reduce_into_adds_the_chunks_in_chunk_order_into_keras_layout() {
        // Small weights take the calling thread, large ones the parallel rows.
        for (features, units, gates, chunks) in [(3, 5, 4, 3), (40, 128, 4, 5)] {
            let columns = gates * units;
            let partials: Vec<ChunkGradients> = (0..chunks)
                .map(|c| ChunkGradients {
                    kernel: values(features * columns, 11 + c),
                    recurrent: values(units * columns, 23 + c),
                    bias: values(columns, 31 + c),
                })
                .collect();
            let start = |rows: usize, seed| {
                ArrayD::from_shape_vec(vec![rows, columns], values(rows * columns, seed)).unwrap()
            };
            let mut weights = vec![
                Param::new("kernel", start(features, 1)),
                Param::new("recurrent_kernel", start(units, 2)),
                Param::new("bias", ArrayD::zeros(vec![columns])),
            ];
            for param in &mut weights {
                param.grad = param.value.clone();
            }
            let expected: Vec<Vec<f32>> = weights
                .iter()
                .enumerate()
                .map(|(index, param)| {
                    let mut grad = param.grad.as_slice().unwrap().to_vec();
                    let rows = grad.len() / columns;
                    for partial in &partials {
                        let share = [&partial.kernel, &partial.recurrent, &partial.bias][index];
                        for (i, value) in grad.iter_mut().enumerate() {
                            let (row, column) = (i / columns, i % columns);
                            let (g, unit) = (column / units, column % units);
                            *value += if index == 2 {
                                share[i]
                            } else {
                                share[(g * rows + row) * units + unit]
                            };
                        }
                    }
                    grad
                })
                .collect();
            ChunkGradients::reduce_into(&partials, &mut weights, units, gates);
            for (param, expected) in weights.iter().zip(&expected) {
                let got: Vec<u32> = param.grad.iter().map(|v| v.to_bits()).collect();
                let want: Vec<u32> = expected.iter().map(|v| v.to_bits()).collect();
                assert_eq!(got, want, "{} of {features}x{units}x{gates}", param.name());
            }
        }
    }
}
