//! rnnkit: Keras-style recurrent neural networks in Rust.
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod activations;
mod atomic_write;
pub mod datasets;
mod error;
mod initializers;
mod kernels;
pub mod layers;
pub mod losses;
pub mod metrics;
pub mod model;
pub mod optimizers;
pub mod prelude;
pub mod sentiment;
mod shape;
pub mod text;

pub use error::{Error, Result};
