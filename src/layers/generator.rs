//! The random generator of a layer that draws dropout masks, and its state as a saved model
//! records it.

use crate::{Error, Result};
use rand_chacha::ChaCha12Rng;

/// A layer's generator: ChaCha12, the generator behind rand's `StdRng` (the same numbers from
/// the same seed), whose position can be read and restored.
pub(crate) type Generator = ChaCha12Rng;

/// Where a layer's random generator stands (its seed, stream and position), so that a loaded
/// model draws the same dropout masks as the saved one would have: read with
/// [`Layer::generator_states`](super::Layer::generator_states).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratorState {
    seed: [u8; 32],
    stream: u64,
    position: u128,
}

impl GeneratorState {
    /// The state of `generator`.
    pub(crate) fn of(generator: &Generator) -> Self {
        GeneratorState {
            seed: generator.get_seed(),
            stream: generator.get_stream(),
            position: generator.get_word_pos(),
        }
    }

    /// A generator at this state.
    pub(crate) fn generator(&self) -> Generator {
        use rand::SeedableRng;
        let mut generator = Generator::from_seed(self.seed);
        generator.set_stream(self.stream);
        generator.set_word_pos(self.position);
        generator
    }

    /// `"SEED_HEX:STREAM:POSITION"`, the text a saved model records.
    pub fn to_text(&self) -> String {
        let seed: String = self.seed.iter().map(|b| format!("{b:02x}")).collect();
        format!("{seed}:{}:{}", self.stream, self.position)
    }

    /// Reads the text of [`GeneratorState::to_text`].
    ///
    /// # Errors
    /// [`Error::Config`] when the text is not 64 hex digits, a stream and a position separated
    /// by colons.
    pub fn from_text(text: &str) -> Result<Self> {
        let bad = || {
            Error::Config(format!(
                "generator state \"{text}\": expected 64 hex digits, a stream and a position \
                 separated by colons"
            ))
        };
        let mut parts = text.split(':');
        let (Some(hex), Some(stream), Some(position), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(bad());
        }
        let mut seed = [0u8; 32];
        for (index, byte) in seed.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * index..2 * index + 2], 16).map_err(|_| bad())?;
        }
        Ok(GeneratorState {
            seed,
            stream: stream.parse().map_err(|_| bad())?,
            position: position.parse().map_err(|_| bad())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngCore, SeedableRng};

    #[test]
    fn the_generator_is_std_rng_and_resumes_where_it_stood() {
        let mut std_rng = StdRng::seed_from_u64(42);
        let mut generator = Generator::seed_from_u64(42);
        for _ in 0..37 {
            assert_eq!(generator.next_u32(), std_rng.next_u32());
        }
        let state = GeneratorState::from_text(&GeneratorState::of(&generator).to_text()).unwrap();
        let mut resumed = state.generator();
        for _ in 0..100 {
            assert_eq!(resumed.next_u32(), generator.next_u32());
        }
        assert!(GeneratorState::from_text("00:1:2").is_err());
        assert!(GeneratorState::from_text(&"z".repeat(64)).is_err());
    }
}
