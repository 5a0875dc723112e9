//! Checks shared by the layers called on a list of inputs (`Concatenate`, the attention layers).

use super::Mask;
use crate::shape::{array_shape, fits, keras_shape};
use crate::{Error, Result};
use ndarray::ArrayViewD;

/// The error of a single-input call (`build`, `forward`, `backward`) on a layer that takes a
/// list of inputs, as Keras refuses such a layer in a `Sequential` model.
pub(crate) fn takes_a_list(name: &str, class: &str, inputs: &str) -> Error {
    Error::InvalidArgument {
        name: format!("inputs of layer '{name}' ({class})"),
        expected: format!(
            "a list of inputs ({inputs}): call the layer on several tensors in a functional \
             model, or use `build_multi`, `forward_multi` and `backward_multi`"
        ),
        got: "a single input".into(),
    }
}

/// Checks that a call brings `masks.len() == inputs` and that each input fits its built
/// per-sample shape with the batch size of the first input.
pub(crate) fn check_inputs(
    name: &str,
    built: &[Vec<usize>],
    inputs: &[ArrayViewD<'_, f32>],
    masks: &[Option<&Mask>],
) -> Result<()> {
    if inputs.len() != built.len() {
        return Err(Error::invalid(
            format!("inputs of layer '{name}'"),
            format!("{} input tensors, as the layer was built for", built.len()),
            inputs.len(),
        ));
    }
    if masks.len() != inputs.len() {
        return Err(Error::invalid(
            format!("masks of layer '{name}'"),
            format!("one mask (or None) per input, {}", inputs.len()),
            masks.len(),
        ));
    }
    let batch = inputs.first().and_then(|x| x.shape().first().copied()).unwrap_or(0);
    for (index, (input, shape)) in inputs.iter().zip(built).enumerate() {
        let found = input.shape();
        if found.is_empty() || found[0] != batch || batch == 0 || !fits(shape, &found[1..]) {
            return Err(Error::ShapeMismatch {
                layer: format!("{name} (input {index})"),
                expected: format!(
                    "{} with the batch size of input 0 ({batch})",
                    keras_shape(shape)
                ),
                found: array_shape(found),
            });
        }
    }
    for (index, (mask, input)) in masks.iter().zip(inputs).enumerate() {
        if let Some(mask) = mask {
            let want = &input.shape()[..2.min(input.ndim())];
            if input.ndim() < 3 || mask.shape() != want {
                return Err(Error::ShapeMismatch {
                    layer: format!("{name} (mask {index})"),
                    expected: format!(
                        "a mask (batch, steps) of an input (batch, steps, features); input {index} \
                         has shape {}",
                        array_shape(input.shape())
                    ),
                    found: array_shape(mask.shape()),
                });
            }
        }
    }
    Ok(())
}

/// Checks that `backward_multi` got one gradient per output, each of the shape of the output.
pub(crate) fn check_grads(
    name: &str,
    grads: &[ArrayViewD<'_, f32>],
    outputs: &[&[usize]],
) -> Result<()> {
    if grads.len() != outputs.len() {
        return Err(Error::invalid(
            format!("output gradients of layer '{name}'"),
            format!("one gradient per output, {}", outputs.len()),
            grads.len(),
        ));
    }
    for (index, (grad, shape)) in grads.iter().zip(outputs).enumerate() {
        if grad.shape() != *shape {
            return Err(Error::ShapeMismatch {
                layer: format!("{name} (backward, output {index})"),
                expected: array_shape(shape),
                found: array_shape(grad.shape()),
            });
        }
    }
    Ok(())
}
