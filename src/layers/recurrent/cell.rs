//! The [`Cell`] trait: one step of a recurrent layer, what differs between SimpleRNN, LSTM and
//! GRU; and the activations the cells apply, vectorised for sigmoid and tanh.

use crate::activations::Activation;
use crate::initializers;
use crate::kernels;
use ndarray::ArrayD;
use std::fmt::Debug;

/// One step of a recurrent layer: what differs between SimpleRNN, LSTM and GRU.
///
/// A step works on the `rows` samples of a chunk at once. Its values are blocks of
/// `n = rows·units` values, each a `(rows, units)` matrix: the states h and c, and the step's
/// `STEP_BLOCKS` blocks. When [`Cell::forward`] is called, blocks `0..GATES` hold the input
/// projection x_t·W_g + b_g of each gate `g` (W_g the g-th block of `units` columns of the
/// kernel), and h_{t−1}·U_g has been added into block `RECURRENT_INTO[g]` (with the recurrent
/// bias, if any); `forward` leaves in the blocks what [`Cell::backward`] needs. `backward`
/// writes `GRAD_BLOCKS` gradient blocks: dL/d(x_t·W_g) in block `INPUT_GRAD + g`, and
/// dL/d(h_{t−1}·U_g) in block `k` where `RECURRENT_GRAD[k] == g`.
///
/// The trait is sealed: the cells are [`SimpleRnnCell`](crate::layers::SimpleRnnCell),
/// [`LstmCell`](crate::layers::LstmCell) and [`GruCell`](crate::layers::GruCell).
pub trait Cell: sealed::Sealed + Clone + Debug + Send + Sync {
    /// Keras' class name (`"LSTM"`).
    const CLASS_NAME: &'static str;
    /// Blocks of `units` columns in the kernel and the recurrent kernel.
    const GATES: usize;
    /// Blocks kept per step.
    const STEP_BLOCKS: usize;
    /// Where h_{t−1}·U_g is added, per gate.
    const RECURRENT_INTO: &'static [usize];
    /// Gradient blocks per step.
    const GRAD_BLOCKS: usize;
    /// The gradient block of the kernel's first gate; the others follow.
    const INPUT_GRAD: usize;
    /// The recurrent kernel's gate of each of the first `GATES` gradient blocks.
    const RECURRENT_GRAD: &'static [usize];
    /// Whether the cell has a second state that steps carry (LSTM's c), beside h.
    const CARRY: bool;
    /// Whether the bias is `(2, GATES·units)`, input then recurrent bias (GRU's `reset_after`),
    /// rather than `(GATES·units)`.
    const RECURRENT_BIAS: bool;

    /// The bias a new layer starts from.
    fn initial_bias(&self, units: usize) -> ArrayD<f32> {
        let shape = if Self::RECURRENT_BIAS {
            vec![2, Self::GATES * units]
        } else {
            vec![Self::GATES * units]
        };
        initializers::zeros(&shape)
    }

    /// One step: reads `step` (see the trait), h_{t−1} and c_{t−1}, writes h_t and c_t (`c`
    /// slices are empty without `CARRY`).
    fn forward(
        &self,
        units: usize,
        step: &mut [f32],
        h_prev: &[f32],
        c_prev: &[f32],
        h: &mut [f32],
        c: &mut [f32],
    );

    /// The step's gradient: `dh` holds dL/dh_t and becomes the part of dL/dh_{t−1} that does not
    /// go through U; `dc` holds dL/dc_t and becomes dL/dc_{t−1}; `grad` receives the gradient
    /// blocks described in the trait.
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

mod sealed {
    /// Implemented by the crate's cells only.
    pub trait Sealed {}
    impl Sealed for super::super::cells::SimpleRnnCell {}
    impl Sealed for super::super::cells::LstmCell {}
    impl Sealed for super::super::cells::GruCell {}
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
        Activation::Sigmoid => grad.iter_mut().zip(y).for_each(|(g, &y)| *g *= y * (1.0 - y)),
        Activation::Tanh => grad.iter_mut().zip(y).for_each(|(g, &y)| *g *= 1.0 - y * y),
        Activation::Softmax => {
            for (y, grad) in y.chunks_exact(units).zip(grad.chunks_exact_mut(units)) {
                activation.backward_row(y, grad);
            }
        }
        other => other.backward_row(y, grad),
    }
}
