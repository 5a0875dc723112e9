//! States in and out of `SimpleRnn`, `Lstm` and `Gru` (`return_state`, initial states) through
//! `build_multi` / `forward_multi` / `backward_multi`: parity with real Keras 3 (TensorFlow
//! backend, gradients by GradientTape) from `tests/fixtures/keras_recurrent_states.json`,
//! produced by `tests/fixtures/generate_recurrent_states_fixtures.py`; finite-difference checks
//! through the initial and the returned states; errors for states of the wrong count or shape;
//! the single-input path unchanged; the forward cache moved between two calls; inference, which
//! keeps fewer buffers, against training.

mod common;

use common::grad::uniform;
use common::keras::{array, arrays, fixtures_from, max_abs_diff};
use ndarray::{arr2, ArrayD, ArrayViewD};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rnnkit::layers::{Layer, Mask};
use rnnkit::prelude::*;
use rnnkit::Error;
use serde_json::Value;

const BATCH: usize = 3;
const STEPS: usize = 5;
const FEATURES: usize = 4;
const UNITS: usize = 3;

/// Outputs and gradients agree with Keras within this.
const TOLERANCE: f32 = 1e-5;

/// A recurrent layer of any cell, as the tests drive it.
fn layer(class: &str, return_sequences: bool, go_backwards: bool) -> Box<dyn Layer> {
    layer_of(class, UNITS, return_sequences, go_backwards)
}

/// As [`layer`], of `units` units.
fn layer_of(
    class: &str,
    units: usize,
    return_sequences: bool,
    go_backwards: bool,
) -> Box<dyn Layer> {
    match class {
        "SimpleRNN" => Box::new(
            SimpleRnn::new(units)
                .return_state(true)
                .return_sequences(return_sequences)
                .go_backwards(go_backwards),
        ),
        "LSTM" => Box::new(
            Lstm::new(units)
                .return_state(true)
                .return_sequences(return_sequences)
                .go_backwards(go_backwards),
        ),
        "GRU" => Box::new(
            Gru::new(units)
                .return_state(true)
                .return_sequences(return_sequences)
                .go_backwards(go_backwards),
        ),
        other => panic!("unknown class {other}"),
    }
}

fn state_count(class: &str) -> usize {
    if class == "LSTM" {
        2
    } else {
        1
    }
}

/// Builds `layer` for `(STEPS, FEATURES)` sequences, with `states` initial states.
fn build(layer: &mut dyn Layer, states: usize) -> Vec<Vec<usize>> {
    let mut shapes = vec![vec![STEPS, FEATURES]];
    shapes.extend(std::iter::repeat_n(vec![UNITS], states));
    layer.build_multi(&shapes, &mut StdRng::seed_from_u64(3)).expect("builds")
}

fn views(arrays: &[ArrayD<f32>]) -> Vec<ArrayViewD<'_, f32>> {
    arrays.iter().map(|a| a.view()).collect()
}

/// One mask per input: `mask` for the sequence, none for the states.
fn masks_for(mask: Option<&Mask>, inputs: usize) -> Vec<Option<&Mask>> {
    std::iter::once(mask).chain(std::iter::repeat_n(None, inputs - 1)).collect()
}

fn zero_grads(layer: &mut dyn Layer) {
    for param in layer.params_mut() {
        param.grad.fill(0.0);
    }
}

fn mask_of(value: &Value) -> Option<Mask> {
    value.as_array().map(|rows| {
        let rows: Vec<Vec<bool>> = rows
            .iter()
            .map(|row| row.as_array().unwrap().iter().map(|b| b.as_bool().unwrap()).collect())
            .collect();
        Mask::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| rows[i][j])
    })
}

#[test]
fn outputs_states_and_gradients_match_keras() {
    let fixtures = fixtures_from("keras_recurrent_states.json");
    assert_eq!(fixtures["backend"], "tensorflow");
    let cases = fixtures["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 21);
    let mut worst = 0.0f32;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let class = case["class"].as_str().unwrap();
        let flag = |key: &str| case[key].as_bool().unwrap();
        let mut layer = layer(class, flag("return_sequences"), flag("go_backwards"));
        let initial = case["initial_state"].as_array().map(|_| arrays(&case["initial_state"]));
        let states = initial.as_ref().map_or(0, Vec::len);
        let shapes = build(layer.as_mut(), states);
        layer.set_weights(arrays(&case["weights"])).expect("Keras' weight shapes");
        let mask = mask_of(&case["mask"]);
        let mut inputs = vec![array(&case["x"])];
        inputs.extend(initial.unwrap_or_default());
        let masks = masks_for(mask.as_ref(), inputs.len());
        let outputs = layer.forward_multi(&views(&inputs), &masks, true).expect("forward");
        let expected = arrays(&case["outputs"]);
        assert_eq!(outputs.len(), 1 + state_count(class), "{name}: one output per state + 1");
        for (k, (output, expected)) in outputs.iter().zip(&expected).enumerate() {
            assert_eq!(output.shape(), expected.shape(), "{name}: output {k}");
            assert_eq!(&output.shape()[1..], shapes[k].as_slice(), "{name}: built shape {k}");
            let diff = max_abs_diff(output, expected);
            assert!(diff <= TOLERANCE, "{name}: output {k} differs from Keras by {diff}");
            worst = worst.max(diff);
        }
        let r = arrays(&case["r"]);
        zero_grads(layer.as_mut());
        let grads = layer.backward_multi(&views(&r), true).expect("backward");
        assert_eq!(grads.len(), inputs.len(), "{name}: one gradient per input");
        let mut expected_grads = vec![array(&case["grad_x"])];
        if let Some(list) = case["grad_initial_state"].as_array() {
            expected_grads.extend(list.iter().map(array));
        }
        for (k, (grad, expected)) in grads.iter().zip(&expected_grads).enumerate() {
            let grad = grad.as_ref().expect("a gradient for every input");
            let diff = max_abs_diff(grad, expected);
            assert!(diff <= TOLERANCE, "{name}: gradient of input {k} differs by {diff}");
            worst = worst.max(diff);
        }
        for (param, expected) in layer.params().iter().zip(arrays(&case["grad_weights"])) {
            let diff = max_abs_diff(&param.grad, &expected);
            assert!(diff <= TOLERANCE, "{name}: gradient of {} differs by {diff}", param.name());
            worst = worst.max(diff);
        }
    }
    eprintln!("worst difference from Keras over 21 cases: {worst:e}");
}

/// `Σ_k Σ outputs_k ⊙ r_k`, in `f64`.
fn loss(
    layer: &mut dyn Layer,
    inputs: &[ArrayD<f32>],
    mask: Option<&Mask>,
    r: &[ArrayD<f32>],
) -> f64 {
    let masks = masks_for(mask, inputs.len());
    let outputs = layer.forward_multi(&views(inputs), &masks, false).expect("forward");
    outputs
        .iter()
        .zip(r)
        .flat_map(|(o, r)| o.iter().zip(r.iter()))
        .map(|(&o, &r)| f64::from(o) * f64::from(r))
        .sum()
}

/// Whether `analytic` matches the central difference `numeric`.
fn close(analytic: f32, numeric: f64) -> bool {
    (f64::from(analytic) - numeric).abs() <= 1e-3 + 2e-2 * numeric.abs()
}

/// Checks the gradients of every input (sequence and initial states) and weight of a layer
/// against central differences of `Σ_k Σ outputs_k ⊙ r_k`; returns the entries checked.
fn finite_differences(
    class: &str,
    return_sequences: bool,
    go_backwards: bool,
    mask: Option<&Mask>,
    output_weight: f32,
) -> usize {
    let what =
        format!("{class} seq={return_sequences} back={go_backwards} mask={}", mask.is_some());
    let mut layer = layer(class, return_sequences, go_backwards);
    let states = state_count(class);
    build(layer.as_mut(), states);
    let mut weights = layer.get_weights();
    for (k, w) in weights.iter_mut().enumerate() {
        *w = uniform(w.shape(), -0.6, 0.6, 40 + k as u64);
    }
    layer.set_weights(weights).unwrap();
    let mut inputs = vec![uniform(&[BATCH, STEPS, FEATURES], -1.0, 1.0, 11)];
    for k in 0..states {
        inputs.push(uniform(&[BATCH, UNITS], -1.0, 1.0, 20 + k as u64));
    }
    let masks = masks_for(mask, inputs.len());
    let outputs = layer.forward_multi(&views(&inputs), &masks, true).unwrap();
    // `output_weight` 0 leaves only the returned states in the loss.
    let r: Vec<ArrayD<f32>> = outputs
        .iter()
        .enumerate()
        .map(|(k, o)| {
            let scale = if k == 0 { output_weight } else { 1.0 };
            uniform(o.shape(), -1.0, 1.0, 30 + k as u64) * scale
        })
        .collect();
    zero_grads(layer.as_mut());
    let grads = layer.backward_multi(&views(&r), true).unwrap();
    let weight_grads: Vec<ArrayD<f32>> = layer.params().iter().map(|p| p.grad.clone()).collect();
    let eps = 1e-2f32;
    let mut checked = 0;
    for (k, grad) in grads.iter().enumerate() {
        let grad = grad.as_ref().expect("a gradient per input");
        for index in 0..inputs[k].len() {
            let original = inputs[k].as_slice().unwrap()[index];
            let mut at = |value: f32| {
                inputs[k].as_slice_mut().unwrap()[index] = value;
                loss(layer.as_mut(), &inputs, mask, &r)
            };
            let (up, down) = (at(original + eps), at(original - eps));
            inputs[k].as_slice_mut().unwrap()[index] = original;
            let numeric = (up - down) / (2.0 * f64::from(eps));
            let analytic = grad.as_slice().unwrap()[index];
            assert!(close(analytic, numeric), "{what}: input {k}[{index}] {analytic} vs {numeric}");
            checked += 1;
        }
    }
    for (p, grad) in weight_grads.iter().enumerate() {
        for index in 0..grad.len() {
            let mut weights = layer.get_weights();
            let original = weights[p].as_slice().unwrap()[index];
            let mut at = |value: f32| {
                weights[p].as_slice_mut().unwrap()[index] = value;
                layer.set_weights(weights.clone()).unwrap();
                loss(layer.as_mut(), &inputs, mask, &r)
            };
            let (up, down) = (at(original + eps), at(original - eps));
            weights[p].as_slice_mut().unwrap()[index] = original;
            layer.set_weights(weights).unwrap();
            let numeric = (up - down) / (2.0 * f64::from(eps));
            let analytic = grad.as_slice().unwrap()[index];
            assert!(
                close(analytic, numeric),
                "{what}: weight {p}[{index}] {analytic} vs {numeric}"
            );
            checked += 1;
        }
    }
    checked
}

/// Left padding in sample 0 (two steps), a hole in sample 1, no real step in sample 2.
fn mask_with_empty_sample() -> Mask {
    arr2(&[
        [false, false, true, true, true],
        [true, true, false, true, true],
        [false, false, false, false, false],
    ])
}

#[test]
fn gradients_through_initial_and_returned_states_match_finite_differences() {
    let mask = mask_with_empty_sample();
    let mut checked = 0;
    for class in ["SimpleRNN", "LSTM", "GRU"] {
        for (return_sequences, go_backwards) in [(false, false), (true, false), (true, true)] {
            for mask in [None, Some(&mask)] {
                checked += finite_differences(class, return_sequences, go_backwards, mask, 1.0);
            }
        }
        // Through the returned states alone.
        checked += finite_differences(class, false, true, Some(&mask), 0.0);
    }
    eprintln!("{checked} gradient entries checked");
}

#[test]
fn wrong_initial_states_are_errors() {
    let x = uniform(&[BATCH, STEPS, FEATURES], -1.0, 1.0, 1);
    let h = uniform(&[BATCH, UNITS], -1.0, 1.0, 2);
    for class in ["SimpleRNN", "LSTM", "GRU"] {
        let states = state_count(class);
        let mut layer = layer(class, false, false);
        build(layer.as_mut(), states);
        // Wrong count: one state too many, and for LSTM one too few.
        let mut inputs = vec![x.clone()];
        inputs.extend(std::iter::repeat_n(h.clone(), states + 1));
        let result = layer.forward_multi(&views(&inputs), &masks_for(None, inputs.len()), false);
        assert!(matches!(result, Err(Error::InvalidArgument { .. })), "{class}: {result:?}");
        if states == 2 {
            let inputs = [x.clone(), h.clone()];
            let result = layer.forward_multi(&views(&inputs), &[None, None], false);
            let message = result.expect_err("LSTM needs h0 and c0").to_string();
            assert!(message.contains("[x, h0, c0]"), "{message}");
        }
        // Wrong shapes: another batch, other units, not a matrix.
        for bad in [
            uniform(&[BATCH + 1, UNITS], -1.0, 1.0, 3),
            uniform(&[BATCH, UNITS + 1], -1.0, 1.0, 3),
            uniform(&[BATCH, UNITS, 1], -1.0, 1.0, 3),
        ] {
            let mut inputs = vec![x.clone(), bad.clone()];
            inputs.extend(std::iter::repeat_n(h.clone(), states - 1));
            let result = layer.forward_multi(&views(&inputs), &masks_for(None, inputs.len()), true);
            assert!(
                matches!(result, Err(Error::ShapeMismatch { .. })),
                "{class} state {:?}: {result:?}",
                bad.shape()
            );
        }
        // A refused forward after a training one leaves nothing for backward to read.
        let mut inputs = vec![x.clone()];
        inputs.extend(std::iter::repeat_n(h.clone(), states));
        let outputs =
            layer.forward_multi(&views(&inputs), &masks_for(None, inputs.len()), true).unwrap();
        let mut refused = inputs.clone();
        refused[1] = uniform(&[BATCH + 1, UNITS], -1.0, 1.0, 5);
        assert!(layer
            .forward_multi(&views(&refused), &masks_for(None, refused.len()), true)
            .is_err());
        let grads: Vec<ArrayD<f32>> = outputs.iter().map(|o| o.clone() * 0.0).collect();
        let result = layer.backward_multi(&views(&grads), true);
        assert!(matches!(result, Err(Error::NoForwardCache(_))), "{class}: {result:?}");
        // The layer still works after the refusals.
        let mut inputs = vec![x.clone()];
        inputs.extend(std::iter::repeat_n(h.clone(), states));
        let outputs =
            layer.forward_multi(&views(&inputs), &masks_for(None, inputs.len()), true).unwrap();
        // One gradient per output, of each output's shape.
        let grads: Vec<ArrayD<f32>> = outputs.iter().map(|o| o.clone() * 0.0).collect();
        let result = layer.backward_multi(&views(&grads[..1]), true);
        assert!(matches!(result, Err(Error::InvalidArgument { .. })), "{class}: {result:?}");
        let mut wrong = grads.clone();
        wrong[1] = uniform(&[BATCH + 1, UNITS], -1.0, 1.0, 4);
        let result = layer.backward_multi(&views(&wrong), true);
        assert!(matches!(result, Err(Error::ShapeMismatch { .. })), "{class}: {result:?}");
        assert_eq!(layer.backward_multi(&views(&grads), true).unwrap().len(), 1 + states);
        // Masks: one per input.
        let result = layer.forward_multi(&views(&inputs), &[None], false);
        assert!(matches!(result, Err(Error::InvalidArgument { .. })), "{class}: {result:?}");
        // Built with states of the wrong size.
        let mut fresh = self::layer(class, false, false);
        let mut shapes = vec![vec![STEPS, FEATURES]];
        shapes.extend(std::iter::repeat_n(vec![UNITS + 1], states));
        let result = fresh.build_multi(&shapes, &mut StdRng::seed_from_u64(0));
        assert!(matches!(result, Err(Error::ShapeMismatch { .. })), "{class}: {result:?}");
    }
}

#[test]
fn a_layer_with_return_state_refuses_the_single_output_calls() {
    let mut layer = Lstm::new(UNITS).return_state(true);
    let result = layer.build(&[STEPS, FEATURES], &mut StdRng::seed_from_u64(0));
    let message = result.expect_err("several outputs").to_string();
    assert!(message.contains("return_state"), "{message}");
    let mut model = Sequential::new();
    model.add(Embedding::new(10, 4).input_length(STEPS));
    model.add(Gru::new(UNITS).return_state(true));
    assert!(model.summary().is_err());
    let config = layer.get_config().expect("a config");
    assert_eq!(config["return_state"], true);
    assert_eq!(Lstm::new(2).get_config().unwrap()["return_state"], false);
}

/// The output of the single-input path, bit for bit, whatever the route to it.
#[test]
fn single_input_path_is_unchanged() {
    let x = uniform(&[BATCH, STEPS, FEATURES], -1.0, 1.0, 5);
    let mask = mask_with_empty_sample();
    for mask in [None, Some(&mask)] {
        for (return_sequences, go_backwards) in [(false, false), (true, true)] {
            let plain =
                Lstm::new(UNITS).return_sequences(return_sequences).go_backwards(go_backwards);
            let mut plain = plain;
            plain.build(&[STEPS, FEATURES], &mut StdRng::seed_from_u64(9)).unwrap();
            let mut stated = plain.clone().return_state(true);
            let expected = plain.forward(x.view(), mask, true).unwrap();
            let d_expected = plain.backward(expected.view(), true).unwrap().unwrap();
            let alone = plain.forward_multi(&[x.view()], &[mask], true).unwrap();
            assert_eq!(alone.len(), 1);
            assert_eq!(alone[0], expected);
            // From zero states, given: the same numbers as from no states.
            let zeros = ArrayD::<f32>::zeros(vec![BATCH, UNITS]);
            let inputs = [x.view(), zeros.view(), zeros.view()];
            let outputs = stated.forward_multi(&inputs, &[mask, None, None], true).unwrap();
            assert_eq!(outputs[0], expected);
            let grads = [expected.view(), zeros.view(), zeros.view()];
            let d = stated.backward_multi(&grads, true).unwrap();
            assert_eq!(d[0].as_ref(), Some(&d_expected));
            assert_eq!(d.len(), 3);
        }
    }
}

/// A layer applied at two nodes: each node's cache moved out after its forward and put back
/// before its backward gives the gradients of that node alone.
#[test]
fn forward_caches_move_between_nodes() {
    let x1 = uniform(&[BATCH, STEPS, FEATURES], -1.0, 1.0, 6);
    let x2 = uniform(&[BATCH, STEPS + 2, FEATURES], -1.0, 1.0, 7);
    let mut rng = StdRng::seed_from_u64(1);
    let mut gru = Gru::new(UNITS).return_sequences(true);
    gru.build(&[rnnkit::layers::NONE, FEATURES], &mut rng).unwrap();
    let mut bi = Bidirectional::new(Lstm::new(UNITS).return_sequences(true));
    bi.build(&[rnnkit::layers::NONE, FEATURES], &mut rng).unwrap();
    for layer in [&mut gru as &mut dyn Layer, &mut bi] {
        let y1 = layer.forward(x1.view(), None, true).unwrap();
        zero_grads(layer);
        let alone = layer.backward(y1.view(), true).unwrap().unwrap();
        let alone_grads: Vec<ArrayD<f32>> = layer.params().iter().map(|p| p.grad.clone()).collect();

        layer.forward(x1.view(), None, true).unwrap();
        let first = layer.take_forward_cache().expect("a movable cache");
        let y2 = layer.forward(x2.view(), None, true).unwrap();
        let second = layer.take_forward_cache().expect("a movable cache");
        zero_grads(layer);
        layer.put_forward_cache(first).unwrap();
        let d1 = layer.backward(y1.view(), true).unwrap().unwrap();
        assert_eq!(d1, alone, "{}", layer.class_name());
        for (param, expected) in layer.params().iter().zip(&alone_grads) {
            assert_eq!(&param.grad, expected);
        }
        layer.put_forward_cache(second).unwrap();
        assert_eq!(layer.backward(y2.view(), true).unwrap().unwrap().shape(), x2.shape());
        // Another layer's cache is refused.
        let foreign: rnnkit::layers::ForwardCache = Box::new(3_u8);
        assert!(matches!(layer.put_forward_cache(foreign), Err(Error::NoForwardCache(_))));
    }
}

/// A batch of several chunks, reordered by its mask, gives each sample what it gives alone:
/// the initial states and their gradients follow their samples.
#[test]
fn states_follow_their_samples_across_chunks() {
    const SAMPLES: usize = 19;
    let steps = 6;
    let x = uniform(&[SAMPLES, steps, FEATURES], -1.0, 1.0, 12);
    let h0 = uniform(&[SAMPLES, UNITS], -1.0, 1.0, 13);
    let c0 = uniform(&[SAMPLES, UNITS], -1.0, 1.0, 14);
    // Sample i pads (i·7 mod 8) leading steps: none to all of them, in no particular order.
    let mask = Mask::from_shape_fn((SAMPLES, steps), |(i, t)| t >= (i * 7) % 8);
    let mut layer = Lstm::new(UNITS).return_state(true).return_sequences(true);
    layer
        .build_multi(
            &[vec![steps, FEATURES], vec![UNITS], vec![UNITS]],
            &mut StdRng::seed_from_u64(2),
        )
        .unwrap();
    let inputs = [x.clone(), h0.clone(), c0.clone()];
    let masks = [Some(&mask), None, None];
    let outputs = layer.forward_multi(&views(&inputs), &masks, true).unwrap();
    let r: Vec<ArrayD<f32>> = outputs
        .iter()
        .enumerate()
        .map(|(k, o)| uniform(o.shape(), -1.0, 1.0, 50 + k as u64))
        .collect();
    zero_grads(&mut layer);
    let grads = layer.backward_multi(&views(&r), true).unwrap();
    let batch_weight_grads: Vec<ArrayD<f32>> =
        layer.params().iter().map(|p| p.grad.clone()).collect();
    let mut summed: Vec<ArrayD<f32>> = batch_weight_grads.iter().map(|g| g * 0.0).collect();
    let one =
        |a: &ArrayD<f32>, i: usize| a.slice_axis(ndarray::Axis(0), (i..i + 1).into()).to_owned();
    for i in 0..SAMPLES {
        let inputs: Vec<ArrayD<f32>> = inputs.iter().map(|a| one(a, i)).collect();
        let sample_mask = mask.slice(ndarray::s![i..i + 1, ..]).to_owned();
        let masks = [Some(&sample_mask), None, None];
        let alone = layer.forward_multi(&views(&inputs), &masks, true).unwrap();
        for (k, output) in alone.iter().enumerate() {
            let diff = max_abs_diff(output, &one(&outputs[k], i));
            assert!(diff <= 1e-6, "sample {i}: output {k} differs by {diff}");
        }
        let r: Vec<ArrayD<f32>> = r.iter().map(|a| one(a, i)).collect();
        zero_grads(&mut layer);
        let d = layer.backward_multi(&views(&r), true).unwrap();
        for (k, grad) in d.iter().enumerate() {
            let expected = one(grads[k].as_ref().unwrap(), i);
            let diff = max_abs_diff(grad.as_ref().unwrap(), &expected);
            assert!(diff <= 1e-6, "sample {i}: gradient of input {k} differs by {diff}");
        }
        for (sum, param) in summed.iter_mut().zip(layer.params()) {
            *sum += &param.grad;
        }
    }
    for (sum, batch) in summed.iter().zip(&batch_weight_grads) {
        let diff = max_abs_diff(sum, batch);
        assert!(diff <= 1e-5, "weight gradients differ by {diff}");
    }
}

/// Inference keeps fewer of the loop's buffers than training (two state slots without
/// sequences, one block of step rows): it computes the same outputs and states bit for bit, at
/// odd and even lengths over several blocks of steps, narrow and wide, from zeros and from
/// initial states, with leading steps (in reading order) padded so that chunks skip some, and a
/// chunk all of whose steps are padded, and with holes; and a training pass after it gives the
/// gradients of a layer that never ran inference.
#[test]
fn inference_computes_what_training_computes() {
    const SAMPLES: usize = 19;
    for (long, units) in [(69, 3), (70, 3), (69, 80), (70, 80)] {
        for class in ["SimpleRNN", "LSTM", "GRU"] {
            for (go_backwards, return_sequences, from_states) in [
                (false, false, true),
                (false, true, false),
                (true, false, false),
                (true, true, true),
                (false, false, false),
                (true, false, true),
            ] {
                // Sample i pads its first steps read: sample 0 none, the others at least 1 or 2
                // (a chunk skips no step, an odd number or an even number); samples 5, 11 and 17
                // every step (the chunks' order puts them together); samples 3 and 4 have a hole.
                let padded = |i: usize| match i {
                    0 => 0,
                    i if i % 6 == 5 => long,
                    i => (i * 11) % 40 + long - 68,
                };
                let mask = Mask::from_shape_fn((SAMPLES, long), |(i, t)| {
                    let k = if go_backwards { long - 1 - t } else { t };
                    k >= padded(i) && !((i == 3 || i == 4) && (45..48).contains(&k))
                });
                let states = if from_states { state_count(class) } else { 0 };
                let make = || -> Box<dyn Layer> {
                    let mut layer = layer_of(class, units, return_sequences, go_backwards);
                    let mut shapes = vec![vec![long, FEATURES]];
                    shapes.extend(std::iter::repeat_n(vec![units], states));
                    layer.build_multi(&shapes, &mut StdRng::seed_from_u64(4)).expect("builds");
                    layer
                };
                let what = format!(
                    "{class} {units} units, {long} steps, backwards {go_backwards}, sequences \
                     {return_sequences}, initial states {from_states}"
                );
                let mut inputs = vec![uniform(&[SAMPLES, long, FEATURES], -1.0, 1.0, 21)];
                for k in 0..states {
                    inputs.push(uniform(&[SAMPLES, units], -1.0, 1.0, 22 + k as u64));
                }
                let masks = masks_for(Some(&mask), inputs.len());
                let mut layer = make();
                let inferred = layer.forward_multi(&views(&inputs), &masks, false).unwrap();
                let trained = layer.forward_multi(&views(&inputs), &masks, true).unwrap();
                assert_eq!(inferred, trained, "{what}: inference differs from training");
                let r: Vec<ArrayD<f32>> = trained
                    .iter()
                    .enumerate()
                    .map(|(k, o)| uniform(o.shape(), -1.0, 1.0, 30 + k as u64))
                    .collect();
                zero_grads(layer.as_mut());
                let grads = layer.backward_multi(&views(&r), true).unwrap();
                let mut fresh = make();
                fresh.forward_multi(&views(&inputs), &masks, true).unwrap();
                zero_grads(fresh.as_mut());
                let fresh_grads = fresh.backward_multi(&views(&r), true).unwrap();
                assert_eq!(grads, fresh_grads, "{what}: input gradients after inference");
                for (after, alone) in layer.params().iter().zip(fresh.params()) {
                    assert_eq!(after.grad, alone.grad, "{what}: weight gradients after inference");
                }
                let again = layer.forward_multi(&views(&inputs), &masks, false).unwrap();
                assert_eq!(again, inferred, "{what}: inference after training");
            }
        }
    }
}
