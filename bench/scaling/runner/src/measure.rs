//! One row of the benchmark: the model for a shape, random ids and labels, and the timed loops.
//!
//! The protocol is the one `torch_run.py` follows: `WARMUP_BATCHES` training batches, then
//! training batches until `seconds` have passed (at least `MIN_ROUNDS`); one warm-up `predict`
//! round of `DATA_BATCHES` batches, then `predict` rounds until `seconds` have passed (at least
//! `MIN_ROUNDS`).

use ndarray::{s, Array1, Array2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rnnkit::prelude::*;
use std::time::Instant;

/// Ids are drawn from 1..VOCABULARY (0 is Keras' padding id).
pub const VOCABULARY: usize = 10_000;
/// Distinct batches of random data, cycled by training and predicted together per round.
pub const DATA_BATCHES: usize = 8;
/// Training batches run before the clock starts.
pub const WARMUP_BATCHES: usize = 3;
/// Timed rounds run however long they take.
pub const MIN_ROUNDS: usize = 2;

/// The recurrent layer of a row.
#[derive(Clone, Copy, Debug)]
pub enum Cell {
    /// `SimpleRnn` (tanh).
    SimpleRnn,
    /// `Lstm`.
    Lstm,
    /// `Gru` (Keras' default `reset_after`).
    Gru,
}

impl Cell {
    /// The names run.sh and torch_run.py use.
    pub fn parse(name: &str) -> Option<Cell> {
        match name {
            "simple_rnn" => Some(Cell::SimpleRnn),
            "lstm" => Some(Cell::Lstm),
            "gru" => Some(Cell::Gru),
            _ => None,
        }
    }
}

/// A row: Embedding(VOCABULARY, embedding) → cell(units) → Dense(1, sigmoid), on batches of
/// `batch` sequences of `steps` ids.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub cell: Cell,
    pub units: usize,
    pub batch: usize,
    pub steps: usize,
    pub embedding: usize,
}

/// Samples processed and the seconds they took.
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    pub samples: usize,
    pub seconds: f64,
    pub rounds: usize,
}

impl Rate {
    pub fn per_second(&self) -> f64 {
        self.samples as f64 / self.seconds
    }
}

/// What one run measured.
pub struct Measurement {
    pub train: Rate,
    pub inference: Rate,
    pub last_loss: f32,
}

/// The row's model, compiled with RMSprop(0.001) and binary cross-entropy.
pub fn model(shape: &Shape, seed: u64) -> rnnkit::Result<Sequential> {
    let mut model = Sequential::new().seed(seed);
    model.add(Embedding::new(VOCABULARY, shape.embedding).input_length(shape.steps));
    match shape.cell {
        Cell::SimpleRnn => model.add(SimpleRnn::new(shape.units)),
        Cell::Lstm => model.add(Lstm::new(shape.units)),
        Cell::Gru => model.add(Gru::new(shape.units)),
    }
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[])?;
    Ok(model)
}

/// `DATA_BATCHES` batches of random ids in 1..VOCABULARY, stacked, and random 0/1 labels.
pub fn data(shape: &Shape, seed: u64) -> (Array2<f32>, Array1<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let samples = DATA_BATCHES * shape.batch;
    let x = Array2::from_shape_fn((samples, shape.steps), |_| rng.gen_range(1..VOCABULARY) as f32);
    let y = Array1::from_shape_fn(samples, |_| rng.gen_range(0..2) as f32);
    (x, y)
}

/// Trains and predicts as the module's protocol says.
pub fn run(shape: &Shape, seed: u64, seconds: f64) -> rnnkit::Result<Measurement> {
    let (x, y) = data(shape, seed);
    let mut model = model(shape, seed)?;
    let batch = shape.batch;
    let mut last_loss = f32::NAN;
    let mut train_batch = |model: &mut Sequential, index: usize| -> rnnkit::Result<usize> {
        let start = (index % DATA_BATCHES) * batch;
        let rows = s![start..start + batch, ..];
        last_loss = model.train_on_batch(&x.slice(rows), &y.slice(s![start..start + batch]))?.loss;
        Ok(batch)
    };
    for index in 0..WARMUP_BATCHES {
        train_batch(&mut model, index)?;
    }
    let train = timed(seconds, |round| train_batch(&mut model, WARMUP_BATCHES + round))?;
    model.predict_batched(&x, batch)?;
    let inference = timed(seconds, |_| Ok(model.predict_batched(&x, batch)?.shape()[0]))?;
    Ok(Measurement { train, inference, last_loss })
}

/// Runs `round` until `seconds` have passed and at least `MIN_ROUNDS` rounds ran.
fn timed(
    seconds: f64,
    mut round: impl FnMut(usize) -> rnnkit::Result<usize>,
) -> rnnkit::Result<Rate> {
    let start = Instant::now();
    let (mut samples, mut rounds) = (0, 0);
    while rounds < MIN_ROUNDS || start.elapsed().as_secs_f64() < seconds {
        samples += round(rounds)?;
        rounds += 1;
    }
    Ok(Rate { samples, seconds: start.elapsed().as_secs_f64(), rounds })
}
