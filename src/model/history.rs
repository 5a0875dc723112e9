//! `History` (per-epoch values of `fit`) and `Scores` (the result of `evaluate`).

use std::fmt;

/// The per-epoch loss and metrics that `fit` recorded, as Keras' `History.history`: keys
/// `loss`, each metric's name (`accuracy`) and, with validation data, `val_loss`,
/// `val_accuracy`.
///
/// It also records why training stopped: [`History::stop_reason`]. [`History::save_csv`]
/// writes the values and [`History::plot_svg`] draws them.
///
/// # Examples
/// ```
/// use ndarray::{Array1, Array2};
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(Dense::new(1).activation(Activation::Sigmoid));
/// model.compile(Sgd::new(0.1), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
/// let x = Array2::from_shape_fn((20, 3), |(i, j)| ((i + j) % 3) as f32);
/// let y = Array1::from_shape_fn(20, |i| (i % 2) as f32);
/// let config = FitConfig { epochs: 2, validation_split: 0.25, verbose: 0, ..FitConfig::default() };
/// let history = model.fit(&x, &y, &config)?;
/// assert_eq!(history.keys().collect::<Vec<_>>(), ["loss", "accuracy", "val_loss", "val_accuracy"]);
/// assert_eq!(history.metric("val_loss").map(<[f32]>::len), Some(2));
/// assert!(history.to_csv().starts_with("epoch,loss,accuracy,val_loss,val_accuracy\n1,"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    series: Vec<(String, Vec<f32>)>,
    stop_reason: StopReason,
}

/// Why `fit` stopped training.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub enum StopReason {
    /// Every requested epoch ran.
    #[default]
    Completed,
    /// [`EarlyStopping`](crate::callbacks::EarlyStopping) stopped after `epoch` (from 1): the
    /// monitored value had not improved since `best_epoch`.
    EarlyStopping {
        /// The last epoch that ran.
        epoch: usize,
        /// The monitored value (`val_loss`).
        monitor: String,
        /// The epoch with the best monitored value.
        best_epoch: usize,
    },
    /// [`TerminateOnNaN`](crate::callbacks::TerminateOnNaN) stopped at this batch, whose loss
    /// (the running mean of the epoch, as Keras reports it) was NaN or infinite.
    NonFiniteLoss {
        /// The epoch, from 1.
        epoch: usize,
        /// The batch within the epoch, from 1.
        batch: usize,
        /// The loss value.
        loss: f32,
    },
    /// Another callback asked to stop.
    Requested {
        /// The epoch, from 1.
        epoch: usize,
        /// What the callback says.
        reason: String,
    },
}

impl fmt::Display for StopReason {
    /// `completed`, `early stopping at epoch 4 (val_loss best at epoch 2)`, `loss NaN at epoch 2,
    /// batch 17`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::Completed => write!(f, "completed"),
            StopReason::EarlyStopping { epoch, monitor, best_epoch } => {
                write!(f, "early stopping at epoch {epoch} ({monitor} best at epoch {best_epoch})")
            }
            StopReason::NonFiniteLoss { epoch, batch, loss } => {
                write!(f, "loss {loss} at epoch {epoch}, batch {batch}")
            }
            StopReason::Requested { epoch, reason } => {
                write!(f, "stopped at epoch {epoch}: {reason}")
            }
        }
    }
}

impl History {
    /// Why training stopped: [`StopReason::Completed`] unless a callback stopped it.
    pub fn stop_reason(&self) -> &StopReason {
        &self.stop_reason
    }

    /// Records why training stopped.
    pub(crate) fn set_stop_reason(&mut self, reason: StopReason) {
        self.stop_reason = reason;
    }

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

    /// Appends one epoch's logs (its training and validation values, and what callbacks
    /// added, such as `learning_rate`).
    pub(crate) fn push_logs(&mut self, logs: &crate::callbacks::Logs) {
        for (key, value) in logs.iter() {
            match self.series.iter_mut().find(|(k, _)| k == key) {
                Some((_, values)) => values.push(value),
                None => self.series.push((key.to_string(), vec![value])),
            }
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
