//! Shape formatting and checks shared by the layers and the model.

use crate::{Error, Result};

/// A per-sample axis of unknown size, as Keras' `None`: the time axis of sequences of any length.
///
/// `Embedding::new(v, d)` without `input_length` takes inputs of shape `(None, None)` and a
/// recurrent layer keeps its input's time axis, so `summary()` shows `(None, None, 32)` and the
/// model runs on any number of steps per call. Layers that need a size (`Dense`'s input features,
/// hence `Flatten` over steps before a `Dense`) return an error for it at build. Pass it to
/// [`Sequential::build`](crate::model::Sequential::build) as `&[NONE]`; it appears in
/// [`LayerBase::output_shape`](crate::layers::LayerBase::output_shape) and the summary's rows.
///
/// # Examples
/// ```
/// use rnnkit::layers::NONE;
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(Embedding::new(10_000, 32));
/// model.add(SimpleRnn::new(32).return_sequences(true));
/// let summary = model.summary()?;
/// assert_eq!(summary.layers()[0].output_shape, [NONE, 32]);
/// assert!(summary.to_string().contains("(None, None, 32)"));
/// # Ok(())
/// # }
/// ```
pub const NONE: usize = usize::MAX;

/// Formats a per-sample shape as Keras prints it, with `None` for the batch and for axes of
/// unknown size: `(None, 500, 32)`, `(None, None, 32)`.
pub(crate) fn keras_shape(sample_shape: &[usize]) -> String {
    let mut text = String::from("(None");
    for &dim in sample_shape {
        text.push_str(", ");
        if dim == NONE {
            text.push_str("None");
        } else {
            text.push_str(&dim.to_string());
        }
    }
    text.push(')');
    text
}

/// Formats a concrete array shape: `(32, 500)`.
pub(crate) fn array_shape(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    }
}

/// Whether the concrete per-sample dims `found` fit `sample_shape`, whose [`NONE`] axes take any
/// size.
pub(crate) fn fits(sample_shape: &[usize], found: &[usize]) -> bool {
    found.len() == sample_shape.len()
        && sample_shape.iter().zip(found).all(|(&want, &got)| want == NONE || want == got)
}

/// Checks that a batched input matches a layer's built per-sample shape ([`NONE`] axes take any
/// size).
pub(crate) fn expect_batch_of(layer: &str, sample_shape: &[usize], found: &[usize]) -> Result<()> {
    if !found.is_empty() && found[0] > 0 && fits(sample_shape, &found[1..]) {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            layer: layer.to_string(),
            expected: keras_shape(sample_shape),
            found: array_shape(found),
        })
    }
}

/// `shape` with each [`NONE`] axis replaced by the same axis of `concrete` (when it has one).
pub(crate) fn resolve(shape: &[usize], concrete: &[usize]) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .map(
            |(axis, &dim)| {
                if dim == NONE {
                    concrete.get(axis).copied().unwrap_or(dim)
                } else {
                    dim
                }
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_keras() {
        assert_eq!(keras_shape(&[500, 32]), "(None, 500, 32)");
        assert_eq!(keras_shape(&[NONE, 32]), "(None, None, 32)");
        assert_eq!(keras_shape(&[]), "(None)");
        assert_eq!(array_shape(&[7]), "(7,)");
        assert_eq!(array_shape(&[32, 500]), "(32, 500)");
    }

    #[test]
    fn batch_check_names_layer_and_shapes() {
        let err = expect_batch_of("dense", &[4], &[2, 5]).unwrap_err().to_string();
        assert_eq!(err, "dense: expected input of shape (None, 4), found (2, 5)");
        assert!(expect_batch_of("dense", &[4], &[2, 4]).is_ok());
    }

    #[test]
    fn none_axes_take_any_size_and_nothing_else_does() {
        assert!(expect_batch_of("rnn", &[NONE, 3], &[2, 12, 3]).is_ok());
        assert!(expect_batch_of("rnn", &[NONE, 3], &[2, 1, 3]).is_ok());
        let err = expect_batch_of("rnn", &[NONE, 3], &[2, 12, 4]).unwrap_err().to_string();
        assert_eq!(err, "rnn: expected input of shape (None, None, 3), found (2, 12, 4)");
        assert!(expect_batch_of("rnn", &[NONE, 3], &[2, 12]).is_err());
        assert!(expect_batch_of("rnn", &[NONE, 3], &[0, 12, 3]).is_err());
        assert_eq!(resolve(&[NONE, 32], &[12, 7]), [12, 32]);
        assert_eq!(resolve(&[NONE], &[]), [NONE]);
    }
}
