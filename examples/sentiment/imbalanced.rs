//! `--imbalanced`: why class weights matter. Only a tenth of the positive training reviews are
//! kept, the model is trained on that skewed set without and then with Keras' `class_weight`,
//! and both are measured on the balanced test set by precision, recall and AUC.

use crate::pipeline::{self, SentimentConfig, SentimentData};
use ndarray::{Array1, Array2, Axis};
use rnnkit::metrics::Auc;
use rnnkit::prelude::*;
use std::collections::HashMap;

/// The share of positive training reviews kept.
const POSITIVES_KEPT: usize = 10;

/// The training reviews with every negative one and one positive review in
/// [`POSITIVES_KEPT`] (the data is already shuffled, so the kept ones are a random tenth).
fn skew(x: &Array2<f32>, y: &Array1<f32>) -> (Array2<f32>, Array1<f32>) {
    let mut positives = 0;
    let rows: Vec<usize> = (0..y.len())
        .filter(|&i| {
            if y[i] < 0.5 {
                return true;
            }
            positives += 1;
            positives % POSITIVES_KEPT == 1
        })
        .collect();
    (x.select(Axis(0), &rows), y.select(Axis(0), &rows))
}

/// Keras' recipe for balanced class weights: each class weighs total / (2 · its count), so
/// both classes weigh the same in the loss.
fn balanced_class_weight(y: &Array1<f32>) -> HashMap<usize, f32> {
    let total = y.len() as f32;
    let positives = y.iter().filter(|&&label| label >= 0.5).count() as f32;
    HashMap::from([(0, total / (2.0 * (total - positives))), (1, total / (2.0 * positives))])
}

/// Trains the lesson's model on the skewed set without and with class weights, and prints
/// the test precision, recall and AUC of both.
pub fn run(
    data: &SentimentData,
    config: &SentimentConfig,
    epochs: usize,
    batch_size: usize,
) -> rnnkit::Result<()> {
    let (x_train, y_train) = skew(&data.x_train, &data.y_train);
    let positives = y_train.iter().filter(|&&label| label >= 0.5).count();
    println!(
        "imbalanced training set: {} negative and {positives} positive reviews (1 positive \
         review in {POSITIVES_KEPT} kept); the test set stays balanced",
        y_train.len() - positives,
    );
    let class_weight = balanced_class_weight(&y_train);
    println!("class_weight: {{0: {:.3}, 1: {:.3}}}", class_weight[&0], class_weight[&1]);
    let metrics = [
        Metric::Accuracy,
        Metric::Precision { threshold: 0.5 },
        Metric::Recall { threshold: 0.5 },
        Metric::Auc(Auc::default()),
    ];
    let mut rows = Vec::new();
    for (label, weights) in
        [("without class_weight", None), ("with class_weight", Some(class_weight))]
    {
        println!("\ntraining {label}");
        let mut model = pipeline::lesson_model(config)?;
        model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &metrics)?;
        let fit_config = FitConfig {
            epochs,
            batch_size,
            validation_data: Some((data.x_val.clone().into_dyn(), data.y_val.clone().into_dyn())),
            seed: Some(config.seed),
            class_weight: weights,
            ..FitConfig::default()
        };
        model.fit(&x_train, &y_train, &fit_config)?;
        rows.push((label, model.evaluate(&data.x_test, &data.y_test, batch_size)?));
    }
    println!("\ntest set ({} reviews, half positive):", data.x_test.nrows());
    println!("{:<22} {:>9} {:>9} {:>9} {:>9}", "", "precision", "recall", "AUC", "accuracy");
    for (label, scores) in rows {
        let value = |name: &str| scores.metric(name).unwrap_or(f32::NAN);
        println!(
            "{label:<22} {:>9.4} {:>9.4} {:>9.4} {:>9.4}",
            value("precision"),
            value("recall"),
            value("auc"),
            value("accuracy")
        );
    }
    Ok(())
}
