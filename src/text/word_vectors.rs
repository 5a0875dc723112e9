//! Pretrained word vectors (GloVe, word2vec text) and the embedding matrix they give a fitted
//! [`Tokenizer`].
//!
//! The lesson's recipe (pretrained GloVe vectors in a frozen `Embedding`, then fine-tuning), in
//! rnnkit: read the vectors, build the `(input_dim, dim)` matrix for the tokenizer's ids, train
//! with the matrix frozen, then go on with it trainable.
//!
//! ```
//! use rnnkit::prelude::*;
//! use rnnkit::text::{Tokenizer, VectorFormat, WordVectors};
//! # fn main() -> rnnkit::Result<()> {
//! // In practice: WordVectors::read("glove.6B.100d.txt", VectorFormat::Glove)?
//! let glove = "movie 0.1 0.2 0.3\ngreat 0.4 0.5 0.6\nthe 0.7 0.8 0.9\n";
//! let vectors = WordVectors::from_reader(glove.as_bytes(), VectorFormat::Glove)?;
//!
//! let texts = ["A great movie!", "The movie was dull."];
//! let mut tokenizer = Tokenizer::new().num_words(6);
//! tokenizer.fit_on_texts(&texts);
//! // Row i holds the vector of the word with id i; row 0 (padding) and words without a vector
//! // stay zero.
//! let (matrix, coverage) = vectors.embedding_matrix(&tokenizer, 6)?;
//! assert_eq!(matrix.dim(), (6, 3));
//! assert_eq!((coverage.found, coverage.words), (3, 5));
//! println!("{coverage}"); // found vectors for 3 of 5 words (60.0%)
//!
//! // 1. The pretrained vectors, frozen (Keras' `weights=[matrix], trainable=False`): train the
//! //    layers above them.
//! let mut model = Sequential::new();
//! model.add(Embedding::new(6, 3).input_length(4).embeddings(matrix.clone()).trainable(false));
//! model.add(SimpleRnn::new(4));
//! model.add(Dense::new(1).activation(Activation::Sigmoid));
//! model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
//! // model.fit(&x_train, &y_train, &FitConfig::default())?;
//! assert_eq!(model.get_layer("embedding")?.get_weights()[0], matrix.into_dyn());
//!
//! // 2. Fine-tuning: unfreeze the Embedding and compile again (as in Keras, a change of
//! //    `trainable` takes effect at the next `compile`), at a lower learning rate.
//! model.get_layer_mut("embedding")?.set_trainable(true);
//! model.compile(RmsProp::new(1e-4), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
//! // model.fit(&x_train, &y_train, &FitConfig::default())?;
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::Tokenizer;
use crate::{Error, Result};

/// The text layout of a word-vectors file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VectorFormat {
    /// GloVe's: one `word v1 v2 ... vd` line per word, no header. The dimension is the first
    /// line's.
    Glove,
    /// word2vec's text format (gensim's `save_word2vec_format(binary=False)`): a header line
    /// `count dim`, then `count` lines `word v1 ... vd`.
    Word2VecText,
}

/// Word vectors read from a GloVe or word2vec text file: each word's vector, all of one
/// dimension.
///
/// Fields are separated by spaces or tabs; a trailing space or `\r` is ignored, and so are
/// blank lines. A word that occurs twice keeps its last vector (as the dictionary of the Keras
/// recipe does). A word may contain spaces (some GloVe files have `". . ."`): the vector is the
/// line's last `dim` fields, provided the field after the first is not a number (otherwise the
/// line has too many numbers, which is an error).
///
/// All vectors are kept in memory (`4 × dim` bytes per word, 160 MB for GloVe 6B at 100
/// dimensions).
#[derive(Clone, Debug)]
pub struct WordVectors {
    dim: usize,
    index: HashMap<String, usize>,
    /// The vectors, `dim` values per word, in order of first appearance.
    values: Vec<f32>,
}

/// How many of a tokenizer's words [`WordVectors::embedding_matrix`] found a vector for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// The words the matrix has a row for: those with an id from 1 to `input_dim - 1`
    /// (the `oov_token` included, if set).
    pub words: usize,
    /// The words among them that have a vector.
    pub found: usize,
    /// The words without a vector (their rows are zeros), by increasing id: most frequent first.
    pub missing: Vec<String>,
}

impl fmt::Display for Coverage {
    /// `found vectors for 9318 of 9999 words (93.2%)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent =
            if self.words == 0 { 0.0 } else { 100.0 * self.found as f64 / self.words as f64 };
        write!(f, "found vectors for {} of {} words ({percent:.1}%)", self.found, self.words)
    }
}

impl WordVectors {
    /// Reads the vectors of a GloVe or word2vec text file.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::Data`] naming the file and the line
    /// for a line that is not UTF-8, a field that is not a finite number, a vector whose length
    /// differs from the first one's, a missing or bad word2vec header, a word2vec file with more
    /// or fewer vectors than its header says, and a file without any vector.
    pub fn read(path: impl AsRef<Path>, format: VectorFormat) -> Result<Self> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| Error::io(path, source))?;
        parse(BufReader::new(file), format, path)
    }

    /// Reads vectors from any buffered reader (a decompressing one, or bytes in memory), as
    /// [`read`](Self::read) does; errors name the source `(reader)`.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn from_reader(reader: impl BufRead, format: VectorFormat) -> Result<Self> {
        parse(reader, format, Path::new("(reader)"))
    }

    /// The number of values in each vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The number of words.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there is no word (never true for vectors that were read successfully).
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The vector of `word`, if the file had one. Words are matched exactly (case included).
    pub fn get(&self, word: &str) -> Option<&[f32]> {
        let position = *self.index.get(word)?;
        Some(&self.values[position * self.dim..(position + 1) * self.dim])
    }

    /// The `(input_dim, dim)` weights of an `Embedding` for `tokenizer`'s ids: row `i` is the
    /// vector of the word with id `i`, for ids below `input_dim` (the Embedding's `input_dim`,
    /// usually the tokenizer's `num_words`). Row 0 (padding) and the rows of words without a
    /// vector are zeros, as in the Keras recipe; [`Coverage`] says how many were found.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an `input_dim` of 0, or one whose matrix would not fit in
    /// memory's address space.
    pub fn embedding_matrix(
        &self,
        tokenizer: &Tokenizer,
        input_dim: usize,
    ) -> Result<(Array2<f32>, Coverage)> {
        if input_dim == 0 {
            return Err(Error::invalid("input_dim", "a positive integer", input_dim));
        }
        input_dim
            .checked_mul(self.dim)
            .filter(|&cells| cells <= isize::MAX as usize / std::mem::size_of::<f32>())
            .ok_or_else(|| {
                Error::invalid(
                    "input_dim",
                    format!("a number of rows of {} values that fits in memory", self.dim),
                    input_dim,
                )
            })?;
        let mut matrix = Array2::zeros((input_dim, self.dim));
        let mut coverage = Coverage { words: 0, found: 0, missing: Vec::new() };
        for (word, id) in tokenizer.word_index().iter() {
            let row = id as usize;
            if row >= input_dim {
                continue;
            }
            coverage.words += 1;
            match self.get(word) {
                Some(vector) => {
                    matrix.row_mut(row).iter_mut().zip(vector).for_each(|(cell, &v)| *cell = v);
                    coverage.found += 1;
                }
                None => coverage.missing.push(word.to_string()),
            }
        }
        Ok((matrix, coverage))
    }
}

/// The reader's state: what is known after the lines read so far.
struct Parser<'p> {
    path: &'p Path,
    format: VectorFormat,
    /// word2vec's announced count, once its header is read.
    announced: Option<usize>,
    /// The dimension, and the line that set it.
    dim: Option<(usize, usize)>,
    vectors: WordVectors,
}

fn parse(mut reader: impl BufRead, format: VectorFormat, path: &Path) -> Result<WordVectors> {
    let mut parser = Parser {
        path,
        format,
        announced: None,
        dim: None,
        vectors: WordVectors { dim: 0, index: HashMap::new(), values: Vec::new() },
    };
    let mut bytes = Vec::new();
    let mut line_number = 0;
    let mut vectors_read = 0;
    loop {
        bytes.clear();
        let read =
            reader.read_until(b'\n', &mut bytes).map_err(|source| Error::io(path, source))?;
        if read == 0 {
            break;
        }
        line_number += 1;
        let text = std::str::from_utf8(&bytes)
            .map_err(|error| parser.error(line_number, format!("is not UTF-8 text ({error})")))?;
        let text = if line_number == 1 { text.trim_start_matches('\u{feff}') } else { text };
        let text = text.trim_end_matches(['\n', '\r', ' ', '\t']);
        if text.trim().is_empty() {
            continue;
        }
        if format == VectorFormat::Word2VecText && parser.announced.is_none() {
            parser.header(text, line_number)?;
        } else {
            parser.vector(text, line_number)?;
            vectors_read += 1;
        }
    }
    parser.finish(vectors_read)
}

impl Parser<'_> {
    fn error(&self, line: usize, message: impl fmt::Display) -> Error {
        Error::Data { path: PathBuf::from(self.path), message: format!("line {line}: {message}") }
    }

    /// word2vec's `count dim` header.
    fn header(&mut self, text: &str, line: usize) -> Result<()> {
        let fields: Vec<&str> = text.split_ascii_whitespace().collect();
        let positive = |field: &str| field.parse::<usize>().ok().filter(|&n| n > 0);
        match fields.as_slice() {
            [count, dim] => match (count.parse::<usize>().ok(), positive(dim)) {
                (Some(count), Some(dim)) => {
                    self.announced = Some(count);
                    self.dim = Some((dim, line));
                    Ok(())
                }
                _ => Err(self.error(
                    line,
                    format!("the word2vec header `{text}` is not `count dim` (dim positive)"),
                )),
            },
            _ => Err(self.error(
                line,
                format!("expected the word2vec header `count dim`, found `{}`", shorten(text)),
            )),
        }
    }

    /// One `word v1 ... vd` line.
    fn vector(&mut self, text: &str, line: usize) -> Result<()> {
        let fields: Vec<&str> = text.split_ascii_whitespace().collect();
        if fields.len() < 2 {
            return Err(self.error(
                line,
                format!("`{}` has no vector; expected `word v1 v2 ...`", shorten(text)),
            ));
        }
        let (dim, dim_line) = *self.dim.get_or_insert((fields.len() - 1, line));
        let numbers = fields.len() - 1;
        // A word with spaces: more fields than a vector needs, and the second is not a number.
        let word_fields =
            if numbers > dim && fields[1].parse::<f32>().is_err() { fields.len() - dim } else { 1 };
        if fields.len() - word_fields != dim {
            return Err(self.error(
                line,
                format!(
                    "the vector of `{}` has {numbers} values, expected {dim} (the dimension {})",
                    fields[0],
                    if self.format == VectorFormat::Word2VecText {
                        "in the header".to_string()
                    } else {
                        format!("of line {dim_line}")
                    }
                ),
            ));
        }
        let word = fields[..word_fields].join(" ");
        let position = match self.vectors.index.get(&word) {
            Some(&position) => position,
            None => {
                let position = self.vectors.index.len();
                self.vectors.values.resize((position + 1) * dim, 0.0);
                self.vectors.index.insert(word.clone(), position);
                position
            }
        };
        for (column, field) in fields[word_fields..].iter().enumerate() {
            match field.parse::<f32>() {
                Ok(value) if value.is_finite() => {
                    self.vectors.values[position * dim + column] = value;
                }
                _ => {
                    return Err(self.error(
                        line,
                        format!(
                            "value {} of `{word}` is `{field}`; expected a finite number",
                            column + 1
                        ),
                    ))
                }
            }
        }
        self.vectors.dim = dim;
        Ok(())
    }

    fn finish(self, vectors_read: usize) -> Result<WordVectors> {
        let path = PathBuf::from(self.path);
        if let Some(count) = self.announced {
            if count != vectors_read {
                return Err(Error::Data {
                    path,
                    message: format!(
                        "the word2vec header announces {count} vectors, the file has \
                         {vectors_read}; expected as many (a truncated download?)"
                    ),
                });
            }
        }
        if self.vectors.is_empty() {
            return Err(Error::Data {
                path,
                message: match self.format {
                    VectorFormat::Glove => {
                        "no word vectors; expected lines `word v1 v2 ...`".to_string()
                    }
                    VectorFormat::Word2VecText => "no word vectors; expected a header `count \
                                                   dim`, then lines `word v1 v2 ...`"
                        .to_string(),
                },
            });
        }
        Ok(self.vectors)
    }
}

/// The start of a long line, for messages.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}
