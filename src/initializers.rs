//! Weight initialisers with Keras' formulas, drawn from the model's seeded generator.

use ndarray::{Array1, Array2, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::Rng;
use rand_distr::StandardNormal;

/// Checks, before any weight is drawn, that weights of these shapes can be allocated (the
/// orthogonal initialiser needs twice as much, in f64): a huge `units` or `input_dim` is then an
/// error naming the layer and the shape instead of an overflow or an aborted allocation.
pub(crate) fn check_sizes(layer: &str, arguments: &str, shapes: &[&[usize]]) -> crate::Result<()> {
    for shape in shapes {
        let values = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        let allocatable = values.and_then(|n| n.checked_mul(2)).is_some_and(|n| {
            let mut probe: Vec<f32> = Vec::new();
            probe.try_reserve_exact(n).is_ok()
        });
        if !allocatable {
            return Err(crate::Error::invalid(
                arguments,
                format!("sizes whose weights fit in memory (layer '{layer}')"),
                format!("a weight of shape {}", crate::shape::array_shape(shape)),
            ));
        }
    }
    Ok(())
}

/// Uniform in ±0.05: Keras' `"uniform"` (`RandomUniform`), the default of `Embedding`.
pub(crate) fn uniform(shape: &[usize], rng: &mut StdRng) -> ArrayD<f32> {
    ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.gen_range(-0.05f32..0.05))
}

/// `GlorotUniform`: uniform in ±√(6 / (fan_in + fan_out)) for a `(fan_in, fan_out)` kernel.
pub(crate) fn glorot_uniform(fan_in: usize, fan_out: usize, rng: &mut StdRng) -> ArrayD<f32> {
    let limit = (6.0 / (fan_in as f64 + fan_out as f64)).sqrt() as f32;
    Array2::from_shape_simple_fn((fan_in, fan_out), || rng.gen_range(-limit..limit)).into_dyn()
}

/// `Orthogonal` (gain 1): the Q of a QR decomposition of a standard normal matrix, with the
/// signs of R's diagonal folded in, as `keras/src/initializers/random_initializers.py` does.
pub(crate) fn orthogonal(rows: usize, cols: usize, rng: &mut StdRng) -> ArrayD<f32> {
    let (tall, narrow) = (rows.max(cols), rows.min(cols));
    let mut a = Array2::<f64>::from_shape_simple_fn((tall, narrow), || rng.sample(StandardNormal));
    // Modified Gram-Schmidt: the columns become Q's, and R's diagonal (the norms) is positive,
    // which is exactly Q·sign(diag(R)).
    for j in 0..narrow {
        for k in 0..j {
            let dot = a.column(j).dot(&a.column(k));
            let previous: Array1<f64> = a.column(k).to_owned();
            a.column_mut(j).scaled_add(-dot, &previous);
        }
        let norm = a.column(j).dot(&a.column(j)).sqrt();
        a.column_mut(j).mapv_inplace(|v| v / norm);
    }
    let q = if rows < cols { a.reversed_axes() } else { a };
    q.mapv(|v| v as f32).as_standard_layout().into_owned().into_dyn()
}

/// All zeros: the default bias.
pub(crate) fn zeros(shape: &[usize]) -> ArrayD<f32> {
    ArrayD::zeros(IxDyn(shape))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn orthogonal_columns_are_orthonormal() {
        let mut rng = StdRng::seed_from_u64(3);
        for (rows, cols) in [(8, 8), (12, 5), (5, 12)] {
            let q = orthogonal(rows, cols, &mut rng).into_dimensionality::<ndarray::Ix2>().unwrap();
            let gram = if rows >= cols { q.t().dot(&q) } else { q.dot(&q.t()) };
            for ((i, j), v) in gram.indexed_iter() {
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((v - expected).abs() < 1e-5, "{rows}x{cols} gram[{i},{j}] = {v}");
            }
        }
    }

    #[test]
    fn glorot_respects_its_limit() {
        let mut rng = StdRng::seed_from_u64(1);
        let w = glorot_uniform(32, 32, &mut rng);
        let limit = (6.0f32 / 64.0).sqrt();
        assert!(w.iter().all(|v| v.abs() <= limit));
        assert!(w.iter().any(|v| v.abs() > 0.9 * limit));
    }
}
