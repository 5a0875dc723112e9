//! Nadam with Keras 3's momentum schedule.

use super::base::shared_builders;
use super::{
    check_epsilon, check_unit_interval, set_slots, slot_state, LearningRate, Optimizer,
    OptimizerBase, OptimizerState,
};
use crate::kernels::for_each_flushed;
use crate::Result;
use ndarray::parallel::prelude::*;
use ndarray::{ArrayD, Zip};

/// Nadam (Adam with Nesterov momentum), as Keras' `Nadam` (`keras/src/optimizers/nadam.py`).
///
/// At update t (from 1), with μ_t = β₁(1 − ½·0.96ᵗ) and Π_t = μ₁·…·μ_t (kept across updates):
/// m ← m + (g − m)(1 − β₁); v ← v + (g² − v)(1 − β₂);
/// m̂ = μ_{t+1}·m / (1 − Π_t·μ_{t+1}) + (1 − μ_t)·g / (1 − Π_t); v̂ = v / (1 − β₂ᵗ);
/// w ← w − lr·m̂ / (√v̂ + ε). Defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-7, no weight decay. The
/// learning rate is a constant or a schedule.
///
/// # Examples
/// ```
/// use rnnkit::optimizers::Nadam;
/// use rnnkit::prelude::*;
/// let nadam = Nadam::new(0.002).beta_1(0.9);
/// assert_eq!(nadam.learning_rate(), 0.002);
/// ```
#[derive(Clone, Debug)]
pub struct Nadam {
    base: OptimizerBase,
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    /// Π_t, and the update t it was last advanced for.
    u_product: (f32, u64),
    momentums: Vec<ArrayD<f32>>,
    velocities: Vec<ArrayD<f32>>,
}

impl Nadam {
    /// Nadam with the given learning rate (Keras' default is 0.001) or schedule, and Keras'
    /// defaults.
    pub fn new(learning_rate: impl Into<LearningRate>) -> Self {
        Nadam {
            base: OptimizerBase::new(learning_rate, None),
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            u_product: (1.0, 0),
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

    /// ε, added to √v̂. Default: 1e-7.
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// μ_t = β₁(1 − ½·0.96ᵗ).
    fn momentum_at(&self, t: u64) -> f32 {
        self.beta_1 * (1.0 - 0.5 * 0.96f32.powf(t as f32))
    }
}

shared_builders!(Nadam);

impl Optimizer for Nadam {
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
        Some(serde_json::json!({ "class_name": "Nadam", "config": config }))
    }

    fn slots(&self) -> Vec<(&'static str, &[ArrayD<f32>])> {
        vec![("momentums", self.momentums.as_slice()), ("velocities", self.velocities.as_slice())]
    }

    fn slots_mut(&mut self) -> Vec<(&'static str, &mut Vec<ArrayD<f32>>)> {
        vec![("momentums", &mut self.momentums), ("velocities", &mut self.velocities)]
    }

    fn state(&self) -> OptimizerState {
        let slots = self.slots().into_iter().map(|(n, s)| (n.to_string(), s.to_vec())).collect();
        OptimizerState {
            iterations: self.base.iterations,
            slots,
            scalars: vec![("u_product".to_string(), self.u_product.0)],
        }
    }

    fn set_state(&mut self, mut state: OptimizerState) -> Result<()> {
        let product = match state.scalars.as_slice() {
            [(name, product)] if name == "u_product" => *product,
            _ => return Err(state.mismatch(&self.slots(), &["u_product"])),
        };
        state.scalars.clear();
        set_slots(self, state)?;
        // Π was last advanced at the last update (or is 1 before any).
        self.u_product = (product, self.base.iterations);
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        self.base.validate()?;
        check_unit_interval("beta_1", self.beta_1, false)?;
        check_unit_interval("beta_2", self.beta_2, false)?;
        check_epsilon(self.epsilon)
    }

    fn update(&mut self, slot: usize, value: &mut ArrayD<f32>, grad: &ArrayD<f32>, step: u64) {
        let lr = self.base.decay_and_rate(value, step);
        if self.u_product.1 != step {
            // Keras advances Π once per update, before updating the weights.
            let (product, _) = self.u_product;
            self.u_product =
                (product * self.beta_1 * (1.0 - 0.5 * 0.96f32.powf(step as f32)), step);
        }
        let (b1, b2, eps) = (self.beta_1, self.beta_2, self.epsilon);
        let u_t = self.momentum_at(step);
        let u_next = self.momentum_at(step + 1);
        let u_product = self.u_product.0;
        let u_product_next = u_product * u_next;
        let b2_power = b2.powf(step as f32);
        let m = slot_state(&mut self.momentums, slot, value);
        for_each_flushed(Zip::from(&mut *m).and(grad).into_par_iter(), |(m, &g)| {
            *m += (g - *m) * (1.0 - b1)
        });
        let v = slot_state(&mut self.velocities, slot, value);
        for_each_flushed(Zip::from(&mut *v).and(grad).into_par_iter(), |(v, &g)| {
            *v += (g * g - *v) * (1.0 - b2)
        });
        let m = &self.momentums[slot];
        let items = Zip::from(value).and(m).and(&self.velocities[slot]).and(grad).into_par_iter();
        for_each_flushed(items, |(w, &m, &v, &g)| {
            let m_hat = u_next * m / (1.0 - u_product_next) + (1.0 - u_t) * g / (1.0 - u_product);
            let v_hat = v / (1.0 - b2_power);
            *w -= m_hat * lr / (v_hat.sqrt() + eps);
        });
    }
}
