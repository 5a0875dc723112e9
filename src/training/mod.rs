//! Training shared by every model: the checks and split of the data `fit` takes
//! ([`split`]), the epochs' batches ([`Batches`]) and the callbacks ([`CallbackList`]); the model
//! supplies its train step, its evaluation and its progress.

mod batches;
mod callback_list;
mod split;

pub(crate) use batches::Batches;
pub(crate) use callback_list::CallbackList;
pub(crate) use split::split;
