//! [`SharedLayer`]: one layer (one set of weights) callable at several nodes and in several
//! models, and the trait [`Call`] that applies a layer to symbolic tensors.

use super::symbolic::{NodeData, SymbolicTensor};
use crate::layers::{snake_case, Layer, LayerExt};
use crate::shape::keras_shape;
use crate::{Error, Result};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

/// A layer behind a clonable handle, as a Keras layer object is: every clone is the same layer
/// with the same weights, so calling two clones (or one handle twice) shares the weights.
///
/// A layer given to [`Call::call`] by value is wrapped in a `SharedLayer` of its own; keep a
/// `SharedLayer` to call the layer again, to use it in a second model (an inference model built
/// from a trained model's layers), or to read its weights after training.
///
/// # Examples
/// ```
/// use rnnkit::model::{Call, Functional, Input, SharedLayer};
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let left = Input::new(&[4]);
/// let right = Input::new(&[4]);
/// let dense = SharedLayer::new(Dense::new(3));
/// let a = dense.call(&left)?;
/// let b = dense.call(&right)?; // the same kernel and bias
/// let mut model = Functional::new(&[&left, &right], &[&a, &b])?;
/// assert_eq!(model.summary()?.total_params(), 15);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SharedLayer {
    inner: Arc<Mutex<Slot>>,
}

/// The layer and the shapes of its first call, against which later calls are checked.
pub(crate) struct Slot {
    pub(crate) layer: Box<dyn Layer>,
    /// Per-sample input and output shapes of the first call.
    pub(crate) signature: Option<(Vec<Vec<usize>>, Vec<Vec<usize>>)>,
    /// How many times the layer was called (Keras' count of inbound nodes).
    pub(crate) calls: usize,
}

impl fmt::Debug for SharedLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.try_lock() {
            Ok(slot) => f.debug_tuple("SharedLayer").field(&slot.layer).finish(),
            Err(_) => f.write_str("SharedLayer(<in use>)"),
        }
    }
}

thread_local! {
    /// The generator of the weights of layers built by a call (Keras' global seed generator):
    /// seeded with 0 on every thread, so the same program builds the same weights.
    static GENERATOR: RefCell<StdRng> = RefCell::new(StdRng::seed_from_u64(0));
}

/// Seeds the generator that initialises the weights of layers built by [`Call::call`] on this
/// thread, as Keras' `keras.utils.set_random_seed`. Every thread starts at seed 0.
pub fn set_random_seed(seed: u64) {
    GENERATOR.with(|g| *g.borrow_mut() = StdRng::seed_from_u64(seed));
}

impl SharedLayer {
    /// Wraps `layer` in a handle that can be cloned and called at several nodes.
    pub fn new(layer: impl Layer + 'static) -> Self {
        SharedLayer::from_boxed(Box::new(layer))
    }

    /// Wraps a boxed layer, as [`SharedLayer::new`].
    pub fn from_boxed(layer: Box<dyn Layer>) -> Self {
        SharedLayer { inner: Arc::new(Mutex::new(Slot { layer, signature: None, calls: 0 })) }
    }

    /// Runs `f` on the layer (to read its weights, rename or freeze it).
    ///
    /// # Examples
    /// ```
    /// use rnnkit::model::SharedLayer;
    /// use rnnkit::prelude::*;
    /// let dense = SharedLayer::new(Dense::new(3));
    /// dense.with(|layer| layer.set_name("head".into()));
    /// assert_eq!(dense.with(|layer| layer.name().to_string()), "head");
    /// ```
    pub fn with<T>(&self, f: impl FnOnce(&mut dyn Layer) -> T) -> T {
        f(self.lock().layer.as_mut())
    }

    /// The layer's name (empty until the user names it or its first call gives it Keras'
    /// default, `dense`, `dense_1`, ...).
    pub fn name(&self) -> String {
        self.lock().layer.base().name().to_string()
    }

    /// Whether `self` and `other` are the same layer.
    pub fn same(&self, other: &SharedLayer) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The address identifying the layer (for maps keyed by layer).
    pub(crate) fn key(&self) -> usize {
        Arc::as_ptr(&self.inner) as *const () as usize
    }

    /// The layer, locked. A poisoned lock (a panic while another thread held it) still gives
    /// the layer: its state is whatever the panicking call left.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Slot> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies the layer to `inputs`: builds it at its first call, checks a later call's
    /// shapes against the first's, and records the node.
    fn apply(&self, inputs: &[&SymbolicTensor]) -> Result<Vec<SymbolicTensor>> {
        if inputs.is_empty() {
            return Err(Error::invalid("inputs", "at least one symbolic tensor", "none"));
        }
        let shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape().to_vec()).collect();
        let (outputs, call_index) = {
            let mut slot = self.lock();
            if slot.layer.base().name().is_empty() {
                let name = super::names::unique_name(&snake_case(slot.layer.class_name()));
                slot.layer.set_name(name);
            }
            let outputs = match &slot.signature {
                Some((first, outputs)) => {
                    let outputs = outputs.clone();
                    check_compatible(slot.layer.base().name(), first, &shapes)?;
                    outputs
                }
                None => {
                    let outputs =
                        GENERATOR.with(|g| slot.layer.build_multi(&shapes, &mut g.borrow_mut()))?;
                    slot.signature = Some((shapes, outputs.clone()));
                    outputs
                }
            };
            slot.calls += 1;
            (outputs, slot.calls - 1)
        };
        let node = Arc::new(NodeData {
            layer: self.clone(),
            inputs: inputs.iter().map(|&t| t.clone()).collect(),
            output_shapes: outputs.clone(),
            call_index,
        });
        Ok((0..outputs.len()).map(|index| SymbolicTensor::node_output(&node, index)).collect())
    }
}

/// Checks that a later call's input shapes fit the first call's (an axis of any length fits
/// any size).
fn check_compatible(name: &str, first: &[Vec<usize>], found: &[Vec<usize>]) -> Result<()> {
    let axis_fits =
        |a: &usize, b: &usize| a == b || *a == crate::shape::NONE || *b == crate::shape::NONE;
    let fits = first.len() == found.len()
        && first
            .iter()
            .zip(found)
            .all(|(a, b)| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| axis_fits(x, y)));
    if fits {
        return Ok(());
    }
    let list = |shapes: &[Vec<usize>]| {
        shapes.iter().map(|s| keras_shape(s)).collect::<Vec<_>>().join(", ")
    };
    Err(Error::ShapeMismatch {
        layer: format!("layer '{name}' (called again on inputs incompatible with its first call)"),
        expected: list(first),
        found: list(found),
    })
}

/// Applying a layer to symbolic tensors, as calling a Keras layer on `KerasTensor`s: `call` for
/// one input and one output, `call_multi` for several. Implemented for every layer (consumed:
/// it is used at this node only, unless the model gives it back) and for `&SharedLayer`.
///
/// # Examples
/// ```
/// use rnnkit::model::{Call, Input};
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let ids = Input::new(&[NONE]);
/// let embedded = Embedding::new(100, 8).call(&ids)?;
/// let encoded = Lstm::new(16).call(&embedded)?;
/// assert_eq!(encoded.shape(), &[16]);
/// # Ok(())
/// # }
/// ```
pub trait Call {
    /// Applies the layer to one input; returns its one output.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] when the layer cannot take the input (at its first call) or the
    /// input does not fit its first call's; [`Error::InvalidArgument`] for a layer with several
    /// outputs or that takes several inputs.
    fn call(self, input: &SymbolicTensor) -> Result<SymbolicTensor>;

    /// Applies the layer to several inputs; returns one tensor per output.
    ///
    /// # Errors
    /// As [`Call::call`].
    fn call_multi(self, inputs: &[&SymbolicTensor]) -> Result<Vec<SymbolicTensor>>;
}

impl Call for &SharedLayer {
    fn call(self, input: &SymbolicTensor) -> Result<SymbolicTensor> {
        let mut outputs = self.apply(&[input])?;
        if outputs.len() != 1 {
            return Err(Error::invalid(
                format!("outputs of layer '{}'", self.name()),
                "one output for `call` (use `call_multi` for a layer with several)",
                outputs.len(),
            ));
        }
        Ok(outputs.swap_remove(0))
    }

    fn call_multi(self, inputs: &[&SymbolicTensor]) -> Result<Vec<SymbolicTensor>> {
        self.apply(inputs)
    }
}

impl<L: Layer + 'static> Call for L {
    fn call(self, input: &SymbolicTensor) -> Result<SymbolicTensor> {
        (&SharedLayer::new(self)).call(input)
    }

    fn call_multi(self, inputs: &[&SymbolicTensor]) -> Result<Vec<SymbolicTensor>> {
        (&SharedLayer::new(self)).call_multi(inputs)
    }
}
