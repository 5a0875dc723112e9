//! Shape formatting and checks shared by the layers and the model.

use crate::{Error, Result};

/// Formats a per-sample shape as Keras prints it, with `None` for the batch: `(None, 500, 32)`.
pub(crate) fn keras_shape(sample_shape: &[usize]) -> String {
    let mut text = String::from("(None");
    for dim in sample_shape {
        text.push_str(", ");
        text.push_str(&dim.to_string());
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

/// Checks that a batched input matches a layer's built per-sample shape.
pub(crate) fn expect_batch_of(layer: &str, sample_shape: &[usize], found: &[usize]) -> Result<()> {
    if found.len() == sample_shape.len() + 1 && found[1..] == *sample_shape && found[0] > 0 {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            layer: layer.to_string(),
            expected: keras_shape(sample_shape),
            found: array_shape(found),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_keras() {
        assert_eq!(keras_shape(&[500, 32]), "(None, 500, 32)");
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
}
