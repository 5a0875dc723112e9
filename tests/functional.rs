//! The functional model: graphs of several inputs and outputs, shared layers, the errors of a
//! graph that does not connect, and training through the shared loops.

use ndarray::{Array2, Array3, ArrayD};
use rnnkit::prelude::*;
use rnnkit::Error;

fn ramp(shape: &[usize], scale: f32) -> ArrayD<f32> {
    let n: usize = shape.iter().product();
    ArrayD::from_shape_vec(
        shape.to_vec(),
        (0..n).map(|i| ((i * 7 % 11) as f32 - 5.0) * scale).collect(),
    )
    .unwrap()
}

#[test]
fn two_inputs_shared_dense_two_outputs_predict() -> rnnkit::Result<()> {
    let a = Input::new(&[3]);
    let b = Input::new(&[3]);
    let shared = SharedLayer::new(Dense::new(2).activation(Activation::Tanh));
    let ha = shared.call(&a)?;
    let hb = shared.call(&b)?;
    let mut model = Functional::new(&[&a, &b], &[&ha, &hb])?;
    let xa = ramp(&[4, 3], 0.1);
    let xb = ramp(&[4, 3], -0.2);
    let out = model.predict(&[xa.view(), xb.view()])?;
    assert_eq!(out.len(), 2);
    // The same layer on each input: its outputs are what the layer alone gives.
    let mut alone = Sequential::new();
    alone.add(Dense::new(2).activation(Activation::Tanh));
    alone.build(&[3])?;
    alone.set_weights(model.get_weights())?;
    assert_eq!(out[0], alone.predict(&xa)?);
    assert_eq!(out[1], alone.predict(&xb)?);
    assert_eq!(model.get_weights().len(), 2, "a shared layer's weights appear once");
    Ok(())
}

#[test]
fn graph_errors_are_reported() -> rnnkit::Result<()> {
    let a = Input::new(&[3]);
    let b = Input::new(&[3]);
    let c = Input::new(&[5]);
    let ha = Dense::new(2).call(&a)?;
    // An output that depends on an input not given.
    let err = Functional::new(&[&b], &[&ha]).unwrap_err();
    assert!(err.to_string().contains("graph disconnected"), "{err}");
    // An unused input.
    let err = Functional::new(&[&a, &b], &[&ha]).unwrap_err();
    assert!(err.to_string().contains("inputs[1]"), "{err}");
    // An input that is not an Input.
    let err = Functional::new(&[&ha], &[&ha]).unwrap_err();
    assert!(err.to_string().contains("Input::new"), "{err}");
    // A layer called again on an incompatible shape.
    let dense = SharedLayer::new(Dense::new(2));
    dense.with(|l| l.set_name("proj".into()));
    dense.call(&a)?;
    let err = (&dense).call(&c).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("proj") && text.contains("(None, 3)") && text.contains("(None, 5)"),
        "{text}"
    );
    // Wrong number and shape of arrays.
    let mut model = Functional::new(&[&a], &[&ha])?;
    let x = ramp(&[2, 3], 1.0);
    assert!(matches!(model.predict(&[x.view(), x.view()]), Err(Error::InvalidArgument { .. })));
    let bad = ramp(&[2, 4], 1.0);
    assert!(matches!(model.predict(&[bad.view()]), Err(Error::ShapeMismatch { .. })));
    model.compile(Sgd::new(0.1), Loss::MeanSquaredError, &[])?;
    let y = ramp(&[3, 2], 1.0);
    assert!(matches!(
        model.fit(&[x.view()], &[y.view()], &FitConfig { verbose: 0, ..FitConfig::default() }),
        Err(Error::LengthMismatch { .. })
    ));
    Ok(())
}

/// A `Dense(3)` on a 4-wide tensor, so the shared `Dense(4)` can read it again.
fn first_half(t: &SymbolicTensor) -> rnnkit::Result<SymbolicTensor> {
    Dense::new(3).activation(Activation::Tanh).call(t)
}

#[test]
fn fit_reduces_the_loss_of_two_outputs() -> rnnkit::Result<()> {
    let a = Input::new(&[6, 3]);
    let b = Input::new(&[3]);
    let shared = SharedLayer::new(Dense::new(4).activation(Activation::Tanh));
    let seq = TimeDistributed::new(Dense::new(4)).call(&a)?;
    let encoded = Lstm::new(5).call(&seq)?;
    let first = shared.call(&b)?;
    let hb = (&shared).call(&first_half(&first)?)?;
    let out1 = Dense::new(1).call(&encoded)?;
    let out2 = Dense::new(2).activation(Activation::Softmax).call(&hb)?;
    let mut model = Functional::new(&[&a, &b], &[&out1, &out2])?;
    model.compile(Adam::new(0.01), Loss::MeanSquaredError, &[Metric::MeanAbsoluteError])?;
    let xa = ramp(&[32, 6, 3], 0.1);
    let xb = ramp(&[32, 3], 0.2);
    let y1 = Array2::from_shape_fn((32, 1), |(i, _)| (i % 3) as f32 * 0.3).into_dyn();
    let y2 = Array2::from_shape_fn((32, 2), |(i, j)| ((i + j) % 2) as f32).into_dyn();
    let config = FitConfig { epochs: 20, batch_size: 8, verbose: 0, ..FitConfig::default() };
    let history = model.fit(&[xa.view(), xb.view()], &[y1.view(), y2.view()], &config)?;
    let losses = history.metric("loss").unwrap();
    assert!(losses[losses.len() - 1] < losses[0] * 0.85, "{losses:?}");
    let names = model.output_names();
    for key in [format!("{}_loss", names[0]), format!("{}_mean_absolute_error", names[1])] {
        assert!(
            history.metric(&key).is_some(),
            "{key} not in {:?}",
            history.keys().collect::<Vec<_>>()
        );
    }
    let scores = model.evaluate(&[xa.view(), xb.view()], &[y1.view(), y2.view()])?;
    let each: f32 = names.iter().map(|n| scores.metric(&format!("{n}_loss")).unwrap()).sum();
    assert!((scores.loss - each).abs() < 1e-5 * each.abs().max(1.0));
    let _ = Array3::<f32>::zeros((1, 1, 1));
    Ok(())
}

#[test]
fn fit_matches_sequential_bit_for_bit() -> rnnkit::Result<()> {
    let mut sequential = Sequential::new();
    sequential.add(Embedding::new(20, 6));
    sequential.add(Lstm::new(5));
    sequential.add(Dense::new(3).activation(Activation::Softmax));
    sequential.build(&[7])?;
    let ids = Input::new(&[7]);
    let h = Embedding::new(20, 6).call(&ids)?;
    let h = Lstm::new(5).call(&h)?;
    let out = Dense::new(3).activation(Activation::Softmax).call(&h)?;
    let mut functional = Functional::new(&[&ids], &[&out])?;
    functional.set_weights(sequential.get_weights())?;
    let x = Array2::from_shape_fn((24, 7), |(i, j)| ((i * 3 + j * 5) % 20) as f32).into_dyn();
    let y = Array2::from_shape_fn((24, 1), |(i, _)| (i % 3) as f32).into_dyn();
    let config =
        FitConfig { epochs: 2, batch_size: 5, seed: Some(9), verbose: 0, ..FitConfig::default() };
    sequential.compile(
        Adam::new(0.01),
        Loss::SparseCategoricalCrossentropy,
        &[Metric::Accuracy],
    )?;
    functional.compile(
        Adam::new(0.01),
        Loss::SparseCategoricalCrossentropy,
        &[Metric::Accuracy],
    )?;
    let hs = sequential.fit(&x, &y, &config)?;
    let hf = functional.fit(&[x.view()], &[y.view()], &config)?;
    assert_eq!(sequential.get_weights(), functional.get_weights());
    assert_eq!(hs.metric("loss"), hf.metric("loss"));
    assert_eq!(hs.metric("accuracy"), hf.metric("accuracy"));
    Ok(())
}
