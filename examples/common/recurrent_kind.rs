//! The recurrent layer a lesson's model uses, chosen on the command line.

use rnnkit::{Error, Result};

/// The recurrent layer of the model: the lesson's Simple RNN, or the next lesson's cures for
/// its short memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecurrentKind {
    /// `SimpleRnn(state_dim)`, the lesson's model.
    #[default]
    SimpleRnn,
    /// `Lstm(state_dim)`.
    Lstm,
    /// `Gru(state_dim)`.
    Gru,
    /// `Bidirectional(Lstm(state_dim))`, outputs of both directions concatenated.
    BidirectionalLstm,
}

impl std::str::FromStr for RecurrentKind {
    type Err = Error;

    /// Parses `simple-rnn`, `lstm`, `gru` or `bi-lstm`.
    fn from_str(name: &str) -> Result<Self> {
        match name {
            "simple-rnn" => Ok(RecurrentKind::SimpleRnn),
            "lstm" => Ok(RecurrentKind::Lstm),
            "gru" => Ok(RecurrentKind::Gru),
            "bi-lstm" => Ok(RecurrentKind::BidirectionalLstm),
            other => Err(Error::invalid("model", "one of simple-rnn, lstm, gru, bi-lstm", other)),
        }
    }
}
