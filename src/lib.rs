//! Keras-style recurrent neural networks for Rust: a [`Sequential`](model::Sequential) model
//! stacked from layers ([`Embedding`](layers::Embedding), [`SimpleRnn`](layers::SimpleRnn),
//! [`Dense`](layers::Dense), [`Flatten`](layers::Flatten), [`Masking`](layers::Masking)), a
//! `summary()` with Keras' parameter counts, and `compile` / `fit` / `evaluate` / `predict` with
//! Keras' names, defaults and numbers — on a CPU, in pure Rust.
//!
//! Coming from Keras? [`doc::keras_users`] sets the Keras program and the rnnkit one side by
//! side and lists what differs.
//!
//! # Quickstart
//!
//! The lesson's sentiment model, summarised, trained, evaluated and used for prediction, here
//! on random ids standing in for reviews (`examples/quickstart.rs` is the same program on more
//! samples; `examples/sentiment.rs` trains it on real IMDB reviews):
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
//! let scores = model.evaluate(&x, &y, 32)?;
//! println!("{scores}");
//! let probabilities = model.predict(&x, 32)?;
//! assert_eq!(probabilities.shape(), &[40, 1]);
//! # Ok(())
//! # }
//! ```
//!
//! # The lesson: a Simple RNN
//!
//! rnnkit starts from lesson 3 of Shusen Wang's course "RNN models and NLP applications": a
//! Simple RNN that reads a movie review word by word and says whether it is positive.
//!
//! ## What h_t = tanh(x_t·W + h_{t−1}·U + b) means
//!
//! A recurrent layer reads a sequence x_0, x_1, …, x_T one element at a time and keeps a state
//! vector h of `units` values. Each step mixes the new element into the state:
//!
//! ```text
//! h_t = tanh(x_t·W + h_{t−1}·U + b),    h_{−1} = 0
//!
//! x_t  (input_dim)            the t-th element: the 32-value embedding of the t-th word
//! W    (input_dim, units)     kernel: reads the element
//! U    (units, units)         recurrent_kernel: carries the previous state forward
//! b    (units)                bias
//! ```
//!
//! The same W, U and b serve every step, so h_0 holds x_0, h_1 holds x_0 and x_1, and the last
//! state h_T holds the whole sequence: that one vector is what the classifier reads. The lesson
//! writes the step with a single matrix A acting on the state and the element stacked
//! together, h_t = tanh(A·[h_{t−1}; x_t]), where A = [Uᵀ Wᵀ] has `units` rows and
//! `units + input_dim` columns. [`SimpleRnn`](layers::SimpleRnn) computes exactly this, with
//! Keras' initialisers (W glorot-uniform, U orthogonal, b zeros) and weight order.
//!
//! ## Why it has units·(units + input_dim) + units parameters
//!
//! A has `units` rows of `units + input_dim` values, and the bias adds one value per unit:
//! units·(units + input_dim) + units. The lesson's layer has 32 units reading 32-value word
//! vectors: 32·(32 + 32) + 32 = 2,080. With the embedding table (10,000 words × 32 = 320,000)
//! and the sigmoid classifier (32 weights + 1 bias = 33), the model has 322,113:
//!
//! ```
//! use rnnkit::prelude::*;
//!
//! # fn main() -> rnnkit::Result<()> {
//! let mut model = Sequential::new();
//! model.add(Embedding::new(10_000, 32).input_length(500));
//! model.add(SimpleRnn::new(32));
//! model.add(Dense::new(1).activation(Activation::Sigmoid));
//! let (units, input_dim) = (32, 32);
//! let params: Vec<usize> = model.summary()?.layers().iter().map(|row| row.params).collect();
//! assert_eq!(params, [10_000 * 32, units * (units + input_dim) + units, 32 + 1]);
//! # Ok(())
//! # }
//! ```
//!
//! ## Why tanh
//!
//! Leave out the activation and the input after the first step: then h_t = h_{t−1}·U, so
//! h_100 = h_0·U¹⁰⁰, and U¹⁰⁰ is ruled by U's largest eigenvalue λ. With λ = 0.9,
//! 0.9¹⁰⁰ ≈ 3·10⁻⁵: the state (and the gradient that flows back through it) vanishes. With
//! λ = 1.2, 1.2¹⁰⁰ ≈ 8·10⁷: it explodes. tanh squashes every value of the state into (−1, 1)
//! at each step, so the state cannot explode, whatever U is. (Vanishing remains: a Simple RNN
//! remembers short-range dependencies well and long-range ones badly.) The same experiment with
//! rnnkit, a two-unit layer with U = λ·I fed a single 1 and then 99 zeros:
//!
//! ```
//! use ndarray::{Array1, Array2, Array3};
//! use rnnkit::prelude::*;
//!
//! /// The last state of SimpleRnn(2) with U = λ·I, W = [1, 1] and b = 0, after 100 steps.
//! fn last_state(activation: Activation, lambda: f32) -> rnnkit::Result<f32> {
//!     let mut model = Sequential::new();
//!     model.add(SimpleRnn::new(2).activation(activation));
//!     model.build(&[100, 1])?;
//!     let kernel = Array2::<f32>::ones((1, 2)).into_dyn();
//!     let recurrent_kernel = (Array2::<f32>::eye(2) * lambda).into_dyn();
//!     let bias = Array1::<f32>::zeros(2).into_dyn();
//!     model.set_weights(vec![kernel, recurrent_kernel, bias])?;
//!     let mut x = Array3::<f32>::zeros((1, 100, 1));
//!     x[[0, 0, 0]] = 1.0;
//!     Ok(model.predict(&x, 1)?[[0, 0]])
//! }
//!
//! # fn main() -> rnnkit::Result<()> {
//! assert!(last_state(Activation::Linear, 0.9)? < 1e-4); // 0.9⁹⁹ ≈ 3·10⁻⁵: vanishes
//! assert!(last_state(Activation::Linear, 1.2)? > 1e7); // 1.2⁹⁹ ≈ 7·10⁷: explodes
//! let bounded = last_state(Activation::Tanh, 1.2)?; // settles where h = tanh(1.2·h)
//! assert!(0.5 < bounded && bounded < 1.0);
//! # Ok(())
//! # }
//! ```
//!
//! ## Many-to-one and many-to-many: `return_sequences`
//!
//! By default ([`return_sequences(false)`](layers::SimpleRnn::return_sequences)) the layer
//! returns only its last state, `(batch, units)`: many-to-one, what a review classifier needs.
//! With `return_sequences(true)` it returns every state h_0..h_T, `(batch, steps, units)`:
//! many-to-many, for another recurrent layer on top, or — the lesson's variant — a
//! [`Flatten`](layers::Flatten) that joins the 500 states into one vector of 16,000 for the
//! classifier (whose 16,001 weights bring the model to 338,081):
//!
//! ```
//! use rnnkit::prelude::*;
//!
//! # fn main() -> rnnkit::Result<()> {
//! let mut many_to_one = Sequential::new();
//! many_to_one.add(Embedding::new(10_000, 32).input_length(500));
//! many_to_one.add(SimpleRnn::new(32)); // (None, 32)
//! many_to_one.add(Dense::new(1).activation(Activation::Sigmoid));
//! assert_eq!(many_to_one.summary()?.layers()[1].output_shape, [32]);
//!
//! let mut many_to_many = Sequential::new();
//! many_to_many.add(Embedding::new(10_000, 32).input_length(500));
//! many_to_many.add(SimpleRnn::new(32).return_sequences(true)); // (None, 500, 32)
//! many_to_many.add(Flatten::new()); // (None, 16000)
//! many_to_many.add(Dense::new(1).activation(Activation::Sigmoid));
//! let summary = many_to_many.summary()?;
//! assert_eq!(summary.layers()[1].output_shape, [500, 32]);
//! assert_eq!(summary.total_params(), 338_081);
//! # Ok(())
//! # }
//! ```
//!
//! ## Training it on IMDB
//!
//! `cargo run --release --example sentiment` runs the lesson end to end: the 50,000 labeled
//! reviews of Stanford's IMDB archive ([`datasets::imdb`]), a 10,000-word
//! [`Tokenizer`](text::Tokenizer), reviews cut or padded to 500 ids
//! ([`pad_sequences`](text::pad_sequences)), a 20,000 / 5,000 training / validation split
//! ([`sentiment`]), then RMSprop(0.001), binary cross-entropy, batch 32, 3 epochs, and
//! `evaluate` on the 25,000 test reviews: about 0.86 test accuracy, as in Keras. Few epochs are
//! the lesson's guard against overfitting, and the learning curves show why:
//! [`History::plot_svg`](model::History::plot_svg) draws them (`--plot curves.svg`).
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
pub mod datasets;
pub mod doc;
mod error;
mod initializers;
mod kernels;
pub mod layers;
pub mod long_memory;
pub mod losses;
pub mod metrics;
pub mod model;
pub mod optimizers;
pub mod param;
mod plot;
pub mod prelude;
mod saving;
pub mod sentiment;
mod shape;
pub mod text;

pub use error::{Error, Result};
