//! Keras 3's weighting of per-sample losses: masks, sample weights and class weights, reduced
//! as `sum_over_batch_size` (`keras/src/losses/loss.py`, `reduce_weighted_values`).

use crate::param::Mask;
use crate::shape::array_shape;
use crate::{Error, Result};
use ndarray::{Array1, ArrayViewD, Axis};
use std::collections::HashMap;

/// The weight of each row (each sample, or each step of a sequence output) of a batch whose
/// leading axes are `leading`: the sample weight times, under a mask, 0 for masked rows and
/// total / valid for the others (Keras' `apply_mask` for `sum_over_batch_size`); `None` when
/// every row weighs 1.
pub(crate) fn row_weights(
    leading: &[usize],
    sample_weight: Option<ArrayViewD<'_, f32>>,
    mask: Option<&Mask>,
) -> Result<Option<Vec<f32>>> {
    let rows: usize = leading.iter().product();
    if let Some(weights) = &sample_weight {
        if weights.shape() != leading {
            return Err(Error::ShapeMismatch {
                layer: "sample_weight".into(),
                expected: format!(
                    "{} (one weight per sample, or per step of a 3-D output)",
                    array_shape(leading)
                ),
                found: array_shape(weights.shape()),
            });
        }
    }
    if let Some(mask) = mask {
        if mask.len() != rows {
            return Err(Error::ShapeMismatch {
                layer: "mask".into(),
                expected: array_shape(leading),
                found: array_shape(mask.shape()),
            });
        }
    }
    let mut weights: Vec<f32> = match &sample_weight {
        Some(w) => w.iter().copied().collect(),
        None if mask.is_some() => vec![1.0; rows],
        None => return Ok(None),
    };
    if let Some(mask) = mask {
        let valid = mask.iter().filter(|&&keep| keep).count();
        // divide_no_nan(total, valid): when every row is masked, every weight is 0 anyway.
        let scale = if valid == 0 { 0.0 } else { rows as f32 / valid as f32 };
        for (w, &keep) in weights.iter_mut().zip(mask.iter()) {
            *w *= if keep { scale } else { 0.0 };
        }
    }
    Ok(Some(weights))
}

/// Keras 3's `reduce_weighted_values` with reduction `sum_over_batch_size`: the mean of
/// `values` × `sample_weight` over every entry, where a `mask` gives masked entries weight 0
/// and the others total / valid — so a masked mean divides by the number of unmasked entries,
/// and a weighted one by the number of entries, zero weights included (not by the weights'
/// sum).
///
/// `values` holds one loss per sample or per step; `sample_weight` and `mask`, when given,
/// have its shape.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `sample_weight` or `mask` does not have the shape of `values`.
///
/// # Examples
/// ```
/// use ndarray::array;
/// use rnnkit::losses::reduce_weighted_values;
/// # fn main() -> rnnkit::Result<()> {
/// let losses = array![1.0f32, 2.0, 3.0, 4.0].into_dyn();
/// let weights = array![1.0f32, 1.0, 0.0, 0.0].into_dyn();
/// // (1 + 2) / 4, not (1 + 2) / 2.
/// assert_eq!(reduce_weighted_values(losses.view(), Some(weights.view()), None)?, 0.75);
/// # Ok(())
/// # }
/// ```
pub fn reduce_weighted_values(
    values: ArrayViewD<'_, f32>,
    sample_weight: Option<ArrayViewD<'_, f32>>,
    mask: Option<&ndarray::ArrayD<bool>>,
) -> Result<f32> {
    if let Some(mask) = mask {
        if mask.shape() != values.shape() {
            return Err(Error::ShapeMismatch {
                layer: "mask".into(),
                expected: array_shape(values.shape()),
                found: array_shape(mask.shape()),
            });
        }
    }
    let flat_mask = mask.map(|m| {
        let flat: Vec<bool> = m.iter().copied().collect();
        Mask::from_shape_vec((1, flat.len()), flat)
    });
    let flat_mask = match flat_mask {
        Some(Ok(mask)) => Some(mask),
        Some(Err(_)) | None => None,
    };
    let weights = row_weights(values.shape(), sample_weight, flat_mask.as_ref())?;
    if values.is_empty() {
        return Ok(0.0);
    }
    let total: f64 = match &weights {
        Some(w) => values.iter().zip(w).map(|(&v, &w)| f64::from(v * w)).sum(),
        None => values.iter().map(|&v| f64::from(v)).sum(),
    };
    Ok((total / values.len() as f64) as f32)
}

/// Keras' `class_weight` as per-sample weights: each sample weighs `class_weight[class]` (1 for
/// classes not listed), its class being the target rounded half to even (`(batch,)` or
/// `(batch, 1)` targets) or the argmax of a one-hot target (`(batch, classes)`), as
/// `keras/src/trainers/data_adapters/data_adapter_utils.py`.
///
/// # Errors
/// [`Error::InvalidArgument`] for targets of more than two axes (Keras refuses class weights
/// for 3-D targets) and for a weight that is negative or not finite.
///
/// # Examples
/// ```
/// use ndarray::array;
/// use rnnkit::losses::class_weight_to_sample_weights;
/// use std::collections::HashMap;
/// # fn main() -> rnnkit::Result<()> {
/// let y = array![0.0f32, 1.0, 1.0, 0.0].into_dyn();
/// let class_weight = HashMap::from([(1, 9.0)]);
/// let weights = class_weight_to_sample_weights(y.view(), &class_weight)?;
/// assert_eq!(weights.to_vec(), [1.0, 9.0, 9.0, 1.0]);
/// # Ok(())
/// # }
/// ```
pub fn class_weight_to_sample_weights(
    y: ArrayViewD<'_, f32>,
    class_weight: &HashMap<usize, f32>,
) -> Result<Array1<f32>> {
    if let Some((class, &bad)) = class_weight.iter().find(|(_, w)| !(w.is_finite() && **w >= 0.0)) {
        return Err(Error::invalid(format!("class_weight[{class}]"), "a finite number ≥ 0", bad));
    }
    let classes: Vec<f32> = match y.ndim() {
        0 => return Err(Error::invalid("y", "targets with a batch axis", "a scalar")),
        1 => y.iter().map(|&c| c.round_ties_even()).collect(),
        2 if y.shape()[1] == 1 => y.iter().map(|&c| c.round_ties_even()).collect(),
        2 => y.lanes(Axis(1)).into_iter().map(|row| first_argmax(row.iter()) as f32).collect(),
        _ => {
            return Err(Error::invalid(
                "class_weight",
                "targets of shape (batch,), (batch, 1) or (batch, classes)",
                format!("targets of shape {}", array_shape(y.shape())),
            ))
        }
    };
    Ok(classes
        .into_iter()
        .map(|c| {
            let key = (c >= 0.0).then_some(c as usize);
            key.and_then(|k| class_weight.get(&k)).copied().unwrap_or(1.0)
        })
        .collect())
}

fn first_argmax<'a>(values: impl Iterator<Item = &'a f32>) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, &v) in values.enumerate() {
        if i == 0 || v > best.1 {
            best = (i, v);
        }
    }
    best.0
}
