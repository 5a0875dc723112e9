//! A [`Functional`]'s architecture as JSON, with Keras' node list (`inbound_nodes`), and the
//! whole model in the file `Sequential::save` writes.
//!
//! ```json
//! {"class_name": "Functional", "format_version": 1, "rnnkit_version": "..",
//!  "config": {"name": "functional",
//!    "layers": [
//!      {"class_name": "InputLayer", "config": {"name": "input_layer", "batch_shape": [null, 5]},
//!       "inbound_nodes": []},
//!      {"class_name": "Dense", "config": {"name": "dense", ..},
//!       "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {
//!           "shape": [null, 5], "dtype": "float32",
//!           "keras_history": ["input_layer", 0, 0]}}], "kwargs": {}}, ..]},
//!      ..],
//!    "input_layers": [["input_layer", 0, 0], ..],
//!    "output_layers": [["dense_1", 0, 0], ..]}}
//! ```
//!
//! A layer appears once, with one inbound node per call in the model (a shared layer has
//! several); a node's `args` hold its input tensor, or the list of its input tensors for a
//! layer called on several. `keras_history` is `[layer, node, tensor]`, the node counted among
//! that layer's nodes in the model.

use super::config::{dims_of, dims_value};
use super::model::{check_version, FORMAT_VERSION};
use super::saved_model::SavedModel;
use super::{config_error, layers, model_file, Reader};
use crate::layers::Layer;
use crate::model::compiled::Compiled;
use crate::model::{Call, Functional, Input, Operation, SharedLayer, SymbolicTensor};
use crate::optimizers::Optimizer;
use crate::Result;
use ndarray::ArrayD;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;

impl Functional {
    /// The model's architecture as JSON, as Keras' `model.to_json()`: every input
    /// (`InputLayer`) and layer with its configuration and its inbound nodes, and the model's
    /// inputs and outputs.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) for a layer without a configuration (a custom
    /// layer whose `get_config` returns `None`).
    ///
    /// # Examples
    /// ```
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let a = Input::new(&[4]);
    /// let b = Input::new(&[4]);
    /// let shared = SharedLayer::new(Dense::new(2));
    /// let (ha, hb) = (shared.call(&a)?, shared.call(&b)?);
    /// let mut model = Functional::new(&[&a, &b], &[&ha, &hb])?;
    /// let mut copy = Functional::from_json(&model.to_json()?)?;
    /// assert_eq!(copy.summary()?.to_string(), model.summary()?.to_string());
    /// # Ok(())
    /// # }
    /// ```
    pub fn to_json(&self) -> Result<String> {
        Ok(self.architecture_json()?.to_string())
    }

    /// The model `json` describes (written by [`Functional::to_json`]), with new weights and
    /// not compiled, as Keras' `keras.models.model_from_json`.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) naming what is wrong: not JSON, a newer format,
    /// an unknown class, a missing key, a node whose inputs are never made.
    pub fn from_json(json: &str) -> Result<Functional> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| config_error(format!("not valid JSON ({e})")))?;
        Functional::from_architecture_json(&value)
    }

    /// Writes the whole model to `path` in the file of
    /// [`Sequential::save`](crate::model::Sequential::save): architecture (with its node
    /// list), weights (a shared layer's once), compile settings and optimizer state, so that
    /// [`Functional::load`] resumes training exactly where it stopped.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) for a layer or optimizer without a
    /// configuration; [`Error::Io`](crate::Error::Io) when `path` cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        model_file::save(self, path.as_ref())
    }

    /// The model [`Functional::save`] wrote at `path`.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) when `path` cannot be read; [`Error::Data`](crate::Error::Data)
    /// when the file is damaged, is not a whole model or does not hold a functional model.
    pub fn load(path: impl AsRef<Path>) -> Result<Functional> {
        model_file::load(path.as_ref())
    }

    /// The JSON of [`Functional::to_json`].
    pub(super) fn architecture_json(&self) -> Result<Value> {
        let graph = self.graph();
        let names: Vec<String> = graph.layers.iter().map(SharedLayer::name).collect();
        // Each node's position among its layer's nodes in this model, in call order.
        let mut local = vec![0; graph.nodes.len()];
        for (l, _) in graph.layers.iter().enumerate() {
            let mut nodes: Vec<usize> =
                (0..graph.nodes.len()).filter(|&n| graph.nodes[n].layer == l).collect();
            nodes.sort_by_key(|&n| graph.nodes[n].call_index);
            for (position, n) in nodes.into_iter().enumerate() {
                local[n] = position;
            }
        }
        let history = |slot: usize| -> Value {
            match graph.nodes.iter().position(|n| n.outputs.contains(&slot)) {
                Some(n) => {
                    let tensor =
                        graph.nodes[n].outputs.iter().position(|&s| s == slot).unwrap_or(0);
                    json!([names[graph.nodes[n].layer], local[n], tensor])
                }
                None => json!([graph.inputs[slot].name, 0, 0]),
            }
        };
        let keras_tensor = |slot: usize| -> Value {
            let shape: Vec<usize> = [crate::shape::NONE]
                .into_iter()
                .chain(graph.shapes[slot].iter().copied())
                .collect();
            json!({"class_name": "__keras_tensor__", "config": {
                "shape": dims_value(&shape), "dtype": "float32", "keras_history": history(slot)}})
        };
        let mut records = Vec::new();
        for op in &graph.operations {
            match *op {
                Operation::Input(i) => {
                    let input = &graph.inputs[i];
                    let shape: Vec<usize> = [crate::shape::NONE]
                        .into_iter()
                        .chain(input.shape.iter().copied())
                        .collect();
                    records.push(json!({"class_name": "InputLayer",
                        "config": {"name": input.name, "batch_shape": dims_value(&shape)},
                        "inbound_nodes": []}));
                }
                Operation::Layer(l) => {
                    let mut record = graph.layers[l].with(|layer| layers::to_config(layer))?;
                    let mut nodes: Vec<usize> =
                        (0..graph.nodes.len()).filter(|&n| graph.nodes[n].layer == l).collect();
                    nodes.sort_by_key(|&n| local[n]);
                    let inbound: Vec<Value> = nodes
                        .iter()
                        .map(|&n| {
                            let inputs: Vec<Value> =
                                graph.nodes[n].inputs.iter().map(|&s| keras_tensor(s)).collect();
                            let args = match inputs.len() {
                                1 => inputs,
                                _ => vec![Value::Array(inputs)],
                            };
                            json!({"args": args, "kwargs": {}})
                        })
                        .collect();
                    record["inbound_nodes"] = Value::Array(inbound);
                    records.push(record);
                }
            }
        }
        let inputs: Vec<Value> = (0..graph.inputs.len()).map(history).collect();
        let outputs: Vec<Value> = graph.outputs.iter().map(|&s| history(s)).collect();
        Ok(json!({
            "class_name": "Functional",
            "config": {
                "name": self.model_name(),
                "layers": records,
                "input_layers": inputs,
                "output_layers": outputs,
            },
            "format_version": FORMAT_VERSION,
            "rnnkit_version": env!("CARGO_PKG_VERSION"),
        }))
    }

    /// The model of [`Functional::architecture_json`]: its inputs and layers made again, and
    /// every node replayed once its inputs exist.
    pub(super) fn from_architecture_json(value: &Value) -> Result<Functional> {
        let mut outer = Reader::new("the model", value)?;
        check_version(outer.u64("format_version")?)?;
        outer.str("rnnkit_version")?;
        let class_name = outer.str("class_name")?;
        if class_name != "Functional" {
            return Err(config_error(format!(
                "the model: class \"{class_name}\" is not a functional model; expected \
                 \"Functional\" (load a Sequential with `Sequential::from_json` or `load`)"
            )));
        }
        let config = outer.required("config")?;
        outer.finish()?;
        let mut config = Reader::new("the model (Functional)", config)?;
        let name = config.str("name")?.to_string();
        let records = list(config.required("layers")?, "`layers`")?;
        let input_refs = list(config.required("input_layers")?, "`input_layers`")?;
        let output_refs = list(config.required("output_layers")?, "`output_layers`")?;
        config.finish()?;

        let mut tensors: HashMap<(String, usize, usize), SymbolicTensor> = HashMap::new();
        let mut pending: Vec<(SharedLayer, String, Vec<Value>)> = Vec::new();
        for (position, record) in records.iter().enumerate() {
            let mut stripped = record.clone();
            let nodes = stripped
                .as_object_mut()
                .and_then(|r| r.remove("inbound_nodes"))
                .ok_or_else(|| config_error(format!("layer {position}: no `inbound_nodes`")))?;
            if record["class_name"] == "InputLayer" {
                let mut input = Reader::new(format!("input {position}"), &stripped["config"])?;
                let input_name = input.str("name")?.to_string();
                let shape = dims_of(input.required("batch_shape")?)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| {
                        config_error(format!(
                            "input '{input_name}': `batch_shape` must be a list of sizes or null"
                        ))
                    })?;
                input.finish()?;
                tensors.insert((input_name.clone(), 0, 0), Input::named(&shape[1..], &input_name));
                continue;
            }
            let layer = layers::from_config(&stripped, position)?;
            let layer_name = layer.base().name().to_string();
            let nodes = list(&nodes, "`inbound_nodes`")?.clone();
            pending.push((SharedLayer::from_boxed(layer), layer_name, nodes));
        }
        // Replays the nodes in as many passes as the graph is deep.
        let mut done = vec![0usize; pending.len()];
        loop {
            let mut progress = false;
            for (i, (layer, layer_name, nodes)) in pending.iter().enumerate() {
                while done[i] < nodes.len() {
                    let Some(inputs) = node_inputs(&nodes[done[i]], &tensors)? else { break };
                    let refs: Vec<&SymbolicTensor> = inputs.iter().collect();
                    let outputs = layer.call_multi(&refs)?;
                    for (t, output) in outputs.into_iter().enumerate() {
                        tensors.insert((layer_name.clone(), done[i], t), output);
                    }
                    done[i] += 1;
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
        if let Some(i) = (0..pending.len()).find(|&i| done[i] < pending[i].2.len()) {
            return Err(config_error(format!(
                "layer '{}': node {} reads a tensor that no layer of the model makes",
                pending[i].1, done[i]
            )));
        }
        let find = |r: &Value| -> Result<SymbolicTensor> {
            let key = history_key(r)?;
            tensors.get(&key).cloned().ok_or_else(|| {
                config_error(format!("no tensor {}[{}][{}] in the model", key.0, key.1, key.2))
            })
        };
        let inputs = input_refs.iter().map(|r| find(r)).collect::<Result<Vec<_>>>()?;
        let outputs = output_refs.iter().map(|r| find(r)).collect::<Result<Vec<_>>>()?;
        let inputs: Vec<&SymbolicTensor> = inputs.iter().collect();
        let outputs: Vec<&SymbolicTensor> = outputs.iter().collect();
        Ok(Functional::new(&inputs, &outputs)?.name(&name))
    }
}

/// `value` as a list, or an error naming `what`.
fn list<'a>(value: &'a Value, what: &str) -> Result<&'a Vec<Value>> {
    value.as_array().ok_or_else(|| config_error(format!("the model: {what} must be a list")))
}

/// `[layer, node, tensor]` as a key.
fn history_key(value: &Value) -> Result<(String, usize, usize)> {
    let bad = || config_error(format!("{value} is not [layer name, node index, tensor index]"));
    let [layer, node, tensor] = value.as_array().map(Vec::as_slice).ok_or_else(bad)? else {
        return Err(bad());
    };
    let index = |v: &Value| v.as_u64().and_then(|v| usize::try_from(v).ok()).ok_or_else(bad);
    Ok((layer.as_str().ok_or_else(bad)?.to_string(), index(node)?, index(tensor)?))
}

/// The input tensors of a recorded node, or `None` while one of them is not made yet.
fn node_inputs(
    node: &Value,
    tensors: &HashMap<(String, usize, usize), SymbolicTensor>,
) -> Result<Option<Vec<SymbolicTensor>>> {
    let args = node
        .get("args")
        .and_then(Value::as_array)
        .ok_or_else(|| config_error(format!("inbound node {node}: `args` must be a list")))?;
    let refs: Vec<&Value> = match args.as_slice() {
        [Value::Array(many)] => many.iter().collect(),
        one => one.iter().collect(),
    };
    let mut inputs = Vec::with_capacity(refs.len());
    for r in refs {
        let history = r
            .get("config")
            .and_then(|c| c.get("keras_history"))
            .ok_or_else(|| config_error(format!("inbound tensor {r}: no `keras_history`")))?;
        match tensors.get(&history_key(history)?) {
            Some(t) => inputs.push(t.clone()),
            None => return Ok(None),
        }
    }
    Ok(Some(inputs))
}

impl SavedModel for Functional {
    fn architecture_json(&self) -> Result<Value> {
        Functional::architecture_json(self)
    }

    fn from_architecture_json(value: &Value) -> Result<Self> {
        Functional::from_architecture_json(value)
    }

    fn is_built(&self) -> bool {
        true
    }

    fn visit_layers<T>(&self, f: impl FnOnce(&[&dyn Layer]) -> T) -> T {
        let locked = self.locked();
        let layers: Vec<&dyn Layer> = locked.iter().map(|s| s.layer.as_ref()).collect();
        f(&layers)
    }

    fn visit_layers_mut<T>(&mut self, f: impl FnOnce(&mut [&mut dyn Layer]) -> T) -> T {
        let mut locked = self.locked();
        let mut layers: Vec<&mut dyn Layer> =
            locked.iter_mut().map(|s| s.layer.as_mut() as &mut dyn Layer).collect();
        f(&mut layers)
    }

    fn set_weights(&mut self, weights: Vec<ArrayD<f32>>) -> Result<()> {
        Functional::set_weights(self, weights)
    }

    fn compiled_settings(&self) -> Option<&Compiled> {
        Functional::compiled_settings(self)
    }

    fn restore_compiled(&mut self, compiled: Compiled) {
        self.set_compiled(compiled);
    }

    fn optimizer_mut(&mut self) -> Option<&mut dyn Optimizer> {
        Functional::optimizer_mut(self)
    }

    fn trained_shapes(&self) -> Vec<Vec<usize>> {
        Functional::trained_shapes(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Dense;

    #[test]
    fn a_node_reading_a_missing_tensor_is_refused() {
        let a = Input::new(&[3]);
        let h = Dense::new(2).call(&a).unwrap();
        let model = Functional::new(&[&a], &[&h]).unwrap();
        let json =
            model.to_json().unwrap().replace("[\"input_layer\",0,0]]}}]", "[\"nowhere\",0,0]]}}]");
        let err = Functional::from_json(&json).unwrap_err().to_string();
        assert!(err.contains("no layer of the model makes") || err.contains("no tensor"), "{err}");
    }
}
