//! Optimizers with Keras 3's update rules, and Keras' gradient clipping options.

mod adagrad;
mod adam;
mod adamw;
mod base;
mod config;
mod learning_rate;
mod nadam;
mod rmsprop;
pub mod schedules;
mod sgd;
mod weight_decay;

pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamw::AdamW;
pub use base::OptimizerBase;
pub use learning_rate::{LearningRate, LearningRateControl};
pub use nadam::Nadam;
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

use crate::param::Param;
use crate::{Error, Result};
pub(crate) use config::optimizer_from_config;
use ndarray::{ArrayD, ArrayViewMutD};
use std::fmt::Debug;

/// Keras' gradient clipping options, shared by every optimizer. At most one may be set.
///
/// With g a weight's gradient: `clipnorm` makes g ← g·min(1, c/‖g‖) per weight,
/// `global_clipnorm` the same with the norm of all gradients together, and `clipvalue` clamps
/// each value to [−c, c]. [`Sequential::compile`](crate::model::Sequential::compile) returns
/// [`Error::InvalidArgument`] when more than one is set or a threshold is not a positive finite
/// number.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// let clipped = RmsProp::new(0.001).clipping(Clipping { clipnorm: Some(1.0), ..Clipping::default() });
/// assert_eq!(Optimizer::clipping(&clipped).clipnorm, Some(1.0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Clipping {
    /// Each gradient is rescaled so that its own L2 norm is at most this.
    pub clipnorm: Option<f32>,
    /// Each gradient value is clipped to [−clipvalue, clipvalue].
    pub clipvalue: Option<f32>,
    /// All gradients are rescaled together so that their joint L2 norm is at most this.
    pub global_clipnorm: Option<f32>,
}

impl Clipping {
    fn validate(&self) -> Result<()> {
        let set = [self.clipnorm, self.clipvalue, self.global_clipnorm];
        if set.iter().flatten().count() > 1 {
            return Err(Error::invalid(
                "clipnorm/clipvalue/global_clipnorm",
                "at most one of them",
                format!("{self:?}"),
            ));
        }
        if let Some(bad) = set.iter().flatten().find(|v| !(v.is_finite() && **v > 0.0)) {
            return Err(Error::invalid("clipping threshold", "a positive finite number", bad));
        }
        Ok(())
    }

    /// Clips the gradients in place, as `BaseOptimizer._clip_gradients` in Keras 3.
    fn apply(&self, grads: &mut [ArrayViewMutD<'_, f32>]) {
        if let Some(limit) = self.clipnorm {
            for grad in grads.iter_mut() {
                let norm = grad.iter().map(|g| g * g).sum::<f32>().sqrt();
                if norm > limit {
                    let scale = limit / norm;
                    grad.mapv_inplace(|g| g * scale);
                }
            }
        } else if let Some(limit) = self.global_clipnorm {
            let norm = grads.iter().flat_map(|g| g.iter()).map(|g| g * g).sum::<f32>().sqrt();
            if norm > limit {
                let scale = limit / norm;
                grads.iter_mut().for_each(|g| g.mapv_inplace(|g| g * scale));
            }
        } else if let Some(limit) = self.clipvalue {
            grads.iter_mut().for_each(|g| g.mapv_inplace(|g| g.clamp(-limit, limit)));
        }
    }
}

/// An optimizer: updates weights from their gradients, keeping its own state per weight.
///
/// The model calls [`Optimizer::apply`] once per batch with the trainable weights, always in
/// the same order, so the optimizer can index its state by position.
pub trait Optimizer: Debug + Send {
    /// The state every optimizer shares (learning rate, weight decay, clipping, update count).
    fn base(&self) -> &OptimizerBase;

    /// The shared state, mutably.
    fn base_mut(&mut self) -> &mut OptimizerBase;

    /// Checks the hyper-parameters, the shared ones through [`OptimizerBase`] included.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the first value out of its domain.
    fn validate(&self) -> Result<()>;

    /// Updates weight number `slot` (its position among the trainable weights) from `grad`;
    /// `step` counts the updates so far, starting at 1.
    fn update(&mut self, slot: usize, value: &mut ArrayD<f32>, grad: &ArrayD<f32>, step: u64);

    /// The optimizer as Keras serialises it, `{"class_name": "Adam", "config": {..}}`: its
    /// hyper-parameters, learning rate (or schedule), weight decay and clipping, what
    /// [`Sequential::save`](crate::model::Sequential::save) records to rebuild it. `None` (the
    /// default) for an optimizer, or a schedule, that cannot be rebuilt from a file.
    fn get_config(&self) -> Option<serde_json::Value> {
        None
    }

    /// The optimizer's per-weight variables by Keras' names (`momentums`, `velocities`), each
    /// holding one array per trainable weight in the model's order (an array is created at a
    /// weight's first update, so a list may be shorter, or hold an empty placeholder). Default:
    /// none. [`Optimizer::state`] and [`Optimizer::set_state`] are built on it.
    fn slots(&self) -> Vec<(&'static str, &[ArrayD<f32>])> {
        Vec::new()
    }

    /// As [`Optimizer::slots`], to replace them.
    fn slots_mut(&mut self) -> Vec<(&'static str, &mut Vec<ArrayD<f32>>)> {
        Vec::new()
    }

    /// The optimizer's state — update count and variables — what a saved model records so that
    /// training resumes exactly where it stopped (Keras saves `optimizer.variables`).
    fn state(&self) -> OptimizerState {
        OptimizerState {
            iterations: self.iterations(),
            slots: self
                .slots()
                .into_iter()
                .map(|(name, s)| (name.to_string(), s.to_vec()))
                .collect(),
            scalars: Vec::new(),
        }
    }

    /// Replaces the optimizer's state with `state`, taken from an optimizer of the same class.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `state` names other variables than this optimizer's; the
    /// optimizer is then unchanged.
    fn set_state(&mut self, state: OptimizerState) -> Result<()> {
        if !state.scalars.is_empty() {
            return Err(state.mismatch(&self.slots(), &[]));
        }
        set_slots(self, state)
    }

    /// The learning rate the next update will use (a schedule's value at the current step).
    fn learning_rate(&self) -> f32 {
        let base = self.base();
        base.learning_rate.at(base.iterations)
    }

    /// The clipping applied to gradients before each update.
    fn clipping(&self) -> Clipping {
        self.base().clipping
    }

    /// How many updates were applied.
    fn iterations(&self) -> u64 {
        self.base().iterations
    }

    /// Records one more update.
    fn advance(&mut self) {
        self.base_mut().iterations += 1;
    }

    /// Clips the gradients, then applies one update to every weight.
    fn apply(&mut self, params: &mut [&mut Param]) {
        let mut grads: Vec<ArrayViewMutD<'_, f32>> = Vec::new();
        let clipping = self.clipping();
        if clipping != Clipping::default() {
            grads = params.iter_mut().map(|p| p.grad.view_mut()).collect();
            clipping.apply(&mut grads);
        }
        drop(grads);
        self.advance();
        let step = self.iterations();
        for (slot, param) in params.iter_mut().enumerate() {
            let Param { value, grad, .. } = &mut **param;
            self.update(slot, value, grad, step);
        }
    }
}

/// An optimizer's state: what it has learned about the weights so far (Keras'
/// `optimizer.variables`). Read with [`Optimizer::state`], restored with
/// [`Optimizer::set_state`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptimizerState {
    /// Updates applied so far (Keras' `iterations`); the learning-rate schedule reads it.
    pub iterations: u64,
    /// Per-weight variables by name, each one array per trainable weight (see
    /// [`Optimizer::slots`]).
    pub slots: Vec<(String, Vec<ArrayD<f32>>)>,
    /// Variables that are one number (Nadam's `u_product`), by name.
    pub scalars: Vec<(String, f32)>,
}

impl OptimizerState {
    /// The error for a state that names other variables than an optimizer's.
    pub(crate) fn mismatch(&self, slots: &[(&str, &[ArrayD<f32>])], scalars: &[&str]) -> Error {
        let names = |slots: Vec<&str>, scalars: Vec<&str>| {
            let all: Vec<&str> = slots.into_iter().chain(scalars).collect();
            if all.is_empty() {
                "none".to_string()
            } else {
                all.join(", ")
            }
        };
        Error::invalid(
            "optimizer state",
            format!(
                "the variables {}",
                names(slots.iter().map(|(n, _)| *n).collect(), scalars.to_vec())
            ),
            format!(
                "the variables {}",
                names(
                    self.slots.iter().map(|(n, _)| n.as_str()).collect(),
                    self.scalars.iter().map(|(n, _)| n.as_str()).collect()
                )
            ),
        )
    }
}

/// Replaces `optimizer`'s per-weight variables and update count with `state`'s, after checking
/// that they have the same names in the same order.
pub(crate) fn set_slots<O: Optimizer + ?Sized>(
    optimizer: &mut O,
    state: OptimizerState,
) -> Result<()> {
    {
        let slots = optimizer.slots();
        let same = slots.len() == state.slots.len()
            && slots.iter().zip(&state.slots).all(|((a, _), (b, _))| *a == b.as_str());
        if !same {
            return Err(state.mismatch(&slots, &[]));
        }
    }
    optimizer.base_mut().iterations = state.iterations;
    for ((_, target), (_, arrays)) in optimizer.slots_mut().into_iter().zip(state.slots) {
        *target = arrays;
    }
    Ok(())
}

/// The state array for `slot`, created as zeros of `like`'s shape on first use.
pub(crate) fn slot_state<'a>(
    states: &'a mut Vec<ArrayD<f32>>,
    slot: usize,
    like: &ArrayD<f32>,
) -> &'a mut ArrayD<f32> {
    while states.len() <= slot {
        states.push(ArrayD::zeros(ndarray::IxDyn(&[0])));
    }
    if states[slot].shape() != like.shape() {
        states[slot] = ArrayD::zeros(like.raw_dim());
    }
    &mut states[slot]
}

/// Checks a learning rate.
pub(crate) fn check_learning_rate(learning_rate: f32) -> Result<()> {
    if learning_rate.is_finite() && learning_rate >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid("learning_rate", "a finite number ≥ 0", learning_rate))
    }
}

/// Checks ε, the term that keeps a denominator away from zero.
pub(crate) fn check_epsilon(epsilon: f32) -> Result<()> {
    if epsilon.is_finite() && epsilon > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid("epsilon", "a positive finite number", epsilon))
    }
}

/// Checks a decay or momentum factor.
pub(crate) fn check_unit_interval(name: &str, value: f32, include_one: bool) -> Result<()> {
    let ok = value >= 0.0 && if include_one { value <= 1.0 } else { value < 1.0 };
    if ok {
        Ok(())
    } else {
        let range = if include_one { "[0, 1]" } else { "[0, 1)" };
        Err(Error::invalid(name, format!("a number in {range}"), value))
    }
}
