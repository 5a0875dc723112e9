//! `History` (per-epoch values of `fit`) and `Scores` (the result of `evaluate`).

use std::fmt;

/// The per-epoch loss and metrics that `fit` recorded, as Keras' `History.history`: keys
/// `loss`, each metric's name (`accuracy`) and, with validation data, `val_loss`,
/// `val_accuracy`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    series: Vec<(String, Vec<f32>)>,
}

impl History {
    /// The values of `name`, one per epoch, or `None` if it was not recorded.
    pub fn metric(&self, name: &str) -> Option<&[f32]> {
        self.series.iter().find(|(key, _)| key == name).map(|(_, values)| values.as_slice())
    }

    /// The recorded names, in the order Keras reports them (training values, then `val_`).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.series.iter().map(|(key, _)| key.as_str())
    }

    /// Number of completed epochs.
    pub fn epochs(&self) -> usize {
        self.series.first().map_or(0, |(_, values)| values.len())
    }

    /// Appends one epoch's scores under `prefix` (`""` or `"val_"`).
    pub(crate) fn push(&mut self, prefix: &str, scores: &Scores) {
        let mut record =
            |key: String, value: f32| match self.series.iter_mut().find(|(k, _)| *k == key) {
                Some((_, values)) => values.push(value),
                None => self.series.push((key, vec![value])),
            };
        record(format!("{prefix}loss"), scores.loss);
        for (name, value) in &scores.metrics {
            record(format!("{prefix}{name}"), *value);
        }
    }
}

/// Loss and metrics over a set of samples, as returned by `evaluate` and `train_on_batch`.
#[derive(Clone, Debug, PartialEq)]
pub struct Scores {
    /// The mean loss per sample.
    pub loss: f32,
    /// Each compiled metric's name and mean value.
    pub metrics: Vec<(String, f32)>,
}

impl Scores {
    /// The value of the metric `name` (`"accuracy"`), or `None` if it was not compiled.
    pub fn metric(&self, name: &str) -> Option<f32> {
        self.metrics.iter().find(|(key, _)| key == name).map(|(_, value)| *value)
    }
}

impl fmt::Display for Scores {
    /// `loss: 0.4123 - accuracy: 0.8125`, as Keras' progress bar prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "loss: {:.4}", self.loss)?;
        for (name, value) in &self.metrics {
            write!(f, " - {name}: {value:.4}")?;
        }
        Ok(())
    }
}
