//! The sentiment example's pipeline on the real IMDB archive, cut to a few reviews. The archive
//! is found as the example finds it (`RNNKIT_DATA`, set by `.cargo/config.toml` to
//! `../shared/data`, then the user cache, then a download); the test fails, saying where it
//! looked, when it cannot be found.

use rnnkit::datasets::imdb;
use rnnkit::prelude::*;
use sentiment::SentimentConfig;

// The example's pipeline; the test uses part of it.
#[allow(dead_code)]
#[path = "../examples/common/recurrent_kind.rs"]
mod recurrent_kind;
#[allow(dead_code)]
#[path = "../examples/sentiment/pipeline.rs"]
mod sentiment;

#[test]
fn training_on_real_reviews_lowers_the_loss() -> rnnkit::Result<()> {
    let config = SentimentConfig { limit: Some(1_500), ..SentimentConfig::default() };
    let data = sentiment::prepare(imdb::load(None)?, &config)?;
    assert_eq!(
        (data.x_train.nrows(), data.x_val.nrows(), data.x_test.nrows()),
        (1_200, 300, 1_500)
    );
    assert_eq!(data.x_train.ncols(), 500);
    // The shuffled sample holds both classes.
    let positives = data.y_train.sum();
    assert!(positives > 400.0 && positives < 800.0, "{positives} positives of 1200");

    let mut model = sentiment::lesson_model(&config)?;
    model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    let before = model.evaluate_batched(&data.x_train, &data.y_train, 64)?;
    let fit = FitConfig {
        epochs: 3,
        batch_size: 32,
        validation_data: Some((data.x_val.clone().into_dyn(), data.y_val.clone().into_dyn())),
        seed: Some(1),
        verbose: 0,
        ..FitConfig::default()
    };
    let history = model.fit(&data.x_train, &data.y_train, &fit)?;
    let losses = history.metric("loss").expect("loss is recorded");
    assert_eq!(losses.len(), 3);
    assert!(losses[2] < losses[0], "training loss did not fall: {losses:?}");
    let after = model.evaluate_batched(&data.x_train, &data.y_train, 64)?;
    assert!(after.loss < before.loss - 0.05, "loss {} → {}", before.loss, after.loss);
    assert!(history.metric("val_accuracy").is_some_and(|v| v.len() == 3));

    // New texts go through the same tokenizer and padding.
    let encoded = data.encode(&["a wonderful, moving film"])?;
    assert_eq!(encoded.shape(), &[1, 500]);
    assert!(encoded.iter().filter(|&&id| id != 0.0).count() >= 3);
    Ok(())
}
