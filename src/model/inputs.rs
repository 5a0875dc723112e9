//! The checks every entry point of a compiled `Sequential` makes on its data, before any step.

use super::sequential::Sequential;
use crate::losses::Loss;
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
