//! Models: [`Sequential`], the functional API ([`Input`], [`Call`], [`Functional`]) and what
//! they report ([`Summary`], [`History`], [`Scores`]).

pub(crate) mod compiled;
mod config;
mod evaluate;
mod fit;
mod folding;
mod functional;
mod history;
mod inputs;
mod ragged;
mod sequential;
mod steps;
mod summary;

pub use config::FitConfig;
pub(crate) use functional::Operation;
pub use functional::{
    clear_session, set_random_seed, Call, Functional, Input, SharedLayer, SymbolicTensor,
};
pub use history::{History, Scores, StopReason};
pub use sequential::Sequential;
pub use summary::{LayerSummary, Summary};
