//! Reaching into a model: `get_layer`, `get_layer_mut`, `layers_mut`, `pop`, a layer's own
//! weights, and Keras' rule that freezing or unfreezing takes effect at the next `compile`.

use ndarray::{Array2, ArrayD};
use rnnkit::prelude::*;
use rnnkit::Error;

/// Dense(3) → Dense(2) → Dense(1) on 4 features, compiled with SGD and MSE.
fn model() -> Sequential {
    let mut model = Sequential::new().seed(3);
    model.add(Dense::new(3));
    model.add(Dense::new(2));
    model.add(Dense::new(1));
    model.build(&[4]).unwrap();
    model.compile(Sgd::new(0.1), Loss::MeanSquaredError, &[]).unwrap();
    model
}

fn data() -> (Array2<f32>, Array2<f32>) {
    let x = Array2::from_shape_fn((6, 4), |(i, j)| (i as f32 - 2.5) * 0.3 + j as f32 * 0.1);
    let y = Array2::from_shape_fn((6, 1), |(i, _)| i as f32 * 0.2);
    (x, y)
}

fn weights(model: &Sequential, name: &str) -> Vec<ArrayD<f32>> {
    model.get_layer(name).unwrap().get_weights()
}

#[test]
fn get_layer_finds_by_name_and_lists_the_names_otherwise() {
    let mut model = model();
    let dense_1 = model.get_layer("dense_1").unwrap();
    assert_eq!(dense_1.name(), "dense_1");
    assert_eq!(dense_1.output_shape(), Some(&[2][..]));
    assert_eq!(dense_1.get_weights()[0].shape(), &[3, 2]);

    let error = model.get_layer("lstm").err().unwrap();
    assert!(matches!(error, Error::NoSuchLayer { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("'lstm'"), "{message}");
    assert!(message.contains("dense, dense_1, dense_2"), "{message}");
    assert!(model.get_layer_mut("Dense").is_err(), "names are case-sensitive, as Keras'");
}

#[test]
fn a_layers_own_set_weights_changes_the_model() {
    let mut model = model();
    let (x, _) = data();
    let before = model.predict(&x).unwrap();
    let layer = model.get_layer_mut("dense_2").unwrap();
    let mut w = layer.get_weights();
    w[1].fill(5.0); // the bias
    layer.set_weights(w).unwrap();
    let after = model.predict(&x).unwrap();
    let shift = &after - &before;
    let old_bias = model.get_weights()[5][0];
    assert_eq!(old_bias, 5.0);
    // Dense(1)'s bias was zero: every output moved by exactly 5.
    assert!(shift.iter().all(|d| (d - 5.0).abs() < 1e-5), "{shift:?}");

    let error = model.get_layer_mut("dense_2").unwrap().set_weights(vec![]).unwrap_err();
    assert!(matches!(error, Error::WeightCount { .. }), "{error:?}");
    assert!(error.to_string().contains("dense_2"), "{error}");
}

#[test]
fn layers_mut_renames_and_visits_every_layer_in_order() {
    let mut model = model();
    for (i, layer) in model.layers_mut().enumerate() {
        layer.set_name(format!("fc{i}"));
    }
    let names: Vec<&str> = model.layers().map(|l| l.name()).collect();
    assert_eq!(names, ["fc0", "fc1", "fc2"]);
    assert!(model.get_layer("fc2").is_ok());
}

#[test]
fn pop_removes_the_last_layer_and_the_output_becomes_the_previous_one() {
    let mut model = model();
    let (x, y) = data();
    let popped = model.pop().unwrap();
    assert_eq!(popped.name(), "dense_2");
    assert_eq!(model.layers().count(), 2);
    assert_eq!(model.predict(&x).unwrap().shape(), &[6, 2]);
    assert_eq!(model.summary().unwrap().total_params(), 4 * 3 + 3 + 3 * 2 + 2);
    // A new head can be added and trained in its place.
    model.add(Dense::new(1));
    assert_eq!(model.predict(&x).unwrap().shape(), &[6, 1]);
    model.compile(Sgd::new(0.1), Loss::MeanSquaredError, &[]).unwrap();
    assert!(model.train_on_batch(&x, &y).unwrap().loss.is_finite());

    model.pop().unwrap();
    model.pop().unwrap();
    model.pop().unwrap();
    let error = model.pop().err().unwrap();
    assert!(matches!(error, Error::NoSuchLayer { .. }), "{error:?}");
    assert!(error.to_string().contains("(none)"), "{error}");
    // The emptied model forgot its input shape: it builds for another one.
    model.add(Dense::new(2));
    model.build(&[7]).unwrap();
    assert_eq!(model.get_weights()[0].shape(), &[7, 2]);
}

#[test]
fn freezing_after_compile_takes_effect_at_the_next_compile() {
    let mut model = model();
    let (x, y) = data();
    model.get_layer_mut("dense").unwrap().set_trainable(false);
    // Compiled while trainable: still trains.
    let before = weights(&model, "dense");
    model.train_on_batch(&x, &y).unwrap();
    assert_ne!(weights(&model, "dense"), before, "frozen before the next compile");
    // After compile: frozen; the other layers still train.
    model.compile(Sgd::new(0.1), Loss::MeanSquaredError, &[]).unwrap();
    let (frozen, other) = (weights(&model, "dense"), weights(&model, "dense_1"));
    model.train_on_batch(&x, &y).unwrap();
    model.train_on_batch(&x, &y).unwrap();
    assert_eq!(weights(&model, "dense"), frozen);
    assert_ne!(weights(&model, "dense_1"), other);
    assert_eq!(model.summary().unwrap().non_trainable_params(), 4 * 3 + 3);

    // Unfreezing likewise waits for compile.
    model.get_layer_mut("dense").unwrap().set_trainable(true);
    model.train_on_batch(&x, &y).unwrap();
    assert_eq!(weights(&model, "dense"), frozen, "unfrozen before the next compile");
    model.compile(Sgd::new(0.1), Loss::MeanSquaredError, &[]).unwrap();
    model.train_on_batch(&x, &y).unwrap();
    assert_ne!(weights(&model, "dense"), frozen);
}

/// A (5, 2) table whose row i is (i, -i) / 10.
fn pretrained() -> Array2<f32> {
    Array2::from_shape_fn((5, 2), |(i, j)| if j == 0 { i as f32 } else { -(i as f32) } / 10.0)
}

#[test]
fn embedding_starts_from_the_given_matrix_and_looks_it_up() {
    let mut model = Sequential::new();
    model.add(Embedding::new(5, 2).input_length(3).embeddings(pretrained()));
    let ids = ndarray::arr2(&[[4.0f32, 0.0, 2.0]]);
    let out = model.predict(&ids).unwrap();
    assert_eq!(out.shape(), &[1, 3, 2]);
    let rows: Vec<f32> = out.iter().copied().collect();
    assert_eq!(rows, [0.4, -0.4, 0.0, 0.0, 0.2, -0.2]);
    assert_eq!(model.get_weights()[0], pretrained().into_dyn());
}

#[test]
fn a_frozen_pretrained_embedding_stays_until_unfrozen_and_recompiled() {
    let mut model = Sequential::new().seed(2);
    model.add(Embedding::new(5, 2).input_length(3).embeddings(pretrained()).trainable(false));
    model.add(SimpleRnn::new(3));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(Sgd::new(0.5), Loss::BinaryCrossentropy, &[]).unwrap();
    let x = ndarray::arr2(&[[1.0f32, 2.0, 3.0], [4.0, 3.0, 1.0]]);
    let y = ndarray::arr1(&[1.0f32, 0.0]);
    let rnn = weights(&model, "simple_rnn");
    model.train_on_batch(&x, &y).unwrap();
    assert_eq!(weights(&model, "embedding")[0], pretrained().into_dyn());
    assert_ne!(weights(&model, "simple_rnn"), rnn);
    // Fine-tuning: unfreeze, compile again, train.
    model.get_layer_mut("embedding").unwrap().set_trainable(true);
    model.compile(Sgd::new(0.5), Loss::BinaryCrossentropy, &[]).unwrap();
    model.train_on_batch(&x, &y).unwrap();
    let tuned = &weights(&model, "embedding")[0];
    assert_ne!(*tuned, pretrained().into_dyn());
    // Id 0 and the id no sample reads keep their rows; the rows read move.
    assert_eq!(tuned.as_slice().unwrap()[..2], [0.0, 0.0]);
    assert_ne!(tuned.as_slice().unwrap()[2..4], [0.1, -0.1]);
}

#[test]
fn an_embedding_matrix_of_the_wrong_shape_is_an_error_at_build() {
    let mut model = Sequential::new();
    model.add(Embedding::new(6, 2).embeddings(pretrained()));
    let error = model.build(&[3]).unwrap_err();
    assert!(matches!(error, Error::WeightMismatch { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("embedding"), "{message}");
    assert!(message.contains("(6, 2)"), "{message}");
    assert!(message.contains("(5, 2)"), "{message}");
}

#[test]
fn from_layers_builds_the_same_model_as_add() {
    let mut listed = Sequential::from_layers(vec![
        Box::new(Embedding::new(20, 4).input_length(5)),
        Box::new(Lstm::new(3)),
        Box::new(Dense::new(2)),
    ]);
    let mut added = Sequential::new();
    added.add(Embedding::new(20, 4).input_length(5));
    added.add(Lstm::new(3));
    added.add(Dense::new(2));
    let names: Vec<&str> = listed.layers().map(|l| l.name()).collect();
    assert_eq!(names, ["embedding", "lstm", "dense"]);
    assert_eq!(listed.summary().unwrap().total_params(), 20 * 4 + 4 * (4 * 3 + 3 * 3 + 3) + 8);
    assert_eq!(listed.get_weights(), added.get_weights());
    assert_eq!(listed.summary().unwrap().to_string(), added.summary().unwrap().to_string());
}
