//! The step of [`SimpleRnn`](crate::layers::SimpleRnn): what one timestep computes and its gradient.

use crate::activations::Activation;
use crate::layers::recurrent::{activate, derive, Cell};

/// The step of a [`SimpleRnn`](crate::layers::SimpleRnn) layer (Keras' `SimpleRNNCell`) and its
/// options, set through the layer's setters.
#[derive(Clone, Debug)]
pub struct SimpleRnnCell {
    pub(crate) activation: Activation,
}

/// One block per step: z_t on entry, h_t on exit; the gradient block is dL/dz_t.
impl Cell for SimpleRnnCell {
    const CLASS_NAME: &'static str = "SimpleRNN";
    const GATES: usize = 1;
    const STEP_BLOCKS: usize = 1;
    const RECURRENT_INTO: &'static [usize] = &[0];
    const GRAD_BLOCKS: usize = 1;
    const INPUT_GRAD: usize = 0;
    const RECURRENT_GRAD: &'static [usize] = &[0];
    const CARRY: bool = false;
    const RECURRENT_BIAS: bool = false;

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
