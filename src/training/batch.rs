//! [`Batch`]: the inputs, targets and sample weights of one step.

use ndarray::{ArrayD, ArrayViewD};

/// One batch: an array per model input and per output, the batch along axis 0, and optional
/// sample weights per output (`(batch,)`, or `(batch, steps)` for a sequence output).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    /// The inputs, one array per model input.
    pub x: Vec<ArrayD<f32>>,
    /// The targets, one array per model output (empty for prediction).
    pub y: Vec<ArrayD<f32>>,
    /// The sample weights of each output, when given (empty: every sample weighs 1).
    pub sample_weight: Vec<Option<ArrayD<f32>>>,
}

impl Batch {
    /// A batch of inputs `x` and targets `y`, unweighted.
    pub fn new(x: Vec<ArrayD<f32>>, y: Vec<ArrayD<f32>>) -> Self {
        Batch { x, y, sample_weight: Vec::new() }
    }

    /// The number of samples: the length of the first input's axis 0 (0 without inputs).
    pub fn samples(&self) -> usize {
        self.x.first().and_then(|x| x.shape().first().copied()).unwrap_or(0)
    }

    /// The sample weights of output `output`, if given.
    pub fn sample_weight(&self, output: usize) -> Option<ArrayViewD<'_, f32>> {
        self.sample_weight.get(output).and_then(Option::as_ref).map(|w| w.view())
    }
}
