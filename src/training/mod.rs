//! Training shared by every model, as Keras 3's `trainers/`: the loops of `fit`, `evaluate`,
//! `predict` and `train_on_batch` ([`fit`], [`evaluate`], [`predict`], [`train_on_batch`]) drive
//! any [`Model`] — its `train_step`, `test_step` and `predict_step` — over batches taken from a
//! [`DataSource`] ([`ArraySource`] for arrays in memory), calling the callbacks in Keras'
//! order. A model implements [`Model`] and gets them all;
//! [`Sequential`](crate::model::Sequential)'s methods of the same names are these loops on
//! arrays.

mod batch;
mod callback_list;
mod data_source;
mod model;
mod progress;
mod split;
mod tracker;
mod trainer;

pub use batch::Batch;
pub(crate) use callback_list::CallbackList;
pub use data_source::{ArraySource, DataSource};
pub use model::Model;
pub(crate) use split::{split, Split};
pub(crate) use tracker::Tracker;
pub use trainer::{evaluate, fit, predict, train_on_batch};
