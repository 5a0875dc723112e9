//! The scaling benchmark's eight rows (`bench/scaling/run.sh`) on rnnkit's side: one
//! `train_on_batch` and one `predict` of a batch for each model size, as shipped (no
//! flush-to-zero set by the bench). Throughput is in samples.
//!
//! Every row is Embedding(10000, E) → recurrent layer → Dense(1, sigmoid), RMSprop(0.001),
//! binary cross-entropy, random ids in 1..10000 and random 0/1 labels. Flat sampling with few
//! samples keeps the whole bench to a few minutes: `cargo bench --bench scaling`, or one row
//! with a filter such as `cargo bench --bench scaling -- lstm_256`.

use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rnnkit::prelude::*;
use std::time::Duration;

const VOCABULARY: usize = 10_000;

/// The recurrent layer of a row.
#[derive(Clone, Copy)]
enum Cell {
    SimpleRnn,
    Lstm,
    Gru,
}

/// cell, units, batch, steps, embedding width: the rows of `bench/scaling/run.sh`, in order.
const ROWS: [(Cell, usize, usize, usize, usize); 8] = [
    (Cell::SimpleRnn, 32, 32, 500, 32),
    (Cell::SimpleRnn, 128, 32, 500, 32),
    (Cell::SimpleRnn, 256, 64, 200, 32),
    (Cell::Lstm, 32, 32, 500, 32),
    (Cell::Lstm, 128, 32, 200, 32),
    (Cell::Lstm, 256, 64, 100, 32),
    (Cell::Gru, 128, 32, 200, 32),
    (Cell::Lstm, 128, 32, 200, 128),
];

fn model(cell: Cell, units: usize, steps: usize, embedding: usize) -> rnnkit::Result<Sequential> {
    let mut model = Sequential::new().seed(1);
    model.add(Embedding::new(VOCABULARY, embedding).input_length(steps));
    match cell {
        Cell::SimpleRnn => model.add(SimpleRnn::new(units)),
        Cell::Lstm => model.add(Lstm::new(units)),
        Cell::Gru => model.add(Gru::new(units)),
    }
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[])?;
    Ok(model)
}

fn name(
    index: usize,
    cell: Cell,
    units: usize,
    batch: usize,
    steps: usize,
    embedding: usize,
) -> String {
    let cell = match cell {
        Cell::SimpleRnn => "simple_rnn",
        Cell::Lstm => "lstm",
        Cell::Gru => "gru",
    };
    let embedding = if embedding == 32 { String::new() } else { format!("_e{embedding}") };
    format!("{}_{cell}_{units}_b{batch}_t{steps}{embedding}", index + 1)
}

fn scaling(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(7);
    let mut group = c.benchmark_group("scaling");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (index, &(cell, units, batch, steps, embedding)) in ROWS.iter().enumerate() {
        let x = Array2::from_shape_fn((batch, steps), |_| rng.gen_range(1..VOCABULARY) as f32);
        let y = Array1::from_shape_fn(batch, |_| rng.gen_range(0..2) as f32);
        let Ok(mut model) = model(cell, units, steps, embedding) else { return };
        let id = name(index, cell, units, batch, steps, embedding);
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(BenchmarkId::new("train_on_batch", &id), |b| {
            b.iter(|| model.train_on_batch(black_box(&x), black_box(&y)).map(|s| s.loss))
        });
        group.bench_function(BenchmarkId::new("predict", &id), |b| {
            b.iter(|| model.predict_batched(black_box(&x), batch).map(|p| p.len()))
        });
    }
    group.finish();
}

criterion_group!(benches, scaling);
criterion_main!(benches);
