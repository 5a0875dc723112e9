//! The task in values: the first value must be held, precisely, to the last step.

use super::task::balanced_labels;
use ndarray::{Array1, Array3};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rnnkit::{Error, Result};

/// Values of each step of a [`RecallTask`]: the start flag, the end flag, then the value.
pub const RECALL_FEATURES: usize = 3;

/// The largest first value: the last one, first ± gap, stays within the noise's range [−1, 1].
const FIRST_MAX: f32 = 0.8;

/// The largest gap, 1 − [`FIRST_MAX`].
const MAX_GAP: f32 = 0.2;

/// Sequences whose label needs the first value, held precisely until the last step.
///
/// Each step has [`RECALL_FEATURES`] values: a start flag (1 at step 0), an end flag (1 at the
/// last step) and a value. The first value a is drawn from U(−0.8, 0.8); the last one is
/// a + g or a − g, with the gap g from U(`min_gap`, `max_gap`); every value between is noise,
/// U(−1, 1), on the same channel. The label is 1 when the last value is below the first.
///
/// The label is decided at the start: the last value is only the question asked of it. A model
/// must take the value in at the flagged first step, keep it to within the gap through every
/// noisy step after it, and shut the noise out. An LSTM or a GRU holds a value in a state its
/// gates close; a Simple RNN keeps it in a state that every step runs through tanh and the
/// recurrent kernel again, next to the noise, and it cannot hold it that precisely for long.
///
/// # Examples
/// ```
/// use rnnkit::long_memory::RecallTask;
/// # fn main() -> rnnkit::Result<()> {
/// let task = RecallTask::new(50);
/// let (x, y) = task.generate(8, 42)?;
/// assert_eq!(x.dim(), (8, 50, 3));
/// for (sequence, label) in x.outer_iter().zip(&y) {
///     assert_eq!((sequence[[0, 0]], sequence[[49, 1]]), (1.0, 1.0)); // the flags
///     let (first, last) = (sequence[[0, 2]], sequence[[49, 2]]);
///     assert_eq!(*label, f32::from(last < first));
///     assert!((first - last).abs() >= task.min_gap * 0.999);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecallTask {
    /// Length of each sequence (at least 2: the first and the last step).
    pub steps: usize,
    /// The smallest gap between the first and the last value. Default: 0.05.
    pub min_gap: f32,
    /// The largest gap between the first and the last value. Default: 0.2.
    pub max_gap: f32,
}

impl RecallTask {
    /// Sequences of `steps` steps, gaps from U(0.05, 0.2).
    pub fn new(steps: usize) -> Self {
        RecallTask { steps, min_gap: 0.05, max_gap: MAX_GAP }
    }

    /// Number of noisy steps between the first and the last one.
    pub fn distance(&self) -> usize {
        self.steps.saturating_sub(2)
    }

    /// `samples` sequences and their labels, the same for the same `seed`: half the labels 0
    /// and half 1 (one more 0 for an odd count), in random order.
    ///
    /// # Shapes
    /// `x` is `(samples, steps, RECALL_FEATURES)`, `y` is `(samples,)` labels 0 / 1.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for no samples, fewer than 2 steps, or gaps that are not
    /// `0 < min_gap ≤ max_gap ≤ 0.2`.
    pub fn generate(&self, samples: usize, seed: u64) -> Result<(Array3<f32>, Array1<f32>)> {
        self.check()?;
        let mut rng = StdRng::seed_from_u64(seed);
        let labels = balanced_labels(samples, &mut rng)?;
        let last = self.steps - 1;
        let mut x = Array3::<f32>::zeros((samples, self.steps, RECALL_FEATURES));
        for (mut sequence, &label) in x.outer_iter_mut().zip(&labels) {
            let first = rng.gen_range(-FIRST_MAX..=FIRST_MAX);
            let gap = rng.gen_range(self.min_gap..=self.max_gap);
            for step in 1..last {
                sequence[[step, 2]] = rng.gen_range(-1.0f32..=1.0);
            }
            sequence[[0, 0]] = 1.0;
            sequence[[0, 2]] = first;
            sequence[[last, 1]] = 1.0;
            sequence[[last, 2]] = if label == 1 { first - gap } else { first + gap };
        }
        let y = labels.iter().map(|&label| label as f32).collect();
        Ok((x, y))
    }

    /// Checks the task's settings.
    pub(crate) fn check(&self) -> Result<()> {
        if self.steps < 2 {
            return Err(Error::invalid(
                "steps",
                "at least 2 (the first and the last step)",
                self.steps,
            ));
        }
        if !(self.min_gap > 0.0 && self.min_gap <= self.max_gap && self.max_gap <= MAX_GAP) {
            return Err(Error::invalid(
                "min_gap, max_gap",
                format!("0 < min_gap ≤ max_gap ≤ {MAX_GAP}"),
                format!("{}, {}", self.min_gap, self.max_gap),
            ));
        }
        Ok(())
    }
}
