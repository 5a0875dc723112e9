//! The step of [`SimpleRnn`](crate::layers::SimpleRnn): what one timestep computes and its gradient.

use crate::activations::Activation;
use crate::layers::recurrent::cell::{Cell, CellLayout, CellStep};
use crate::layers::recurrent::{activate, derive};

/// The step of a [`SimpleRnn`](crate::layers::SimpleRnn) layer (Keras' `SimpleRNNCell`) and its
/// options, set through the layer's setters.
#[derive(Clone, Debug)]
pub struct SimpleRnnCell {
    pub(crate) activation: Activation,
}

impl Cell for SimpleRnnCell {
    const CLASS_NAME: &'static str = "SimpleRNN";
}

/// One block per step: z_t on entry, h_t on exit; the gradient block is dL/dz_t.
impl CellStep for SimpleRnnCell {
    const LAYOUT: CellLayout = CellLayout {
        gates: 1,
        step_blocks: 1,
        recurrent_into: &[0],
        grad_blocks: 1,
        input_grad: 0,
        recurrent_grad: &[0],
        carry: false,
        recurrent_bias: false,
    };

    fn forward(
        &self,
        units: usize,
        step: &mut [f32],
        _h_prev: &[f32],
        _c_prev: &[f32],
        h: &mut [f32],
        _c: &mut [f32],
    ) {
        activate(self.activation, step, units);
        h.copy_from_slice(step);
    }

    fn backward(
        &self,
        units: usize,
        _step: &[f32],
        _h_prev: &[f32],
        _c_prev: &[f32],
        h: &[f32],
        dh: &mut [f32],
        _dc: &mut [f32],
        grad: &mut [f32],
    ) {
        // dz_t = dh_t ⊙ act'(z_t), written through h_t; all of dh_{t−1} goes through U.
        grad.copy_from_slice(dh);
        derive(self.activation, h, grad, units);
        dh.fill(0.0);
    }
}
