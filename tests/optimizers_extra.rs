//! AdamW, Adagrad and Nadam (with constant rates, schedules and weight decay), and SGD, RMSprop
//! and Adam with weight decay, against Keras 3's `apply_gradients` on two variables over four
//! steps. The fixtures come from
//! `tests/fixtures/generate_training_fixtures.py`.

mod common;

use common::keras::{array, arrays, cases, fixtures_from};
use rnnkit::layers::Param;
use rnnkit::optimizers::schedules::{
    CosineDecay, ExponentialDecay, LearningRateSchedule, PiecewiseConstantDecay,
};
use rnnkit::optimizers::{
    Adagrad, Adam, AdamW, LearningRate, LearningRateControl, Nadam, Optimizer, RmsProp, Sgd,
};
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
        "SGD" => {
            let mut sgd = Sgd::new(lr);
            if let Some(m) = number(config, "momentum") {
                sgd = sgd.momentum(m);
            }
            if let Some(n) = config.get("nesterov").and_then(Value::as_bool) {
                sgd = sgd.nesterov(n);
            }
            if let Some(wd) = number(config, "weight_decay") {
                sgd = sgd.weight_decay(wd);
            }
            Box::new(sgd)
        }
        "RMSprop" => {
            let mut rmsprop = RmsProp::new(lr);
            if let Some(r) = number(config, "rho") {
                rmsprop = rmsprop.rho(r);
            }
            if let Some(m) = number(config, "momentum") {
                rmsprop = rmsprop.momentum(m);
            }
            if let Some(e) = number(config, "epsilon") {
                rmsprop = rmsprop.epsilon(e);
            }
            if let Some(wd) = number(config, "weight_decay") {
                rmsprop = rmsprop.weight_decay(wd);
            }
            Box::new(rmsprop)
        }
        "Adam" => {
            let mut adam = Adam::new(lr);
            if let Some(wd) = number(config, "weight_decay") {
                adam = adam.weight_decay(wd);
            }
            Box::new(adam)
        }
        other => panic!("no optimizer {other}"),
    }
}

#[test]
fn optimizer_steps_match_keras() {
    let fixtures = fixtures_from("keras_training.json");
    let mut largest = 0.0f32;
    let all = cases(&fixtures, "optimizers");
    assert_eq!(all.len(), 16);
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

/// One weight w = 2 with gradient 1, updated through `Optimizer::apply` for each entry of
/// `expected`; each value must match to 1e-6.
fn assert_path(optimizer: &mut dyn Optimizer, expected: &[f32]) {
    let mut param = Param::new("w", ndarray::arr1(&[2.0f32]).into_dyn());
    for (step, want) in expected.iter().enumerate() {
        param.grad.fill(1.0);
        optimizer.apply(&mut [&mut param]);
        let got = param.value[0];
        assert!((got - want).abs() < 1e-6, "step {}: {got} ≠ {want}", step + 1);
    }
}

#[test]
fn weight_decay_on_sgd_is_decoupled_and_applied_before_the_update() {
    // Keras 3 `BaseOptimizer.apply`: w ← w − w·wd·lr, then SGD's w ← w − lr·g.
    // lr 0.1, wd 0.5, g 1: step 1: 2 − 2·0.05 = 1.9, then 1.9 − 0.1 = 1.8;
    // step 2: 1.8 − 1.8·0.05 = 1.71, then 1.71 − 0.1 = 1.61.
    assert_path(&mut Sgd::new(0.1).weight_decay(0.5), &[1.8, 1.61]);
}

#[test]
fn rmsprop_takes_a_schedule_and_weight_decay_as_keras_does() {
    // The schedule is read at step − 1 (0.1 for update 1, 0.01 after), ρ 0.9, ε 1e-7, wd 0.5.
    // Update 1: w = 2 − 2·0.5·0.1 = 1.9; v = 0.1·1² = 0.1; w = 1.9 − 0.1/√(0.1 + 1e-7)
    // = 1.5837724. Update 2: w = 1.5837724·(1 − 0.5·0.01) = 1.5758535; v = 0.9·0.1 + 0.1
    // = 0.19; w = 1.5758535 − 0.01/√(0.19 + 1e-7) = 1.5529120.
    let schedule = PiecewiseConstantDecay::new(vec![0], vec![0.1, 0.01]);
    let mut rmsprop = RmsProp::new(schedule).weight_decay(0.5);
    assert_eq!(rmsprop.learning_rate(), 0.1);
    assert_path(&mut rmsprop, &[1.583_772_4, 1.552_912]);
    assert_eq!(rmsprop.learning_rate(), 0.01);
    assert!(rmsprop.set_learning_rate(0.5).is_err());
}

#[test]
fn every_optimizer_has_a_settable_constant_rate_and_checks_weight_decay() {
    let mut optimizers: Vec<Box<dyn Optimizer>> = vec![
        Box::new(Sgd::new(0.01)),
        Box::new(RmsProp::new(0.01)),
        Box::new(Adam::new(0.01)),
        Box::new(AdamW::new(0.01)),
        Box::new(Adagrad::new(0.01)),
        Box::new(Nadam::new(0.01)),
    ];
    for optimizer in &mut optimizers {
        optimizer.set_learning_rate(0.005).unwrap();
        assert_eq!(optimizer.current_learning_rate(), 0.005, "{optimizer:?}");
        assert!(optimizer.set_learning_rate(f32::NAN).is_err());
    }
    assert!(Sgd::new(0.01).weight_decay(-1.0).validate().is_err());
    assert!(RmsProp::new(0.01).weight_decay(f32::INFINITY).validate().is_err());
    assert!(Adam::new(0.01).weight_decay(0.1).validate().is_ok());
}
