//! Adam with Keras 3's rule.

use super::base::shared_builders;
use super::{
    check_epsilon, check_unit_interval, slot_state, LearningRate, Optimizer, OptimizerBase,
};
use crate::kernels::for_each_flushed;
use crate::Result;
use ndarray::parallel::prelude::*;
use ndarray::{ArrayD, Zip};

/// Adam, as Keras' `Adam`.
///
/// m ← m + (g − m)·(1 − β₁); v ← v + (g² − v)·(1 − β₂); α = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ);
/// w ← w − α·m / (√v + ε) (`keras/src/optimizers/adam.py`). Defaults: β₁ = 0.9, β₂ = 0.999,
/// ε = 1e-7, no weight decay. The learning rate is a constant or a schedule.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// let adam = Adam::new(0.001).beta_1(0.9).beta_2(0.999);
/// assert_eq!(adam.learning_rate(), 0.001);
/// ```
#[derive(Clone, Debug)]
pub struct Adam {
    base: OptimizerBase,
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    momentums: Vec<ArrayD<f32>>,
    velocities: Vec<ArrayD<f32>>,
}

impl Adam {
    /// Adam with the given learning rate (Keras' default is 0.001) or schedule, and Keras'
    /// defaults.
    pub fn new(learning_rate: impl Into<LearningRate>) -> Self {
        Adam::with_weight_decay(learning_rate, None)
    }

    pub(super) fn with_weight_decay(
        learning_rate: impl Into<LearningRate>,
        weight_decay: Option<f32>,
    ) -> Self {
        Adam {
            base: OptimizerBase::new(learning_rate, weight_decay),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            momentums: Vec::new(),
            velocities: Vec::new(),
        }
    }

    /// Decay β₁ of the first moment. Default: 0.9.
    pub fn beta_1(mut self, beta_1: f32) -> Self {
        self.beta_1 = beta_1;
        self
    }

    /// Decay β₂ of the second moment. Default: 0.999.
    pub fn beta_2(mut self, beta_2: f32) -> Self {
        self.beta_2 = beta_2;
        self
    }

    /// ε, added to √v. Default: 1e-7.
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }
}

shared_builders!(Adam);

impl Optimizer for Adam {
    fn base(&self) -> &OptimizerBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }

    fn get_config(&self) -> Option<serde_json::Value> {
        let mut config = self.base.config()?;
        config.insert("beta_1".into(), crate::saving::f32_value(self.beta_1));
        config.insert("beta_2".into(), crate::saving::f32_value(self.beta_2));
        config.insert("epsilon".into(), crate::saving::f32_value(self.epsilon));
        Some(serde_json::json!({ "class_name": "Adam", "config": config }))
    }

    fn slots(&self) -> Vec<(&'static str, &[ArrayD<f32>])> {
        vec![("momentums", self.momentums.as_slice()), ("velocities", self.velocities.as_slice())]
    }

    fn slots_mut(&mut self) -> Vec<(&'static str, &mut Vec<ArrayD<f32>>)> {
        vec![("momentums", &mut self.momentums), ("velocities", &mut self.velocities)]
    }

    fn validate(&self) -> Result<()> {
        self.base.validate()?;
        check_unit_interval("beta_1", self.beta_1, false)?;
        check_unit_interval("beta_2", self.beta_2, false)?;
        check_epsilon(self.epsilon)
    }

    fn update(&mut self, slot: usize, value: &mut ArrayD<f32>, grad: &ArrayD<f32>, step: u64) {
        let lr = self.base.decay_and_rate(value, step);
        let (b1, b2, eps) = (self.beta_1, self.beta_2, self.epsilon);
        let t = step as i32;
        let alpha = lr * (1.0 - b2.powi(t)).sqrt() / (1.0 - b1.powi(t));
        let m = slot_state(&mut self.momentums, slot, value);
        for_each_flushed(Zip::from(&mut *m).and(grad).into_par_iter(), |(m, &g)| {
            *m += (g - *m) * (1.0 - b1)
        });
        let v = slot_state(&mut self.velocities, slot, value);
        for_each_flushed(Zip::from(&mut *v).and(grad).into_par_iter(), |(v, &g)| {
            *v += (g * g - *v) * (1.0 - b2)
        });
        let m = &self.momentums[slot];
        let items = Zip::from(value).and(m).and(&self.velocities[slot]).into_par_iter();
        for_each_flushed(items, |(w, &m, &v)| *w -= m * alpha / (v.sqrt() + eps));
    }
}
