//! rnnkit against numbers produced by real Keras 3 (JAX backend, whose Embedding gradient is
//! dense as rnnkit's): summaries, forward outputs, train_on_batch steps and evaluate.
//! The fixtures come from `tests/fixtures/generate_keras_fixtures.py`.

mod common;

use common::keras::{
    array, assert_summary_matches, assert_train_steps_match, cases, compile, fixtures,
    max_abs_diff, model, model_with_weights,
};

/// Forward outputs and weights after a step agree with Keras within this.
const TOLERANCE: f32 = 1e-5;

#[test]
fn summaries_match_keras() {
    let fixtures = fixtures();
    let summaries = cases(&fixtures, "summaries");
    assert!(summaries.len() >= 5);
    for case in summaries {
        assert_summary_matches(&model(case).summary().unwrap(), case);
    }
}

#[test]
fn lesson_model_counts() {
    let fixtures = fixtures();
    let seed = cases(&fixtures, "summaries").iter().find(|c| c["name"] == "seed_model").unwrap();
    assert_eq!(seed["total"], 322_113);
    let flatten =
        cases(&fixtures, "summaries").iter().find(|c| c["name"] == "seed_return_sequences_flatten");
    assert_eq!(flatten.unwrap()["total"], 338_081);
}

#[test]
fn forward_outputs_match_keras() {
    let fixtures = fixtures();
    let forward = cases(&fixtures, "forward");
    assert!(forward.len() >= 10);
    for case in forward {
        let name = case["name"].as_str().unwrap();
        let mut model = model_with_weights(case);
        let x = array(&case["x"]);
        let expected = array(&case["y"]);
        let output = model.predict_batched(&x, 2).unwrap();
        let diff = max_abs_diff(&output, &expected);
        assert!(diff <= TOLERANCE, "{name}: max |rnnkit − keras| = {diff:e}");
    }
}

#[test]
fn train_steps_match_keras() {
    let fixtures = fixtures();
    let steps = cases(&fixtures, "train_step");
    assert!(steps.len() >= 15);
    for case in steps {
        let mut model = model_with_weights(case);
        compile(&mut model, case);
        assert_train_steps_match(&mut model, case, TOLERANCE);
    }
}

#[test]
fn evaluate_matches_keras() {
    let fixtures = fixtures();
    for case in cases(&fixtures, "evaluate") {
        let name = case["name"].as_str().unwrap();
        let mut model = model_with_weights(case);
        compile(&mut model, case);
        let batch_size = case["batch_size"].as_u64().unwrap() as usize;
        let scores =
            model.evaluate_batched(&array(&case["x"]), &array(&case["y"]), batch_size).unwrap();
        let loss = case["result_loss"].as_f64().unwrap() as f32;
        let accuracy = case["result_accuracy"].as_f64().unwrap() as f32;
        assert!((scores.loss - loss).abs() <= TOLERANCE, "{name}: loss {} vs {loss}", scores.loss);
        let ours = scores.metric("accuracy").unwrap();
        assert!((ours - accuracy).abs() <= 1e-6, "{name}: accuracy {ours} vs {accuracy}");
    }
}
