//! Everything a typical program needs: `use rnnkit::prelude::*;`.

pub use crate::activations::Activation;
pub use crate::callbacks::{
    EarlyStopping, LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN,
};
pub use crate::layers::{
    AdditiveAttention, Attention, Bidirectional, Concatenate, Dense, Dropout, Embedding, Flatten,
    GlobalAveragePooling1D, Gru, Layer, LayerExt, LayerNormalization, Lstm, Masking, MergeMode,
    MultiHeadAttention, RepeatVector, SimpleRnn, TimeDistributed, NONE,
};
pub use crate::losses::Loss;
pub use crate::metrics::Metric;
pub use crate::model::{
    Call, FitConfig, Functional, History, Input, Scores, Sequential, SharedLayer, StopReason,
    Summary, SymbolicTensor,
};
pub use crate::optimizers::{Adam, Clipping, Optimizer, RmsProp, Sgd};
