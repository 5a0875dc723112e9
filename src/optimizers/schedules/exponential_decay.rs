//! Keras' `ExponentialDecay`.

use super::{check_decay_steps, check_finite, LearningRateSchedule};
use crate::Result;

/// lr · decay_rate^(step / decay_steps), with the exponent floored when `staircase`
/// (`keras.optimizers.schedules.ExponentialDecay`).
///
/// # Examples
/// ```
/// use rnnkit::optimizers::schedules::{ExponentialDecay, LearningRateSchedule};
/// let schedule = ExponentialDecay::new(0.1, 2, 0.5);
/// assert!((schedule.learning_rate(1) - 0.1 * 0.5f32.sqrt()).abs() < 1e-8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialDecay {
    initial_learning_rate: f32,
    decay_steps: u64,
    decay_rate: f32,
    staircase: bool,
}

impl ExponentialDecay {
    /// Decays `initial_learning_rate` by `decay_rate` every `decay_steps` steps.
    pub fn new(initial_learning_rate: f32, decay_steps: u64, decay_rate: f32) -> Self {
        ExponentialDecay { initial_learning_rate, decay_steps, decay_rate, staircase: false }
    }

    /// Whether the rate drops in steps (integer exponent). Default: false.
    pub fn staircase(mut self, staircase: bool) -> Self {
        self.staircase = staircase;
        self
    }
}

impl LearningRateSchedule for ExponentialDecay {
    fn get_config(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({
            "class_name": "ExponentialDecay",
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
        self.initial_learning_rate * self.decay_rate.powf(p)
    }

    fn validate(&self) -> Result<()> {
        check_finite("initial_learning_rate", self.initial_learning_rate)?;
        check_finite("decay_rate", self.decay_rate)?;
        check_decay_steps(self.decay_steps)
    }
}
