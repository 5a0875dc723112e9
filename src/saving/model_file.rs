//! The file of [`Sequential::save`] and [`Sequential::load`] (and of `Functional`'s, whose
//! `model` is its functional architecture): a safetensors file holding the
//! weights (`layer/weight`) and the optimizer's variables (`optimizer/NAME/INDEX`, one per
//! trainable weight that has one yet), and one metadata entry, `rnnkit.model`, of JSON:
//!
//! ```json
//! {"format_version": 1, "rnnkit_version": "0.1.0",
//!  "model": {..Sequential::to_json..},
//!  "weights": [["embedding/embeddings", [10000, 32]], ..],
//!  "generators": {"dropout": ["SEED_HEX:0:4096"]},
//!  "compile": {"optimizer": {"class_name": "Adam", "config": {..}}, "loss": "binary_crossentropy",
//!              "metrics": ["accuracy"], "trainable": [true, true, true]},
//!  "optimizer_state": {"iterations": 625, "slots": [{"name": "momentums", "count": 5}, ..],
//!                      "scalars": {}},
//!  "checksum": "fnv1a64:.."}
//! ```
//!
//! The checksum (FNV-1a, 64 bits) covers the tensors' data in name order, then the JSON
//! without its checksum, so a damaged or hand-edited file is refused rather than half-read.

use super::compile::{loss_from_config, loss_to_config, metric_from_config, metric_to_config};
use super::config::{config_error, f32_value, number_f32, Reader};
use super::model::check_version;
use super::saved_model::SavedModel;
use super::{checksum, data_error, tensors, METADATA_KEY};
use crate::atomic_write::write_atomic;
use crate::layers::{GeneratorState, LayerExt};
use crate::metrics::Metric;
use crate::model::compiled::Compiled;
use crate::optimizers::{optimizer_from_config, OptimizerState};
use crate::shape::array_shape;
use crate::{Error, Result};
use ndarray::{ArrayD, IxDyn};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::Path;

/// The metadata key of a model file's JSON.
const MODEL_KEY: &str = "rnnkit.model";

/// The prefix of the optimizer's tensors.
const OPTIMIZER_PREFIX: &str = "optimizer/";

/// A tensor to write: name, shape and little-endian `f32` bytes.
struct Tensor {
    name: String,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl Tensor {
    fn of(name: String, array: &ArrayD<f32>) -> Self {
        let data = array.as_standard_layout().iter().flat_map(|v| v.to_le_bytes()).collect();
        Tensor { name, shape: array.shape().to_vec(), data }
    }
}

/// Writes `model` to `path` (see the module's documentation).
pub(super) fn save<M: SavedModel>(model: &M, path: &Path) -> Result<()> {
    let architecture = model.architecture_json()?;
    let mut tensors = Vec::new();
    let built = model.is_built();
    let generators: Map<String, Value> = model.visit_layers(|layers| {
        if built {
            for layer in layers {
                for param in layer.params() {
                    tensors.push(Tensor::of(
                        format!("{}/{}", layer.name(), param.name()),
                        &param.value,
                    ));
                }
            }
        }
        layers
            .iter()
            .filter(|_| built)
            .map(|l| (l.name().to_string(), l.generator_states()))
            .filter(|(_, states)| !states.is_empty())
            .map(|(name, states)| (name, states.iter().map(GeneratorState::to_text).collect()))
            .collect()
    });
    let weights: Vec<Value> = tensors.iter().map(|t| json!([t.name, t.shape])).collect();
    let (compile, optimizer_state) = match model.compiled_settings() {
        None => (Value::Null, Value::Null),
        Some(compiled) => {
            let (optimizer, trainable) = (compiled.optimizer.as_ref(), &compiled.trainable);
            let config = optimizer.get_config().ok_or_else(|| {
                config_error(format!(
                    "the optimizer ({optimizer:?}) or its learning-rate schedule has no \
                     configuration, so the model cannot be saved whole; save its weights with \
                     `save_weights`"
                ))
            })?;
            let compile = json!({
                "optimizer": config,
                "loss": loss_to_config(compiled.loss),
                "metrics": compiled.metrics.iter().map(|&m| metric_to_config(m)).collect::<Vec<_>>(),
                "weighted_metrics": compiled
                    .weighted_metrics
                    .iter()
                    .map(|&m| metric_to_config(m))
                    .collect::<Vec<_>>(),
                "trainable": trainable,
            });
            let state = optimizer.state();
            let mut slots = Vec::new();
            for (name, arrays) in &state.slots {
                for (index, array) in arrays.iter().enumerate().filter(|(_, a)| !a.is_empty()) {
                    tensors.push(Tensor::of(format!("{OPTIMIZER_PREFIX}{name}/{index}"), array));
                }
                slots.push(json!({ "name": name, "count": arrays.len() }));
            }
            let scalars: Map<String, Value> =
                state.scalars.iter().map(|(name, v)| (name.clone(), f32_value(*v))).collect();
            let state =
                json!({ "iterations": state.iterations, "slots": slots, "scalars": scalars });
            (compile, state)
        }
    };
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(pair) = tensors.windows(2).find(|pair| pair[0].name == pair[1].name) {
        return Err(data_error(
            path,
            format!("two tensors are both named `{}`; expected unique names", pair[0].name),
        ));
    }
    let mut metadata = json!({
        "format_version": super::model::FORMAT_VERSION,
        "rnnkit_version": env!("CARGO_PKG_VERSION"),
        "model": architecture,
        "weights": weights,
        "generators": generators,
        "compile": compile,
        "optimizer_state": optimizer_state,
    });
    let sum = checksum_of(tensors.iter().map(|t| t.data.as_slice()), &metadata);
    metadata["checksum"] = checksum::text(sum).into();
    let mut views = Vec::with_capacity(tensors.len());
    for tensor in &tensors {
        let view = TensorView::new(Dtype::F32, tensor.shape.clone(), &tensor.data)
            .map_err(|e| data_error(path, format!("tensor `{}`: {e}", tensor.name)))?;
        views.push((tensor.name.as_str(), view));
    }
    let entries = HashMap::from([(MODEL_KEY.to_string(), metadata.to_string())]);
    let bytes = safetensors::serialize(views, Some(entries))
        .map_err(|e| data_error(path, format!("cannot encode the model: {e}")))?;
    write_atomic(path, &bytes)
}

/// The checksum of the tensors' data (in name order) followed by the JSON `metadata` (without
/// a checksum).
fn checksum_of<'a>(data: impl Iterator<Item = &'a [u8]>, metadata: &Value) -> u64 {
    let text = metadata.to_string();
    let mut slices: Vec<&[u8]> = data.collect();
    slices.push(text.as_bytes());
    checksum::of(slices)
}

/// Reads the model file at `path` (see the module's documentation).
pub(super) fn load<M: SavedModel>(path: &Path) -> Result<M> {
    let buffer = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let (_, header) = SafeTensors::read_metadata(&buffer).map_err(|e| not_a_model(path, e))?;
    let tensors = SafeTensors::deserialize(&buffer).map_err(|e| not_a_model(path, e))?;
    let entries = header.metadata().as_ref();
    let text = entries.and_then(|m| m.get(MODEL_KEY)).ok_or_else(|| {
        let message = if entries.is_some_and(|m| m.contains_key(METADATA_KEY)) {
            "this is a weights file (written by `save_weights`), not a whole model: build the \
             model in code and call `load_weights`"
        } else {
            "the file has no `rnnkit.model` metadata; expected a file written by a model's \
             `save`"
        };
        data_error(path, message)
    })?;
    let mut metadata: Value = serde_json::from_str(text).map_err(|_| {
        data_error(
            path,
            format!("the metadata `{MODEL_KEY}` is not valid JSON; the file is corrupt"),
        )
    })?;
    let in_file = |error: Error| match error {
        Error::Data { .. } | Error::Io { .. } => error,
        other => data_error(path, other.to_string()),
    };
    let version = metadata.get("format_version").and_then(Value::as_u64).ok_or_else(|| {
        data_error(path, "the metadata has no `format_version`; the file is corrupt")
    })?;
    check_version(version).map_err(in_file)?;
    verify(path, &tensors, &mut metadata)?;
    read_model(path, &tensors, &metadata).map_err(in_file)
}

/// Whether the file at `path` is a model file (has the `rnnkit.model` metadata); `false` when it
/// cannot be read.
pub(super) fn holds_model(path: &Path) -> bool {
    let Ok(buffer) = std::fs::read(path) else { return false };
    SafeTensors::read_metadata(&buffer).is_ok_and(|(_, header)| {
        header.metadata().as_ref().is_some_and(|m| m.contains_key(MODEL_KEY))
    })
}

/// Checks the checksum of the tensors and of `metadata`, and removes it from `metadata`.
fn verify(path: &Path, tensors: &SafeTensors<'_>, metadata: &mut Value) -> Result<()> {
    let stored = metadata.as_object_mut().and_then(|m| m.remove("checksum"));
    let Some(stored) = stored.as_ref().and_then(Value::as_str).map(str::to_string) else {
        return Err(data_error(path, "the metadata has no checksum; the file is corrupt"));
    };
    let mut names = tensors.names();
    names.sort_unstable();
    let mut data = Vec::with_capacity(names.len());
    for name in names {
        data.push(tensors.tensor(name).map_err(|e| not_a_model(path, e))?.data());
    }
    let computed = checksum::text(checksum_of(data.into_iter(), metadata));
    if stored != computed {
        return Err(data_error(
            path,
            format!(
                "the file does not match its checksum ({stored}, computed {computed}): its data \
                 or its JSON was changed after saving (damaged, or edited by hand); the file \
                 cannot be trusted"
            ),
        ));
    }
    Ok(())
}

/// The model, its weights, compile settings and optimizer state, from a verified file.
fn read_model<M: SavedModel>(
    path: &Path,
    tensors: &SafeTensors<'_>,
    metadata: &Value,
) -> Result<M> {
    let mut file = Reader::new("the file's metadata", metadata)?;
    file.u64("format_version")?;
    file.str("rnnkit_version")?;
    let mut model = M::from_architecture_json(file.required("model")?)?;
    file.required("weights")?;
    let generators = file.required("generators")?;
    let compile = file.optional("compile");
    let state = file.optional("optimizer_state");
    file.finish()?;

    // Weights: exactly the model's, each of its shape.
    let weights = model.visit_layers(|layers| {
        let mut weights = Vec::new();
        for layer in layers {
            for param in layer.params() {
                let name = format!("{}/{}", layer.name(), param.name());
                weights.push(tensor(path, tensors, &name, param.value.shape())?);
            }
        }
        Ok::<_, Error>(weights)
    })?;
    let layer_count = model.visit_layers(|layers| layers.len());
    let stored = tensors.names().into_iter().filter(|n| !n.starts_with(OPTIMIZER_PREFIX)).count();
    if stored != weights.len() {
        return Err(data_error(
            path,
            format!(
                "the file holds {stored} weight tensors but the model it describes has {}",
                weights.len()
            ),
        ));
    }
    if !weights.is_empty() {
        model.set_weights(tensors::arrays(path, &weights)?)?;
    }
    restore_generators(&mut model, generators)?;

    let Some(compile) = compile else { return Ok(model) };
    let mut compile = Reader::new("the compile settings", compile)?;
    let optimizer = optimizer_from_config(compile.required("optimizer")?)?;
    let loss = loss_from_config(compile.required("loss")?)?;
    let metrics = metrics_from_config(compile.required("metrics")?, "metrics")?;
    let weighted_metrics =
        metrics_from_config(compile.required("weighted_metrics")?, "weighted_metrics")?;
    let trainable = compile.required("trainable")?;
    let trainable = trainable
        .as_array()
        .and_then(|flags| flags.iter().map(Value::as_bool).collect::<Option<Vec<bool>>>())
        .filter(|flags| flags.len() <= layer_count)
        .ok_or_else(|| {
            config_error(
                "the compile settings: `trainable` must be a list of true or false, one per layer",
            )
        })?;
    compile.finish()?;
    model.restore_compiled(Compiled { optimizer, loss, metrics, weighted_metrics, trainable });
    if let Some(state) = state {
        let state = optimizer_state(path, tensors, state, &model.trained_shapes())?;
        if let Some(optimizer) = model.optimizer_mut() {
            optimizer.set_state(state)?;
        }
    }
    Ok(model)
}

/// Puts each layer's dropout generators where the file says they stood.
fn restore_generators<M: SavedModel>(model: &mut M, generators: &Value) -> Result<()> {
    let generators = generators
        .as_object()
        .ok_or_else(|| config_error("`generators` must map layer names to lists of states"))?;
    model.visit_layers_mut(|layers| {
        if let Some(unknown) =
            generators.keys().find(|name| !layers.iter().any(|l| l.name() == name.as_str()))
        {
            return Err(config_error(format!(
                "`generators` names no layer of the model: '{unknown}'"
            )));
        }
        for layer in layers.iter_mut() {
            let states = match generators.get(layer.name()) {
                None => Vec::new(),
                Some(states) => states
                    .as_array()
                    .ok_or_else(|| {
                        config_error("`generators` must map layer names to lists of states")
                    })?
                    .iter()
                    .map(|state| {
                        state.as_str().map_or_else(
                            || Err(config_error(format!("generator state {state} is not text"))),
                            GeneratorState::from_text,
                        )
                    })
                    .collect::<Result<Vec<_>>>()?,
            };
            layer.set_generator_states(states)?;
        }
        Ok(())
    })
}

fn optimizer_state(
    path: &Path,
    tensors: &SafeTensors<'_>,
    value: &Value,
    trained: &[Vec<usize>],
) -> Result<OptimizerState> {
    let mut reader = Reader::new("the optimizer state", value)?;
    let iterations = reader.u64("iterations")?;
    let records = reader.required("slots")?;
    let scalars = reader.required("scalars")?;
    reader.finish()?;
    let records = records
        .as_array()
        .ok_or_else(|| config_error("the optimizer state: `slots` must be a list"))?;
    let mut slots = Vec::with_capacity(records.len());
    for record in records {
        let mut record = Reader::new("an optimizer variable", record)?;
        let name = record.str("name")?.to_string();
        let count = record.usize("count")?;
        record.finish()?;
        if count > trained.len() {
            return Err(data_error(
                path,
                format!(
                    "the optimizer variable `{name}` has {count} arrays but the model trains {} \
                     weights",
                    trained.len()
                ),
            ));
        }
        let mut arrays = Vec::with_capacity(count);
        for (index, shape) in trained.iter().take(count).enumerate() {
            let tensor_name = format!("{OPTIMIZER_PREFIX}{name}/{index}");
            let array = match tensors.tensor(&tensor_name) {
                Ok(_) => {
                    let view = tensor(path, tensors, &tensor_name, shape)?;
                    tensors::arrays(path, &[view])?.remove(0)
                }
                // Not created yet: the optimizer creates it at the weight's first update.
                Err(_) => ArrayD::zeros(IxDyn(&[0])),
            };
            arrays.push(array);
        }
        slots.push((name, arrays));
    }
    let scalars = scalars
        .as_object()
        .and_then(|s| {
            s.iter()
                .map(|(name, v)| Some((name.clone(), number_f32(v)?)))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| config_error("the optimizer state: `scalars` must map names to numbers"))?;
    let expected: usize =
        slots.iter().map(|(_, a)| a.iter().filter(|a| !a.is_empty()).count()).sum();
    let stored = tensors.names().into_iter().filter(|n| n.starts_with(OPTIMIZER_PREFIX)).count();
    if stored != expected {
        return Err(data_error(
            path,
            format!("the file holds {stored} optimizer tensors but its state lists {expected}"),
        ));
    }
    Ok(OptimizerState { iterations, slots, scalars })
}

/// The `F32` tensor `name` of shape `shape`.
fn tensor<'data>(
    path: &Path,
    tensors: &SafeTensors<'data>,
    name: &str,
    shape: &[usize],
) -> Result<TensorView<'data>> {
    let view = tensors.tensor(name).map_err(|_| {
        data_error(
            path,
            format!("tensor `{name}` (expected shape {}) is missing", array_shape(shape)),
        )
    })?;
    if view.dtype() != Dtype::F32 || view.shape() != shape {
        return Err(data_error(
            path,
            format!(
                "tensor `{name}` is {:?} {} in the file, expected F32 {}",
                view.dtype(),
                array_shape(view.shape()),
                array_shape(shape)
            ),
        ));
    }
    Ok(view)
}

/// The error for bytes that are not a complete safetensors file.
fn not_a_model(path: &Path, error: safetensors::SafeTensorError) -> Error {
    data_error(
        path,
        format!(
            "not a complete safetensors file ({error}); it is truncated or corrupt — expected a \
             file written by a model's `save`"
        ),
    )
}

/// A list of metrics in the compile settings, under `key`.
fn metrics_from_config(value: &Value, key: &str) -> Result<Vec<Metric>> {
    value
        .as_array()
        .ok_or_else(|| config_error(format!("the compile settings: `{key}` must be a list")))?
        .iter()
        .map(metric_from_config)
        .collect()
}
