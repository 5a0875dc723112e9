//! Forward and backward of each layer at the lesson's shapes (batch 32, 500 steps, 32 features,
//! vocabulary 10,000), and of the recurrent layers at 32, 128 and 256 units (batch 32, 100
//! steps). Throughput is in samples.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::{Array2, Array3, ArrayD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rnnkit::prelude::*;

const BATCH: usize = 32;
const STEPS: usize = 500;
const FEATURES: usize = 32;
const VOCABULARY: usize = 10_000;

fn random_ids(rng: &mut StdRng) -> ArrayD<f32> {
    Array2::from_shape_fn((BATCH, STEPS), |_| rng.gen_range(0..VOCABULARY) as f32).into_dyn()
}

fn random_values(shape: &[usize], rng: &mut StdRng) -> ArrayD<f32> {
    ArrayD::from_shape_simple_fn(shape, || rng.gen_range(-1.0f32..1.0))
}

/// Times `forward` alone and `forward` + `backward` of a built layer.
fn bench_layer(c: &mut Criterion, name: &str, layer: &mut dyn Layer, input: &ArrayD<f32>) {
    let mut rng = StdRng::seed_from_u64(2);
    let output_shape: Vec<usize> = [BATCH]
        .into_iter()
        .chain(layer.output_shape().unwrap_or_default().iter().copied())
        .collect();
    let grad = random_values(&output_shape, &mut rng);
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(BenchmarkId::from_parameter("forward"), |b| {
        b.iter(|| layer.forward(black_box(input.view()), None, false).map(|o| o.len()))
    });
    group.bench_function(BenchmarkId::from_parameter("forward+backward"), |b| {
        b.iter(|| {
            layer.forward(black_box(input.view()), None, true).ok();
            layer.backward(black_box(grad.view()), true).map(|g| g.map(|g| g.len()))
        })
    });
    group.finish();
}

fn layers(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    let ids = random_ids(&mut rng);
    let sequence =
        Array3::from_shape_fn((BATCH, STEPS, FEATURES), |_| rng.gen_range(-1.0f32..1.0)).into_dyn();
    let last_states = random_values(&[BATCH, FEATURES], &mut rng);

    let mut embedding = Embedding::new(VOCABULARY, FEATURES);
    embedding.build(&[STEPS], &mut rng).ok();
    bench_layer(c, "embedding", &mut embedding, &ids);

    let mut rnn = SimpleRnn::new(FEATURES);
    rnn.build(&[STEPS, FEATURES], &mut rng).ok();
    bench_layer(c, "simple_rnn", &mut rnn, &sequence);

    let mut rnn_sequences = SimpleRnn::new(FEATURES).return_sequences(true);
    rnn_sequences.build(&[STEPS, FEATURES], &mut rng).ok();
    bench_layer(c, "simple_rnn_return_sequences", &mut rnn_sequences, &sequence);

    let mut lstm = Lstm::new(FEATURES);
    lstm.build(&[STEPS, FEATURES], &mut rng).ok();
    bench_layer(c, "lstm", &mut lstm, &sequence);

    let mut gru = Gru::new(FEATURES);
    gru.build(&[STEPS, FEATURES], &mut rng).ok();
    bench_layer(c, "gru", &mut gru, &sequence);

    let mut bidirectional = Bidirectional::new(Lstm::new(FEATURES));
    bidirectional.build(&[STEPS, FEATURES], &mut rng).ok();
    bench_layer(c, "bidirectional_lstm", &mut bidirectional, &sequence);

    let mut dense = Dense::new(1).activation(Activation::Sigmoid);
    dense.build(&[FEATURES], &mut rng).ok();
    bench_layer(c, "dense", &mut dense, &last_states);
}

/// Forward and forward + backward of each recurrent layer at 32, 128 and 256 units.
fn recurrent_sizes(c: &mut Criterion) {
    const STEPS_AT_SIZE: usize = 100;
    let mut rng = StdRng::seed_from_u64(3);
    let input = random_values(&[BATCH, STEPS_AT_SIZE, FEATURES], &mut rng);
    for units in [32, 128, 256] {
        let grad = random_values(&[BATCH, units], &mut rng);
        let mut layers: [(&str, Box<dyn Layer>); 3] = [
            ("simple_rnn_units", Box::new(SimpleRnn::new(units))),
            ("lstm_units", Box::new(Lstm::new(units))),
            ("gru_units", Box::new(Gru::new(units))),
        ];
        for (name, layer) in &mut layers {
            layer.build(&[STEPS_AT_SIZE, FEATURES], &mut rng).ok();
            let mut group = c.benchmark_group(*name);
            group.sample_size(10);
            group.throughput(Throughput::Elements(BATCH as u64));
            group.bench_function(BenchmarkId::new("forward", units), |b| {
                b.iter(|| layer.forward(black_box(input.view()), None, false).map(|o| o.len()))
            });
            group.bench_function(BenchmarkId::new("forward+backward", units), |b| {
                b.iter(|| {
                    layer.forward(black_box(input.view()), None, true).ok();
                    layer.backward(black_box(grad.view()), true).map(|g| g.map(|g| g.len()))
                })
            });
            group.finish();
        }
    }
}

criterion_group!(benches, layers, recurrent_sizes);
criterion_main!(benches);
