//! The batches of each epoch: the samples' order, shuffled per epoch when asked, cut into batches.

use ndarray::{ArrayD, ArrayViewD, Axis};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// The order of the training samples and how it is cut into batches.
pub(crate) struct Batches {
    order: Vec<usize>,
    shuffler: Option<StdRng>,
    batch_size: usize,
}

impl Batches {
    /// Batches of `batch_size` of `samples` samples, shuffled at every epoch from `seed` when
    /// `shuffle` is set.
    pub(crate) fn new(samples: usize, batch_size: usize, shuffle: bool, seed: u64) -> Self {
        Batches {
            order: (0..samples).collect(),
            shuffler: shuffle.then(|| StdRng::seed_from_u64(seed)),
            batch_size,
        }
    }

    /// Starts an epoch: a new order when shuffling.
    pub(crate) fn start_epoch(&mut self) {
        if let Some(shuffler) = &mut self.shuffler {
            self.order.shuffle(shuffler);
        }
    }

    /// The epoch's batches of `x` and `y`, numbered from 1.
    pub(crate) fn iter<'a>(
        &'a self,
        x: &'a ArrayViewD<'a, f32>,
        y: &'a ArrayViewD<'a, f32>,
    ) -> impl Iterator<Item = (usize, ArrayD<f32>, ArrayD<f32>)> + 'a {
        let shuffled = self.shuffler.is_some();
        self.order.chunks(self.batch_size).enumerate().map(move |(index, rows)| {
            let (x_batch, y_batch) = if shuffled {
                (x.select(Axis(0), rows), y.select(Axis(0), rows))
            } else {
                let range = rows[0]..rows[0] + rows.len();
                (
                    x.slice_axis(Axis(0), range.clone().into()).to_owned(),
                    y.slice_axis(Axis(0), range.into()).to_owned(),
                )
            };
            (index + 1, x_batch, y_batch)
        })
    }
}
