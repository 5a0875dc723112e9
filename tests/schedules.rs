//! Learning-rate schedules against Keras 3's `keras.optimizers.schedules` at steps 0..59,
//! boundaries and warmup included. The fixtures come from
//! `tests/fixtures/generate_training_fixtures.py`.

mod common;

use common::keras::{cases, fixtures_from};
use rnnkit::optimizers::schedules::{
    CosineDecay, ExponentialDecay, InverseTimeDecay, LearningRateSchedule, PiecewiseConstantDecay,
};
use rnnkit::optimizers::LearningRate;
use serde_json::Value;
use std::sync::Arc;

fn number(config: &Value, key: &str) -> f32 {
    config[key].as_f64().unwrap_or_else(|| panic!("{key} in {config}")) as f32
}

fn steps(config: &Value, key: &str) -> u64 {
    config[key].as_u64().unwrap_or_else(|| panic!("{key} in {config}"))
}

/// The rnnkit schedule for a Keras schedule class and configuration.
pub fn schedule(class: &str, config: &Value) -> Arc<dyn LearningRateSchedule> {
    let staircase = config.get("staircase").and_then(Value::as_bool).unwrap_or(false);
    match class {
        "ExponentialDecay" => Arc::new(
            ExponentialDecay::new(
                number(config, "initial_learning_rate"),
                steps(config, "decay_steps"),
                number(config, "decay_rate"),
            )
            .staircase(staircase),
        ),
        "InverseTimeDecay" => Arc::new(
            InverseTimeDecay::new(
                number(config, "initial_learning_rate"),
                steps(config, "decay_steps"),
                number(config, "decay_rate"),
            )
            .staircase(staircase),
        ),
        "PiecewiseConstantDecay" => Arc::new(PiecewiseConstantDecay::new(
            config["boundaries"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap()).collect(),
            config["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect(),
        )),
        "CosineDecay" => {
            let mut cosine = CosineDecay::new(
                number(config, "initial_learning_rate"),
                steps(config, "decay_steps"),
            );
            if let Some(alpha) = config.get("alpha") {
                cosine = cosine.alpha(alpha.as_f64().unwrap() as f32);
            }
            if let Some(target) = config.get("warmup_target") {
                cosine = cosine
                    .warmup_target(target.as_f64().unwrap() as f32)
                    .warmup_steps(steps(config, "warmup_steps"));
            }
            Arc::new(cosine)
        }
        other => panic!("no schedule {other}"),
    }
}

#[test]
fn schedules_match_keras_step_by_step() {
    let fixtures = fixtures_from("keras_training.json");
    let mut largest = 0.0f32;
    let all = cases(&fixtures, "schedules");
    assert_eq!(all.len(), 11);
    for case in all {
        let schedule = schedule(case["class"].as_str().unwrap(), &case["config"]);
        schedule.validate().unwrap();
        for (step, expected) in case["values"].as_array().unwrap().iter().enumerate() {
            let (got, want) =
                (schedule.learning_rate(step as u64), expected.as_f64().unwrap() as f32);
            let diff = (got - want).abs() / want.abs().max(1e-3);
            largest = largest.max(diff);
            assert!(
                diff <= 1e-6,
                "{} {} step {step}: {got} against Keras' {want}",
                case["class"],
                case["config"]
            );
        }
    }
    eprintln!("schedules: largest relative difference from Keras {largest:e}");
}

#[test]
fn bad_schedules_are_refused() {
    assert!(ExponentialDecay::new(0.1, 0, 0.5).validate().is_err());
    assert!(InverseTimeDecay::new(f32::NAN, 10, 0.5).validate().is_err());
    assert!(CosineDecay::new(0.1, 0).validate().is_err());
    let message = PiecewiseConstantDecay::new(vec![10, 20], vec![1.0, 0.5])
        .validate()
        .unwrap_err()
        .to_string();
    assert!(message.contains("2 values"), "{message}");
    assert!(PiecewiseConstantDecay::new(vec![20, 10], vec![1.0, 0.5, 0.1]).validate().is_err());
    assert!(LearningRate::from(ExponentialDecay::new(0.1, 0, 0.5)).validate().is_err());
    assert!(LearningRate::from(-0.1).validate().is_err());
}

#[test]
fn a_constant_rate_can_be_set_and_a_schedule_cannot() {
    let mut constant = LearningRate::from(0.01);
    constant.set(0.005).unwrap();
    assert_eq!(constant.at(1000), 0.005);
    assert!(constant.set(f32::INFINITY).is_err());
    let mut scheduled = LearningRate::from(ExponentialDecay::new(0.1, 1, 0.5));
    assert_eq!(scheduled.at(2), 0.025);
    let message = scheduled.set(0.5).unwrap_err().to_string();
    assert!(message.contains("schedule"), "{message}");
}
