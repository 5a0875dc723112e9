//! Stochastic gradient descent, with Keras 3's momentum and Nesterov rules.

use super::{check_learning_rate, check_unit_interval, slot_state, Clipping, Optimizer};
use crate::Result;
use ndarray::{ArrayD, Zip};

/// Gradient descent, as Keras' `SGD`.
///
/// Without momentum: w ← w − lr·g. With momentum μ: m ← μ·m − lr·g, then w ← w + m, or with
/// Nesterov w ← w + μ·m − lr·g (`keras/src/optimizers/sgd.py`).
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// let sgd = Sgd::new(0.01).momentum(0.9).nesterov(true);
/// assert_eq!(sgd.learning_rate(), 0.01);
/// ```
#[derive(Clone, Debug)]
pub struct Sgd {
    learning_rate: f32,
    momentum: f32,
    nesterov: bool,
    clipping: Clipping,
    iterations: u64,
    momentums: Vec<ArrayD<f32>>,
}

impl Sgd {
    /// Plain gradient descent with the given learning rate (Keras' default is 0.01).
    pub fn new(learning_rate: f32) -> Self {
        Sgd {
            learning_rate,
            momentum: 0.0,
            nesterov: false,
            clipping: Clipping::default(),
            iterations: 0,
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

    /// Gradient clipping (Keras' `clipnorm`, `clipvalue`, `global_clipnorm`). Default: none.
    pub fn clipping(mut self, clipping: Clipping) -> Self {
        self.clipping = clipping;
        self
    }
}

impl Optimizer for Sgd {
    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn clipping(&self) -> Clipping {
        self.clipping
    }

    fn validate(&self) -> Result<()> {
        check_learning_rate(self.learning_rate)?;
        check_unit_interval("momentum", self.momentum, true)?;
        self.clipping.validate()
    }

    fn update(&mut self, slot: usize, value: &mut ArrayD<f32>, grad: &ArrayD<f32>, _step: u64) {
        let (lr, mu) = (self.learning_rate, self.momentum);
        if mu == 0.0 {
            Zip::from(value).and(grad).par_for_each(|w, &g| *w -= g * lr);
            return;
        }
        let m = slot_state(&mut self.momentums, slot, value);
        let nesterov = self.nesterov;
        Zip::from(value).and(m).and(grad).par_for_each(|w, m, &g| {
            *m = *m * mu - g * lr;
            *w += if nesterov { *m * mu - g * lr } else { *m };
        });
    }

    fn iterations(&self) -> u64 {
        self.iterations
    }

    fn advance(&mut self) {
        self.iterations += 1;
    }
}
