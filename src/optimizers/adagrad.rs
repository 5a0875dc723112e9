//! Adagrad with Keras 3's rule.

use super::base::shared_builders;
use super::{check_epsilon, LearningRate, Optimizer, OptimizerBase};
use crate::kernels::for_each_flushed;
use crate::{Error, Result};
use ndarray::parallel::prelude::*;
use ndarray::{ArrayD, Zip};

/// Adagrad, as Keras' `Adagrad`: a ← a + g²; w ← w − lr·g / √(a + ε), with a starting at
/// `initial_accumulator_value` (`keras/src/optimizers/adagrad.py`). Defaults: initial
/// accumulator 0.1, ε = 1e-7, no weight decay. The learning rate is a constant or a schedule.
///
/// # Examples
/// ```
/// use rnnkit::optimizers::Adagrad;
/// use rnnkit::prelude::*;
/// let adagrad = Adagrad::new(0.001).initial_accumulator_value(0.1);
/// assert_eq!(adagrad.learning_rate(), 0.001);
/// ```
#[derive(Clone, Debug)]
pub struct Adagrad {
    base: OptimizerBase,
    initial_accumulator_value: f32,
    epsilon: f32,
    accumulators: Vec<ArrayD<f32>>,
}

impl Adagrad {
    /// Adagrad with the given learning rate (Keras' default is 0.001) or schedule, and
    /// Keras' defaults.
    pub fn new(learning_rate: impl Into<LearningRate>) -> Self {
        Adagrad {
            base: OptimizerBase::new(learning_rate, None),
            initial_accumulator_value: 0.1,
            epsilon: 1e-7,
            accumulators: Vec::new(),
        }
    }

    /// The accumulators' starting value, ≥ 0. Default: 0.1.
    pub fn initial_accumulator_value(mut self, value: f32) -> Self {
        self.initial_accumulator_value = value;
        self
    }

    /// ε, added to the accumulator under the square root. Default: 1e-7.
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }
}

shared_builders!(Adagrad);

impl Optimizer for Adagrad {
    fn base(&self) -> &OptimizerBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }

    fn get_config(&self) -> Option<serde_json::Value> {
        let mut config = self.base.config()?;
        config.insert(
            "initial_accumulator_value".into(),
            crate::saving::f32_value(self.initial_accumulator_value),
        );
        config.insert("epsilon".into(), crate::saving::f32_value(self.epsilon));
        Some(serde_json::json!({ "class_name": "Adagrad", "config": config }))
    }

    fn slots(&self) -> Vec<(&'static str, &[ArrayD<f32>])> {
        vec![("accumulators", self.accumulators.as_slice())]
    }

    fn slots_mut(&mut self) -> Vec<(&'static str, &mut Vec<ArrayD<f32>>)> {
        vec![("accumulators", &mut self.accumulators)]
    }

    fn validate(&self) -> Result<()> {
        self.base.validate()?;
        let initial = self.initial_accumulator_value;
        if !(initial.is_finite() && initial >= 0.0) {
            return Err(Error::invalid(
                "initial_accumulator_value",
                "a finite number ≥ 0",
                initial,
            ));
        }
        check_epsilon(self.epsilon)
    }

    fn update(&mut self, slot: usize, value: &mut ArrayD<f32>, grad: &ArrayD<f32>, step: u64) {
        let lr = self.base.decay_and_rate(value, step);
        while self.accumulators.len() <= slot {
            self.accumulators.push(ArrayD::zeros(ndarray::IxDyn(&[0])));
        }
        let accumulator = &mut self.accumulators[slot];
        if accumulator.shape() != value.shape() {
            *accumulator = ArrayD::from_elem(value.raw_dim(), self.initial_accumulator_value);
        }
        let eps = self.epsilon;
        let items = Zip::from(value).and(&mut *accumulator).and(grad).into_par_iter();
        for_each_flushed(items, |(w, a, &g)| {
            *a += g * g;
            *w -= lr * g / (*a + eps).sqrt();
        });
    }
}
