//! Shared test harness: gradient checks and Keras fixtures.
#![allow(dead_code)]

pub mod grad;
pub mod keras;
