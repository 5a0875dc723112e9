//! `Gru`: the gated recurrent unit layer, [`Recurrent`] around [`GruCell`].

use super::recurrent::cells::GruCell;
use super::recurrent::Recurrent;
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
/// Shapes, errors and the options every recurrent layer shares (`return_sequences`,
/// `go_backwards`, dropout, ...) are [`Recurrent`]'s.
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
pub type Gru = Recurrent<GruCell>;

impl Recurrent<GruCell> {
    /// A GRU layer with `units` state values. Defaults as Keras 3: tanh activation, sigmoid
    /// recurrent activation, `reset_after`, bias on (zeros), `return_sequences` and
    /// `go_backwards` off, kernel glorot_uniform, recurrent kernel orthogonal.
    pub fn new(units: usize) -> Self {
        let cell =
            GruCell { activation: Activation::Tanh, recurrent_activation: Activation::Sigmoid };
        Recurrent::with_cell(units, cell)
    }

    /// The activation `act` of the candidate h̃. Default: [`Activation::Tanh`].
    pub fn activation(mut self, activation: Activation) -> Self {
        self.cell_mut().activation = activation;
        self
    }

    /// The activation σ of the update and reset gates. Default: [`Activation::Sigmoid`].
    pub fn recurrent_activation(mut self, recurrent_activation: Activation) -> Self {
        self.cell_mut().recurrent_activation = recurrent_activation;
        self
    }
}
