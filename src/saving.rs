//! The weights file of `save_weights` and `load_weights`.
//!
//! A [safetensors](https://huggingface.co/docs/safetensors) file: one little-endian `f32` tensor
//! per weight, named `layer/weight` (`simple_rnn/recurrent_kernel`) and laid out as Keras lays
//! it out (`kernel` is `(input_dim, units)`). The header's metadata has one key,
//! `rnnkit.architecture`, holding JSON: the rnnkit version, the architecture (input shape, and
//! per layer its name, class, output shape and the names and shapes of its weights) and an
//! FNV-1a checksum of the tensor data — so that a load can say exactly which layer or tensor
//! does not match, and detect a damaged file. One key keeps the file's bytes deterministic (the
//! metadata is a hash map).

use crate::shape::{array_shape, keras_shape};
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The metadata key of rnnkit's JSON (architecture, version, checksum).
const METADATA_KEY: &str = "rnnkit.architecture";

/// A model's layers as the file records them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Architecture {
    /// The per-sample input shape.
    pub(crate) input_shape: Vec<usize>,
    /// The layers, in order.
    pub(crate) layers: Vec<LayerRecord>,
}

/// One layer: its name, Keras class, per-sample output shape and weights (name, shape).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LayerRecord {
    pub(crate) name: String,
    pub(crate) class_name: String,
    pub(crate) output_shape: Vec<usize>,
    pub(crate) weights: Vec<(String, Vec<usize>)>,
}

impl LayerRecord {
    /// `simple_rnn (SimpleRNN, output (None, 32))`.
    fn describe(&self) -> String {
        format!("'{}' ({}, output {})", self.name, self.class_name, keras_shape(&self.output_shape))
    }
}

impl Architecture {
    fn to_json(&self, checksum: u64) -> Value {
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|layer| {
                let weights: Vec<Value> = layer
                    .weights
                    .iter()
                    .map(|(name, shape)| json!({ "name": name, "shape": shape }))
                    .collect();
                json!({
                    "name": layer.name,
                    "class_name": layer.class_name,
                    "output_shape": layer.output_shape,
                    "weights": weights,
                })
            })
            .collect();
        json!({
            "rnnkit_version": env!("CARGO_PKG_VERSION"),
            "input_shape": self.input_shape,
            "layers": layers,
            "checksum": checksum_text(checksum),
        })
    }

    /// Reads the JSON written by [`Architecture::to_json`]; `None` when a field is missing.
    fn from_json(value: &Value) -> Option<Self> {
        let dims = |v: &Value| -> Option<Vec<usize>> {
            v.as_array()?.iter().map(|d| d.as_u64().map(|d| d as usize)).collect()
        };
        let layers = value["layers"]
            .as_array()?
            .iter()
            .map(|layer| {
                let weights = layer["weights"]
                    .as_array()?
                    .iter()
                    .map(|w| Some((w["name"].as_str()?.to_string(), dims(&w["shape"])?)))
                    .collect::<Option<Vec<_>>>()?;
                Some(LayerRecord {
                    name: layer["name"].as_str()?.to_string(),
                    class_name: layer["class_name"].as_str()?.to_string(),
                    output_shape: dims(&layer["output_shape"])?,
                    weights,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Architecture { input_shape: dims(&value["input_shape"])?, layers })
    }

    /// `embedding (Embedding, output (None, 500, 32)) → simple_rnn (...) → ...`.
    fn describe(&self) -> String {
        let layers: Vec<String> = self.layers.iter().map(LayerRecord::describe).collect();
        layers.join(" → ")
    }
}

/// The file's bytes for `architecture` and its weights (in the architecture's order).
///
/// # Errors
/// [`Error::Data`] naming `path` when a weight's count does not match the architecture (cannot
/// happen for a built model) or the serialiser refuses the tensors.
pub(crate) fn encode(
    path: &Path,
    architecture: &Architecture,
    weights: &[ArrayViewD<'_, f32>],
) -> Result<Vec<u8>> {
    let names: Vec<String> = architecture
        .layers
        .iter()
        .flat_map(|layer| layer.weights.iter().map(|(w, _)| format!("{}/{w}", layer.name)))
        .collect();
    if names.len() != weights.len() {
        return Err(data_error(path, "the model's weights do not match its layers"));
    }
    // Tensor names must be unique in a safetensors file (a custom layer may repeat a name).
    let mut sorted: Vec<&String> = names.iter().collect();
    sorted.sort();
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(data_error(
            path,
            format!("two weights are both named `{}`; expected unique layer/weight names", pair[0]),
        ));
    }
    let bytes: Vec<Vec<u8>> = weights
        .iter()
        .map(|w| w.as_standard_layout().iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let mut views = Vec::with_capacity(names.len());
    for ((name, weight), data) in names.iter().zip(weights).zip(&bytes) {
        let view = TensorView::new(Dtype::F32, weight.shape().to_vec(), data)
            .map_err(|e| data_error(path, format!("tensor `{name}`: {e}")))?;
        views.push((name.as_str(), view));
    }
    // The serialiser orders tensors by name; the checksum covers the data in that order.
    let mut ordered: Vec<(&str, &Vec<u8>)> =
        names.iter().map(String::as_str).zip(bytes.iter()).collect();
    ordered.sort_by(|a, b| a.0.cmp(b.0));
    let checksum = ordered.iter().fold(FNV_OFFSET, |hash, (_, data)| fnv1a(hash, data));
    let metadata =
        HashMap::from([(METADATA_KEY.to_string(), architecture.to_json(checksum).to_string())]);
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| data_error(path, format!("cannot encode the weights: {e}")))
}

/// Reads the weights file at `path` and returns the weights `expected` asks for, in its order,
/// after checking every tensor: none missing, none extra, each `F32` with the expected shape.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, and [`Error::Data`] naming the file for a file
/// that is not a complete safetensors file, fails its checksum, or does not match `expected`
/// (naming the tensor or layer and the expected and found shapes).
pub(crate) fn decode(path: &Path, expected: &Architecture) -> Result<Vec<ArrayD<f32>>> {
    let buffer = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let not_weights = |e: safetensors::SafeTensorError| {
        data_error(
            path,
            format!(
                "not a complete safetensors file ({e}); it is truncated or corrupt — expected a \
                 file written by `save_weights`"
            ),
        )
    };
    let (_, metadata) = SafeTensors::read_metadata(&buffer).map_err(not_weights)?;
    let tensors = SafeTensors::deserialize(&buffer).map_err(not_weights)?;
    let json = match metadata.metadata().as_ref().and_then(|m| m.get(METADATA_KEY)) {
        Some(text) => Some(serde_json::from_str::<Value>(text).map_err(|_| {
            data_error(path, format!("the metadata `{METADATA_KEY}` is not valid JSON"))
        })?),
        None => None,
    };
    // A file of rnnkit's always carries its checksum: a damaged key must not turn the check off.
    // Without the key, a value that reads as rnnkit's JSON betrays a damaged key.
    let damaged_key = json.is_none()
        && metadata.metadata().as_ref().is_some_and(|m| {
            m.values().any(|text| {
                serde_json::from_str::<Value>(text).is_ok_and(|v| v.get("checksum").is_some())
            })
        });
    if damaged_key {
        return Err(data_error(
            path,
            format!("the metadata key `{METADATA_KEY}` is damaged; the file is corrupt"),
        ));
    }
    if json.as_ref().is_some_and(|j| j.get("checksum").and_then(Value::as_str).is_none()) {
        return Err(data_error(
            path,
            format!("the metadata `{METADATA_KEY}` has no checksum; the file is corrupt"),
        ));
    }
    if let Some(stored) = json.as_ref().and_then(|j| j["checksum"].as_str()) {
        let mut names = tensors.names();
        names.sort_unstable();
        let mut checksum = FNV_OFFSET;
        for name in names {
            let view = tensors.tensor(name).map_err(not_weights)?;
            checksum = fnv1a(checksum, view.data());
        }
        if stored != checksum_text(checksum) {
            return Err(data_error(
                path,
                format!(
                    "the tensor data does not match the file's checksum ({stored}, computed {}); \
                     the file is corrupt",
                    checksum_text(checksum)
                ),
            ));
        }
    }
    let stored = match &json {
        Some(value) => Some(Architecture::from_json(value).ok_or_else(|| {
            data_error(path, format!("the metadata `{METADATA_KEY}` does not describe layers"))
        })?),
        None => None,
    };
    let in_file = || -> String {
        match &stored {
            Some(architecture) => format!("the file's layers: {}", architecture.describe()),
            None => {
                let mut listed: Vec<String> = tensors
                    .iter()
                    .map(|(name, view)| format!("{name} {}", array_shape(view.shape())))
                    .collect();
                listed.sort();
                format!("the file's tensors: {}", listed.join(", "))
            }
        }
    };

    let mut weights = Vec::new();
    let mut wanted = Vec::new();
    for layer in &expected.layers {
        let file_layer =
            stored.as_ref().and_then(|s| s.layers.iter().find(|l| l.name == layer.name));
        if let Some(file_layer) = file_layer.filter(|l| l.class_name != layer.class_name) {
            return Err(data_error(
                path,
                format!(
                    "layer '{}' is {} in this model but {} in the file; {}",
                    layer.name,
                    layer.class_name,
                    file_layer.class_name,
                    in_file()
                ),
            ));
        }
        for (weight, shape) in &layer.weights {
            let name = format!("{}/{weight}", layer.name);
            let view = tensors.tensor(&name).map_err(|_| {
                data_error(
                    path,
                    format!(
                        "tensor `{name}` (weight of layer {}, expected shape {}) is missing; {}",
                        layer.describe(),
                        array_shape(shape),
                        in_file()
                    ),
                )
            })?;
            if view.dtype() != Dtype::F32 {
                return Err(data_error(
                    path,
                    format!(
                        "tensor `{name}` is stored as {:?}, expected F32 (shape {})",
                        view.dtype(),
                        array_shape(shape)
                    ),
                ));
            }
            if view.shape() != shape.as_slice() {
                let file_says = file_layer
                    .map(|l| format!(" (in the file, layer {})", l.describe()))
                    .unwrap_or_default();
                return Err(data_error(
                    path,
                    format!(
                        "tensor `{name}` has shape {} in the file, expected {} for layer {} of \
                         this model{file_says}",
                        array_shape(view.shape()),
                        array_shape(shape),
                        layer.describe()
                    ),
                ));
            }
            weights.push(view);
            wanted.push(name);
        }
    }
    let mut extra_tensors: Vec<String> = tensors
        .iter()
        .filter(|(name, _)| !wanted.iter().any(|w| w == name))
        .map(|(name, view)| format!("`{name}` {}", array_shape(view.shape())))
        .collect();
    if !extra_tensors.is_empty() {
        extra_tensors.sort();
        return Err(data_error(
            path,
            format!(
                "the file holds tensor(s) {} that this model has no weight for; expected exactly \
                 {}; {}",
                extra_tensors.join(", "),
                wanted.join(", "),
                in_file()
            ),
        ));
    }
    weights
        .iter()
        .map(|view| {
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            ArrayD::from_shape_vec(IxDyn(view.shape()), values)
                .map_err(|e| data_error(path, format!("tensor data: {e}")))
        })
        .collect()
}

fn data_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Data { path: PathBuf::from(path), message: message.into() }
}

/// `fnv1a64:` and 16 hex digits.
fn checksum_text(checksum: u64) -> String {
    format!("fnv1a64:{checksum:016x}")
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64 bits, continued from `hash` over `bytes`.
fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_reference_vectors() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(FNV_OFFSET, b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn architecture_json_round_trips() {
        let architecture = Architecture {
            input_shape: vec![500],
            layers: vec![LayerRecord {
                name: "dense".into(),
                class_name: "Dense".into(),
                output_shape: vec![1],
                weights: vec![("kernel".into(), vec![32, 1]), ("bias".into(), vec![1])],
            }],
        };
        let json = architecture.to_json(0xabc);
        assert_eq!(json["rnnkit_version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(json["checksum"], "fnv1a64:0000000000000abc");
        assert_eq!(Architecture::from_json(&json), Some(architecture));
    }
}
