//! Where the trainer takes its batches from: [`DataSource`], and [`ArraySource`] for arrays
//! held in memory (Keras' array data adapter).

use super::Batch;
use crate::shape::array_shape;
use crate::{Error, Result};
use ndarray::{ArrayViewD, Axis};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// The batches of every epoch, as Keras' `EpochIterator` reads them from a data adapter.
///
/// The trainer calls [`DataSource::start_epoch`] before each pass, then
/// [`DataSource::next_batch`] until it returns `None`. A source decides the order (in order,
/// shuffled, grouped by length) and what a batch holds (sliced rows, padded sequences).
pub trait DataSource {
    /// The samples in one epoch (for progress reports).
    fn samples(&self) -> usize;

    /// Starts a pass over the data: back to the first batch, in a new order when shuffling.
    fn start_epoch(&mut self);

    /// The next batch of the pass, or `None` when the pass is over.
    ///
    /// # Errors
    /// A batch that cannot be made (data that does not fit together).
    fn next_batch(&mut self) -> Result<Option<Batch>>;
}

/// Arrays cut into batches along axis 0: in order, or in a new random order at each epoch
/// ([`ArraySource::shuffled`]), as Keras' `fit` does with NumPy arrays.
///
/// # Examples
/// ```
/// use ndarray::{Array1, Array2};
/// use rnnkit::training::{ArraySource, DataSource};
/// # fn main() -> rnnkit::Result<()> {
/// let x = Array2::<f32>::zeros((5, 3)).into_dyn();
/// let y = Array1::<f32>::zeros(5).into_dyn();
/// let mut source = ArraySource::new(vec![x.view()], vec![y.view()], 2)?;
/// source.start_epoch();
/// let mut sizes = Vec::new();
/// while let Some(batch) = source.next_batch()? {
///     sizes.push(batch.samples());
/// }
/// assert_eq!(sizes, [2, 2, 1]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ArraySource<'a> {
    x: Vec<ArrayViewD<'a, f32>>,
    y: Vec<ArrayViewD<'a, f32>>,
    sample_weight: Vec<Option<ArrayViewD<'a, f32>>>,
    order: Vec<usize>,
    shuffler: Option<StdRng>,
    batch_size: usize,
    next: usize,
}

impl<'a> ArraySource<'a> {
    /// Batches of `batch_size` samples of inputs `x` and targets `y` (empty for prediction),
    /// in order.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a zero `batch_size` or no input;
    /// [`Error::LengthMismatch`] when the arrays do not all hold the same number of samples.
    pub fn new(
        x: Vec<ArrayViewD<'a, f32>>,
        y: Vec<ArrayViewD<'a, f32>>,
        batch_size: usize,
    ) -> Result<Self> {
        if batch_size == 0 {
            return Err(Error::invalid("batch_size", "a positive integer", batch_size));
        }
        let samples = x
            .first()
            .ok_or_else(|| Error::invalid("x", "at least one input array", "none"))?
            .shape()
            .first()
            .copied()
            .unwrap_or(0);
        for array in x.iter().chain(&y) {
            let found = array.shape().first().copied().unwrap_or(0);
            if found != samples {
                return Err(Error::LengthMismatch { x: samples, y: found });
            }
        }
        Ok(ArraySource {
            x,
            y,
            sample_weight: Vec::new(),
            order: (0..samples).collect(),
            shuffler: None,
            batch_size,
            next: 0,
        })
    }

    /// Shuffles the samples at the start of every epoch, from a generator seeded with `seed`.
    pub fn shuffled(mut self, seed: u64) -> Self {
        self.shuffler = Some(StdRng::seed_from_u64(seed));
        self
    }

    /// Weighs the samples of each output (`None` for an output left unweighted): arrays of
    /// shape `(samples,)` or `(samples, steps)`, batched with the data.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for more weight arrays than outputs;
    /// [`Error::ShapeMismatch`] for weights whose axis 0 is not the samples'.
    pub fn sample_weight(mut self, weights: Vec<Option<ArrayViewD<'a, f32>>>) -> Result<Self> {
        if weights.len() > self.y.len().max(1) {
            return Err(Error::invalid(
                "sample_weight",
                format!("at most one array per output ({})", self.y.len()),
                weights.len(),
            ));
        }
        let samples = self.order.len();
        for weight in weights.iter().flatten() {
            if weight.ndim() == 0 || weight.shape()[0] != samples {
                return Err(Error::ShapeMismatch {
                    layer: "sample_weight".into(),
                    expected: format!("({samples},) or ({samples}, steps)"),
                    found: array_shape(weight.shape()),
                });
            }
        }
        self.sample_weight = weights;
        Ok(self)
    }
}

impl DataSource for ArraySource<'_> {
    fn samples(&self) -> usize {
        self.order.len()
    }

    fn start_epoch(&mut self) {
        if let Some(shuffler) = &mut self.shuffler {
            self.order.shuffle(shuffler);
        }
        self.next = 0;
    }

    fn next_batch(&mut self) -> Result<Option<Batch>> {
        let start = self.next;
        if start >= self.order.len() {
            return Ok(None);
        }
        let end = (start + self.batch_size).min(self.order.len());
        self.next = end;
        let rows = &self.order[start..end];
        let take = |array: &ArrayViewD<'_, f32>| {
            if self.shuffler.is_some() {
                array.select(Axis(0), rows)
            } else {
                array.slice_axis(Axis(0), (start..end).into()).to_owned()
            }
        };
        Ok(Some(Batch {
            x: self.x.iter().map(take).collect(),
            y: self.y.iter().map(take).collect(),
            sample_weight: self.sample_weight.iter().map(|w| w.as_ref().map(take)).collect(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn shuffled_epochs_cover_every_sample_once_in_new_orders() {
        let x = Array2::from_shape_fn((10, 2), |(i, j)| (i * 2 + j) as f32).into_dyn();
        let w = Array2::from_shape_fn((10, 1), |(i, _)| i as f32).into_dyn();
        let mut source = ArraySource::new(vec![x.view()], vec![x.view()], 4)
            .unwrap()
            .shuffled(3)
            .sample_weight(vec![Some(w.view())])
            .unwrap();
        let mut orders = Vec::new();
        for _ in 0..2 {
            source.start_epoch();
            let mut order = Vec::new();
            while let Some(batch) = source.next_batch().unwrap() {
                assert_eq!(batch.x, batch.y);
                for (row, weight) in batch.x[0].outer_iter().zip(batch.sample_weight(0).unwrap()) {
                    assert_eq!(row[0] / 2.0, *weight);
                    order.push(*weight as usize);
                }
            }
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..10).collect::<Vec<_>>());
            orders.push(order);
        }
        assert_ne!(orders[0], orders[1]);
        assert_ne!(orders[0], (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn bad_arguments_are_refused() {
        let x = Array2::<f32>::zeros((4, 2)).into_dyn();
        let y = Array2::<f32>::zeros((3, 1)).into_dyn();
        assert!(ArraySource::new(vec![x.view()], vec![x.view()], 0).is_err());
        assert!(ArraySource::new(vec![x.view()], vec![y.view()], 2).is_err());
        assert!(ArraySource::new(vec![], vec![], 2).is_err());
        let source = ArraySource::new(vec![x.view()], vec![x.view()], 2).unwrap();
        assert!(source.sample_weight(vec![Some(y.view())]).is_err());
    }
}
