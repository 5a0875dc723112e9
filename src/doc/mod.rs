//! Guides that are documentation only: no code lives here.
//!
//! - [`keras_users`]: coming from Keras — the lesson's Keras program next to the rnnkit one,
//!   line by line, and the names and defaults that differ, with the reason for each.

pub mod keras_users;
