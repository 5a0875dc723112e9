//! The step of [`Lstm`](crate::layers::Lstm): what one timestep computes and its gradient.

use crate::activations::Activation;
use crate::layers::recurrent::cell::{Cell, CellLayout, CellStep};
use crate::layers::recurrent::{activate, derive};
use ndarray::ArrayD;

/// The step of an [`Lstm`](crate::layers::Lstm) layer (Keras' `LSTMCell`) and its options, set
/// through the layer's setters.
#[derive(Clone, Debug)]
pub struct LstmCell {
    pub(crate) activation: Activation,
    pub(crate) recurrent_activation: Activation,
    pub(crate) unit_forget_bias: bool,
}

impl Cell for LstmCell {
    const CLASS_NAME: &'static str = "LSTM";
}

/// Steps keep i, f, g, o and act(c_t) (five blocks); the gradient blocks are dz_i, dz_f, dz_c,
/// dz_o, the same for the kernel and the recurrent kernel.
impl CellStep for LstmCell {
    const LAYOUT: CellLayout = CellLayout {
        gates: 4,
        step_blocks: 5,
        recurrent_into: &[0, 1, 2, 3],
        grad_blocks: 4,
        input_grad: 0,
        recurrent_grad: &[0, 1, 2, 3],
        carry: true,
        recurrent_bias: false,
    };

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
