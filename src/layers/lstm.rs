//! `Lstm`: the long short-term memory layer, as Keras' `LSTM`.
//!
//! z_t = x_t·W + h_{t−1}·U + b, split into four blocks of `units` in Keras' gate order i, f, c, o:
//! i = σ(z_i), f = σ(z_f), g = act(z_c), o = σ(z_o); c_t = f ⊙ c_{t−1} + i ⊙ g and
//! h_t = o ⊙ act(c_t), from h_{−1} = c_{−1} = 0 (keras/src/layers/rnn/lstm.py, `LSTMCell.call`).
//! The loop (chunks, masks, BPTT) is `recurrent.rs`'s; this file holds the step.

use super::recurrent::{activate, derive, recurrent_layer, Cell, Rnn};
use crate::activations::Activation;
use ndarray::ArrayD;

/// A long short-term memory layer, as Keras' `LSTM`.
///
/// Keeps two states of `units` values, h (the output) and the cell c. Each step computes four
/// gates from z_t = x_t·W + h_{t−1}·U + b, in Keras' order input, forget, candidate, output:
/// i = σ(z_i), f = σ(z_f), g = act(z_c), o = σ(z_o), then c_t = f ⊙ c_{t−1} + i ⊙ g and
/// h_t = o ⊙ act(c_t), from zero states; σ is the recurrent activation. The weights are Keras':
/// `kernel (input_dim, 4·units)`, `recurrent_kernel (units, 4·units)` and `bias (4·units)`, the
/// gates as consecutive blocks of `units` columns, so 4·(units·(units + input_dim) + units)
/// parameters. With a mask, a masked step carries both states (and the output) through unchanged.
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
/// model.add(Lstm::new(32));
/// model.add(Dense::new(1).activation(Activation::Sigmoid));
/// // 4·(units·(units + input_dim) + units) = 4·(32·(32 + 32) + 32)
/// assert_eq!(model.summary()?.layers()[1].params, 8_320);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Lstm {
    rnn: Rnn<LstmCell>,
}

/// The LSTM step and its options.
#[derive(Clone, Debug)]
pub(crate) struct LstmCell {
    activation: Activation,
    recurrent_activation: Activation,
    unit_forget_bias: bool,
}

impl Lstm {
    /// An LSTM layer with `units` state values. Defaults as Keras: tanh activation, sigmoid
    /// recurrent activation, bias on with the forget gate's initialised to 1
    /// (`unit_forget_bias`), `return_sequences` and `go_backwards` off, kernel glorot_uniform,
    /// recurrent kernel orthogonal.
    pub fn new(units: usize) -> Self {
        let cell = LstmCell {
            activation: Activation::Tanh,
            recurrent_activation: Activation::Sigmoid,
            unit_forget_bias: true,
        };
        Lstm { rnn: Rnn::new(units, cell) }
    }

    /// The activation `act` of the candidate g and of the cell in h_t = o ⊙ act(c_t).
    /// Default: [`Activation::Tanh`].
    pub fn activation(mut self, activation: Activation) -> Self {
        self.rnn.cell.activation = activation;
        self
    }

    /// The activation σ of the input, forget and output gates. Default:
    /// [`Activation::Sigmoid`].
    pub fn recurrent_activation(mut self, recurrent_activation: Activation) -> Self {
        self.rnn.cell.recurrent_activation = recurrent_activation;
        self
    }

    /// Whether the forget gate's bias starts at 1 rather than 0 (Jozefowicz et al., 2015), so
    /// that the cell remembers by default. Default: `true`.
    pub fn unit_forget_bias(mut self, unit_forget_bias: bool) -> Self {
        self.rnn.cell.unit_forget_bias = unit_forget_bias;
        self
    }
}

/// Steps keep i, f, g, o and act(c_t) (five blocks); the gradient blocks are dz_i, dz_f, dz_c,
/// dz_o, the same for the kernel and the recurrent kernel.
impl Cell for LstmCell {
    const CLASS_NAME: &'static str = "LSTM";
    const GATES: usize = 4;
    const STEP_BLOCKS: usize = 5;
    const RECURRENT_INTO: &'static [usize] = &[0, 1, 2, 3];
    const GRAD_BLOCKS: usize = 4;
    const INPUT_GRAD: usize = 0;
    const RECURRENT_GRAD: &'static [usize] = &[0, 1, 2, 3];
    const CARRY: bool = true;
    const RECURRENT_BIAS: bool = false;

    /// Zeros, and ones for the forget gate with `unit_forget_bias` (Keras' `bias_initializer`).
    fn initial_bias(&self, units: usize) -> ArrayD<f32> {
        let mut bias = ArrayD::zeros(vec![4 * units]);
        if self.unit_forget_bias {
            bias.iter_mut().skip(units).take(units).for_each(|b| *b = 1.0);
        }
        bias
    }

    fn forward(
        &self,
        units: usize,
        step: &mut [f32],
        _h_prev: &[f32],
        c_prev: &[f32],
        h: &mut [f32],
        c: &mut [f32],
    ) {
        let n = h.len();
        let (gates, cell_output) = step.split_at_mut(4 * n);
        activate(self.recurrent_activation, &mut gates[..2 * n], units);
        activate(self.activation, &mut gates[2 * n..3 * n], units);
        activate(self.recurrent_activation, &mut gates[3 * n..], units);
        let (i, rest) = gates.split_at(n);
        let (f, rest) = rest.split_at(n);
        let (g, o) = rest.split_at(n);
        // c_t = f ⊙ c_{t−1} + i ⊙ g
        for (((c, &c_prev), (&f, &i)), &g) in c.iter_mut().zip(c_prev).zip(f.iter().zip(i)).zip(g) {
            *c = f * c_prev + i * g;
        }
        // h_t = o ⊙ act(c_t)
        cell_output.copy_from_slice(c);
        activate(self.activation, cell_output, units);
        for ((h, &o), &a) in h.iter_mut().zip(o).zip(cell_output.iter()) {
            *h = o * a;
        }
    }

    fn backward(
        &self,
        units: usize,
        step: &[f32],
        _h_prev: &[f32],
        c_prev: &[f32],
        _h: &[f32],
        dh: &mut [f32],
        dc: &mut [f32],
        grad: &mut [f32],
    ) {
        let n = dh.len();
        let (i, rest) = step.split_at(n);
        let (f, rest) = rest.split_at(n);
        let (g, rest) = rest.split_at(n);
        let (o, cell_output) = rest.split_at(n);
        let (dz_i, rest) = grad.split_at_mut(n);
        let (dz_f, rest) = rest.split_at_mut(n);
        let (dz_c, dz_o) = rest.split_at_mut(n);
        let (act, recurrent_act) = (self.activation, self.recurrent_activation);
        // dL/dc_t = dc + dh ⊙ o ⊙ act'(c_t), with dz_c as scratch.
        for ((d, &dh), &o) in dz_c.iter_mut().zip(dh.iter()).zip(o) {
            *d = dh * o;
        }
        derive(act, &cell_output[..n], dz_c, units);
        for (dc, &d) in dc.iter_mut().zip(dz_c.iter()) {
            *dc += d;
        }
        // The gates' gradients before their activations, and dL/dc_{t−1} = dL/dc_t ⊙ f.
        for (((dz_o, &dh), &a), ((dz_i, dz_f), ((dz_c, dc), (((&i, &f), &g), &c_prev)))) in
            dz_o.iter_mut().zip(dh.iter()).zip(cell_output).zip(
                dz_i.iter_mut().zip(dz_f.iter_mut()).zip(
                    dz_c.iter_mut().zip(dc.iter_mut()).zip(i.iter().zip(f).zip(g).zip(c_prev)),
                ),
            )
        {
            *dz_o = dh * a;
            *dz_i = *dc * g;
            *dz_f = *dc * c_prev;
            *dz_c = *dc * i;
            *dc *= f;
        }
        derive(recurrent_act, o, dz_o, units);
        derive(recurrent_act, i, dz_i, units);
        derive(recurrent_act, f, dz_f, units);
        derive(act, g, dz_c, units);
        // h_{t−1} reaches h_t only through U.
        dh.fill(0.0);
    }
}

recurrent_layer!(Lstm);
