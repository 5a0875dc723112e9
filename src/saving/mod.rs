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

mod architecture;
mod checksum;
mod compile;
mod config;
mod functional;
mod functional_weights;
mod layers;
mod model;
mod model_file;
mod saved_model;
mod sequential;
mod tensors;

use crate::{Error, Result};
pub(crate) use architecture::Architecture;
pub(crate) use config::{config_error, f32_value, number_f32, Config, Reader};
pub(crate) use layers::{bidirectional_config, recurrent_config, to_config as layer_config};
use ndarray::{ArrayD, ArrayViewD};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The metadata key of rnnkit's JSON (architecture, version, checksum).
const METADATA_KEY: &str = "rnnkit.architecture";

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
    let checksum = checksum::of(ordered.iter().map(|(_, data)| data.as_slice()));
    let metadata =
        HashMap::from([(METADATA_KEY.to_string(), architecture.to_json(checksum).to_string())]);
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| data_error(path, format!("cannot encode the weights: {e}")))
}

/// Reads the weights file at `path` and returns the weights `expected` asks for, in its order,
/// after checking the file's checksum and every tensor against `expected`.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, and [`Error::Data`] naming the file for a file
/// that is not a complete safetensors file, fails its checksum, or does not match `expected`
/// (naming the tensor or layer and the expected and found shapes).
pub(crate) fn decode(path: &Path, expected: &Architecture) -> Result<Vec<ArrayD<f32>>> {
    let buffer = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let (_, metadata) = SafeTensors::read_metadata(&buffer).map_err(|e| not_weights(path, e))?;
    let tensors = SafeTensors::deserialize(&buffer).map_err(|e| not_weights(path, e))?;
    let json = tensors::rnnkit_json(path, &metadata)?;
    checksum::verify(path, &tensors, json.as_ref())?;
    let stored = match &json {
        Some(value) => Some(Architecture::from_json(value).ok_or_else(|| {
            data_error(path, format!("the metadata `{METADATA_KEY}` does not describe layers"))
        })?),
        None => None,
    };
    let weights = architecture::matched(path, &tensors, stored.as_ref(), expected)?;
    tensors::arrays(path, &weights)
}

fn data_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Data { path: PathBuf::from(path), message: message.into() }
}

/// The error for bytes that are not a complete safetensors file.
fn not_weights(path: &Path, error: safetensors::SafeTensorError) -> Error {
    data_error(
        path,
        format!(
            "not a complete safetensors file ({error}); it is truncated or corrupt — expected a \
             file written by `save_weights`"
        ),
    )
}
