//! `ReduceLROnPlateau` and `LearningRateScheduler` against Keras 3's callbacks driven by
//! scripted epoch logs: the learning rate after each epoch and the printed messages. The
//! fixtures come from `tests/fixtures/generate_training_fixtures.py`.

mod common;

use common::keras::{cases, fixtures_from};
use rnnkit::callbacks::{LearningRateScheduler, Logs, Mode, ReduceLROnPlateau};
use rnnkit::optimizers::{Adagrad, LearningRateControl};
use serde_json::Value;

fn reduce_lr(config: &Value) -> ReduceLROnPlateau {
    let mut callback = ReduceLROnPlateau::new();
    if let Some(monitor) = config.get("monitor").and_then(Value::as_str) {
        callback = callback.monitor(monitor);
    }
    if let Some(factor) = config.get("factor").and_then(Value::as_f64) {
        callback = callback.factor(factor);
    }
    if let Some(patience) = config.get("patience").and_then(Value::as_u64) {
        callback = callback.patience(patience as usize);
    }
    if let Some(cooldown) = config.get("cooldown").and_then(Value::as_u64) {
        callback = callback.cooldown(cooldown as usize);
    }
    if let Some(min_lr) = config.get("min_lr").and_then(Value::as_f64) {
        callback = callback.min_lr(min_lr);
    }
    if let Some(min_delta) = config.get("min_delta").and_then(Value::as_f64) {
        callback = callback.min_delta(min_delta as f32);
    }
    match config.get("mode").and_then(Value::as_str) {
        Some("min") => callback = callback.mode(Mode::Min),
        Some("max") => callback = callback.mode(Mode::Max),
        _ => {}
    }
    callback
}

#[test]
fn reduce_lr_on_plateau_matches_keras() {
    let fixtures = fixtures_from("keras_training.json");
    let all = cases(&fixtures, "reduce_lr");
    assert_eq!(all.len(), 8);
    let mut reductions = 0;
    for case in all {
        let mut callback = reduce_lr(&case["config"]);
        let key = case["monitor_key"].as_str().unwrap();
        let mut optimizer = Adagrad::new(case["initial_learning_rate"].as_f64().unwrap() as f32);
        let keys: Vec<String> = [key, "loss"].iter().map(|k| k.to_string()).collect();
        callback.on_train_begin(&keys).unwrap();
        let verbose = case["config"].get("verbose").and_then(Value::as_u64).unwrap_or(0);
        let mut printed = String::new();
        let values = case["values"].as_array().unwrap();
        for (epoch, (value, rate)) in
            values.iter().zip(case["rates"].as_array().unwrap()).enumerate()
        {
            let mut logs: Logs =
                [("loss", 1.0), (key, value.as_f64().unwrap() as f32)].into_iter().collect();
            let before = optimizer.current_learning_rate();
            let message = callback.on_epoch_end(epoch + 1, &mut logs, &mut optimizer).unwrap();
            assert_eq!(logs.get("learning_rate"), Some(before));
            if let Some(message) = message {
                reductions += 1;
                if verbose > 0 {
                    printed.push_str(&format!("\n{message}\n"));
                }
            }
            assert_eq!(
                optimizer.current_learning_rate(),
                rate.as_f64().unwrap() as f32,
                "{} epoch {}",
                case["config"],
                epoch + 1
            );
        }
        assert_eq!(printed, case["printed"].as_str().unwrap(), "{}", case["config"]);
    }
    assert!(reductions >= 15, "only {reductions} reductions exercised");
}

#[test]
fn learning_rate_scheduler_matches_keras() {
    let fixtures = fixtures_from("keras_training.json");
    for case in cases(&fixtures, "lr_scheduler") {
        let schedule: fn(usize, f64) -> f64 = match case["name"].as_str().unwrap() {
            "step_decay" => |epoch, lr| if epoch < 3 { lr } else { lr * 0.5 },
            "exponential" => |_, lr| lr * (-0.1f64).exp(),
            "by_epoch" => |epoch, _| 0.1 / (1 + epoch) as f64,
            other => panic!("no schedule {other}"),
        };
        let mut scheduler = LearningRateScheduler::new(schedule);
        let mut optimizer = Adagrad::new(case["initial_learning_rate"].as_f64().unwrap() as f32);
        let mut printed = String::new();
        for (epoch, rate) in case["rates"].as_array().unwrap().iter().enumerate() {
            let message = scheduler.on_epoch_begin(epoch + 1, &mut optimizer).unwrap();
            printed.push_str(&format!("\n{message}\n"));
            let mut logs = Logs::default();
            scheduler.on_epoch_end(&mut logs, &optimizer);
            assert_eq!(logs.get("learning_rate"), Some(rate.as_f64().unwrap() as f32));
        }
        assert_eq!(printed, case["printed"].as_str().unwrap(), "{}", case["name"]);
    }
}

#[test]
fn bad_configurations_are_refused() {
    let keys = vec!["loss".to_string(), "val_loss".to_string()];
    assert!(ReduceLROnPlateau::new().factor(1.0).on_train_begin(&keys).is_err());
    assert!(ReduceLROnPlateau::new().min_lr(-1.0).on_train_begin(&keys).is_err());
    let message =
        ReduceLROnPlateau::new().monitor("val_auc").on_train_begin(&keys).unwrap_err().to_string();
    assert!(message.contains("val_auc"), "{message}");
    let mut negative = LearningRateScheduler::new(|_, _| -1.0);
    assert!(negative.on_epoch_begin(1, &mut Adagrad::new(0.1)).is_err());
    let mut scheduled =
        Adagrad::new(rnnkit::optimizers::schedules::ExponentialDecay::new(0.1, 10, 0.5));
    let mut callback = ReduceLROnPlateau::new().patience(0);
    callback.on_train_begin(&keys).unwrap();
    let mut logs: Logs = [("val_loss", 1.0f32)].into_iter().collect();
    callback.on_epoch_end(1, &mut logs, &mut scheduled).unwrap();
    assert!(
        callback.on_epoch_end(2, &mut logs, &mut scheduled).is_err(),
        "a schedule's rate cannot be set"
    );
}
