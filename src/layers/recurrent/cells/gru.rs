//! The step of [`Gru`](crate::layers::Gru): what one timestep computes and its gradient.

use crate::activations::Activation;
use crate::layers::recurrent::cell::{Cell, CellLayout, CellStep};
use crate::layers::recurrent::{activate, derive};

/// The step of a [`Gru`](crate::layers::Gru) layer (Keras' `GRUCell`) and its options, set through
/// the layer's setters.
#[derive(Clone, Debug)]
pub struct GruCell {
    pub(crate) activation: Activation,
    pub(crate) recurrent_activation: Activation,
}

impl Cell for GruCell {
    const CLASS_NAME: &'static str = "GRU";
}

/// Steps keep z, r, h̃ and ρ_h (ρ_h's block receives h_{t−1}·U_h + b_rec,h, kept apart because r
/// multiplies it). The gradient blocks are dL/dρ_h, dz_z, dz_r, dL/d(x_h): the recurrent kernel's
/// gradient reads blocks 0..3 (gates h, z, r), the kernel's blocks 1..4 (gates z, r, h).
impl CellStep for GruCell {
    const LAYOUT: CellLayout = CellLayout {
        gates: 3,
        step_blocks: 4,
        recurrent_into: &[0, 1, 3],
        grad_blocks: 4,
        input_grad: 1,
        recurrent_grad: &[2, 0, 1],
        carry: false,
        recurrent_bias: true,
    };

    fn forward(
        &self,
        units: usize,
        step: &mut [f32],
        h_prev: &[f32],
        _c_prev: &[f32],
        h: &mut [f32],
        _c: &mut [f32],
    ) {
        let n = h.len();
        activate(self.recurrent_activation, &mut step[..2 * n], units);
        let (gates, rest) = step.split_at_mut(2 * n);
        let (z, r) = gates.split_at(n);
        let (candidate, recurrent_h) = rest.split_at_mut(n);
        // h̃ = act(x_h + r ⊙ ρ_h)
        for ((x, &r), &rho) in candidate.iter_mut().zip(r).zip(recurrent_h.iter()) {
            *x += r * rho;
        }
        activate(self.activation, candidate, units);
        // h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃
        for (((h, &z), &h_prev), &candidate) in
            h.iter_mut().zip(z).zip(h_prev).zip(candidate.iter())
        {
            *h = z * h_prev + (1.0 - z) * candidate;
        }
    }

    fn backward(
        &self,
        units: usize,
        step: &[f32],
        h_prev: &[f32],
        _c_prev: &[f32],
        _h: &[f32],
        dh: &mut [f32],
        _dc: &mut [f32],
        grad: &mut [f32],
    ) {
        let n = dh.len();
        let (z, rest) = step.split_at(n);
        let (r, rest) = rest.split_at(n);
        let (candidate, recurrent_h) = rest.split_at(n);
        let (d_recurrent_h, rest) = grad.split_at_mut(n);
        let (dz_z, rest) = rest.split_at_mut(n);
        let (dz_r, dz_h) = rest.split_at_mut(n);
        for (((dz_h, dz_z), &dh), ((&z, &h_prev), &candidate)) in dz_h
            .iter_mut()
            .zip(dz_z.iter_mut())
            .zip(dh.iter())
            .zip(z.iter().zip(h_prev).zip(candidate))
        {
            *dz_h = dh * (1.0 - z);
            *dz_z = dh * (h_prev - candidate);
        }
        derive(self.activation, candidate, dz_h, units);
        derive(self.recurrent_activation, z, dz_z, units);
        for ((((d_rho, dz_r), dh), &dz_h), ((&r, &rho), &z)) in d_recurrent_h
            .iter_mut()
            .zip(dz_r.iter_mut())
            .zip(dh.iter_mut())
            .zip(dz_h.iter())
            .zip(r.iter().zip(recurrent_h).zip(z))
        {
            *d_rho = dz_h * r;
            *dz_r = dz_h * rho;
            // The part of dL/dh_{t−1} that does not go through U.
            *dh *= z;
        }
        derive(self.recurrent_activation, r, dz_r, units);
    }
}
