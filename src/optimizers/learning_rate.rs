//! An optimizer's learning rate — a constant or a schedule — and the narrow interface through
//! which callbacks read and change it.

use super::schedules::{
    CosineDecay, ExponentialDecay, InverseTimeDecay, LearningRateSchedule, PiecewiseConstantDecay,
};
use super::Optimizer;
use crate::{Error, Result};
use std::sync::Arc;

/// An optimizer's learning rate: a constant, or a schedule evaluated at each step (Keras'
/// `learning_rate=` float or `LearningRateSchedule`).
///
/// Optimizers take `impl Into<LearningRate>`, so `0.001` and a schedule both work.
#[derive(Clone, Debug)]
pub enum LearningRate {
    /// The same rate at every step.
    Constant(f32),
    /// A rate computed from the step.
    Schedule(Arc<dyn LearningRateSchedule>),
}

impl LearningRate {
    /// The rate for the update that follows `step` updates.
    pub fn at(&self, step: u64) -> f32 {
        match self {
            LearningRate::Constant(rate) => *rate,
            LearningRate::Schedule(schedule) => schedule.learning_rate(step),
        }
    }

    /// Checks a constant rate (finite, ≥ 0) or the schedule's arguments.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a rate or schedule argument out of its domain.
    pub fn validate(&self) -> Result<()> {
        match self {
            LearningRate::Constant(rate) => super::check_learning_rate(*rate),
            LearningRate::Schedule(schedule) => schedule.validate(),
        }
    }

    /// Replaces a constant rate (what a callback or `optimizer.learning_rate = ...` does).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the rate comes from a schedule, which Keras refuses to
    /// overwrite too, or when `rate` is negative or not finite.
    pub fn set(&mut self, rate: f32) -> Result<()> {
        super::check_learning_rate(rate)?;
        match self {
            LearningRate::Constant(current) => {
                *current = rate;
                Ok(())
            }
            LearningRate::Schedule(_) => Err(Error::invalid(
                "learning_rate",
                "an optimizer created with a constant learning rate (one created with a \
                 schedule has no settable rate)",
                rate,
            )),
        }
    }
}

impl From<f32> for LearningRate {
    fn from(rate: f32) -> Self {
        LearningRate::Constant(rate)
    }
}

macro_rules! schedule_into_learning_rate {
    ($($schedule:ty),*) => {$(
        impl From<$schedule> for LearningRate {
            fn from(schedule: $schedule) -> Self {
                LearningRate::Schedule(Arc::new(schedule))
            }
        }
    )*};
}
schedule_into_learning_rate!(
    ExponentialDecay,
    PiecewiseConstantDecay,
    CosineDecay,
    InverseTimeDecay
);

/// Reading and replacing an optimizer's learning rate between updates, as Keras callbacks do
/// with `model.optimizer.learning_rate` (`ReduceLROnPlateau`, `LearningRateScheduler`).
pub trait LearningRateControl {
    /// The rate the next update will use.
    fn current_learning_rate(&self) -> f32;

    /// Replaces the rate for the next updates.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the rate is negative or not finite, or when it comes
    /// from a schedule (which Keras refuses to overwrite).
    fn set_learning_rate(&mut self, rate: f32) -> Result<()>;
}

impl<T: Optimizer + ?Sized> LearningRateControl for T {
    fn current_learning_rate(&self) -> f32 {
        self.learning_rate()
    }

    fn set_learning_rate(&mut self, rate: f32) -> Result<()> {
        self.base_mut().learning_rate.set(rate)
    }
}
