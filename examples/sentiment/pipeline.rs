//! The lesson's IMDB sentiment pipeline: reviews → word ids → the Simple RNN model.
//!
//! It reproduces what the lesson's Keras program does before `fit`: `<br />` line breaks
//! stripped, a `Tokenizer(num_words=10000)` fitted on the training reviews, sequences cut or
//! padded to 500 ids (`pad_sequences`, 'pre' / 'pre'), the 25,000 training reviews shuffled with a
//! fixed seed and split 20,000 / 5,000 into training and validation, and the model
//! Embedding(10000, 32) → SimpleRNN(32) → Dense(1, sigmoid). `examples/sentiment/main.rs` runs it;
//! `tests/sentiment.rs` tests it.

use crate::recurrent_kind::RecurrentKind;
use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rnnkit::activations::Activation;
use rnnkit::datasets::imdb::{Imdb, Split};
use rnnkit::layers::{Bidirectional, Dense, Embedding, Flatten, Gru, Lstm, SimpleRnn};
use rnnkit::model::Sequential;
use rnnkit::text::{pad_sequences, strip_html_breaks, Padding, Tokenizer, Truncating};
use rnnkit::{Error, Result};

/// The lesson's settings; `SentimentConfig::default()` is the lesson.
#[derive(Clone, Debug, PartialEq)]
pub struct SentimentConfig {
    /// Vocabulary: ids 1..num_words are kept, rarer words dropped. Default: 10,000.
    pub num_words: usize,
    /// Ids per review after cutting or padding (Keras' `maxlen`). Default: 500.
    pub maxlen: usize,
    /// Dimension of the word vectors. Default: 32.
    pub embedding_dim: usize,
    /// Units of the SimpleRnn state. Default: 32.
    pub state_dim: usize,
    /// Fraction of the training reviews held out for validation. Default: 0.2 (20,000 / 5,000).
    pub validation_fraction: f64,
    /// Use only this many training and this many test reviews (a balanced random sample), for a
    /// quick run. Default: all.
    pub limit: Option<usize>,
    /// The recurrent layer. Default: [`RecurrentKind::SimpleRnn`].
    pub recurrent: RecurrentKind,
    /// The lesson's many-to-many variant: SimpleRnn(return_sequences) → Flatten → Dense.
    /// Default: `false`.
    pub return_sequences: bool,
    /// Treat id 0 (the padding) as masked: the recurrent layer then skips the leading padded
    /// steps of each batch, so an epoch costs in proportion to the reviews' real lengths. This
    /// changes the model (Keras' `mask_zero=True`), not just its speed. Default: `false`, as in
    /// the lesson.
    pub mask_zero: bool,
    /// The recurrent layer's `dropout` (of its input features, while training). Default: 0.
    pub dropout: f32,
    /// The recurrent layer's `recurrent_dropout` (of its state, while training). Default: 0.
    pub recurrent_dropout: f32,
    /// Seed of the shuffling and of the model's weights. Default: 1.
    pub seed: u64,
}

impl Default for SentimentConfig {
    fn default() -> Self {
        SentimentConfig {
            num_words: 10_000,
            maxlen: 500,
            embedding_dim: 32,
            state_dim: 32,
            validation_fraction: 0.2,
            limit: None,
            recurrent: RecurrentKind::SimpleRnn,
            return_sequences: false,
            mask_zero: false,
            dropout: 0.0,
            recurrent_dropout: 0.0,
            seed: 1,
        }
    }
}

/// Reviews as padded id sequences, ready for `fit`: ids as `f32`, labels 0 / 1.
#[derive(Debug)]
pub struct SentimentData {
    /// The tokenizer fitted on the training reviews (training and validation).
    pub tokenizer: Tokenizer,
    /// Training sequences `(samples, maxlen)`.
    pub x_train: Array2<f32>,
    /// Training labels.
    pub y_train: Array1<f32>,
    /// Validation sequences.
    pub x_val: Array2<f32>,
    /// Validation labels.
    pub y_val: Array1<f32>,
    /// Test sequences.
    pub x_test: Array2<f32>,
    /// Test labels.
    pub y_test: Array1<f32>,
    /// Padding / cutting length.
    maxlen: usize,
}

impl SentimentData {
    /// Turns new texts into model input the way the training reviews were prepared.
    ///
    /// # Errors
    /// As [`pad_sequences`].
    pub fn encode<S: AsRef<str>>(&self, texts: &[S]) -> Result<Array2<f32>> {
        let cleaned: Vec<String> = texts.iter().map(|t| strip_html_breaks(t.as_ref())).collect();
        let sequences = self.tokenizer.texts_to_sequences(&cleaned);
        pad_sequences(&sequences, Some(self.maxlen), Padding::Pre, Truncating::Pre, 0.0)
    }
}

/// Prepares the lesson's data from the loaded reviews.
///
/// The training reviews are shuffled with `config.seed`, then split into training and validation;
/// the tokenizer is fitted on both (the 25,000 training reviews, as the lesson does before its
/// split). With `config.limit`, a shuffled sample of that many training and test reviews is used.
///
/// # Errors
/// [`Error::InvalidArgument`] for a zero `num_words`, `maxlen` or `limit`, or a
/// `validation_fraction` that leaves no training or no validation review; [`Error::EmptyInput`]
/// when a split has no review.
pub fn prepare(imdb: Imdb, config: &SentimentConfig) -> Result<SentimentData> {
    if config.num_words < 2 {
        return Err(Error::invalid("num_words", "an integer ≥ 2", config.num_words));
    }
    if config.limit == Some(0) {
        return Err(Error::invalid("limit", "a positive number of reviews", 0));
    }
    let Imdb { train, test } = imdb;
    let mut rng = StdRng::seed_from_u64(config.seed);
    let train_order = sample(&train, config.limit, &mut rng, "training reviews")?;
    let test_order = sample(&test, config.limit, &mut rng, "test reviews")?;
    let validation = (train_order.len() as f64 * config.validation_fraction).round() as usize;
    if !(0.0..1.0).contains(&config.validation_fraction) || validation >= train_order.len() {
        return Err(Error::invalid(
            "validation_fraction",
            format!("a fraction in [0, 1) leaving training reviews out of {}", train_order.len()),
            config.validation_fraction,
        ));
    }

    // Texts are cleaned one at a time as they stream into the tokenizer, and each split's texts
    // are freed once encoded: the peak memory stays near one copy of the reviews.
    let mut tokenizer = Tokenizer::new().num_words(config.num_words);
    tokenizer.fit_on_texts(train_order.iter().map(|&i| strip_html_breaks(&train.texts[i])));
    let pad = |sequences: &[Vec<u32>]| {
        pad_sequences(sequences, Some(config.maxlen), Padding::Pre, Truncating::Pre, 0.0)
    };
    let encode = |split: Split, order: &[usize]| {
        let labels: Array1<f32> = order.iter().map(|&i| split.labels[i]).collect();
        let texts = order.iter().map(|&i| strip_html_breaks(&split.texts[i]));
        (tokenizer.texts_to_sequences(texts), labels)
    };
    let (train_sequences, y_all) = encode(train, &train_order);
    let split_at = train_order.len() - validation;
    let x_train = pad(&train_sequences[..split_at])?;
    let x_val = pad(&train_sequences[split_at..])?;
    drop(train_sequences);
    let y_train = y_all.slice(ndarray::s![..split_at]).to_owned();
    let y_val = y_all.slice(ndarray::s![split_at..]).to_owned();
    let (test_sequences, y_test) = encode(test, &test_order);
    let x_test = pad(&test_sequences)?;
    let maxlen = config.maxlen;
    Ok(SentimentData { tokenizer, x_train, y_train, x_val, y_val, x_test, y_test, maxlen })
}

/// Indices of a split in shuffled order, cut to `limit`.
fn sample(
    split: &Split,
    limit: Option<usize>,
    rng: &mut StdRng,
    what: &'static str,
) -> Result<Vec<usize>> {
    if split.is_empty() {
        return Err(Error::EmptyInput(what));
    }
    let mut order: Vec<usize> = (0..split.len()).collect();
    order.shuffle(rng);
    order.truncate(limit.unwrap_or(usize::MAX));
    Ok(order)
}

/// The lesson's model, built but not compiled.
///
/// Embedding(num_words, embedding_dim, input_length = maxlen) → SimpleRnn(state_dim) →
/// Dense(1, sigmoid), or with `return_sequences` the many-to-many variant
/// SimpleRnn(state_dim, return_sequences) → Flatten → Dense(1, sigmoid); weights seeded with
/// `config.seed`. `config.recurrent` swaps the SimpleRnn for an Lstm, a Gru or a bidirectional
/// Lstm of the same size, with `config.dropout` and `config.recurrent_dropout`.
///
/// # Errors
/// Any error of the layers' `build` (a zero size, a dropout rate outside `[0, 1)`).
pub fn lesson_model(config: &SentimentConfig) -> Result<Sequential> {
    let mut model = Sequential::new().seed(config.seed);
    model.add(
        Embedding::new(config.num_words, config.embedding_dim)
            .input_length(config.maxlen)
            .mask_zero(config.mask_zero),
    );
    macro_rules! recurrent {
        ($layer:ident) => {
            $layer::new(config.state_dim)
                .return_sequences(config.return_sequences)
                .dropout(config.dropout)
                .recurrent_dropout(config.recurrent_dropout)
        };
    }
    match config.recurrent {
        RecurrentKind::SimpleRnn => model.add(recurrent!(SimpleRnn)),
        RecurrentKind::Lstm => model.add(recurrent!(Lstm)),
        RecurrentKind::Gru => model.add(recurrent!(Gru)),
        RecurrentKind::BidirectionalLstm => model.add(Bidirectional::new(recurrent!(Lstm))),
    }
    if config.return_sequences {
        model.add(Flatten::new());
    }
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.summary()?;
    Ok(model)
}
