//! Learning-rate schedules as Keras 3's `keras.optimizers.schedules`; an optimizer takes one
//! as its [`LearningRate`](super::LearningRate).
//!
//! A schedule maps the optimizer's step (the number of updates already applied: the first
//! update uses step 0, as Keras) to a learning rate, computed in `f32` with Keras' formulas.
//!
//! # Examples
//! ```
//! use rnnkit::optimizers::schedules::{ExponentialDecay, LearningRateSchedule};
//! let schedule = ExponentialDecay::new(0.1, 10, 0.5).staircase(true);
//! assert_eq!(schedule.learning_rate(0), 0.1);
//! assert_eq!(schedule.learning_rate(9), 0.1);
//! assert_eq!(schedule.learning_rate(10), 0.05);
//! ```

mod cosine_decay;
mod exponential_decay;
mod inverse_time_decay;
mod piecewise_constant_decay;

pub use cosine_decay::CosineDecay;
pub use exponential_decay::ExponentialDecay;
pub use inverse_time_decay::InverseTimeDecay;
pub use piecewise_constant_decay::PiecewiseConstantDecay;

use crate::{Error, Result};
use std::fmt::Debug;

/// A learning rate that depends on the optimizer's step, as Keras'
/// `LearningRateSchedule.__call__(step)`.
pub trait LearningRateSchedule: Debug + Send + Sync {
    /// The learning rate for the update that follows `step` updates (0 for the first).
    fn learning_rate(&self, step: u64) -> f32;

    /// The schedule as Keras serialises it, `{"class_name": .., "config": {..}}`, for a saved
    /// model's optimizer; `None` (the default) for a schedule that cannot be rebuilt from a
    /// file.
    fn get_config(&self) -> Option<serde_json::Value> {
        None
    }

    /// Checks the schedule's arguments, as Keras' constructors do.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the first argument out of its domain.
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// Checks that a schedule's `decay_steps` is positive.
fn check_decay_steps(decay_steps: u64) -> Result<()> {
    if decay_steps > 0 {
        Ok(())
    } else {
        Err(Error::invalid("decay_steps", "an integer > 0", decay_steps))
    }
}

/// Checks a schedule's rate or factor: finite.
fn check_finite(name: &str, value: f32) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(name, "a finite number", value))
    }
}
