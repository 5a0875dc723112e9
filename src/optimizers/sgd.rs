//! Stochastic gradient descent, with Keras 3's momentum and Nesterov rules.

use super::base::shared_builders;
use super::{check_unit_interval, slot_state, LearningRate, Optimizer, OptimizerBase};
use crate::kernels::for_each_flushed;
use crate::Result;
use ndarray::parallel::prelude::*;
use ndarray::{ArrayD, Zip};

/// Gradient descent, as Keras' `SGD`.
///
/// Without momentum: w ← w − lr·g. With momentum μ: m ← μ·m − lr·g, then w ← w + m, or with
/// Nesterov w ← w + μ·m − lr·g (`keras/src/optimizers/sgd.py`). No weight decay by default.
/// The learning rate is a constant or a schedule.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// let sgd = Sgd::new(0.01).momentum(0.9).nesterov(true);
/// assert_eq!(sgd.learning_rate(), 0.01);
/// ```
#[derive(Clone, Debug)]
pub struct Sgd {
    base: OptimizerBase,
    momentum: f32,
    nesterov: bool,
    momentums: Vec<ArrayD<f32>>,
}

impl Sgd {
    /// Plain gradient descent with the given learning rate (Keras' default is 0.01) or
    /// schedule.
    pub fn new(learning_rate: impl Into<LearningRate>) -> Self {
        Sgd {
            base: OptimizerBase::new(learning_rate, None),
            momentum: 0.0,
            nesterov: false,
            momentums: Vec::new(),
        }
    }

    /// Momentum μ in [0, 1]. Default: 0.
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// Nesterov momentum. Default: `false`.
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }
}

shared_builders!(Sgd);

impl Optimizer for Sgd {
    fn base(&self) -> &OptimizerBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut OptimizerBase {
        &mut self.base
    }

    fn get_config(&self) -> Option<serde_json::Value> {
        let mut config = self.base.config()?;
        config.insert("momentum".into(), crate::saving::f32_value(self.momentum));
        config.insert("nesterov".into(), self.nesterov.into());
        Some(serde_json::json!({ "class_name": "SGD", "config": config }))
    }

    fn slots(&self) -> Vec<(&'static str, &[ArrayD<f32>])> {
        vec![("momentums", self.momentums.as_slice())]
    }

    fn slots_mut(&mut self) -> Vec<(&'static str, &mut Vec<ArrayD<f32>>)> {
        vec![("momentums", &mut self.momentums)]
    }

    fn validate(&self) -> Result<()> {
        self.base.validate()?;
        check_unit_interval("momentum", self.momentum, true)?;
        Ok(())
    }

    fn update(&mut self, slot: usize, value: &mut ArrayD<f32>, grad: &ArrayD<f32>, step: u64) {
        let lr = self.base.decay_and_rate(value, step);
        let mu = self.momentum;
        if mu == 0.0 {
            for_each_flushed(Zip::from(value).and(grad).into_par_iter(), |(w, &g)| *w -= g * lr);
            return;
        }
        let m = slot_state(&mut self.momentums, slot, value);
        let nesterov = self.nesterov;
        for_each_flushed(Zip::from(value).and(m).and(grad).into_par_iter(), |(w, m, &g)| {
            *m = *m * mu - g * lr;
            *w += if nesterov { *m * mu - g * lr } else { *m };
        });
    }
}
