//! `Sequential`: a stack of layers, each feeding the next.

use super::compiled::{Compiled, Trackers};
use super::folding::FoldedStart;
use super::steps::StepState;
use super::summary::{LayerSummary, Summary};
use crate::layers::{snake_case, Layer, LayerExt, Mask, OutputHead, Param};
use crate::losses::LossGrad;
use crate::shape::{array_shape, fits, keras_shape, resolve, NONE};
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayViewD};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// The seed of a model's generator unless [`Sequential::seed`] says otherwise.
const DEFAULT_SEED: u64 = 0;

/// A linear stack of layers, as Keras' `Sequential`.
///
/// A layer is built (its weights created) as soon as the shape of its input is known: when it is
/// added after built layers, when the first layer declares its input (`Embedding::input_length`),
/// or at [`Sequential::build`] or the first `fit`. Weights come from the model's generator, so
/// the same seed gives bit-identical weights.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(Embedding::new(10_000, 32).input_length(500));
/// model.add(SimpleRnn::new(32));
/// model.add(Dense::new(1).activation(Activation::Sigmoid));
/// let summary = model.summary()?;
/// assert_eq!(summary.total_params(), 322_113);
/// println!("{summary}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Sequential {
    pub(super) layers: Vec<Box<dyn Layer>>,
    /// Per-sample input shape, once known.
    pub(crate) input_shape: Option<Vec<usize>>,
    /// Layers `..built` are built.
    built: usize,
    pub(super) rng: StdRng,
    pub(super) compiled: Option<Compiled>,
    /// The steps' running metrics and inference state.
    pub(super) steps: StepState,
}

impl Default for Sequential {
    fn default() -> Self {
        Sequential::new()
    }
}

impl Sequential {
    /// An empty model whose generator is seeded with 0.
    pub fn new() -> Self {
        Sequential {
            layers: Vec::new(),
            input_shape: None,
            built: 0,
            rng: StdRng::seed_from_u64(DEFAULT_SEED),
            compiled: None,
            steps: StepState::default(),
        }
    }

    /// A model of `layers`, added in order, as Keras' `keras.Sequential([...])`: the same as
    /// [`Sequential::new`] followed by [`Sequential::add`] for each layer (seed 0; for another
    /// seed, use `Sequential::new().seed(s)` and `add`).
    ///
    /// # Examples
    /// ```
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let mut model = Sequential::from_layers(vec![
    ///     Box::new(Embedding::new(10_000, 32).input_length(500)),
    ///     Box::new(SimpleRnn::new(32)),
    ///     Box::new(Dense::new(1).activation(Activation::Sigmoid)),
    /// ]);
    /// assert_eq!(model.summary()?.total_params(), 322_113);
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_layers(layers: Vec<Box<dyn Layer>>) -> Self {
        let mut model = Sequential::new();
        for layer in layers {
            model.add_boxed(layer);
        }
        model
    }

    /// A model of `layers`, keeping their names (a saved model's), built for `input_shape`
    /// when it is known (given, or declared by the first layer).
    ///
    /// # Errors
    /// Those of [`Sequential::build`].
    pub(crate) fn restore(
        layers: Vec<Box<dyn Layer>>,
        input_shape: Option<Vec<usize>>,
    ) -> Result<Self> {
        let mut model = Sequential::new();
        // Built exactly when the saved model was: an unbuilt model may still take its input
        // shape from the first layer's declaration (or from data) later.
        model.input_shape = input_shape;
        model.layers = layers;
        if model.input_shape.is_some() {
            model.ensure_built()?;
        }
        Ok(model)
    }

    /// Seeds the generator that initialises the weights and shuffles the data; set it before
    /// adding layers. Default: 0.
    pub fn seed(mut self, seed: u64) -> Self {
        self.rng = StdRng::seed_from_u64(seed);
        self
    }

    /// Appends a layer, names it Keras-style (`dense`, `dense_1`, ...) and builds it if the shape
    /// of its input is known. A layer that cannot be built stays unbuilt, and every call that
    /// needs the model (`summary`, `build`, `fit`, ...) reports why.
    pub fn add(&mut self, layer: impl Layer + 'static) {
        self.add_boxed(Box::new(layer));
    }

    fn add_boxed(&mut self, mut layer: Box<dyn Layer>) {
        let stem = snake_case(layer.class_name());
        let taken = |name: &str| self.layers.iter().any(|l| l.name() == name);
        let mut name = stem.clone();
        let mut suffix = 0;
        while taken(&name) {
            suffix += 1;
            name = format!("{stem}_{suffix}");
        }
        layer.set_name(name);
        if self.layers.is_empty() && self.input_shape.is_none() {
            // A declared shape with a `None` axis is a default, taken when nothing else gives
            // the shape (see `ensure_built`); `build(&[steps])` may still fix the length.
            self.input_shape = layer
                .base()
                .declared_input_shape()
                .filter(|shape| !shape.contains(&NONE))
                .map(<[usize]>::to_vec);
        }
        self.layers.push(layer);
        // Errors are reported by the calls that need the model built, which build again.
        let _ = self.build_pending();
    }

    /// Builds the model for inputs of per-sample shape `input_shape` (the batch axis left out:
    /// `&[500]` for sequences of 500 ids, `&[NONE]` for sequences of any length; see
    /// [`NONE`]). An `Embedding` without `input_length` gives `&[NONE]` when the model is built
    /// by `summary`, `fit`, ... without a shape; once built for any length the model stays so,
    /// and building it for `&[500]` then only checks that 500 fits.
    ///
    /// # Errors
    /// [`Error::NotBuilt`] for a model without layers, [`Error::ShapeMismatch`] when the shape
    /// does not fit the one the model was built for or a layer cannot take its input, and any
    /// error of a layer's `build`.
    pub fn build(&mut self, input_shape: &[usize]) -> Result<()> {
        match &self.input_shape {
            Some(known) if !fits(known, input_shape) => {
                return Err(Error::ShapeMismatch {
                    layer: "sequential".into(),
                    expected: keras_shape(known),
                    found: keras_shape(input_shape),
                })
            }
            _ => self.input_shape = Some(input_shape.to_vec()),
        }
        self.ensure_built()
    }

    /// Builds every layer not built yet, or reports why it cannot.
    pub(crate) fn ensure_built(&mut self) -> Result<()> {
        if self.layers.is_empty() {
            return Err(Error::NotBuilt(
                "the model has no layers; add one with `model.add(..)`".into(),
            ));
        }
        if self.input_shape.is_none() {
            self.input_shape = self.declared_input_shape().map(<[usize]>::to_vec);
        }
        if self.input_shape.is_none() {
            return Err(Error::NotBuilt(
                "the model is not built: its input shape is unknown; call `model.build(&input_shape)` or give \
                 the first layer an input length"
                    .into(),
            ));
        }
        self.build_pending()
    }

    /// The input shape the first layer declares, if any (`Embedding`'s `(None,)` by default).
    pub(super) fn declared_input_shape(&self) -> Option<&[usize]> {
        self.layers.first()?.base().declared_input_shape()
    }

    /// Forgets an input shape taken from data the model could not be built for; the layers are
    /// built again for the next shape.
    pub(super) fn forget_input_shape(&mut self) {
        self.input_shape = None;
        self.built = 0;
    }

    fn build_pending(&mut self) -> Result<()> {
        let Some(mut shape) = self.input_shape.clone() else { return Ok(()) };
        if let Some(last_built) = self.built.checked_sub(1) {
            shape = self.layers[last_built].output_shape().map(<[usize]>::to_vec).unwrap_or(shape);
        }
        while self.built < self.layers.len() {
            shape = self.layers[self.built].build(&shape, &mut self.rng)?;
            self.built += 1;
        }
        Ok(())
    }

    /// The layers, in order (Keras' `model.layers`).
    pub fn layers(&self) -> impl Iterator<Item = &dyn Layer> {
        self.layers.iter().map(|l| l.as_ref())
    }

    /// The layers, in order, to change (rename, freeze, `set_weights`). Freezing or unfreezing
    /// a layer takes effect at the next [`Sequential::compile`], as in Keras.
    pub fn layers_mut(&mut self) -> impl Iterator<Item = &mut (dyn Layer + 'static)> {
        self.layers.iter_mut().map(|l| l.as_mut())
    }

    /// The layer named `name`, as Keras' `model.get_layer(name)`. A layer's own weights are
    /// then read with [`LayerExt::get_weights`] and replaced with [`LayerExt::set_weights`].
    ///
    /// # Errors
    /// [`Error::NoSuchLayer`], listing the model's layer names, when no layer has that name.
    ///
    /// # Examples
    /// ```
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let mut model = Sequential::new();
    /// model.add(Embedding::new(100, 8).input_length(10));
    /// model.add(Lstm::new(4));
    /// let lstm = model.get_layer("lstm")?;
    /// assert_eq!(lstm.get_weights().len(), 3); // kernel, recurrent_kernel, bias
    /// // Freeze it; as in Keras, this takes effect at the next `compile`.
    /// model.get_layer_mut("lstm")?.set_trainable(false);
    /// # Ok(())
    /// # }
    /// ```
    pub fn get_layer(&self, name: &str) -> Result<&dyn Layer> {
        match self.layers.iter().position(|l| l.name() == name) {
            Some(index) => Ok(self.layers[index].as_ref()),
            None => Err(self.no_such_layer(name)),
        }
    }

    /// The layer named `name`, to change, as [`Sequential::get_layer`].
    ///
    /// # Errors
    /// [`Error::NoSuchLayer`], listing the model's layer names, when no layer has that name.
    pub fn get_layer_mut(&mut self, name: &str) -> Result<&mut (dyn Layer + 'static)> {
        match self.layers.iter().position(|l| l.name() == name) {
            Some(index) => Ok(self.layers[index].as_mut()),
            None => Err(self.no_such_layer(name)),
        }
    }

    fn no_such_layer(&self, name: &str) -> Error {
        let names: Vec<&str> = self.layers.iter().map(|l| l.name()).collect();
        let available = if names.is_empty() { "(none)".into() } else { names.join(", ") };
        Error::NoSuchLayer { name: name.into(), available }
    }

    /// Removes the last layer and returns it, as Keras' `model.pop()`: the model's output is
    /// then the previous layer's. Popping the only layer leaves an empty model that has
    /// forgotten its input shape.
    ///
    /// # Errors
    /// [`Error::NoSuchLayer`] for a model without layers.
    pub fn pop(&mut self) -> Result<Box<dyn Layer>> {
        let layer = self.layers.pop().ok_or_else(|| Error::NoSuchLayer {
            name: "(the last layer, for pop)".into(),
            available: "(none)".into(),
        })?;
        self.built = self.built.min(self.layers.len());
        if let Some(compiled) = &mut self.compiled {
            compiled.trainable.truncate(self.layers.len());
        }
        if self.layers.is_empty() {
            self.forget_input_shape();
        }
        Ok(layer)
    }

    /// The model's table of layers, output shapes and parameter counts, as Keras' `summary()`.
    /// Builds the layers not built yet, if the input shape is known.
    ///
    /// # Errors
    /// [`Error::NotBuilt`] when the input shape is unknown, and any error of a layer's `build`.
    pub fn summary(&mut self) -> Result<Summary> {
        self.ensure_built()?;
        let layers = self
            .layers
            .iter()
            .map(|layer| LayerSummary {
                name: layer.name().to_string(),
                class_name: layer.class_name().to_string(),
                output_shape: layer.output_shape().map(<[usize]>::to_vec).unwrap_or_default(),
                params: layer.count_params(),
                trainable: layer.is_trainable(),
            })
            .collect();
        Ok(Summary::new("sequential".into(), layers))
    }

    /// Copies of every weight, layer by layer in Keras' order (`model.get_weights()`).
    pub fn get_weights(&self) -> Vec<ArrayD<f32>> {
        self.layers.iter().flat_map(|l| l.get_weights()).collect()
    }

    /// Replaces every weight, layer by layer in Keras' order (`model.set_weights()`).
    ///
    /// # Errors
    /// [`Error::NotBuilt`] before the model is built, [`Error::WeightCount`] when the count
    /// differs and [`Error::WeightMismatch`] when a shape differs; the model's weights are then
    /// left unchanged.
    pub fn set_weights(&mut self, weights: Vec<ArrayD<f32>>) -> Result<()> {
        self.ensure_built()?;
        let expected: usize = self.layers.iter().map(|l| l.params().len()).sum();
        if weights.len() != expected {
            let names: Vec<String> = self
                .layers
                .iter()
                .flat_map(|l| l.params().into_iter().map(|p| format!("{}/{}", l.name(), p.name())))
                .collect();
            return Err(Error::WeightCount {
                layer: "sequential".into(),
                expected,
                found: weights.len(),
                names: names.join(", "),
            });
        }
        // Check every shape before touching any layer.
        let mut index = 0;
        for layer in &self.layers {
            for param in layer.params() {
                if param.value.shape() != weights[index].shape() {
                    return Err(Error::WeightMismatch {
                        layer: layer.name().to_string(),
                        index,
                        expected: format!("{} {}", param.name(), array_shape(param.value.shape())),
                        found: array_shape(weights[index].shape()),
                    });
                }
                index += 1;
            }
        }
        let mut weights = weights.into_iter();
        for layer in &mut self.layers {
            let count = layer.params().len();
            layer.set_weights(weights.by_ref().take(count).collect())?;
        }
        Ok(())
    }

    /// Checks that `x` is a batch of the model's per-sample input shape (any size on a
    /// [`NONE`] axis).
    pub(super) fn check_input(&self, x: &ArrayViewD<'_, f32>) -> Result<()> {
        let expected = self.input_shape.as_deref().unwrap_or_default();
        if x.ndim() == 0 || !fits(expected, &x.shape()[1..]) {
            return Err(Error::ShapeMismatch {
                layer: "sequential (x)".into(),
                expected: keras_shape(expected),
                found: array_shape(x.shape()),
            });
        }
        Ok(())
    }

    /// Runs every layer on a batch, in training or inference mode; returns the output and its
    /// mask. In inference, `folded` (from `fold_start`) runs the first two layers as one.
    pub(super) fn forward(
        &mut self,
        x: ArrayViewD<'_, f32>,
        training: bool,
        folded: Option<&FoldedStart>,
    ) -> Result<(ArrayD<f32>, Option<Mask>)> {
        let mut current: Option<ArrayD<f32>> = None;
        let mut mask: Option<Mask> = None;
        let mut first = 0;
        if let Some(folded) = folded.filter(|_| !training) {
            if let Some((output, output_mask)) = self.forward_folded(x.view(), folded)? {
                (current, mask, first) = (Some(output), output_mask, 2);
            }
        }
        for layer in &mut self.layers[first..] {
            let input = current.as_ref().map_or_else(|| x.view(), |c| c.view());
            let next_mask = layer.compute_mask(input.view(), mask.as_ref())?;
            let output = layer.forward(input, mask.as_ref(), training)?;
            current = Some(output);
            mask = next_mask;
        }
        let output = current.ok_or_else(|| Error::NotBuilt("the model has no layers".into()))?;
        Ok((output, mask))
    }

    /// Back-propagates the loss gradient through every layer, accumulating weight gradients.
    pub(super) fn backward(&mut self, grad: LossGrad) -> Result<()> {
        let Some((last, rest)) = self.layers.split_last_mut() else { return Ok(()) };
        let need_input = !rest.is_empty();
        let mut grad = match grad {
            LossGrad::Output(g) => last.backward(g.view(), need_input)?,
            LossGrad::Logits(g) => {
                let name = last.name().to_string();
                let head = last.output_head().ok_or_else(|| {
                    Error::NotBuilt(format!("layer '{name}' does not keep its logits"))
                })?;
                head.backward_logits(g.view(), need_input)?
            }
        };
        for (index, layer) in rest.iter_mut().enumerate().rev() {
            let Some(g) = grad.take() else { break };
            grad = layer.backward(g.view(), index > 0)?;
        }
        Ok(())
    }

    /// The trainable weights, in a fixed order (the optimizer's slots follow it). `at_compile` holds
    /// each layer's flag at `compile`: a layer is trained if it was trainable then (Keras' rule); a layer added after `compile`
    /// follows its own flag.
    pub(super) fn trainable_params(&mut self, at_compile: &[bool]) -> Vec<&mut Param> {
        self.layers
            .iter_mut()
            .enumerate()
            .filter(|(index, l)| trains(at_compile, *index, l.as_ref()))
            .flat_map(|(_, l)| l.params_mut())
            .collect()
    }

    /// The weights the optimizer updates, in the order of its slots (those of
    /// `trainable_params`); none before `compile`.
    pub(crate) fn trained_weights(&self) -> Vec<&Param> {
        let Some(compiled) = &self.compiled else { return Vec::new() };
        self.layers
            .iter()
            .enumerate()
            .filter(|(index, l)| trains(&compiled.trainable, *index, l.as_ref()))
            .flat_map(|(_, l)| l.params())
            .collect()
    }

    /// What `compile` set; `None` before `compile`.
    pub(crate) fn compiled_settings(&self) -> Option<&Compiled> {
        self.compiled.as_ref()
    }

    /// Installs what `compile` sets, with fresh running metrics for it.
    pub(crate) fn set_compiled(&mut self, compiled: Compiled) {
        self.steps.tracker = Trackers::new(&compiled, &[String::new()]);
        self.compiled = Some(compiled);
    }

    /// Sets every gradient to zero.
    pub(super) fn zero_grads(&mut self) {
        for layer in &mut self.layers {
            for param in layer.params_mut() {
                param.grad.fill(0.0);
            }
        }
    }

    /// The last layer's activation and logits, when it keeps them and the loss can use them.
    pub(super) fn output_logits(
        &mut self,
    ) -> Option<(crate::activations::Activation, ArrayViewD<'_, f32>)> {
        let head: &dyn OutputHead = self.layers.last_mut()?.output_head()?;
        Some((head.activation(), head.logits()?))
    }

    /// The per-sample output shape for an input batch of shape `x_shape`: the built shape with
    /// each [`NONE`] axis given its size in this call. Every layer keeps the sizes of the axes
    /// it does not change (the time axis among them), except a `Flatten`, whose one axis is the
    /// product of its input's.
    pub(super) fn output_shape_for(&self, x_shape: &[usize]) -> Vec<usize> {
        let mut shape = resolve(
            self.input_shape.as_deref().unwrap_or_default(),
            x_shape.get(1..).unwrap_or_default(),
        );
        for layer in &self.layers {
            let Some(output) = layer.output_shape() else { break };
            shape = if !output.contains(&NONE) {
                output.to_vec()
            } else if output.len() == 1 && layer.base().input_shape().len() > 1 {
                vec![shape.iter().product()]
            } else {
                resolve(output, &shape)
            };
        }
        shape
    }

    /// Takes the input shape from a first batch `x` when none is known: a batch of sequences
    /// `(samples, steps, features)` gives a time axis of any length, `(None, None, features)`,
    /// unless a layer needs its size (a `Flatten` before a `Dense`), which gets `steps`; other
    /// batches give their own per-sample shape.
    pub(super) fn build_from(&mut self, x_shape: &[usize]) -> Result<()> {
        let per_sample = x_shape.get(1..).unwrap_or_default();
        if per_sample.len() == 2 {
            // A failed attempt leaves the generator as it was: the weights do not depend on it.
            let rng = self.rng.clone();
            self.input_shape = Some(vec![NONE, per_sample[1]]);
            if self.ensure_built().is_ok() {
                return Ok(());
            }
            self.forget_input_shape();
            self.rng = rng;
        }
        // The shape is taken from `x` only if the model builds for it.
        self.input_shape = Some(per_sample.to_vec());
        self.ensure_built().inspect_err(|_| self.forget_input_shape())
    }
}

/// Whether layer `index` is trained: as it was at `compile` (Keras' rule), or by its own flag
/// for a layer added after `compile`.
fn trains(at_compile: &[bool], index: usize, layer: &dyn Layer) -> bool {
    at_compile.get(index).copied().unwrap_or_else(|| layer.is_trainable())
}
