//! `SimpleRnn`: the fully-connected recurrent layer of the lesson.
//!
//! h_t = act(x_t·W + h_{t−1}·U + b), h_{−1} = 0, with `W = kernel (input_dim, units)`,
//! `U = recurrent_kernel (units, units)` and `b = bias (units)`: units·(units + input_dim) + units
//! parameters.

use super::{not_built, Layer, Mask, Param};
use crate::activations::Activation;
use crate::initializers;
use crate::kernels;
use crate::shape::{array_shape, expect_batch_of, keras_shape};
use crate::{Error, Result};
use ndarray::{
    s, Array1, Array2, Array3, ArrayD, ArrayView2, ArrayView3, ArrayViewD, ArrayViewMut3, Axis,
    CowArray, Ix3,
};
use rand::rngs::StdRng;
use rayon::prelude::*;

/// A fully-connected recurrent layer, as Keras' `SimpleRNN`.
///
/// Reads a sequence step by step and keeps a state vector of `units` values:
/// h_t = act(x_t·W + h_{t−1}·U + b), starting from h_{−1} = 0. With a mask, a masked step carries
/// the state (and, with `return_sequences`, the output) through unchanged, as Keras does.
///
/// # Shapes
/// Input `(batch, steps, input_dim)`; output `(batch, units)`, or `(batch, steps, units)` with
/// `return_sequences(true)`. With `go_backwards(true)` the sequence is read from its end, and the
/// returned sequence is in that reversed order (Keras' behaviour).
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(Embedding::new(10_000, 32).input_length(500));
/// model.add(SimpleRnn::new(32));
/// // units·(units + input_dim) + units = 32·(32 + 32) + 32
/// assert_eq!(model.summary()?.layers()[1].params, 2_080);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct SimpleRnn {
    name: String,
    units: usize,
    activation: Activation,
    use_bias: bool,
    return_sequences: bool,
    go_backwards: bool,
    trainable: bool,
    weights: Vec<Param>,
    input_shape: Vec<usize>,
    output_shape: Vec<usize>,
    cache: Option<SimpleRnnCache>,
}

/// What `forward` keeps for `backward`, and the buffers the next call reuses.
#[derive(Clone, Debug)]
struct SimpleRnnCache {
    /// The input, `(batch, steps, input_dim)`.
    input: Array3<f32>,
    /// States with one zero slot for h_{−1}: `(batch, steps + 1, units)`. Reading forwards, h_t
    /// sits at `t + 1` and the zero at 0; reading backwards, h_t sits at `t` and the zero at
    /// `steps` (see [`SimpleRnn::slots`]).
    states: Array3<f32>,
    mask: Option<Mask>,
    /// The input projection x_t·W + b, `(batch, steps, units)`; kept only to reuse its memory.
    projected: Array3<f32>,
    /// Whether `forward` ran in training mode (otherwise `input` is not kept).
    training: bool,
    /// Per chunk of samples, the steps (in reading order) before the first unmasked one: their
    /// state stays zero, so they are not computed.
    skipped: Vec<usize>,
}

impl SimpleRnn {
    /// A recurrent layer with `units` state values. Defaults as Keras: tanh activation, bias on,
    /// `return_sequences` and `go_backwards` off, weights glorot_uniform / orthogonal / zeros.
    pub fn new(units: usize) -> Self {
        SimpleRnn {
            name: String::new(),
            units,
            activation: Activation::Tanh,
            use_bias: true,
            return_sequences: false,
            go_backwards: false,
            trainable: true,
            weights: Vec::new(),
            input_shape: Vec::new(),
            output_shape: Vec::new(),
            cache: None,
        }
    }

    /// Returns every state h_0..h_T (many-to-many) instead of only the last (many-to-one).
    /// Default: `false`.
    pub fn return_sequences(mut self, return_sequences: bool) -> Self {
        self.return_sequences = return_sequences;
        self
    }

    /// The activation `act` of the update. Default: [`Activation::Tanh`].
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Whether the update adds a bias `b`. Default: `true`.
    pub fn use_bias(mut self, use_bias: bool) -> Self {
        self.use_bias = use_bias;
        self
    }

    /// Reads the sequence from its last step to its first. Default: `false`.
    pub fn go_backwards(mut self, go_backwards: bool) -> Self {
        self.go_backwards = go_backwards;
        self
    }

    /// Whether the optimizer updates the weights. Default: `true`.
    pub fn trainable(mut self, trainable: bool) -> Self {
        self.trainable = trainable;
        self
    }

    /// Input time index of the `k`-th step read.
    fn step_at(&self, k: usize, steps: usize) -> usize {
        if self.go_backwards {
            steps - 1 - k
        } else {
            k
        }
    }

    /// Slots of `states` holding (h_{t−1}, h_t) for input time `t`.
    fn slots(&self, t: usize) -> (usize, usize) {
        if self.go_backwards {
            (t + 1, t)
        } else {
            (t, t + 1)
        }
    }

    fn kernels(&self) -> Result<(&Param, &Param, Option<&Param>)> {
        match self.weights.as_slice() {
            [kernel, recurrent, rest @ ..] => Ok((kernel, recurrent, rest.first())),
            _ => Err(not_built(&self.name)),
        }
    }
}

/// Samples per parallel chunk. Fixed, so that results do not depend on the thread count.
const CHUNK: usize = 8;

/// The layer's weights as views.
struct Weights<'a> {
    kernel: ArrayView2<'a, f32>,
    recurrent: ArrayView2<'a, f32>,
    bias: Option<ArrayViewD<'a, f32>>,
}

/// One chunk's share of the weight gradients.
struct ChunkGradients {
    kernel: ArrayD<f32>,
    recurrent: ArrayD<f32>,
    bias: ArrayD<f32>,
}

impl SimpleRnn {
    /// Runs the recurrence for a chunk of samples, writing h_t into `states`; returns how many
    /// leading steps (in reading order) were masked for every sample of the chunk and skipped.
    fn forward_chunk(
        &self,
        weights: &Weights<'_>,
        input: ArrayView3<'_, f32>,
        mask: Option<ArrayView2<'_, bool>>,
        mut states: ArrayViewMut3<'_, f32>,
        mut projected: ArrayViewMut3<'_, f32>,
    ) -> Result<usize> {
        let (rows, steps, features) = input.dim();
        let units = self.units;
        let skipped = leading_masked(mask, steps, |k| self.step_at(k, steps));
        if skipped == steps {
            return Ok(skipped);
        }
        // Input projection of the whole chunk in one product:
        // (rows·steps, features) × (features, units), plus the bias.
        match &weights.bias {
            Some(bias) => projected.assign(bias),
            None => projected.fill(0.0),
        }
        let kernel = weights.kernel.as_slice().ok_or_else(|| not_built(&self.name))?;
        let recurrent = weights.recurrent.as_slice().ok_or_else(|| not_built(&self.name))?;
        let (Some(x), Some(projected), Some(states)) =
            (input.as_slice(), projected.as_slice_mut(), states.as_slice_mut())
        else {
            return Err(not_built(&self.name));
        };
        kernels::add_matmul(rows * steps, features, units, x, features, kernel, projected, units);

        // h_t = act(z_t + h_{t−1}·U), row by row on flat buffers: no allocation in the loop.
        let slots = (steps + 1) * units;
        let mut h = vec![0.0f32; rows * units];
        for k in skipped..steps {
            let t = self.step_at(k, steps);
            let (prev_slot, slot) = self.slots(t);
            for (i, h_row) in h.chunks_exact_mut(units).enumerate() {
                h_row.copy_from_slice(&projected[(i * steps + t) * units..][..units]);
            }
            let prev = &states[prev_slot * units..];
            kernels::add_matmul(rows, units, units, prev, slots, recurrent, &mut h, units);
            self.activation.apply_rows(&mut h, units);
            for (i, h_row) in h.chunks_exact(units).enumerate() {
                // A masked step carries the previous state through unchanged.
                let keep = mask.as_ref().is_none_or(|m| m[(i, t)]);
                let from = if keep { None } else { Some(i * slots + prev_slot * units) };
                let to = i * slots + slot * units;
                match from {
                    None => states[to..to + units].copy_from_slice(h_row),
                    Some(from) => states.copy_within(from..from + units, to),
                }
            }
        }
        Ok(skipped)
    }

    /// BPTT for a chunk of samples: returns the chunk's weight gradients and writes dL/dinput.
    fn backward_chunk(
        &self,
        weights: &Weights<'_>,
        recurrent_t: ArrayView2<'_, f32>,
        cache: &SimpleRnnCache,
        rows: std::ops::Range<usize>,
        grad_output: ArrayViewD<'_, f32>,
        d_input: Option<&mut ArrayViewMut3<'_, f32>>,
    ) -> ChunkGradients {
        let input = cache.input.slice(s![rows.clone(), .., ..]);
        let states = cache.states.slice(s![rows.clone(), .., ..]);
        let mask = cache.mask.as_ref().map(|m| m.slice(s![rows.clone(), ..]));
        let skipped = cache.skipped[rows.start / CHUNK];
        let (count, steps, features) = input.dim();
        let units = self.units;
        let recurrent_t = recurrent_t.as_slice().unwrap_or_default();

        // dz_t = dh_t ⊙ act'(h_t); dh_{t−1} = dz_t·Uᵀ, or dh_t itself where step t is masked.
        let mut dz = Array3::<f32>::zeros((count, steps, units));
        let mut dh = vec![0.0f32; count * units];
        let mut dh_prev = vec![0.0f32; count * units];
        let grad_output = grad_output.as_standard_layout();
        let grad = grad_output.as_slice().unwrap_or_default();
        let states_flat = states.as_slice().unwrap_or_default();
        let slots = (steps + 1) * units;
        if !self.return_sequences {
            dh.copy_from_slice(grad);
        }
        if let Some(dz_flat) = dz.as_slice_mut() {
            for k in (skipped..steps).rev() {
                let t = self.step_at(k, steps);
                let (_, slot) = self.slots(t);
                for (i, dh_row) in dh.chunks_exact_mut(units).enumerate() {
                    if self.return_sequences {
                        // Output k (reading order) is the state at input time t.
                        let g = &grad[(i * steps + k) * units..][..units];
                        dh_row.iter_mut().zip(g).for_each(|(d, g)| *d += g);
                    }
                    let dz_row = &mut dz_flat[(i * steps + t) * units..][..units];
                    if mask.as_ref().is_none_or(|m| m[(i, t)]) {
                        dz_row.copy_from_slice(dh_row);
                        let h = &states_flat[i * slots + slot * units..][..units];
                        self.activation.backward_row(h, dz_row);
                    }
                }
                dh_prev.fill(0.0);
                let dz_t = &dz_flat[t * units..];
                kernels::add_matmul(
                    count,
                    units,
                    units,
                    dz_t,
                    steps * units,
                    recurrent_t,
                    &mut dh_prev,
                    units,
                );
                if let Some(mask) = &mask {
                    for (i, (prev, carried)) in
                        dh_prev.chunks_exact_mut(units).zip(dh.chunks_exact(units)).enumerate()
                    {
                        if !mask[(i, t)] {
                            prev.copy_from_slice(carried);
                        }
                    }
                }
                std::mem::swap(&mut dh, &mut dh_prev);
            }
        }

        // Weight gradients as whole-sequence products after the loop:
        // dW = Xᵀ·dZ, dU = Σ_samples H_prevᵀ·dZ, db = Σ dZ, dX = dZ·Wᵀ.
        let mut kernel = Array2::<f32>::zeros((features, units));
        let mut recurrent = Array2::<f32>::zeros((units, units));
        let mut bias = Array1::<f32>::zeros(units);
        let dz = dz.as_slice().unwrap_or_default();
        let x = input.as_slice().unwrap_or_default();
        if let (Some(d_kernel), Some(d_recurrent), Some(d_bias)) =
            (kernel.as_slice_mut(), recurrent.as_slice_mut(), bias.as_slice_mut())
        {
            kernels::add_matmul_tn(
                features,
                count * steps,
                units,
                x,
                features,
                dz,
                units,
                d_kernel,
            );
            // H_prev for input time t is slot t reading forwards, slot t + 1 reading backwards.
            let offset = if self.go_backwards { units } else { 0 };
            for i in 0..count {
                let h_prev = &states_flat[i * slots + offset..];
                let dz_i = &dz[i * steps * units..(i + 1) * steps * units];
                kernels::add_matmul_tn(
                    units,
                    steps,
                    units,
                    h_prev,
                    units,
                    dz_i,
                    units,
                    d_recurrent,
                );
            }
            for row in dz.chunks_exact(units) {
                d_bias.iter_mut().zip(row).for_each(|(b, g)| *b += g);
            }
        }
        if let Some(d_input) = d_input {
            let kernel_t = weights.kernel.t().as_standard_layout().into_owned();
            if let (Some(out), Some(kernel_t)) = (d_input.as_slice_mut(), kernel_t.as_slice()) {
                kernels::add_matmul(
                    count * steps,
                    units,
                    features,
                    dz,
                    units,
                    kernel_t,
                    out,
                    features,
                );
            }
        }
        ChunkGradients {
            kernel: kernel.into_dyn(),
            recurrent: recurrent.into_dyn(),
            bias: bias.into_dyn(),
        }
    }
}

/// Number of leading steps, in reading order (`step_at(k)` is the k-th step read), masked for
/// every sample.
fn leading_masked(
    mask: Option<ArrayView2<'_, bool>>,
    steps: usize,
    step_at: impl Fn(usize) -> usize,
) -> usize {
    let Some(mask) = mask else { return 0 };
    (0..steps).take_while(|&k| !mask.column(step_at(k)).iter().any(|&m| m)).count()
}

/// The 2-D view of a weight the layer created itself as 2-D.
fn matrix(param: &Param) -> ArrayView2<'_, f32> {
    #[allow(clippy::expect_used)] // `build` creates kernels as 2-D and set_weights keeps shapes.
    param.value.view().into_dimensionality().expect("kernels are 2-D")
}

impl Layer for SimpleRnn {
    fn class_name(&self) -> &'static str {
        "SimpleRNN"
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn set_name(&mut self, name: String) {
        self.name = name;
    }

    fn build(&mut self, input_shape: &[usize], rng: &mut StdRng) -> Result<Vec<usize>> {
        if self.units == 0 {
            return Err(Error::invalid("units", "a positive integer", self.units));
        }
        let &[steps, input_dim] = input_shape else {
            return Err(Error::ShapeMismatch {
                layer: self.name.clone(),
                expected: "(None, steps, features)".into(),
                found: keras_shape(input_shape),
            });
        };
        if steps == 0 || input_dim == 0 {
            return Err(Error::ShapeMismatch {
                layer: self.name.clone(),
                expected: "(None, steps, features) with steps, features > 0".into(),
                found: keras_shape(input_shape),
            });
        }
        let units = self.units;
        self.weights = vec![
            Param::new("kernel", initializers::glorot_uniform(input_dim, units, rng)),
            Param::new("recurrent_kernel", initializers::orthogonal(units, units, rng)),
        ];
        if self.use_bias {
            self.weights.push(Param::new("bias", initializers::zeros(&[units])));
        }
        self.input_shape = input_shape.to_vec();
        self.output_shape = if self.return_sequences { vec![steps, units] } else { vec![units] };
        Ok(self.output_shape.clone())
    }

    fn output_shape(&self) -> Option<&[usize]> {
        (!self.weights.is_empty()).then_some(self.output_shape.as_slice())
    }

    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
        training: bool,
    ) -> Result<ArrayD<f32>> {
        let previous = self.cache.take();
        let (kernel, recurrent, bias) = self.kernels()?;
        expect_batch_of(&self.name, &self.input_shape, input.shape())?;
        let input = input.into_dimensionality::<Ix3>().map_err(|_| not_built(&self.name))?;
        let (batch, steps, _) = input.dim();
        if let Some(mask) = mask {
            if mask.dim() != (batch, steps) {
                return Err(Error::ShapeMismatch {
                    layer: format!("{} (mask)", self.name),
                    expected: array_shape(&[batch, steps]),
                    found: array_shape(mask.shape()),
                });
            }
        }
        let weights = Weights {
            kernel: matrix(kernel),
            recurrent: matrix(recurrent),
            bias: bias.map(|b| b.value.view()),
        };
        // Buffers of the previous call are reused when the batch shape repeats.
        let (mut input_copy, mut states, mut projected) = match previous {
            Some(c) if c.states.dim() == (batch, steps + 1, self.units) => {
                (c.input, c.states, c.projected)
            }
            _ => (
                Array3::zeros((0, steps, input.dim().2)),
                Array3::zeros((batch, steps + 1, self.units)),
                Array3::zeros((batch, steps, self.units)),
            ),
        };
        states.fill(0.0);
        // Backward needs the input; inference reads it in place.
        let input = if training {
            if input_copy.dim() == input.dim() {
                input_copy.assign(&input);
            } else {
                input_copy = input.to_owned();
            }
            CowArray::from(input_copy.view())
        } else {
            input.as_standard_layout()
        };
        let mut skipped = vec![0; batch.div_ceil(CHUNK)];
        {
            // Chunks of samples run in parallel; each chunk's arithmetic is independent of how
            // many threads there are, so results are too.
            let mut work: Vec<_> = input
                .axis_chunks_iter(Axis(0), CHUNK)
                .zip(states.axis_chunks_iter_mut(Axis(0), CHUNK))
                .zip(projected.axis_chunks_iter_mut(Axis(0), CHUNK))
                .zip(skipped.iter_mut())
                .enumerate()
                .collect();
            let this = &*self;
            work.par_iter_mut().try_for_each(|(index, (((x, states), projected), skipped))| {
                let rows = *index * CHUNK..*index * CHUNK + x.len_of(Axis(0));
                let mask = mask.map(|m| m.slice(s![rows, ..]));
                **skipped = this.forward_chunk(
                    &weights,
                    x.view(),
                    mask,
                    states.view_mut(),
                    projected.view_mut(),
                )?;
                Ok::<(), Error>(())
            })?;
        }
        drop(input);

        let output = if self.return_sequences {
            let sequence = if self.go_backwards {
                states.slice(s![.., ..steps;-1, ..])
            } else {
                states.slice(s![.., 1.., ..])
            };
            sequence.to_owned().into_dyn()
        } else {
            let last_slot = if self.go_backwards { 0 } else { steps };
            states.index_axis(Axis(1), last_slot).to_owned().into_dyn()
        };
        self.cache = Some(SimpleRnnCache {
            input: input_copy,
            states,
            projected,
            mask: mask.cloned(),
            skipped,
            training,
        });
        Ok(output)
    }

    fn compute_mask(
        &self,
        _input: ArrayViewD<'_, f32>,
        mask: Option<&Mask>,
    ) -> Result<Option<Mask>> {
        // As Keras' `RNN.compute_mask`: the input mask passes on with the sequence, unreversed
        // even with `go_backwards` (keras/src/layers/rnn/rnn.py).
        Ok(if self.return_sequences { mask.cloned() } else { None })
    }

    fn backward(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        input_grad: bool,
    ) -> Result<Option<ArrayD<f32>>> {
        let cache = self
            .cache
            .as_ref()
            .filter(|c| c.training)
            .ok_or_else(|| Error::NoForwardCache(self.name.clone()))?;
        let (batch, steps, features) = cache.input.dim();
        let units = self.units;
        let expected: &[usize] =
            if self.return_sequences { &[batch, steps, units] } else { &[batch, units] };
        if grad_output.shape() != expected {
            return Err(Error::ShapeMismatch {
                layer: format!("{} (backward)", self.name),
                expected: array_shape(expected),
                found: array_shape(grad_output.shape()),
            });
        }
        let (kernel, recurrent, bias) = self.kernels()?;
        let weights = Weights {
            kernel: matrix(kernel),
            recurrent: matrix(recurrent),
            bias: bias.map(|b| b.value.view()),
        };
        // Uᵀ, row-major, so that dh_{t−1} = dz_t·Uᵀ runs as the same kernel as the forward step.
        let recurrent_t = weights.recurrent.t().as_standard_layout().into_owned();
        let mut d_input = input_grad.then(|| Array3::<f32>::zeros((batch, steps, features)));
        let grad_chunks: Vec<ArrayViewD<'_, f32>> =
            grad_output.axis_chunks_iter(Axis(0), CHUNK).collect();
        let mut d_input_chunks: Vec<Option<ArrayViewMut3<'_, f32>>> = match &mut d_input {
            Some(d) => d.axis_chunks_iter_mut(Axis(0), CHUNK).map(Some).collect(),
            None => (0..grad_chunks.len()).map(|_| None).collect(),
        };
        let this = &*self;
        let partials: Vec<ChunkGradients> = d_input_chunks
            .par_iter_mut()
            .enumerate()
            .map(|(index, d_input)| {
                let rows = index * CHUNK..(index * CHUNK + CHUNK).min(batch);
                this.backward_chunk(
                    &weights,
                    recurrent_t.view(),
                    cache,
                    rows,
                    grad_chunks[index].view(),
                    d_input.as_mut(),
                )
            })
            .collect();

        // Reduce the chunks' weight gradients in chunk order: the sum does not depend on the
        // number of threads.
        for partial in &partials {
            let grads = [&partial.kernel, &partial.recurrent, &partial.bias];
            for (param, grad) in self.weights.iter_mut().zip(grads) {
                param.grad += grad;
            }
        }
        Ok(d_input.map(|d| d.into_dyn()))
    }

    fn params(&self) -> Vec<&Param> {
        self.weights.iter().collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.weights.iter_mut().collect()
    }

    fn is_trainable(&self) -> bool {
        self.trainable
    }

    fn set_trainable(&mut self, trainable: bool) {
        self.trainable = trainable;
    }
}
