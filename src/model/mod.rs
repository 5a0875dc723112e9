//! Models: [`Sequential`] and what it reports ([`Summary`], [`History`], [`Scores`]).

mod config;
mod evaluate;
mod fit;
mod folding;
mod history;
mod inputs;
mod ragged;
mod sequential;
mod steps;
mod summary;

pub use config::FitConfig;
pub use history::{History, Scores, StopReason};
pub use sequential::Sequential;
pub use summary::{LayerSummary, Summary};
