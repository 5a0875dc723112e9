//! What layers, optimizers and losses exchange: a weight with its gradient ([`Param`]) and the
//! mask of a batch's real timesteps ([`Mask`]).

use ndarray::{Array2, ArrayD};

/// Which timesteps of a batch hold data: `(batch, steps)`, `true` for a real step.
///
/// Produced by `Embedding::mask_zero(true)` and `Masking`, consumed by recurrent layers, which
/// carry their state unchanged through masked steps.
pub type Mask = Array2<bool>;

/// A weight of a layer with its accumulated gradient, named as in Keras (`kernel`, `bias`, ...).
#[derive(Clone, Debug)]
pub struct Param {
    name: &'static str,
    /// The weight's current value.
    pub value: ArrayD<f32>,
    /// dL/dvalue, accumulated by `backward` since the last reset.
    pub grad: ArrayD<f32>,
}

impl Param {
    /// A weight with a zero gradient of the same shape.
    pub fn new(name: &'static str, value: ArrayD<f32>) -> Self {
        let grad = ArrayD::zeros(value.raw_dim());
        Param { name, value, grad }
    }

    /// Keras' name of the weight (`"kernel"`, `"recurrent_kernel"`, `"bias"`, `"embeddings"`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Number of scalars in the weight.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether the weight holds no scalar.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}
