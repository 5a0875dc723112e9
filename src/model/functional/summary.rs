//! `Functional::summary`: Keras' table for a functional model, its inputs as `InputLayer` rows
//! and, unless the model is a chain, the "Connected to" column.

use super::graph::Operation;
use super::Functional;
use crate::layers::LayerExt;
use crate::model::{LayerSummary, Summary};
use crate::shape::keras_shape;
use crate::Result;

impl Functional {
    /// The model's table, as Keras' `model.summary()`: a row per input (`InputLayer`) and per
    /// layer in Keras' order, with output shapes (a list of shapes for a layer of several
    /// outputs), parameter counts (a shared layer's once) and, for a model that is not a
    /// chain of single-input layers, the "Connected to" column listing each layer's inputs as
    /// `layer[node][tensor]`.
    ///
    /// # Errors
    /// None for a model [`Functional::new`] accepted; the `Result` matches
    /// [`Sequential::summary`](crate::model::Sequential::summary).
    ///
    /// # Examples
    /// ```
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let title = Input::named(&[NONE], "title");
    /// let body = Input::named(&[NONE], "body");
    /// let embed = SharedLayer::new(Embedding::new(1000, 16));
    /// let title_vec = Lstm::new(8).call(&embed.call(&title)?)?;
    /// let body_vec = Lstm::new(8).call(&embed.call(&body)?)?;
    /// let priority = Dense::new(1).activation(Activation::Sigmoid).call(&title_vec)?;
    /// let department = Dense::new(4).activation(Activation::Softmax).call(&body_vec)?;
    /// let mut model = Functional::new(&[&title, &body], &[&priority, &department])?;
    /// let summary = model.summary()?;
    /// println!("{summary}");
    /// assert_eq!(summary.total_params(), 16_000 + 2 * 800 + 9 + 36);
    /// assert!(summary.to_string().contains("Connected to"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn summary(&mut self) -> Result<Summary> {
        let graph = &self.graph;
        let chain = self.is_chain();
        let mut rows = Vec::new();
        let mut connected = Vec::new();
        for op in &graph.operations {
            match *op {
                Operation::Input(i) => {
                    let input = &graph.inputs[i];
                    rows.push((
                        LayerSummary {
                            name: input.name.clone(),
                            class_name: "InputLayer".into(),
                            output_shape: input.shape.clone(),
                            params: 0,
                            trainable: true,
                        },
                        None,
                    ));
                    connected.push("-".to_string());
                }
                Operation::Layer(l) => {
                    let slot = graph.layers[l].lock();
                    let outputs =
                        slot.signature.as_ref().map(|(_, o)| o.clone()).unwrap_or_default();
                    let text = (outputs.len() != 1).then(|| {
                        let shapes: Vec<String> = outputs.iter().map(|s| keras_shape(s)).collect();
                        format!("[{}]", shapes.join(", "))
                    });
                    rows.push((
                        LayerSummary {
                            name: slot.layer.name().to_string(),
                            class_name: slot.layer.class_name().to_string(),
                            output_shape: outputs.first().cloned().unwrap_or_default(),
                            params: slot.layer.count_params(),
                            trainable: slot.layer.is_trainable(),
                        },
                        text,
                    ));
                    drop(slot);
                    connected.push(self.connections(l));
                }
            }
        }
        Ok(Summary::functional(self.name.clone(), rows, (!chain).then_some(connected)))
    }

    /// The "Connected to" cell of layer `l`: the inputs of its nodes, in call order.
    fn connections(&self, l: usize) -> String {
        let graph = &self.graph;
        let mut nodes: Vec<_> = graph.nodes.iter().filter(|n| n.layer == l).collect();
        nodes.sort_by_key(|n| n.call_index);
        let mut cells = Vec::new();
        for node in nodes {
            for &slot in &node.inputs {
                cells.push(match graph.nodes.iter().find(|n| n.outputs.contains(&slot)) {
                    Some(producer) => {
                        let index = producer.outputs.iter().position(|&s| s == slot).unwrap_or(0);
                        let name = graph.layers[producer.layer].name();
                        format!("{name}[{}][{index}]", producer.call_index)
                    }
                    None => format!("{}[0][0]", graph.inputs[slot].name),
                });
            }
        }
        if cells.is_empty() {
            "-".into()
        } else {
            cells.join(", ")
        }
    }

    /// Whether Keras prints the model as a chain (its `sequential_like`): one node per depth
    /// (inputs included), each with at most one input, and no layer called twice.
    fn is_chain(&self) -> bool {
        let graph = &self.graph;
        let mut depths: Vec<usize> = graph.input_depths.clone();
        depths.extend(graph.nodes.iter().map(|n| n.depth));
        let mut sorted = depths.clone();
        sorted.sort_unstable();
        sorted.dedup();
        sorted.len() == depths.len()
            && graph.nodes.iter().all(|n| n.inputs.len() <= 1)
            && graph.calls.iter().all(|&c| c == 1)
    }
}
