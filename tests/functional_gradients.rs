//! Gradients through a functional graph against central finite differences: two inputs, a
//! layer shared at three nodes, a tensor read by a node and also a model output, and three
//! outputs whose losses add up.

use ndarray::{ArrayD, IxDyn};
use rnnkit::prelude::*;

/// A seeded uniform array in [-1, 1).
fn uniform(shape: &[usize], seed: u64) -> ArrayD<f32> {
    let mut state =
        seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        state =
            state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    })
}

fn model() -> rnnkit::Result<Functional> {
    let a = Input::new(&[5, 3]);
    let b = Input::new(&[5, 3]);
    let shared = SharedLayer::new(Dense::new(3).activation(Activation::Tanh));
    let ha = shared.call(&a)?;
    let hb = shared.call(&b)?;
    let h2 = shared.call(&ha)?; // `ha` is read here and is also an output
    let encoded = Lstm::new(4).call(&h2)?;
    let out1 = Dense::new(2).call(&encoded)?;
    let pooled = GlobalAveragePooling1D::new().call(&hb)?;
    let normed = LayerNormalization::new().call(&pooled)?;
    let out2 = Dense::new(1).activation(Activation::Sigmoid).call(&normed)?;
    Functional::new(&[&a, &b], &[&out1, &out2, &ha])
}

#[test]
fn weight_gradients_match_finite_differences() -> rnnkit::Result<()> {
    let mut model = model()?;
    // Biases away from their zero start, so every weight's gradient is exercised.
    let mut weights = model.get_weights();
    for (i, w) in weights.iter_mut().enumerate() {
        *w = uniform(w.shape(), 100 + i as u64) * 0.6;
    }
    model.set_weights(weights.clone())?;
    let samples = 4;
    let x = [uniform(&[samples, 5, 3], 1), uniform(&[samples, 5, 3], 2)];
    let y = [
        uniform(&[samples, 2], 3),
        uniform(&[samples, 1], 4).mapv(|v| v.abs()),
        uniform(&[samples, 5, 3], 5),
    ];
    let xv: Vec<_> = x.iter().map(|a| a.view()).collect();
    let yv: Vec<_> = y.iter().map(|a| a.view()).collect();
    model.compile(Sgd::new(1.0), Loss::MeanSquaredError, &[])?;

    // Analytic: one plain SGD step of learning rate 1, g = w_old - w_new.
    let before = model.evaluate_batched(&xv, &yv, samples)?.loss;
    let step = model.train_on_batch(&xv, &yv)?;
    assert!((step.loss - before).abs() < 1e-6, "{} vs {before}", step.loss);
    let after = model.get_weights();
    let analytic: Vec<ArrayD<f64>> = weights
        .iter()
        .zip(&after)
        .map(|(o, n)| {
            ndarray::Zip::from(o).and(n).map_collect(|&o, &n| f64::from(o) - f64::from(n))
        })
        .collect();

    // Numeric: central differences of evaluate's loss (the sum of the three outputs' losses).
    let eps = 1e-2f32;
    let (mut checked, mut worst) = (0, 0.0f64);
    for index in 0..weights.len() {
        for flat in 0..weights[index].len() {
            let mut perturbed = weights.clone();
            let value = weights[index].as_slice().unwrap()[flat];
            let mut loss_at = |v: f32| -> rnnkit::Result<f64> {
                perturbed[index].as_slice_mut().unwrap()[flat] = v;
                model.set_weights(perturbed.clone())?;
                Ok(f64::from(model.evaluate_batched(&xv, &yv, samples)?.loss))
            };
            let (up, down) = (value + eps, value - eps);
            let numeric = (loss_at(up)? - loss_at(down)?) / f64::from(up - down);
            let a = analytic[index].as_slice().unwrap()[flat];
            let error = (a - numeric).abs();
            assert!(
                error <= 1e-4 + 2e-2 * numeric.abs(),
                "weight {index} entry {flat}: analytic {a}, numeric {numeric}"
            );
            worst = worst.max(error);
            checked += 1;
        }
    }
    assert_eq!(checked, weights.iter().map(ArrayD::len).sum::<usize>());
    assert!(analytic.iter().all(|g| g.iter().any(|&v| v != 0.0)), "every weight takes a gradient");
    println!("{checked} gradient entries checked, worst absolute error {worst:.2e}");
    Ok(())
}
