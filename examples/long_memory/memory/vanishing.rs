//! Why a Simple RNN forgets: powers of the recurrent matrix, and dL/dh_t back through time.

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array1, Array2, Array3, ArrayBase, ArrayD, Axis, Data, Dimension, Ix2, Zip};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rnnkit::layers::{Embedding, Layer, LayerExt, SimpleRnn};
use rnnkit::model::Sequential;
use rnnkit::{Error, Result};

/// The largest matrix [`scaled_orthogonal`] draws: 4096 × 4096 f64 values are 128 MiB.
const MAX_UNITS: usize = 4096;

/// ‖Aᵗ·h‖ for a unit vector h and A = λ·Q, Q orthogonal: the lesson's picture of a linear
/// recurrence h_t = A·h_{t−1}.
///
/// Q is drawn as Keras' orthogonal initializer draws a SimpleRnn's `recurrent_kernel` (the Q of
/// a QR decomposition of a standard normal matrix). Every eigenvalue of Q has modulus 1, so
/// every eigenvalue of A has modulus λ: A's spectral radius is λ, and since Q keeps norms,
/// ‖Aᵗ·h‖ = λᵗ exactly — vanishing for λ < 1, exploding for λ > 1. The norms here are measured
/// by multiplying t times, not taken from the formula.
#[derive(Clone, Debug, PartialEq)]
pub struct PowerNorms {
    /// λ, the spectral radius of A.
    pub spectral_radius: f64,
    /// The powers t.
    pub powers: Vec<usize>,
    /// ‖Aᵗ·h‖ for each power, ‖h‖ = 1.
    pub norms: Vec<f64>,
}

/// λ·Q: a `(units, units)` matrix whose eigenvalues all have modulus `spectral_radius`.
///
/// # Errors
/// [`Error::InvalidArgument`] for `units` outside 1..=4096 or a `spectral_radius` that is not a positive
/// number.
pub fn scaled_orthogonal(units: usize, spectral_radius: f64, seed: u64) -> Result<Array2<f64>> {
    if units == 0 || units > MAX_UNITS {
        return Err(Error::invalid("units", format!("a matrix size in 1..={MAX_UNITS}"), units));
    }
    if !(spectral_radius.is_finite() && spectral_radius > 0.0) {
        return Err(Error::invalid("spectral_radius", "a positive number", spectral_radius));
    }
    // A SimpleRnn's recurrent kernel, Keras' orthogonal initializer's draw.
    let mut model = Sequential::new().seed(seed);
    model.add(SimpleRnn::new(units));
    model.build(&[1, 1])?;
    let q = model.get_weights().swap_remove(1).into_dimensionality::<Ix2>().map_err(|e| {
        Error::invalid("units", "a square orthogonal matrix", format!("{units}: {e}"))
    })?;
    Ok(q.mapv(|v| f64::from(v) * spectral_radius))
}

/// ‖Aᵗ·h‖ for each t of `powers` (in any order), with A = λ·Q from [`scaled_orthogonal`] of
/// `units` rows and h a random unit vector, both drawn from `seed`.
///
/// # Examples
/// ```
/// use rnnkit::long_memory::power_norms;
/// # fn main() -> rnnkit::Result<()> {
/// let shrinking = power_norms(0.9, &[1, 100], 16, 7)?;
/// assert!((shrinking.norms[1] - 0.9f64.powi(100)).abs() < 1e-8); // 2.7·10⁻⁵
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// As [`scaled_orthogonal`].
pub fn power_norms(
    spectral_radius: f64,
    powers: &[usize],
    units: usize,
    seed: u64,
) -> Result<PowerNorms> {
    let matrix = scaled_orthogonal(units, spectral_radius, seed)?;
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(1));
    let mut h = Array1::<f64>::from_shape_simple_fn(units, || rng.sample(StandardNormal));
    let norm = h.dot(&h).sqrt();
    h /= norm;
    let mut sorted: Vec<usize> = powers.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut norm_at = Vec::with_capacity(sorted.len());
    let mut t = 0;
    for &power in &sorted {
        while t < power {
            h = matrix.dot(&h);
            t += 1;
        }
        norm_at.push((power, h.dot(&h).sqrt()));
    }
    let norms = powers
        .iter()
        .map(|p| norm_at.iter().find(|(power, _)| power == p).map_or(f64::NAN, |(_, n)| *n))
        .collect();
    Ok(PowerNorms { spectral_radius, powers: powers.to_vec(), norms })
}

/// dL/dh_t for every sample, step and unit of a trained Embedding → SimpleRnn → Dense(1,
/// sigmoid) model (or SimpleRnn → Dense(1, sigmoid) on vectors), where L is each sample's own binary cross-entropy
/// −y·log p − (1−y)·log(1−p) and h_t the SimpleRnn's state after step t.
///
/// The states come from the model's own weights run with `return_sequences(true)`; the
/// gradient starts at the last state, dL/dh_{T−1} = (p − y)·v with v the Dense kernel, and goes
/// back through the recurrence h_t = tanh(x_t·W + h_{t−1}·U + b):
/// dL/dh_{t−1} = (dL/dh_t ⊙ (1 − h_t²))·Uᵀ. How fast its norm falls with T−1−t is how fast the
/// model loses the ability to learn from step t.
///
/// # Shapes
/// `x` is `(batch, steps)` ids for a model that starts with an Embedding, or `(batch, steps,
/// features)` vectors for one that starts with the SimpleRnn; `y` is `(batch,)` labels; the
/// result is `(batch, steps, units)`.
///
/// # Errors
/// [`Error::InvalidArgument`] when the model is not Embedding → SimpleRnn → Dense(1, sigmoid)
/// for ids or SimpleRnn → Dense(1, sigmoid) for vectors,
/// or when its SimpleRnn does not compute tanh(x_t·W + h_{t−1}·U + b) on every step (another
/// activation, a mask, `go_backwards`): the states recomputed from its weights then do not
/// reproduce its predictions. [`Error::LengthMismatch`] when `x` and `y` differ in samples,
/// [`Error::EmptyInput`] for an `x` without samples or steps, and
/// the errors of `predict` for ids or lengths the model cannot take.
pub fn state_gradients<S, D>(
    model: &mut Sequential,
    x: &ArrayBase<S, D>,
    y: &Array1<f32>,
) -> Result<Array3<f32>>
where
    S: Data<Elem = f32>,
    D: Dimension,
{
    if !matches!(x.ndim(), 2 | 3) {
        return Err(Error::invalid(
            "x",
            "(batch, steps) ids or (batch, steps, features) vectors",
            format!("an array of {} dimensions", x.ndim()),
        ));
    }
    let ids = x.ndim() == 2;
    let wrong_model = |found: String| {
        let expected = if ids {
            "Embedding → SimpleRnn (tanh, no mask, forwards) → Dense(1, sigmoid) for ids"
        } else {
            "SimpleRnn (tanh, no mask, forwards) → Dense(1, sigmoid) for vectors"
        };
        Error::invalid("model", expected, found)
    };
    let layers: Vec<&dyn Layer> = model.layers().collect();
    let classes: Vec<&str> = layers.iter().map(|l| l.class_name()).collect();
    let (embedding, rnn, dense) = match (ids, layers.as_slice()) {
        (true, [embedding, rnn, dense]) if classes == ["Embedding", "SimpleRNN", "Dense"] => {
            (Some(embedding), rnn, dense)
        }
        (false, [rnn, dense]) if classes == ["SimpleRNN", "Dense"] => (None, rnn, dense),
        _ => return Err(wrong_model(classes.join(" → "))),
    };
    // A Dense other than (1, sigmoid) fails the check of the predictions below.
    if dense.output_shape() != Some(&[1][..]) {
        return Err(wrong_model(classes.join(" → ")));
    }
    let samples = x.shape().first().copied().unwrap_or(0);
    if samples != y.len() {
        return Err(Error::LengthMismatch { x: samples, y: y.len() });
    }
    if x.is_empty() {
        return Err(Error::EmptyInput("x (no sequence, or sequences without steps)"));
    }
    let embedding_weights = embedding.map(|e| e.get_weights()).unwrap_or_default();
    let (rnn_weights, dense_weights) = (rnn.get_weights(), dense.get_weights());
    let (Some(recurrent_kernel), Some(dense_kernel)) = (rnn_weights.get(1), dense_weights.first())
    else {
        return Err(wrong_model("a model whose layers are not built".into()));
    };
    if embedding.is_some() && embedding_weights.is_empty() {
        return Err(wrong_model("a model whose layers are not built".into()));
    }
    let units = recurrent_kernel.shape()[0];
    let recurrent_kernel = matrix(recurrent_kernel)?; // (units, units)
    let v = dense_kernel.iter().copied().collect::<Array1<f32>>(); // (units,)
    let c = dense_weights.get(1).and_then(|b| b.iter().next().copied()).unwrap_or(0.0);

    // The states h_0..h_{T−1}, with the model's weights.
    let mut states_model = Sequential::new();
    if let Some(table) = embedding_weights.first() {
        states_model.add(Embedding::new(table.shape()[0], table.shape()[1]));
    }
    states_model.add(SimpleRnn::new(units).return_sequences(true).use_bias(rnn_weights.len() == 3));
    states_model.build(&x.shape()[1..])?;
    states_model.set_weights(embedding_weights.into_iter().chain(rnn_weights).collect())?;
    let batch_size = 256;
    let states = states_model.predict_batched(x, batch_size)?.into_dimensionality::<ndarray::Ix3>();
    let states = states.map_err(|e| wrong_model(format!("states of another shape: {e}")))?;
    let (batch, steps, _) = states.dim(); // (batch, steps, units)

    // p = σ(h_{T−1}·v + c), which must be the model's own prediction.
    let logits = states.index_axis(Axis(1), steps - 1).dot(&v) + c; // (batch,)
    let p = logits.mapv(|z| 1.0 / (1.0 + (-z).exp()));
    let predicted = model.predict_batched(x, batch_size)?;
    let gap = p.iter().zip(predicted.iter()).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    if gap > 1e-4 {
        return Err(wrong_model(format!(
            "a model whose predictions differ by {gap:.2e} from tanh states recomputed from its \
             weights"
        )));
    }

    let mut grads = Array3::<f32>::zeros((batch, steps, units));
    // dL/dh_{T−1} = (p − y)·vᵀ
    let mut grad_state = Array2::from_shape_fn((batch, units), |(i, k)| (p[i] - y[i]) * v[k]);
    let mut grad_pre = Array2::<f32>::zeros((batch, units));
    for t in (0..steps).rev() {
        grads.index_axis_mut(Axis(1), t).assign(&grad_state);
        if t == 0 {
            break;
        }
        // dL/dh_{t−1} = (dL/dh_t ⊙ (1 − h_t²))·Uᵀ
        Zip::from(&mut grad_pre)
            .and(&grad_state)
            .and(states.slice(s![.., t, ..]))
            .for_each(|pre, &g, &h| *pre = g * (1.0 - h * h));
        general_mat_mul(1.0, &grad_pre, &recurrent_kernel.t(), 0.0, &mut grad_state);
    }
    Ok(grads)
}

/// The mean over samples of ‖dL/dh_t‖ for each step t of [`state_gradients`]' result.
///
/// # Shapes
/// `grads` is `(batch, steps, units)`; the result has `steps` values.
pub fn mean_norms(grads: &Array3<f32>) -> Vec<f32> {
    let batch = grads.dim().0.max(1) as f32;
    grads
        .axis_iter(Axis(1))
        .map(|step| step.rows().into_iter().map(|row| row.dot(&row).sqrt()).sum::<f32>() / batch)
        .collect()
}

/// A weight as a 2-D matrix.
fn matrix(weight: &ArrayD<f32>) -> Result<Array2<f32>> {
    let shape = format!("{:?}", weight.shape());
    weight
        .clone()
        .into_dimensionality::<Ix2>()
        .map_err(|_| Error::invalid("recurrent_kernel", "a (units, units) matrix", shape))
}
