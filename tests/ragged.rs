//! Training on token-id sequences of different lengths: `RaggedSequences` batches padded to
//! their own longest sequence (and bucketed by length) through `fit_ragged`,
//! `evaluate_ragged` and the training loops' data source.

use ndarray::{Array1, ArrayD};
use rnnkit::data::RaggedSequences;
use rnnkit::prelude::*;
use rnnkit::text::Padding;
use rnnkit::training::{self, DataSource};

/// Sequences of lengths 1..=23 (ids 1..=19), labelled by whether their last id is 10 or more.
fn reviews(count: usize) -> (Vec<Vec<u32>>, ArrayD<f32>) {
    let sequences: Vec<Vec<u32>> = (0..count)
        .map(|i| (0..(i * 7) % 23 + 1).map(|t| ((i * 5 + t * 3) % 19 + 1) as u32).collect())
        .collect();
    let labels: Array1<f32> = sequences.iter().map(|s| f32::from(s[s.len() - 1] >= 10)).collect();
    (sequences, labels.into_dyn())
}

fn data(count: usize) -> RaggedSequences {
    let (sequences, labels) = reviews(count);
    RaggedSequences::new(sequences, labels).unwrap().batch_size(8)
}

fn model(mask_zero: bool) -> Sequential {
    let mut model = Sequential::new().seed(4);
    model.add(Embedding::new(20, 6).mask_zero(mask_zero));
    model.add(SimpleRnn::new(5));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(RmsProp::new(0.01), Loss::BinaryCrossentropy, &[Metric::Accuracy]).unwrap();
    model
}

fn config(epochs: usize) -> FitConfig {
    FitConfig { epochs, verbose: 0, seed: Some(11), ..FitConfig::default() }
}

#[test]
fn fit_ragged_is_train_on_batch_over_the_padded_batches() {
    let data = data(40).shuffle(false);
    let mut ragged = model(false);
    let history = ragged.fit_ragged(&data, None, &config(1)).unwrap();
    let mut manual = model(false);
    let mut losses = Vec::new();
    for indices in data.epoch(&mut rand::SeedableRng::seed_from_u64(0)).unwrap() {
        let batch = data.batch(&indices).unwrap();
        let longest = indices.iter().map(|&i| reviews(40).0[i].len()).max().unwrap();
        assert_eq!(batch.x.ncols(), longest, "padded to the batch's longest only");
        losses.push(manual.train_on_batch(&batch.x, &batch.y).unwrap().loss * indices.len() as f32);
    }
    assert_eq!(ragged.get_weights(), manual.get_weights(), "the same updates, bit for bit");
    let mean = losses.iter().sum::<f32>() / 40.0;
    assert!((history.metric("loss").unwrap()[0] - mean).abs() < 1e-6);
}

#[test]
fn seeded_bucketed_training_is_deterministic_and_learns() {
    let data = data(120).bucket_boundaries(vec![6, 12, 18]);
    let run = || {
        let mut model = model(true);
        let history = model.fit_ragged(&data, Some(&data), &config(12)).unwrap();
        (model.get_weights(), history)
    };
    let (weights, history) = run();
    assert_eq!(weights, run().0, "same seed, same weights");
    let accuracy = history.metric("val_accuracy").unwrap();
    assert!(accuracy.last().unwrap() > &0.9, "learns the rule: {accuracy:?}");
    let mut other = model(true);
    other.fit_ragged(&data, None, &FitConfig { seed: Some(12), ..config(1) }).unwrap();
    let mut first_epoch = model(true);
    first_epoch.fit_ragged(&data, None, &config(1)).unwrap();
    assert_ne!(other.get_weights(), first_epoch.get_weights(), "another seed, other batches");
}

/// With `mask_zero`, a sequence's output does not depend on how much its batch pads it, before
/// or after: each equals the output of the sequence alone.
#[test]
fn masking_makes_the_padding_invisible_pre_and_post() {
    let (sequences, _) = reviews(24);
    let mut model = model(true);
    model.fit_ragged(&data(24), None, &config(1)).unwrap();
    for padding in [Padding::Pre, Padding::Post] {
        let data = data(24).padding(padding).shuffle(false);
        let mut source = data.source(0).unwrap().in_order();
        let outputs = training::predict(&mut model, &mut source).unwrap().remove(0);
        for (i, sequence) in sequences.iter().enumerate() {
            let alone =
                ndarray::Array2::from_shape_fn((1, sequence.len()), |(_, t)| sequence[t] as f32);
            let expected = model.predict_batched(&alone, 1).unwrap()[[0, 0]];
            assert!((outputs[[i, 0]] - expected).abs() < 1e-6, "{padding:?} sequence {i}");
        }
    }
}

#[test]
fn evaluate_ragged_and_the_source_cover_every_sequence() {
    let data = data(30).bucket_boundaries(vec![10]);
    let mut model = model(false);
    let scores = model.evaluate_ragged(&data).unwrap();
    let mut total = 0.0;
    // Unmasked, the padding changes the outputs: the same batches as evaluate_ragged's.
    let mut source = data.source(3).unwrap().in_order();
    source.start_epoch();
    let mut seen = 0;
    while let Some(batch) = source.next_batch().unwrap() {
        seen += batch.samples();
        total += model.evaluate_batched(&batch.x[0], &batch.y[0], 32).unwrap().loss
            * batch.samples() as f32;
    }
    assert_eq!(seen, 30);
    assert!((scores.loss - total / 30.0).abs() < 1e-5, "{} vs {}", scores.loss, total / 30.0);
}

#[test]
fn ragged_errors_say_what_was_wrong() {
    let data = data(10);
    let mut fixed = Sequential::new();
    fixed.add(Embedding::new(20, 4).input_length(5));
    fixed.add(SimpleRnn::new(3));
    fixed.add(Dense::new(1).activation(Activation::Sigmoid));
    fixed.compile(Sgd::new(0.1), Loss::BinaryCrossentropy, &[]).unwrap();
    let error = fixed.fit_ragged(&data, None, &config(1)).unwrap_err().to_string();
    assert!(error.contains("expected input of shape (None, 5)"), "{error}");
    let mut model = model(false);
    let split = FitConfig { validation_split: 0.2, ..config(1) };
    let error = model.fit_ragged(&data, None, &split).unwrap_err().to_string();
    assert!(error.contains("pass the validation sequences"), "{error}");
    let error = model.fit_ragged(&data.clone().batch_size(0), None, &config(1)).unwrap_err();
    assert!(error.to_string().contains("batch_size"), "{error}");
    let mut uncompiled = Sequential::new();
    uncompiled.add(Embedding::new(20, 4));
    assert!(uncompiled.evaluate_ragged(&data).is_err());
}
