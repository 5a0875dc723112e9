//! The checks every entry point of a compiled `Sequential` makes on its data, before any step.

use super::config::FitConfig;
use super::sequential::Sequential;
use crate::losses::{class_weight_to_sample_weights, Loss};
use crate::shape::{array_shape, resolve};
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayViewD};

impl Sequential {
    /// The compiled loss.
    pub(super) fn loss(&self) -> Result<Loss> {
        self.compiled.as_ref().map(|c| c.loss).ok_or(Error::NotCompiled("training"))
    }

    /// The checks every compiled entry point makes on one `(x, y)` pair: compiled, `x` of the
    /// input shape, as many targets as samples; returns the targets in the shape the loss reads.
    pub(super) fn checked_targets(
        &mut self,
        call: &'static str,
        x: &ArrayViewD<'_, f32>,
        y: ArrayViewD<'_, f32>,
    ) -> Result<ArrayD<f32>> {
        self.check_compiled(call)?;
        self.check_pair(x, &y, "x")?;
        self.conform(x.shape(), y)
    }

    pub(super) fn check_compiled(&self, call: &'static str) -> Result<()> {
        if self.compiled.is_none() {
            return Err(Error::NotCompiled(call));
        }
        Ok(())
    }

    /// Builds the model from `x` if needed and checks `x`'s shape.
    pub(super) fn prepare_input(&mut self, x: &ArrayViewD<'_, f32>) -> Result<()> {
        if x.ndim() == 0 || x.shape()[0] == 0 {
            return Err(Error::EmptyInput("x"));
        }
        if self.input_shape.is_none() && self.declared_input_shape().is_none() {
            self.build_from(x.shape())?;
        }
        self.ensure_built()?;
        self.check_input(x)
    }

    pub(super) fn check_pair(
        &mut self,
        x: &ArrayViewD<'_, f32>,
        y: &ArrayViewD<'_, f32>,
        what: &'static str,
    ) -> Result<()> {
        if x.ndim() == 0 || x.shape()[0] == 0 {
            return Err(Error::EmptyInput(what));
        }
        self.prepare_input(x)?;
        let y_samples = y.shape().first().copied().unwrap_or(0);
        if y_samples != x.shape()[0] {
            return Err(Error::LengthMismatch { x: x.shape()[0], y: y_samples });
        }
        Ok(())
    }

    /// Targets checked against the loss and the model's output for inputs of shape `x_shape`,
    /// in the shape the loss reads.
    pub(super) fn conform(&self, x_shape: &[usize], y: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>> {
        self.loss()?.conform_targets(y, &self.output_shape_for(x_shape))
    }
}

impl Sequential {
    /// The training samples' weights `fit` uses: `config.sample_weight`, or the weights of
    /// `config.class_weight` looked up from the targets `y` (Keras refuses both at once).
    pub(super) fn fit_sample_weight(
        &self,
        y: &ArrayViewD<'_, f32>,
        config: &FitConfig,
    ) -> Result<Option<ArrayD<f32>>> {
        let samples = y.shape().first().copied().unwrap_or(0);
        match (&config.sample_weight, &config.class_weight) {
            (Some(_), Some(_)) => Err(Error::invalid(
                "class_weight",
                "either sample_weight or class_weight, not both (as Keras)",
                "both",
            )),
            (Some(weights), None) => self.conform_sample_weight(weights.view(), samples).map(Some),
            (None, Some(class_weight)) => {
                let weights = class_weight_to_sample_weights(y.view(), class_weight)?;
                Ok(Some(weights.into_dyn()))
            }
            (None, None) => Ok(None),
        }
    }

    /// Checks sample weights against `samples` samples and the model's output: `(samples,)`
    /// (or `(samples, 1)`) for an output of one axis per sample, `(samples, steps)` for a
    /// sequence output (any number of steps on a time axis of `None`: the loss checks them
    /// against the output's); returns them in the output's leading shape.
    pub(super) fn conform_sample_weight(
        &self,
        weights: ArrayViewD<'_, f32>,
        samples: usize,
    ) -> Result<ArrayD<f32>> {
        let output = self.output_shape_for(&[samples]);
        let leading = resolve(
            &output[..output.len().saturating_sub(1)],
            weights.shape().get(1..).unwrap_or_default(),
        );
        let leading = leading.as_slice();
        let expected: Vec<usize> = [samples].into_iter().chain(leading.iter().copied()).collect();
        if weights.shape() == expected.as_slice() {
            return Ok(weights.to_owned());
        }
        if leading.is_empty() && weights.shape() == [samples, 1] {
            return Ok(weights
                .to_shape(expected)
                .map_err(|e| Error::invalid("sample_weight", "a contiguous array", e))?
                .into_owned());
        }
        let what = if leading.is_empty() {
            "one weight per sample"
        } else {
            "one weight per step of the sequence output (Keras refuses per-sample weights there)"
        };
        Err(Error::ShapeMismatch {
            layer: format!("sample_weight ({what})"),
            expected: array_shape(&expected),
            found: array_shape(weights.shape()),
        })
    }
}
