//! The stateful metrics against real Keras 3: several batches through `update_state`, with and
//! without sample weights, and masked sequence models through `evaluate`. The fixtures come
//! from `tests/fixtures/generate_training_fixtures.py`.

mod common;

use common::keras::{array, arrays, cases, fixtures_from};
use ndarray::{Axis, Slice};
use rnnkit::metrics::{Auc, AucCurve, AucSummation, Metric, MetricState};
use rnnkit::prelude::*;
use serde_json::Value;

/// Keras accumulates in float32; rnnkit in f64, then rounds the result.
const TOLERANCE: f32 = 2e-6;

fn fixtures() -> Value {
    fixtures_from("keras_training.json")
}

fn threshold(config: &Value, key: &str) -> f32 {
    config.get(key).and_then(Value::as_f64).unwrap_or(0.5) as f32
}

/// The rnnkit metric for a Keras class and configuration.
fn metric(class: &str, config: &Value) -> Metric {
    match class {
        "BinaryAccuracy" => Metric::BinaryAccuracy { threshold: threshold(config, "threshold") },
        "CategoricalAccuracy" => Metric::CategoricalAccuracy,
        "SparseCategoricalAccuracy" => Metric::SparseCategoricalAccuracy,
        "TopKCategoricalAccuracy" => Metric::TopKCategoricalAccuracy {
            k: config.get("k").and_then(Value::as_u64).unwrap_or(5) as usize,
        },
        "Precision" => Metric::Precision { threshold: threshold(config, "thresholds") },
        "Recall" => Metric::Recall { threshold: threshold(config, "thresholds") },
        "AUC" => {
            let mut auc = Auc::new();
            if config.get("curve").and_then(Value::as_str) == Some("PR") {
                auc = auc.curve(AucCurve::Pr);
            }
            if let Some(n) = config.get("num_thresholds").and_then(Value::as_u64) {
                auc = auc.num_thresholds(n as usize);
            }
            match config.get("summation_method").and_then(Value::as_str) {
                Some("minoring") => auc = auc.summation_method(AucSummation::Minoring),
                Some("majoring") => auc = auc.summation_method(AucSummation::Majoring),
                _ => {}
            }
            Metric::Auc(auc)
        }
        "MeanAbsoluteError" => Metric::MeanAbsoluteError,
        "MeanSquaredError" => Metric::MeanSquaredError,
        "RootMeanSquaredError" => Metric::RootMeanSquaredError,
        other => panic!("no metric {other}"),
    }
}

#[test]
fn metrics_over_batches_match_keras() {
    let fixtures = fixtures();
    let mut largest = 0.0f32;
    for case in cases(&fixtures, "metrics") {
        let metric = metric(case["class"].as_str().unwrap(), &case["config"]);
        // Keras numbers repeated objects of a class: `precision_1`.
        let keras_name = case["keras_name"].as_str().unwrap();
        let unnumbered = keras_name.trim_end_matches(|c: char| c.is_ascii_digit());
        assert!(
            metric.name() == keras_name || format!("{}_", metric.name()) == unnumbered,
            "{}: {} against {keras_name}",
            case["name"],
            metric.name()
        );
        let mut state = metric.state();
        for (batch, expected) in
            case["batches"].as_array().unwrap().iter().zip(case["results"].as_array().unwrap())
        {
            let weights = batch.get("sample_weight").map(array);
            state
                .update(
                    array(&batch["p"]).view(),
                    array(&batch["y"]).view(),
                    None,
                    weights.as_ref().map(|w| w.view()),
                )
                .unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
            let (got, want) = (state.result(), expected.as_f64().unwrap() as f32);
            let diff = (got - want).abs();
            largest = largest.max(diff);
            assert!(diff <= TOLERANCE, "{}: {got} against Keras' {want}", case["name"]);
        }
    }
    eprintln!("metrics: largest difference from Keras {largest:e}");
}

/// The sequence model of a masked case, with Keras' weights.
fn masked_model(case: &Value) -> Sequential {
    let weights = arrays(&case["weights"]);
    let x = array(&case["x"]);
    let (vocab, dim) = (weights[0].shape()[0], weights[0].shape()[1]);
    let units = weights[1].shape()[1];
    let classes = weights[4].shape()[1];
    let activation = if classes == 1 { Activation::Sigmoid } else { Activation::Softmax };
    let mut model = Sequential::new();
    model.add(Embedding::new(vocab, dim).input_length(x.shape()[1]).mask_zero(true));
    model.add(SimpleRnn::new(units).return_sequences(true));
    model.add(Dense::new(classes).activation(activation));
    model.build(&[x.shape()[1]]).unwrap();
    model.set_weights(weights).unwrap();
    model
}

/// The rnnkit metric behind a Keras result key of a masked case.
fn metric_for_key(key: &str, case: &Value) -> Option<Metric> {
    let sparse = case["loss"] == "sparse_categorical_crossentropy";
    // Keras numbers repeated metric objects: `precision_6`.
    let base = key.trim_end_matches(|c: char| c.is_ascii_digit()).trim_end_matches('_');
    Some(match base {
        "accuracy" | "weighted_accuracy" if sparse => Metric::SparseCategoricalAccuracy,
        "accuracy" => Metric::Accuracy,
        "binary_accuracy" | "weighted_binary_accuracy" => Metric::BinaryAccuracy { threshold: 0.5 },
        "categorical_accuracy" => Metric::CategoricalAccuracy,
        "sparse_categorical_accuracy" => Metric::SparseCategoricalAccuracy,
        "top_k_categorical_accuracy" => Metric::TopKCategoricalAccuracy { k: 2 },
        "precision" | "weighted_precision" => Metric::Precision { threshold: 0.5 },
        "recall" => Metric::Recall { threshold: 0.5 },
        "auc" | "weighted_auc" => Metric::Auc(Auc::new()),
        "pr_auc" => Metric::Auc(Auc::new().curve(AucCurve::Pr)),
        "mean_absolute_error" => Metric::MeanAbsoluteError,
        "mean_squared_error" | "weighted_mse" => Metric::MeanSquaredError,
        "root_mean_squared_error" => Metric::RootMeanSquaredError,
        _ => return None,
    })
}

#[test]
fn masked_sequences_match_keras_evaluate() {
    let fixtures = fixtures();
    let mut largest = 0.0f32;
    let mut checked = 0;
    for case in cases(&fixtures, "masked_metrics") {
        let mut model = masked_model(case);
        let x = array(&case["x"]);
        let y = array(&case["y"]);
        let output = model.predict(&x).unwrap();
        let forward = (&output - &array(&case["predictions"])).mapv(f32::abs);
        assert!(forward.iter().all(|&d| d < 1e-5), "{}: forward differs", case["name"]);
        let mask = x.mapv(|id| id != 0.0).into_dimensionality::<ndarray::Ix2>().unwrap();
        let weights = case.get("sample_weight").filter(|w| !w.is_null()).map(array);
        let weighted: Vec<&str> =
            case["weighted_metrics"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        let batch_size = case["batch_size"].as_u64().unwrap() as usize;
        for (key, expected) in case["result"].as_object().unwrap() {
            let Some(metric) = metric_for_key(key, case) else { continue };
            let mut state = metric.state();
            let samples = x.shape()[0];
            for start in (0..samples).step_by(batch_size) {
                let rows = Slice::from(start..(start + batch_size).min(samples));
                let w = weights
                    .as_ref()
                    .filter(|_| weighted.contains(&key.as_str()))
                    .map(|w| w.slice_axis(Axis(0), rows));
                state
                    .update(
                        output.slice_axis(Axis(0), rows),
                        y.slice_axis(Axis(0), rows),
                        Some(&mask.slice_axis(Axis(0), rows).to_owned()),
                        w,
                    )
                    .unwrap();
            }
            let (got, want) = (state.result(), expected.as_f64().unwrap() as f32);
            let diff = (got - want).abs();
            largest = largest.max(diff);
            checked += 1;
            assert!(diff <= 1e-5, "{} {key}: {got} against Keras' {want}", case["name"]);
        }
    }
    assert!(checked >= 25, "only {checked} masked metric values checked");
    eprintln!("masked metrics: {checked} values, largest difference from Keras {largest:e}");
}

#[test]
fn issue_reproduction_counts_only_real_steps() {
    let fixtures = fixtures();
    let case = cases(&fixtures, "masked_metrics")
        .iter()
        .find(|c| c["name"] == "issue12_sparse_accuracy")
        .unwrap();
    let mut model = masked_model(case);
    let x = array(&case["x"]);
    let output = model.predict_batched(&x, 2).unwrap();
    let mask = x.mapv(|id| id != 0.0).into_dimensionality::<ndarray::Ix2>().unwrap();
    let mut masked = Metric::Accuracy.state();
    masked.update(output.view(), array(&case["y"]).view(), Some(&mask), None).unwrap();
    assert_eq!(masked.result(), 0.0);
    assert_eq!(case["result"]["accuracy"], 0.0);
    // Without the mask the 5 padded steps, labelled with the predicted class, count.
    let mut unmasked = Metric::Accuracy.state();
    unmasked.update(output.view(), array(&case["y"]).view(), None, None).unwrap();
    assert_eq!(unmasked.result(), 0.625);
}

#[test]
fn state_resets_and_accumulates_rather_than_averaging_batches() {
    let mut state = Metric::BinaryAccuracy { threshold: 0.5 }.state();
    let first = ndarray::array![[0.9f32], [0.1], [0.8]].into_dyn();
    let first_y = ndarray::array![1.0f32, 1.0, 1.0].into_dyn();
    state.update(first.view(), first_y.view(), None, None).unwrap();
    let second = ndarray::array![[0.9f32]].into_dyn();
    let second_y = ndarray::array![1.0f32].into_dyn();
    state.update(second.view(), second_y.view(), None, None).unwrap();
    // 3 correct of 4, not the mean of 2/3 and 1.
    assert_eq!(state.result(), 0.75);
    state.reset();
    assert_eq!(state.result(), 0.0);
    assert_eq!(state, Metric::BinaryAccuracy { threshold: 0.5 }.state());
}

#[test]
fn bad_shapes_and_arguments_are_errors() {
    let p = ndarray::Array2::<f32>::zeros((4, 3)).into_dyn();
    let mut state: MetricState = Metric::CategoricalAccuracy.state();
    let ids = ndarray::Array1::<f32>::zeros(4).into_dyn();
    let message = state.update(p.view(), ids.view(), None, None).unwrap_err().to_string();
    assert!(message.contains("categorical_accuracy") && message.contains("(4,)"), "{message}");
    let one_hot = ndarray::Array2::<f32>::zeros((4, 3)).into_dyn();
    let weights = ndarray::Array1::<f32>::ones(5).into_dyn();
    let error = state.update(p.view(), one_hot.view(), None, Some(weights.view()));
    assert!(error.unwrap_err().to_string().contains("sample_weight"));
    let mask = ndarray::Array2::from_elem((4, 3), true);
    assert!(state.update(p.view(), one_hot.view(), Some(&mask), None).is_err());
    assert_eq!(state.result(), 0.0, "a refused batch leaves the state unchanged");
    assert!(Metric::TopKCategoricalAccuracy { k: 0 }.validate().is_err());
    assert!(Metric::Precision { threshold: 1.5 }.validate().is_err());
    assert!(Metric::Auc(Auc::new().num_thresholds(1)).validate().is_err());
    let mut bad = Metric::BinaryAccuracy { threshold: -0.1 }.state();
    assert!(bad.update(p.view(), one_hot.view(), None, None).is_err());
}

#[test]
fn names_and_directions_follow_keras() {
    let names: Vec<&str> = [
        Metric::BinaryAccuracy { threshold: 0.5 },
        Metric::TopKCategoricalAccuracy { k: 5 },
        Metric::Precision { threshold: 0.5 },
        Metric::Recall { threshold: 0.5 },
        Metric::Auc(Auc::new()),
        Metric::RootMeanSquaredError,
    ]
    .iter()
    .map(|m| m.name())
    .collect();
    assert_eq!(
        names,
        [
            "binary_accuracy",
            "top_k_categorical_accuracy",
            "precision",
            "recall",
            "auc",
            "root_mean_squared_error"
        ]
    );
    assert!(Metric::Auc(Auc::new()).higher_is_better());
    assert!(!Metric::MeanAbsoluteError.higher_is_better());
}
