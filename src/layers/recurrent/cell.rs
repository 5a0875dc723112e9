//! The [`Cell`] trait and its [`CellLayout`]: one step of a recurrent layer, what differs between SimpleRNN, LSTM and
//! GRU; and the activations the cells apply, vectorised for sigmoid and tanh.

use crate::activations::Activation;
use crate::kernels;
use std::fmt::Debug;

/// The step of a recurrent layer, what differs between SimpleRNN, LSTM and GRU: the type
/// parameter of the recurrent layer, which runs the cell over every step of a batch.
///
/// The trait is sealed: the crate's cells ([`SimpleRnn`](crate::layers::SimpleRnn)'s,
/// [`Lstm`](crate::layers::Lstm)'s and [`Gru`](crate::layers::Gru)'s) are its only
/// implementations, because the recurrent engine relies on how each lays out its values. Use it
/// as a bound, to write code generic over the recurrent layers.
pub trait Cell: CellStep + Clone + Debug + Send + Sync + 'static {
    /// Keras' class name of the layer (`"LSTM"`).
    const CLASS_NAME: &'static str;
}

/// Where a cell keeps the values of a step, and how it lays out their gradient.
///
/// A step works on the `rows` samples of a chunk at once. Its values are blocks of
/// `n = rows·units` values, each a `(rows, units)` matrix: the states h and c, and the step's
/// `step_blocks` blocks. When [`CellStep::forward`] is called, blocks `0..gates` hold the input
/// projection x_t·W_g + b_g of each gate `g` (W_g the g-th block of `units` columns of the
/// kernel), and h_{t−1}·U_g has been added into block `recurrent_into[g]` (with the recurrent
/// bias, if any); `forward` leaves in the blocks what [`CellStep::backward`] needs. `backward`
/// writes `grad_blocks` gradient blocks: dL/d(x_t·W_g) in block `input_grad + g`, and
/// dL/d(h_{t−1}·U_g) in block `k` where `recurrent_grad[k] == g`.
///
/// Public in name only (this module is private), as the sealed [`CellStep`] that names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CellLayout {
    /// Blocks of `units` columns in the kernel and the recurrent kernel.
    pub gates: usize,
    /// Blocks kept per step.
    pub step_blocks: usize,
    /// Where h_{t−1}·U_g is added, per gate.
    pub recurrent_into: &'static [usize],
    /// Gradient blocks per step.
    pub grad_blocks: usize,
    /// The gradient block of the kernel's first gate; the others follow.
    pub input_grad: usize,
    /// The recurrent kernel's gate of each of the first `gates` gradient blocks.
    pub recurrent_grad: &'static [usize],
    /// Whether the cell has a second state that steps carry (LSTM's c), beside h.
    pub carry: bool,
    /// Whether the bias is `(2, gates·units)`, input then recurrent bias (GRU's `reset_after`),
    /// rather than `(gates·units)`.
    pub recurrent_bias: bool,
}

impl CellLayout {
    /// The kernels' columns: `gates·units`.
    pub(crate) const fn columns(&self, units: usize) -> usize {
        self.gates * units
    }

    /// Blocks the step's products add into, which start every step from the bias: the gates'
    /// input projections and the blocks that receive h_{t−1}·U_g. The blocks after them are
    /// written by the cell.
    pub(crate) fn summed_blocks(&self) -> usize {
        self.recurrent_into.iter().fold(self.gates, |most, &block| most.max(block + 1))
    }

    /// The bias' shape.
    pub(crate) fn bias_shape(&self, units: usize) -> Vec<usize> {
        if self.recurrent_bias {
            vec![2, self.columns(units)]
        } else {
            vec![self.columns(units)]
        }
    }

    #[cfg(test)]
    /// Whether the blocks it names exist: each gate's recurrent product lands in a step block,
    /// each recurrent gate's gradient and each kernel gate's gradient in a gradient block.
    pub(crate) fn is_consistent(&self) -> bool {
        let mut gates_seen = vec![false; self.gates];
        self.gates > 0
            && self.recurrent_into.len() == self.gates
            && self.recurrent_into.iter().all(|&b| b < self.step_blocks)
            && self.gates <= self.step_blocks
            && self.recurrent_grad.len() == self.gates
            && self
                .recurrent_grad
                .iter()
                .all(|&g| g < self.gates && !std::mem::replace(&mut gates_seen[g], true))
            && self.input_grad + self.gates <= self.grad_blocks
            && self.gates <= self.grad_blocks
    }
}

pub(crate) use step::CellStep;

mod step {
    use super::CellLayout;
    use ndarray::ArrayD;

    /// What the engine needs of a cell: its [`CellLayout`] and one step forward and backward.
    /// Public only in name, in a private module: it seals [`Cell`](super::Cell).
    pub trait CellStep {
        /// How the cell lays out its step and gradient values.
        const LAYOUT: CellLayout;

        /// The bias a new layer starts from.
        fn initial_bias(&self, units: usize) -> ArrayD<f32> {
            crate::initializers::zeros(&Self::LAYOUT.bias_shape(units))
        }

        /// One step: reads `step` (see [`CellLayout`]), h_{t−1} and c_{t−1}, writes h_t and
        /// c_t (`c` slices are empty without `carry`).
        fn forward(
            &self,
            units: usize,
            step: &mut [f32],
            h_prev: &[f32],
            c_prev: &[f32],
            h: &mut [f32],
            c: &mut [f32],
        );

        /// The step's gradient: `dh` holds dL/dh_t and becomes the part of dL/dh_{t−1} that
        /// does not go through U; `dc` holds dL/dc_t and becomes dL/dc_{t−1}; `grad` receives
        /// the gradient blocks described in [`CellLayout`].
        #[allow(clippy::too_many_arguments)] // The step's cached values and its three gradients.
        fn backward(
            &self,
            units: usize,
            step: &[f32],
            h_prev: &[f32],
            c_prev: &[f32],
            h: &[f32],
            dh: &mut [f32],
            dc: &mut [f32],
            grad: &mut [f32],
        );
    }
}

/// Applies `activation` in place to rows of `units` values, with the vectorised kernels for
/// sigmoid and tanh.
pub(crate) fn activate(activation: Activation, values: &mut [f32], units: usize) {
    match activation {
        Activation::Sigmoid => kernels::sigmoid_inplace(values),
        Activation::Tanh => kernels::tanh_inplace(values),
        other => other.apply_rows(values, units),
    }
}

/// Turns `grad` (dL/dy) into dL/dz in place for `y = activation(z)`, on rows of `units` values.
pub(crate) fn derive(activation: Activation, y: &[f32], grad: &mut [f32], units: usize) {
    match activation {
        Activation::Sigmoid => kernels::sigmoid_derive(y, grad),
        Activation::Tanh => kernels::tanh_derive(y, grad),
        Activation::Softmax => {
            for (y, grad) in y.chunks_exact(units).zip(grad.chunks_exact_mut(units)) {
                activation.backward_row(y, grad);
            }
        }
        other => other.backward_row(y, grad),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::recurrent::cells::{GruCell, LstmCell, SimpleRnnCell};

    #[test]
    fn every_cell_layout_names_blocks_that_exist() {
        for layout in [SimpleRnnCell::LAYOUT, LstmCell::LAYOUT, GruCell::LAYOUT] {
            assert!(layout.is_consistent(), "{layout:?}");
        }
        let broken = CellLayout { recurrent_into: &[0, 5], gates: 2, ..SimpleRnnCell::LAYOUT };
        assert!(!broken.is_consistent());
        let repeated = CellLayout { recurrent_grad: &[0, 0, 1], ..GruCell::LAYOUT };
        assert!(!repeated.is_consistent());
    }

    #[test]
    fn bias_shapes_follow_the_layout() {
        assert_eq!(LstmCell::LAYOUT.bias_shape(3), vec![12]);
        assert_eq!(GruCell::LAYOUT.bias_shape(3), vec![2, 9]);
        assert_eq!(SimpleRnnCell::LAYOUT.bias_shape(3), vec![3]);
    }

    #[test]
    fn summed_blocks_cover_the_gates_and_the_recurrent_products() {
        assert_eq!(SimpleRnnCell::LAYOUT.summed_blocks(), 1);
        // LSTM's fifth block, act(c_t), is the cell's own.
        assert_eq!(LstmCell::LAYOUT.summed_blocks(), 4);
        // GRU's fourth block receives h_{t−1}·U_h.
        assert_eq!(GruCell::LAYOUT.summed_blocks(), 4);
    }
}
