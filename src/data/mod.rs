//! Data feeding for models: token-id sequences of different lengths, padded per batch
//! ([`RaggedSequences`]), optionally bucketed by length as `tf.data`'s
//! `bucket_by_sequence_length`.

mod ragged;

pub use ragged::{RaggedBatch, RaggedSequences, RaggedSource};
