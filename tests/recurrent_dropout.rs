//! `dropout` and `recurrent_dropout` of `SimpleRnn`, `Lstm` and `Gru`: Keras 3's masks (one per
//! sample and batch, kept for every step; one input mask for all gates unless the state is
//! dropped too, then one per gate), inverted scaling, no effect in inference, gradients through
//! fixed masks against finite differences, rate validation and reproducibility.
//!
//! The masks are random, so the semantics are checked by reconstruction: every sample's
//! training output must equal the inference output of the same layer with some combination of
//! masks applied to its weights by hand (x ⊙ m_g)·W_g = x·(diag(m_g)·W_g), and likewise for
//! the state and U_g.

mod common;

use common::grad::{built_with_random_biases, check_training_gradients, uniform, Tol};
use ndarray::{s, Array2, ArrayD, Axis, Ix2};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rnnkit::layers::{Layer, Mask};
use rnnkit::prelude::*;
use rnnkit::Error;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The inference output of `layer` with its weights' gate blocks scaled: kernel gate g by
/// `input[g]`, recurrent kernel gate g by `state[g]` (for `features = units = 1` these are
/// exactly the masks diag(m_g) and diag(r_g)).
fn with_gate_scales<L: Layer + Clone>(
    layer: &L,
    x: &ArrayD<f32>,
    input: &[f32],
    state: &[f32],
) -> ArrayD<f32> {
    let mut scaled = layer.clone();
    for param in scaled.params_mut() {
        let scales = match param.name() {
            "kernel" => input,
            "recurrent_kernel" => state,
            _ => continue,
        };
        let mut value = param.value.view_mut().into_dimensionality::<Ix2>().expect("2-D weight");
        let units = value.ncols() / scales.len();
        for (g, &scale) in scales.iter().enumerate() {
            value.slice_mut(s![.., g * units..(g + 1) * units]).mapv_inplace(|w| w * scale);
        }
    }
    scaled.forward(x.view(), None, false).expect("inference")
}

/// Every combination of `count` values each `0` or `kept`.
fn combinations(count: usize, kept: f32) -> Vec<Vec<f32>> {
    (0..1usize << count)
        .map(|bits| (0..count).map(|k| if bits >> k & 1 == 1 { kept } else { 0.0 }).collect())
        .collect()
}

/// For each sample, the index of the reference output it equals (within 1e-5), if any.
fn matches(training: &ArrayD<f32>, references: &[ArrayD<f32>]) -> Vec<Option<usize>> {
    training
        .axis_iter(Axis(0))
        .enumerate()
        .map(|(i, sample)| {
            references.iter().position(|reference| {
                let gap = sample
                    .iter()
                    .zip(reference.index_axis(Axis(0), i))
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                gap <= 1e-5
            })
        })
        .collect()
}

/// With `dropout` alone, each sample keeps or drops each input feature for every step, and all
/// gates share the mask: its training output is the inference output on x ⊙ m for one
/// m ∈ {0, 2}^features. About half the features are dropped, and inference uses no mask.
#[test]
fn input_dropout_is_one_mask_per_sample_shared_by_the_gates_and_steps() {
    check_one_input_mask("SimpleRnn", SimpleRnn::new(2).dropout(0.5), 1);
    check_one_input_mask("Lstm", Lstm::new(2).dropout(0.5), 4);
    check_one_input_mask("Gru", Gru::new(2).dropout(0.5), 3);
}

/// The check of the test above for one layer with `gates` gates.
fn check_one_input_mask<L: Layer + Clone>(what: &str, layer: L, gates: usize) {
    let (batch, steps, features) = (96, 6, 2);
    let x = uniform(&[batch, steps, features], -1.0, 1.0, 3);
    let mut layer = built_with_random_biases(layer, "rnn", &[steps, features], 11);
    let reference = layer.clone();
    let mut forward =
        |x: &ArrayD<f32>, training| layer.forward(x.view(), None, training).expect("forward");
    let inference = forward(&x, false);
    assert_eq!(inference, with_gate_scales(&reference, &x, &vec![1.0; gates], &vec![1.0; gates]));
    let training = forward(&x, true);
    let masks = combinations(features, 2.0);
    let references: Vec<ArrayD<f32>> = masks
        .iter()
        .map(|m| {
            let mut dropped = x.clone();
            for (f, &keep) in m.iter().enumerate() {
                dropped.slice_mut(s![.., .., f]).mapv_inplace(|v| v * keep);
            }
            forward(&dropped, false)
        })
        .collect();
    let found = matches(&training, &references);
    let mut dropped = 0;
    let mut seen = vec![false; masks.len()];
    for (i, index) in found.iter().enumerate() {
        let index = index
            .unwrap_or_else(|| panic!("{what}: sample {i} matches no mask kept for every step"));
        seen[index] = true;
        dropped += masks[index].iter().filter(|&&m| m == 0.0).count();
    }
    let fraction = dropped as f64 / (batch * features) as f64;
    assert!((0.35..=0.65).contains(&fraction), "{what}: dropped {fraction} of features");
    assert!(seen.iter().all(|&s| s), "{what}: some mask never drawn in {batch} samples");
    // The same layer in inference mode is unchanged by the training passes.
    assert_eq!(forward(&x, false), inference, "{what}: inference depends on dropout");
}

/// With `recurrent_dropout` too, every gate has its own input and state masks (Keras 3's
/// `implementation = 1`): for one feature and one unit, each sample's training output is the
/// inference output with some kernel gate scaled by m_g ∈ {0, 1/(1 − 0.3)} and recurrent gate
/// by r_g ∈ {0, 1/(1 − 0.5)}, the same for every step; and the gates' masks do differ.
#[test]
fn recurrent_dropout_draws_a_mask_per_gate_for_the_input_and_the_state() {
    check_masks_per_gate("SimpleRnn", SimpleRnn::new(1).dropout(0.3).recurrent_dropout(0.5), 1);
    check_masks_per_gate("Lstm", Lstm::new(1).dropout(0.3).recurrent_dropout(0.5), 4);
    check_masks_per_gate("Gru", Gru::new(1).dropout(0.3).recurrent_dropout(0.5), 3);
}

/// The check of the test above for one layer with `gates` gates.
fn check_masks_per_gate<L: Layer + Clone>(what: &str, layer: L, gates: usize) {
    let (batch, steps) = (64, 6);
    let x = uniform(&[batch, steps, 1], -1.5, 1.5, 5);
    let mut layer = built_with_random_biases(layer, "rnn", &[steps, 1], 21);
    let reference = layer.clone();
    let training = layer.forward(x.view(), None, true).expect("forward");
    let (inputs, states) = (combinations(gates, 1.0 / 0.7), combinations(gates, 2.0));
    let pairs: Vec<(&Vec<f32>, &Vec<f32>)> =
        inputs.iter().flat_map(|m| states.iter().map(move |r| (m, r))).collect();
    let references: Vec<ArrayD<f32>> =
        pairs.iter().map(|(m, r)| with_gate_scales(&reference, &x, m, r)).collect();
    let found = matches(&training, &references);
    let mut gates_differ = false;
    for (i, index) in found.iter().enumerate() {
        let (m, r) = pairs[index.unwrap_or_else(|| {
            panic!("{what}: sample {i} matches no per-gate masks kept for every step")
        })];
        gates_differ |= m.iter().any(|&v| v != m[0]) || r.iter().any(|&v| v != r[0]);
    }
    assert!(gates > 1 && gates_differ || gates == 1, "{what}: the gates share one mask");
}

/// Gradients through the masks match central differences of the training-mode output, for the
/// input and every weight, with both kinds of dropout, reading forwards and backwards, with a
/// padding mask and with return_sequences, over two chunks of samples.
#[test]
fn gradients_through_dropout_match_finite_differences() {
    // Two chunks of samples (10 > 8), and features ≠ units so that a mask applied along the
    // wrong axis shows.
    let (batch, steps, features) = (10, 4, 2);
    let x = uniform(&[batch, steps, features], -1.0, 1.0, 8);
    let mut padding = Array2::from_elem((batch, steps), true);
    padding.slice_mut(s![1, ..2]).fill(false);
    padding.slice_mut(s![3, ..1]).fill(false);
    padding.slice_mut(s![9, ..3]).fill(false);
    let cases: [(f32, f32, bool, Option<&Mask>); 4] = [
        (0.4, 0.0, false, None),
        (0.0, 0.4, false, None),
        (0.3, 0.3, true, Some(&padding)),
        (0.3, 0.3, false, Some(&padding)),
    ];
    for (case, &(input, state, backwards, mask)) in cases.iter().enumerate() {
        let sequences = case % 2 == 1;
        macro_rules! configured {
            ($layer:ident) => {
                $layer::new(3)
                    .dropout(input)
                    .recurrent_dropout(state)
                    .go_backwards(backwards)
                    .return_sequences(sequences)
            };
        }
        let results = [
            (
                "SimpleRnn",
                check(
                    built_with_random_biases(configured!(SimpleRnn), "rnn", &[steps, features], 31),
                    &x,
                    mask,
                ),
            ),
            (
                "Lstm",
                check(
                    built_with_random_biases(configured!(Lstm), "rnn", &[steps, features], 32),
                    &x,
                    mask,
                ),
            ),
            (
                "Gru",
                check(
                    built_with_random_biases(configured!(Gru), "rnn", &[steps, features], 33),
                    &x,
                    mask,
                ),
            ),
        ];
        for (what, (report, dropped)) in results {
            assert!(dropped, "{what}, case {case}: the masks changed nothing");
            eprintln!("{what}, case {case}: {report}");
        }
    }
}

type GradResult = (common::grad::GradReport, bool);

/// Checks `layer`'s training gradients and says whether its training output differs from its
/// inference output (whether the masks dropped anything).
fn check<L: Layer + Clone>(layer: L, x: &ArrayD<f32>, mask: Option<&Mask>) -> GradResult {
    let training = layer.clone().forward(x.view(), mask, true).expect("training forward");
    let inference = layer.clone().forward(x.view(), mask, false).expect("inference forward");
    let report = check_training_gradients(&layer, x.clone(), mask.cloned(), Tol::LAYER);
    (report, training != inference)
}

/// A rate outside [0, 1) is refused when the model is built, naming the option.
#[test]
fn rates_outside_zero_to_one_are_refused_at_build() {
    fn refused(layer: impl Layer + 'static, option: &str, rate: f32) {
        let mut model = Sequential::new();
        model.add(Embedding::new(10, 3).input_length(4));
        model.add(layer);
        match model.build(&[4]) {
            Err(error @ Error::InvalidArgument { .. }) => {
                let message = error.to_string();
                assert!(message.contains(option), "{message}");
                assert!(message.contains("[0, 1)"), "{message}");
            }
            other => panic!("rate {rate} for {option}: expected InvalidArgument, got {other:?}"),
        }
    }
    for rate in [1.0, -0.1, 1.5, f32::NAN] {
        refused(SimpleRnn::new(2).dropout(rate), "dropout", rate);
        refused(SimpleRnn::new(2).recurrent_dropout(rate), "recurrent_dropout", rate);
        refused(Lstm::new(2).dropout(rate), "dropout", rate);
        refused(Gru::new(2).recurrent_dropout(rate), "recurrent_dropout", rate);
    }
}

/// An explicit seed fixes the masks whatever the model's generator; without one they come from
/// the model's generator; dropout leaves the layer's own initial weights as they are.
#[test]
fn masks_follow_the_seed() -> TestResult {
    let x = uniform(&[16, 5, 3], -1.0, 1.0, 4);
    let train = |layer: Lstm, model_seed: u64| -> rnnkit::Result<(ArrayD<f32>, Vec<ArrayD<f32>>)> {
        let mut layer = layer;
        layer.build(&[5, 3], &mut StdRng::seed_from_u64(model_seed))?;
        let weights = layer.params().iter().map(|p| p.value.clone()).collect();
        Ok((layer.forward(x.view(), None, true)?, weights))
    };
    let seeded = || Lstm::new(4).dropout(0.5).recurrent_dropout(0.5).seed(9);
    let (a, weights_a) = train(seeded(), 1)?;
    let (mut b, _) = train(seeded(), 2)?;
    // Different model seeds give different weights; compare the masks through the weights of a.
    let mut rebuilt = seeded();
    rebuilt.build(&[5, 3], &mut StdRng::seed_from_u64(2))?;
    for (param, value) in rebuilt.params_mut().into_iter().zip(&weights_a) {
        param.value.assign(value);
    }
    b.assign(&rebuilt.forward(x.view(), None, true)?);
    assert_eq!(a, b, "the same explicit seed must draw the same masks");

    let (unseeded_1, weights_1) = train(Lstm::new(4).dropout(0.5), 1)?;
    let (unseeded_1_again, _) = train(Lstm::new(4).dropout(0.5), 1)?;
    let (plain, plain_weights) = train(Lstm::new(4), 1)?;
    assert_eq!(unseeded_1, unseeded_1_again, "the model's seed fixes the masks");
    assert_eq!(weights_1, plain_weights, "dropout must not change the layer's initial weights");
    assert_ne!(unseeded_1, plain, "training with dropout must differ from without");
    Ok(())
}

/// `fit` with recurrent dropout gives bit-identical weights for the same seed, whatever the
/// number of threads; `predict` and `evaluate` ignore the masks (two calls agree, and equal a
/// copy of the model without dropout).
#[test]
fn fit_with_recurrent_dropout_is_reproducible_and_inference_ignores_it() -> TestResult {
    let mut rng = StdRng::seed_from_u64(6);
    let ids: Array2<f32> =
        Array2::from_shape_fn((48, 12), |_| rand::Rng::gen_range(&mut rng, 1..30) as f32);
    let labels = ids.map_axis(Axis(1), |row| f32::from(row.sum() > 48.0 * 6.0 / 2.0 * 0.5));
    let model = |dropout: bool| -> rnnkit::Result<Sequential> {
        let mut model = Sequential::new().seed(3);
        model.add(Embedding::new(30, 4).input_length(12));
        let (input, state) = if dropout { (0.25, 0.25) } else { (0.0, 0.0) };
        model.add(Lstm::new(5).dropout(input).recurrent_dropout(state).return_sequences(true));
        model.add(Gru::new(4).dropout(input).recurrent_dropout(state));
        model.add(Dense::new(1).activation(Activation::Sigmoid));
        model.compile(RmsProp::new(0.01), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
        Ok(model)
    };
    let config =
        FitConfig { epochs: 2, batch_size: 8, seed: Some(1), verbose: 0, ..FitConfig::default() };
    let trained = |threads: usize| -> Result<Vec<Vec<u32>>, Box<dyn std::error::Error>> {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
        let mut m = model(true)?;
        pool.install(|| m.fit(&ids, &labels, &config))?;
        Ok(m.get_weights().iter().map(|w| w.iter().map(|v| v.to_bits()).collect()).collect())
    };
    let one = trained(1)?;
    assert_eq!(one, trained(3)?, "1 thread vs 3 threads");
    let mut without = model(false)?;
    without.fit(&ids, &labels, &config)?;
    let without_bits: Vec<Vec<u32>> =
        without.get_weights().iter().map(|w| w.iter().map(|v| v.to_bits()).collect()).collect();
    assert_ne!(one, without_bits, "training with dropout must differ from without");

    let mut with = model(true)?;
    with.fit(&ids, &labels, &config)?;
    let mut copy = model(false)?;
    copy.build(&[12])?;
    copy.set_weights(with.get_weights())?;
    let predicted = with.predict_batched(&ids, 16)?;
    assert_eq!(predicted, with.predict_batched(&ids, 16)?);
    assert_eq!(predicted, copy.predict_batched(&ids, 16)?);
    assert_eq!(
        with.evaluate_batched(&ids, &labels, 16)?,
        copy.evaluate_batched(&ids, &labels, 16)?
    );
    Ok(())
}
