//! `Bidirectional`: a recurrent layer run forwards and, as a copy, backwards, the two outputs
//! merged, as Keras' `Bidirectional` (keras/src/layers/rnn/bidirectional.py).

use super::{
    snake_case, Cell, ForwardCache, GeneratorState, Layer, LayerBase, LayerExt, Mask, Param,
    Recurrent,
};
use crate::saving::Config;
use crate::shape::array_shape;
use crate::{Error, Result};
use ndarray::{s, ArrayD, ArrayViewD, Axis, Slice, Zip};
use rand::rngs::StdRng;

/// How [`Bidirectional`] merges the outputs of its two directions (Keras' `merge_mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MergeMode {
    /// The forward output, then the backward one, along the last axis: `2·units` values
    /// (Keras' `"concat"`, the default).
    #[default]
    Concat,
    /// y_f + y_b (`"sum"`).
    Sum,
    /// y_f ⊙ y_b (`"mul"`).
    Mul,
    /// (y_f + y_b) / 2 (`"ave"`).
    Ave,
}

/// Runs a recurrent layer over the sequence forwards and a copy of it backwards, and merges the
/// two outputs, as Keras' `Bidirectional`.
///
/// The wrapper holds two layers built from the one given: the forward layer, and a copy with
/// `go_backwards` set. With `return_sequences`, the backward layer's output sequence (produced
/// last step first) is reversed back into time order before the merge, so that step t of the
/// result sees the whole sequence on both sides. The weights are the forward layer's, then the
/// backward layer's, each in its own Keras order, named `forward_layer/kernel`, ...,
/// `backward_layer/bias`. With a mask and `return_sequences`, masked
/// steps output zeros in both directions (Keras sets `zero_output_for_mask` on both layers); the
/// states are carried through them as in the wrapped layer.
///
/// # Shapes
/// Input `(batch, steps, input_dim)`; output `(batch, units)` or, with `return_sequences`,
/// `(batch, steps, units)`, where `units` doubles with [`MergeMode::Concat`].
///
/// # Errors
/// `build` fails when the wrapped layer already reads backwards
/// ([`Error::InvalidArgument`]: Keras requires the two directions to differ), besides the
/// wrapped layer's own errors.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(Embedding::new(10_000, 32).input_length(500));
/// model.add(Bidirectional::new(Lstm::new(32).return_sequences(true)));
/// model.add(Bidirectional::new(Gru::new(16)).merge_mode(MergeMode::Sum));
/// let summary = model.summary()?;
/// // Two LSTMs of 4·(32·(32 + 32) + 32), on 32 features; two GRUs of 3·(16·(16 + 64) + 32).
/// assert_eq!(summary.layers()[1].params, 16_640);
/// assert_eq!(summary.layers()[1].output_shape, [500, 64]);
/// assert_eq!(summary.layers()[2].params, 7_872);
/// assert_eq!(summary.layers()[2].output_shape, [16]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Bidirectional<C: Cell> {
    base: LayerBase,
    /// The wrapped layer's name stem (`lstm`), for the inner layers' names.
    stem: String,
    forward_layer: Recurrent<C>,
    backward_layer: Recurrent<C>,
    merge_mode: MergeMode,
    cache: Option<BidirectionalCache>,
}

/// What [`Layer::take_forward_cache`] moves out of a `Bidirectional`: its own cache and its two
/// layers'.
struct MovedCache {
    own: Option<BidirectionalCache>,
    forward: ForwardCache,
    backward: ForwardCache,
}

/// What `forward` keeps for `backward`.
#[derive(Clone, Debug)]
struct BidirectionalCache {
    /// The batched output shape.
    output_shape: Vec<usize>,
    /// The mask applied to the output sequences, with `return_sequences`.
    mask: Option<Mask>,
    /// Both directions' outputs in time order, for [`MergeMode::Mul`].
    outputs: Option<(ArrayD<f32>, ArrayD<f32>)>,
}

impl<C: Cell> Bidirectional<C> {
    /// Wraps `layer` (unbuilt; its configuration is what counts), which must read forwards.
    /// Default merge mode: [`MergeMode::Concat`]. The wrapper is trainable if `layer` is.
    pub fn new(layer: Recurrent<C>) -> Self {
        let stem = match layer.name() {
            "" => snake_case(layer.class_name()),
            name => name.to_string(),
        };
        let mut base = LayerBase::new();
        base.set_trainable(layer.is_trainable());
        let mut wrapper = Bidirectional {
            base,
            stem,
            backward_layer: layer.reversed(),
            forward_layer: layer,
            merge_mode: MergeMode::Concat,
            cache: None,
        };
        wrapper.name_inner_layers();
        wrapper
    }

    /// How the two directions' outputs are merged. Default: [`MergeMode::Concat`].
    pub fn merge_mode(mut self, merge_mode: MergeMode) -> Self {
        self.merge_mode = merge_mode;
        self
    }

    /// Whether the optimizer updates the weights of both directions. Default: the wrapped
    /// layer's setting.
    pub fn trainable(mut self, trainable: bool) -> Self {
        self.base.set_trainable(trainable);
        self
    }

    /// Names the inner layers as Keras does (`forward_lstm`, `backward_lstm`), under the
    /// wrapper's name when it has one (at `new` and at `build`, after a model has named it).
    fn name_inner_layers(&mut self) {
        let name = self.base.name();
        let prefix = if name.is_empty() { String::new() } else { format!("{name}/") };
        self.forward_layer.set_name(format!("{prefix}forward_{}", self.stem));
        self.backward_layer.set_name(format!("{prefix}backward_{}", self.stem));
    }

    /// Zeros the masked steps of an output sequence `(batch, steps, ·)`.
    fn zero_masked(sequence: &mut ArrayD<f32>, mask: &Mask) {
        for ((sample, step), &keep) in mask.indexed_iter() {
            if !keep {
                sequence.slice_mut(s![sample, step, ..]).fill(0.0);
            }
        }
    }
}

/// The name of a forward layer's weight inside the wrapper (Keras' attribute `forward_layer`).
fn forward_name(name: &str) -> Option<&'static str> {
    match name {
        "kernel" => Some("forward_layer/kernel"),
        "recurrent_kernel" => Some("forward_layer/recurrent_kernel"),
        "bias" => Some("forward_layer/bias"),
        _ => None,
    }
}

/// The name of a backward layer's weight inside the wrapper (Keras' `backward_layer`).
fn backward_name(name: &str) -> Option<&'static str> {
    match name {
        "kernel" => Some("backward_layer/kernel"),
        "recurrent_kernel" => Some("backward_layer/recurrent_kernel"),
        "bias" => Some("backward_layer/bias"),
        _ => None,
    }
}

impl<C: Cell> Layer for Bidirectional<C> {
    fn class_name(&self) -> &'static str {
        "Bidirectional"
    }

    fn get_config(&self) -> Option<Config> {
        crate::saving::bidirectional_config(&self.forward_layer, self.merge_mode)
    }

    fn generator_states(&self) -> Vec<GeneratorState> {
        let mut states = self.forward_layer.generator_states();
        states.extend(self.backward_layer.generator_states());
        states
    }

    fn set_generator_states(&mut self, mut states: Vec<GeneratorState>) -> Result<()> {
        let forward = self.forward_layer.generator_states().len();
        let backward = self.backward_layer.generator_states().len();
        super::layer::expect_generators(&self.base.name, forward + backward, &states)?;
        let backward_states = states.split_off(forward);
        self.forward_layer.set_generator_states(states)?;
        self.backward_layer.set_generator_states(backward_states)
    }

    fn base(&self) -> &LayerBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut LayerBase {
        &mut self.base
    }

    fn build(&mut self, input_shape: &[usize], rng: &mut StdRng) -> Result<Vec<usize>> {
        if self.forward_layer.reads_backwards() {
            return Err(Error::invalid(
                "go_backwards",
                format!(
                    "false for the layer Bidirectional '{}' wraps (its backward copy reads \
                     backwards; Keras requires the two directions to differ)",
                    self.base.name
                ),
                true,
            ));
        }
        self.cache = None;
        self.name_inner_layers();
        let mut shape = self.forward_layer.build(input_shape, rng)?;
        self.backward_layer.build(input_shape, rng)?;
        // Weight names unique within the wrapper (`forward_layer/kernel`, ...), as a saved
        // model's `layer/weight` names must be.
        for (layer, prefixed) in [
            (&mut self.forward_layer as &mut dyn Layer, forward_name as fn(&str) -> _),
            (&mut self.backward_layer, backward_name),
        ] {
            for param in layer.params_mut() {
                if let Some(name) = prefixed(param.name()) {
                    *param = Param::new(name, std::mem::take(&mut param.value));
                }
            }
        }
        if self.merge_mode == MergeMode::Concat {
            if let Some(last) = shape.last_mut() {
                *last *= 2;
            }
        }
        Ok(self.base.built(input_shape, shape))
    }

    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        self.base.built_input()?;
        self.cache = None;
        let (forward_layer, backward_layer) = (&mut self.forward_layer, &mut self.backward_layer);
        let (forward, backward) = rayon::join(
            || forward_layer.forward(input.view(), mask, training),
            || backward_layer.forward(input.view(), mask, training),
        );
        let (mut forward, mut backward) = (forward?, backward?);
        let sequences = self.forward_layer.returns_sequences();
        let mask = mask.filter(|_| sequences);
        if sequences {
            // The backward layer's sequence starts at the last step: back into time order.
            backward.invert_axis(Axis(1));
            backward = backward.as_standard_layout().into_owned();
        }
        if let Some(mask) = mask {
            Self::zero_masked(&mut forward, mask);
            Self::zero_masked(&mut backward, mask);
        }
        let output = match self.merge_mode {
            MergeMode::Concat => {
                let last = Axis(forward.ndim() - 1);
                let units = forward.len_of(last);
                let mut shape = forward.shape().to_vec();
                shape[last.index()] = 2 * units;
                let mut output = ArrayD::zeros(shape);
                output.slice_axis_mut(last, Slice::from(..units)).assign(&forward);
                output.slice_axis_mut(last, Slice::from(units..)).assign(&backward);
                output
            }
            MergeMode::Sum => &forward + &backward,
            MergeMode::Mul => &forward * &backward,
            MergeMode::Ave => (&forward + &backward) * 0.5,
        };
        if training {
            let outputs = (self.merge_mode == MergeMode::Mul).then_some((forward, backward));
            self.cache = Some(BidirectionalCache {
                output_shape: output.shape().to_vec(),
                mask: mask.cloned(),
                outputs,
            });
        }
        Ok(output)
    }

    fn compute_mask(
        &self,
        _input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
    ) -> Result<Option<Mask>> {
        Ok(mask.filter(|_| self.forward_layer.returns_sequences()).cloned())
    }

    fn backward(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        let cache =
            self.cache.as_ref().ok_or_else(|| Error::NoForwardCache(self.base.name.clone()))?;
        if grad_output.shape() != cache.output_shape.as_slice() {
            return Err(Error::ShapeMismatch {
                layer: format!("{} (backward)", self.base.name),
                expected: array_shape(&cache.output_shape),
                found: array_shape(grad_output.shape()),
            });
        }
        let last = Axis(grad_output.ndim() - 1);
        let (mut forward, mut backward) = match (self.merge_mode, &cache.outputs) {
            (MergeMode::Concat, _) => {
                let units = grad_output.len_of(last) / 2;
                let (f, b) = grad_output.split_at(last, units);
                (f.to_owned(), b.to_owned())
            }
            (MergeMode::Sum, _) => (grad_output.to_owned(), grad_output.to_owned()),
            (MergeMode::Ave, _) => {
                let half = grad_output.mapv(|g| 0.5 * g);
                (half.clone(), half)
            }
            (MergeMode::Mul, Some((y_forward, y_backward))) => {
                (&grad_output * y_backward, &grad_output * y_forward)
            }
            (MergeMode::Mul, None) => return Err(Error::NoForwardCache(self.base.name.clone())),
        };
        if let Some(mask) = &cache.mask {
            Self::zero_masked(&mut forward, mask);
            Self::zero_masked(&mut backward, mask);
        }
        if self.forward_layer.returns_sequences() {
            backward.invert_axis(Axis(1));
        }
        let backward = backward.as_standard_layout().into_owned();
        let (forward_layer, backward_layer) = (&mut self.forward_layer, &mut self.backward_layer);
        let (d_forward, d_backward) = rayon::join(
            || forward_layer.backward(forward.view(), input_grad),
            || backward_layer.backward(backward.view(), input_grad),
        );
        Ok(match (d_forward?, d_backward?) {
            (Some(mut d_input), Some(d_backward)) => {
                Zip::from(&mut d_input).and(&d_backward).for_each(|a, &b| *a += b);
                Some(d_input)
            }
            _ => None,
        })
    }

    fn take_forward_cache(&mut self) -> Option<ForwardCache> {
        let forward = self.forward_layer.take_forward_cache()?;
        let backward = self.backward_layer.take_forward_cache()?;
        Some(Box::new(MovedCache { own: self.cache.take(), forward, backward }))
    }

    fn put_forward_cache(&mut self, cache: ForwardCache) -> Result<()> {
        let cache = cache
            .downcast::<MovedCache>()
            .map_err(|_| Error::NoForwardCache(self.base.name.clone()))?;
        let MovedCache { own, forward, backward } = *cache;
        self.forward_layer.put_forward_cache(forward)?;
        self.backward_layer.put_forward_cache(backward)?;
        self.cache = own;
        Ok(())
    }

    fn params(&self) -> Vec<&Param> {
        let mut params = self.forward_layer.params();
        params.extend(self.backward_layer.params());
        params
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut params = self.forward_layer.params_mut();
        params.extend(self.backward_layer.params_mut());
        params
    }
}
