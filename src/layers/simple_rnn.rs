//! `SimpleRnn`: the fully-connected recurrent layer of the lesson, [`Recurrent`] around
//! [`SimpleRnnCell`].

use super::recurrent::cells::SimpleRnnCell;
use super::recurrent::Recurrent;
use crate::activations::Activation;

/// A fully-connected recurrent layer, as Keras' `SimpleRNN`.
///
/// Reads a sequence step by step and keeps a state vector of `units` values:
/// h_t = act(x_t·W + h_{t−1}·U + b), starting from h_{−1} = 0. With a mask, a masked step carries
/// the state (and, with `return_sequences`, the output) through unchanged, as Keras does.
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
/// model.add(SimpleRnn::new(32));
/// // units·(units + input_dim) + units = 32·(32 + 32) + 32
/// assert_eq!(model.summary()?.layers()[1].params, 2_080);
/// # Ok(())
/// # }
/// ```
pub type SimpleRnn = Recurrent<SimpleRnnCell>;

impl Recurrent<SimpleRnnCell> {
    /// A recurrent layer with `units` state values. Defaults as Keras: tanh activation, bias on,
    /// `return_sequences` and `go_backwards` off, weights glorot_uniform / orthogonal / zeros.
    pub fn new(units: usize) -> Self {
        Recurrent::with_cell(units, SimpleRnnCell { activation: Activation::Tanh })
    }

    /// The activation `act` of the update. Default: [`Activation::Tanh`].
    pub fn activation(mut self, activation: Activation) -> Self {
        self.cell_mut().activation = activation;
        self
    }
}
