//! Whole models: the lesson's (`train_on_batch` of 32 × 500 ids, `predict`), and
//! Embedding → recurrent layer → Dense at the sizes users pick, on random ids and labels (which
//! drive gradients through many steps towards zero: subnormal floats, if the engine allowed
//! them). Throughput is in samples.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rnnkit::prelude::*;

fn seed_model() -> rnnkit::Result<Sequential> {
    let mut model = Sequential::new().seed(1);
    model.add(Embedding::new(10_000, 32).input_length(500));
    model.add(SimpleRnn::new(32));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    Ok(model)
}

fn training(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(7);
    let x = Array2::from_shape_fn((32, 500), |_| rng.gen_range(0..10_000) as f32);
    let y = Array1::from_shape_fn(32, |_| rng.gen_range(0..2) as f32);
    let x_eval = Array2::from_shape_fn((1024, 500), |_| rng.gen_range(0..10_000) as f32);
    let Ok(mut model) = seed_model() else { return };

    let mut group = c.benchmark_group("seed_model");
    group.throughput(Throughput::Elements(32));
    group.bench_function("train_on_batch", |b| {
        b.iter(|| model.train_on_batch(black_box(&x), black_box(&y)).map(|s| s.loss))
    });
    group.throughput(Throughput::Elements(1024));
    group.sample_size(20);
    group.bench_function("predict_1024", |b| {
        b.iter(|| model.predict(black_box(&x_eval)).map(|p| p.len()))
    });
    group.finish();
}

/// A model size: the recurrent layer, its units, the embedding width, batch and steps.
struct Size {
    cell: &'static str,
    units: usize,
    features: usize,
    batch: usize,
    steps: usize,
}

const SIZES: [Size; 8] = [
    Size { cell: "simple_rnn", units: 32, features: 32, batch: 32, steps: 500 },
    Size { cell: "simple_rnn", units: 128, features: 32, batch: 32, steps: 500 },
    Size { cell: "simple_rnn", units: 256, features: 32, batch: 64, steps: 200 },
    Size { cell: "lstm", units: 32, features: 32, batch: 32, steps: 500 },
    Size { cell: "lstm", units: 128, features: 32, batch: 32, steps: 200 },
    Size { cell: "lstm", units: 256, features: 32, batch: 64, steps: 100 },
    Size { cell: "gru", units: 128, features: 32, batch: 32, steps: 200 },
    Size { cell: "lstm", units: 128, features: 128, batch: 32, steps: 200 },
];

fn sized_model(size: &Size) -> rnnkit::Result<Sequential> {
    let mut model = Sequential::new().seed(1);
    model.add(Embedding::new(10_000, size.features).input_length(size.steps));
    match size.cell {
        "lstm" => model.add(Lstm::new(size.units)),
        "gru" => model.add(Gru::new(size.units)),
        _ => model.add(SimpleRnn::new(size.units)),
    }
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    Ok(model)
}

fn sizes(c: &mut Criterion) {
    for size in &SIZES {
        let mut rng = StdRng::seed_from_u64(11);
        let x =
            Array2::from_shape_fn((size.batch, size.steps), |_| rng.gen_range(1..10_000) as f32);
        let y = Array1::from_shape_fn(size.batch, |_| rng.gen_range(0..2) as f32);
        let Ok(mut model) = sized_model(size) else { return };
        // A few updates first, as in an epoch: the gradients shrink along the steps.
        for _ in 0..3 {
            model.train_on_batch(&x, &y).ok();
        }
        let name = format!(
            "{}_{}_e{}_b{}_t{}",
            size.cell, size.units, size.features, size.batch, size.steps
        );
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        group.throughput(Throughput::Elements(size.batch as u64));
        group.bench_function("train_on_batch", |b| {
            b.iter(|| model.train_on_batch(black_box(&x), black_box(&y)).map(|s| s.loss))
        });
        group.bench_function("predict", |b| {
            b.iter(|| model.predict_batched(black_box(&x), size.batch).map(|p| p.len()))
        });
        group.finish();
    }
}

criterion_group!(benches, training, sizes);
criterion_main!(benches);
