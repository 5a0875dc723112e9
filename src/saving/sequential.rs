//! `Sequential`'s `save_weights` and `load_weights`.

use super::{data_error, decode, encode, model_file, Architecture};
use crate::atomic_write::write_atomic;
use crate::model::Sequential;
use crate::{Error, Result};
use std::path::Path;

impl Sequential {
    /// Writes every weight to `path` as a safetensors file, as Keras' `save_weights`.
    ///
    /// Each weight is an `f32` tensor named `layer/weight` (`embedding/embeddings`,
    /// `simple_rnn/kernel`, `simple_rnn/recurrent_kernel`, `simple_rnn/bias`, `dense/kernel`,
    /// `dense/bias`) in Keras' layout, so any safetensors reader (Python's `safetensors.numpy`,
    /// for one) can open it. The file's metadata records the architecture (input shape; each
    /// layer's name, class, output shape, weight names and shapes; the rnnkit version) and a
    /// checksum of the data, which [`Sequential::load_weights`] checks.
    ///
    /// The file is written atomically: to a temporary file in the same folder, synced, then
    /// renamed over `path`, so a failed or interrupted save leaves any existing file intact.
    ///
    /// # Errors
    /// [`Error::NotBuilt`] when the model is not built (its weights do not exist yet) and
    /// [`Error::Io`] naming `path` when it cannot be written (a missing folder, no permission).
    ///
    /// # Examples
    /// ```
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let mut model = Sequential::new();
    /// model.add(Embedding::new(100, 8).input_length(10));
    /// model.add(SimpleRnn::new(4));
    /// model.add(Dense::new(1).activation(Activation::Sigmoid));
    /// let path = std::env::temp_dir().join(format!("doc-save-{}.safetensors", std::process::id()));
    /// model.save_weights(&path)?;
    ///
    /// let mut restored = Sequential::new().seed(7);
    /// restored.add(Embedding::new(100, 8).input_length(10));
    /// restored.add(SimpleRnn::new(4));
    /// restored.add(Dense::new(1).activation(Activation::Sigmoid));
    /// restored.load_weights(&path)?;
    /// assert_eq!(restored.get_weights(), model.get_weights());
    /// # std::fs::remove_file(&path).ok();
    /// # Ok(())
    /// # }
    /// ```
    pub fn save_weights(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let architecture = self.architecture().ok_or_else(|| {
            Error::NotBuilt(format!(
                "cannot save the weights to {}: the model is not built, so it has no weights \
                 yet; call `model.build(&input_shape)` or `fit` first",
                path.display()
            ))
        })?;
        let weights: Vec<_> =
            self.layers().flat_map(|l| l.params()).map(|p| p.value.view()).collect();
        let bytes = encode(path, &architecture, &weights)?;
        write_atomic(path, &bytes)
    }

    /// Replaces every weight with those saved by [`Sequential::save_weights`] (or
    /// [`Sequential::save`]) at `path`, as Keras' `load_weights`. The model must have the same architecture: tensors are matched by
    /// name (`layer/weight`) and shape. Builds the model first if its input shape is known.
    ///
    /// Everything is checked before any weight is assigned: on error the model's weights are
    /// unchanged.
    ///
    /// # Errors
    /// [`Error::NotBuilt`] when the model cannot be built; [`Error::Io`] naming `path` when it
    /// cannot be read (missing); [`Error::Data`] naming `path` when the file is truncated or
    /// corrupt (not a safetensors file, or its data fails the checksum) or does not match the
    /// model: a missing tensor, an extra tensor, a tensor of another shape or of another type
    /// than `f32`, or a layer of another class — the message names the tensor or layer and
    /// gives the expected and found shapes and the file's layers.
    ///
    /// # Examples
    /// See [`Sequential::save_weights`].
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        self.ensure_built()?;
        let architecture = self.architecture().ok_or_else(|| {
            Error::NotBuilt("the model is not built; call `model.build(&input_shape)`".into())
        })?;
        if model_file::holds_model(path) {
            // A whole-model file (`save`): its weights, if its model is this one.
            let source: Sequential = model_file::load(path)?;
            return match source.architecture() {
                Some(stored) if stored == architecture => self.set_weights(source.get_weights()),
                stored => Err(data_error(
                    path,
                    format!(
                        "the file's model ({}) is not this model ({})",
                        stored.map_or_else(|| "not built".to_string(), |s| s.describe()),
                        architecture.describe()
                    ),
                )),
            };
        }
        let weights = decode(path, &architecture)?;
        self.set_weights(weights)
    }

    /// The layers as the weights file records them; `None` until every layer is built.
    fn architecture(&self) -> Option<Architecture> {
        Architecture::of(self.input_shape.as_deref(), self.layers())
    }
}
