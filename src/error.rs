//! The crate's error type: every fallible call returns [`Result`].

use std::path::PathBuf;

/// Everything that can go wrong in rnnkit. Each message says what was wrong, what was expected
/// and, where it helps, what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A hyper-parameter or call argument has a value outside its domain.
    #[error("Received an invalid value for argument `{name}`: expected {expected}, got {got}")]
    InvalidArgument {
        /// The argument's name, as Keras spells it.
        name: String,
        /// What the argument accepts.
        expected: String,
        /// The value received.
        got: String,
    },

    /// An array reached a layer or the model with a shape it cannot take.
    #[error("{layer}: expected input of shape {expected}, found {found}")]
    ShapeMismatch {
        /// The layer (or model entry point) that refused the input.
        layer: String,
        /// The accepted shape, Keras-style (`(None, 500)`).
        expected: String,
        /// The shape received.
        found: String,
    },

    /// A token id fed to an `Embedding` is negative, fractional, not finite or too large.
    #[error(
        "Embedding '{layer}': id {value} is out of range; expected integers in 0..{input_dim} \
         (input_dim)"
    )]
    IdOutOfRange {
        /// The embedding layer's name.
        layer: String,
        /// The offending id, as received.
        value: f32,
        /// The layer's vocabulary size.
        input_dim: usize,
    },

    /// The model has no layers, or a layer was used before its input shape was known.
    #[error("{0}")]
    NotBuilt(String),

    /// `fit`, `evaluate` or `train_on_batch` was called before `compile`.
    #[error(
        "the model must be compiled before {0}; call `model.compile(optimizer, loss, metrics)` \
         first"
    )]
    NotCompiled(&'static str),

    /// `x` and `y` (or two arrays that must pair up) have different numbers of samples.
    #[error("x has {x} samples but y has {y}; expected the same number of samples in both")]
    LengthMismatch {
        /// Samples in `x`.
        x: usize,
        /// Samples in `y`.
        y: usize,
    },

    /// An input that must hold at least one sample (or element) is empty.
    #[error("{0} is empty; expected at least one sample")]
    EmptyInput(&'static str),

    /// Training produced a NaN or infinite loss.
    #[error(
        "the loss became {loss} at epoch {epoch}, batch {batch}; training stopped (lower the \
         learning rate or clip gradients)"
    )]
    NonFiniteLoss {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// The loss value.
        loss: f32,
    },

    /// `backward` was called without a preceding `forward(training = true)`.
    #[error("{0}: backward called without a forward pass in training mode")]
    NoForwardCache(String),

    /// Weights given to `set_weights` do not match the layer's.
    #[error("{layer}: weight {index} has shape {found}, expected {expected}")]
    WeightMismatch {
        /// The layer (or model) receiving the weights.
        layer: String,
        /// Position of the weight in the list.
        index: usize,
        /// The expected shape or count.
        expected: String,
        /// The received shape or count.
        found: String,
    },

    /// A model has no layer of the name asked for (`get_layer`), or no layer at all (`pop`).
    #[error("no layer named '{name}' in the model; its layers are: {available}")]
    NoSuchLayer {
        /// The name asked for.
        name: String,
        /// The model's layer names, in order (`(none)` for an empty model).
        available: String,
    },

    /// A list of weights given to `set_weights` has the wrong length.
    #[error(
        "{layer}: received {found} weights, expected {expected} weights (in Keras' order: {names})"
    )]
    WeightCount {
        /// The layer (or model) receiving the weights.
        layer: String,
        /// How many weights it has.
        expected: usize,
        /// How many were given.
        found: usize,
        /// The names of the expected weights.
        names: String,
    },

    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A data file exists but is not what was expected (truncated, corrupt, wrong layout).
    #[error("{}: {message}", path.display())]
    Data {
        /// The file or folder involved.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },

    /// A model's configuration (from [`Sequential::from_json`](crate::model::Sequential::from_json)
    /// or a saved model) cannot be read: a missing or unknown key, a value of the wrong type or
    /// out of its domain, an unknown class.
    #[error("invalid model configuration: {0}")]
    Config(String),

    /// A download failed.
    #[error("downloading {url} failed: {message}")]
    Download {
        /// The address.
        url: String,
        /// What went wrong and what to do.
        message: String,
    },
}

/// `std::result::Result` with rnnkit's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid(
        name: impl Into<String>,
        expected: impl Into<String>,
        got: impl std::fmt::Display,
    ) -> Self {
        Error::InvalidArgument {
            name: name.into(),
            expected: expected.into(),
            got: got.to_string(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}
