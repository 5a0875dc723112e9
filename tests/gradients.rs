//! Finite-difference checks of every layer's backward pass (each weight and the input) and of
//! whole models through each loss. The harness is `tests/common/grad.rs`; run with
//! `--nocapture` to see the worst relative error of each check.

mod common;

use common::grad::built_with_random_biases as build;
use common::grad::{
    check_layer_gradients, check_layer_gradients_with, check_model_gradients,
    mask_all_edges_and_empty_sample, uniform, GradReport, InputGrad, Tol,
};
use ndarray::{arr1, arr2, Array2, Array3, ArrayD, Axis, IxDyn};
use rand::rngs::StdRng;
use rnnkit::layers::{Layer, Mask, OutputHead};
use rnnkit::prelude::*;

const BATCH: usize = 3;
const STEPS: usize = 5;
const FEATURES: usize = 4;
const UNITS: usize = 3;

/// For piecewise-linear layers (relu): no truncation error, so a smaller step keeps
/// perturbations far from the kinks.
const RELU_TOL: Tol = Tol { eps: 3e-3, ..Tol::LAYER };

fn log(what: &str, report: &GradReport) {
    eprintln!("{what}: {report}");
}

fn sequence_input(seed: u64) -> ArrayD<f32> {
    uniform(&[BATCH, STEPS, FEATURES], -1.0, 1.0, seed)
}

/// Left padding in sample 0, a hole in the middle of sample 1, sample 2 complete.
fn mask_left_padding_and_hole() -> Mask {
    arr2(&[
        [false, false, true, true, true],
        [true, true, false, true, true],
        [true, true, true, true, true],
    ])
}

/// Checks a `SimpleRnn` built on `(STEPS, FEATURES)` with random weights and input.
fn check_rnn(layer: SimpleRnn, mask: Option<Mask>, tol: Tol) -> GradReport {
    let mut layer = build(layer, "simple_rnn", &[STEPS, FEATURES], 7);
    check_layer_gradients(&mut layer, sequence_input(11), mask, tol)
}

// ---------------------------------------------------------------------------------------------
// Embedding

#[test]
fn embedding_weights_with_repeated_ids() {
    let mut layer = build(Embedding::new(7, FEATURES), "embedding", &[STEPS], 3);
    // Ids 1, 3 and 5 appear several times, across samples and within one; 2 never appears.
    let ids =
        arr2(&[[1.0, 3.0, 3.0, 0.0, 5.0], [5.0, 1.0, 6.0, 1.0, 4.0], [3.0, 3.0, 3.0, 0.0, 1.0]])
            .into_dyn();
    let report =
        check_layer_gradients_with(&mut layer, ids, None, Tol::LAYER, InputGrad::NotDifferentiable);
    log("embedding", &report);
    let grad = &layer.params()[0].grad;
    // A row read by no position gets no gradient (the check above doubled the accumulators).
    assert!(grad.index_axis(Axis(0), 2).iter().all(|&g| g == 0.0));
}

#[test]
fn embedding_weights_with_mask_zero() {
    let mut layer = build(Embedding::new(6, FEATURES).mask_zero(true), "embedding", &[STEPS], 4);
    let ids =
        arr2(&[[0.0, 0.0, 2.0, 2.0, 5.0], [4.0, 1.0, 0.0, 1.0, 1.0], [3.0, 5.0, 2.0, 5.0, 3.0]])
            .into_dyn();
    let report =
        check_layer_gradients_with(&mut layer, ids, None, Tol::LAYER, InputGrad::NotDifferentiable);
    log("embedding mask_zero", &report);
}

// ---------------------------------------------------------------------------------------------
// SimpleRnn

#[test]
fn simple_rnn_last_state() {
    log("simple_rnn", &check_rnn(SimpleRnn::new(UNITS), None, Tol::LAYER));
}

#[test]
fn simple_rnn_return_sequences() {
    let report = check_rnn(SimpleRnn::new(UNITS).return_sequences(true), None, Tol::LAYER);
    log("simple_rnn return_sequences", &report);
}

#[test]
fn simple_rnn_masked_last_state() {
    let report = check_rnn(SimpleRnn::new(UNITS), Some(mask_left_padding_and_hole()), Tol::LAYER);
    log("simple_rnn mask", &report);
    assert_masked_input_grad_is_zero(&report, &mask_left_padding_and_hole());
}

#[test]
fn simple_rnn_masked_return_sequences() {
    let mask = mask_left_padding_and_hole();
    let layer = SimpleRnn::new(UNITS).return_sequences(true);
    let report = check_rnn(layer, Some(mask.clone()), Tol::LAYER);
    log("simple_rnn mask return_sequences", &report);
    assert_masked_input_grad_is_zero(&report, &mask);
}

#[test]
fn simple_rnn_masked_edges_and_empty_sample() {
    let mask = mask_all_edges_and_empty_sample();
    for return_sequences in [false, true] {
        let layer = SimpleRnn::new(UNITS).return_sequences(return_sequences);
        let report = check_rnn(layer, Some(mask.clone()), Tol::LAYER);
        log(&format!("simple_rnn mask edges return_sequences={return_sequences}"), &report);
        assert_masked_input_grad_is_zero(&report, &mask);
    }
}

#[test]
fn simple_rnn_go_backwards() {
    for return_sequences in [false, true] {
        let layer = SimpleRnn::new(UNITS).go_backwards(true).return_sequences(return_sequences);
        let report = check_rnn(layer, None, Tol::LAYER);
        log(&format!("simple_rnn go_backwards return_sequences={return_sequences}"), &report);
    }
}

#[test]
fn simple_rnn_go_backwards_masked() {
    for mask in [mask_left_padding_and_hole(), mask_all_edges_and_empty_sample()] {
        for return_sequences in [false, true] {
            let layer = SimpleRnn::new(UNITS).go_backwards(true).return_sequences(return_sequences);
            let report = check_rnn(layer, Some(mask.clone()), Tol::LAYER);
            log(
                &format!("simple_rnn go_backwards mask return_sequences={return_sequences}"),
                &report,
            );
            assert_masked_input_grad_is_zero(&report, &mask);
        }
    }
}

/// More samples than one parallel chunk of the layer (8), with the leading steps masked in every
/// sample of the second chunk only, so chunks skip different numbers of steps.
#[test]
fn simple_rnn_many_samples_masked() {
    const SAMPLES: usize = 11;
    let mask = Array2::from_shape_fn((SAMPLES, STEPS), |(b, s)| match b {
        0..=7 => (b + s) % 4 != 1,
        8 => s >= 2 && s != 3,
        9 => s >= 3,
        _ => s == 2 || s == 4,
    });
    let input = uniform(&[SAMPLES, STEPS, FEATURES], -1.0, 1.0, 31);
    for go_backwards in [false, true] {
        for return_sequences in [false, true] {
            let layer =
                SimpleRnn::new(UNITS).go_backwards(go_backwards).return_sequences(return_sequences);
            let mut layer = build(layer, "simple_rnn", &[STEPS, FEATURES], 8);
            let report =
                check_layer_gradients(&mut layer, input.clone(), Some(mask.clone()), Tol::LAYER);
            log(
                &format!(
                    "simple_rnn {SAMPLES} samples mask go_backwards={go_backwards} \
                     return_sequences={return_sequences}"
                ),
                &report,
            );
            assert_masked_input_grad_is_zero(&report, &mask);
        }
    }
}

#[test]
fn simple_rnn_without_bias() {
    let layer = SimpleRnn::new(UNITS).use_bias(false).return_sequences(true);
    let mut built = build(layer, "simple_rnn", &[STEPS, FEATURES], 7);
    let names: Vec<&str> = built.params().iter().map(|p| p.name()).collect();
    assert_eq!(names, ["kernel", "recurrent_kernel"]);
    let report = check_layer_gradients(&mut built, sequence_input(11), None, Tol::LAYER);
    log("simple_rnn use_bias=false", &report);
}

/// The pre-activations z_t = x_t·W + h_{t−1}·U (+ b) of an unmasked `SimpleRnn` with relu,
/// recomputed in `f64` from its weights; also checks the layer's states against them.
fn relu_rnn_preactivations(
    layer: &mut SimpleRnn,
    input: &ArrayD<f32>,
    go_backwards: bool,
) -> Vec<f64> {
    let weights = layer.get_weights();
    let kernel = weights[0].mapv(f64::from).into_dimensionality::<ndarray::Ix2>().unwrap();
    let recurrent = weights[1].mapv(f64::from).into_dimensionality::<ndarray::Ix2>().unwrap();
    let bias =
        weights.get(2).map(|b| b.mapv(f64::from).into_dimensionality::<ndarray::Ix1>().unwrap());
    let x = input.mapv(f64::from).into_dimensionality::<ndarray::Ix3>().unwrap();
    let mut z_all = Vec::new();
    let mut last = Array2::<f64>::zeros((BATCH, UNITS));
    // States in reading order, as `return_sequences` returns them.
    let mut states = Array3::<f64>::zeros((BATCH, STEPS, UNITS));
    for k in 0..STEPS {
        let t = if go_backwards { STEPS - 1 - k } else { k };
        let mut z = x.index_axis(Axis(1), t).dot(&kernel) + last.dot(&recurrent);
        if let Some(b) = &bias {
            z += b;
        }
        z_all.extend(z.iter().copied());
        last = z.mapv(|v| v.max(0.0));
        states.index_axis_mut(Axis(1), k).assign(&last);
    }
    let output = layer.forward(input.view(), None, false).unwrap();
    let reference = if output.ndim() == 3 { states.into_dyn() } else { last.into_dyn() };
    assert_eq!(output.shape(), reference.shape());
    let diff = output
        .iter()
        .zip(reference.iter())
        .map(|(a, b)| (f64::from(*a) - b).abs())
        .fold(0.0, f64::max);
    assert!(diff < 1e-5, "relu SimpleRnn's states differ from the f64 reference by {diff}");
    z_all
}

/// A relu `SimpleRnn` whose every pre-activation is at least `margin` from the kink: the first
/// of a fixed list of seeds that gives one.
fn relu_rnn_away_from_kink(
    layer: SimpleRnn,
    go_backwards: bool,
    margin: f64,
) -> (SimpleRnn, ArrayD<f32>) {
    for seed in 0..500 {
        let mut built = build(layer.clone(), "simple_rnn", &[STEPS, FEATURES], seed);
        let input = sequence_input(1000 + seed);
        let z = relu_rnn_preactivations(&mut built, &input, go_backwards);
        let closest = z.iter().fold(f64::INFINITY, |m, v| m.min(v.abs()));
        let active = z.iter().filter(|&&v| v > 0.0).count();
        // Keep both sides of the kink represented.
        if closest > margin && active >= z.len() / 4 && active <= 3 * z.len() / 4 {
            return (built, input);
        }
    }
    panic!("no seed in 0..500 keeps the relu pre-activations {margin} away from 0");
}

#[test]
fn simple_rnn_relu() {
    let margin = 10.0 * f64::from(RELU_TOL.eps);
    for (return_sequences, go_backwards, use_bias) in
        [(false, false, true), (true, false, true), (true, true, true), (false, false, false)]
    {
        let layer = SimpleRnn::new(UNITS)
            .activation(Activation::Relu)
            .return_sequences(return_sequences)
            .go_backwards(go_backwards)
            .use_bias(use_bias);
        let (mut layer, input) = relu_rnn_away_from_kink(layer, go_backwards, margin);
        let report = check_layer_gradients(&mut layer, input, None, RELU_TOL);
        log(
            &format!(
                "simple_rnn relu return_sequences={return_sequences} go_backwards={go_backwards} \
                 use_bias={use_bias}"
            ),
            &report,
        );
    }
}

fn assert_masked_input_grad_is_zero(report: &GradReport, mask: &Mask) {
    let grad = report.input_grad.as_ref().expect("an input gradient");
    for ((sample, step), &keep) in mask.indexed_iter() {
        if !keep {
            let row = grad.index_axis(Axis(0), sample);
            let values = row.index_axis(Axis(0), step);
            assert!(
                values.iter().all(|&g| g == 0.0),
                "masked step ({sample}, {step}) received an input gradient {values}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Dense

const ACTIVATIONS: [Activation; 5] = [
    Activation::Linear,
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::Relu,
    Activation::Softmax,
];

/// A relu `Dense` whose logits are all more than `2·eps` from 0: a weight step moves a logit by
/// at most eps·|x| ≤ eps (inputs in ±1), an input step by eps·|w| < eps (glorot limit < 1).
fn dense_case(activation: Activation, shape: &[usize]) -> (Dense, ArrayD<f32>) {
    let input_shape: Vec<usize> = [BATCH].into_iter().chain(shape.iter().copied()).collect();
    for seed in 0..500 {
        let mut layer = build(Dense::new(UNITS).activation(activation), "dense", shape, seed);
        let input = uniform(&input_shape, -1.0, 1.0, 2000 + seed);
        if activation != Activation::Relu {
            return (layer, input);
        }
        layer.forward(input.view(), None, true).unwrap();
        let logits = layer.logits().expect("Dense keeps its logits");
        let closest = logits.iter().fold(f32::INFINITY, |m, v| m.min(v.abs()));
        let active = logits.iter().filter(|&&v| v > 0.0).count();
        if closest > 2.0 * RELU_TOL.eps && active > 0 && active < logits.len() {
            return (layer, input);
        }
    }
    panic!("no seed keeps the relu logits away from 0");
}

fn check_dense(shape: &[usize]) {
    for activation in ACTIVATIONS {
        let (mut layer, input) = dense_case(activation, shape);
        let tol = if activation == Activation::Relu { RELU_TOL } else { Tol::LAYER };
        let report = check_layer_gradients(&mut layer, input, None, tol);
        log(&format!("dense {activation} on {}-D input", shape.len() + 1), &report);
    }
}

#[test]
fn dense_on_2d_input_each_activation() {
    check_dense(&[FEATURES]);
}

#[test]
fn dense_on_3d_input_each_activation() {
    check_dense(&[STEPS, FEATURES]);
}

#[test]
fn dense_without_bias() {
    let mut layer = build(
        Dense::new(UNITS).use_bias(false).activation(Activation::Tanh),
        "dense",
        &[FEATURES],
        5,
    );
    let report = check_layer_gradients(
        &mut layer,
        uniform(&[BATCH, FEATURES], -1.0, 1.0, 6),
        None,
        Tol::LAYER,
    );
    log("dense use_bias=false", &report);
}

// ---------------------------------------------------------------------------------------------
// Flatten and Masking

#[test]
fn flatten_input_gradient() {
    let mut layer = build(Flatten::new(), "flatten", &[STEPS, FEATURES], 1);
    let report = check_layer_gradients(&mut layer, sequence_input(12), None, Tol::LAYER);
    log("flatten", &report);
    assert_eq!(report.checked, BATCH * STEPS * FEATURES);
}

#[test]
fn masking_input_gradient_is_zero_on_masked_steps() {
    for mask_value in [0.0f32, -1.0] {
        let mut layer = build(Masking::new(mask_value), "masking", &[STEPS, FEATURES], 1);
        let mut input = sequence_input(13);
        let masked = [(0, 0), (0, 1), (1, 2), (2, 4)];
        for &(sample, step) in &masked {
            input.index_axis_mut(Axis(0), sample).index_axis_mut(Axis(0), step).fill(mask_value);
        }
        // One feature equal to the mask value does not mask its step.
        input[[1, 0, 2]] = mask_value;
        let expected: Mask =
            Array2::from_shape_fn((BATCH, STEPS), |(b, s)| !masked.contains(&(b, s)));
        assert_eq!(layer.compute_mask(input.view(), None).unwrap(), Some(expected.clone()));

        // Perturbing a masked step unmasks it (the output jumps), so finite differences are taken
        // on unmasked steps only; masked steps must get exactly zero.
        let unmasked = |index: &[usize]| expected[[index[0], index[1]]];
        let report = check_layer_gradients_with(
            &mut layer,
            input.clone(),
            None,
            Tol::LAYER,
            InputGrad::Where(&unmasked),
        );
        log(&format!("masking mask_value={mask_value}"), &report);
        assert_eq!(report.checked, (BATCH * STEPS - masked.len()) * FEATURES);
        assert_masked_input_grad_is_zero(&report, &expected);
        let output = layer.forward(input.view(), None, false).unwrap();
        for &(sample, step) in &masked {
            assert!(output
                .index_axis(Axis(0), sample)
                .index_axis(Axis(0), step)
                .iter()
                .all(|&v| v == 0.0));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Whole models through each loss

fn model_input(seed: u64) -> ArrayD<f32> {
    sequence_input(seed)
}

fn rnn_model(head: Dense) -> Sequential {
    let mut model = Sequential::new().seed(1);
    model.add(SimpleRnn::new(UNITS));
    model.add(head);
    model.build(&[STEPS, FEATURES]).unwrap();
    model
}

#[test]
fn model_binary_crossentropy_sigmoid() {
    let mut model = rnn_model(Dense::new(1).activation(Activation::Sigmoid));
    let y = arr1(&[1.0f32, 0.0, 1.0]).into_dyn();
    let report = check_model_gradients(
        &mut model,
        Loss::BinaryCrossentropy,
        &model_input(21),
        &y,
        Tol::MODEL,
    );
    log("model binary_crossentropy", &report);
}

#[test]
fn model_categorical_crossentropy_softmax() {
    let mut model = rnn_model(Dense::new(3).activation(Activation::Softmax));
    let y = arr2(&[[0.0f32, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]).into_dyn();
    let report = check_model_gradients(
        &mut model,
        Loss::CategoricalCrossentropy,
        &model_input(22),
        &y,
        Tol::MODEL,
    );
    log("model categorical_crossentropy", &report);
}

#[test]
fn model_sparse_categorical_crossentropy_softmax() {
    let mut model = rnn_model(Dense::new(3).activation(Activation::Softmax));
    let y = arr1(&[2.0f32, 0.0, 1.0]).into_dyn();
    let report = check_model_gradients(
        &mut model,
        Loss::SparseCategoricalCrossentropy,
        &model_input(23),
        &y,
        Tol::MODEL,
    );
    log("model sparse_categorical_crossentropy", &report);
}

/// A softmax `Dense` on a 3-D input (per-step classification) trained with a cross-entropy.
#[test]
fn model_sparse_categorical_crossentropy_per_step() {
    let mut model = Sequential::new().seed(2);
    model.add(SimpleRnn::new(UNITS).return_sequences(true));
    model.add(Dense::new(3).activation(Activation::Softmax));
    model.build(&[STEPS, FEATURES]).unwrap();
    let y =
        arr2(&[[0.0f32, 1.0, 2.0, 2.0, 1.0], [1.0, 1.0, 0.0, 2.0, 0.0], [2.0, 0.0, 0.0, 1.0, 1.0]])
            .into_dyn();
    let report = check_model_gradients(
        &mut model,
        Loss::SparseCategoricalCrossentropy,
        &model_input(24),
        &y,
        Tol::MODEL,
    );
    log("model sparse_categorical_crossentropy per step", &report);
}

/// Per-step binary labels behind a `mask_zero` Embedding: the masked loss of Keras' sequence
/// tagging, through a sigmoid `Dense` on a 3-D input.
#[test]
fn model_binary_crossentropy_per_step_masked() {
    let mut model = Sequential::new().seed(8);
    model.add(Embedding::new(8, FEATURES).input_length(STEPS).mask_zero(true));
    model.add(SimpleRnn::new(UNITS).return_sequences(true));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    let y =
        arr2(&[[0.0f32, 0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0, 0.0]])
            .into_dyn();
    let report =
        check_model_gradients(&mut model, Loss::BinaryCrossentropy, &padded_ids(), &y, Tol::MODEL);
    log("model binary_crossentropy per step, masked", &report);
}

#[test]
fn model_mean_squared_error_on_sequences() {
    let mut model = Sequential::new().seed(3);
    model.add(SimpleRnn::new(UNITS).return_sequences(true));
    model.add(Dense::new(2));
    model.build(&[STEPS, FEATURES]).unwrap();
    let y = uniform(&[BATCH, STEPS, 2], -1.0, 1.0, 25);
    let report =
        check_model_gradients(&mut model, Loss::MeanSquaredError, &model_input(26), &y, Tol::MODEL);
    log("model mean_squared_error 3-D", &report);
}

/// Ids with left padding, a hole (0 in the middle) and repeated ids.
fn padded_ids() -> ArrayD<f32> {
    arr2(&[[0.0f32, 0.0, 3.0, 5.0, 3.0], [2.0, 6.0, 0.0, 2.0, 7.0], [1.0, 4.0, 4.0, 1.0, 6.0]])
        .into_dyn()
}

#[test]
fn model_mask_zero_embedding() {
    let mut model = Sequential::new().seed(4);
    model.add(Embedding::new(8, FEATURES).input_length(STEPS).mask_zero(true));
    model.add(SimpleRnn::new(UNITS));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    let y = arr1(&[0.0f32, 1.0, 1.0]).into_dyn();
    // The default ±0.05 embeddings make tiny gradients; larger ones test more.
    let mut weights = model.get_weights();
    weights[0] = uniform(&[8, FEATURES], -1.0, 1.0, 27);
    model.set_weights(weights).unwrap();
    let report =
        check_model_gradients(&mut model, Loss::BinaryCrossentropy, &padded_ids(), &y, Tol::MODEL);
    log("model mask_zero embedding", &report);
}

#[test]
fn model_lesson_stack_with_flatten() {
    let mut model = Sequential::new().seed(5);
    model.add(Embedding::new(8, FEATURES).input_length(STEPS));
    model.add(SimpleRnn::new(UNITS).return_sequences(true));
    model.add(Flatten::new());
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    let mut weights = model.get_weights();
    weights[0] = uniform(&[8, FEATURES], -1.0, 1.0, 28);
    model.set_weights(weights).unwrap();
    let y = arr1(&[1.0f32, 0.0, 0.0]).into_dyn();
    let report =
        check_model_gradients(&mut model, Loss::BinaryCrossentropy, &padded_ids(), &y, Tol::MODEL);
    log("model embedding-rnn-flatten-dense", &report);
}

#[test]
fn model_masking_go_backwards_mse() {
    let mut model = Sequential::new().seed(6);
    model.add(Masking::new(0.0));
    model.add(SimpleRnn::new(UNITS).go_backwards(true).return_sequences(true));
    model.add(Dense::new(2).activation(Activation::Tanh));
    model.build(&[STEPS, FEATURES]).unwrap();
    let mut x = model_input(29);
    for (sample, step) in [(0, 0), (0, 1), (1, 2), (2, 4)] {
        x.index_axis_mut(Axis(0), sample).index_axis_mut(Axis(0), step).fill(0.0);
    }
    let y = uniform(&[BATCH, STEPS, 2], -1.0, 1.0, 30);
    let report = check_model_gradients(&mut model, Loss::MeanSquaredError, &x, &y, Tol::MODEL);
    log("model masking go_backwards mse", &report);
}

#[test]
fn model_frozen_layer_keeps_its_weights() {
    let mut model = Sequential::new().seed(7);
    model.add(Embedding::new(8, FEATURES).input_length(STEPS).trainable(false));
    model.add(SimpleRnn::new(UNITS));
    model.add(Dense::new(3).activation(Activation::Softmax));
    let y = arr1(&[0.0f32, 2.0, 1.0]).into_dyn();
    let report = check_model_gradients(
        &mut model,
        Loss::SparseCategoricalCrossentropy,
        &padded_ids(),
        &y,
        Tol::MODEL,
    );
    log("model frozen embedding", &report);
    // Only the SimpleRnn's and the Dense's weights were compared.
    assert_eq!(report.checked, FEATURES * UNITS + UNITS * UNITS + UNITS + UNITS * 3 + 3);
}

/// The harness itself: a wrong gradient is caught and named.
#[test]
#[should_panic(expected = "dense/kernel")]
fn harness_reports_a_wrong_gradient() {
    /// A Dense whose backward doubles the kernel gradient.
    #[derive(Debug)]
    struct Broken(Dense);
    impl Layer for Broken {
        fn class_name(&self) -> &'static str {
            "Dense"
        }
        fn base(&self) -> &rnnkit::layers::LayerBase {
            self.0.base()
        }
        fn base_mut(&mut self) -> &mut rnnkit::layers::LayerBase {
            self.0.base_mut()
        }
        fn build(&mut self, shape: &[usize], rng: &mut StdRng) -> rnnkit::Result<Vec<usize>> {
            self.0.build(shape, rng)
        }
        fn forward(
            &mut self,
            input: ndarray::ArrayViewD<'_, f32>,
            mask: Option<&Mask>,
            training: bool,
        ) -> rnnkit::Result<ArrayD<f32>> {
            self.0.forward(input, mask, training)
        }
        fn backward(
            &mut self,
            grad: ndarray::ArrayViewD<'_, f32>,
            input_grad: bool,
        ) -> rnnkit::Result<Option<ArrayD<f32>>> {
            let before = self.0.params()[0].grad.clone();
            let out = self.0.backward(grad, input_grad)?;
            let kernel = &mut self.0.params_mut()[0].grad;
            let added = &*kernel - &before;
            *kernel += &added;
            Ok(out)
        }
        fn params(&self) -> Vec<&rnnkit::layers::Param> {
            self.0.params()
        }
        fn params_mut(&mut self) -> Vec<&mut rnnkit::layers::Param> {
            self.0.params_mut()
        }
    }
    let mut layer = build(Broken(Dense::new(UNITS)), "dense", &[FEATURES], 1);
    check_layer_gradients(&mut layer, uniform(&[BATCH, FEATURES], -1.0, 1.0, 2), None, Tol::LAYER);
}

#[test]
fn unravel_is_row_major() {
    assert_eq!(common::grad::unravel(7, &[2, 3, 2]), vec![1, 0, 1]);
    let a = Array3::from_shape_fn((2, 3, 2), |(i, j, k)| (i * 6 + j * 2 + k) as f32).into_dyn();
    for (flat, &v) in a.iter().enumerate() {
        assert_eq!(a[IxDyn(&common::grad::unravel(flat, &[2, 3, 2]))], v);
    }
}
