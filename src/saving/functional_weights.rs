//! `Functional`'s `save_weights` and `load_weights`: the weights file of `Sequential`, for the
//! model's layers in Keras' order (a shared layer's weights once).

use super::{decode, encode, Architecture};
use crate::atomic_write::write_atomic;
use crate::layers::Layer;
use crate::model::Functional;
use crate::{Error, Result};
use std::path::Path;

impl Functional {
    /// Writes every weight to `path` as a safetensors file, as
    /// [`Sequential::save_weights`](crate::model::Sequential::save_weights) does: one tensor
    /// per weight named `layer/weight`, the architecture and a checksum in the metadata.
    ///
    /// # Errors
    /// [`Error::Io`] naming `path` when it cannot be written.
    pub fn save_weights(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let locked = self.locked();
        let architecture = self.weights_architecture(locked.iter().map(|s| s.layer.as_ref()))?;
        let weights: Vec<_> =
            locked.iter().flat_map(|s| s.layer.params()).map(|p| p.value.view()).collect();
        let bytes = encode(path, &architecture, &weights)?;
        write_atomic(path, &bytes)
    }

    /// Replaces every weight with those [`Functional::save_weights`] wrote at `path`, matched
    /// by name and shape; on error the weights are unchanged.
    ///
    /// # Errors
    /// [`Error::Io`] naming `path` when it cannot be read; [`Error::Data`] when the file is
    /// damaged or does not hold this model's weights (naming the tensor or layer).
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let architecture = {
            let locked = self.locked();
            self.weights_architecture(locked.iter().map(|s| s.layer.as_ref()))?
        };
        let weights = decode(path, &architecture)?;
        self.set_weights(weights)
    }

    /// The architecture the weights file records: the first input's shape and the layers.
    fn weights_architecture<'a>(
        &self,
        layers: impl IntoIterator<Item = &'a dyn Layer>,
    ) -> Result<Architecture> {
        let shapes = self.input_shapes();
        let first = shapes.first().map(|(_, shape)| shape.as_slice());
        Architecture::of(first, layers)
            .ok_or_else(|| Error::NotBuilt("a layer of the model is not built".into()))
    }
}
