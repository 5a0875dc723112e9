//! The tensors of a weights file: reading its rnnkit metadata, and its `f32` data as arrays.

use super::{data_error, METADATA_KEY};
use crate::Result;
use ndarray::{ArrayD, IxDyn};
use safetensors::tensor::{Metadata, TensorView};
use serde_json::Value;
use std::path::Path;

/// rnnkit's JSON in the file's metadata, when it has it.
///
/// # Errors
/// [`Error::Data`](crate::Error::Data) naming `path` when the JSON is not valid, or when the key
/// is damaged (another key holds rnnkit's JSON): a file of rnnkit's always carries its checksum,
/// and a damaged key must not turn the check off.
pub(super) fn rnnkit_json(path: &Path, metadata: &Metadata) -> Result<Option<Value>> {
    let entries = metadata.metadata().as_ref();
    if let Some(text) = entries.and_then(|m| m.get(METADATA_KEY)) {
        let json = serde_json::from_str::<Value>(text).map_err(|_| {
            data_error(path, format!("the metadata `{METADATA_KEY}` is not valid JSON"))
        })?;
        return Ok(Some(json));
    }
    let damaged_key = entries.is_some_and(|m| {
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
    Ok(None)
}

/// The little-endian `f32` data of `views` as arrays of their shapes.
///
/// # Errors
/// [`Error::Data`](crate::Error::Data) naming `path` when a tensor's data does not fill its shape.
pub(super) fn arrays(path: &Path, weights: &[TensorView<'_>]) -> Result<Vec<ArrayD<f32>>> {
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
