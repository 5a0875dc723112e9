//! The lesson on the Simple RNN's short memory, measured: tasks whose label is decided at the start of a
//! sequence, and the same small model with a `SimpleRnn`, a `Gru` or an `Lstm` trained on them
//! at growing sequence lengths.
//!
//! The lesson says a Simple RNN remembers short-range dependencies well and long-range ones
//! badly, and the next lesson's LSTM is the cure. [`RecallTask`] makes a model carry the first
//! value of a sequence through every noisy step after it, precisely enough to tell at the last
//! step whether a second value lies a little above or below it. [`run_sweep`] trains
//! layer(32) → Dense(1, sigmoid) with Adam at lengths 10 to 400, each length starting from the
//! weights learned at the length before, and tabulates the test accuracy ([`MemoryTable`], as
//! text, CSV and an SVG chart): the Simple RNN drops from about 0.98 to about 0.6 (0.5 is
//! guessing) beyond 25 steps while the LSTM and the GRU hold. [`MemoryTask`] is the token version (a marker id
//! first, noise ids after it, through an Embedding): there a Simple RNN latches the one bit
//! into saturated states and holds it too, which the README records.
//!
//! Why: [`power_norms`] shows ‖Aᵗ·h‖ = λᵗ for a recurrence matrix of spectral radius λ (vanishing
//! for 0.9, exploding for 1.2), and [`state_gradients`] computes dL/dh_t in a trained Simple RNN,
//! whose norm falls as t moves away from the end: what happened at the start of a long sequence
//! barely moves the loss, so training cannot learn from it.
//!
//! `examples/long_memory/main.rs` runs all of it; `tests/long_memory.rs` tests it.

mod chart;
mod experiment;
mod recall;
mod task;
mod vanishing;

pub use experiment::{
    kind_name, memory_model, run_sweep, train_and_test, MemoryConfig, MemoryResult, MemoryTable,
    TaskKind,
};
pub use recall::{RecallTask, RECALL_FEATURES};
pub use task::{MemoryTask, FIRST_NOISE, MARKERS};
pub use vanishing::{mean_norms, power_norms, scaled_orthogonal, state_gradients, PowerNorms};
