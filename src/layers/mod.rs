//! Layers: the building blocks a [`Sequential`](crate::model::Sequential) model stacks.
//!
//! Every layer implements [`Layer`]: it is built from the per-sample shape of its input (the batch
//! axis left out, as Keras' `input_shape`), runs forward on a batch, and runs backward from the
//! gradient of the loss with respect to its output, accumulating the gradients of its weights.

mod attention;
mod base;
mod bidirectional;
pub(crate) mod cache;
mod capability;
mod concatenate;
mod dense;
mod dropout;
mod embedding;
mod flatten;
mod generator;
mod global_average_pooling1d;
mod gru;
mod layer;
mod layer_normalization;
mod lstm;
mod masking;
mod multi_input;
pub(crate) mod recurrent;
mod repeat_vector;
mod simple_rnn;
mod time_distributed;

pub use crate::param::{Mask, Param};
pub use crate::shape::NONE;
pub use attention::{AdditiveAttention, Attention, MultiHeadAttention, ScoreMode};
pub use base::{LayerBase, LayerExt};
pub use bidirectional::{Bidirectional, MergeMode};
pub use capability::{FoldsLookup, LookupTable, OutputHead};
pub use concatenate::Concatenate;
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use flatten::Flatten;
pub(crate) use generator::Generator;
pub use generator::GeneratorState;
pub use global_average_pooling1d::GlobalAveragePooling1D;
pub use gru::Gru;
pub use layer::{ForwardCache, Layer};
pub use layer_normalization::LayerNormalization;
pub use lstm::Lstm;
pub use masking::Masking;
pub use recurrent::cells::{GruCell, LstmCell, SimpleRnnCell};
pub use recurrent::{Cell, Recurrent};
pub use repeat_vector::RepeatVector;
pub use simple_rnn::SimpleRnn;
pub use time_distributed::TimeDistributed;

use crate::Error;

/// Keras' default name stem for a class: `SimpleRNN` → `simple_rnn`, `Dense` → `dense`.
pub(crate) fn snake_case(class_name: &str) -> String {
    let chars: Vec<char> = class_name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower = i > 0 && chars[i - 1].is_lowercase();
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if i > 0 && (prev_lower || (next_lower && chars[i - 1].is_uppercase())) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The error for a layer used before it was built.
pub(crate) fn not_built(layer: &str) -> Error {
    Error::NotBuilt(format!(
        "layer '{layer}' is not built; add it to a model and call `build(&input_shape)` (or give \
         the first layer an input length) first"
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn snake_case_matches_keras() {
        assert_eq!(super::snake_case("SimpleRNN"), "simple_rnn");
        assert_eq!(super::snake_case("Dense"), "dense");
        assert_eq!(super::snake_case("LSTM"), "lstm");
        assert_eq!(super::snake_case("Embedding"), "embedding");
    }
}
