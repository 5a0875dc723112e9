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
