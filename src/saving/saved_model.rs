//! [`SavedModel`]: what the whole-model file (`save` / `load`) reads from and restores into a
//! model, so that `Sequential` and `Functional` share one file format and one reader.

use crate::layers::{Layer, LayerExt};
use crate::model::compiled::Compiled;
use crate::model::Sequential;
use crate::optimizers::Optimizer;
use crate::Result;
use ndarray::ArrayD;
use serde_json::Value;

/// A model the whole-model file can hold.
pub(crate) trait SavedModel: Sized {
    /// The model's architecture as JSON (`to_json`).
    fn architecture_json(&self) -> Result<Value>;

    /// The model `architecture_json` describes, unweighted and not compiled.
    fn from_architecture_json(value: &Value) -> Result<Self>;

    /// Whether every layer is built (its weights exist).
    fn is_built(&self) -> bool;

    /// Runs `f` on the layers, in the order of `get_weights` (a shared layer once).
    fn visit_layers<T>(&self, f: impl FnOnce(&[&dyn Layer]) -> T) -> T;

    /// Runs `f` on the layers, mutable, in the same order.
    fn visit_layers_mut<T>(&mut self, f: impl FnOnce(&mut [&mut dyn Layer]) -> T) -> T;

    /// Replaces every weight, in the order of `get_weights`.
    fn set_weights(&mut self, weights: Vec<ArrayD<f32>>) -> Result<()>;

    /// What `compile` set, if anything.
    fn compiled_settings(&self) -> Option<&Compiled>;

    /// Restores what `compile` set.
    fn restore_compiled(&mut self, compiled: Compiled);

    /// The compiled optimizer, to restore its state.
    fn optimizer_mut(&mut self) -> Option<&mut dyn Optimizer>;

    /// The shapes of the weights the optimizer updates, in the order of its slots.
    fn trained_shapes(&self) -> Vec<Vec<usize>>;
}

impl SavedModel for Sequential {
    fn architecture_json(&self) -> Result<Value> {
        Sequential::architecture_json(self)
    }

    fn from_architecture_json(value: &Value) -> Result<Self> {
        Sequential::from_architecture_json(value)
    }

    fn is_built(&self) -> bool {
        self.layers().count() > 0 && self.layers().all(|l| l.output_shape().is_some())
    }

    fn visit_layers<T>(&self, f: impl FnOnce(&[&dyn Layer]) -> T) -> T {
        let layers: Vec<&dyn Layer> = self.layers().collect();
        f(&layers)
    }

    fn visit_layers_mut<T>(&mut self, f: impl FnOnce(&mut [&mut dyn Layer]) -> T) -> T {
        let mut layers: Vec<&mut dyn Layer> =
            self.layers_mut().map(|l| l as &mut dyn Layer).collect();
        f(&mut layers)
    }

    fn set_weights(&mut self, weights: Vec<ArrayD<f32>>) -> Result<()> {
        Sequential::set_weights(self, weights)
    }

    fn compiled_settings(&self) -> Option<&Compiled> {
        Sequential::compiled_settings(self)
    }

    fn restore_compiled(&mut self, compiled: Compiled) {
        self.set_compiled(compiled);
    }

    fn optimizer_mut(&mut self) -> Option<&mut dyn Optimizer> {
        Sequential::optimizer_mut(self)
    }

    fn trained_shapes(&self) -> Vec<Vec<usize>> {
        self.trained_weights().iter().map(|p| p.value.shape().to_vec()).collect()
    }
}
