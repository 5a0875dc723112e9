//! `predict(&x)` and `evaluate(&x, &y)` use Keras' default batch size, 32.

use ndarray::{Array1, Array2};
use rnnkit::prelude::*;

fn model() -> rnnkit::Result<Sequential> {
    let mut model = Sequential::new().seed(3);
    model.add(Embedding::new(20, 4).input_length(6));
    model.add(SimpleRnn::new(5));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(Adam::new(0.01), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    Ok(model)
}

#[test]
fn predict_and_evaluate_default_to_batches_of_32() -> rnnkit::Result<()> {
    let mut model = model()?;
    // 70 samples: two full batches of 32 and one of 6.
    let x = Array2::from_shape_fn((70, 6), |(i, j)| ((i * 7 + j * 3) % 20) as f32);
    let y = Array1::from_shape_fn(70, |i| (i % 2) as f32);
    let bits = |a: &ndarray::ArrayD<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&model.predict(&x)?), bits(&model.predict_batched(&x, 32)?));
    let default = model.evaluate(&x, &y)?;
    let batched = model.evaluate_batched(&x, &y, 32)?;
    assert_eq!(default.loss.to_bits(), batched.loss.to_bits());
    assert_eq!(default, batched);
    Ok(())
}

#[test]
fn a_zero_batch_size_is_an_error() -> rnnkit::Result<()> {
    let mut model = model()?;
    let x = Array2::<f32>::zeros((3, 6));
    let message = model.predict_batched(&x, 0).unwrap_err().to_string();
    assert!(message.contains("batch_size"), "{message}");
    let message = model.evaluate_batched(&x, &Array1::<f32>::zeros(3), 0).unwrap_err().to_string();
    assert!(message.contains("batch_size"), "{message}");
    Ok(())
}
