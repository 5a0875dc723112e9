//! The functional model, as Keras' functional API: [`Input`]s, layers called on symbolic
//! tensors ([`Call`]), and a [`Functional`] model from inputs to outputs, with several inputs,
//! several outputs and layers shared between nodes and models.

mod api;
mod graph;
mod names;
mod run;
mod shared;
mod steps;
mod summary;
mod symbolic;

pub use names::clear_session;
pub(crate) use shared::Slot;
pub use shared::{set_random_seed, Call, SharedLayer};
pub use symbolic::{Input, SymbolicTensor};

use super::compiled::{Compiled, Trackers};
use crate::layers::LayerExt;
use crate::param::Param;
use crate::shape::array_shape;
use crate::{Error, Result};
pub(crate) use graph::{Graph, Operation};
use ndarray::ArrayD;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::sync::MutexGuard;

/// A model of layers called on symbolic tensors, from its inputs to its outputs, as Keras'
/// `keras.Model(inputs, outputs)`: several inputs, several outputs, layers shared between
/// nodes. It has [`Sequential`](super::Sequential)'s methods with a list of arrays where
/// `Sequential` takes one (`compile`, `fit`, `evaluate`, `predict`, `summary`, ...), and the
/// same training loops ([`crate::training`]).
///
/// With several outputs, the compiled loss is applied to each output and the values summed,
/// as Keras does with one loss; the logs hold `loss` (the sum), `<output>_loss` per output and
/// each metric per output as `<output>_<metric>`, where `<output>` is the name of the layer
/// that made the output.
///
/// # Examples
/// Two inputs through one shared `Dense`, added up by a second model-level output:
/// ```
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let question = Input::named(&[8], "question");
/// let answer = Input::named(&[8], "answer");
/// let encoder = SharedLayer::new(Dense::new(4).activation(Activation::Tanh));
/// let q = encoder.call(&question)?;
/// let a = encoder.call(&answer)?;
/// let score_q = Dense::new(1).activation(Activation::Sigmoid).call(&q)?;
/// let score_a = Dense::new(1).activation(Activation::Sigmoid).call(&a)?;
/// let mut model = Functional::new(&[&question, &answer], &[&score_q, &score_a])?;
/// let summary = model.summary()?;
/// assert_eq!(summary.total_params(), 36 + 5 + 5);
/// println!("{summary}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Functional {
    name: String,
    graph: Graph,
    compiled: Option<Compiled>,
    tracker: Trackers,
    /// Draws the shuffling seeds of `fit`.
    rng: StdRng,
}

impl Functional {
    /// The model from `inputs` to `outputs`, named `functional` (Keras' default).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an input that is not an [`Input`] (or is given twice),
    /// an output that depends on an input not among `inputs` (a graph that does not connect),
    /// an input no output depends on, no input or no output, and a name used by two layers.
    pub fn new(inputs: &[&SymbolicTensor], outputs: &[&SymbolicTensor]) -> Result<Functional> {
        let graph = Graph::trace(inputs, outputs)?;
        Ok(Functional {
            name: "functional".into(),
            graph,
            compiled: None,
            tracker: Trackers::default(),
            rng: StdRng::seed_from_u64(0),
        })
    }

    /// Names the model (Keras' `keras.Model(..., name=)`), as the summary prints it.
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// The model's name.
    pub fn model_name(&self) -> &str {
        &self.name
    }

    /// The names and per-sample shapes of the inputs, in order.
    pub fn input_shapes(&self) -> Vec<(String, Vec<usize>)> {
        self.graph.inputs.iter().map(|i| (i.name.clone(), i.shape.clone())).collect()
    }

    /// The per-sample shapes of the outputs, in order.
    pub fn output_shapes(&self) -> Vec<Vec<usize>> {
        self.graph.outputs.iter().map(|&s| self.graph.shapes[s].clone()).collect()
    }

    /// The names of the outputs: each the name of the layer that made it (Keras'
    /// `output_names`).
    pub fn output_names(&self) -> Vec<String> {
        self.graph
            .outputs
            .iter()
            .map(|&slot| match self.graph.nodes.iter().find(|n| n.outputs.contains(&slot)) {
                Some(node) => self.graph.layers[node.layer].name(),
                None => self.graph.inputs[slot].name.clone(),
            })
            .collect()
    }

    /// The layers, in Keras' order (`model.layers` without the input layers).
    pub fn layers(&self) -> Vec<SharedLayer> {
        self.ordered().map(|i| self.graph.layers[i].clone()).collect()
    }

    /// The layer named `name` (Keras' `model.get_layer(name)`), a handle to the model's layer.
    ///
    /// # Errors
    /// [`Error::NoSuchLayer`], listing the model's layer names.
    pub fn get_layer(&self, name: &str) -> Result<SharedLayer> {
        let layers = self.layers();
        match layers.iter().find(|l| l.name() == name) {
            Some(layer) => Ok(layer.clone()),
            None => Err(Error::NoSuchLayer {
                name: name.into(),
                available: layers.iter().map(SharedLayer::name).collect::<Vec<_>>().join(", "),
            }),
        }
    }

    /// Copies of every weight, layer by layer in Keras' order (`model.get_weights()`); a
    /// shared layer's weights appear once.
    pub fn get_weights(&self) -> Vec<ArrayD<f32>> {
        self.locked().iter().flat_map(|slot| slot.layer.get_weights()).collect()
    }

    /// Replaces every weight, in the order of [`Functional::get_weights`].
    ///
    /// # Errors
    /// [`Error::WeightCount`] when the count differs and [`Error::WeightMismatch`] when a shape
    /// differs; the weights are then left unchanged.
    pub fn set_weights(&mut self, weights: Vec<ArrayD<f32>>) -> Result<()> {
        let mut locked = self.locked();
        let expected: usize = locked.iter().map(|s| s.layer.params().len()).sum();
        if weights.len() != expected {
            let names: Vec<String> = locked
                .iter()
                .flat_map(|s| {
                    s.layer.params().into_iter().map(|p| format!("{}/{}", s.layer.name(), p.name()))
                })
                .collect();
            return Err(Error::WeightCount {
                layer: self.name.clone(),
                expected,
                found: weights.len(),
                names: names.join(", "),
            });
        }
        let mut index = 0;
        for slot in &locked {
            for param in slot.layer.params() {
                if param.value.shape() != weights[index].shape() {
                    return Err(Error::WeightMismatch {
                        layer: slot.layer.name().to_string(),
                        index,
                        expected: format!("{} {}", param.name(), array_shape(param.value.shape())),
                        found: array_shape(weights[index].shape()),
                    });
                }
                index += 1;
            }
        }
        let mut weights = weights.into_iter();
        for slot in &mut locked {
            let count = slot.layer.params().len();
            slot.layer.set_weights(weights.by_ref().take(count).collect())?;
        }
        Ok(())
    }

    /// The traced graph.
    pub(crate) fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The shapes of the weights the optimizer updates (the layers trainable at `compile`, in
    /// Keras' order); none before `compile`.
    pub(crate) fn trained_shapes(&self) -> Vec<Vec<usize>> {
        let Some(compiled) = &self.compiled else { return Vec::new() };
        self.with_trained(&compiled.trainable, |params| {
            params.iter().map(|p| p.value.shape().to_vec()).collect()
        })
    }

    /// Indices into the graph's layers, in Keras' order.
    fn ordered(&self) -> impl Iterator<Item = usize> + '_ {
        self.graph.operations.iter().filter_map(|op| match *op {
            Operation::Layer(i) => Some(i),
            Operation::Input(_) => None,
        })
    }

    /// Every layer locked, in Keras' order.
    pub(crate) fn locked(&self) -> Vec<MutexGuard<'_, Slot>> {
        self.ordered().map(|i| self.graph.layers[i].lock()).collect()
    }

    /// Each layer's trainability, in Keras' order.
    fn trainable_flags(&self) -> Vec<bool> {
        self.locked().iter().map(|s| s.layer.is_trainable()).collect()
    }

    /// Runs `f` on the weights the optimizer updates (the layers trainable at `compile`, in
    /// Keras' order).
    fn with_trained<T>(&self, at_compile: &[bool], f: impl FnOnce(&mut [&mut Param]) -> T) -> T {
        let mut locked = self.locked();
        let mut params: Vec<&mut Param> = locked
            .iter_mut()
            .enumerate()
            .filter(|(i, s)| at_compile.get(*i).copied().unwrap_or_else(|| s.layer.is_trainable()))
            .flat_map(|(_, s)| s.layer.params_mut())
            .collect();
        f(&mut params)
    }

    /// Sets every gradient to zero.
    fn zero_grads(&self) {
        for mut slot in self.locked() {
            for param in slot.layer.params_mut() {
                param.grad.fill(0.0);
            }
        }
    }
}
