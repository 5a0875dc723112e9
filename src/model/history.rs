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

    /// The history as CSV: a header `epoch,loss,accuracy,val_loss,...` and one row per epoch
    /// (epochs counted from 1).
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("epoch");
        for (key, _) in &self.series {
            csv.push(',');
            csv.push_str(key);
        }
        csv.push('\n');
        for epoch in 0..self.epochs() {
            csv.push_str(&(epoch + 1).to_string());
            for (_, values) in &self.series {
                csv.push(',');
                if let Some(value) = values.get(epoch) {
                    csv.push_str(&value.to_string());
                }
            }
            csv.push('\n');
        }
        csv
    }

    /// Writes [`History::to_csv`] to `path`, atomically (a temporary file, synced, then renamed).
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) naming the file when it cannot be written.
    pub fn save_csv(&self, path: impl AsRef<std::path::Path>) -> crate::Result<()> {
        crate::atomic_write::write_atomic(path.as_ref(), self.to_csv().as_bytes())
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
