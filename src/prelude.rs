//! Everything a typical program needs: `use rnnkit::prelude::*;`.

pub use crate::activations::Activation;
pub use crate::layers::{Dense, Embedding, Flatten, Layer, Masking, SimpleRnn};
pub use crate::losses::Loss;
pub use crate::metrics::Metric;
pub use crate::model::{FitConfig, History, Scores, Sequential, Summary};
pub use crate::optimizers::{Adam, Clipping, Optimizer, RmsProp, Sgd};
