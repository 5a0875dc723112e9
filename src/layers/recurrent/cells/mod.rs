//! The cells: one step of SimpleRNN, LSTM and GRU, each with its gradient.

mod gru;
mod lstm;
mod simple_rnn;

pub use gru::GruCell;
pub use lstm::LstmCell;
pub use simple_rnn::SimpleRnnCell;
