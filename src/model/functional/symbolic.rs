//! Symbolic tensors ([`SymbolicTensor`], Keras' `KerasTensor`) and [`Input`]: what a layer is
//! called on while a functional model is being described.

use super::shared::SharedLayer;
use crate::shape::keras_shape;
use std::fmt;
use std::sync::{Arc, Mutex};

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
    /// An [`Input`], with its name (empty until given or set by a model).
    Input(Mutex<String>),
    /// Output `index` of a layer's call.
    Node(Arc<NodeData>, usize),
}

/// One call of a layer on symbolic tensors (Keras' `Node`).
pub(crate) struct NodeData {
    pub(crate) layer: SharedLayer,
    pub(crate) inputs: Vec<SymbolicTensor>,
    pub(crate) output_shapes: Vec<Vec<usize>>,
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

    /// The tensor's name: an input's name, or `<layer>/<index>` for a layer's output (the
    /// layer's name is given when a model names it).
    pub fn name(&self) -> String {
        match &self.inner.source {
            Source::Input(name) => lock(name).clone(),
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

    /// Names an unnamed input `name`; returns the input's name (`None` for a layer's output).
    pub(crate) fn name_input_if_unnamed(&self, name: impl FnOnce() -> String) -> Option<String> {
        match &self.inner.source {
            Source::Input(current) => {
                let mut current = lock(current);
                if current.is_empty() {
                    *current = name();
                }
                Some(current.clone())
            }
            Source::Node(..) => None,
        }
    }
}

fn lock(name: &Mutex<String>) -> std::sync::MutexGuard<'_, String> {
    name.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
    /// An input of per-sample shape `shape`, named by the model that uses it (`input_layer`,
    /// `input_layer_1`, ... as Keras).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(shape: &[usize]) -> SymbolicTensor {
        Input::named(shape, "")
    }

    /// An input of per-sample shape `shape` named `name` (Keras' `keras.Input(shape, name=)`).
    pub fn named(shape: &[usize], name: &str) -> SymbolicTensor {
        SymbolicTensor {
            inner: Arc::new(TensorData {
                shape: shape.to_vec(),
                source: Source::Input(Mutex::new(name.to_string())),
            }),
        }
    }
}
