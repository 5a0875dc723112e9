//! Sequences of any length (a time axis of `None`) against real Keras 3: summaries, the error
//! for a layer that needs a length, and training and inference on batches of different lengths
//! with one model. The fixtures come from `tests/fixtures/generate_variable_length_fixtures.py`.

mod common;

use common::keras::{array, arrays, fixtures_from, max_abs_diff};
use ndarray::{Array1, Array2, Array3};
use rnnkit::layers::NONE;
use rnnkit::prelude::*;
use rnnkit::Error;
use serde_json::Value;

/// Losses, outputs and weights agree with Keras within this.
const TOLERANCE: f32 = 1e-5;

fn fixtures() -> Value {
    fixtures_from("keras_variable_length.json")
}

fn section(fixtures: &Value, name: &str, count: usize) -> Vec<Value> {
    let cases = fixtures[name].as_array().expect("section").clone();
    assert_eq!(cases.len(), count, "the fixture's {name}");
    cases
}

fn units(spec: &Value) -> usize {
    spec["units"].as_u64().expect("units") as usize
}

fn sequences(spec: &Value) -> bool {
    spec["return_sequences"].as_bool().unwrap_or(false)
}

fn add(model: &mut Sequential, spec: &Value) {
    let dim = |key: &str| spec[key].as_u64().expect("a size") as usize;
    match spec["class"].as_str().expect("class") {
        // No input_length: sequences of any length.
        "Embedding" => model.add(
            Embedding::new(dim("input_dim"), dim("output_dim"))
                .mask_zero(spec["mask_zero"].as_bool().unwrap_or(false)),
        ),
        "SimpleRNN" => model.add(SimpleRnn::new(units(spec)).return_sequences(sequences(spec))),
        "LSTM" => model.add(Lstm::new(units(spec)).return_sequences(sequences(spec))),
        "GRU" => model.add(Gru::new(units(spec)).return_sequences(sequences(spec))),
        "Bidirectional" => {
            let inner = &spec["layer"];
            assert_eq!(inner["class"], "LSTM");
            model
                .add(Bidirectional::new(Lstm::new(units(inner)).return_sequences(sequences(inner))))
        }
        "Dense" => model.add(Dense::new(units(spec)).activation(
            spec["activation"].as_str().unwrap_or("linear").parse().expect("activation"),
        )),
        "Flatten" => model.add(Flatten::new()),
        other => panic!("no rnnkit layer for {other}"),
    }
}

/// A per-sample shape from the fixture, `null` as [`NONE`].
fn dims(value: &Value) -> Vec<usize> {
    let dim = |d: &Value| d.as_u64().map_or(NONE, |d| d as usize);
    value.as_array().expect("a shape").iter().map(dim).collect()
}

/// The case's model, unbuilt when it starts with an Embedding (which gives `(None,)` itself),
/// otherwise built for the case's input shape.
fn model(case: &Value) -> Result<Sequential, Error> {
    let mut model = Sequential::new();
    let layers = case["model"].as_array().expect("model");
    for spec in layers {
        add(&mut model, spec);
    }
    if layers[0]["class"] != "Embedding" {
        model.build(&dims(&case["input_shape"]))?;
    }
    Ok(model)
}

#[test]
fn summaries_print_none_for_the_time_axis_as_keras() {
    for case in section(&fixtures(), "summaries", 4) {
        let name = case["name"].as_str().unwrap();
        let summary = model(&case).unwrap().summary().unwrap();
        assert_eq!(
            summary.to_string().trim_end(),
            case["text"].as_str().unwrap().trim_end(),
            "{name}"
        );
        assert_eq!(summary.total_params() as u64, case["total"].as_u64().unwrap(), "{name}");
        for (row, expected) in summary.layers().iter().zip(case["layers"].as_array().unwrap()) {
            let shape = dims(&expected["output_shape"]);
            assert_eq!(row.output_shape, shape[1..], "{name} {}", row.name);
            assert_eq!(row.params as u64, expected["params"].as_u64().unwrap(), "{name}");
        }
    }
}

#[test]
fn a_dense_after_flatten_over_any_length_is_a_clear_error() {
    let case = &section(&fixtures(), "errors", 1)[0];
    assert_eq!(case["error"], "ValueError", "Keras refuses the model too");
    let error = model(case).unwrap().summary().unwrap_err();
    let Error::ShapeMismatch { layer, expected, found } = &error else {
        panic!("expected a shape error, got {error}");
    };
    assert_eq!(layer, "dense");
    assert_eq!(found, "(None, None)");
    assert!(expected.contains("known number of features"), "{expected}");
    assert!(expected.contains("input_length"), "says how to fix it: {expected}");
}

#[test]
fn one_model_trains_and_predicts_on_batches_of_different_lengths_as_keras() {
    for case in section(&fixtures(), "runs", 3) {
        let name = case["name"].as_str().unwrap();
        let mut model = model(&case).unwrap();
        let loss = match case["loss"].as_str().unwrap() {
            "binary_crossentropy" => Loss::BinaryCrossentropy,
            "sparse_categorical_crossentropy" => Loss::SparseCategoricalCrossentropy,
            "mse" => Loss::MeanSquaredError,
            other => panic!("no rnnkit loss for {other}"),
        };
        model.compile(Sgd::new(0.1), loss, &[]).unwrap();
        model.set_weights(arrays(&case["weights"])).unwrap();
        for (index, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let scores = model.train_on_batch(&array(&step["x"]), &array(&step["y"])).unwrap();
            let keras = step["loss"].as_f64().unwrap() as f32;
            assert!(
                (scores.loss - keras).abs() <= TOLERANCE,
                "{name} step {index}: {} vs {keras}",
                scores.loss
            );
            for (ours, theirs) in model.get_weights().iter().zip(arrays(&step["weights"])) {
                assert!(max_abs_diff(ours, &theirs) <= TOLERANCE, "{name} step {index}");
            }
        }
        let predict = &case["predict"];
        let output = model.predict_batched(&array(&predict["x"]), 32).unwrap();
        assert!(max_abs_diff(&output, &array(&predict["output"])) <= TOLERANCE, "{name} predict");
        let evaluate = &case["evaluate"];
        let scores =
            model.evaluate_batched(&array(&evaluate["x"]), &array(&evaluate["y"]), 32).unwrap();
        let keras = evaluate["loss"].as_f64().unwrap() as f32;
        assert!(
            (scores.loss - keras).abs() <= TOLERANCE,
            "{name} evaluate: {} vs {keras}",
            scores.loss
        );
    }
}

fn lesson_model(input_length: Option<usize>) -> Sequential {
    let mut model = Sequential::new().seed(3);
    let embedding = Embedding::new(50, 8);
    model.add(match input_length {
        Some(steps) => embedding.input_length(steps),
        None => embedding,
    });
    model.add(SimpleRnn::new(8));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy]).unwrap();
    model
}

fn ids(samples: usize, steps: usize) -> Array2<f32> {
    Array2::from_shape_fn((samples, steps), |(i, t)| ((i * 7 + t * 3) % 49 + 1) as f32)
}

#[test]
fn fit_on_10_steps_then_predict_evaluate_and_train_on_12() {
    let mut model = lesson_model(None);
    let y = Array1::from_shape_fn(16, |i| (i % 2) as f32);
    let config = FitConfig { epochs: 2, batch_size: 4, verbose: 0, ..FitConfig::default() };
    model.fit(&ids(16, 10), &y, &config).unwrap();
    assert_eq!(model.predict_batched(&ids(5, 12), 32).unwrap().shape(), [5, 1]);
    model.evaluate_batched(&ids(16, 12), &y, 8).unwrap();
    model.train_on_batch(&ids(16, 3), &y).unwrap();
    model.fit(&ids(16, 20), &y, &config).unwrap();
    // A model started by `summary` shows the time axis as None.
    assert!(model.summary().unwrap().to_string().contains("(None, None, 8)"));
}

#[test]
fn weights_and_parameter_counts_do_not_depend_on_the_declared_length() {
    let mut any = lesson_model(None);
    let mut fixed = lesson_model(Some(10));
    assert_eq!(any.summary().unwrap().total_params(), fixed.summary().unwrap().total_params());
    assert_eq!(any.get_weights(), fixed.get_weights(), "same initial weights for a seed");
    // A weights file of one loads into the other.
    let path =
        std::env::temp_dir().join(format!("rnnkit-any-length-{}.safetensors", std::process::id()));
    any.fit(
        &ids(8, 10),
        &Array1::zeros(8),
        &FitConfig { epochs: 1, verbose: 0, ..FitConfig::default() },
    )
    .unwrap();
    any.save_weights(&path).unwrap();
    fixed.load_weights(&path).unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(any.get_weights(), fixed.get_weights());
    assert_eq!(
        any.predict_batched(&ids(3, 10), 32).unwrap(),
        fixed.predict_batched(&ids(3, 10), 32).unwrap()
    );
    // `build(&[steps])` before anything else still fixes the length, as `input_length` does.
    let mut built = lesson_model(None);
    built.build(&[10]).unwrap();
    assert_eq!(built.get_weights(), lesson_model(Some(10)).get_weights());
    assert!(built.summary().unwrap().to_string().contains("(None, 10, 8)"));
}

#[test]
fn a_fixed_length_refuses_other_lengths_clearly() {
    let mut model = lesson_model(Some(10));
    let error = model.predict_batched(&ids(2, 12), 32).unwrap_err().to_string();
    assert_eq!(error, "sequential (x): expected input of shape (None, 10), found (2, 12)");
    let mut any = lesson_model(None);
    any.summary().unwrap();
    // Any length, but still ids: a 3-D batch is refused.
    let error = any.predict_batched(&Array3::<f32>::zeros((2, 4, 1)), 32).unwrap_err().to_string();
    assert_eq!(error, "sequential (x): expected input of shape (None, None), found (2, 4, 1)");
}

#[test]
fn a_model_built_from_sequences_takes_any_length_unless_a_layer_needs_one() {
    let x = |steps: usize| {
        Array3::from_shape_fn((6, steps, 3), |(i, t, f)| ((i + t + f) % 5) as f32 * 0.1)
    };
    let y = Array2::from_shape_fn((6, 1), |(i, _)| i as f32 * 0.1);
    let config = FitConfig { epochs: 1, batch_size: 3, verbose: 0, ..FitConfig::default() };

    let mut recurrent = Sequential::new();
    recurrent.add(Gru::new(4).return_sequences(true));
    recurrent.add(Lstm::new(1));
    recurrent.compile(Sgd::new(0.1), Loss::MeanSquaredError, &[]).unwrap();
    recurrent.fit(&x(10), &y, &config).unwrap();
    assert_eq!(recurrent.predict_batched(&x(12), 32).unwrap().shape(), [6, 1]);
    assert_eq!(recurrent.summary().unwrap().layers()[0].output_shape, [NONE, 4]);

    // Flatten before Dense needs the length: the first batch's is kept, and others are refused.
    let mut flat = Sequential::new();
    flat.add(Flatten::new());
    flat.add(Dense::new(1));
    flat.compile(Sgd::new(0.1), Loss::MeanSquaredError, &[]).unwrap();
    flat.fit(&x(10), &y, &config).unwrap();
    assert_eq!(flat.summary().unwrap().layers()[0].output_shape, [30]);
    let error = flat.predict_batched(&x(12), 32).unwrap_err().to_string();
    assert_eq!(error, "sequential (x): expected input of shape (None, 10, 3), found (6, 12, 3)");
}

#[test]
fn targets_must_have_the_length_of_this_call() {
    let mut model = Sequential::new();
    model.add(Embedding::new(20, 4));
    model.add(SimpleRnn::new(3).return_sequences(true));
    model.add(Dense::new(2).activation(Activation::Softmax));
    model.compile(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy]).unwrap();
    let x = ids(4, 6).mapv(|v| (v as usize % 19 + 1) as f32);
    let y = Array2::<f32>::zeros((4, 6));
    model.train_on_batch(&x, &y).unwrap();
    let error = model.train_on_batch(&x, &Array2::<f32>::zeros((4, 7))).unwrap_err().to_string();
    assert!(error.contains("(None, 6)") && error.contains("(4, 7)"), "{error}");
}

#[test]
fn per_step_sample_weights_follow_the_call_length() {
    let mut model = Sequential::new();
    model.add(Embedding::new(20, 4));
    model.add(SimpleRnn::new(3).return_sequences(true));
    model.add(Dense::new(2).activation(Activation::Softmax));
    model.compile(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy, &[]).unwrap();
    for steps in [5, 8] {
        let x = ids(4, steps).mapv(|v| (v as usize % 19 + 1) as f32);
        let y = Array2::<f32>::zeros((4, steps));
        // Zero weights: the loss is 0 whatever the outputs.
        let zero = model.evaluate_weighted(&x, &y, &Array2::<f32>::zeros((4, steps)), 32).unwrap();
        assert_eq!(zero.loss, 0.0);
        let ones = model.train_on_batch_weighted(&x, &y, &Array2::<f32>::ones((4, steps))).unwrap();
        assert!(ones.loss > 0.0);
        let error = model
            .evaluate_weighted(&x, &y, &Array2::<f32>::ones((4, steps + 1)), 32)
            .unwrap_err()
            .to_string();
        assert!(error.contains(&format!("(4, {})", steps + 1)), "{error}");
    }
}

#[test]
fn a_time_axis_of_any_length_is_saved_as_null_and_loads_back() {
    let mut model = lesson_model(None);
    let y = Array1::from_shape_fn(8, |i| (i % 2) as f32);
    let config = FitConfig { epochs: 1, verbose: 0, ..FitConfig::default() };
    model.fit(&ids(8, 10), &y, &config).unwrap();
    let json = model.to_json().unwrap();
    assert!(json.contains("\"build_input_shape\":[null]"), "{json}");
    assert!(!json.contains(&usize::MAX.to_string()), "{json}");

    let path = std::env::temp_dir()
        .join(format!("rnnkit-any-length-model-{}.safetensors", std::process::id()));
    model.save(&path).unwrap();
    let mut loaded = Sequential::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded.summary().unwrap().layers()[0].output_shape, [NONE, 8]);
    for steps in [4, 15] {
        assert_eq!(loaded.predict(&ids(3, steps)).unwrap(), model.predict(&ids(3, steps)).unwrap());
    }
}

/// A batch of no steps, after a batch of some (whose buffers a layer keeps): every cell, read
/// either way, returns zero states, as Keras' RNN does from zero initial states.
#[test]
fn a_batch_of_no_steps_gives_zero_states_in_either_direction() {
    use rand::SeedableRng;
    use rnnkit::layers::Layer;
    for go_backwards in [false, true] {
        let layers: Vec<Box<dyn Layer>> = vec![
            Box::new(SimpleRnn::new(4).go_backwards(go_backwards)),
            Box::new(Lstm::new(4).go_backwards(go_backwards)),
            Box::new(Gru::new(4).go_backwards(go_backwards)),
        ];
        for mut layer in layers {
            layer.build(&[NONE, 3], &mut rand::rngs::StdRng::seed_from_u64(3)).unwrap();
            let some = Array3::from_shape_fn((2, 5, 3), |(i, t, f)| (i + t + f) as f32 * 0.1);
            let before = layer.forward(some.into_dyn().view(), None, false).unwrap();
            assert!(before.iter().any(|&v| v != 0.0));
            let none = Array3::<f32>::zeros((2, 0, 3)).into_dyn();
            let output = layer.forward(none.view(), None, false).unwrap();
            assert_eq!(output.shape(), &[2, 4]);
            assert!(output.iter().all(|&v| v == 0.0), "{output:?}");
        }
    }
}
