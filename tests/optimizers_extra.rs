//! AdamW, Adagrad and Nadam (with constant rates, schedules and weight decay) against Keras 3's
//! `apply_gradients` on two variables over four steps. The fixtures come from
//! `tests/fixtures/generate_training_fixtures.py`.

mod common;

use common::keras::{array, arrays, cases, fixtures_from};
use rnnkit::layers::Param;
use rnnkit::optimizers::schedules::{
    CosineDecay, ExponentialDecay, LearningRateSchedule, PiecewiseConstantDecay,
};
use rnnkit::optimizers::{Adagrad, AdamW, LearningRate, LearningRateControl, Nadam, Optimizer};
use serde_json::Value;
use std::sync::Arc;

fn number(config: &Value, key: &str) -> Option<f32> {
    config.get(key).and_then(Value::as_f64).map(|v| v as f32)
}

/// The learning rate of a case: its schedule, or its constant (Keras' default 0.001).
fn learning_rate(case: &Value) -> LearningRate {
    let schedule = &case["schedule"];
    if schedule.is_null() {
        return number(&case["config"], "learning_rate").unwrap_or(0.001).into();
    }
    let c = &schedule["config"];
    let rate = |k: &str| number(c, k).unwrap();
    let steps = |k: &str| c[k].as_u64().unwrap();
    let schedule: Arc<dyn LearningRateSchedule> = match schedule["class"].as_str().unwrap() {
        "ExponentialDecay" => Arc::new(ExponentialDecay::new(
            rate("initial_learning_rate"),
            steps("decay_steps"),
            rate("decay_rate"),
        )),
        "PiecewiseConstantDecay" => Arc::new(PiecewiseConstantDecay::new(
            c["boundaries"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap()).collect(),
            c["values"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect(),
        )),
        "CosineDecay" => {
            Arc::new(CosineDecay::new(rate("initial_learning_rate"), steps("decay_steps")))
        }
        other => panic!("no schedule {other}"),
    };
    LearningRate::Schedule(schedule)
}

fn optimizer(case: &Value) -> Box<dyn Optimizer> {
    let config = &case["config"];
    let lr = learning_rate(case);
    match case["class"].as_str().unwrap() {
        "AdamW" => {
            let mut adamw = AdamW::new(lr);
            if let Some(wd) = number(config, "weight_decay") {
                adamw = adamw.weight_decay(wd);
            }
            if let Some(b) = number(config, "beta_1") {
                adamw = adamw.beta_1(b);
            }
            if let Some(b) = number(config, "beta_2") {
                adamw = adamw.beta_2(b);
            }
            if let Some(e) = number(config, "epsilon") {
                adamw = adamw.epsilon(e);
            }
            Box::new(adamw)
        }
        "Adagrad" => {
            let mut adagrad = Adagrad::new(lr);
            if let Some(a) = number(config, "initial_accumulator_value") {
                adagrad = adagrad.initial_accumulator_value(a);
            }
            if let Some(e) = number(config, "epsilon") {
                adagrad = adagrad.epsilon(e);
            }
            if let Some(wd) = number(config, "weight_decay") {
                adagrad = adagrad.weight_decay(wd);
            }
            Box::new(adagrad)
        }
        "Nadam" => {
            let mut nadam = Nadam::new(lr);
            if let Some(b) = number(config, "beta_1") {
                nadam = nadam.beta_1(b);
            }
            if let Some(b) = number(config, "beta_2") {
                nadam = nadam.beta_2(b);
            }
            if let Some(e) = number(config, "epsilon") {
                nadam = nadam.epsilon(e);
            }
            if let Some(wd) = number(config, "weight_decay") {
                nadam = nadam.weight_decay(wd);
            }
            Box::new(nadam)
        }
        other => panic!("no optimizer {other}"),
    }
}

#[test]
fn optimizer_steps_match_keras() {
    let fixtures = fixtures_from("keras_training.json");
    let mut largest = 0.0f32;
    let all = cases(&fixtures, "optimizers");
    assert_eq!(all.len(), 11);
    for case in all {
        let mut optimizer = optimizer(case);
        optimizer.validate().unwrap();
        let mut params: Vec<Param> = arrays(&case["weights"])
            .into_iter()
            .enumerate()
            .map(|(i, value)| Param::new(["kernel", "bias"][i], value))
            .collect();
        let grads = case["grads"].as_array().unwrap();
        let steps = case["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 4);
        for (step, (grad, expected)) in grads.iter().zip(steps).enumerate() {
            for (param, g) in params.iter_mut().zip(grad.as_array().unwrap()) {
                param.grad = array(g);
            }
            let mut refs: Vec<&mut Param> = params.iter_mut().collect();
            optimizer.apply(&mut refs);
            for (param, want) in params.iter().zip(arrays(expected)) {
                let diff =
                    param.value.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
                largest = largest.max(diff);
                assert!(
                    diff <= 2e-6,
                    "{} {} step {}: weights differ from Keras by {diff}",
                    case["class"],
                    case["config"],
                    step + 1
                );
            }
        }
        assert_eq!(optimizer.iterations(), 4);
    }
    eprintln!("optimizers: largest difference from Keras {largest:e}");
}

#[test]
fn learning_rate_reads_the_schedule_at_the_current_step_and_can_be_set() {
    let mut adagrad = Adagrad::new(PiecewiseConstantDecay::new(vec![0], vec![0.3, 0.1]));
    assert_eq!(adagrad.learning_rate(), 0.3);
    adagrad.advance();
    assert_eq!(adagrad.learning_rate(), 0.1);
    assert!(adagrad.set_learning_rate(0.2).is_err());
    let mut nadam = Nadam::new(0.01);
    nadam.set_learning_rate(0.002).unwrap();
    assert_eq!(nadam.current_learning_rate(), 0.002);
    assert!(nadam.set_learning_rate(-1.0).is_err());
}

#[test]
fn bad_hyper_parameters_are_refused() {
    assert!(AdamW::new(0.001).weight_decay(-0.1).validate().is_err());
    assert!(AdamW::new(0.001).beta_1(1.0).validate().is_err());
    assert!(Adagrad::new(0.001).initial_accumulator_value(-1.0).validate().is_err());
    assert!(Adagrad::new(0.001).epsilon(0.0).validate().is_err());
    assert!(Nadam::new(f32::NAN).validate().is_err());
    assert!(Nadam::new(ExponentialDecay::new(0.1, 0, 0.5)).validate().is_err());
}
