//! Keras' `PiecewiseConstantDecay`.

use super::{check_finite, LearningRateSchedule};
use crate::{Error, Result};

/// `values[0]` up to and including step `boundaries[0]`, `values[i]` for steps in
/// (`boundaries[i−1]`, `boundaries[i]`], and the last value after the last boundary
/// (`keras.optimizers.schedules.PiecewiseConstantDecay`).
///
/// # Examples
/// ```
/// use rnnkit::optimizers::schedules::{LearningRateSchedule, PiecewiseConstantDecay};
/// let schedule = PiecewiseConstantDecay::new(vec![100, 110], vec![1.0, 0.5, 0.1]);
/// assert_eq!(schedule.learning_rate(100), 1.0);
/// assert_eq!(schedule.learning_rate(101), 0.5);
/// assert_eq!(schedule.learning_rate(111), 0.1);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PiecewiseConstantDecay {
    boundaries: Vec<u64>,
    values: Vec<f32>,
}

impl PiecewiseConstantDecay {
    /// The rates `values` (one more than `boundaries`, which increase) between the steps
    /// `boundaries`.
    pub fn new(boundaries: Vec<u64>, values: Vec<f32>) -> Self {
        PiecewiseConstantDecay { boundaries, values }
    }
}

impl LearningRateSchedule for PiecewiseConstantDecay {
    fn get_config(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({
            "class_name": "PiecewiseConstantDecay",
            "config": {
                "boundaries": self.boundaries,
                "values": self.values.iter().map(|&v| crate::saving::f32_value(v)).collect::<Vec<_>>()
            }
        }))
    }

    fn learning_rate(&self, step: u64) -> f32 {
        let interval = self.boundaries.iter().take_while(|&&b| step > b).count();
        self.values.get(interval).or(self.values.last()).copied().unwrap_or(0.0)
    }

    fn validate(&self) -> Result<()> {
        if self.values.len() != self.boundaries.len() + 1 || self.boundaries.is_empty() {
            return Err(Error::invalid(
                "values",
                format!(
                    "one more value than boundaries (at least one boundary); got {} boundaries",
                    self.boundaries.len()
                ),
                format!("{} values", self.values.len()),
            ));
        }
        if self.boundaries.windows(2).any(|pair| pair[0] >= pair[1]) {
            return Err(Error::invalid(
                "boundaries",
                "strictly increasing steps",
                format!("{:?}", self.boundaries),
            ));
        }
        self.values.iter().try_for_each(|&v| check_finite("values", v))
    }
}
