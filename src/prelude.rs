//! Everything a typical program needs: `use rnnkit::prelude::*;`.

pub use crate::activations::Activation;
pub use crate::callbacks::{
    EarlyStopping, LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN,
};
pub use crate::layers::{
    Bidirectional, Dense, Dropout, Embedding, Flatten, Gru, Layer, LayerExt, Lstm, Masking,
    MergeMode, SimpleRnn,
};
pub use crate::losses::Loss;
pub use crate::metrics::Metric;
pub use crate::model::{FitConfig, History, Scores, Sequential, StopReason, Summary};
pub use crate::optimizers::{Adam, Clipping, Optimizer, RmsProp, Sgd};
