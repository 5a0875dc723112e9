//! Keras' `CosineDecay`, with its optional linear warmup.

use super::{check_decay_steps, check_finite, LearningRateSchedule};
use crate::Result;
use std::f32::consts::PI;

/// Cosine decay from the initial rate (or from `warmup_target` after a linear warmup) to
/// `alpha` times it over `decay_steps` (`keras.optimizers.schedules.CosineDecay`):
///
/// without warmup, s = min(step, decay_steps) and
/// lr(s) = lr₀·((1 − α)·½(1 + cos(π·s/decay_steps)) + α);
/// with a warmup target T over W steps, s = min(step, decay_steps + W), the rate rises
/// linearly from lr₀ at step 0 to T at step W, then decays from T as above over s − W.
///
/// # Examples
/// ```
/// use rnnkit::optimizers::schedules::{CosineDecay, LearningRateSchedule};
/// let schedule = CosineDecay::new(0.0, 100).warmup_target(0.1).warmup_steps(10);
/// assert_eq!(schedule.learning_rate(5), 0.05);
/// assert_eq!(schedule.learning_rate(10), 0.1);
/// assert!(schedule.learning_rate(110) < 1e-9);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CosineDecay {
    initial_learning_rate: f32,
    decay_steps: u64,
    alpha: f32,
    warmup_target: Option<f32>,
    warmup_steps: u64,
}

impl CosineDecay {
    /// Decays `initial_learning_rate` over `decay_steps`.
    pub fn new(initial_learning_rate: f32, decay_steps: u64) -> Self {
        CosineDecay {
            initial_learning_rate,
            decay_steps,
            alpha: 0.0,
            warmup_target: None,
            warmup_steps: 0,
        }
    }

    /// The final rate as a fraction of the rate decayed from. Default: 0.
    pub fn alpha(mut self, alpha: f32) -> Self {
        self.alpha = alpha;
        self
    }

    /// The rate reached at the end of the warmup, from which the decay starts. Default: none
    /// (no warmup; `warmup_steps` is then ignored, as in Keras).
    pub fn warmup_target(mut self, warmup_target: f32) -> Self {
        self.warmup_target = Some(warmup_target);
        self
    }

    /// The warmup's length in steps. Default: 0.
    pub fn warmup_steps(mut self, warmup_steps: u64) -> Self {
        self.warmup_steps = warmup_steps;
        self
    }

    fn decay(&self, step: f32, from: f32) -> f32 {
        let completed = step / self.decay_steps as f32;
        let cosine = 0.5 * (1.0 + (PI * completed).cos());
        from * ((1.0 - self.alpha) * cosine + self.alpha)
    }
}

impl LearningRateSchedule for CosineDecay {
    fn get_config(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({
            "class_name": "CosineDecay",
            "config": {
                "initial_learning_rate": crate::saving::f32_value(self.initial_learning_rate),
                "decay_steps": self.decay_steps,
                "alpha": crate::saving::f32_value(self.alpha),
                "warmup_target": self.warmup_target.map(crate::saving::f32_value),
                "warmup_steps": self.warmup_steps
            }
        }))
    }

    fn learning_rate(&self, step: u64) -> f32 {
        let decay_steps = self.decay_steps as f32;
        let step = step as f32;
        let Some(target) = self.warmup_target else {
            return self.decay(step.min(decay_steps), self.initial_learning_rate);
        };
        let warmup_steps = self.warmup_steps as f32;
        let step = step.min(decay_steps + warmup_steps);
        if step < warmup_steps {
            (target - self.initial_learning_rate) * (step / warmup_steps)
                + self.initial_learning_rate
        } else {
            self.decay(step - warmup_steps, target)
        }
    }

    fn validate(&self) -> Result<()> {
        check_finite("initial_learning_rate", self.initial_learning_rate)?;
        check_finite("alpha", self.alpha)?;
        if let Some(target) = self.warmup_target {
            check_finite("warmup_target", target)?;
        }
        check_decay_steps(self.decay_steps)
    }
}
