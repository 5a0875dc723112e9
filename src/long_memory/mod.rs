//! The Simple RNN's short memory, measured: a task whose label is decided by the first token of
//! a sequence, and the same small model with a `SimpleRnn`, a `Gru` or an `Lstm` trained on it
//! at growing sequence lengths.
//!
//! The lesson says a Simple RNN remembers short-range dependencies well and long-range ones
//! badly, and the next lesson's LSTM is the cure. Here the only useful token is the first one
//! ([`MemoryTask`]: the id at step 0 is the class marker, every other id is noise), so a model
//! must carry it through every step after it. [`run_sweep`] trains
//! Embedding(12, 32) → layer(32) → Dense(1, sigmoid) with Adam at lengths 10 to 400 and tabulates
//! the test accuracy ([`MemoryTable`], as text, CSV and an SVG chart). Which layer finds the
//! marker far from the end depends on the training settings: with the defaults (Adam(0.01))
//! the Simple RNN falls to the 0.5 of guessing beyond 100 steps while the GRU holds; the
//! README records the measured table, and how it changes with a smaller learning rate.
//!
//! Why: [`power_norms`] shows ‖Aᵗ·h‖ = λᵗ for a recurrence matrix of spectral radius λ (vanishing
//! for 0.9, exploding for 1.2), and [`state_gradients`] computes dL/dh_t in a trained Simple RNN,
//! whose norm falls as t moves away from the end: what happened at the start of a long sequence
//! barely moves the loss, so training cannot learn from it.
//!
//! `examples/long_memory.rs` runs all of it.
//!
//! ```
//! use rnnkit::long_memory::{run_sweep, MemoryConfig};
//! use rnnkit::sentiment::RecurrentKind;
//! # fn main() -> rnnkit::Result<()> {
//! let config = MemoryConfig {
//!     lengths: vec![5, 10],
//!     kinds: vec![RecurrentKind::SimpleRnn, RecurrentKind::Lstm],
//!     train_samples: 64,
//!     test_samples: 32,
//!     epochs: 2,
//!     ..MemoryConfig::default()
//! };
//! let table = run_sweep(&config, |_, _| Ok(()))?;
//! assert_eq!(table.results().len(), 4);
//! assert!(table.to_csv().starts_with("steps,simple_rnn,lstm\n5,"));
//! println!("{table}");
//! # Ok(())
//! # }
//! ```

mod chart;
mod experiment;
mod task;
mod vanishing;

pub use experiment::{
    kind_name, memory_model, run_sweep, train_and_test, MemoryConfig, MemoryResult, MemoryTable,
};
pub use task::{MemoryTask, FIRST_NOISE, MARKERS};
pub use vanishing::{mean_norms, power_norms, scaled_orthogonal, state_gradients, PowerNorms};
