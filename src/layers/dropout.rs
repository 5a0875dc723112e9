//! `Dropout`: zeroes a random fraction of its input while training.

use super::layer::expect_generators;
use super::{not_built, Generator, GeneratorState, Layer, LayerBase, Mask};
use crate::saving::Config;
use crate::shape::{array_shape, expect_batch_of};
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayViewD, IxDyn, Zip};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

/// Inverted dropout, as Keras' `Dropout`: in training, each input value is kept with
/// probability `1 − rate` and divided by `1 − rate`, or set to zero,
///
/// y = x / (1 − rate) where kept, 0 where dropped,
///
/// so the expected output equals the input; in inference (`predict`, `evaluate`) it is the
/// identity. The gradient flows through the kept values only, with the same scale.
///
/// The random draws come from the layer's own generator, seeded at build time from the model's
/// generator (or from [`Dropout::seed`]), so training with the same model seed is
/// reproducible, bit for bit, whatever the number of threads. A mask on the input (from
/// `Embedding::mask_zero` or `Masking`) passes through unchanged.
///
/// # Shapes
/// Input and output `(batch, ...)`, any rank.
///
/// # Errors
/// The model's `build` returns [`Error::InvalidArgument`] when `rate` is not in `[0, 1)`.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(Embedding::new(10_000, 32).input_length(500));
/// model.add(SimpleRnn::new(32));
/// model.add(Dropout::new(0.5));
/// model.add(Dense::new(1).activation(Activation::Sigmoid));
/// assert_eq!(model.summary()?.total_params(), 322_113);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Dropout {
    base: LayerBase,
    rate: f32,
    seed: Option<u64>,
    rng: Option<Generator>,
    /// Which values the last training-mode `forward` kept; reused between batches.
    keep: ArrayD<bool>,
    /// Whether `keep` belongs to the last forward pass (training mode, `rate > 0`).
    cached: Option<Cached>,
    /// Shape of the last training-mode input (and output).
    cached_shape: Vec<usize>,
}

/// What the last training-mode forward pass did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cached {
    /// Values dropped as `keep` says.
    Masked,
    /// `rate` is 0: the identity.
    Identity,
}

impl Dropout {
    /// Drops each input value with probability `rate` while training. `rate` must be in
    /// `[0, 1)`; it is checked when the layer is built.
    pub fn new(rate: f32) -> Self {
        Dropout {
            base: LayerBase::new(),
            rate,
            seed: None,
            rng: None,
            keep: ArrayD::from_elem(IxDyn(&[0]), false),
            cached: None,
            cached_shape: Vec::new(),
        }
    }

    /// Seeds the layer's generator (Keras' `seed`). Default: a seed drawn from the model's
    /// generator when the layer is built.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The fraction of values dropped while training.
    pub fn rate(&self) -> f32 {
        self.rate
    }
}

impl Layer for Dropout {
    fn class_name(&self) -> &'static str {
        "Dropout"
    }

    fn get_config(&self) -> Option<Config> {
        Some(Config::from_iter([
            ("rate".to_string(), crate::saving::f32_value(self.rate)),
            ("seed".to_string(), self.seed.into()),
        ]))
    }

    fn generator_states(&self) -> Vec<GeneratorState> {
        self.rng.iter().map(GeneratorState::of).collect()
    }

    fn set_generator_states(&mut self, states: Vec<GeneratorState>) -> Result<()> {
        expect_generators(&self.base.name, usize::from(self.rng.is_some()), &states)?;
        self.rng = states.first().map(GeneratorState::generator);
        Ok(())
    }

    fn base(&self) -> &LayerBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut LayerBase {
        &mut self.base
    }

    fn build(&mut self, input_shape: &[usize], rng: &mut StdRng) -> Result<Vec<usize>> {
        if !(0.0..1.0).contains(&self.rate) {
            return Err(Error::invalid("rate", "a number in [0, 1)", self.rate));
        }
        // Drawn even with an explicit seed, so that the seed does not shift the other layers'
        // initial weights.
        let drawn = rng.gen::<u64>();
        self.rng = Some(Generator::seed_from_u64(self.seed.unwrap_or(drawn)));
        Ok(self.base.built(input_shape, input_shape.to_vec()))
    }

    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        _mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        expect_batch_of(&self.base.name, self.base.built_input()?, input.shape())?;
        self.cached = None;
        if !training {
            return Ok(input.to_owned());
        }
        self.cached_shape = input.shape().to_vec();
        if self.rate == 0.0 {
            self.cached = Some(Cached::Identity);
            return Ok(input.to_owned());
        }
        let rng = self.rng.as_mut().ok_or_else(|| not_built(&self.base.name))?;
        if self.keep.shape() != input.shape() {
            self.keep = ArrayD::from_elem(input.raw_dim(), false);
        }
        // Keep a value when a uniform draw in [0, 2³²) is at least rate·2³², i.e. with
        // probability 1 − rate; drawn in row-major order, one generator, so the mask does not
        // depend on threads or memory layout.
        let threshold = (f64::from(self.rate) * 4_294_967_296.0) as u64;
        self.keep.map_inplace(|keep| *keep = u64::from(rng.next_u32()) >= threshold);
        let keep_prob = 1.0 - self.rate;
        let mut output = input.to_owned();
        Zip::from(&mut output)
            .and(&self.keep)
            .for_each(|value, &keep| *value = if keep { *value / keep_prob } else { 0.0 });
        self.cached = Some(Cached::Masked);
        Ok(output)
    }

    fn backward(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        let cached = self.cached.ok_or_else(|| Error::NoForwardCache(self.base.name.clone()))?;
        if grad_output.shape() != self.cached_shape.as_slice() {
            return Err(Error::ShapeMismatch {
                layer: format!("{} (backward)", self.base.name),
                expected: array_shape(&self.cached_shape),
                found: array_shape(grad_output.shape()),
            });
        }
        if !input_grad {
            return Ok(None);
        }
        let mut grad = grad_output.to_owned();
        if cached == Cached::Masked {
            // dy/dx = 1 / (1 − rate) where kept, 0 where dropped.
            let keep_prob = 1.0 - self.rate;
            Zip::from(&mut grad)
                .and(&self.keep)
                .for_each(|g, &keep| *g = if keep { *g / keep_prob } else { 0.0 });
        }
        Ok(Some(grad))
    }

    fn take_forward_cache(&mut self) -> Option<super::ForwardCache> {
        let mut state = self.cached.take().map(|cached| {
            (cached, std::mem::take(&mut self.cached_shape), std::mem::take(&mut self.keep))
        });
        super::cache::take::<Self, _>(&mut state)
    }

    fn put_forward_cache(&mut self, cache: super::ForwardCache) -> Result<()> {
        let mut state: Option<(Cached, Vec<usize>, ArrayD<bool>)> = None;
        super::cache::put::<Self, _>(&self.base.name, &mut state, cache)?;
        self.cached = match state {
            Some((cached, shape, keep)) => {
                (self.cached_shape, self.keep) = (shape, keep);
                Some(cached)
            }
            None => None,
        };
        Ok(())
    }
}
