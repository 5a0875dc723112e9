//! Keras-style recurrent neural networks in pure Rust: a [`Sequential`](model::Sequential)
//! model stacked from layers ([`Embedding`](layers::Embedding), [`SimpleRnn`](layers::SimpleRnn),
//! [`Lstm`](layers::Lstm), [`Gru`](layers::Gru), [`Bidirectional`](layers::Bidirectional),
//! [`Dense`](layers::Dense), [`Dropout`](layers::Dropout), [`Flatten`](layers::Flatten),
//! [`Masking`](layers::Masking)), a `summary()` with Keras' parameter counts, `compile` / `fit` /
//! `evaluate` / `predict` with callbacks, and whole saved models, with Keras' names, defaults and
//! numbers, fast on a CPU.
//!
//! Coming from Keras? [`doc::keras_users`] sets the Keras program and the rnnkit one side by
//! side and lists what differs. The README walks through the course the crate follows; the
//! examples run its lessons (`cargo run --release --example sentiment`, `long_memory`).
//!
//! # Quickstart
//!
//! The lesson's sentiment model, summarised, trained, evaluated and used for prediction, on
//! random ids standing in for reviews:
//!
//! ```
//! use ndarray::{Array1, Array2};
//! use rand::rngs::StdRng;
//! use rand::{Rng, SeedableRng};
//! use rnnkit::prelude::*;
//!
//! # fn main() -> rnnkit::Result<()> {
//! let mut model = Sequential::new();
//! model.add(Embedding::new(10_000, 32).input_length(500));
//! model.add(SimpleRnn::new(32).return_sequences(false));
//! model.add(Dense::new(1).activation(Activation::Sigmoid));
//! let summary = model.summary()?;
//! println!("{summary}");
//! assert_eq!(summary.total_params(), 322_113);
//!
//! model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
//! let mut rng = StdRng::seed_from_u64(42);
//! let x: Array2<f32> = Array2::from_shape_fn((40, 500), |_| rng.gen_range(0..10_000) as f32);
//! let y: Array1<f32> = Array1::from_shape_fn(40, |_| rng.gen_range(0..2) as f32);
//! let config = FitConfig {
//!     epochs: 2,
//!     batch_size: 8,
//!     validation_split: 0.2,
//!     verbose: 0,
//!     ..FitConfig::default()
//! };
//! let history = model.fit(&x, &y, &config)?;
//! println!("{:?}", history.metric("val_accuracy"));
//! let scores = model.evaluate(&x, &y)?;
//! println!("{scores}");
//! let probabilities = model.predict(&x)?;
//! assert_eq!(probabilities.shape(), &[40, 1]);
//! # Ok(())
//! # }
//! ```
//!
//! # Modules
//!
//! - [`layers`]: the [`Layer`](layers::Layer) trait, its shared state and capabilities, and
//!   the layers.
//! - [`model`]: [`Sequential`](model::Sequential), its summary, training and history.
//! - [`losses`], [`metrics`], [`optimizers`], [`activations`], [`callbacks`]: what `compile` and
//!   `fit` take.
//! - [`param`]: weights with their gradients, and timestep masks.
//! - [`text`] and [`datasets`]: tokenizing, padding, and the IMDB reviews.
//! - [`sampling`]: drawing the next token from a softmax with a temperature.
//! - [`plot`]: learning curves and attention weights as SVG charts.
//! - [`prelude`]: everything a typical program needs.
//! - [`doc`]: guides, documentation only.
//!
//! # Conventions
//!
//! - Arrays are [`ndarray`] arrays of `f32`, token ids included; a batch's first axis is the
//!   sample. Shapes given to rnnkit (`build(&[500])`, a layer's input shape) leave the batch
//!   axis out, as Keras' `input_shape` does; shapes in messages print Keras-style,
//!   `(None, 500, 32)`.
//! - Each layer documents its formula, its `# Shapes` and its `# Errors`.
//! - Every fallible call returns [`Result`], whose [`Error`] says what was wrong, what was
//!   expected and what was found; nothing panics on user input.
//! - A model's weights come from its own generator, seeded with 0 unless
//!   [`Sequential::seed`](model::Sequential::seed) says otherwise: the same program gives the
//!   same numbers on every run, whatever the number of threads.
//! - Everything a program usually needs is in [`prelude`].
//!
//! # Cargo features
//!
//! - `download` (on by default): when the IMDB archive is found nowhere else,
//!   [`datasets::imdb::load`] downloads it once into the user cache (with `ureq` over rustls).
//!   Without it (`default-features = false`), `load` only reads local copies and its error says
//!   where to put the file.
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod activations;
mod atomic_write;
pub mod callbacks;
pub mod data;
pub mod datasets;
pub mod doc;
mod error;
mod initializers;
mod kernels;
pub mod layers;
pub mod losses;
pub mod metrics;
pub mod model;
pub mod optimizers;
pub mod param;
pub mod plot;
pub mod prelude;
pub mod sampling;
mod saving;
mod shape;
pub mod text;
pub mod training;

pub use error::{Error, Result};
