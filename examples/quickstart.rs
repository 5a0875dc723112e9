//! The README's first program: the lesson's model, summarised, trained for two epochs on random
//! ids and labels, evaluated and used for prediction.
//!
//! Run with `cargo run --release --example quickstart`.

use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rnnkit::prelude::*;

fn main() -> rnnkit::Result<()> {
    let mut model = Sequential::new();
    model.add(Embedding::new(10_000, 32).input_length(500));
    model.add(SimpleRnn::new(32).return_sequences(false));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    let summary = model.summary()?;
    println!("{summary}");
    assert_eq!(summary.total_params(), 322_113);

    model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    let mut rng = StdRng::seed_from_u64(42);
    let x: Array2<f32> = Array2::from_shape_fn((256, 500), |_| rng.gen_range(0..10_000) as f32);
    let y: Array1<f32> = Array1::from_shape_fn(256, |_| rng.gen_range(0..2) as f32);
    let config =
        FitConfig { epochs: 2, batch_size: 32, validation_split: 0.2, ..FitConfig::default() };
    let history = model.fit(&x, &y, &config)?;
    println!("{:?}", history.metric("val_accuracy"));
    let scores = model.evaluate(&x, &y)?;
    println!(
        "loss = {}, accuracy = {}",
        scores.loss,
        scores.metric("accuracy").unwrap_or(f32::NAN)
    );
    let probabilities = model.predict(&x)?;
    assert_eq!(probabilities.shape(), &[256, 1]);
    Ok(())
}
