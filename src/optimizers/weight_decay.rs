//! Keras 3's decoupled weight decay, shared by the optimizers that take `weight_decay`.

use crate::{Error, Result};
use ndarray::ArrayD;

/// w ← w − w·wd·lr, applied to a weight before its update with the step's learning rate, as
/// `BaseOptimizer._apply_weight_decay`.
pub(crate) fn apply_weight_decay(value: &mut ArrayD<f32>, weight_decay: Option<f32>, lr: f32) {
    if let Some(wd) = weight_decay.filter(|&wd| wd != 0.0) {
        value.mapv_inplace(|w| w - w * wd * lr);
    }
}

/// Checks a weight decay: finite and ≥ 0.
pub(crate) fn check_weight_decay(weight_decay: Option<f32>) -> Result<()> {
    match weight_decay {
        Some(wd) if !(wd.is_finite() && wd >= 0.0) => {
            Err(Error::invalid("weight_decay", "a finite number ≥ 0", wd))
        }
        _ => Ok(()),
    }
}
