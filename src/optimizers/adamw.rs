//! AdamW: Adam with Keras 3's decoupled weight decay.

use super::weight_decay::{apply_weight_decay, check_weight_decay};
use super::{
    check_unit_interval, slot_state, Clipping, LearningRate, LearningRateControl, Optimizer,
};
use crate::{Error, Result};
use ndarray::{ArrayD, Zip};

/// AdamW, as Keras' `AdamW`: before each update w ← w − w·wd·lr, then Adam's rule
/// m ← m + (g − m)·(1 − β₁); v ← v + (g² − v)·(1 − β₂); α = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ);
/// w ← w − α·m / (√v + ε) (`keras/src/optimizers/adamw.py`). Defaults: weight_decay 0.004,
/// β₁ = 0.9, β₂ = 0.999, ε = 1e-7. The learning rate is a constant or a schedule.
///
/// # Examples
/// ```
/// use rnnkit::optimizers::schedules::CosineDecay;
/// use rnnkit::prelude::*;
/// use rnnkit::optimizers::AdamW;
/// let constant = AdamW::new(0.001).weight_decay(0.01);
/// assert_eq!(constant.learning_rate(), 0.001);
/// let scheduled = AdamW::new(CosineDecay::new(0.001, 1000));
/// assert_eq!(scheduled.learning_rate(), 0.001);
/// ```
#[derive(Clone, Debug)]
pub struct AdamW {
    learning_rate: LearningRate,
    weight_decay: f32,
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    clipping: Clipping,
    iterations: u64,
    momentums: Vec<ArrayD<f32>>,
    velocities: Vec<ArrayD<f32>>,
}

impl AdamW {
    /// AdamW with the given learning rate (Keras' default is 0.001) or schedule, and Keras'
    /// defaults.
    pub fn new(learning_rate: impl Into<LearningRate>) -> Self {
        AdamW {
            learning_rate: learning_rate.into(),
            weight_decay: 0.004,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            clipping: Clipping::default(),
            iterations: 0,
            momentums: Vec::new(),
            velocities: Vec::new(),
        }
    }

    /// The decoupled weight decay wd. Default: 0.004.
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = weight_decay;
        self
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

    /// Gradient clipping (Keras' `clipnorm`, `clipvalue`, `global_clipnorm`). Default: none.
    pub fn clipping(mut self, clipping: Clipping) -> Self {
        self.clipping = clipping;
        self
    }
}

impl Optimizer for AdamW {
    fn learning_rate(&self) -> f32 {
        self.learning_rate.at(self.iterations)
    }

    fn clipping(&self) -> Clipping {
        self.clipping
    }

    fn validate(&self) -> Result<()> {
        self.learning_rate.validate()?;
        check_weight_decay(Some(self.weight_decay))?;
        check_unit_interval("beta_1", self.beta_1, false)?;
        check_unit_interval("beta_2", self.beta_2, false)?;
        if !(self.epsilon.is_finite() && self.epsilon > 0.0) {
            return Err(Error::invalid("epsilon", "a positive finite number", self.epsilon));
        }
        self.clipping.validate()
    }

    fn update(&mut self, slot: usize, value: &mut ArrayD<f32>, grad: &ArrayD<f32>, step: u64) {
        let (b1, b2, eps) = (self.beta_1, self.beta_2, self.epsilon);
        let lr = self.learning_rate.at(step.saturating_sub(1));
        apply_weight_decay(value, Some(self.weight_decay), lr);
        let t = step as i32;
        let alpha = lr * (1.0 - b2.powi(t)).sqrt() / (1.0 - b1.powi(t));
        let m = slot_state(&mut self.momentums, slot, value);
        Zip::from(&mut *m).and(grad).par_for_each(|m, &g| *m += (g - *m) * (1.0 - b1));
        let v = slot_state(&mut self.velocities, slot, value);
        Zip::from(&mut *v).and(grad).par_for_each(|v, &g| *v += (g * g - *v) * (1.0 - b2));
        let m = &self.momentums[slot];
        Zip::from(value).and(m).and(&self.velocities[slot]).par_for_each(|w, &m, &v| {
            *w -= m * alpha / (v.sqrt() + eps);
        });
    }

    fn iterations(&self) -> u64 {
        self.iterations
    }

    fn advance(&mut self) {
        self.iterations += 1;
    }
}

impl LearningRateControl for AdamW {
    fn current_learning_rate(&self) -> f32 {
        Optimizer::learning_rate(self)
    }

    fn set_learning_rate(&mut self, rate: f32) -> Result<()> {
        self.learning_rate.set(rate)
    }
}
