//! The architecture a weights file records: the input shape and, per layer, its name, class,
//! output shape and weights; and the check of a file's tensors against a model's.

use super::config::{dims_of, dims_value};
use super::data_error;
use crate::layers::{Layer, LayerExt};
use crate::shape::{array_shape, keras_shape};
use crate::Result;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde_json::{json, Value};
use std::path::Path;

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
    /// The architecture of a model whose per-sample input shape is `input_shape`; `None` until
    /// every layer is built, or without layers.
    pub(crate) fn of<'a>(
        input_shape: Option<&[usize]>,
        layers: impl IntoIterator<Item = &'a dyn Layer>,
    ) -> Option<Self> {
        let input_shape = input_shape?.to_vec();
        let layers = layers
            .into_iter()
            .map(|layer| {
                Some(LayerRecord {
                    name: layer.name().to_string(),
                    class_name: layer.class_name().to_string(),
                    output_shape: layer.output_shape()?.to_vec(),
                    weights: layer
                        .params()
                        .iter()
                        .map(|p| (p.name().to_string(), p.value.shape().to_vec()))
                        .collect(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        (!layers.is_empty()).then_some(Architecture { input_shape, layers })
    }

    /// The metadata's JSON: version, architecture and the data's checksum.
    pub(super) fn to_json(&self, checksum: u64) -> Value {
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
                    "output_shape": dims_value(&layer.output_shape),
                    "weights": weights,
                })
            })
            .collect();
        json!({
            "rnnkit_version": env!("CARGO_PKG_VERSION"),
            "input_shape": dims_value(&self.input_shape),
            "layers": layers,
            "checksum": super::checksum::text(checksum),
        })
    }

    /// Reads the JSON written by [`Architecture::to_json`]; `None` when a field is missing.
    pub(super) fn from_json(value: &Value) -> Option<Self> {
        let layers = value["layers"]
            .as_array()?
            .iter()
            .map(|layer| {
                let weights = layer["weights"]
                    .as_array()?
                    .iter()
                    .map(|w| Some((w["name"].as_str()?.to_string(), dims_of(&w["shape"])?)))
                    .collect::<Option<Vec<_>>>()?;
                Some(LayerRecord {
                    name: layer["name"].as_str()?.to_string(),
                    class_name: layer["class_name"].as_str()?.to_string(),
                    output_shape: dims_of(&layer["output_shape"])?,
                    weights,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Architecture { input_shape: dims_of(&value["input_shape"])?, layers })
    }

    /// `embedding (Embedding, output (None, 500, 32)) → simple_rnn (...) → ...`.
    pub(super) fn describe(&self) -> String {
        let layers: Vec<String> = self.layers.iter().map(LayerRecord::describe).collect();
        layers.join(" → ")
    }
}

/// The tensors of the file that `expected` asks for, in its order, after checking every one:
/// none missing, none extra, each `F32` with the expected shape, each layer of the same class as
/// the file's layer of that name (`stored`, when the file records its architecture).
///
/// # Errors
/// [`Error::Data`](crate::Error::Data) naming `path`, the tensor or layer, the expected and found
/// shapes, and the file's layers.
pub(super) fn matched<'data>(
    path: &Path,
    tensors: &SafeTensors<'data>,
    stored: Option<&Architecture>,
    expected: &Architecture,
) -> Result<Vec<TensorView<'data>>> {
    let in_file = || -> String {
        match stored {
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
        let file_layer = stored.and_then(|s| s.layers.iter().find(|l| l.name == layer.name));
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
    Ok(weights)
}

#[cfg(test)]
mod tests {
    use super::*;
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
