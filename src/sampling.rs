//! Drawing the next token from a model's softmax, with a temperature.

use crate::{Error, Result};
use rand::distributions::{Distribution, WeightedIndex};
use rand::Rng;

/// Draws an index from the class probabilities `probabilities` reweighted by `temperature`, as
/// the text-generation lesson's `sample(preds, temperature)` does: in `f64`,
/// p'ᵢ ∝ exp(log(pᵢ) / temperature), then one multinomial draw.
///
/// A temperature below 1 sharpens the distribution towards the likeliest token (0.2 repeats
/// itself), 1 draws from the model's own distribution, and above 1 flattens it (more
/// surprising, less correct text). The draw is reproducible from a seeded `rng`.
///
/// # Errors
/// [`Error::EmptyInput`] for no probabilities; [`Error::InvalidArgument`] for a temperature
/// that is not a positive finite number, or probabilities that are negative, not finite or all
/// zero.
///
/// # Examples
/// ```
/// use rand::rngs::StdRng;
/// use rand::SeedableRng;
/// use rnnkit::sampling::sample;
/// # fn main() -> rnnkit::Result<()> {
/// let mut rng = StdRng::seed_from_u64(7);
/// let next_char = [0.1f32, 0.7, 0.2];
/// let cold: Vec<usize> = (0..20).map(|_| sample(&next_char, 0.05, &mut rng)).collect::<Result<_, _>>()?;
/// assert!(cold.iter().all(|&i| i == 1));
/// # Ok(())
/// # }
/// ```
pub fn sample(probabilities: &[f32], temperature: f32, rng: &mut impl Rng) -> Result<usize> {
    if probabilities.is_empty() {
        return Err(Error::EmptyInput("probabilities"));
    }
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(Error::invalid("temperature", "a positive finite number", temperature));
    }
    if let Some(bad) = probabilities.iter().find(|p| !(p.is_finite() && **p >= 0.0)) {
        return Err(Error::invalid("probabilities", "finite values ≥ 0", bad));
    }
    let logits: Vec<f64> =
        probabilities.iter().map(|&p| f64::from(p).ln() / f64::from(temperature)).collect();
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return Err(Error::invalid("probabilities", "at least one value > 0", "all zero"));
    }
    // Shifting by the largest logit changes no ratio and keeps exp from underflowing to 0.
    let weights = logits.iter().map(|&l| (l - max).exp());
    let distribution = WeightedIndex::new(weights)
        .map_err(|e| Error::invalid("probabilities", "weights a multinomial draw accepts", e))?;
    Ok(distribution.sample(rng))
}

#[cfg(test)]
mod tests {
    use super::sample;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn frequencies(probabilities: &[f32], temperature: f32, draws: usize) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(11);
        let mut counts = vec![0usize; probabilities.len()];
        for _ in 0..draws {
            counts[sample(probabilities, temperature, &mut rng).unwrap()] += 1;
        }
        counts.iter().map(|&c| c as f64 / draws as f64).collect()
    }

    #[test]
    fn temperature_one_draws_from_the_distribution_itself() {
        let f = frequencies(&[0.2, 0.5, 0.3], 1.0, 40_000);
        for (got, want) in f.iter().zip([0.2, 0.5, 0.3]) {
            assert!((got - want).abs() < 0.01, "{f:?}");
        }
    }

    #[test]
    fn temperature_reweights_as_p_to_the_one_over_t() {
        // p ∝ (0.2, 0.8)^(1/0.5) = (0.04, 0.64) → (1/17, 16/17).
        let f = frequencies(&[0.2, 0.8], 0.5, 40_000);
        assert!((f[0] - 1.0 / 17.0).abs() < 0.006, "{f:?}");
        // Above 1 the distribution flattens: (0.2, 0.8)^(1/2) → (1/3, 2/3).
        let f = frequencies(&[0.2, 0.8], 2.0, 40_000);
        assert!((f[0] - 1.0 / 3.0).abs() < 0.01, "{f:?}");
    }

    #[test]
    fn zero_probabilities_are_never_drawn_and_tiny_temperatures_do_not_underflow() {
        let f = frequencies(&[0.0, 1e-3, 2e-3, 0.0], 0.001, 2_000);
        assert_eq!(f, vec![0.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn the_same_seed_gives_the_same_draws() {
        let draw = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..50).map(|_| sample(&[0.3, 0.3, 0.4], 1.0, &mut rng).unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(draw(5), draw(5));
        assert_ne!(draw(5), draw(6));
    }

    #[test]
    fn bad_input_is_refused() {
        let mut rng = StdRng::seed_from_u64(0);
        assert!(sample(&[], 1.0, &mut rng).unwrap_err().to_string().contains("probabilities"));
        for t in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            let err = sample(&[0.5, 0.5], t, &mut rng).unwrap_err().to_string();
            assert!(err.contains("temperature"), "{err}");
        }
        assert!(sample(&[0.5, -0.1], 1.0, &mut rng).is_err());
        assert!(sample(&[0.5, f32::NAN], 1.0, &mut rng).is_err());
        let err = sample(&[0.0, 0.0], 1.0, &mut rng).unwrap_err().to_string();
        assert!(err.contains("all zero"), "{err}");
    }
}
