//! `Dropout`: inverted dropout in training, the identity in inference, reproducible masks, the
//! gradient through the same mask (checked by finite differences), rate validation, and masks
//! passing through.

mod common;

use common::grad::{uniform, Tol};
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rnnkit::layers::Layer;
use rnnkit::prelude::*;
use rnnkit::Error;

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn built(rate: f32, shape: &[usize], seed: u64) -> rnnkit::Result<Dropout> {
    let mut layer = Dropout::new(rate);
    layer.set_name("dropout".into());
    layer.build(shape, &mut StdRng::seed_from_u64(seed))?;
    Ok(layer)
}

#[test]
fn training_drops_about_rate_and_scales_the_rest() -> TestResult {
    let rate = 0.3f32;
    let mut layer = built(rate, &[100, 100], 1)?;
    let input = uniform(&[10, 100, 100], 0.5, 1.5, 2);
    let output = layer.forward(input.view(), None, true)?;
    let mut dropped = 0usize;
    for (&x, &y) in input.iter().zip(&output) {
        if y == 0.0 {
            dropped += 1;
        } else {
            // Kept values are divided by the keep probability, exactly.
            assert_eq!(y.to_bits(), (x / (1.0 - rate)).to_bits());
        }
    }
    // 100,000 Bernoulli(0.3) draws: standard deviation 0.00145; allow 5 of them.
    let fraction = dropped as f64 / input.len() as f64;
    assert!((fraction - 0.3).abs() < 0.0073, "dropped fraction {fraction}");
    // A second batch draws a different mask.
    let again = layer.forward(input.view(), None, true)?;
    assert_ne!(again, output);
    Ok(())
}

#[test]
fn inference_and_rate_zero_are_the_identity() -> TestResult {
    let input = uniform(&[4, 6, 3], -1.0, 1.0, 3);
    let mut layer = built(0.5, &[6, 3], 1)?;
    assert_eq!(layer.forward(input.view(), None, false)?, input);
    let mut none = built(0.0, &[6, 3], 1)?;
    assert_eq!(none.forward(input.view(), None, true)?, input);
    let grad = uniform(&[4, 6, 3], -1.0, 1.0, 4);
    assert_eq!(none.backward(grad.view(), true)?, Some(grad));
    Ok(())
}

/// L = Σ output ⊙ R with the mask frozen: the layer is cloned before each forward pass, so
/// every clone draws the same mask from the same generator state.
#[test]
fn gradient_matches_finite_differences_with_a_fixed_mask() -> TestResult {
    let tol = Tol::LAYER;
    let snapshot = built(0.4, &[5, 4], 7)?;
    let mut input = uniform(&[3, 5, 4], -1.0, 1.0, 8);
    let r = uniform(&[3, 5, 4], -1.0, 1.0, 9);
    let loss = |x: &ArrayD<f32>| -> rnnkit::Result<f64> {
        let out = snapshot.clone().forward(x.view(), None, true)?;
        Ok(out.iter().zip(&r).map(|(&o, &r)| f64::from(o) * f64::from(r)).sum())
    };

    let mut layer = snapshot.clone();
    let output = layer.forward(input.view(), None, true)?;
    let analytic = layer.backward(r.view(), true)?.expect("input gradient");
    assert!(layer.backward(r.view(), false)?.is_none());
    let dropped = output.iter().filter(|&&v| v == 0.0).count();
    assert!(dropped > 0 && dropped < output.len(), "the mask must drop some values, not all");

    for flat in 0..input.len() {
        let original = input.as_slice().unwrap()[flat];
        input.as_slice_mut().unwrap()[flat] = original + tol.eps;
        let up = loss(&input)?;
        input.as_slice_mut().unwrap()[flat] = original - tol.eps;
        let down = loss(&input)?;
        input.as_slice_mut().unwrap()[flat] = original;
        let step = f64::from(original + tol.eps) - f64::from(original - tol.eps);
        let numeric = (up - down) / step;
        let a = f64::from(analytic.as_slice().unwrap()[flat]);
        assert!(
            (a - numeric).abs() <= tol.atol + tol.rtol * numeric.abs(),
            "input[{flat}]: analytic {a}, numeric {numeric}"
        );
        // Dropped units get no gradient; kept ones get R / (1 − rate).
        if output.as_slice().unwrap()[flat] == 0.0 {
            assert_eq!(a, 0.0);
        } else {
            assert_eq!(a as f32, r.as_slice().unwrap()[flat] / 0.6);
        }
    }
    Ok(())
}

#[test]
fn rate_is_validated_at_build() {
    for rate in [1.0f32, 1.5, -0.1, f32::NAN] {
        let mut model = Sequential::new();
        model.add(Dense::new(4));
        model.add(Dropout::new(rate));
        let err = model.build(&[3]).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "rate {rate}: {err:?}");
        let message = err.to_string();
        assert!(message.contains("`rate`") && message.contains("[0, 1)"), "{message}");
    }
}

#[test]
fn backward_without_a_training_forward_is_an_error() -> TestResult {
    let mut layer = built(0.5, &[3], 1)?;
    let grad = ArrayD::<f32>::ones(IxDyn(&[2, 3]));
    assert!(matches!(layer.backward(grad.view(), true), Err(Error::NoForwardCache(_))));
    layer.forward(grad.view(), None, false)?;
    assert!(matches!(layer.backward(grad.view(), true), Err(Error::NoForwardCache(_))));
    let wrong = ArrayD::<f32>::ones(IxDyn(&[2, 4]));
    assert!(matches!(layer.forward(wrong.view(), None, true), Err(Error::ShapeMismatch { .. })));
    Ok(())
}

fn ids(samples: usize, seed: u64) -> (Array2<f32>, Array1<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    // Left-padded with zeros, as pad_sequences does.
    let x =
        Array2::from_shape_fn(
            (samples, 10),
            |(_, t)| {
                if t < 3 {
                    0.0
                } else {
                    rng.gen_range(1..40) as f32
                }
            },
        );
    let y = Array1::from_shape_fn(samples, |i| f32::from(u8::from(x[[i, 9]] < 20.0)));
    (x, y)
}

fn with_dropout(dropout: bool, seed: u64) -> rnnkit::Result<Sequential> {
    let mut model = Sequential::new().seed(seed);
    model.add(Embedding::new(40, 6).input_length(10).mask_zero(true));
    if dropout {
        model.add(Dropout::new(0.5));
    }
    model.add(SimpleRnn::new(5));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(Sgd::new(0.1), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    Ok(model)
}

#[test]
fn predict_and_evaluate_ignore_dropout_and_the_mask_passes_through() -> TestResult {
    let (x, y) = ids(24, 1);
    let mut dropped = with_dropout(true, 3)?;
    let mut plain = with_dropout(false, 3)?;
    plain.build(&[10])?;
    plain.set_weights(dropped.get_weights())?;
    // Bit-identical: Dropout is the identity in inference, and the Embedding's mask still
    // reaches the SimpleRnn (without it, the padded steps would change the state).
    let a = dropped.predict_batched(&x, 8)?;
    let b = plain.predict_batched(&x, 8)?;
    assert_eq!(a, b);
    assert_eq!(dropped.evaluate_batched(&x, &y, 8)?, plain.evaluate_batched(&x, &y, 8)?);
    let mut unmasked = Sequential::new();
    unmasked.add(Embedding::new(40, 6).input_length(10));
    unmasked.add(SimpleRnn::new(5));
    unmasked.add(Dense::new(1).activation(Activation::Sigmoid));
    unmasked.set_weights(dropped.get_weights())?;
    assert_ne!(unmasked.predict_batched(&x, 8)?, a, "the mask matters for this data");
    Ok(())
}

#[test]
fn training_with_dropout_is_reproducible_and_differs_from_without() -> TestResult {
    let (x, y) = ids(48, 2);
    let config = FitConfig { epochs: 2, batch_size: 8, verbose: 0, ..FitConfig::default() };
    let mut first = with_dropout(true, 5)?;
    let mut second = with_dropout(true, 5)?;
    let h1 = first.fit(&x, &y, &config)?;
    let h2 = second.fit(&x, &y, &config)?;
    assert_eq!(h1, h2);
    assert_eq!(first.get_weights(), second.get_weights());

    // Same initial weights without dropout: training takes another path.
    let mut plain = with_dropout(false, 5)?;
    plain.build(&[10])?;
    let mut reference = with_dropout(true, 5)?;
    plain.set_weights(reference.get_weights())?;
    let config_fixed = FitConfig { seed: Some(1), ..config.clone() };
    reference.fit(&x, &y, &config_fixed)?;
    plain.fit(&x, &y, &config_fixed)?;
    assert_ne!(plain.get_weights(), reference.get_weights());

    // An explicit seed fixes the mask whatever the model's seed.
    let input = uniform(&[2, 10, 6], -1.0, 1.0, 3);
    let mut seeded_a = Dropout::new(0.5).seed(42);
    let mut seeded_b = Dropout::new(0.5).seed(42);
    seeded_a.build(&[10, 6], &mut StdRng::seed_from_u64(1))?;
    seeded_b.build(&[10, 6], &mut StdRng::seed_from_u64(2))?;
    assert_eq!(
        seeded_a.forward(input.view(), None, true)?,
        seeded_b.forward(input.view(), None, true)?
    );
    Ok(())
}

#[test]
fn summary_lists_dropout_without_weights() -> TestResult {
    let mut model = with_dropout(true, 1)?;
    let summary = model.summary()?;
    let text = summary.to_string();
    assert!(text.contains("dropout (Dropout)"), "{text}");
    assert_eq!(summary.total_params(), 40 * 6 + (6 * 5 + 5 * 5 + 5) + 6);
    Ok(())
}
