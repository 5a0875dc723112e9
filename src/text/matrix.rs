//! `Tokenizer::texts_to_matrix` and `sequences_to_matrix`: one row per text, one column per id,
//! in Keras' modes.

use ndarray::Array2;

use super::Tokenizer;
use crate::{Error, Result};

/// What a cell of [`Tokenizer::texts_to_matrix`] holds (Keras' `mode`). Default: `Binary`.
///
/// For a text whose sequence has `length` ids, `count` of them equal to the column's id, which
/// occurs in `docs` of the `document_count` fitted texts:
///
/// | mode | value where `count > 0` (else 0) |
/// |---|---|
/// | `Binary` | 1 |
/// | `Count` | `count` |
/// | `Freq` | `count / length` |
/// | `Tfidf` | `(1 + ln count) · ln(1 + document_count / (1 + docs))` |
///
/// As in Keras, `length` counts every id of the sequence, those past the last column included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MatrixMode {
    /// Keras' `"binary"`: whether the id occurs.
    #[default]
    Binary,
    /// Keras' `"count"`: how many times the id occurs.
    Count,
    /// Keras' `"tfidf"`: the count's log-scaled term frequency times the smoothed inverse
    /// document frequency of the fitted texts (weighting scheme 2 of Wikipedia's tf-idf page).
    Tfidf,
    /// Keras' `"freq"`: the count over the sequence's length.
    Freq,
}

impl Tokenizer {
    /// One row per text: [`texts_to_sequences`](Self::texts_to_sequences), then
    /// [`sequences_to_matrix`](Self::sequences_to_matrix).
    ///
    /// ```
    /// use rnnkit::text::{MatrixMode, Tokenizer};
    /// # fn main() -> rnnkit::Result<()> {
    /// let mut tokenizer = Tokenizer::new();
    /// tokenizer.fit_on_texts(["good good film", "bad film"]);
    /// // Ids: good 1, film 2, bad 3; column 0 is never used.
    /// let counts = tokenizer.texts_to_matrix(["film good good film good"], MatrixMode::Count)?;
    /// assert_eq!(counts, ndarray::array![[0.0, 3.0, 2.0, 0.0]]);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`sequences_to_matrix`](Self::sequences_to_matrix).
    pub fn texts_to_matrix<I, S>(&self, texts: I, mode: MatrixMode) -> Result<Array2<f32>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.sequences_to_matrix(&self.texts_to_sequences(texts), mode)
    }

    /// One row per sequence and one column per id below `num_words`, holding `mode`'s value
    /// (Keras' `sequences_to_matrix`); ids of `num_words` or more are left out. Without
    /// `num_words`, the columns are the vocabulary's size plus one (for id 0).
    ///
    /// Values are computed in `f64`, as Keras does, and rounded once to `f32`.
    ///
    /// ```
    /// use rnnkit::text::{MatrixMode, Tokenizer};
    /// # fn main() -> rnnkit::Result<()> {
    /// let tokenizer = Tokenizer::new().num_words(4);
    /// // An unfitted tokenizer with num_words sizes its rows; ids 4 and 9 have no column.
    /// let freq = tokenizer.sequences_to_matrix(&[vec![1, 1, 3, 4], vec![9]], MatrixMode::Freq)?;
    /// assert_eq!(freq, ndarray::array![[0.0, 0.5, 0.0, 0.25], [0.0; 4]]);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (for `num_words`) when `num_words` is not set and the tokenizer
    /// knows no word (Keras' "Specify a dimension"), when the matrix would not fit in memory's
    /// address space, and (for `mode`) with [`MatrixMode::Tfidf`] when no text was fitted.
    pub fn sequences_to_matrix<S: AsRef<[u32]>>(
        &self,
        sequences: &[S],
        mode: MatrixMode,
    ) -> Result<Array2<f32>> {
        let columns = match self.num_words.filter(|&n| n > 0) {
            Some(num_words) => num_words,
            // Keras sizes the matrix from its `word_index`, which is empty until a fit.
            None if self.fitted && !self.word_index.is_empty() => self.word_index.len() + 1,
            None => {
                return Err(Error::invalid(
                    "num_words",
                    "a positive integer, or a tokenizer fitted on some text first (Keras: \
                     \"Specify a dimension (`num_words` argument), or fit on some text data \
                     first.\")",
                    "None with an empty vocabulary",
                ))
            }
        };
        if mode == MatrixMode::Tfidf && self.document_count == 0 {
            return Err(Error::invalid(
                "mode",
                "a tokenizer fitted on some texts before using MatrixMode::Tfidf (Keras: \"Fit \
                 the Tokenizer on some data before using tfidf mode.\")",
                "MatrixMode::Tfidf on a tokenizer fitted on no text",
            ));
        }
        let rows = sequences.len();
        let cells = rows
            .checked_mul(columns)
            .filter(|&cells| cells <= isize::MAX as usize / std::mem::size_of::<f32>())
            .ok_or_else(|| {
                Error::invalid(
                    "num_words",
                    format!("a matrix of {rows} rows that fits in memory"),
                    format!("{columns} columns"),
                )
            })?;
        let idf = match mode {
            MatrixMode::Tfidf => self.inverse_document_frequencies(columns),
            _ => Vec::new(),
        };
        let mut matrix = vec![0.0f32; cells];
        // Per-row counts by column, and the columns a row touched (to reset them after).
        let mut counts = vec![0u32; columns];
        let mut touched: Vec<usize> = Vec::new();
        for (row, sequence) in matrix.chunks_exact_mut(columns.max(1)).zip(sequences) {
            let sequence = sequence.as_ref();
            for &id in sequence {
                let id = id as usize;
                if id < columns {
                    if counts[id] == 0 {
                        touched.push(id);
                    }
                    counts[id] += 1;
                }
            }
            for &column in &touched {
                let count = f64::from(counts[column]);
                let value = match mode {
                    MatrixMode::Binary => 1.0,
                    MatrixMode::Count => count,
                    MatrixMode::Freq => count / sequence.len() as f64,
                    MatrixMode::Tfidf => (1.0 + count.ln()) * idf[column],
                };
                row[column] = value as f32;
                counts[column] = 0;
            }
            touched.clear();
        }
        Array2::from_shape_vec((rows, columns), matrix).map_err(|error| {
            Error::invalid("num_words", "a matrix shape ndarray accepts", error.to_string())
        })
    }

    /// `ln(1 + document_count / (1 + docs))` for each id below `columns`, `docs` being the number
    /// of fitted texts the id's word occurred in (0 for the `oov_token` and unused ids).
    fn inverse_document_frequencies(&self, columns: usize) -> Vec<f64> {
        let mut docs = vec![0usize; columns];
        for (word, id) in self.word_index.iter() {
            if let (Some(slot), Some(position)) =
                (docs.get_mut(id as usize), self.counted.find(word))
            {
                *slot = self.docs[position];
            }
        }
        let documents = self.document_count as f64;
        docs.iter().map(|&docs| (1.0 + documents / (1.0 + docs as f64)).ln()).collect()
    }
}
