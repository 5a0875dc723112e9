//! Metrics under a mask against real Keras 3: only the real steps count where a mask reaches the
//! metric; every sample counts where the output has no time axis. The fixtures come from
//! `tests/fixtures/generate_masked_metrics_fixtures.py` (metric values from the TensorFlow
//! backend, which honours the mask in `fit`, `evaluate` and `train_on_batch` alike; weights from
//! JAX, whose Embedding gradient is dense as rnnkit's).

mod common;

use common::keras::{array, arrays, compile, fixtures_from, max_abs_diff, model_with_weights};
use rnnkit::prelude::*;
use serde_json::Value;

/// Losses, outputs and weights after a step agree with Keras within this.
const TOLERANCE: f32 = 1e-5;

fn cases() -> Vec<Value> {
    let fixtures = fixtures_from("keras_masked_metrics.json");
    let cases = fixtures["cases"].as_array().expect("cases").clone();
    assert_eq!(cases.len(), 5, "the fixture's cases");
    cases
}

fn number(value: &Value) -> f32 {
    value.as_f64().expect("a number") as f32
}

fn numbers(value: &Value) -> Vec<f32> {
    value.as_array().expect("a list").iter().map(number).collect()
}

/// The fixture's model with its initial weights, compiled as Keras compiled it.
fn compiled(case: &Value) -> Sequential {
    let mut model = model_with_weights(case);
    compile(&mut model, case);
    model
}

fn name(case: &Value) -> &str {
    case["name"].as_str().expect("name")
}

#[test]
fn predictions_match_keras() {
    for case in cases() {
        let mut model = compiled(&case);
        let output = model.predict(&array(&case["x"])).expect("predict");
        let difference = max_abs_diff(&output, &array(&case["predict"]));
        assert!(difference < TOLERANCE, "{}: predict differs by {difference}", name(&case));
    }
}

#[test]
fn evaluate_counts_only_real_steps() {
    for case in cases() {
        let mut model = compiled(&case);
        let scores = model.evaluate(&array(&case["x"]), &array(&case["y"])).expect("evaluate");
        let expected = &case["evaluate"];
        let accuracy = scores.metric("accuracy").expect("accuracy");
        assert!(
            (accuracy - number(&expected["accuracy"])).abs() < 1e-6,
            "{}: evaluate accuracy {accuracy}, Keras {} (counting masked steps: {})",
            name(&case),
            expected["accuracy"],
            case["unmasked_accuracy"]
        );
        let loss_gap = (scores.loss - number(&expected["loss"])).abs();
        assert!(loss_gap < TOLERANCE, "{}: evaluate loss differs by {loss_gap}", name(&case));
    }
}

#[test]
fn train_on_batch_counts_only_real_steps() {
    for case in cases() {
        let mut model = compiled(&case);
        let scores =
            model.train_on_batch(&array(&case["x"]), &array(&case["y"])).expect("train_on_batch");
        let expected = &case["train_on_batch"];
        let accuracy = scores.metric("accuracy").expect("accuracy");
        assert!(
            (accuracy - number(&expected["accuracy"])).abs() < 1e-6,
            "{}: train_on_batch accuracy {accuracy}, Keras {}",
            name(&case),
            expected["accuracy"]
        );
        let loss_gap = (scores.loss - number(&expected["loss"])).abs();
        assert!(loss_gap < TOLERANCE, "{}: train_on_batch loss differs by {loss_gap}", name(&case));
        for (index, (got, want)) in
            model.get_weights().iter().zip(arrays(&expected["weights"])).enumerate()
        {
            let difference = max_abs_diff(got, &want);
            assert!(
                difference < TOLERANCE,
                "{}: weight {index} differs by {difference}",
                name(&case)
            );
        }
    }
}

#[test]
fn fit_history_counts_only_real_steps() {
    for case in cases() {
        let mut model = compiled(&case);
        let x = array(&case["x"]);
        let config = FitConfig {
            epochs: 2,
            batch_size: x.shape()[0],
            shuffle: false,
            verbose: 0,
            ..FitConfig::default()
        };
        let history = model.fit(&x, &array(&case["y"]), &config).expect("fit");
        let expected = &case["fit"];
        let accuracy = history.metric("accuracy").expect("accuracy");
        let want = numbers(&expected["accuracy"]);
        assert_eq!(accuracy.len(), want.len(), "{}: epochs", name(&case));
        for (epoch, (got, want)) in accuracy.iter().zip(&want).enumerate() {
            assert!(
                (got - want).abs() < 1e-6,
                "{}: epoch {} accuracy {got}, Keras {want}",
                name(&case),
                epoch + 1
            );
        }
        let losses = history.metric("loss").expect("loss");
        for (epoch, (got, want)) in losses.iter().zip(numbers(&expected["loss"])).enumerate() {
            let gap = (got - want).abs();
            assert!(gap < TOLERANCE, "{}: epoch {} loss differs by {gap}", name(&case), epoch + 1);
        }
    }
}
