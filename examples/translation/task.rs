//! The dates task around the models: training and test pairs, training, greedy translation of
//! the test pairs, exact-match accuracy, and the attention heatmaps.

use ndarray::{s, Array2, Array3, ArrayD, ArrayView2, ArrayViewD};
use rnnkit::datasets::dates::{self, DateFormat, DatePair, Encoded, HUMAN_LENGTH, START};
use rnnkit::plot::attention_heatmap;
use rnnkit::prelude::*;
use rnnkit::text::Padding;
use rnnkit::Result;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A model of the task: trained with teacher forcing, then translating greedily.
pub trait Translation {
    /// The model `fit` trains: inputs [`Translation::inputs`], output the probabilities of each
    /// ISO character `(samples, ISO_LENGTH, iso chars)`.
    fn model(&mut self) -> &mut Functional;

    /// The training model's inputs for `arrays`.
    fn inputs(&self, arrays: &Encoded) -> Vec<ArrayD<f32>>;

    /// Translates `encoder_input` (`(samples, HUMAN_LENGTH)` ids) one character at a time,
    /// from [`START`](dates::START), each step fed the likeliest character of the step before
    /// (greedy decoding), for [`ISO_LENGTH`](dates::ISO_LENGTH) steps.
    ///
    /// # Errors
    /// The models' errors.
    fn translate(&mut self, encoder_input: ArrayView2<'_, f32>) -> Result<Decoded>;
}

/// Greedy translations with their probabilities, and the weights each output step gave the
/// input steps when the model has them.
pub struct Decoded {
    /// `(samples, 10)` ids of the ISO vocabulary: the likeliest character of each step.
    pub ids: Array2<u32>,
    /// `(samples, 10, iso chars)`: each step's probabilities.
    pub probabilities: Array3<f32>,
    /// `(samples, 10, HUMAN_LENGTH)` attention weights, when the model attends.
    pub attention: Option<Array3<f32>>,
}

/// How much data, and how long to train.
#[derive(Clone, Copy, Debug)]
pub struct TaskConfig {
    /// Training pairs.
    pub train: usize,
    /// Test pairs.
    pub test: usize,
    /// Passes over the training pairs.
    pub epochs: usize,
    /// Pairs per gradient update.
    pub batch_size: usize,
    /// Seed of the pairs and of the shuffling.
    pub seed: u64,
    /// `fit`'s verbosity.
    pub verbose: u8,
}

/// Training and test pairs, and their arrays.
pub struct Data {
    /// The training pairs, drawn with the task's seed.
    pub train: Vec<DatePair>,
    /// The test pairs: drawn with another seed, none written as a training pair is.
    pub test: Vec<DatePair>,
    /// The training arrays.
    pub train_arrays: Encoded,
    /// The test arrays.
    pub test_arrays: Encoded,
}

impl Data {
    /// Draws the pairs of `config`.
    ///
    /// # Errors
    /// Those of [`dates::encode`] (none for generated pairs).
    pub fn new(config: &TaskConfig) -> Result<Data> {
        let train = dates::generate(config.train, config.seed);
        let seen: HashSet<&str> = train.iter().map(|p| p.human.as_str()).collect();
        let test: Vec<DatePair> = dates::generate(2 * config.test, config.seed.wrapping_add(1_000))
            .into_iter()
            .filter(|p| !seen.contains(p.human.as_str()))
            .take(config.test)
            .collect();
        let train_arrays = dates::encode(&train, Padding::Pre)?;
        let test_arrays = dates::encode(&test, Padding::Pre)?;
        Ok(Data { train, test, train_arrays, test_arrays })
    }
}

/// What training and testing one model gave.
pub struct Outcome {
    /// The training model's parameters.
    pub parameters: usize,
    /// The training history.
    pub history: History,
    /// Seconds per epoch of `fit`.
    pub seconds_per_epoch: f64,
    /// The share of test characters right when the decoder is fed the true previous
    /// characters (`evaluate`'s accuracy).
    pub char_accuracy: f32,
    /// The share of test dates translated exactly by greedy decoding.
    pub exact_match: f64,
    /// The greedy translations of the test dates.
    pub translations: Vec<String>,
    /// The decoded ids, and the attention weights.
    pub decoded: Decoded,
}

/// Compiles `translator`'s training model (Adam, sparse categorical cross-entropy, accuracy),
/// trains it on the training pairs, and translates the test pairs.
///
/// # Errors
/// The models' errors.
pub fn train_and_test(
    translator: &mut dyn Translation,
    data: &Data,
    config: &TaskConfig,
) -> Result<Outcome> {
    let (train, test) =
        (translator.inputs(&data.train_arrays), translator.inputs(&data.test_arrays));
    let model = translator.model();
    model.compile(Adam::new(0.002), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy])?;
    let parameters = model.summary()?.total_params();
    let fit = FitConfig {
        epochs: config.epochs,
        batch_size: config.batch_size,
        seed: Some(config.seed),
        verbose: config.verbose,
        ..FitConfig::default()
    };
    let training = Instant::now();
    let history =
        model.fit(&views(&train), &[data.train_arrays.decoder_target.view().into_dyn()], &fit)?;
    let seconds_per_epoch = training.elapsed().as_secs_f64() / history.epochs().max(1) as f64;
    let target = data.test_arrays.decoder_target.view().into_dyn();
    let scores = model.evaluate_batched(&views(&test), &[target], 256)?;
    let char_accuracy = scores.metric("accuracy").unwrap_or(f32::NAN);
    let decoded = translator.translate(data.test_arrays.encoder_input.view())?;
    let iso = dates::iso_vocabulary();
    let translations: Vec<String> =
        decoded.ids.outer_iter().map(|row| iso.decode(row.iter().copied())).collect();
    let right = data.test.iter().zip(&translations).filter(|(p, t)| p.iso == **t).count();
    Ok(Outcome {
        parameters,
        history,
        seconds_per_epoch,
        char_accuracy,
        exact_match: right as f64 / data.test.len().max(1) as f64,
        translations,
        decoded,
    })
}

/// Views of `arrays`, as `fit` and `evaluate` take them.
fn views(arrays: &[ArrayD<f32>]) -> Vec<ArrayViewD<'_, f32>> {
    arrays.iter().map(|a| a.view()).collect()
}

/// The exact-match accuracy of `translations` over the pairs written in `format` (NaN when
/// there is none).
pub fn exact_match_of(pairs: &[DatePair], translations: &[String], format: DateFormat) -> f64 {
    let of_format: Vec<bool> = pairs
        .iter()
        .zip(translations)
        .filter(|(p, _)| p.format == format)
        .map(|(p, t)| p.iso == *t)
        .collect();
    of_format.iter().filter(|&&right| right).count() as f64 / of_format.len() as f64
}

/// Draws the attention weights of the first `count` test pairs, one SVG per pair,
/// `attention_<n>.svg` in `folder`: a row per output step, labelled with the character decoded
/// there (`·` for padding, `⇥` for the start character), a column per input character (the
/// padding before the date left out, spaces drawn as `␣`).
///
/// # Errors
/// [`rnnkit::Error::Io`] for a folder that cannot be made, and those of
/// [`attention_heatmap`].
pub fn draw_heatmaps(
    folder: &Path,
    pairs: &[DatePair],
    outcome: &Outcome,
    attention: &Array3<f32>,
    count: usize,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(folder).map_err(|e| rnnkit::Error::io(folder, e))?;
    let iso = dates::iso_vocabulary();
    let mut written = Vec::new();
    for (n, pair) in pairs.iter().take(count).enumerate() {
        let columns: Vec<String> =
            pair.human.chars().map(|c| if c == ' ' { "␣".into() } else { c.to_string() }).collect();
        let padding = HUMAN_LENGTH.saturating_sub(columns.len());
        let weights = attention.slice(s![n, .., padding..]);
        let rows: Vec<String> = outcome
            .decoded
            .ids
            .row(n)
            .iter()
            .map(|&id| match iso.char(id) {
                Some(START) => "⇥".to_string(),
                Some(c) => c.to_string(),
                None => "·".to_string(),
            })
            .collect();
        let path = folder.join(format!("attention_{}.svg", n + 1));
        attention_heatmap(&path, weights, &rows, &columns)?;
        written.push(path);
    }
    Ok(written)
}
