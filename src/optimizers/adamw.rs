//! AdamW: Keras 3's `AdamW`, which is Adam with a weight decay of 0.004 by default.

use super::{Adam, LearningRate};

/// AdamW, as Keras' `AdamW` (a subclass of `Adam` that only changes the default of
/// `weight_decay`): [`Adam`] with the decoupled weight decay w ← w − w·wd·lr applied before
/// each update, wd = 0.004 unless [`Adam::weight_decay`] sets another.
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
#[derive(Clone, Copy, Debug)]
pub struct AdamW;

impl AdamW {
    /// An [`Adam`] with the given learning rate (Keras' default is 0.001) or schedule, Keras'
    /// defaults, and weight decay 0.004.
    #[allow(clippy::new_ret_no_self)] // Keras' AdamW is Adam with another default.
    pub fn new(learning_rate: impl Into<LearningRate>) -> Adam {
        Adam::with_weight_decay(learning_rate, Some(0.004))
    }
}
