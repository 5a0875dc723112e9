//! Text preprocessing with the semantics of Keras' legacy `Tokenizer` and `pad_sequences`.
//!
//! The lesson's pipeline, in Keras and in rnnkit:
//!
//! ```python
//! tokenizer = Tokenizer(num_words=10000)
//! tokenizer.fit_on_texts(train_texts)
//! x_train = pad_sequences(tokenizer.texts_to_sequences(train_texts), maxlen=500)
//! ```
//!
//! ```
//! use rnnkit::text::{pad_sequences, Padding, Tokenizer, Truncating};
//! # fn main() -> rnnkit::Result<()> {
//! let train_texts = ["A great movie!", "A dull, dull movie."];
//! let mut tokenizer = Tokenizer::new().num_words(10_000);
//! tokenizer.fit_on_texts(&train_texts);
//! let sequences = tokenizer.texts_to_sequences(&train_texts);
//! let x_train = pad_sequences(&sequences, Some(500), Padding::Pre, Truncating::Pre, 0.0)?;
//! assert_eq!(x_train.dim(), (2, 500));
//! # Ok(())
//! # }
//! ```
//!
//! Token ids are `u32`; [`pad_sequences`] turns them into the `f32` array rnnkit's models take.
//! [`WordVectors`] reads pretrained GloVe or word2vec vectors into an `Embedding`'s weights.

mod matrix;
mod sequence;
mod tokenizer;
mod word_table;
mod word_vectors;

pub use matrix::MatrixMode;
pub use sequence::{pad_sequences, Padding, Truncating};
pub use tokenizer::{strip_html_breaks, Tokenizer, WordIndex, DEFAULT_FILTERS};
pub use word_vectors::{Coverage, VectorFormat, WordVectors};
