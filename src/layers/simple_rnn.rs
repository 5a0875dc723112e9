//! `SimpleRnn`: the fully-connected recurrent layer of the lesson.
//!
//! h_t = act(x_t·W + h_{t−1}·U + b), h_{−1} = 0, with `W = kernel (input_dim, units)`,
//! `U = recurrent_kernel (units, units)` and `b = bias (units)`: units·(units + input_dim) + units
//! parameters.

use super::{not_built, Layer, Mask, Param};
use crate::activations::Activation;
use crate::initializers;
use crate::shape::{array_shape, expect_batch_of, keras_shape};
use crate::{Error, Result};
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, Array3, ArrayD, ArrayView2, ArrayViewD, Axis, Ix3, Zip};
use rand::rngs::StdRng;

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

/// What `forward` keeps for `backward`.
#[derive(Clone, Debug)]
struct SimpleRnnCache {
    /// The input, `(batch, steps, input_dim)`.
    input: Array3<f32>,
    /// States with one zero slot for h_{−1}: `(batch, steps + 1, units)`. Reading forwards, h_t
    /// sits at `t + 1` and the zero at 0; reading backwards, h_t sits at `t` and the zero at
    /// `steps` (see [`SimpleRnn::slots`]).
    states: Array3<f32>,
    mask: Option<Mask>,
    /// Steps, in reading order, before the first unmasked one: their state stays zero, so they
    /// are not computed.
    skipped: usize,
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

    /// Number of leading steps, in reading order, masked for every sample.
    fn leading_masked(&self, mask: Option<&Mask>, steps: usize) -> usize {
        let Some(mask) = mask else { return 0 };
        (0..steps).take_while(|&k| !mask.column(self.step_at(k, steps)).iter().any(|&m| m)).count()
    }

    fn kernels(&self) -> Result<(&Param, &Param, Option<&Param>)> {
        match self.weights.as_slice() {
            [kernel, recurrent, rest @ ..] => Ok((kernel, recurrent, rest.first())),
            _ => Err(not_built(&self.name)),
        }
    }
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
        let (kernel, recurrent, bias) = self.kernels()?;
        expect_batch_of(&self.name, &self.input_shape, input.shape())?;
        let input = input.into_dimensionality::<Ix3>().map_err(|_| not_built(&self.name))?;
        let (batch, steps, features) = input.dim();
        if let Some(mask) = mask {
            if mask.dim() != (batch, steps) {
                return Err(Error::ShapeMismatch {
                    layer: format!("{} (mask)", self.name),
                    expected: array_shape(&[batch, steps]),
                    found: array_shape(mask.shape()),
                });
            }
        }
        let units = self.units;
        let (kernel, recurrent) = (matrix(kernel), matrix(recurrent));

        // Whole-sequence input projection in one GEMM: (batch·steps, features) × (features, units).
        let input = input.as_standard_layout().into_owned();
        let flat_input = input
            .view()
            .into_shape_with_order((batch * steps, features))
            .map_err(|_| not_built(&self.name))?;
        let mut projected = Array2::<f32>::zeros((batch * steps, units));
        general_mat_mul(1.0, &flat_input, &kernel, 0.0, &mut projected);
        if let Some(bias) = bias {
            projected += &bias.value;
        }
        let projected = projected
            .into_shape_with_order((batch, steps, units))
            .map_err(|_| not_built(&self.name))?;

        // The recurrence, in place in `states`: h_t = act(z_t + h_{t−1}·U).
        let mut states = Array3::<f32>::zeros((batch, steps + 1, units));
        let skipped = self.leading_masked(mask, steps);
        for k in skipped..steps {
            let t = self.step_at(k, steps);
            let (prev_slot, slot) = self.slots(t);
            let (prev, mut current) = if prev_slot < slot {
                let (lo, hi) = states.view_mut().split_at(Axis(1), slot);
                (lo.index_axis_move(Axis(1), prev_slot), hi.index_axis_move(Axis(1), 0))
            } else {
                let (lo, hi) = states.view_mut().split_at(Axis(1), prev_slot);
                (hi.index_axis_move(Axis(1), 0), lo.index_axis_move(Axis(1), slot))
            };
            current.assign(&projected.index_axis(Axis(1), t));
            general_mat_mul(1.0, &prev, &recurrent, 1.0, &mut current);
            self.activation.apply(current.view_mut().into_dyn());
            if let Some(mask) = mask {
                // A masked step carries the previous state through unchanged.
                Zip::from(current.rows_mut()).and(prev.rows()).and(mask.column(t)).for_each(
                    |mut h, h_prev, &keep| {
                        if !keep {
                            h.assign(&h_prev);
                        }
                    },
                );
            }
        }

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
        self.cache =
            training.then(|| SimpleRnnCache { input, states, mask: mask.cloned(), skipped });
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
        let cache = self.cache.as_ref().ok_or_else(|| Error::NoForwardCache(self.name.clone()))?;
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
        let (kernel, recurrent, _) = self.kernels()?;
        let (kernel, recurrent) = (matrix(kernel), matrix(recurrent));

        // BPTT: dz_t = dh_t ⊙ act'(h_t); dh_{t−1} = dz_t·Uᵀ (+ dh_t where step t is masked).
        let mut dz = Array3::<f32>::zeros((batch, steps, units));
        let mut dh = Array2::<f32>::zeros((batch, units));
        let mut dh_prev = Array2::<f32>::zeros((batch, units));
        if !self.return_sequences {
            dh.assign(&grad_output);
        }
        for k in (cache.skipped..steps).rev() {
            let t = self.step_at(k, steps);
            if self.return_sequences {
                // Output k (reading order) is the state at input time t.
                dh += &grad_output.index_axis(Axis(1), k);
            }
            let (_, slot) = self.slots(t);
            let h = cache.states.index_axis(Axis(1), slot);
            let mut dz_t = dz.index_axis_mut(Axis(1), t);
            dz_t.assign(&dh);
            self.activation.backward(h.into_dyn(), dz_t.view_mut().into_dyn());
            if let Some(mask) = &cache.mask {
                Zip::from(dz_t.rows_mut()).and(mask.column(t)).for_each(|mut row, &keep| {
                    if !keep {
                        row.fill(0.0);
                    }
                });
            }
            general_mat_mul(1.0, &dz_t, &recurrent.t(), 0.0, &mut dh_prev);
            if let Some(mask) = &cache.mask {
                Zip::from(dh_prev.rows_mut()).and(dh.rows()).and(mask.column(t)).for_each(
                    |mut prev, carried, &keep| {
                        if !keep {
                            prev.assign(&carried);
                        }
                    },
                );
            }
            std::mem::swap(&mut dh, &mut dh_prev);
        }

        // Weight gradients as whole-sequence GEMMs after the loop.
        let flat_dz = dz
            .view()
            .into_shape_with_order((batch * steps, units))
            .map_err(|_| not_built(&self.name))?;
        let flat_input = cache
            .input
            .view()
            .into_shape_with_order((batch * steps, features))
            .map_err(|_| not_built(&self.name))?;
        let (prev_states, _) = if self.go_backwards {
            (cache.states.slice(s![.., 1.., ..]), ())
        } else {
            (cache.states.slice(s![.., ..steps, ..]), ())
        };
        let mut d_recurrent = Array2::<f32>::zeros((units, units));
        for (h_prev, dz_b) in prev_states.outer_iter().zip(dz.outer_iter()) {
            general_mat_mul(1.0, &h_prev.t(), &dz_b, 1.0, &mut d_recurrent);
        }
        let d_input = input_grad.then(|| {
            let mut d_input = Array2::<f32>::zeros((batch * steps, features));
            general_mat_mul(1.0, &flat_dz, &kernel.t(), 0.0, &mut d_input);
            d_input
        });
        let mut d_kernel = Array2::<f32>::zeros((features, units));
        general_mat_mul(1.0, &flat_input.t(), &flat_dz, 0.0, &mut d_kernel);
        let d_bias = flat_dz.sum_axis(Axis(0));

        let mut params = self.weights.iter_mut();
        if let Some(p) = params.next() {
            p.grad += &d_kernel;
        }
        if let Some(p) = params.next() {
            p.grad += &d_recurrent;
        }
        if let Some(p) = params.next() {
            p.grad += &d_bias;
        }
        match d_input {
            Some(d) => Ok(Some(
                d.into_shape_with_order((batch, steps, features))
                    .map_err(|_| not_built(&self.name))?
                    .into_dyn(),
            )),
            None => Ok(None),
        }
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
