//! What `EarlyStopping` and `ModelCheckpoint` share: a monitored value and what counts as an
//! improvement (Keras' `MonitorCallback`, `keras/src/callbacks/monitor_callback.py`).

use crate::{Error, Result};

/// Whether a monitored value should go down or up, as Keras' `mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Inferred from the name: up for accuracies (names containing `acc`), down otherwise
    /// (losses).
    #[default]
    Auto,
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

/// A monitored name, its direction and the smallest change that counts.
#[derive(Clone, Debug)]
pub(super) struct Monitor {
    pub(super) name: String,
    pub(super) mode: Mode,
    /// Used as its absolute value, as Keras does.
    pub(super) min_delta: f32,
}

impl Monitor {
    pub(super) fn new(name: &str) -> Self {
        Monitor { name: name.to_string(), mode: Mode::Auto, min_delta: 0.0 }
    }

    /// Whether higher values are better.
    pub(super) fn maximize(&self) -> bool {
        match self.mode {
            Mode::Min => false,
            Mode::Max => true,
            // Keras 3 asks the metric for its direction: the accuracies, precision, recall
            // and AUC go up (also when numbered, `auc_1`); losses and errors go down.
            Mode::Auto => {
                let name = self.name.strip_prefix("val_").unwrap_or(&self.name);
                let unnumbered = name.trim_end_matches(|c: char| c.is_ascii_digit());
                let base = unnumbered.strip_suffix('_').unwrap_or(name);
                name.contains("acc") || ["precision", "recall", "auc"].contains(&base)
            }
        }
    }

    /// Keras' `_is_improvement`: any value improves on none; otherwise `current` must beat
    /// `reference` by more than `min_delta` (computed in `f64`, as Python does). A NaN never
    /// improves on a number.
    pub(super) fn is_improvement(&self, current: f32, reference: Option<f32>) -> bool {
        let Some(reference) = reference else { return true };
        let (current, reference) = (f64::from(current), f64::from(reference));
        let delta = f64::from(self.min_delta.abs());
        if self.maximize() {
            current - delta > reference
        } else {
            current + delta < reference
        }
    }

    /// Checks, before training, that the monitored name will be in the logs and that
    /// `min_delta` is a number.
    ///
    /// Keras only warns at each epoch when the name is missing and then never acts; rnnkit
    /// refuses to start, so that a misspelt name cannot silently disable the callback.
    pub(super) fn check(&self, callback: &str, keys: &[String]) -> Result<()> {
        if !self.min_delta.is_finite() {
            return Err(Error::invalid(
                format!("{callback} min_delta"),
                "a finite number",
                self.min_delta,
            ));
        }
        if !keys.contains(&self.name) {
            let hint = if self.name.starts_with("val_") {
                " (validation values need `validation_split` or `validation_data` in FitConfig)"
            } else {
                ""
            };
            return Err(Error::invalid(
                format!("{callback} monitor"),
                format!("one of the values fit records: {}{hint}", keys.join(", ")),
                format!("'{}'", self.name),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_mode_follows_the_name() {
        assert!(!Monitor::new("val_loss").maximize());
        assert!(Monitor::new("val_accuracy").maximize());
        assert!(Monitor::new("acc").maximize());
        assert!(Monitor::new("val_auc").maximize());
        assert!(Monitor::new("precision_1").maximize());
        assert!(!Monitor::new("val_mean_absolute_error").maximize());
        let mut forced = Monitor::new("val_accuracy");
        forced.mode = Mode::Min;
        assert!(!forced.maximize());
    }

    #[test]
    fn min_delta_is_a_margin_in_the_monitored_direction() {
        let mut loss = Monitor::new("loss");
        loss.min_delta = -0.25; // sign ignored, as Keras
        assert!(loss.is_improvement(0.5, None));
        assert!(loss.is_improvement(0.5, Some(1.0)));
        assert!(!loss.is_improvement(0.75, Some(1.0))); // 0.75 + 0.25 is not < 1.0
        assert!(!loss.is_improvement(f32::NAN, Some(1.0)));
        let mut accuracy = Monitor::new("val_accuracy");
        accuracy.min_delta = 0.25;
        assert!(accuracy.is_improvement(0.875, Some(0.5)));
        assert!(!accuracy.is_improvement(0.75, Some(0.5)));
    }
}
