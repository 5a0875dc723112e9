//! The state every optimizer shares — learning rate, decoupled weight decay, clipping and the
//! update count — and the builders that set it, written once.

use super::weight_decay::{apply_weight_decay, check_weight_decay};
use super::{Clipping, LearningRate};
use crate::saving::{f32_value, Config};
use crate::Result;
use ndarray::ArrayD;
use serde_json::Value;

/// What every optimizer holds besides its own hyper-parameters and per-weight state (Keras'
/// `BaseOptimizer` arguments). Each optimizer embeds one and returns it from
/// [`Optimizer::base`](super::Optimizer::base).
#[derive(Clone, Debug)]
pub struct OptimizerBase {
    pub(crate) learning_rate: LearningRate,
    pub(crate) weight_decay: Option<f32>,
    pub(crate) clipping: Clipping,
    pub(crate) iterations: u64,
}

impl OptimizerBase {
    /// A base with the given rate (a constant or a schedule) and weight decay, no clipping and
    /// no updates yet.
    pub(crate) fn new(learning_rate: impl Into<LearningRate>, weight_decay: Option<f32>) -> Self {
        OptimizerBase {
            learning_rate: learning_rate.into(),
            weight_decay,
            clipping: Clipping::default(),
            iterations: 0,
        }
    }

    /// Checks the rate (or schedule), the weight decay and the clipping.
    pub(crate) fn validate(&self) -> Result<()> {
        self.learning_rate.validate()?;
        check_weight_decay(self.weight_decay)?;
        self.clipping.validate()
    }

    /// The arguments every optimizer shares, as Keras' `BaseOptimizer.get_config`:
    /// `learning_rate` (a number, or the schedule's configuration), `weight_decay`, `clipnorm`,
    /// `clipvalue`, `global_clipnorm` (`null` when unset); `None` when the schedule has no
    /// configuration.
    pub(crate) fn config(&self) -> Option<Config> {
        let learning_rate = match &self.learning_rate {
            LearningRate::Constant(rate) => f32_value(*rate),
            LearningRate::Schedule(schedule) => schedule.get_config()?,
        };
        let optional = |value: Option<f32>| value.map_or(Value::Null, f32_value);
        Some(Config::from_iter([
            ("learning_rate".to_string(), learning_rate),
            ("weight_decay".to_string(), optional(self.weight_decay)),
            ("clipnorm".to_string(), optional(self.clipping.clipnorm)),
            ("clipvalue".to_string(), optional(self.clipping.clipvalue)),
            ("global_clipnorm".to_string(), optional(self.clipping.global_clipnorm)),
        ]))
    }

    /// The learning rate of update `step` (counted from 1; the schedule sees `step − 1`, as
    /// Keras evaluates it before incrementing `iterations`), after applying the decoupled
    /// weight decay to `value` with that rate, as `BaseOptimizer.apply` does before the update.
    pub(crate) fn decay_and_rate(&self, value: &mut ArrayD<f32>, step: u64) -> f32 {
        let lr = self.learning_rate.at(step.saturating_sub(1));
        apply_weight_decay(value, self.weight_decay, lr);
        lr
    }
}

/// The builders every optimizer shares: `clipping` and `weight_decay`.
macro_rules! shared_builders {
    ($optimizer:ty) => {
        impl $optimizer {
            /// Gradient clipping (Keras' `clipnorm`, `clipvalue`, `global_clipnorm`).
            /// Default: none.
            pub fn clipping(mut self, clipping: $crate::optimizers::Clipping) -> Self {
                self.base.clipping = clipping;
                self
            }

            /// Decoupled weight decay wd, finite and ≥ 0: w ← w − w·wd·lr before each
            /// update, as Keras 3's `weight_decay`.
            pub fn weight_decay(mut self, weight_decay: f32) -> Self {
                self.base.weight_decay = Some(weight_decay);
                self
            }
        }
    };
}
pub(crate) use shared_builders;
