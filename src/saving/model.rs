//! The architecture of a [`Sequential`] as JSON (`to_json` / `from_json`, as Keras'
//! `model.to_json()` and `keras.models.model_from_json`), and the whole model in one file
//! (`save` / `load`, as Keras' `model.save` and `keras.models.load_model`).

use super::config::{config_error, dims_value, Reader};
use super::{layers, model_file};
use crate::model::Sequential;
use crate::Result;
use serde_json::{json, Value};
use std::path::Path;

/// The version of the format `to_json` and `save` write. A reader refuses a newer one: it
/// could not tell what the newer fields mean.
pub(super) const FORMAT_VERSION: u64 = 1;

impl Sequential {
    /// The model's architecture as JSON, as Keras' `model.to_json()`: the class, the input
    /// shape the model was built for (if known) and every layer's class and configuration
    /// (its constructor arguments, name and trainability) — no weights, no compile settings.
    /// [`Sequential::from_json`] builds the model again, with new weights.
    ///
    /// ```json
    /// {"class_name":"Sequential","config":{"build_input_shape":[500],"layers":[
    ///   {"class_name":"Embedding","config":{"input_dim":10000,"input_shape":[500],...}},...],
    ///  "name":"sequential"},"format_version":1,"rnnkit_version":"0.1.0"}
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) when a layer has no configuration (a custom
    /// layer whose [`Layer::get_config`](crate::layers::Layer::get_config) returns `None`).
    ///
    /// # Examples
    /// ```
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let mut model = Sequential::new();
    /// model.add(Embedding::new(10_000, 32).input_length(500));
    /// model.add(Lstm::new(32).dropout(0.2));
    /// model.add(Dense::new(1).activation(Activation::Sigmoid));
    /// let json = model.to_json()?;
    /// let mut rebuilt = Sequential::from_json(&json)?;
    /// assert_eq!(rebuilt.summary()?.to_string(), model.summary()?.to_string());
    /// assert_eq!(rebuilt.to_json()?, json);
    /// # Ok(())
    /// # }
    /// ```
    pub fn to_json(&self) -> Result<String> {
        Ok(self.architecture_json()?.to_string())
    }

    /// A model built from the JSON of [`Sequential::to_json`], as Keras'
    /// `keras.models.model_from_json`: the same layers with the same names and settings, built
    /// for the recorded input shape if there is one, with new weights from the generator seeded
    /// with 0. Not compiled.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) naming the layer and the key for JSON that is not
    /// valid or not a model's: a missing or unknown key, a value of the wrong type, an unknown
    /// class, two layers of the same name, or a `format_version` newer than this rnnkit reads;
    /// and the errors of [`Sequential::build`] for settings a layer refuses (`units` of 0).
    pub fn from_json(json: &str) -> Result<Sequential> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| config_error(format!("not valid JSON ({e})")))?;
        Sequential::from_architecture_json(&value)
    }

    /// Saves the whole model to one file at `path`, as Keras' `model.save`: the architecture
    /// (as [`Sequential::to_json`]), the weights, the compile settings (the optimizer's
    /// configuration and learning-rate schedule, the loss, the metrics and which layers train)
    /// and the optimizer's state (its update count and per-weight variables, as
    /// [`Optimizer::state`](crate::optimizers::Optimizer::state) gives them).
    /// [`Sequential::load`] returns the model as it was, so that training goes on as if it had
    /// never stopped.
    ///
    /// The file is a [safetensors](https://huggingface.co/docs/safetensors) file: one `f32`
    /// tensor per weight (`layer/weight`, as [`Sequential::save_weights`]) and per optimizer
    /// variable (`optimizer/momentums/0`), and one metadata entry, `rnnkit.model`, holding the
    /// JSON: format version, rnnkit version, architecture, compile settings, optimizer state and
    /// a checksum of the tensors and the JSON. The write is atomic: a failed or interrupted save
    /// leaves any existing file intact and nothing else behind.
    ///
    /// The dropout layers' generators are saved where they stand, so resumed training draws the
    /// masks the saved model would have drawn. Not saved: the model's own generator, which
    /// draws each `fit`'s shuffling seed when [`FitConfig::seed`](crate::model::FitConfig::seed)
    /// is `None` (a loaded model's is seeded with 0); for shuffled training that resumes
    /// exactly, give `fit` a seed. A model not built yet is saved without weights and loads
    /// unbuilt.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) when a layer, the optimizer or its schedule has
    /// no configuration (a custom one); [`Error::Io`](crate::Error::Io) naming `path` when it
    /// cannot be written.
    ///
    /// # Examples
    /// ```
    /// use ndarray::{Array1, Array2};
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let mut model = Sequential::new();
    /// model.add(Embedding::new(100, 8).input_length(10));
    /// model.add(SimpleRnn::new(4));
    /// model.add(Dense::new(1).activation(Activation::Sigmoid));
    /// model.compile(Adam::new(0.01), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    /// let x = Array2::from_shape_fn((16, 10), |(i, j)| ((i + j) % 100) as f32);
    /// let y = Array1::from_shape_fn(16, |i| (i % 2) as f32);
    /// model.fit(&x, &y, &FitConfig { verbose: 0, ..FitConfig::default() })?;
    ///
    /// let path = std::env::temp_dir().join(format!("doc-model-{}.safetensors", std::process::id()));
    /// model.save(&path)?;
    /// let mut loaded = Sequential::load(&path)?;
    /// assert_eq!(loaded.get_weights(), model.get_weights());
    /// assert_eq!(loaded.predict(&x)?, model.predict(&x)?);
    /// // Compiled, with the optimizer's state: training goes on where it stopped.
    /// loaded.fit(&x, &y, &FitConfig { verbose: 0, shuffle: false, ..FitConfig::default() })?;
    /// # std::fs::remove_file(&path).ok();
    /// # Ok(())
    /// # }
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        model_file::save(self, path.as_ref())
    }

    /// Loads a model saved by [`Sequential::save`], as Keras' `keras.models.load_model`: built
    /// for the recorded input shape (no need to declare one), with its weights, compiled as it
    /// was, with the optimizer's state.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) naming `path` when it cannot be read;
    /// [`Error::Data`](crate::Error::Data) naming `path` when the file is not a complete model
    /// file (truncated, not safetensors, a weights-only file of `save_weights`), was written by
    /// a newer rnnkit (a newer format version), fails its checksum (corrupt, or its JSON edited
    /// by hand), or describes a model that cannot be rebuilt (a configuration that does not
    /// read, weights or optimizer variables that do not match the layers) — the message says
    /// which. Nothing is returned half-loaded.
    ///
    /// # Examples
    /// See [`Sequential::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Sequential> {
        model_file::load(path.as_ref())
    }

    /// `{"class_name": "Sequential", "config": {..}, "format_version": 1, "rnnkit_version": ..}`.
    pub(super) fn architecture_json(&self) -> Result<Value> {
        let layers = self.layers().map(layers::to_config).collect::<Result<Vec<_>>>()?;
        Ok(json!({
            "class_name": "Sequential",
            "config": {
                "name": "sequential",
                "build_input_shape": self.input_shape.as_deref().map(dims_value),
                "layers": layers,
            },
            "format_version": FORMAT_VERSION,
            "rnnkit_version": env!("CARGO_PKG_VERSION"),
        }))
    }

    /// The model [`Sequential::architecture_json`] describes.
    pub(super) fn from_architecture_json(value: &Value) -> Result<Sequential> {
        let mut outer = Reader::new("the model", value)?;
        check_version(outer.u64("format_version")?)?;
        outer.str("rnnkit_version")?;
        let class_name = outer.str("class_name")?;
        if class_name != "Sequential" {
            return Err(config_error(format!(
                "the model: class \"{class_name}\" cannot be loaded; expected \"Sequential\""
            )));
        }
        let config = outer.required("config")?;
        outer.finish()?;
        let mut config = Reader::new("the model (Sequential)", config)?;
        config.str("name")?;
        let input_shape = config.optional_dims("build_input_shape")?;
        let records = config.required("layers")?;
        let records = records.as_array().ok_or_else(|| {
            config_error("the model (Sequential): `layers` must be a list of layers")
        })?;
        let layers = records
            .iter()
            .enumerate()
            .map(|(position, record)| layers::from_config(record, position))
            .collect::<Result<Vec<_>>>()?;
        config.finish()?;
        let mut names: Vec<&str> = layers.iter().map(|l| l.base().name()).collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(config_error(format!(
                "two layers are named '{}'; expected unique names",
                pair[0]
            )));
        }
        Sequential::restore(layers, input_shape)
    }
}

/// Refuses a format newer than this rnnkit's.
pub(super) fn check_version(version: u64) -> Result<()> {
    if version > FORMAT_VERSION {
        return Err(config_error(format!(
            "format version {version} was written by a newer rnnkit; this rnnkit ({}) reads \
             versions up to {FORMAT_VERSION}; upgrade rnnkit to load it",
            env!("CARGO_PKG_VERSION")
        )));
    }
    if version == 0 {
        return Err(config_error("format version 0 does not exist; expected 1"));
    }
    Ok(())
}
