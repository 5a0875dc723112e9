//! Symbolic tensors ([`SymbolicTensor`], Keras' `KerasTensor`) and [`Input`]: what a layer is
//! called on while a functional model is being described.

use super::shared::SharedLayer;
use crate::shape::keras_shape;
use std::fmt;
use std::sync::Arc;

/// A placeholder for a batch of arrays of a known per-sample shape, as Keras' `KerasTensor`:
/// an [`Input`], or an output of a layer called on symbolic tensors ([`Call`](super::Call)).
/// It remembers the call that made it, so [`Functional::new`](super::Functional::new) can
/// trace the graph from a model's outputs back to its inputs. Clones are the same tensor.
#[derive(Clone)]
pub struct SymbolicTensor {
    inner: Arc<TensorData>,
}

struct TensorData {
    shape: Vec<usize>,
    source: Source,
}

/// Where a tensor comes from.
pub(crate) enum Source {
    /// An [`Input`], with its name.
    Input(String),
    /// Output `index` of a layer's call.
    Node(Arc<NodeData>, usize),
}

/// One call of a layer on symbolic tensors (Keras' `Node`).
pub(crate) struct NodeData {
    pub(crate) layer: SharedLayer,
    pub(crate) inputs: Vec<SymbolicTensor>,
    pub(crate) output_shapes: Vec<Vec<usize>>,
    /// Which call of the layer this is (Keras' node index).
    pub(crate) call_index: usize,
}

impl SymbolicTensor {
    /// Output `index` of `node`.
    pub(crate) fn node_output(node: &Arc<NodeData>, index: usize) -> Self {
        SymbolicTensor {
            inner: Arc::new(TensorData {
                shape: node.output_shapes[index].clone(),
                source: Source::Node(Arc::clone(node), index),
            }),
        }
    }

    /// The per-sample shape (the batch axis left out; [`NONE`](crate::layers::NONE) for an
    /// axis of any length).
    pub fn shape(&self) -> &[usize] {
        &self.inner.shape
    }

    /// The tensor's name: an input's name, or `<layer>/<index>` for output `index` of a
    /// layer.
    pub fn name(&self) -> String {
        match &self.inner.source {
            Source::Input(name) => name.clone(),
            Source::Node(node, index) => format!("{}/{index}", node.layer.name()),
        }
    }

    /// Where the tensor comes from.
    pub(crate) fn source(&self) -> &Source {
        &self.inner.source
    }

    /// The address identifying the tensor.
    pub(crate) fn key(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// Whether the tensor is an [`Input`].
    pub(crate) fn is_input(&self) -> bool {
        matches!(self.inner.source, Source::Input(_))
    }
}

impl fmt::Debug for SymbolicTensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<SymbolicTensor shape={} name={}>", keras_shape(self.shape()), self.name())
    }
}

/// The entry point of a functional model, as Keras' `keras.Input`: a symbolic tensor of a
/// per-sample shape (the batch axis left out; [`NONE`](crate::layers::NONE) for an axis of any
/// length, as Keras' `None`).
///
/// # Examples
/// ```
/// use rnnkit::model::Input;
/// use rnnkit::layers::NONE;
/// let ids = Input::new(&[NONE]); // sequences of ids of any length
/// let features = Input::named(&[10, 8], "features");
/// assert_eq!(ids.shape(), &[NONE]);
/// assert_eq!(features.name(), "features");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Input;

impl Input {
    /// An input of per-sample shape `shape`, named as Keras names it: `input_layer`, then
    /// `input_layer_1`, ... (see [`clear_session`](super::clear_session)).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(shape: &[usize]) -> SymbolicTensor {
        Input::named(shape, &super::names::unique_name("input_layer"))
    }

    /// An input of per-sample shape `shape` named `name` (Keras' `keras.Input(shape, name=)`).
    pub fn named(shape: &[usize], name: &str) -> SymbolicTensor {
        SymbolicTensor {
            inner: Arc::new(TensorData {
                shape: shape.to_vec(),
                source: Source::Input(name.to_string()),
            }),
        }
    }
}
