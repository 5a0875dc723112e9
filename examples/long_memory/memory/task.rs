//! The synthetic task: a class marker at the start of a sequence, noise after it.

use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rnnkit::{Error, Result};

/// The id that marks class `0` and the id that marks class `1`.
pub const MARKERS: [usize; 2] = [1, 2];

/// The first noise id: ids `FIRST_NOISE..vocabulary` are noise, id 0 is never used (it stays
/// free for padding, as in the IMDB pipeline).
pub const FIRST_NOISE: usize = 3;

/// Sequences whose label is decided by one token near their start: the id at
/// `marker_position` is [`MARKERS`]`[label]`, every other id is noise drawn uniformly from
/// `FIRST_NOISE..vocabulary` (or from `1..vocabulary`, markers included, with
/// [`markers_in_noise`](MemoryTask::markers_in_noise)). A model must carry what it saw at `marker_position` through the
/// `steps − 1 − marker_position` noise steps after it to classify the sequence.
///
/// # Examples
/// ```
/// use rnnkit::long_memory::{MemoryTask, MARKERS};
/// # fn main() -> rnnkit::Result<()> {
/// let task = MemoryTask::new(50);
/// let (x, y) = task.generate(8, 42)?;
/// assert_eq!(x.dim(), (8, 50));
/// for (row, label) in x.rows().into_iter().zip(&y) {
///     assert_eq!(row[0] as usize, MARKERS[*label as usize]);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryTask {
    /// Length of each sequence.
    pub steps: usize,
    /// Number of ids, markers and noise together (an `Embedding`'s `input_dim`). Default: 12.
    pub vocabulary: usize,
    /// Where the marker stands. Default: 0, the first step.
    pub marker_position: usize,
    /// Whether the noise is drawn from the markers too (ids `1..vocabulary`): the marker ids
    /// then recur after the marker, and only the one at `marker_position` decides the label.
    /// Default: `false`, noise from `FIRST_NOISE..vocabulary`.
    pub markers_in_noise: bool,
}

impl MemoryTask {
    /// Sequences of `steps` ids over a vocabulary of 12 (ids 3..12 are noise), the marker first.
    pub fn new(steps: usize) -> Self {
        MemoryTask { steps, vocabulary: 12, marker_position: 0, markers_in_noise: false }
    }

    /// Number of noise steps between the marker and the end of the sequence.
    pub fn distance(&self) -> usize {
        self.steps.saturating_sub(self.marker_position + 1)
    }

    /// `samples` sequences and their labels, the same for the same `seed`. Half the labels are
    /// 0 and half 1 (one more 0 for an odd count), in random order, so a model that guesses
    /// scores 0.5.
    ///
    /// # Shapes
    /// `x` is `(samples, steps)` ids as `f32`, `y` is `(samples,)` labels 0 / 1.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for no samples, `steps == 0`, a `marker_position` outside the
    /// sequence, or a vocabulary without at least one noise id (`vocabulary ≤ 3`; `< 3` when the
    /// markers are in the noise).
    pub fn generate(&self, samples: usize, seed: u64) -> Result<(Array2<f32>, Array1<f32>)> {
        self.check()?;
        let mut rng = StdRng::seed_from_u64(seed);
        let labels = balanced_labels(samples, &mut rng)?;
        let first_noise = self.first_noise();
        let mut x = Array2::<f32>::zeros((samples, self.steps));
        for (mut row, &label) in x.rows_mut().into_iter().zip(&labels) {
            for (step, id) in row.iter_mut().enumerate() {
                *id = if step == self.marker_position {
                    MARKERS[label] as f32
                } else {
                    rng.gen_range(first_noise..self.vocabulary) as f32
                };
            }
        }
        let y = labels.iter().map(|&label| label as f32).collect();
        Ok((x, y))
    }

    /// The smallest noise id: 1 when the markers recur in the noise, else [`FIRST_NOISE`].
    fn first_noise(&self) -> usize {
        if self.markers_in_noise {
            MARKERS[0]
        } else {
            FIRST_NOISE
        }
    }

    /// Checks the task's settings.
    pub(crate) fn check(&self) -> Result<()> {
        if self.steps == 0 {
            return Err(Error::invalid("steps", "a positive sequence length", 0));
        }
        if self.marker_position >= self.steps {
            return Err(Error::invalid(
                "marker_position",
                format!("a step of the sequence, in 0..{} (steps)", self.steps),
                self.marker_position,
            ));
        }
        // Both markers are ids of the vocabulary, and at least one id is noise.
        let smallest = (MARKERS[1] + 1).max(self.first_noise() + 1);
        if self.vocabulary < smallest {
            let noise = if self.markers_in_noise { "" } else { ", then noise" };
            return Err(Error::invalid(
                "vocabulary",
                format!("at least {smallest} ids (0 unused, 1 and 2 the markers{noise})"),
                self.vocabulary,
            ));
        }
        Ok(())
    }
}

/// Labels for `samples` sequences: half 0 and half 1 (one more 0 for an odd count), in random
/// order, so that a model that guesses scores 0.5.
pub(super) fn balanced_labels(samples: usize, rng: &mut StdRng) -> Result<Vec<usize>> {
    if samples == 0 {
        return Err(Error::invalid("samples", "a positive number of sequences", 0));
    }
    let mut labels: Vec<usize> = (0..samples).map(|i| i % 2).collect();
    labels.shuffle(rng);
    Ok(labels)
}
