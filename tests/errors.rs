//! Every kind of bad input gets its own `Err` variant, and a message that names the layer or
//! argument, what was expected and what was found.

mod common;

use ndarray::{arr1, arr2, Array2, Array3, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rnnkit::layers::{Layer, Mask, OutputHead};
use rnnkit::prelude::*;
use rnnkit::Error;

fn quiet(batch_size: usize) -> FitConfig {
    FitConfig { batch_size, verbose: 0, shuffle: false, ..FitConfig::default() }
}

/// Embedding(100, 4, input_length 5) → SimpleRnn(3) → Dense(1, sigmoid), compiled with BCE.
fn text_model() -> Sequential {
    let mut model = Sequential::new().seed(1);
    model.add(Embedding::new(100, 4).input_length(5));
    model.add(SimpleRnn::new(3));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model
}

fn compiled_text_model() -> Sequential {
    let mut model = text_model();
    model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy]).unwrap();
    model
}

/// SimpleRnn(3) → Dense(2) on `(5, 4)` sequences, compiled with MSE and `Sgd(lr)`.
fn sequence_model(lr: f32) -> Sequential {
    let mut model = Sequential::new().seed(2);
    model.add(SimpleRnn::new(3));
    model.add(Dense::new(2));
    model.build(&[5, 4]).unwrap();
    model.compile(Sgd::new(lr), Loss::MeanSquaredError, &[]).unwrap();
    model
}

fn ids(rows: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, 5), |(i, j)| ((i * 7 + j * 3) % 100) as f32)
}

fn sequences(rows: usize) -> Array3<f32> {
    Array3::from_shape_fn((rows, 5, 4), |(i, j, k)| {
        ((i * 13 + j * 5 + k * 3) % 11) as f32 / 11.0 - 0.5
    })
}

/// `message` contains every one of `facts`.
#[track_caller]
fn assert_mentions(error: &Error, facts: &[&str]) {
    let message = error.to_string();
    for fact in facts {
        assert!(message.contains(fact), "message {message:?} does not mention {fact:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Shapes

#[test]
fn predict_with_wrong_number_of_steps() {
    let mut model = text_model();
    let error = model.predict(&Array2::<f32>::zeros((2, 6))).unwrap_err();
    let Error::ShapeMismatch { layer, expected, found } = &error else { panic!("{error:?}") };
    assert_eq!(
        (layer.as_str(), expected.as_str(), found.as_str()),
        ("sequential (x)", "(None, 5)", "(2, 6)")
    );
    assert_eq!(
        error.to_string(),
        "sequential (x): expected input of shape (None, 5), found (2, 6)"
    );
}

#[test]
fn predict_with_wrong_rank() {
    let mut model = sequence_model(0.1);
    let error = model.predict(&Array2::<f32>::zeros((2, 5))).unwrap_err();
    assert!(matches!(error, Error::ShapeMismatch { .. }), "{error:?}");
    assert_mentions(&error, &["sequential", "(None, 5, 4)", "(2, 5)"]);

    let error = model.predict(&ArrayD::<f32>::zeros(IxDyn(&[2, 5, 4, 1]))).unwrap_err();
    assert!(matches!(error, Error::ShapeMismatch { .. }), "{error:?}");
    assert_mentions(&error, &["sequential", "(None, 5, 4)", "(2, 5, 4, 1)"]);
}

#[test]
fn fit_with_wrong_feature_count() {
    let mut model = sequence_model(0.1);
    let error = model
        .fit(&Array3::<f32>::zeros((4, 5, 3)), &Array2::<f32>::zeros((4, 2)), &quiet(2))
        .unwrap_err();
    assert!(matches!(error, Error::ShapeMismatch { .. }), "{error:?}");
    assert_mentions(&error, &["sequential", "(None, 5, 4)", "(4, 5, 3)"]);
}

#[test]
fn build_with_a_shape_the_layer_cannot_take() {
    let mut model = Sequential::new();
    model.add(SimpleRnn::new(3));
    let error = model.build(&[5]).unwrap_err();
    let Error::ShapeMismatch { layer, found, .. } = &error else { panic!("{error:?}") };
    assert_eq!(layer, "simple_rnn");
    assert_eq!(found, "(None, 5)");
    assert_mentions(&error, &["simple_rnn", "(None, steps, features)", "(None, 5)"]);
}

#[test]
fn build_again_with_a_different_shape() {
    let mut model = sequence_model(0.1);
    let error = model.build(&[6, 4]).unwrap_err();
    assert!(matches!(error, Error::ShapeMismatch { .. }), "{error:?}");
    assert_mentions(&error, &["sequential", "(None, 5, 4)", "(None, 6, 4)"]);
}

#[test]
fn layer_forward_with_wrong_shape() {
    let mut dense = Dense::new(3);
    dense.set_name("dense_7".into());
    dense.build(&[4], &mut StdRng::seed_from_u64(0)).unwrap();
    let error =
        dense.forward(Array2::<f32>::zeros((3, 5)).into_dyn().view(), None, false).unwrap_err();
    assert!(matches!(error, Error::ShapeMismatch { .. }), "{error:?}");
    assert_eq!(error.to_string(), "dense_7: expected input of shape (None, 4), found (3, 5)");
}

#[test]
fn layer_forward_with_wrong_mask_shape() {
    let mut rnn = SimpleRnn::new(3);
    rnn.set_name("rnn".into());
    rnn.build(&[5, 4], &mut StdRng::seed_from_u64(0)).unwrap();
    let mask: Mask = Array2::from_elem((2, 4), true);
    let error = rnn
        .forward(Array3::<f32>::zeros((2, 5, 4)).into_dyn().view(), Some(&mask), true)
        .unwrap_err();
    assert!(matches!(error, Error::ShapeMismatch { .. }), "{error:?}");
    assert_mentions(&error, &["rnn", "mask", "(2, 5)", "(2, 4)"]);
}

#[test]
fn layer_forward_before_build() {
    let mut dense = Dense::new(3);
    dense.set_name("dense_9".into());
    let error =
        dense.forward(Array2::<f32>::zeros((3, 4)).into_dyn().view(), None, false).unwrap_err();
    assert!(matches!(error, Error::NotBuilt(_)), "{error:?}");
    assert_mentions(&error, &["dense_9", "not built"]);
}

#[test]
fn layer_backward_with_wrong_gradient_shape() {
    let mut dense = Dense::new(3);
    dense.set_name("dense".into());
    dense.build(&[4], &mut StdRng::seed_from_u64(0)).unwrap();
    dense.forward(Array2::<f32>::zeros((2, 4)).into_dyn().view(), None, true).unwrap();
    let error = dense.backward(Array2::<f32>::zeros((2, 2)).into_dyn().view(), true).unwrap_err();
    assert!(matches!(error, Error::ShapeMismatch { .. }), "{error:?}");
    assert_mentions(&error, &["dense", "backward", "(2, 3)", "(2, 2)"]);

    let mut rnn = SimpleRnn::new(3).return_sequences(true);
    rnn.set_name("simple_rnn".into());
    rnn.build(&[5, 4], &mut StdRng::seed_from_u64(0)).unwrap();
    rnn.forward(Array3::<f32>::zeros((2, 5, 4)).into_dyn().view(), None, true).unwrap();
    let error = rnn.backward(Array2::<f32>::zeros((2, 3)).into_dyn().view(), true).unwrap_err();
    assert!(matches!(error, Error::ShapeMismatch { .. }), "{error:?}");
    assert_mentions(&error, &["simple_rnn", "backward", "(2, 5, 3)", "(2, 3)"]);
}

// ---------------------------------------------------------------------------------------------
// Embedding ids

fn predict_ids(bad: f32) -> Error {
    let mut model = Sequential::new();
    model.add(Embedding::new(10_000, 4).input_length(5));
    model.add(SimpleRnn::new(2));
    let mut x = Array2::<f32>::from_elem((2, 5), 7.0);
    x[[1, 3]] = bad;
    model.predict(&x).unwrap_err()
}

#[track_caller]
fn assert_id_out_of_range(error: &Error, bad: f32, text: &str) {
    let Error::IdOutOfRange { layer, value, input_dim } = error else { panic!("{error:?}") };
    assert_eq!(layer, "embedding");
    assert!(value.to_bits() == bad.to_bits(), "value {value} instead of {bad}");
    assert_eq!(*input_dim, 10_000);
    assert_mentions(error, &["embedding", text, "0..10000"]);
}

#[test]
fn embedding_id_past_the_vocabulary() {
    let error = predict_ids(10_003.0);
    assert_id_out_of_range(&error, 10_003.0, "id 10003 ");
    assert_eq!(
        error.to_string(),
        "Embedding 'embedding': id 10003 is out of range; expected integers in 0..10000 (input_dim)"
    );
    // The first id past the end.
    assert_id_out_of_range(&predict_ids(10_000.0), 10_000.0, "id 10000 ");
}

#[test]
fn embedding_negative_id() {
    assert_id_out_of_range(&predict_ids(-1.0), -1.0, "id -1 ");
}

#[test]
fn embedding_fractional_id() {
    assert_id_out_of_range(&predict_ids(3.5), 3.5, "id 3.5 ");
}

#[test]
fn embedding_non_finite_id() {
    assert_id_out_of_range(&predict_ids(f32::NAN), f32::NAN, "id NaN ");
    assert_id_out_of_range(&predict_ids(f32::INFINITY), f32::INFINITY, "id inf ");
}

#[test]
fn embedding_bad_id_during_fit_leaves_weights_unchanged() {
    let mut model = compiled_text_model();
    let before = model.get_weights();
    let mut x = ids(4);
    x[[2, 0]] = 100.0;
    let error = model.fit(&x, &arr1(&[0.0f32, 1.0, 0.0, 1.0]), &quiet(4)).unwrap_err();
    let Error::IdOutOfRange { input_dim: 100, .. } = &error else { panic!("{error:?}") };
    assert_mentions(&error, &["embedding", "id 100 ", "0..100"]);
    assert_eq!(model.get_weights(), before);
}

// ---------------------------------------------------------------------------------------------
// Compile, fit, evaluate

#[test]
fn fit_evaluate_train_on_batch_before_compile() {
    let x = ids(4);
    let y = arr1(&[0.0f32, 1.0, 0.0, 1.0]);
    let mut model = text_model();
    let error = model.fit(&x, &y, &quiet(2)).unwrap_err();
    assert!(matches!(error, Error::NotCompiled("fit")), "{error:?}");
    assert_mentions(&error, &["compiled before fit", "model.compile("]);

    let error = model.evaluate_batched(&x, &y, 2).unwrap_err();
    assert!(matches!(error, Error::NotCompiled("evaluate")), "{error:?}");
    assert_mentions(&error, &["compiled before evaluate", "model.compile("]);

    let error = model.train_on_batch(&x, &y).unwrap_err();
    assert!(matches!(error, Error::NotCompiled("train_on_batch")), "{error:?}");
    assert_mentions(&error, &["compiled before train_on_batch", "model.compile("]);

    // predict needs no compile.
    assert_eq!(model.predict_batched(&x, 2).unwrap().shape(), &[4, 1]);
}

#[test]
fn x_and_y_lengths_differ() {
    let mut model = compiled_text_model();
    let y = arr1(&[0.0f32, 1.0, 0.0]);
    let check = |error: Error| {
        let Error::LengthMismatch { x: 4, y: 3 } = error else { panic!("{error:?}") };
        assert_eq!(
            error.to_string(),
            "x has 4 samples but y has 3; expected the same number of samples in both"
        );
    };
    check(model.fit(&ids(4), &y, &quiet(2)).unwrap_err());
    check(model.evaluate_batched(&ids(4), &y, 2).unwrap_err());
    check(model.train_on_batch(&ids(4), &y).unwrap_err());
}

#[test]
fn validation_data_lengths_differ() {
    let mut model = compiled_text_model();
    let config = FitConfig {
        validation_data: Some((ids(3).into_dyn(), arr1(&[0.0f32, 1.0]).into_dyn())),
        ..quiet(2)
    };
    let error = model.fit(&ids(4), &arr1(&[0.0f32, 1.0, 0.0, 1.0]), &config).unwrap_err();
    let Error::LengthMismatch { x: 3, y: 2 } = error else { panic!("{error:?}") };
}

#[test]
fn empty_x() {
    let mut model = compiled_text_model();
    let empty = Array2::<f32>::zeros((0, 5));
    let no_y = Array2::<f32>::zeros((0, 1));
    for error in [
        model.fit(&empty, &no_y, &quiet(2)).unwrap_err(),
        model.evaluate_batched(&empty, &no_y, 2).unwrap_err(),
        model.train_on_batch(&empty, &no_y).unwrap_err(),
        model.predict_batched(&empty, 2).unwrap_err(),
    ] {
        assert!(matches!(error, Error::EmptyInput("x")), "{error:?}");
        assert_eq!(error.to_string(), "x is empty; expected at least one sample");
    }
}

#[test]
fn nan_target_stops_training_at_its_batch() {
    let mut model = sequence_model(0.01);
    let x = sequences(6);
    let mut y = Array2::<f32>::zeros((6, 2));
    y[[3, 1]] = f32::NAN; // sample 3 is in batch 2 of 3 (batch size 2, no shuffling)
    let error = model.fit(&x, &y, &FitConfig { epochs: 3, ..quiet(2) }).unwrap_err();
    let Error::NonFiniteLoss { epoch: 1, batch: 2, loss } = error else { panic!("{error:?}") };
    assert!(loss.is_nan());
    assert_eq!(
        error.to_string(),
        "the loss became NaN at epoch 1, batch 2; training stopped (lower the learning rate or clip \
         gradients)"
    );
}

#[test]
fn nan_target_does_not_update_the_weights() {
    // The batch whose loss is not finite makes no update: the weights after the error are those
    // after batch 1 alone.
    let x = sequences(4);
    let mut y = Array2::<f32>::zeros((4, 2));
    let mut reference = sequence_model(0.01);
    reference
        .fit(&x.slice(ndarray::s![..2, .., ..]), &y.slice(ndarray::s![..2, ..]), &quiet(2))
        .unwrap();
    y[[2, 0]] = f32::NAN;
    let mut model = sequence_model(0.01);
    let error = model.fit(&x, &y, &quiet(2)).unwrap_err();
    assert!(matches!(error, Error::NonFiniteLoss { epoch: 1, batch: 2, .. }), "{error:?}");
    assert_eq!(model.get_weights(), reference.get_weights());
}

#[test]
fn exploding_learning_rate_stops_training() {
    let mut model = sequence_model(1e30);
    let x = sequences(8);
    let y = Array2::from_shape_fn((8, 2), |(i, j)| (i + j) as f32 / 4.0 - 1.0);
    let error = model.fit(&x, &y, &FitConfig { epochs: 2, ..quiet(2) }).unwrap_err();
    // Batch 1 is finite and its update multiplies the weights by ~1e30; batch 2 overflows.
    let Error::NonFiniteLoss { epoch: 1, batch: 2, loss } = error else { panic!("{error:?}") };
    assert!(!loss.is_finite());
    eprintln!("{error}");
    assert_mentions(&error, &["epoch 1, batch 2", "training stopped", "learning rate"]);
}

#[test]
fn non_finite_train_on_batch_loss_is_reported_as_such() {
    // train_on_batch, like Keras, returns the non-finite loss rather than an error, and makes no
    // update.
    let mut model = sequence_model(0.01);
    let before = model.get_weights();
    let mut y = Array2::<f32>::zeros((2, 2));
    y[[0, 0]] = f32::INFINITY;
    let scores = model.train_on_batch(&sequences(2), &y).unwrap();
    assert!(!scores.loss.is_finite());
    assert_eq!(model.get_weights(), before);
}

// ---------------------------------------------------------------------------------------------
// Weights

#[test]
fn set_weights_with_wrong_count() {
    let mut model = sequence_model(0.1);
    let before = model.get_weights();
    assert_eq!(before.len(), 5);
    let mut fewer = before.clone();
    fewer.pop();
    let error = model.set_weights(fewer).unwrap_err();
    let Error::WeightCount { layer, expected, found, .. } = &error else { panic!("{error:?}") };
    assert_eq!((layer.as_str(), *expected, *found), ("sequential", 5, 4));
    assert_mentions(&error, &["sequential", "5 weights", "4 weights", "dense/bias"]);
    assert_eq!(model.get_weights(), before);

    let mut more = before.clone();
    more.push(ArrayD::zeros(IxDyn(&[2])));
    assert!(matches!(model.set_weights(more), Err(Error::WeightCount { found: 6, .. })));
    assert_eq!(model.get_weights(), before);
}

#[test]
fn set_weights_with_wrong_shape() {
    let mut model = sequence_model(0.1);
    let before = model.get_weights();
    // Every weight replaced, the dense kernel (index 3) transposed: nothing may change.
    let mut weights: Vec<ArrayD<f32>> = before.iter().map(|w| w.mapv(|v| v + 1.0)).collect();
    weights[3] = weights[3].t().to_owned();
    let error = model.set_weights(weights).unwrap_err();
    let Error::WeightMismatch { layer, index, expected, found } = &error else {
        panic!("{error:?}")
    };
    assert_eq!((layer.as_str(), *index), ("dense", 3));
    assert_eq!(expected, "kernel (3, 2)");
    assert_eq!(found, "(2, 3)");
    assert_eq!(error.to_string(), "dense: weight 3 has shape (2, 3), expected kernel (3, 2)");
    assert_eq!(model.get_weights(), before);
}

#[test]
fn layer_set_weights_with_wrong_count_or_shape() {
    let mut rnn = SimpleRnn::new(3);
    rnn.set_name("simple_rnn_2".into());
    rnn.build(&[5, 4], &mut StdRng::seed_from_u64(0)).unwrap();
    let before = rnn.get_weights();

    let error = rnn.set_weights(before[..2].to_vec()).unwrap_err();
    assert!(matches!(error, Error::WeightCount { expected: 3, found: 2, .. }), "{error:?}");
    assert_mentions(&error, &["simple_rnn_2", "3 weights", "2 weights"]);
    assert_eq!(rnn.get_weights(), before);

    let mut wrong = before.clone();
    wrong[0] = wrong[0].mapv(|v| v * 2.0);
    wrong[2] = ArrayD::zeros(IxDyn(&[4]));
    let error = rnn.set_weights(wrong).unwrap_err();
    let Error::WeightMismatch { index: 2, .. } = &error else { panic!("{error:?}") };
    assert_mentions(&error, &["simple_rnn_2", "bias (3,)", "(4,)"]);
    assert_eq!(rnn.get_weights(), before);
}

/// A wrong count is reported as a count, not through the shape template.
#[test]
fn set_weights_count_message_reads_as_a_count() {
    let mut model = sequence_model(0.1);
    let mut fewer = model.get_weights();
    fewer.pop();
    let message = model.set_weights(fewer).unwrap_err().to_string();
    assert!(!message.contains("has shape"), "{message}");
    assert!(message.contains("5 weights") && message.contains("4 weights"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Hyper-parameters

#[track_caller]
fn assert_invalid(error: Error, name: &str, expected: &str, got: &str) {
    let Error::InvalidArgument { name: n, expected: e, got: g } = &error else {
        panic!("{error:?}")
    };
    assert_eq!((n.as_str(), e.as_str(), g.as_str()), (name, expected, got), "{error}");
    assert_mentions(&error, &[name, expected, got]);
}

#[test]
fn zero_units_or_dimensions_fail_at_build() {
    let mut model = Sequential::new();
    model.add(SimpleRnn::new(0));
    assert_invalid(model.build(&[5, 4]).unwrap_err(), "units", "a positive integer", "0");

    let mut model = Sequential::new();
    model.add(Dense::new(0));
    assert_invalid(model.build(&[4]).unwrap_err(), "units", "a positive integer", "0");

    let mut model = Sequential::new();
    model.add(Embedding::new(0, 4));
    assert_invalid(model.build(&[5]).unwrap_err(), "input_dim", "a positive integer", "0");

    let mut model = Sequential::new();
    model.add(Embedding::new(10, 0));
    assert_invalid(model.build(&[5]).unwrap_err(), "output_dim", "a positive integer", "0");

    let mut layer = SimpleRnn::new(0);
    let error = layer.build(&[5, 4], &mut StdRng::seed_from_u64(0)).unwrap_err();
    assert_invalid(error, "units", "a positive integer", "0");
}

#[test]
fn zero_units_reported_by_summary() {
    // The layer is built as it is added (the input length is known); the error waits for the
    // next call that needs the model.
    let mut model = Sequential::new();
    model.add(Embedding::new(0, 4).input_length(5));
    let error = model.summary().unwrap_err();
    assert_mentions(&error, &["input_dim", "a positive integer", "got 0"]);

    let mut model = Sequential::new();
    model.add(Embedding::new(10, 4).input_length(5));
    model.add(SimpleRnn::new(0));
    let error = model.summary().unwrap_err();
    assert_mentions(&error, &["units", "a positive integer", "got 0"]);
}

#[test]
fn zero_units_reported_by_summary_as_invalid_argument() {
    let mut model = Sequential::new();
    model.add(Embedding::new(10, 4).input_length(5));
    model.add(SimpleRnn::new(0));
    assert_invalid(model.summary().unwrap_err(), "units", "a positive integer", "0");
}

#[test]
fn failed_build_is_still_explained_by_summary() {
    let mut model = Sequential::new();
    model.add(Embedding::new(10, 4).input_length(5));
    model.add(SimpleRnn::new(0));
    assert!(model.build(&[5]).is_err());
    let error = model.summary().unwrap_err();
    assert_mentions(&error, &["units", "a positive integer", "0"]);
}

#[test]
fn summary_with_unknown_input_shape() {
    let mut model = Sequential::new();
    model.add(SimpleRnn::new(3));
    model.add(Dense::new(1));
    let error = model.summary().unwrap_err();
    assert!(matches!(error, Error::NotBuilt(_)), "{error:?}");
    assert_mentions(&error, &["not built", "model.build(&input_shape)", "input length"]);

    let error = Sequential::new().summary().unwrap_err();
    assert!(matches!(error, Error::NotBuilt(_)), "{error:?}");

    let error = Sequential::new().predict_batched(&Array2::<f32>::zeros((1, 3)), 1).unwrap_err();
    assert!(matches!(error, Error::NotBuilt(_)), "{error:?}");
    assert_mentions(&error, &["no layers"]);
}

#[test]
fn negative_or_non_finite_learning_rate() {
    let mut model = text_model();
    let error = model.compile(Sgd::new(-0.1), Loss::BinaryCrossentropy, &[]).unwrap_err();
    assert_invalid(error, "learning_rate", "a finite number ≥ 0", "-0.1");
    let error = model.compile(Adam::new(f32::NAN), Loss::BinaryCrossentropy, &[]).unwrap_err();
    assert_invalid(error, "learning_rate", "a finite number ≥ 0", "NaN");
    let error =
        model.compile(RmsProp::new(f32::INFINITY), Loss::BinaryCrossentropy, &[]).unwrap_err();
    assert_invalid(error, "learning_rate", "a finite number ≥ 0", "inf");
    // A failed compile leaves the model uncompiled.
    assert!(matches!(
        model.evaluate_batched(&ids(2), &arr1(&[0.0f32, 1.0]), 2),
        Err(Error::NotCompiled(_))
    ));
}

#[test]
fn decay_factors_outside_their_interval() {
    let mut model = text_model();
    let loss = Loss::BinaryCrossentropy;
    assert_invalid(
        model.compile(RmsProp::new(0.001).rho(1.0), loss, &[]).unwrap_err(),
        "rho",
        "a number in [0, 1)",
        "1",
    );
    assert_invalid(
        model.compile(RmsProp::new(0.001).rho(-0.5), loss, &[]).unwrap_err(),
        "rho",
        "a number in [0, 1)",
        "-0.5",
    );
    assert_invalid(
        model.compile(Adam::new(0.001).beta_1(1.0), loss, &[]).unwrap_err(),
        "beta_1",
        "a number in [0, 1)",
        "1",
    );
    assert_invalid(
        model.compile(Adam::new(0.001).beta_2(1.5), loss, &[]).unwrap_err(),
        "beta_2",
        "a number in [0, 1)",
        "1.5",
    );
    assert_invalid(
        model.compile(Sgd::new(0.01).momentum(1.5), loss, &[]).unwrap_err(),
        "momentum",
        "a number in [0, 1]",
        "1.5",
    );
    assert_invalid(
        model.compile(Adam::new(0.001).epsilon(0.0), loss, &[]).unwrap_err(),
        "epsilon",
        "a positive finite number",
        "0",
    );
    assert_invalid(
        model.compile(Adam::new(0.001).beta_1(f32::NAN), loss, &[]).unwrap_err(),
        "beta_1",
        "a number in [0, 1)",
        "NaN",
    );
}

#[test]
fn two_clipping_options_at_once() {
    let mut model = text_model();
    let clipping = Clipping { clipnorm: Some(1.0), clipvalue: Some(0.5), global_clipnorm: None };
    let error = model
        .compile(Sgd::new(0.01).clipping(clipping), Loss::BinaryCrossentropy, &[])
        .unwrap_err();
    let Error::InvalidArgument { name, expected, got } = &error else { panic!("{error:?}") };
    assert_eq!(name, "clipnorm/clipvalue/global_clipnorm");
    assert_eq!(expected, "at most one of them");
    assert!(got.contains("clipnorm: Some(1.0)") && got.contains("clipvalue: Some(0.5)"), "{got}");

    let clipping = Clipping { clipnorm: None, clipvalue: None, global_clipnorm: Some(-1.0) };
    let error = model
        .compile(Adam::new(0.01).clipping(clipping), Loss::BinaryCrossentropy, &[])
        .unwrap_err();
    assert_invalid(error, "clipping threshold", "a positive finite number", "-1");
}

#[test]
fn validation_split_outside_its_interval() {
    let mut model = compiled_text_model();
    let (x, y) = (ids(4), arr1(&[0.0f32, 1.0, 0.0, 1.0]));
    for (split, got) in [(1.0f32, "1"), (-0.1, "-0.1"), (1.5, "1.5"), (f32::NAN, "NaN")] {
        let error =
            model.fit(&x, &y, &FitConfig { validation_split: split, ..quiet(2) }).unwrap_err();
        assert_invalid(error, "validation_split", "a number in [0, 1)", got);
    }
    // In range, but it leaves no training sample.
    let error = model
        .fit(&ids(1), &arr1(&[1.0f32]), &FitConfig { validation_split: 0.5, ..quiet(2) })
        .unwrap_err();
    let Error::InvalidArgument { name, .. } = &error else { panic!("{error:?}") };
    assert_eq!(name, "validation_split");
    assert_mentions(&error, &["validation_split", "1 samples", "0.5"]);
}

#[test]
fn zero_batch_size() {
    let mut model = compiled_text_model();
    let (x, y) = (ids(4), arr1(&[0.0f32, 1.0, 0.0, 1.0]));
    for error in [
        model.fit(&x, &y, &quiet(0)).unwrap_err(),
        model.evaluate_batched(&x, &y, 0).unwrap_err(),
        model.predict_batched(&x, 0).unwrap_err(),
    ] {
        assert_invalid(error, "batch_size", "a positive integer", "0");
    }
}

// ---------------------------------------------------------------------------------------------
// Targets

fn classifier(classes: usize, loss: Loss) -> Sequential {
    let mut model = Sequential::new().seed(3);
    model.add(SimpleRnn::new(3));
    model.add(Dense::new(classes).activation(Activation::Softmax));
    model.build(&[5, 4]).unwrap();
    model.compile(Sgd::new(0.1), loss, &[Metric::Accuracy]).unwrap();
    model
}

#[test]
fn sparse_targets_out_of_range() {
    let mut model = classifier(3, Loss::SparseCategoricalCrossentropy);
    let before = model.get_weights();
    let x = sequences(3);
    for (bad, got) in [(3.0f32, "3"), (-1.0, "-1"), (1.5, "1.5"), (f32::NAN, "NaN")] {
        let y = arr1(&[0.0f32, bad, 2.0]);
        assert_invalid(
            model.fit(&x, &y, &quiet(3)).unwrap_err(),
            "y",
            "integer class ids in 0..3",
            got,
        );
        assert_invalid(
            model.evaluate_batched(&x, &y, 3).unwrap_err(),
            "y",
            "integer class ids in 0..3",
            got,
        );
        assert_invalid(
            model.train_on_batch(&x, &y).unwrap_err(),
            "y",
            "integer class ids in 0..3",
            got,
        );
    }
    assert_eq!(model.get_weights(), before);
}

#[test]
fn targets_with_the_wrong_shape() {
    // Binary cross-entropy on a (batch, 1) output: (batch,) and (batch, 1) are fine, (batch, 2)
    // is not.
    let mut model = compiled_text_model();
    let error = model.fit(&ids(3), &Array2::<f32>::zeros((3, 2)), &quiet(3)).unwrap_err();
    let Error::ShapeMismatch { layer, expected, found } = &error else { panic!("{error:?}") };
    assert_eq!(
        (layer.as_str(), expected.as_str(), found.as_str()),
        ("binary_crossentropy targets", "(None, 1)", "(3, 2)")
    );
    assert_eq!(
        error.to_string(),
        "binary_crossentropy targets: expected input of shape (None, 1), found (3, 2)"
    );

    // One-hot targets with the wrong number of classes.
    let mut model = classifier(3, Loss::CategoricalCrossentropy);
    let error =
        model.evaluate_batched(&sequences(2), &arr2(&[[0.0f32, 1.0], [1.0, 0.0]]), 2).unwrap_err();
    assert!(matches!(error, Error::ShapeMismatch { .. }), "{error:?}");
    assert_mentions(&error, &["categorical_crossentropy targets", "(None, 3)", "(2, 2)"]);

    // Sparse targets given one-hot.
    let mut model = classifier(3, Loss::SparseCategoricalCrossentropy);
    let error = model
        .train_on_batch(&sequences(2), &arr2(&[[0.0f32, 1.0, 0.0], [1.0, 0.0, 0.0]]))
        .unwrap_err();
    assert!(matches!(error, Error::ShapeMismatch { .. }), "{error:?}");
    assert_mentions(
        &error,
        &["sparse_categorical_crossentropy targets", "class ids of shape (None)", "(2, 3)"],
    );
}

// ---------------------------------------------------------------------------------------------
// Backward without forward

fn built<L: Layer>(mut layer: L, name: &str, shape: &[usize]) -> L {
    layer.set_name(name.into());
    layer.build(shape, &mut StdRng::seed_from_u64(0)).unwrap();
    layer
}

#[track_caller]
fn assert_no_forward_cache(layer: &mut dyn Layer, input: ArrayD<f32>, grad: ArrayD<f32>) {
    let name = layer.name().to_string();
    for input_grad in [true, false] {
        let error = layer.backward(grad.view(), input_grad).unwrap_err();
        let Error::NoForwardCache(layer_name) = &error else { panic!("{name}: {error:?}") };
        assert_eq!(layer_name, &name);
        assert_eq!(
            error.to_string(),
            format!("{name}: backward called without a forward pass in training mode")
        );
    }
    // An inference-mode forward keeps nothing either.
    layer.forward(input.view(), None, false).unwrap();
    let error = layer.backward(grad.view(), true).unwrap_err();
    assert!(matches!(error, Error::NoForwardCache(_)), "{name} after inference: {error:?}");
}

#[test]
fn backward_without_forward() {
    let seq = || ArrayD::<f32>::zeros(IxDyn(&[2, 5, 4]));
    assert_no_forward_cache(
        &mut built(Dense::new(3), "dense", &[4]),
        ArrayD::zeros(IxDyn(&[2, 4])),
        ArrayD::zeros(IxDyn(&[2, 3])),
    );
    assert_no_forward_cache(
        &mut built(SimpleRnn::new(3), "simple_rnn", &[5, 4]),
        seq(),
        ArrayD::zeros(IxDyn(&[2, 3])),
    );
    assert_no_forward_cache(
        &mut built(Embedding::new(10, 4), "embedding", &[5]),
        ArrayD::zeros(IxDyn(&[2, 5])),
        seq(),
    );
    assert_no_forward_cache(
        &mut built(Flatten::new(), "flatten", &[5, 4]),
        seq(),
        ArrayD::zeros(IxDyn(&[2, 20])),
    );
    assert_no_forward_cache(&mut built(Masking::new(0.0), "masking", &[5, 4]), seq(), seq());
}

#[test]
fn backward_logits_without_forward() {
    let mut dense = built(Dense::new(3).activation(Activation::Softmax), "dense", &[4]);
    let error = dense.backward_logits(ArrayD::zeros(IxDyn(&[2, 3])).view(), true).unwrap_err();
    assert!(matches!(error, Error::NoForwardCache(_)), "{error:?}");
    assert_mentions(&error, &["dense", "without a forward pass"]);
}
