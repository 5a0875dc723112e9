//! Adam with Keras 3's rule.

use super::{check_learning_rate, check_unit_interval, slot_state, Clipping, Optimizer};
use crate::{Error, Result};
use ndarray::{ArrayD, Zip};

/// Adam, as Keras' `Adam`.
///
/// m ← m + (g − m)·(1 − β₁); v ← v + (g² − v)·(1 − β₂); α = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ);
/// w ← w − α·m / (√v + ε) (`keras/src/optimizers/adam.py`). Defaults: β₁ = 0.9, β₂ = 0.999,
/// ε = 1e-7.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// let adam = Adam::new(0.001).beta_1(0.9).beta_2(0.999);
/// assert_eq!(adam.learning_rate(), 0.001);
/// ```
#[derive(Clone, Debug)]
pub struct Adam {
    learning_rate: f32,
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    clipping: Clipping,
    iterations: u64,
    momentums: Vec<ArrayD<f32>>,
    velocities: Vec<ArrayD<f32>>,
}

impl Adam {
    /// Adam with the given learning rate (Keras' default is 0.001) and Keras' defaults.
    pub fn new(learning_rate: f32) -> Self {
        Adam {
            learning_rate,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            clipping: Clipping::default(),
            iterations: 0,
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

    /// Gradient clipping (Keras' `clipnorm`, `clipvalue`, `global_clipnorm`). Default: none.
    pub fn clipping(mut self, clipping: Clipping) -> Self {
        self.clipping = clipping;
        self
    }
}

impl Optimizer for Adam {
    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn clipping(&self) -> Clipping {
        self.clipping
    }

    fn validate(&self) -> Result<()> {
        check_learning_rate(self.learning_rate)?;
        check_unit_interval("beta_1", self.beta_1, false)?;
        check_unit_interval("beta_2", self.beta_2, false)?;
        if !(self.epsilon.is_finite() && self.epsilon > 0.0) {
            return Err(Error::invalid("epsilon", "a positive finite number", self.epsilon));
        }
        self.clipping.validate()
    }

    fn update(&mut self, slot: usize, value: &mut ArrayD<f32>, grad: &ArrayD<f32>, step: u64) {
        let (b1, b2, eps) = (self.beta_1, self.beta_2, self.epsilon);
        let t = step as i32;
        let alpha = self.learning_rate * (1.0 - b2.powi(t)).sqrt() / (1.0 - b1.powi(t));
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
