//! `Lstm`, `Gru` and `Bidirectional`: finite-difference checks of every weight and the input
//! (harness: `tests/common/grad.rs`), whole stacked models through a loss, the layers' weights
//! and errors, and parity with real Keras 3 (JAX backend): summaries, forward outputs and
//! train_on_batch steps from `tests/fixtures/keras_recurrent.json`, produced by
//! `tests/fixtures/generate_recurrent_fixtures.py`. Run with `--nocapture` to see the worst
//! relative error of each gradient check.

mod common;

use common::grad::{
    built_with_random_biases, check_layer_gradients, check_model_gradients,
    mask_all_edges_and_empty_sample, uniform, GradReport, Tol, REL_FLOOR,
};
use common::keras::{
    array, arrays, assert_summary_matches, assert_train_steps_match, cases, compile, fixtures_from,
    max_abs_diff, model,
};
use ndarray::{arr1, arr2, s, Array2, ArrayD, Axis, Ix2};
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

/// Forward outputs and weights after a step agree with Keras within this.
const TOLERANCE: f32 = 1e-5;

fn log(what: &str, report: &GradReport) {
    eprintln!("{what}: {report}");
}

/// Names and builds `layer` for `(STEPS, FEATURES)` sequences with a generator seeded by `seed`,
/// then gives every bias random values so that the check does not run at the initial biases.
fn build<L: Layer>(layer: L, name: &str, seed: u64) -> L {
    built_with_random_biases(layer, name, &[STEPS, FEATURES], seed)
}

fn sequence_input(seed: u64) -> ArrayD<f32> {
    uniform(&[BATCH, STEPS, FEATURES], -1.0, 1.0, seed)
}

/// Left padding in sample 0, a hole in the middle of sample 1, right padding in sample 2.
fn mask_padding_and_hole() -> Mask {
    arr2(&[
        [false, false, true, true, true],
        [true, true, false, true, true],
        [true, true, true, true, false],
    ])
}

/// Checks a built-by-[`build`] layer on random sequences.
fn check<L: Layer>(layer: L, mask: Option<Mask>) -> GradReport {
    let mut layer = build(layer, "layer", 7);
    let what = format!("{} mask={}", layer.class_name(), mask.is_some());
    let report = check_layer_gradients(&mut layer, sequence_input(11), mask.clone(), Tol::LAYER);
    log(&what, &report);
    if let Some(mask) = mask {
        assert_masked_input_grad_is_zero(&report, &mask);
    }
    report
}

fn assert_masked_input_grad_is_zero(report: &GradReport, mask: &Mask) {
    let grad = report.input_grad.as_ref().expect("an input gradient");
    let mut unmasked_nonzero = false;
    for ((sample, step), &keep) in mask.indexed_iter() {
        let values = grad.slice(s![sample, step, ..]);
        if keep {
            unmasked_nonzero |= values.iter().any(|&g| f64::from(g.abs()) > REL_FLOOR);
        } else {
            assert!(
                values.iter().all(|&g| g == 0.0),
                "masked step ({sample}, {step}) received an input gradient {values}"
            );
        }
    }
    assert!(unmasked_nonzero || mask.iter().all(|&m| !m), "no gradient reached the input");
}

// ---------------------------------------------------------------------------------------------
// Lstm gradients

#[test]
fn lstm_last_state_and_sequences() {
    check(Lstm::new(UNITS), None);
    check(Lstm::new(UNITS).return_sequences(true), None);
}

#[test]
fn lstm_masked() {
    for mask in [mask_padding_and_hole(), mask_all_edges_and_empty_sample()] {
        for return_sequences in [false, true] {
            check(Lstm::new(UNITS).return_sequences(return_sequences), Some(mask.clone()));
        }
    }
}

#[test]
fn lstm_go_backwards() {
    for mask in [None, Some(mask_padding_and_hole()), Some(mask_all_edges_and_empty_sample())] {
        for return_sequences in [false, true] {
            let layer = Lstm::new(UNITS).go_backwards(true).return_sequences(return_sequences);
            check(layer, mask.clone());
        }
    }
}

#[test]
fn lstm_without_bias() {
    for return_sequences in [false, true] {
        let report =
            check(Lstm::new(UNITS).use_bias(false).return_sequences(return_sequences), None);
        // kernel + recurrent_kernel + input, nothing else.
        let weights = FEATURES * 4 * UNITS + UNITS * 4 * UNITS;
        assert_eq!(report.checked, weights + BATCH * STEPS * FEATURES);
    }
}

/// Sigmoid candidate and cell activation, tanh gates: each activation goes where it is set.
#[test]
fn lstm_other_activations() {
    let layer = Lstm::new(UNITS)
        .activation(Activation::Sigmoid)
        .recurrent_activation(Activation::Tanh)
        .unit_forget_bias(false)
        .return_sequences(true);
    check(layer, Some(mask_padding_and_hole()));
}

// ---------------------------------------------------------------------------------------------
// Gru gradients

#[test]
fn gru_last_state_and_sequences() {
    check(Gru::new(UNITS), None);
    check(Gru::new(UNITS).return_sequences(true), None);
}

#[test]
fn gru_masked() {
    for mask in [mask_padding_and_hole(), mask_all_edges_and_empty_sample()] {
        for return_sequences in [false, true] {
            check(Gru::new(UNITS).return_sequences(return_sequences), Some(mask.clone()));
        }
    }
}

#[test]
fn gru_go_backwards() {
    for mask in [None, Some(mask_padding_and_hole()), Some(mask_all_edges_and_empty_sample())] {
        for return_sequences in [false, true] {
            let layer = Gru::new(UNITS).go_backwards(true).return_sequences(return_sequences);
            check(layer, mask.clone());
        }
    }
}

#[test]
fn gru_without_bias() {
    for return_sequences in [false, true] {
        let report =
            check(Gru::new(UNITS).use_bias(false).return_sequences(return_sequences), None);
        let weights = FEATURES * 3 * UNITS + UNITS * 3 * UNITS;
        assert_eq!(report.checked, weights + BATCH * STEPS * FEATURES);
    }
}

#[test]
fn gru_other_activations() {
    let layer = Gru::new(UNITS)
        .activation(Activation::Sigmoid)
        .recurrent_activation(Activation::Tanh)
        .return_sequences(true);
    check(layer, Some(mask_padding_and_hole()));
}

/// More samples than one parallel chunk of the loop (8), with the leading steps masked in every
/// sample of the second chunk, so chunks skip different numbers of steps.
#[test]
fn many_samples_masked_in_chunks() {
    const SAMPLES: usize = 11;
    let mask = Array2::from_shape_fn((SAMPLES, STEPS), |(b, s)| match b {
        0 => s >= 2,
        3 => s != 1 && s != 3,
        b if b >= 8 => (2..4).contains(&s),
        _ => true,
    });
    let input = uniform(&[SAMPLES, STEPS, FEATURES], -1.0, 1.0, 41);
    for go_backwards in [false, true] {
        for return_sequences in [false, true] {
            let mut lstm = build(
                Lstm::new(UNITS).go_backwards(go_backwards).return_sequences(return_sequences),
                "lstm",
                9,
            );
            let report =
                check_layer_gradients(&mut lstm, input.clone(), Some(mask.clone()), Tol::LAYER);
            assert_masked_input_grad_is_zero(&report, &mask);
            let mut gru = build(
                Gru::new(UNITS).go_backwards(go_backwards).return_sequences(return_sequences),
                "gru",
                10,
            );
            let report =
                check_layer_gradients(&mut gru, input.clone(), Some(mask.clone()), Tol::LAYER);
            assert_masked_input_grad_is_zero(&report, &mask);
        }
    }
}

/// Sequences longer than the loop's blocks of 32 steps, with leading and trailing steps masked
/// in every sample (skipped steps that are not a multiple of the block) and holes.
#[test]
fn long_sequences_span_several_blocks() {
    const LONG: usize = 70;
    let (samples, features, units) = (2, 3, 2);
    let mask = Array2::from_shape_fn((samples, LONG), |(b, s)| match b {
        0 => (10..LONG - 3).contains(&s),
        _ => (4..LONG - 5).contains(&s) && !(30..34).contains(&s),
    });
    let input = uniform(&[samples, LONG, features], -1.0, 1.0, 81);
    let shape = [LONG, features];
    for go_backwards in [false, true] {
        for return_sequences in [false, true] {
            let layers: Vec<Box<dyn Layer>> = vec![
                Box::new(
                    Lstm::new(units).go_backwards(go_backwards).return_sequences(return_sequences),
                ),
                Box::new(
                    Gru::new(units).go_backwards(go_backwards).return_sequences(return_sequences),
                ),
                Box::new(
                    SimpleRnn::new(units)
                        .go_backwards(go_backwards)
                        .return_sequences(return_sequences),
                ),
            ];
            for mut layer in layers {
                layer.set_name("long".into());
                layer.build(&shape, &mut StdRng::seed_from_u64(12)).unwrap();
                for masked in [None, Some(mask.clone())] {
                    let report = check_layer_gradients(
                        layer.as_mut(),
                        input.clone(),
                        masked.clone(),
                        Tol::LAYER,
                    );
                    log(
                        &format!(
                            "{} {LONG} steps go_backwards={go_backwards} \
                             return_sequences={return_sequences} mask={}",
                            layer.class_name(),
                            masked.is_some()
                        ),
                        &report,
                    );
                    if let Some(mask) = &masked {
                        assert_masked_input_grad_is_zero(&report, mask);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bidirectional gradients

const MERGE_MODES: [MergeMode; 4] =
    [MergeMode::Concat, MergeMode::Sum, MergeMode::Mul, MergeMode::Ave];

#[test]
fn bidirectional_lstm_each_merge_mode() {
    for mode in MERGE_MODES {
        for return_sequences in [false, true] {
            let inner = Lstm::new(UNITS).return_sequences(return_sequences);
            check(Bidirectional::new(inner).merge_mode(mode), Some(mask_padding_and_hole()));
        }
    }
}

#[test]
fn bidirectional_gru_each_merge_mode() {
    for mode in MERGE_MODES {
        for return_sequences in [false, true] {
            let inner = Gru::new(UNITS).return_sequences(return_sequences);
            check(Bidirectional::new(inner).merge_mode(mode), None);
        }
    }
}

#[test]
fn bidirectional_simple_rnn_each_merge_mode() {
    for mode in MERGE_MODES {
        let inner = SimpleRnn::new(UNITS).return_sequences(true);
        check(Bidirectional::new(inner).merge_mode(mode), Some(mask_all_edges_and_empty_sample()));
    }
}

// ---------------------------------------------------------------------------------------------
// Whole models: stacked recurrent layers through a loss

/// Ids with left padding, a hole (0 in the middle) and repeated ids.
fn padded_ids() -> ArrayD<f32> {
    arr2(&[[0.0f32, 0.0, 3.0, 5.0, 3.0], [2.0, 6.0, 0.0, 2.0, 7.0], [1.0, 4.0, 4.0, 1.0, 6.0]])
        .into_dyn()
}

/// Replaces the (±0.05) embeddings with larger ones, which make larger gradients to compare.
fn widen_embeddings(model: &mut Sequential, seed: u64) {
    let mut weights = model.get_weights();
    weights[0] = uniform(weights[0].shape(), -1.0, 1.0, seed);
    model.set_weights(weights).unwrap();
}

#[test]
fn model_stacked_lstm_gru_masked_binary_crossentropy() {
    let mut model = Sequential::new().seed(11);
    model.add(Embedding::new(8, FEATURES).input_length(STEPS).mask_zero(true));
    model.add(Lstm::new(UNITS).return_sequences(true));
    model.add(Gru::new(UNITS));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    widen_embeddings(&mut model, 31);
    let y = arr1(&[1.0f32, 0.0, 1.0]).into_dyn();
    let report =
        check_model_gradients(&mut model, Loss::BinaryCrossentropy, &padded_ids(), &y, Tol::MODEL);
    log("model embedding-lstm-gru-dense", &report);
}

#[test]
fn model_stacked_bidirectional_sparse_categorical_crossentropy() {
    let mut model = Sequential::new().seed(12);
    model.add(Masking::new(0.0));
    model.add(Bidirectional::new(Lstm::new(UNITS).return_sequences(true)));
    model.add(Bidirectional::new(Gru::new(2)).merge_mode(MergeMode::Mul));
    model.add(Dense::new(3).activation(Activation::Softmax));
    model.build(&[STEPS, FEATURES]).unwrap();
    let mut x = sequence_input(32);
    for (sample, step) in [(0, 0), (0, 1), (1, 2), (2, 4)] {
        x.slice_mut(s![sample, step, ..]).fill(0.0);
    }
    let y = arr1(&[2.0f32, 0.0, 1.0]).into_dyn();
    let report =
        check_model_gradients(&mut model, Loss::SparseCategoricalCrossentropy, &x, &y, Tol::MODEL);
    log("model masking-bidirectional lstm-bidirectional gru-dense", &report);
}

/// The per-step mask reaches the loss through two recurrent layers and a 3-D Dense.
#[test]
fn model_masked_sequences_mean_squared_error() {
    let mut model = Sequential::new().seed(13);
    model.add(Embedding::new(8, FEATURES).input_length(STEPS).mask_zero(true));
    model.add(Gru::new(UNITS).return_sequences(true).go_backwards(true));
    model.add(Bidirectional::new(Lstm::new(2).return_sequences(true)).merge_mode(MergeMode::Ave));
    model.add(Dense::new(2));
    widen_embeddings(&mut model, 33);
    let y = uniform(&[BATCH, STEPS, 2], -1.0, 1.0, 34);
    let report =
        check_model_gradients(&mut model, Loss::MeanSquaredError, &padded_ids(), &y, Tol::MODEL);
    log("model embedding-gru-bidirectional lstm-dense 3-D", &report);
}

// ---------------------------------------------------------------------------------------------
// Weights, names and semantics

fn built<L: Layer>(mut layer: L, input_dim: usize) -> L {
    layer.build(&[STEPS, input_dim], &mut StdRng::seed_from_u64(3)).unwrap();
    layer
}

fn shapes(layer: &dyn Layer) -> Vec<(&'static str, Vec<usize>)> {
    layer.params().iter().map(|p| (p.name(), p.value.shape().to_vec())).collect()
}

#[test]
fn lstm_weights_as_keras() {
    let (units, input_dim) = (6, 5);
    let layer = built(Lstm::new(units), input_dim);
    assert_eq!(
        shapes(&layer),
        [("kernel", vec![5, 24]), ("recurrent_kernel", vec![6, 24]), ("bias", vec![24])]
    );
    assert_eq!(layer.count_params(), 4 * (units * (units + input_dim) + units));
    // unit_forget_bias: the forget block (second of i, f, c, o) starts at 1, the rest at 0.
    let bias = &layer.params()[2].value;
    for (j, &b) in bias.iter().enumerate() {
        assert_eq!(b, if (units..2 * units).contains(&j) { 1.0 } else { 0.0 }, "bias[{j}]");
    }
    let plain = built(Lstm::new(units).unit_forget_bias(false), input_dim);
    assert!(plain.params()[2].value.iter().all(|&b| b == 0.0));
    assert_initializers(&layer, input_dim, 4 * units);
    assert_eq!(built(Lstm::new(units).use_bias(false), input_dim).params().len(), 2);
}

#[test]
fn gru_weights_as_keras() {
    let (units, input_dim) = (6, 5);
    let layer = built(Gru::new(units), input_dim);
    assert_eq!(
        shapes(&layer),
        [("kernel", vec![5, 18]), ("recurrent_kernel", vec![6, 18]), ("bias", vec![2, 18])]
    );
    assert_eq!(layer.count_params(), 3 * (units * (units + input_dim) + 2 * units));
    assert!(layer.params()[2].value.iter().all(|&b| b == 0.0));
    assert_initializers(&layer, input_dim, 3 * units);
}

/// glorot_uniform kernel within ±√(6 / (fan_in + fan_out)); orthogonal recurrent kernel over
/// the whole `(units, gates·units)` matrix, so its rows are orthonormal (Keras).
fn assert_initializers(layer: &dyn Layer, input_dim: usize, columns: usize) {
    let limit = (6.0 / (input_dim + columns) as f32).sqrt();
    let kernel = &layer.params()[0].value;
    assert!(kernel.iter().all(|w| w.abs() <= limit));
    assert!(kernel.iter().any(|w| w.abs() > 0.8 * limit));
    let recurrent = layer.params()[1].value.clone().into_dimensionality::<Ix2>().unwrap();
    let gram = recurrent.dot(&recurrent.t());
    for ((i, j), &v) in gram.indexed_iter() {
        let expected = if i == j { 1.0 } else { 0.0 };
        assert!((v - expected).abs() < 1e-5, "U·Uᵀ[{i}, {j}] = {v}");
    }
}

#[test]
fn names_and_classes_as_keras() {
    let mut model = Sequential::new();
    model.add(Embedding::new(50, 4).input_length(STEPS));
    model.add(Lstm::new(3).return_sequences(true));
    model.add(Gru::new(3).return_sequences(true));
    model.add(Bidirectional::new(Lstm::new(2).return_sequences(true)));
    model.add(Bidirectional::new(Gru::new(2)).merge_mode(MergeMode::Sum));
    let names: Vec<(String, &str)> =
        model.layers().map(|l| (l.name().to_string(), l.class_name())).collect();
    let expected = [
        ("embedding", "Embedding"),
        ("lstm", "LSTM"),
        ("gru", "GRU"),
        ("bidirectional", "Bidirectional"),
        ("bidirectional_1", "Bidirectional"),
    ];
    for ((name, class), (want_name, want_class)) in names.iter().zip(expected) {
        assert_eq!((name.as_str(), *class), (want_name, want_class));
    }
    let summary = model.summary().unwrap();
    assert_eq!(summary.layers()[3].output_shape, [STEPS, 4]);
    assert_eq!(summary.layers()[4].output_shape, [2]);
}

/// Bidirectional = the wrapped layer forwards, a go_backwards copy, the copy's sequence reversed
/// into time order, merged; weights forward then backward.
#[test]
fn bidirectional_is_forward_and_reversed_backward_copy() {
    let x = sequence_input(51);
    let mask = mask_padding_and_hole();
    for return_sequences in [false, true] {
        let mut wrapper = built(
            Bidirectional::new(Lstm::new(UNITS).return_sequences(return_sequences)),
            FEATURES,
        );
        let weights = wrapper.get_weights();
        let names: Vec<&str> = wrapper.params().iter().map(|p| p.name()).collect();
        assert_eq!(
            names,
            [
                "forward_layer/kernel",
                "forward_layer/recurrent_kernel",
                "forward_layer/bias",
                "backward_layer/kernel",
                "backward_layer/recurrent_kernel",
                "backward_layer/bias"
            ]
        );
        let mut forward = built(Lstm::new(UNITS).return_sequences(return_sequences), FEATURES);
        forward.set_weights(weights[..3].to_vec()).unwrap();
        let mut backward = forward.reversed();
        assert!(backward.reads_backwards() && !forward.reads_backwards());
        backward.build(&[STEPS, FEATURES], &mut StdRng::seed_from_u64(9)).unwrap();
        backward.set_weights(weights[3..].to_vec()).unwrap();
        let merged = wrapper.forward(x.view(), Some(&mask), false).unwrap();
        let y_forward = forward.forward(x.view(), Some(&mask), false).unwrap();
        let mut y_backward = backward.forward(x.view(), Some(&mask), false).unwrap();
        let last = merged.ndim() - 1;
        assert_eq!(merged.shape()[last], 2 * UNITS);
        let (left, right) = merged.view().split_at(Axis(last), UNITS);
        if return_sequences {
            y_backward.invert_axis(Axis(1));
            // Masked steps output zeros in both directions.
            let mut y_forward = y_forward.clone();
            for ((b, t), &keep) in mask.indexed_iter() {
                if !keep {
                    y_forward.slice_mut(s![b, t, ..]).fill(0.0);
                    y_backward.slice_mut(s![b, t, ..]).fill(0.0);
                }
            }
            assert_eq!(left, y_forward);
        } else {
            assert_eq!(left, y_forward);
        }
        assert_eq!(right, y_backward);
    }
}

/// A model with recurrent layers saves and loads its weights (unique names inside
/// `Bidirectional`).
#[test]
fn recurrent_model_weights_save_and_load() {
    let build = |seed: u64| {
        let mut model = Sequential::new().seed(seed);
        model.add(Embedding::new(20, FEATURES).input_length(STEPS).mask_zero(true));
        model.add(Bidirectional::new(Lstm::new(UNITS).return_sequences(true)));
        model.add(Gru::new(UNITS));
        model.add(Dense::new(1).activation(Activation::Sigmoid));
        model
    };
    let path = std::env::temp_dir()
        .join(format!("rnnkit_recurrent_weights_{}.safetensors", std::process::id()));
    let mut saved = build(1);
    saved.save_weights(&path).unwrap();
    let mut loaded = build(2);
    assert_ne!(loaded.get_weights(), saved.get_weights());
    loaded.load_weights(&path).unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(loaded.get_weights(), saved.get_weights());
    let ids = padded_ids();
    assert_eq!(loaded.predict_batched(&ids, 2).unwrap(), saved.predict_batched(&ids, 2).unwrap());
}

/// Predictions follow the weights however they change between calls (a layer's `set_weights`,
/// a training epoch): each agrees bit for bit with a model built afresh with the same weights.
/// Nine samples look up more ids than the Embedding has rows, so `predict` folds its table.
#[test]
fn predictions_follow_weights_changed_between_calls() {
    let build = |seed: u64| {
        let mut model = Sequential::new().seed(seed);
        model.add(Embedding::new(20, FEATURES).input_length(STEPS).mask_zero(true));
        model.add(Lstm::new(UNITS).return_sequences(true));
        model.add(Bidirectional::new(Gru::new(UNITS)));
        model.add(Dense::new(1).activation(Activation::Sigmoid));
        model
    };
    let ids = padded_ids();
    let ids = ndarray::concatenate(Axis(0), &[ids.view(), ids.view(), ids.view()]).unwrap();
    let labels = Array2::from_shape_fn((ids.shape()[0], 1), |(i, _)| (i % 2) as f32);
    let afresh = |weights: Vec<ArrayD<f32>>| {
        let mut model = build(2);
        model.set_weights(weights).unwrap();
        model.predict_batched(&ids, 2).unwrap()
    };
    let mut model = build(1);
    model.compile(RmsProp::new(0.01), Loss::BinaryCrossentropy, &[]).unwrap();
    let mut before = model.predict_batched(&ids, 2).unwrap();
    for layer in [1, 2] {
        let recurrent = model.layers_mut().nth(layer).unwrap();
        let halved = recurrent.get_weights().into_iter().map(|w| w * 0.5).collect();
        recurrent.set_weights(halved).unwrap();
        let after = model.predict_batched(&ids, 2).unwrap();
        assert_ne!(after, before, "layer {layer}'s new weights change the predictions");
        assert_eq!(after, afresh(model.get_weights()));
        before = after;
    }
    let config = FitConfig { epochs: 1, batch_size: 2, verbose: 0, ..FitConfig::default() };
    model.fit(&ids, &labels, &config).unwrap();
    let trained = model.predict_batched(&ids, 2).unwrap();
    assert_ne!(trained, before, "training changes the predictions");
    assert_eq!(trained, afresh(model.get_weights()));
}

/// Each sample's result does not depend on the others in its batch, nor on how the batch falls
/// into the loop's chunks.
#[test]
fn batch_results_do_not_depend_on_chunking() {
    const SAMPLES: usize = 19;
    let x = uniform(&[SAMPLES, STEPS, FEATURES], -1.0, 1.0, 61);
    let mask = Array2::from_shape_fn((SAMPLES, STEPS), |(b, s)| (b + s) % 4 != 0);
    let layers: Vec<Box<dyn Layer>> = vec![
        Box::new(built(Lstm::new(UNITS).return_sequences(true), FEATURES)),
        Box::new(built(Gru::new(UNITS).go_backwards(true), FEATURES)),
        Box::new(built(Bidirectional::new(Gru::new(UNITS)), FEATURES)),
    ];
    for mut layer in layers {
        let whole = layer.forward(x.view(), Some(&mask), false).unwrap();
        for sample in [0, 7, 8, 18] {
            let one = x.slice(s![sample..sample + 1, .., ..]).into_dyn();
            let one_mask = mask.slice(s![sample..sample + 1, ..]).to_owned();
            let alone = layer.forward(one, Some(&one_mask), false).unwrap();
            let in_batch = whole.index_axis(Axis(0), sample);
            assert_eq!(
                alone.index_axis(Axis(0), 0),
                in_batch,
                "{} sample {sample}",
                layer.class_name()
            );
        }
    }
}

/// Gradients are bit-identical whatever the number of threads: chunks are fixed and their
/// partial gradients are added in chunk order.
#[test]
fn gradients_do_not_depend_on_thread_count() {
    const SAMPLES: usize = 19;
    let x = uniform(&[SAMPLES, 40, FEATURES], -1.0, 1.0, 91);
    let mask = Array2::from_shape_fn((SAMPLES, 40), |(b, s)| (b * 7 + s) % 5 != 0);
    let run = |threads: usize| -> Vec<Vec<ArrayD<f32>>> {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let layers: Vec<Box<dyn Layer>> = vec![
                Box::new(Lstm::new(UNITS).return_sequences(true)),
                Box::new(Gru::new(UNITS).go_backwards(true)),
                Box::new(Bidirectional::new(SimpleRnn::new(UNITS)).merge_mode(MergeMode::Mul)),
            ];
            layers
                .into_iter()
                .map(|mut layer| {
                    layer.build(&[40, FEATURES], &mut StdRng::seed_from_u64(5)).unwrap();
                    let output = layer.forward(x.view(), Some(&mask), true).unwrap();
                    let grad = uniform(output.shape(), -1.0, 1.0, 92);
                    let d_input = layer.backward(grad.view(), true).unwrap().unwrap();
                    let mut grads: Vec<ArrayD<f32>> =
                        layer.params().iter().map(|p| p.grad.clone()).collect();
                    grads.push(d_input);
                    grads
                })
                .collect()
        })
    };
    assert_eq!(run(1), run(3));
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn bidirectional_rejects_a_backwards_layer() {
    let mut model = Sequential::new();
    model.add(Bidirectional::new(Lstm::new(UNITS).go_backwards(true)));
    let error = model.build(&[STEPS, FEATURES]).unwrap_err();
    let Error::InvalidArgument { name, got, .. } = &error else { panic!("{error:?}") };
    assert_eq!((name.as_str(), got.as_str()), ("go_backwards", "true"));
    assert!(error.to_string().contains("bidirectional"), "{error}");
}

#[test]
fn recurrent_layers_report_bad_calls() {
    let mut lstm = Lstm::new(UNITS);
    lstm.set_name("lstm".into());
    let x = sequence_input(71);
    let error = lstm.forward(x.view(), None, true).unwrap_err();
    assert!(matches!(error, Error::NotBuilt(_)), "{error:?}");

    let mut layers: Vec<Box<dyn Layer>> = vec![
        Box::new(built(Lstm::new(UNITS), FEATURES)),
        Box::new(built(Gru::new(UNITS).return_sequences(true), FEATURES)),
        Box::new(built(Bidirectional::new(Lstm::new(UNITS)).merge_mode(MergeMode::Mul), FEATURES)),
    ];
    for layer in &mut layers {
        let class = layer.class_name();
        let grad = ArrayD::zeros(vec![BATCH, UNITS]);
        let error = layer.backward(grad.view(), true).unwrap_err();
        assert!(matches!(error, Error::NoForwardCache(_)), "{class}: {error:?}");

        let wrong_mask: Mask = Array2::from_elem((BATCH, STEPS - 1), true);
        let error = layer.forward(x.view(), Some(&wrong_mask), true).unwrap_err();
        assert!(matches!(error, Error::ShapeMismatch { .. }), "{class}: {error:?}");
        assert!(error.to_string().contains("(3, 4)"), "{class}: {error}");

        let error = layer.forward(x.slice(s![.., .., ..2]).into_dyn(), None, true).unwrap_err();
        assert!(matches!(error, Error::ShapeMismatch { .. }), "{class}: {error:?}");

        let output = layer.forward(x.view(), None, true).unwrap();
        let wrong = ArrayD::zeros(vec![BATCH + 1; output.ndim()]);
        let error = layer.backward(wrong.view(), true).unwrap_err();
        assert!(matches!(error, Error::ShapeMismatch { .. }), "{class}: {error:?}");
        assert!(error.to_string().contains("backward"), "{class}: {error}");
        // The failed call left the forward pass usable.
        let grad = ArrayD::ones(output.shape());
        let d_input = layer.backward(grad.view(), true).unwrap().unwrap();
        assert_eq!(d_input.shape(), x.shape());
    }

    let mut zero = Gru::new(0);
    let error = zero.build(&[STEPS, FEATURES], &mut StdRng::seed_from_u64(0)).unwrap_err();
    assert!(error.to_string().contains("units"), "{error}");
    let error = Lstm::new(2).build(&[STEPS], &mut StdRng::seed_from_u64(0)).unwrap_err();
    assert!(matches!(error, Error::ShapeMismatch { .. }), "{error:?}");
}

// ---------------------------------------------------------------------------------------------
// Keras parity

fn recurrent_fixtures() -> Value {
    fixtures_from("keras_recurrent.json")
}

#[test]
fn summaries_match_keras() {
    let fixtures = recurrent_fixtures();
    let summaries = cases(&fixtures, "summaries");
    assert!(summaries.len() >= 7);
    for case in summaries {
        assert_summary_matches(&model(case).summary().unwrap(), case);
    }
}

#[test]
fn forward_outputs_match_keras() {
    let fixtures = recurrent_fixtures();
    let forward = cases(&fixtures, "forward");
    assert!(forward.len() >= 40);
    let mut worst = 0.0f32;
    for case in forward {
        let name = case["name"].as_str().unwrap();
        let mut model = model(case);
        model.set_weights(arrays(&case["weights"])).unwrap();
        let x = array(&case["x"]);
        let expected = array(&case["y"]);
        let output = model.predict_batched(&x, 2).unwrap();
        let diff = max_abs_diff(&output, &expected);
        assert!(diff <= TOLERANCE, "{name}: max |rnnkit − keras| = {diff:e}");
        worst = worst.max(diff);
    }
    eprintln!("{} forward cases; worst |rnnkit − keras| = {worst:e}", forward.len());
}

#[test]
fn train_steps_match_keras() {
    let fixtures = recurrent_fixtures();
    let steps = cases(&fixtures, "train_step");
    assert!(steps.len() >= 10);
    let mut worst = 0.0f32;
    for case in steps {
        let mut model = model(case);
        model.set_weights(arrays(&case["weights"])).unwrap();
        compile(&mut model, case);
        worst = worst.max(assert_train_steps_match(&mut model, case, TOLERANCE));
    }
    eprintln!("{} train_step cases; worst weight |rnnkit − keras| = {worst:e}", steps.len());
}
