//! `fit` with the learning-rate callbacks, and `fit`, `evaluate` and `train_on_batch` with
//! sample weights, class weights and weighted metrics, against real Keras runs
//! (`tests/fixtures/keras_weighted_fit.json`, from
//! `tests/fixtures/generate_weighted_fit_fixtures.py`, TensorFlow backend).

mod common;

use common::keras::{array, arrays, cases, fixtures_from};
use ndarray::ArrayD;
use rnnkit::callbacks::{LearningRateScheduler, ReduceLROnPlateau};
use rnnkit::model::History;
use rnnkit::prelude::*;
use serde_json::Value;

fn fixture_cases(section: &str) -> Vec<Value> {
    cases(&fixtures_from("keras_weighted_fit.json"), section).to_vec()
}

fn number(value: &Value) -> f32 {
    value.as_f64().expect("a number") as f32
}

/// Compares every series of Keras' History with rnnkit's (same keys; Keras lists them
/// alphabetically, rnnkit in logging order) and returns the largest difference.
fn compare_history(history: &History, keras: &Value, tolerance: f32, case: &str) -> f32 {
    let mut keys: Vec<&str> = history.keys().collect();
    keys.sort_unstable();
    let mut expected: Vec<&str> =
        keras["keys"].as_array().expect("keys").iter().map(|k| k.as_str().unwrap()).collect();
    expected.sort_unstable();
    assert_eq!(keys, expected, "{case}: history keys");
    let mut largest = 0.0f32;
    for key in expected {
        let ours = history.metric(key).expect("recorded");
        let theirs: Vec<f32> =
            keras["values"][key].as_array().expect("values").iter().map(number).collect();
        assert_eq!(ours.len(), theirs.len(), "{case}: {key}");
        for (epoch, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            let difference = (a - b).abs();
            assert!(
                difference <= tolerance,
                "{case}: {key} epoch {}: rnnkit {a}, Keras {b}",
                epoch + 1
            );
            largest = largest.max(difference);
        }
    }
    largest
}

fn largest_weight_difference(ours: &[ArrayD<f32>], keras: &Value) -> f32 {
    let theirs = arrays(keras);
    assert_eq!(ours.len(), theirs.len());
    ours.iter()
        .zip(&theirs)
        .flat_map(|(a, b)| a.iter().zip(b.iter()).map(|(a, b)| (a - b).abs()))
        .fold(0.0, f32::max)
}

fn dense_model(case: &Value, units: usize, activation: Activation) -> Sequential {
    let x = array(&case["x"]);
    let mut model = Sequential::new();
    model.add(Dense::new(units).activation(activation));
    model.build(&x.shape()[1..]).unwrap();
    model.set_weights(arrays(&case["weights"])).unwrap();
    model
}

#[test]
fn learning_rate_callbacks_inside_fit_match_keras() -> rnnkit::Result<()> {
    let mut largest = 0.0f32;
    for case in fixture_cases("lr_callbacks") {
        let name = case["name"].as_str().unwrap();
        let mut model = dense_model(&case, 1, Activation::Sigmoid);
        model.compile(
            Sgd::new(number(&case["learning_rate"])),
            Loss::BinaryCrossentropy,
            &[Metric::Accuracy],
        )?;
        let config = FitConfig {
            epochs: case["epochs"].as_u64().unwrap() as usize,
            batch_size: case["batch_size"].as_u64().unwrap() as usize,
            shuffle: false,
            verbose: 0,
            validation_data: Some((array(&case["x_val"]), array(&case["y_val"]))),
            ..FitConfig::default()
        };
        let (x, y) = (array(&case["x"]), array(&case["y"]));
        let mut reduce = ReduceLROnPlateau::new()
            .monitor("val_loss")
            .factor(0.5)
            .patience(1)
            .min_delta(0.01)
            .verbose(1);
        let mut scheduler =
            LearningRateScheduler::new(|epoch, lr| if epoch < 2 { lr } else { lr * 0.5 })
                .verbose(1);
        let history = match name {
            "reduce_lr_on_plateau" => {
                assert_eq!(case["config"]["min_delta"], 0.01);
                let history = model.fit_with_callbacks(&x, &y, &config, &mut [&mut reduce])?;
                let messages: String =
                    reduce.messages().iter().map(|m| format!("\n{m}\n")).collect();
                assert_eq!(messages, case["printed"].as_str().unwrap());
                history
            }
            "learning_rate_scheduler" => {
                let history = model.fit_with_callbacks(&x, &y, &config, &mut [&mut scheduler])?;
                let messages: String =
                    scheduler.messages().iter().map(|m| format!("\n{m}\n")).collect();
                assert_eq!(messages, case["printed"].as_str().unwrap());
                history
            }
            _ => model.fit(&x, &y, &config)?,
        };
        // The rate in History is exactly Keras' (an f32 rate halved), the losses close.
        if let Some(rates) = case["history"]["values"].get("learning_rate") {
            let rates: Vec<f32> = rates.as_array().unwrap().iter().map(number).collect();
            assert_eq!(history.metric("learning_rate"), Some(rates.as_slice()), "{name}");
        }
        largest = largest.max(compare_history(&history, &case["history"], 1e-6, name));
        let weights = largest_weight_difference(&model.get_weights(), &case["final_weights"]);
        assert!(weights < 1e-6, "{name}: final weights differ by {weights}");
        largest = largest.max(weights);
        // The rate set by the callbacks stays for the next fit, as model.optimizer's.
        let rate = model.optimizer().map(|o| o.learning_rate());
        let last = history.metric("learning_rate").and_then(<[f32]>::last).copied();
        if name == "learning_rate_scheduler" {
            assert_eq!(rate, last);
        }
    }
    println!("largest difference from Keras (learning-rate callbacks in fit): {largest:e}");
    Ok(())
}

fn find(section: &str, name: &str) -> Value {
    fixture_cases(section)
        .into_iter()
        .find(|case| case["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

fn usize_of(case: &Value, key: &str) -> usize {
    case[key].as_u64().unwrap_or_else(|| panic!("{key}")) as usize
}

fn auc() -> Metric {
    Metric::Auc(rnnkit::metrics::Auc::default())
}

/// Checks the scores against Keras' `return_dict` values; returns the largest difference.
fn compare_scores(scores: &Scores, keras: &Value, tolerance: f32, what: &str) -> f32 {
    let keras = keras.as_object().expect("a dict");
    assert_eq!(scores.metrics.len() + 1, keras.len(), "{what}: {scores:?} vs {keras:?}");
    let mut largest = 0.0f32;
    for (name, value) in keras {
        let ours = if name == "loss" { Some(scores.loss) } else { scores.metric(name) };
        let ours = ours.unwrap_or_else(|| panic!("{what}: no {name} in {scores:?}"));
        let difference = (ours - number(value)).abs();
        assert!(difference <= tolerance, "{what}: {name} rnnkit {ours}, Keras {value}");
        largest = largest.max(difference);
    }
    largest
}

const TOLERANCE: f32 = 1e-6;

#[test]
fn fit_with_sample_weight_and_validation_split_matches_keras() -> rnnkit::Result<()> {
    let case = find("weighted", "fit_sample_weight_sparse");
    let mut model = dense_model(&case, 3, Activation::Softmax);
    model.compile_with_weighted_metrics(
        Sgd::new(number(&case["learning_rate"])),
        Loss::SparseCategoricalCrossentropy,
        &[Metric::Accuracy],
        &[Metric::Accuracy],
    )?;
    let config = FitConfig {
        epochs: usize_of(&case, "epochs"),
        batch_size: usize_of(&case, "batch_size"),
        validation_split: number(&case["validation_split"]),
        shuffle: false,
        verbose: 0,
        sample_weight: Some(array(&case["sample_weight"])),
        ..FitConfig::default()
    };
    let history = model.fit(&array(&case["x"]), &array(&case["y"]), &config)?;
    let mut largest = compare_history(&history, &case["history"], TOLERANCE, "sample_weight");
    // The weighted accuracy differs from the plain one: the weights reach the metric.
    assert_ne!(history.metric("weighted_accuracy"), history.metric("accuracy"));
    let weights = largest_weight_difference(&model.get_weights(), &case["final_weights"]);
    assert!(weights < TOLERANCE, "final weights differ by {weights}");
    largest = largest.max(weights);
    println!("fit_sample_weight_sparse: largest difference from Keras {largest:e}");
    Ok(())
}

#[test]
fn fit_with_class_weight_matches_keras() -> rnnkit::Result<()> {
    let case = find("weighted", "fit_class_weight");
    let mut model = dense_model(&case, 1, Activation::Sigmoid);
    model.compile_with_weighted_metrics(
        Sgd::new(number(&case["learning_rate"])),
        Loss::BinaryCrossentropy,
        &[Metric::Precision { threshold: 0.5 }, Metric::Recall { threshold: 0.5 }, auc()],
        &[Metric::BinaryAccuracy { threshold: 0.5 }, auc()],
    )?;
    let class_weight = case["class_weight"]
        .as_object()
        .expect("class_weight")
        .iter()
        .map(|(class, weight)| (class.parse().unwrap(), number(weight)))
        .collect();
    let config = FitConfig {
        epochs: usize_of(&case, "epochs"),
        batch_size: usize_of(&case, "batch_size"),
        shuffle: false,
        verbose: 0,
        validation_data: Some((array(&case["x_val"]), array(&case["y_val"]))),
        class_weight: Some(class_weight),
        ..FitConfig::default()
    };
    let history = model.fit(&array(&case["x"]), &array(&case["y"]), &config)?;
    let mut largest = compare_history(&history, &case["history"], TOLERANCE, "class_weight");
    let weights = largest_weight_difference(&model.get_weights(), &case["final_weights"]);
    assert!(weights < TOLERANCE, "final weights differ by {weights}");
    largest = largest.max(weights);
    println!("fit_class_weight: largest difference from Keras {largest:e}");
    Ok(())
}

#[test]
fn evaluate_and_train_on_batch_with_sample_weight_match_keras() -> rnnkit::Result<()> {
    let case = find("weighted", "evaluate_sample_weight");
    let mut model = dense_model(&case, 1, Activation::Sigmoid);
    model.compile_with_weighted_metrics(
        Sgd::new(number(&case["learning_rate"])),
        Loss::BinaryCrossentropy,
        &[Metric::Accuracy],
        &[Metric::Accuracy, auc()],
    )?;
    let (x, y, w) = (array(&case["x"]), array(&case["y"]), array(&case["sample_weight"]));
    let batch_size = usize_of(&case, "batch_size");
    let weighted = model.evaluate_weighted(&x, &y, &w, batch_size)?;
    let mut largest = compare_scores(&weighted, &case["evaluate"], TOLERANCE, "evaluate");
    let plain = model.evaluate(&x, &y, batch_size)?;
    largest = largest.max(compare_scores(
        &plain,
        &case["evaluate_unweighted"],
        TOLERANCE,
        "evaluate unweighted",
    ));
    // Unweighted, the weighted metrics equal the plain ones.
    assert_eq!(plain.metric("weighted_accuracy"), plain.metric("accuracy"));
    let first = |a: &ArrayD<f32>| a.slice_axis(ndarray::Axis(0), (0..10).into()).to_owned();
    let (x10, y10, w10) = (first(&x), first(&y), first(&w));
    let trained = model.train_on_batch_weighted(&x10, &y10, &w10)?;
    largest =
        largest.max(compare_scores(&trained, &case["train_on_batch"], TOLERANCE, "train_on_batch"));
    let weights =
        largest_weight_difference(&model.get_weights(), &case["weights_after_train_on_batch"]);
    assert!(weights < TOLERANCE, "weights after train_on_batch differ by {weights}");
    largest = largest.max(weights);
    println!("evaluate_sample_weight: largest difference from Keras {largest:e}");
    Ok(())
}

#[test]
fn masked_sequences_with_per_step_weights_match_keras() -> rnnkit::Result<()> {
    let case = find("weighted", "masked_sequence_per_step_weights");
    let x = array(&case["x"]);
    let mut model = Sequential::new();
    model.add(Embedding::new(7, 4).mask_zero(true));
    model.add(SimpleRnn::new(4).return_sequences(true));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.build(&x.shape()[1..])?;
    model.set_weights(arrays(&case["weights"]))?;
    model.compile_with_weighted_metrics(
        Sgd::new(number(&case["learning_rate"])),
        Loss::BinaryCrossentropy,
        &[Metric::Accuracy],
        &[Metric::Accuracy],
    )?;
    let (y, w) = (array(&case["y"]), array(&case["sample_weight"]));
    let config = FitConfig {
        epochs: usize_of(&case, "epochs"),
        batch_size: usize_of(&case, "batch_size"),
        shuffle: false,
        verbose: 0,
        sample_weight: Some(w.clone()),
        ..FitConfig::default()
    };
    let history = model.fit(&x, &y, &config)?;
    let mut largest = compare_history(&history, &case["history"], TOLERANCE, "masked sequences");
    let weights = largest_weight_difference(&model.get_weights(), &case["final_weights"]);
    assert!(weights < TOLERANCE, "final weights differ by {weights}");
    largest = largest.max(weights);
    let scores = model.evaluate_weighted(&x, &y, &w, usize_of(&case, "batch_size"))?;
    largest = largest.max(compare_scores(&scores, &case["evaluate"], TOLERANCE, "evaluate"));
    println!("masked_sequence_per_step_weights: largest difference from Keras {largest:e}");
    Ok(())
}

#[test]
fn the_weighted_loss_divides_by_the_count_not_by_the_weights() -> rnnkit::Result<()> {
    let case = find("weighted", "evaluate_sample_weight");
    let mut model = dense_model(&case, 1, Activation::Sigmoid);
    model.compile(Sgd::new(0.1), Loss::BinaryCrossentropy, &[])?;
    let (x, y) = (array(&case["x"]), array(&case["y"]));
    let plain = model.evaluate(&x, &y, 64)?.loss;
    let halves = ndarray::Array1::from_elem(x.shape()[0], 0.5f32);
    let halved = model.evaluate_weighted(&x, &y, &halves, 64)?.loss;
    assert!((halved - plain / 2.0).abs() < 1e-6, "{halved} vs {plain} / 2");
    Ok(())
}

#[test]
fn bad_weights_are_errors() -> rnnkit::Result<()> {
    let case = find("weighted", "masked_sequence_per_step_weights");
    let x = array(&case["x"]);
    let y = array(&case["y"]);
    let mut model = Sequential::new();
    model.add(Embedding::new(7, 4).mask_zero(true));
    model.add(SimpleRnn::new(4).return_sequences(true));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(Sgd::new(0.1), Loss::BinaryCrossentropy, &[])?;
    let samples = x.shape()[0];
    // Per-sample weights for a sequence output: Keras refuses them too.
    let per_sample = ndarray::Array1::<f32>::ones(samples);
    let message = model.evaluate_weighted(&x, &y, &per_sample, 4).unwrap_err().to_string();
    assert!(message.contains("per step"), "{message}");
    let short = ndarray::Array2::<f32>::ones((samples - 1, 5));
    assert!(model.evaluate_weighted(&x, &y, &short, 4).is_err());
    let both = FitConfig {
        verbose: 0,
        sample_weight: Some(ndarray::Array2::<f32>::ones((samples, 5)).into_dyn()),
        class_weight: Some([(1, 2.0)].into_iter().collect()),
        ..FitConfig::default()
    };
    let message = model.fit(&x, &y, &both).unwrap_err().to_string();
    assert!(message.contains("class_weight"), "{message}");
    // Class weights need one class per sample: sequence targets are refused, as in Keras.
    let classes = FitConfig {
        verbose: 0,
        class_weight: Some([(1, 2.0)].into_iter().collect()),
        ..FitConfig::default()
    };
    assert!(model.fit(&x, &y, &classes).is_err());
    Ok(())
}
