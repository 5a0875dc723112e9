//! The lesson's model end to end: one `train_on_batch` (batch 32 × 500 ids) and `predict`
//! throughput, in samples per second.

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
        b.iter(|| model.predict(black_box(&x_eval), 32).map(|p| p.len()))
    });
    group.finish();
}

criterion_group!(benches, training);
criterion_main!(benches);
