//! `Gru`: the gated recurrent unit, as Keras 3's `GRU` (with its default `reset_after=True`).
//!
//! From x_t·W + b_in and h_{t−1}·U + b_rec, split into blocks of `units` in Keras' gate order
//! z (update), r (reset), h: z = σ(x_z + r_z), r = σ(x_r + r_r), h̃ = act(x_h + r ⊙ r_h) and
//! h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃, from h_{−1} = 0 (keras/src/layers/rnn/gru.py, `GRUCell.call`
//! with `reset_after`). The loop (chunks, masks, BPTT) is `recurrent.rs`'s; this file holds the
//! step.

use super::recurrent::{activate, derive, recurrent_layer, Cell, Rnn};
use crate::activations::Activation;

/// A gated recurrent unit layer, as Keras 3's `GRU` with its default `reset_after=True` (the
/// formulation of cuDNN, where the reset gate applies after the recurrent product).
///
/// Keeps a state h of `units` values. Each step computes, with x = x_t·W + b_in and
/// ρ = h_{t−1}·U + b_rec split into Keras' gate order update, reset, candidate:
/// z = σ(x_z + ρ_z), r = σ(x_r + ρ_r), h̃ = act(x_h + r ⊙ ρ_h) and
/// h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃, from h_{−1} = 0; σ is the recurrent activation. The weights
/// are Keras': `kernel (input_dim, 3·units)`, `recurrent_kernel (units, 3·units)` and
/// `bias (2, 3·units)` (row 0 b_in, row 1 b_rec), so 3·(units·(units + input_dim) + 2·units)
/// parameters. With a mask, a masked step carries the state (and the output) through unchanged.
///
/// # Shapes
/// Input `(batch, steps, input_dim)`; output `(batch, units)`, or `(batch, steps, units)` with
/// `return_sequences(true)`. With `go_backwards(true)` the sequence is read from its end, and the
/// returned sequence is in that reversed order (Keras' behaviour).
///
/// # Errors
/// `build` fails for `units == 0` or a dropout rate outside `[0, 1)`
/// ([`Error::InvalidArgument`](crate::Error::InvalidArgument)) and for inputs that are not
/// `(steps, features)` sequences
/// ([`Error::ShapeMismatch`](crate::Error::ShapeMismatch)); see [`Layer`](super::Layer) for the
/// errors of `forward` and `backward`.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(Embedding::new(10_000, 32).input_length(500));
/// model.add(Gru::new(32));
/// model.add(Dense::new(1).activation(Activation::Sigmoid));
/// // 3·(units·(units + input_dim) + 2·units) = 3·(32·(32 + 32) + 64)
/// assert_eq!(model.summary()?.layers()[1].params, 6_336);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Gru {
    rnn: Rnn<GruCell>,
}

/// The GRU step and its options.
#[derive(Clone, Debug)]
pub(crate) struct GruCell {
    activation: Activation,
    recurrent_activation: Activation,
}

impl Gru {
    /// A GRU layer with `units` state values. Defaults as Keras 3: tanh activation, sigmoid
    /// recurrent activation, `reset_after`, bias on (zeros), `return_sequences` and
    /// `go_backwards` off, kernel glorot_uniform, recurrent kernel orthogonal.
    pub fn new(units: usize) -> Self {
        let cell =
            GruCell { activation: Activation::Tanh, recurrent_activation: Activation::Sigmoid };
        Gru { rnn: Rnn::new(units, cell) }
    }

    /// The activation `act` of the candidate h̃. Default: [`Activation::Tanh`].
    pub fn activation(mut self, activation: Activation) -> Self {
        self.rnn.cell.activation = activation;
        self
    }

    /// The activation σ of the update and reset gates. Default: [`Activation::Sigmoid`].
    pub fn recurrent_activation(mut self, recurrent_activation: Activation) -> Self {
        self.rnn.cell.recurrent_activation = recurrent_activation;
        self
    }
}

/// Steps keep z, r, h̃ and ρ_h (ρ_h's block receives h_{t−1}·U_h + b_rec,h, kept apart because r
/// multiplies it). The gradient blocks are dL/dρ_h, dz_z, dz_r, dL/d(x_h): the recurrent kernel's
/// gradient reads blocks 0..3 (gates h, z, r), the kernel's blocks 1..4 (gates z, r, h).
impl Cell for GruCell {
    const CLASS_NAME: &'static str = "GRU";
    const GATES: usize = 3;
    const STEP_BLOCKS: usize = 4;
    const RECURRENT_INTO: &'static [usize] = &[0, 1, 3];
    const GRAD_BLOCKS: usize = 4;
    const INPUT_GRAD: usize = 1;
    const RECURRENT_GRAD: &'static [usize] = &[2, 0, 1];
    const CARRY: bool = false;
    const RECURRENT_BIAS: bool = true;

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

recurrent_layer!(Gru);
