//! `Lstm`: the long short-term memory layer, [`Recurrent`] around [`LstmCell`].

use super::recurrent::cells::LstmCell;
use super::recurrent::Recurrent;
use crate::activations::Activation;

/// A long short-term memory layer, as Keras' `LSTM`.
///
/// Keeps two states of `units` values, h (the output) and the cell c. Each step computes four
/// gates from z_t = x_t·W + h_{t−1}·U + b, in Keras' order input, forget, candidate, output:
/// i = σ(z_i), f = σ(z_f), g = act(z_c), o = σ(z_o), then c_t = f ⊙ c_{t−1} + i ⊙ g and
/// h_t = o ⊙ act(c_t), from zero states (or given ones, see [`Recurrent`]); σ is the recurrent
/// activation. The weights are Keras':
/// `kernel (input_dim, 4·units)`, `recurrent_kernel (units, 4·units)` and `bias (4·units)`, the
/// gates as consecutive blocks of `units` columns, so 4·(units·(units + input_dim) + units)
/// parameters. With a mask, a masked step carries both states (and the output) through unchanged.
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
/// model.add(Lstm::new(32));
/// model.add(Dense::new(1).activation(Activation::Sigmoid));
/// // 4·(units·(units + input_dim) + units) = 4·(32·(32 + 32) + 32)
/// assert_eq!(model.summary()?.layers()[1].params, 8_320);
/// # Ok(())
/// # }
/// ```
pub type Lstm = Recurrent<LstmCell>;

impl Recurrent<LstmCell> {
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
        Recurrent::with_cell(units, cell)
    }

    /// The activation `act` of the candidate g and of the cell in h_t = o ⊙ act(c_t).
    /// Default: [`Activation::Tanh`].
    pub fn activation(mut self, activation: Activation) -> Self {
        self.cell_mut().activation = activation;
        self
    }

    /// The activation σ of the input, forget and output gates. Default:
    /// [`Activation::Sigmoid`].
    pub fn recurrent_activation(mut self, recurrent_activation: Activation) -> Self {
        self.cell_mut().recurrent_activation = recurrent_activation;
        self
    }

    /// Whether the forget gate's bias starts at 1 rather than 0 (Jozefowicz et al., 2015), so
    /// that the cell remembers by default. Default: `true`.
    pub fn unit_forget_bias(mut self, unit_forget_bias: bool) -> Self {
        self.cell_mut().unit_forget_bias = unit_forget_bias;
        self
    }
}
