//! Keras' `InverseTimeDecay`.

use super::{check_decay_steps, check_finite, LearningRateSchedule};
use crate::Result;

/// lr / (1 + decay_rate · step / decay_steps), with the ratio floored when `staircase`
/// (`keras.optimizers.schedules.InverseTimeDecay`).
///
/// # Examples
/// ```
/// use rnnkit::optimizers::schedules::{InverseTimeDecay, LearningRateSchedule};
/// let schedule = InverseTimeDecay::new(0.1, 5, 0.5);
/// assert_eq!(schedule.learning_rate(10), 0.05);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InverseTimeDecay {
    initial_learning_rate: f32,
    decay_steps: u64,
    decay_rate: f32,
    staircase: bool,
}

impl InverseTimeDecay {
    /// Decays `initial_learning_rate` as 1 / (1 + decay_rate · step / decay_steps).
    pub fn new(initial_learning_rate: f32, decay_steps: u64, decay_rate: f32) -> Self {
        InverseTimeDecay { initial_learning_rate, decay_steps, decay_rate, staircase: false }
    }

    /// Whether the rate drops in steps (floored ratio). Default: false.
    pub fn staircase(mut self, staircase: bool) -> Self {
        self.staircase = staircase;
        self
    }
}

impl LearningRateSchedule for InverseTimeDecay {
    fn get_config(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({
            "class_name": "InverseTimeDecay",
            "config": {
                "initial_learning_rate": crate::saving::f32_value(self.initial_learning_rate),
                "decay_steps": self.decay_steps,
                "decay_rate": crate::saving::f32_value(self.decay_rate),
                "staircase": self.staircase
            }
        }))
    }

    fn learning_rate(&self, step: u64) -> f32 {
        let mut p = step as f32 / self.decay_steps as f32;
        if self.staircase {
            p = p.floor();
        }
        self.initial_learning_rate / (1.0 + self.decay_rate * p)
    }

    fn validate(&self) -> Result<()> {
        check_finite("initial_learning_rate", self.initial_learning_rate)?;
        check_finite("decay_rate", self.decay_rate)?;
        check_decay_steps(self.decay_steps)
    }
}
