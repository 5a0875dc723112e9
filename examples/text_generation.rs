//! The text-generation lesson's character-level model (Shusen Wang, "RNN models and NLP
//! applications", lesson 6, after Chollet's "Deep Learning with Python", 8.1), trained on the
//! text of the IMDB reviews. The Keras program it reproduces:
//!
//! ```python
//! maxlen, step = 60, 3
//! sentences = [text[i : i + maxlen] for i in range(0, len(text) - maxlen, step)]
//! next_chars = [text[i + maxlen] for i in range(0, len(text) - maxlen, step)]
//! # x: (windows, 60, chars) one-hot; y: (windows, chars) one-hot
//! model = Sequential()
//! model.add(LSTM(128, input_shape=(maxlen, len(chars))))
//! model.add(Dense(len(chars), activation='softmax'))
//! model.compile(loss='categorical_crossentropy', optimizer=RMSprop(lr=0.01))
//! for epoch in range(1, epochs + 1):
//!     model.fit(x, y, batch_size=128, epochs=1)
//!     seed = text[start : start + maxlen]
//!     for temperature in [0.2, 0.5, 1.0]:
//!         ...  # 400 times: predict the next character, sample(preds, temperature), append
//! ```
//!
//! The text is the training reviews, lowercased, their `<br />` line breaks stripped, one review
//! per line, cut to `--chars` characters; the characters are numbered by a character-level
//! `Tokenizer`. The one-hot windows are made batch by batch (all of them at once would take
//! `windows × 60 × chars` floats).
//!
//! Run: `cargo run --release --example text_generation` (`-- --help` for the flags;
//! `RNNKIT_TEXT_CHARS` sets the default of `--chars`).

use clap::Parser;
use ndarray::{Array2, Array3};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rnnkit::datasets::imdb;
use rnnkit::prelude::*;
use rnnkit::sampling::sample;
use rnnkit::text::{strip_html_breaks, Tokenizer};
use rnnkit::training::{Batch, DataSource};
use rnnkit::{Error, Result};
use std::path::PathBuf;
use std::time::Instant;

/// Characters the model reads to predict the next one (the lesson's `maxlen`).
pub const MAXLEN: usize = 60;
/// A window starts every `STEP` characters (the lesson's `step`).
pub const STEP: usize = 3;
/// The temperatures each epoch's samples are drawn at.
pub const TEMPERATURES: [f32; 3] = [0.2, 0.5, 1.0];
/// The variable that sets the default of `--chars`.
const CHARS_ENV: &str = "RNNKIT_TEXT_CHARS";
/// Characters of text by default: the whole run takes a few minutes on two cores.
const DEFAULT_CHARS: usize = 200_000;

/// Trains the lesson's character-level LSTM on IMDB reviews and prints generated text.
#[derive(Parser, Debug)]
struct Args {
    /// `aclImdb_v1.tar.gz`, an unpacked `aclImdb/`, or a folder holding either.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Characters of review text to train on (default 200,000, or `RNNKIT_TEXT_CHARS`).
    #[arg(long)]
    chars: Option<usize>,
    /// Passes over the windows; a sample is printed after each.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Windows per gradient update.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// RMSprop's learning rate (the lesson's 0.01).
    #[arg(long, default_value_t = 0.01)]
    learning_rate: f32,
    /// Characters generated at each temperature (the lesson's 400).
    #[arg(long, default_value_t = 400)]
    length: usize,
    /// Seed of the weights, the shuffling, the seed window and the sampling.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// The training text as character ids, and the characters they stand for.
pub struct Corpus {
    /// The text's characters, as indices into `chars` (the tokenizer's id − 1).
    pub ids: Vec<u32>,
    /// The characters, most frequent first: the one-hot axis.
    pub chars: Vec<String>,
}

impl Corpus {
    /// The first `max_chars` characters of `reviews`, each with its `<br />` stripped, one per
    /// line, lowercased and numbered by a character-level [`Tokenizer`].
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the text is shorter than one window and its next
    /// character.
    pub fn new(reviews: &[String], max_chars: usize) -> Result<Corpus> {
        let mut text = String::new();
        let mut count = 0;
        for review in reviews.iter().map(|review| strip_html_breaks(review)) {
            if count >= max_chars {
                break;
            }
            count += review.chars().count() + 1;
            text.push_str(&review);
            text.push('\n');
        }
        let text: String = text.chars().take(max_chars).collect();
        let mut tokenizer = Tokenizer::new().char_level(true);
        tokenizer.fit_on_texts([&text]);
        let ids: Vec<u32> = tokenizer.texts_to_sequences([&text]).remove(0);
        if ids.len() <= MAXLEN {
            return Err(Error::invalid(
                "chars",
                format!("more than {MAXLEN} characters of text"),
                ids.len(),
            ));
        }
        let index = tokenizer.word_index();
        let chars = (1..=index.len() as u32)
            .map(|id| index.word(id).unwrap_or_default().to_string())
            .collect();
        Ok(Corpus { ids: ids.into_iter().map(|id| id - 1).collect(), chars })
    }

    /// The number of distinct characters.
    pub fn vocabulary(&self) -> usize {
        self.chars.len()
    }

    /// The number of windows: one every [`STEP`] characters, each followed by its next one.
    pub fn windows(&self) -> usize {
        (self.ids.len() - MAXLEN).div_ceil(STEP)
    }

    /// The characters of `ids`, as text.
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter().map(|&id| self.chars[id as usize].as_str()).collect()
    }
}

/// The windows of a [`Corpus`] as one-hot batches: x `(batch, 60, chars)`, y `(batch, chars)`,
/// in a new order every epoch.
pub struct Windows<'a> {
    corpus: &'a Corpus,
    order: Vec<usize>,
    rng: StdRng,
    batch_size: usize,
    next: usize,
}

impl<'a> Windows<'a> {
    /// Every window of `corpus`, `batch_size` a batch, shuffled by a generator seeded with
    /// `seed`.
    pub fn new(corpus: &'a Corpus, batch_size: usize, seed: u64) -> Self {
        let order = (0..corpus.windows()).map(|w| w * STEP).collect();
        Windows { corpus, order, rng: StdRng::seed_from_u64(seed), batch_size, next: 0 }
    }
}

impl DataSource for Windows<'_> {
    fn samples(&self) -> usize {
        self.order.len()
    }

    fn start_epoch(&mut self) {
        self.order.shuffle(&mut self.rng);
        self.next = 0;
    }

    fn next_batch(&mut self) -> Result<Option<Batch>> {
        let starts = &self.order[self.next.min(self.order.len())..];
        let starts = &starts[..starts.len().min(self.batch_size)];
        if starts.is_empty() {
            return Ok(None);
        }
        self.next += starts.len();
        let ids = &self.corpus.ids;
        let vocabulary = self.corpus.vocabulary();
        let mut x = Array3::<f32>::zeros((starts.len(), MAXLEN, vocabulary));
        let mut y = Array2::<f32>::zeros((starts.len(), vocabulary));
        for (row, &start) in starts.iter().enumerate() {
            for (step, &id) in ids[start..start + MAXLEN].iter().enumerate() {
                x[[row, step, id as usize]] = 1.0;
            }
            y[[row, ids[start + MAXLEN] as usize]] = 1.0;
        }
        Ok(Some(Batch::new(vec![x.into_dyn()], vec![y.into_dyn()])))
    }
}

/// The lesson's model: LSTM(128) over `(60, chars)` one-hot windows → Dense(chars, softmax),
/// compiled with RMSprop(`learning_rate`) and categorical cross-entropy.
///
/// # Errors
/// Those of `build` and `compile`.
pub fn lesson_model(vocabulary: usize, learning_rate: f32, seed: u64) -> Result<Sequential> {
    let mut model = Sequential::new().seed(seed);
    model.add(Lstm::new(128));
    model.add(Dense::new(vocabulary).activation(Activation::Softmax));
    model.build(&[MAXLEN, vocabulary])?;
    model.compile(RmsProp::new(learning_rate), Loss::CategoricalCrossentropy, &[])?;
    Ok(model)
}

/// Trains `model` for one epoch over `windows` and returns the epoch's loss.
///
/// # Errors
/// The model's training errors.
pub fn train_epoch(model: &mut Sequential, windows: &mut Windows<'_>, verbose: u8) -> Result<f32> {
    let config = FitConfig { epochs: 1, verbose, ..FitConfig::default() };
    let history = rnnkit::training::fit(model, windows, None, &config, &mut [])?;
    Ok(history.metric("loss").and_then(|l| l.last().copied()).unwrap_or(f32::NAN))
}

/// Extends the window `seed` by `length` characters, each drawn at `temperature` from the
/// model's prediction for the last [`MAXLEN`] characters; returns the new characters' ids.
///
/// # Errors
/// [`Error::InvalidArgument`] for a seed of another length than [`MAXLEN`]; the model's and
/// [`sample`]'s errors.
pub fn generate(
    model: &mut Sequential,
    vocabulary: usize,
    seed: &[u32],
    temperature: f32,
    length: usize,
    rng: &mut impl Rng,
) -> Result<Vec<u32>> {
    if seed.len() != MAXLEN {
        return Err(Error::invalid("seed", format!("{MAXLEN} characters"), seed.len()));
    }
    let mut window: Vec<u32> = seed.to_vec();
    let mut generated = Vec::with_capacity(length);
    let mut x = Array3::<f32>::zeros((1, MAXLEN, vocabulary));
    for _ in 0..length {
        x.fill(0.0);
        for (step, &id) in window.iter().enumerate() {
            x[[0, step, id as usize]] = 1.0;
        }
        // (1, chars)
        let probabilities: Vec<f32> = model.predict(&x)?.iter().copied().collect();
        let next = sample(&probabilities, temperature, rng)? as u32;
        generated.push(next);
        window.remove(0);
        window.push(next);
    }
    Ok(generated)
}

fn chars_default() -> Result<usize> {
    match std::env::var(CHARS_ENV) {
        Ok(value) => value
            .trim()
            .parse()
            .map_err(|_| Error::invalid(CHARS_ENV, "a number of characters", value)),
        Err(_) => Ok(DEFAULT_CHARS),
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let max_chars = match args.chars {
        Some(chars) => chars,
        None => chars_default()?,
    };
    let reviews = imdb::load(args.data.as_deref())?.train.texts;
    let corpus = Corpus::new(&reviews, max_chars)?;
    println!(
        "{} characters of review text, {} distinct; {} windows of {MAXLEN} every {STEP}; \
         prepared in {:.1} s",
        corpus.ids.len(),
        corpus.vocabulary(),
        corpus.windows(),
        started.elapsed().as_secs_f64()
    );
    let mut model = lesson_model(corpus.vocabulary(), args.learning_rate, args.seed)?;
    println!("{}", model.summary()?);
    let mut windows = Windows::new(&corpus, args.batch_size, args.seed);
    let mut rng = StdRng::seed_from_u64(args.seed);
    for epoch in 1..=args.epochs {
        let training = Instant::now();
        let loss = train_epoch(&mut model, &mut windows, 0)?;
        println!(
            "\nepoch {epoch}/{}: loss {loss:.4} ({:.1} s)",
            args.epochs,
            training.elapsed().as_secs_f64()
        );
        let start = rng.gen_range(0..corpus.ids.len() - MAXLEN);
        let seed = &corpus.ids[start..start + MAXLEN];
        println!("--- generating with seed: \"{}\"", corpus.decode(seed).replace('\n', " "));
        for temperature in TEMPERATURES {
            let generating = Instant::now();
            let ids = generate(
                &mut model,
                corpus.vocabulary(),
                seed,
                temperature,
                args.length,
                &mut rng,
            )?;
            println!(
                "--- temperature {temperature} ({:.1} s):\n{}{}",
                generating.elapsed().as_secs_f64(),
                corpus.decode(seed),
                corpus.decode(&ids)
            );
        }
    }
    println!("\n{:.1} s in all", started.elapsed().as_secs_f64());
    Ok(())
}
