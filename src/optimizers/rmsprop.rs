//! RMSprop with Keras 3's rule: epsilon inside the square root.

use super::base::shared_builders;
use super::{
    check_epsilon, check_unit_interval, slot_state, LearningRate, Optimizer, OptimizerBase,
};
use crate::kernels::for_each_flushed;
use crate::Result;
use ndarray::parallel::prelude::*;
use ndarray::{ArrayD, Zip};

/// RMSprop, as Keras' `RMSprop` (the lesson's optimizer).
///
/// v ← ρ·v + (1 − ρ)·g²; Δ = lr·g / √(v + ε); w ← w − Δ, or with momentum μ: m ← μ·m + Δ,
/// w ← w − m. Keras puts ε inside the square root (`keras/src/optimizers/rmsprop.py`);
/// PyTorch puts it outside. Defaults: ρ = 0.9, ε = 1e-7, μ = 0, no weight decay. The learning
/// rate is a constant or a schedule.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// let rmsprop = RmsProp::new(0.001);
/// assert_eq!(rmsprop.learning_rate(), 0.001);
/// ```
#[derive(Clone, Debug)]
pub struct RmsProp {
    base: OptimizerBase,
    rho: f32,
    momentum: f32,
    epsilon: f32,
    velocities: Vec<ArrayD<f32>>,
    momentums: Vec<ArrayD<f32>>,
}

impl RmsProp {
    /// RMSprop with the given learning rate (Keras' default is 0.001) or schedule, and
    /// Keras' defaults.
    pub fn new(learning_rate: impl Into<LearningRate>) -> Self {
        RmsProp {
            base: OptimizerBase::new(learning_rate, None),
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            velocities: Vec::new(),
            momentums: Vec::new(),
        }
    }

    /// Decay ρ of the running average of squared gradients. Default: 0.9.
    pub fn rho(mut self, rho: f32) -> Self {
        self.rho = rho;
        self
    }

    /// Momentum μ. Default: 0.
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// ε, added to v inside the square root. Default: 1e-7.
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }
}

shared_builders!(RmsProp);

impl Optimizer for RmsProp {
    fn base(&self) -> &OptimizerBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }

    fn get_config(&self) -> Option<serde_json::Value> {
        let mut config = self.base.config()?;
        config.insert("rho".into(), crate::saving::f32_value(self.rho));
        config.insert("momentum".into(), crate::saving::f32_value(self.momentum));
        config.insert("epsilon".into(), crate::saving::f32_value(self.epsilon));
        Some(serde_json::json!({ "class_name": "RMSprop", "config": config }))
    }

    fn slots(&self) -> Vec<(&'static str, &[ArrayD<f32>])> {
        vec![("velocities", self.velocities.as_slice()), ("momentums", self.momentums.as_slice())]
    }

    fn slots_mut(&mut self) -> Vec<(&'static str, &mut Vec<ArrayD<f32>>)> {
        vec![("velocities", &mut self.velocities), ("momentums", &mut self.momentums)]
    }

    fn validate(&self) -> Result<()> {
        self.base.validate()?;
        check_unit_interval("rho", self.rho, false)?;
        check_unit_interval("momentum", self.momentum, true)?;
        check_epsilon(self.epsilon)
    }

    fn update(&mut self, slot: usize, value: &mut ArrayD<f32>, grad: &ArrayD<f32>, step: u64) {
        let lr = self.base.decay_and_rate(value, step);
        let (rho, eps, mu) = (self.rho, self.epsilon, self.momentum);
        let v = slot_state(&mut self.velocities, slot, value);
        if mu == 0.0 {
            let items = Zip::from(value).and(v).and(grad).into_par_iter();
            for_each_flushed(items, |(w, v, &g)| {
                *v = rho * *v + (1.0 - rho) * (g * g);
                *w -= lr * g / (*v + eps).sqrt();
            });
            return;
        }
        let m = slot_state(&mut self.momentums, slot, value);
        let items = Zip::from(value).and(v).and(m).and(grad).into_par_iter();
        for_each_flushed(items, |(w, v, m, &g)| {
            *v = rho * *v + (1.0 - rho) * (g * g);
            *m = mu * *m + lr * g / (*v + eps).sqrt();
            *w -= *m;
        });
    }
}
