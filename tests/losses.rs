//! The losses against real Keras 3 (values, with and without sample weights; the reduction with
//! masks and weights; the loss of masked evaluate runs) and their gradients against central
//! finite differences. The fixtures come from `tests/fixtures/generate_training_fixtures.py`.

mod common;

use common::grad::uniform;
use common::keras::{array, cases, fixtures_from};
use ndarray::{ArrayD, Axis, Dimension, Slice};
use rnnkit::losses::{class_weight_to_sample_weights, reduce_weighted_values, Loss};
use serde_json::Value;
use std::collections::HashMap;

fn fixtures() -> Value {
    fixtures_from("keras_training.json")
}

fn number(config: &Value, key: &str, default: f64) -> f32 {
    config.get(key).and_then(Value::as_f64).unwrap_or(default) as f32
}

fn flag(config: &Value, key: &str) -> bool {
    config.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The rnnkit loss for a Keras class and configuration.
fn loss(class: &str, config: &Value) -> Loss {
    let (from_logits, label_smoothing) =
        (flag(config, "from_logits"), number(config, "label_smoothing", 0.0));
    match class {
        "MeanAbsoluteError" => Loss::MeanAbsoluteError,
        "MeanSquaredError" => Loss::MeanSquaredError,
        "Huber" => Loss::Huber { delta: number(config, "delta", 1.0) },
        "LogCosh" => Loss::LogCosh,
        "BinaryCrossentropy" => Loss::BinaryCrossentropyWith { from_logits, label_smoothing },
        "CategoricalCrossentropy" => {
            Loss::CategoricalCrossentropyWith { from_logits, label_smoothing }
        }
        "SparseCategoricalCrossentropy" => Loss::SparseCategoricalCrossentropy,
        "BinaryFocalCrossentropy" => Loss::BinaryFocalCrossentropy {
            alpha: number(config, "alpha", 0.25),
            gamma: number(config, "gamma", 2.0),
            apply_class_balancing: flag(config, "apply_class_balancing"),
            from_logits,
            label_smoothing,
        },
        other => panic!("no loss {other}"),
    }
}

#[test]
fn loss_values_match_keras() {
    let fixtures = fixtures();
    let mut largest = 0.0f32;
    let all = cases(&fixtures, "losses");
    assert!(all.len() >= 60);
    for case in all {
        let loss = loss(case["class"].as_str().unwrap(), &case["config"]);
        let weights = case.get("sample_weight").filter(|w| !w.is_null()).map(array);
        let (y, p) = (array(&case["y"]), array(&case["p"]));
        let (value, _) = loss
            .value_and_gradient(y.view(), p.view(), weights.as_ref().map(|w| w.view()))
            .unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
        let want = case["value"].as_f64().unwrap() as f32;
        let diff = (value - want).abs() / want.abs().max(1.0);
        largest = largest.max(diff);
        assert!(diff <= 2e-6, "{}: {value} against Keras' {want}", case["name"]);
    }
    eprintln!("losses: largest relative difference from Keras {largest:e}");
}

#[test]
fn the_plain_variants_equal_their_default_options() {
    let y = uniform(&[5, 3], 0.0, 1.0, 3).mapv(f32::round);
    let p = uniform(&[5, 3], 0.05, 0.95, 4);
    let plain = Loss::BinaryCrossentropy.value(y.view(), p.view()).unwrap();
    let options = Loss::BinaryCrossentropyWith { from_logits: false, label_smoothing: 0.0 };
    assert_eq!(plain, options.value(y.view(), p.view()).unwrap());
    let plain = Loss::CategoricalCrossentropy.value(y.view(), p.view()).unwrap();
    let options = Loss::CategoricalCrossentropyWith { from_logits: false, label_smoothing: 0.0 };
    assert_eq!(plain, options.value(y.view(), p.view()).unwrap());
}

/// The loss at `p`, summed in f64 for the finite differences.
fn loss_at(loss: Loss, y: &ArrayD<f32>, p: &ArrayD<f32>, w: Option<&ArrayD<f32>>) -> f64 {
    f64::from(loss.value_and_gradient(y.view(), p.view(), w.map(|w| w.view())).unwrap().0)
}

/// Central differences of every output against the analytic gradient.
fn check_gradient(loss: Loss, y: &ArrayD<f32>, p: &ArrayD<f32>, w: Option<&ArrayD<f32>>) -> f64 {
    let (_, grad) = loss.value_and_gradient(y.view(), p.view(), w.map(|w| w.view())).unwrap();
    let mut largest = 0.0f64;
    for i in 0..p.len() {
        // A step relative to the value: probabilities near 0 curve sharply.
        let h = 1e-3 * p.as_slice().unwrap()[i].abs().max(0.05);
        let (mut up, mut down) = (p.clone(), p.clone());
        up.as_slice_mut().unwrap()[i] += h;
        down.as_slice_mut().unwrap()[i] -= h;
        let step = f64::from((up.as_slice().unwrap()[i] - down.as_slice().unwrap()[i]) / 2.0);
        let numeric = (loss_at(loss, y, &up, w) - loss_at(loss, y, &down, w)) / (2.0 * step);
        let analytic = f64::from(grad.as_slice().unwrap()[i]);
        let diff = (numeric - analytic).abs();
        largest = largest.max(diff);
        assert!(
            diff <= 3e-3 * analytic.abs() + 1e-3,
            "{loss:?} output {i}: analytic {analytic}, finite differences {numeric}"
        );
    }
    largest
}

#[test]
fn gradients_match_finite_differences() {
    // Points away from the kinks (|e| = δ, e = 0, the probability clip).
    let regression_y = uniform(&[4, 3], -1.0, 1.0, 11);
    let offsets = uniform(&[4, 3], 0.2, 2.5, 12);
    let signs = uniform(&[4, 3], -1.0, 1.0, 13).mapv(f32::signum);
    let regression_p = &regression_y + &(offsets * signs);
    let binary_y = uniform(&[4, 3], 0.0, 1.0, 14).mapv(f32::round);
    let probabilities = uniform(&[4, 3], 0.05, 0.95, 15);
    let logits = uniform(&[4, 3], -3.0, 3.0, 16);
    let one_hot = ArrayD::from_shape_fn(vec![4, 3], |i| f32::from(u8::from(i[1] == i[0] % 3)));
    let softmax = {
        let e = logits.mapv(f32::exp);
        let sums = e.sum_axis(Axis(1)).insert_axis(Axis(1));
        &e / &sums
    };
    let weights = uniform(&[4], 0.0, 2.0, 17);
    let mut largest = 0.0f64;
    let regression = [Loss::MeanAbsoluteError, Loss::MeanSquaredError, Loss::LogCosh];
    let huber = [0.1, 1.0, 3.0].map(|delta| Loss::Huber { delta });
    for loss in regression.into_iter().chain(huber) {
        largest = largest.max(check_gradient(loss, &regression_y, &regression_p, None));
        largest = largest.max(check_gradient(loss, &regression_y, &regression_p, Some(&weights)));
    }
    for from_logits in [false, true] {
        let p = if from_logits { &logits } else { &probabilities };
        for label_smoothing in [0.0, 0.2] {
            let bce = Loss::BinaryCrossentropyWith { from_logits, label_smoothing };
            largest = largest.max(check_gradient(bce, &binary_y, p, Some(&weights)));
            let cce = Loss::CategoricalCrossentropyWith { from_logits, label_smoothing };
            let q = if from_logits { &logits } else { &softmax };
            largest = largest.max(check_gradient(cce, &one_hot, q, Some(&weights)));
            for (gamma, apply_class_balancing) in [(2.0, false), (0.0, true), (1.5, true)] {
                let focal = Loss::BinaryFocalCrossentropy {
                    alpha: 0.3,
                    gamma,
                    apply_class_balancing,
                    from_logits,
                    label_smoothing,
                };
                largest = largest.max(check_gradient(focal, &binary_y, p, Some(&weights)));
            }
        }
    }
    eprintln!("loss gradients: largest difference from central differences {largest:e}");
}

#[test]
fn weighted_reduction_matches_keras() {
    let fixtures = fixtures();
    for case in cases(&fixtures, "reductions") {
        let values = array(&case["values"]);
        let weights = case.get("sample_weight").filter(|w| !w.is_null()).map(array);
        let mask = case.get("mask").filter(|m| !m.is_null()).map(|m| array(m).mapv(|v| v != 0.0));
        let got = reduce_weighted_values(
            values.view(),
            weights.as_ref().map(|w| w.view()),
            mask.as_ref(),
        )
        .unwrap();
        let want = case["value"].as_f64().unwrap() as f32;
        assert!((got - want).abs() <= 1e-6, "{}: {got} against Keras' {want}", case["name"]);
    }
}

/// −log of the clipped target probability, per step.
fn sparse_crossentropy(p: &ArrayD<f32>, ids: &ArrayD<f32>) -> ArrayD<f32> {
    ArrayD::from_shape_fn(ids.raw_dim(), |i| {
        let mut at = i.slice().to_vec();
        at.push(ids[&i] as usize);
        -p[at.as_slice()].clamp(1e-7, 1.0 - 1e-7).ln()
    })
}

#[test]
fn masked_and_weighted_evaluate_loss_matches_keras() {
    let fixtures = fixtures();
    let mut checked = 0;
    for case in cases(&fixtures, "masked_metrics") {
        if case["loss"] != "sparse_categorical_crossentropy" {
            continue;
        }
        let (x, y, p) = (array(&case["x"]), array(&case["y"]), array(&case["predictions"]));
        let mask = x.mapv(|id| id != 0.0);
        let weights = case.get("sample_weight").filter(|w| !w.is_null()).map(array);
        let batch_size = case["batch_size"].as_u64().unwrap() as usize;
        let (mut total, mut samples) = (0.0f64, 0usize);
        for start in (0..x.shape()[0]).step_by(batch_size) {
            let rows = Slice::from(start..(start + batch_size).min(x.shape()[0]));
            let values = sparse_crossentropy(
                &p.slice_axis(Axis(0), rows).to_owned(),
                &y.slice_axis(Axis(0), rows).to_owned(),
            );
            let w = weights.as_ref().map(|w| w.slice_axis(Axis(0), rows));
            let m = mask.slice_axis(Axis(0), rows).to_owned();
            let batch = reduce_weighted_values(values.view(), w, Some(&m)).unwrap();
            // evaluate averages the batch losses weighted by batch size.
            total += f64::from(batch) * values.shape()[0] as f64;
            samples += values.shape()[0];
        }
        let (got, want) =
            ((total / samples as f64) as f32, case["result"]["loss"].as_f64().unwrap() as f32);
        assert!((got - want).abs() <= 1e-5, "{}: {got} against Keras' {want}", case["name"]);
        checked += 1;
    }
    assert_eq!(checked, 3);
}

#[test]
fn class_weights_follow_keras_rules() {
    let class_weight = HashMap::from([(0, 0.5), (2, 4.0)]);
    let ids = ndarray::array![0.0f32, 1.0, 2.0, 2.5, 1.5, 0.4].into_dyn();
    // Rounded half to even as NumPy: 2.5 → 2, 1.5 → 2, 0.4 → 0; class 1 is not listed.
    let weights = class_weight_to_sample_weights(ids.view(), &class_weight).unwrap();
    assert_eq!(weights.to_vec(), [0.5, 1.0, 4.0, 4.0, 4.0, 0.5]);
    let column = ndarray::array![[2.0f32], [0.0]].into_dyn();
    assert_eq!(
        class_weight_to_sample_weights(column.view(), &class_weight).unwrap().to_vec(),
        [4.0, 0.5]
    );
    let one_hot = ndarray::array![[0.0f32, 0.0, 1.0], [0.2, 0.7, 0.1]].into_dyn();
    assert_eq!(
        class_weight_to_sample_weights(one_hot.view(), &class_weight).unwrap().to_vec(),
        [4.0, 1.0]
    );
    let sequences = ArrayD::<f32>::zeros(vec![2, 3, 1]);
    let message =
        class_weight_to_sample_weights(sequences.view(), &class_weight).unwrap_err().to_string();
    assert!(message.contains("(2, 3, 1)"), "{message}");
    let negative = HashMap::from([(1, -1.0)]);
    assert!(class_weight_to_sample_weights(ids.view(), &negative).is_err());
}

#[test]
fn bad_arguments_and_shapes_are_errors() {
    let y = ArrayD::<f32>::zeros(vec![3, 2]);
    let p = ArrayD::<f32>::from_elem(vec![3, 2], 0.5);
    for bad in [
        Loss::Huber { delta: 0.0 },
        Loss::BinaryCrossentropyWith { from_logits: false, label_smoothing: 1.5 },
        Loss::BinaryFocalCrossentropy {
            alpha: 0.25,
            gamma: -1.0,
            apply_class_balancing: false,
            from_logits: false,
            label_smoothing: 0.0,
        },
    ] {
        assert!(bad.value(y.view(), p.view()).is_err(), "{bad:?}");
    }
    let wrong = ArrayD::<f32>::zeros(vec![3, 4]);
    assert!(Loss::MeanAbsoluteError.value(wrong.view(), p.view()).is_err());
    let weights = ArrayD::<f32>::ones(vec![2]);
    let message = Loss::MeanAbsoluteError
        .value_and_gradient(y.view(), p.view(), Some(weights.view()))
        .unwrap_err()
        .to_string();
    assert!(message.contains("sample_weight") && message.contains("(3,)"), "{message}");
    let empty = ArrayD::<f32>::zeros(vec![0, 2]);
    assert!(Loss::MeanAbsoluteError.value(empty.view(), empty.view()).is_err());
    let values = ArrayD::<f32>::zeros(vec![2, 3]);
    let mask = ArrayD::from_elem(vec![3, 2], true);
    assert!(reduce_weighted_values(values.view(), None, Some(&mask)).is_err());
}
