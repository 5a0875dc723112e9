//! The sweep: each recurrent layer trained on the task at each sequence length.

use super::recall::{RecallTask, RECALL_FEATURES};
use super::task::MemoryTask;
use crate::recurrent_kind::RecurrentKind;
use ndarray::ArrayD;
use rnnkit::activations::Activation;
use rnnkit::layers::{Bidirectional, Dense, Embedding, Gru, Lstm, SimpleRnn};
use rnnkit::losses::Loss;
use rnnkit::metrics::Metric;
use rnnkit::model::{FitConfig, Sequential};
use rnnkit::optimizers::Adam;
use rnnkit::{Error, Result};
use std::fmt;
use std::time::Instant;

/// The task of a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskKind {
    /// [`RecallTask`]: values straight into the recurrent layer; the first must be held,
    /// precisely, to the last step.
    Recall,
    /// [`MemoryTask`]: ids through an Embedding; the first is the class marker, the rest noise.
    Tokens,
}

/// How the sweep trains and measures; `MemoryConfig::default()` is the run of
/// `examples/long_memory.rs`.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryConfig {
    /// Sequence lengths. Default: 10, 25, 50, 100, 200, 400.
    pub lengths: Vec<usize>,
    /// Recurrent layers, each a column of the table. Default: SimpleRnn, Gru, Lstm.
    pub kinds: Vec<RecurrentKind>,
    /// The task. Default: [`TaskKind::Recall`].
    pub task: TaskKind,
    /// Ids of the token task (markers and noise). Default: 12.
    pub vocabulary: usize,
    /// Whether the marker ids recur in the noise of the token task
    /// ([`MemoryTask::markers_in_noise`]). Default: `false`.
    pub markers_in_noise: bool,
    /// Dimension of the id vectors of the token task. Default: 32.
    pub embedding_dim: usize,
    /// Units of the recurrent layer, the same for every kind. Default: 32 (the lesson's).
    pub units: usize,
    /// Training sequences per length. Default: 5,000.
    pub train_samples: usize,
    /// Test sequences per length. Default: 1,000.
    pub test_samples: usize,
    /// Passes over the training sequences. Default: 20.
    pub epochs: usize,
    /// Sequences per gradient update. Default: 32.
    pub batch_size: usize,
    /// Adam's learning rate. Default: 0.003.
    pub learning_rate: f32,
    /// Seed of the data, the weights and the shuffling. Default: 1.
    pub seed: u64,
    /// Whether each layer starts, at every length after the first, from the weights it learned
    /// at the length before (a curriculum), rather than from fresh initial weights. Default:
    /// `true`: what is measured is then whether a layer can hold what decides the label over the
    /// distance, not whether training from scratch happens to find it.
    pub curriculum: bool,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            lengths: vec![10, 25, 50, 100, 200, 400],
            kinds: vec![RecurrentKind::SimpleRnn, RecurrentKind::Gru, RecurrentKind::Lstm],
            task: TaskKind::Recall,
            vocabulary: 12,
            markers_in_noise: false,
            embedding_dim: 32,
            units: 32,
            train_samples: 5_000,
            test_samples: 1_000,
            epochs: 20,
            batch_size: 32,
            learning_rate: 0.003,
            seed: 1,
            curriculum: true,
        }
    }
}

impl MemoryConfig {
    /// `samples` sequences of the task at length `steps` and their labels: `(samples, steps,
    /// RECALL_FEATURES)` values for [`TaskKind::Recall`], `(samples, steps)` ids for
    /// [`TaskKind::Tokens`].
    ///
    /// # Errors
    /// Those of [`RecallTask::generate`] and [`MemoryTask::generate`].
    pub fn sequences(
        &self,
        steps: usize,
        samples: usize,
        seed: u64,
    ) -> Result<(ArrayD<f32>, ndarray::Array1<f32>)> {
        Ok(match self.task {
            TaskKind::Recall => {
                let (x, y) = RecallTask::new(steps).generate(samples, seed)?;
                (x.into_dyn(), y)
            }
            TaskKind::Tokens => {
                let (x, y) = self.task(steps).generate(samples, seed)?;
                (x.into_dyn(), y)
            }
        })
    }

    /// How each model of the sweep is trained: `epochs`, `batch_size`, shuffled with `seed`,
    /// silently.
    pub fn fit_config(&self) -> FitConfig {
        FitConfig {
            epochs: self.epochs,
            batch_size: self.batch_size,
            seed: Some(self.seed),
            verbose: 0,
            ..FitConfig::default()
        }
    }

    /// The token task at sequence length `steps`, with this configuration's vocabulary.
    pub fn task(&self, steps: usize) -> MemoryTask {
        MemoryTask {
            vocabulary: self.vocabulary,
            markers_in_noise: self.markers_in_noise,
            ..MemoryTask::new(steps)
        }
    }

    fn check(&self) -> Result<()> {
        let positive = [
            ("lengths", self.lengths.len()),
            ("kinds", self.kinds.len()),
            ("embedding_dim", self.embedding_dim),
            ("units", self.units),
            ("train_samples", self.train_samples),
            ("test_samples", self.test_samples),
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(Error::invalid(name, "a positive count", 0));
            }
        }
        for &steps in &self.lengths {
            match self.task {
                TaskKind::Recall => RecallTask::new(steps).check()?,
                TaskKind::Tokens => self.task(steps).check()?,
            }
        }
        Ok(())
    }
}

/// The name of a recurrent layer as Keras prints it: `SimpleRNN`, `GRU`, `LSTM`,
/// `Bidirectional(LSTM)`.
pub fn kind_name(kind: RecurrentKind) -> &'static str {
    match kind {
        RecurrentKind::SimpleRnn => "SimpleRNN",
        RecurrentKind::Gru => "GRU",
        RecurrentKind::Lstm => "LSTM",
        RecurrentKind::BidirectionalLstm => "Bidirectional(LSTM)",
    }
}

/// The CSV column of a recurrent layer: `simple_rnn`, `gru`, `lstm`, `bidirectional_lstm`.
fn column_name(kind: RecurrentKind) -> &'static str {
    match kind {
        RecurrentKind::SimpleRnn => "simple_rnn",
        RecurrentKind::Gru => "gru",
        RecurrentKind::Lstm => "lstm",
        RecurrentKind::BidirectionalLstm => "bidirectional_lstm",
    }
}

/// The task's model: the recurrent layer(units) → Dense(1, sigmoid), built for `steps` steps
/// of [`RECALL_FEATURES`] values, or for the token task Embedding(vocabulary, embedding_dim)
/// first, built for `steps` ids; compiled with Adam(learning_rate), binary cross-entropy and
/// accuracy; its weights are drawn from `config.seed`.
///
/// # Errors
/// The errors of `build` and `compile` (a zero size, a learning rate that is not positive).
pub fn memory_model(
    kind: RecurrentKind,
    steps: usize,
    config: &MemoryConfig,
) -> Result<Sequential> {
    let mut model = Sequential::new().seed(config.seed);
    if config.task == TaskKind::Tokens {
        model.add(Embedding::new(config.vocabulary, config.embedding_dim).input_length(steps));
    }
    match kind {
        RecurrentKind::SimpleRnn => model.add(SimpleRnn::new(config.units)),
        RecurrentKind::Gru => model.add(Gru::new(config.units)),
        RecurrentKind::Lstm => model.add(Lstm::new(config.units)),
        RecurrentKind::BidirectionalLstm => model.add(Bidirectional::new(Lstm::new(config.units))),
    }
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    match config.task {
        TaskKind::Recall => model.build(&[steps, RECALL_FEATURES])?,
        TaskKind::Tokens => model.build(&[steps])?,
    }
    model.compile(
        Adam::new(config.learning_rate),
        Loss::BinaryCrossentropy,
        &[Metric::Accuracy],
    )?;
    Ok(model)
}

/// One cell of the sweep: a layer trained and tested at one sequence length.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryResult {
    /// The recurrent layer.
    pub kind: RecurrentKind,
    /// The sequence length.
    pub steps: usize,
    /// Accuracy on the training sequences in the last epoch (the running value `fit` reports).
    pub train_accuracy: f32,
    /// Accuracy on the test sequences after training.
    pub test_accuracy: f32,
    /// Wall-clock seconds of training and testing.
    pub seconds: f64,
}

/// Trains `kind` on the task at length `steps` and tests it on fresh sequences; returns the
/// result and the trained model. The data depend on `config.seed` and `steps` only, so every
/// kind sees the same sequences.
///
/// # Errors
/// [`Error::InvalidArgument`] for a zero count or length in `config` or a task it cannot make
/// (see [`MemoryTask::generate`]), and the errors of training.
pub fn train_and_test(
    kind: RecurrentKind,
    steps: usize,
    config: &MemoryConfig,
) -> Result<(MemoryResult, Sequential)> {
    train_and_test_from(kind, steps, config, None)
}

/// As [`train_and_test`], starting from `initial` weights when given.
fn train_and_test_from(
    kind: RecurrentKind,
    steps: usize,
    config: &MemoryConfig,
    initial: Option<Vec<ArrayD<f32>>>,
) -> Result<(MemoryResult, Sequential)> {
    config.check()?;
    let started = Instant::now();
    let data_seed = config.seed.wrapping_mul(1_000_003).wrapping_add(steps as u64);
    let (x_train, y_train) = config.sequences(steps, config.train_samples, data_seed)?;
    let (x_test, y_test) =
        config.sequences(steps, config.test_samples, data_seed.wrapping_add(1))?;
    let mut model = memory_model(kind, steps, config)?;
    if let Some(weights) = initial {
        model.set_weights(weights)?;
    }
    let history = model.fit(&x_train, &y_train, &config.fit_config())?;
    let train_accuracy =
        history.metric("accuracy").and_then(|values| values.last().copied()).unwrap_or(f32::NAN);
    let scores = model.evaluate_batched(&x_test, &y_test, config.batch_size.max(128))?;
    let test_accuracy = scores.metric("accuracy").unwrap_or(f32::NAN);
    let seconds = started.elapsed().as_secs_f64();
    Ok((MemoryResult { kind, steps, train_accuracy, test_accuracy, seconds }, model))
}

/// Runs the whole sweep, length by length and kind by kind, handing each result and trained
/// model to `on_result` as it comes (to print progress or inspect a model).
///
/// # Errors
/// Those of [`train_and_test`], and any error `on_result` returns.
pub fn run_sweep(
    config: &MemoryConfig,
    mut on_result: impl FnMut(&MemoryResult, &mut Sequential) -> Result<()>,
) -> Result<MemoryTable> {
    config.check()?;
    let mut results = Vec::with_capacity(config.lengths.len() * config.kinds.len());
    // With a curriculum, each kind's weights after the previous length.
    let mut learned: Vec<Option<Vec<ArrayD<f32>>>> = vec![None; config.kinds.len()];
    for &steps in &config.lengths {
        for (&kind, learned) in config.kinds.iter().zip(&mut learned) {
            let (result, mut model) = train_and_test_from(kind, steps, config, learned.take())?;
            if config.curriculum {
                *learned = Some(model.get_weights());
            }
            on_result(&result, &mut model)?;
            results.push(result);
        }
    }
    Ok(MemoryTable { lengths: config.lengths.clone(), kinds: config.kinds.clone(), results })
}

/// The sweep's results: test accuracy by sequence length (rows) and layer (columns).
///
/// It prints as a text table, writes itself as CSV ([`MemoryTable::to_csv`]) and draws itself
/// as a chart ([`MemoryTable::plot_svg`]).
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryTable {
    pub(super) lengths: Vec<usize>,
    pub(super) kinds: Vec<RecurrentKind>,
    pub(super) results: Vec<MemoryResult>,
}

impl MemoryTable {
    /// Every result, in the order they were run.
    pub fn results(&self) -> &[MemoryResult] {
        &self.results
    }

    /// The sequence lengths, in order.
    pub fn lengths(&self) -> &[usize] {
        &self.lengths
    }

    /// The layers, in order.
    pub fn kinds(&self) -> &[RecurrentKind] {
        &self.kinds
    }

    /// The test accuracy of `kind` at length `steps`, if it was run.
    pub fn accuracy(&self, kind: RecurrentKind, steps: usize) -> Option<f32> {
        let result = self.results.iter().find(|r| r.kind == kind && r.steps == steps)?;
        Some(result.test_accuracy)
    }

    /// The table as CSV: a header `steps,simple_rnn,gru,lstm` (one column per layer, named in
    /// snake case) and one row of test accuracies per length.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("steps");
        for &kind in &self.kinds {
            csv.push(',');
            csv.push_str(column_name(kind));
        }
        csv.push('\n');
        for &steps in &self.lengths {
            csv.push_str(&steps.to_string());
            for &kind in &self.kinds {
                csv.push(',');
                if let Some(accuracy) = self.accuracy(kind, steps) {
                    csv.push_str(&format!("{accuracy:.4}"));
                }
            }
            csv.push('\n');
        }
        csv
    }

    /// Writes [`MemoryTable::to_csv`] to `path`, atomically (a temporary file, synced, then
    /// renamed).
    ///
    /// # Errors
    /// [`Error::Io`] naming the file when it cannot be written.
    pub fn save_csv(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_csv()).map_err(|e| Error::io(path, e))
    }
}

impl fmt::Display for MemoryTable {
    /// A Markdown table: one row per length, the test accuracy of each layer.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "| steps |")?;
        for &kind in &self.kinds {
            write!(f, " {} |", kind_name(kind))?;
        }
        write!(f, "\n|---:|")?;
        for _ in &self.kinds {
            write!(f, "---:|")?;
        }
        for &steps in &self.lengths {
            write!(f, "\n| {steps} |")?;
            for &kind in &self.kinds {
                match self.accuracy(kind, steps) {
                    Some(accuracy) => write!(f, " {accuracy:.3} |")?,
                    None => write!(f, " |")?,
                }
            }
        }
        Ok(())
    }
}
