//! The cells: one step of SimpleRNN, LSTM and GRU, each with its gradient.

mod gru;
mod lstm;
mod simple_rnn;

pub(crate) use gru::GruCell;
pub(crate) use lstm::LstmCell;
pub(crate) use simple_rnn::SimpleRnnCell;
