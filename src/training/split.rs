//! The data `fit` trains on, checked and split into training and validation parts.

use crate::model::FitConfig;
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayViewD, Axis};

/// The training data, its sample weights and, with `validation_split` or `validation_data`,
/// the validation data and weights.
pub(crate) struct Split<'a> {
    pub(crate) x_train: ArrayViewD<'a, f32>,
    pub(crate) y_train: ArrayViewD<'a, f32>,
    pub(crate) w_train: Option<ArrayViewD<'a, f32>>,
    pub(crate) validation: Option<Validation<'a>>,
}

/// Validation inputs, targets and sample weights.
pub(crate) type Validation<'a> =
    (ArrayViewD<'a, f32>, ArrayViewD<'a, f32>, Option<ArrayViewD<'a, f32>>);

/// Checks `config`'s batch size and validation split, and splits `x`, `y` and the sample
/// weights `w` as Keras does: `validation_data` (unweighted) when given, else the last
/// `validation_split` of the samples, held out before any shuffling, with their weights.
///
/// # Errors
/// [`Error::InvalidArgument`] for a batch size of 0, a `validation_split` outside `[0, 1)`, or
/// one that leaves no sample on a side.
pub(crate) fn split<'a>(
    x: ArrayViewD<'a, f32>,
    y: ArrayViewD<'a, f32>,
    w: Option<&'a ArrayD<f32>>,
    config: &'a FitConfig,
) -> Result<Split<'a>> {
    if config.batch_size == 0 {
        return Err(Error::invalid("batch_size", "a positive integer", config.batch_size));
    }
    if !(0.0..1.0).contains(&config.validation_split) {
        return Err(Error::invalid(
            "validation_split",
            "a number in [0, 1)",
            config.validation_split,
        ));
    }
    let w = w.map(|w| w.view());
    if let Some((x_val, y_val)) = &config.validation_data {
        return Ok(Split {
            x_train: x,
            y_train: y,
            w_train: w,
            validation: Some((x_val.view(), y_val.view(), None)),
        });
    }
    if config.validation_split == 0.0 {
        return Ok(Split { x_train: x, y_train: y, w_train: w, validation: None });
    }
    let samples = x.shape()[0];
    let split_at = (samples as f64 * (1.0 - f64::from(config.validation_split))).floor() as usize;
    if split_at == 0 || split_at == samples {
        return Err(Error::invalid(
            "validation_split",
            format!("a fraction that leaves samples on both sides of {samples} samples"),
            config.validation_split,
        ));
    }
    let (x_train, x_val) = x.split_at(Axis(0), split_at);
    let (y_train, y_val) = y.split_at(Axis(0), split_at);
    let (w_train, w_val) = match w {
        Some(w) => {
            let (train, val) = w.split_at(Axis(0), split_at);
            (Some(train), Some(val))
        }
        None => (None, None),
    };
    Ok(Split { x_train, y_train, w_train, validation: Some((x_val, y_val, w_val)) })
}
