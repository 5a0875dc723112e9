//! The [`Layer`] trait.

use super::{FoldsLookup, GeneratorState, LayerBase, LookupTable, OutputHead};
use crate::param::{Mask, Param};
use crate::Result;
use ndarray::{ArrayD, ArrayViewD};
use rand::rngs::StdRng;
use std::fmt::Debug;

/// A layer of a model: shapes, forward, backward and weights.
///
/// Layers are `f32`. A layer is built once from its input's per-sample shape; `forward` in
/// training mode keeps what `backward` needs, and `backward` adds the gradients of the layer's
/// weights into [`Param::grad`] and returns the gradient with respect to its input.
///
/// A layer keeps its name, trainability and shapes in a [`LayerBase`]; [`LayerExt`](super::LayerExt)
/// offers `name`, `is_trainable`, `output_shape`, `count_params`, `get_weights`, `set_weights`
/// and their setters for every layer. What only some layers can do is asked for through the
/// capability accessors ([`Layer::output_head`], [`Layer::lookup_table`],
/// [`Layer::folds_lookup`]), which return `None` by default.
pub trait Layer: Debug + Send {
    /// Keras' class name, shown in the summary (`"SimpleRNN"`, `"Dense"`, ...).
    fn class_name(&self) -> &'static str;

    /// The layer's name, trainability and shapes.
    fn base(&self) -> &LayerBase;

    /// As [`Layer::base`], mutable.
    fn base_mut(&mut self) -> &mut LayerBase;

    /// Creates the weights for inputs of per-sample shape `input_shape`, records the shapes in
    /// the layer's base ([`LayerBase::built`]) and returns the per-sample output shape.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when the layer cannot take inputs
    /// of that rank or size, and [`Error::InvalidArgument`](crate::Error::InvalidArgument) when
    /// a hyper-parameter is out of its domain.
    fn build(&mut self, input_shape: &[usize], rng: &mut StdRng) -> Result<Vec<usize>>;

    /// Runs the layer on a batch. In training mode it keeps what `backward` needs. `mask`, when
    /// given, marks the real timesteps of the input (see [`Mask`]).
    ///
    /// # Shapes
    /// Input `(batch, ..input_shape)`, mask `(batch, steps)`; output `(batch, ..output_shape)`
    /// with the shapes of [`Layer::build`].
    ///
    /// # Errors
    /// [`Error::NotBuilt`](crate::Error::NotBuilt) before `build`,
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for an input whose shape is not
    /// `(batch, ..input_shape)`, and layer-specific errors (ids out of range).
    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>>;

    /// Back-propagates `grad_output` (dL/doutput of the last training-mode `forward`): adds the
    /// weights' gradients into their [`Param::grad`] and, when `input_grad` is true, returns
    /// dL/dinput.
    ///
    /// # Shapes
    /// `grad_output` has the shape of the last training-mode output; the returned gradient has
    /// the shape of that call's input.
    ///
    /// # Errors
    /// [`Error::NoForwardCache`](crate::Error::NoForwardCache) without a preceding
    /// training-mode `forward`, and [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) when
    /// `grad_output` does not have the output's shape.
    fn backward(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>>;

    /// The mask of this layer's output given its input and the input's mask. By default the
    /// mask passes through unchanged (Keras' `supports_masking`).
    ///
    /// # Errors
    /// Layer-specific errors (an `Embedding` checks its ids).
    fn compute_mask(
        &self,
        input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
    ) -> Result<Option<Mask>> {
        let _ = input;
        Ok(mask.cloned())
    }

    /// The layer's weights, in Keras' order. Default: none.
    fn params(&self) -> Vec<&Param> {
        Vec::new()
    }

    /// The layer's weights, mutable, in Keras' order. Default: none.
    fn params_mut(&mut self) -> Vec<&mut Param> {
        Vec::new()
    }

    /// The layer's constructor arguments, as Keras' `get_config()`: what
    /// [`Sequential::save`](crate::model::Sequential::save) and
    /// [`Sequential::to_json`](crate::model::Sequential::to_json) record to rebuild the layer
    /// (its name, trainability and declared input shape come from its [`LayerBase`] and are
    /// recorded beside them). `None` (the default) for a layer that cannot be rebuilt from a
    /// file; a model holding one saves its weights only
    /// ([`Sequential::save_weights`](crate::model::Sequential::save_weights)).
    fn get_config(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        None
    }

    /// Where the layer's random generators stand (those of its dropout masks), so that a saved
    /// model resumes drawing the same masks. Default: none.
    fn generator_states(&self) -> Vec<GeneratorState> {
        Vec::new()
    }

    /// Puts the layer's generators at `states`, as [`Layer::generator_states`] gave them.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) when `states` does not hold one state per
    /// generator of the layer; the layer is then unchanged.
    fn set_generator_states(&mut self, states: Vec<GeneratorState>) -> Result<()> {
        expect_generators(self.base().name(), 0, &states)
    }

    /// Builds the layer for a call on several inputs (a node of a functional model), as Keras builds a layer called on a
    /// list; returns one per-sample shape per output. The default takes exactly one input and
    /// calls [`Layer::build`]; layers with several inputs (`Concatenate`, `Attention`) or
    /// outputs (a recurrent layer with `return_state`) override it.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a number of inputs the
    /// layer does not take, and the errors of [`Layer::build`].
    fn build_multi(
        &mut self,
        input_shapes: &[Vec<usize>],
        rng: &mut StdRng,
    ) -> Result<Vec<Vec<usize>>> {
        let [shape] = input_shapes else {
            return Err(one_input(self.base().name(), input_shapes.len()));
        };
        Ok(vec![self.build(shape, rng)?])
    }

    /// Runs the layer on several inputs with their masks (one per input), as
    /// [`Layer::forward`]; returns one array per output. The default takes exactly one input.
    ///
    /// # Errors
    /// As [`Layer::build_multi`] and [`Layer::forward`].
    fn forward_multi(
        &mut self,
        inputs: &[ArrayViewD<'_, f32>],
        masks: &[Option<&Mask>],
        training: bool,
    ) -> Result<Vec<ArrayD<f32>>> {
        let ([input], [mask]) = (inputs, masks) else {
            return Err(one_input(self.base().name(), inputs.len()));
        };
        Ok(vec![self.forward(input.view(), *mask, training)?])
    }

    /// Back-propagates one gradient per output of the last training-mode
    /// [`Layer::forward_multi`] (zeros for an output nothing reads); returns one gradient per
    /// input when `input_grads` is true (`None` for an input that takes no gradient, as ids).
    /// The default takes exactly one output.
    ///
    /// # Errors
    /// As [`Layer::backward`].
    fn backward_multi(
        &mut self,
        grad_outputs: &[ArrayViewD<'_, f32>],
        input_grads: bool,
    ) -> Result<Vec<Option<ArrayD<f32>>>> {
        let [grad] = grad_outputs else {
            return Err(one_input(self.base().name(), grad_outputs.len()));
        };
        Ok(vec![self.backward(grad.view(), input_grads)?])
    }

    /// The masks of the outputs of a call on several inputs, one per output, as
    /// [`Layer::compute_mask`]. The default takes exactly one input.
    ///
    /// # Errors
    /// As [`Layer::compute_mask`].
    fn compute_mask_multi(
        &self,
        inputs: &[ArrayViewD<'_, f32>],
        masks: &[Option<&Mask>],
    ) -> Result<Vec<Option<Mask>>> {
        let ([input], [mask]) = (inputs, masks) else {
            return Err(one_input(self.base().name(), inputs.len()));
        };
        Ok(vec![self.compute_mask(input.view(), *mask)?])
    }

    /// Moves out what the last training-mode forward kept for `backward`, so that a layer
    /// applied at several nodes of a graph can be trained: the model takes the cache after each
    /// node's forward and puts it back ([`Layer::put_forward_cache`]) before that node's
    /// backward. `None` (the default) when the layer keeps nothing or cannot hand it over; a
    /// model then refuses to train the layer at more than one node.
    fn take_forward_cache(&mut self) -> Option<ForwardCache> {
        None
    }

    /// Puts back a cache that [`Layer::take_forward_cache`] moved out.
    ///
    /// # Errors
    /// [`Error::NoForwardCache`](crate::Error::NoForwardCache) when `cache` is not one of this
    /// layer's.
    fn put_forward_cache(&mut self, cache: ForwardCache) -> Result<()> {
        let _ = cache;
        Err(crate::Error::NoForwardCache(self.base().name().to_string()))
    }

    /// The layer as an [`OutputHead`], when it keeps its logits (`Dense`).
    fn output_head(&mut self) -> Option<&mut dyn OutputHead> {
        None
    }

    /// The layer as a [`LookupTable`], when it looks ids up in a table (`Embedding`).
    fn lookup_table(&self) -> Option<&dyn LookupTable> {
        None
    }

    /// The layer as a [`FoldsLookup`], when it can fold a lookup table into its input
    /// projection (the recurrent layers).
    fn folds_lookup(&mut self) -> Option<&mut dyn FoldsLookup> {
        None
    }
}

/// What a layer's training-mode forward keeps for its backward, moved out of the layer by
/// [`Layer::take_forward_cache`].
pub type ForwardCache = Box<dyn std::any::Any + Send>;

/// The error of a layer that takes one input called on `found`.
fn one_input(name: &str, found: usize) -> crate::Error {
    crate::Error::InvalidArgument {
        name: format!("inputs of layer '{name}'"),
        expected: "exactly one input tensor".into(),
        got: found.to_string(),
    }
}

/// Checks that `states` holds `expected` generator states for layer `name`.
pub(crate) fn expect_generators(
    name: &str,
    expected: usize,
    states: &[GeneratorState],
) -> Result<()> {
    if states.len() == expected {
        Ok(())
    } else {
        Err(crate::Error::Config(format!(
            "layer '{name}' has {expected} random generator(s), but {} state(s) were given",
            states.len()
        )))
    }
}
