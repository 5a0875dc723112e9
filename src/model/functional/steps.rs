//! `Functional` as a [`Model`] the shared training loops drive: its train, test and predict
//! steps on lists of arrays, through the compiled state `Sequential` also uses.

use super::Functional;
use crate::activations::Activation;
use crate::model::compiled::OutputLoss;
use crate::model::Scores;
use crate::optimizers::Optimizer;
use crate::training::{Batch, Model};
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayViewD};
use std::path::Path;

impl Functional {
    /// The logits and activation of output `i`'s layer, when the loss may read them: the layer
    /// keeps them (`Dense`), is called at that node only, and nothing else reads the output.
    fn output_logits(&self, i: usize) -> Option<(Activation, ArrayD<f32>)> {
        let graph = &self.graph;
        let slot = graph.outputs[i];
        let node = graph.nodes.iter().find(|n| n.outputs.contains(&slot))?;
        let single = node.outputs.len() == 1
            && graph.calls[node.layer] == 1
            && graph.readers[slot] == 0
            && graph.outputs.iter().filter(|&&s| s == slot).count() == 1;
        if !single {
            return None;
        }
        let mut locked = graph.layers[node.layer].lock();
        let head = locked.layer.output_head()?;
        Some((head.activation(), head.logits()?.to_owned()))
    }

    /// One step on `batch`: forward, the loss of every output and, when `train`ing, backward
    /// and an optimizer update (unless the loss is not finite); adds the batch to the running
    /// scores and returns its loss.
    fn step(&mut self, batch: &Batch, train: bool) -> Result<f32> {
        let x: Vec<ArrayViewD<'_, f32>> = batch.x.iter().map(|a| a.view()).collect();
        self.check_inputs(&x)?;
        if batch.y.len() != self.graph.outputs.len() {
            return Err(Error::invalid(
                "y",
                format!("one target array per model output ({})", self.graph.outputs.len()),
                batch.y.len(),
            ));
        }
        let mut compiled = self.compiled.take().ok_or(Error::NotCompiled("training"))?;
        let result = (|| {
            if train {
                self.zero_grads();
            }
            let mut pass = self.graph.forward(&x, train)?;
            let outputs = self.graph.outputs.len();
            let mut ys = Vec::with_capacity(outputs);
            for (i, y) in batch.y.iter().enumerate() {
                let output = pass.output(&self.graph, i)?;
                ys.push(compiled.loss.conform_targets(y.view(), &output.shape()[1..])?);
            }
            let logits: Vec<_> = (0..outputs).map(|i| self.output_logits(i)).collect();
            let out = |i: usize| -> Result<OutputLoss<'_>> {
                Ok(OutputLoss {
                    output: pass.output(&self.graph, i)?,
                    logits: None,
                    y: ys[i].view(),
                    mask: pass.output_mask(&self.graph, i),
                    sample_weight: batch.sample_weight(i),
                })
            };
            let with_logits = (0..outputs)
                .map(|i| {
                    let logits = logits[i].as_ref().map(|(a, z)| (*a, z.view()));
                    Ok(OutputLoss { logits, ..out(i)? })
                })
                .collect::<Result<Vec<_>>>()?;
            let (total, each) = compiled.losses(&with_logits)?;
            drop(with_logits);
            let values: Vec<f32> = each.iter().map(|(v, _)| *v).collect();
            {
                let plain = (0..outputs).map(out).collect::<Result<Vec<_>>>()?;
                self.tracker.add(total, &plain, &values)?;
            }
            if train && total.is_finite() {
                let grads = each.into_iter().map(|(_, g)| Some(g)).collect();
                self.graph.backward(&mut pass, grads)?;
                let trainable = std::mem::take(&mut compiled.trainable);
                self.with_trained(&trainable, |params| compiled.apply(params));
                compiled.trainable = trainable;
            }
            Ok(total)
        })();
        self.compiled = Some(compiled);
        result
    }
}

impl Model for Functional {
    fn train_step(&mut self, batch: &Batch) -> Result<f32> {
        self.step(batch, true)
    }

    fn test_step(&mut self, batch: &Batch) -> Result<f32> {
        self.step(batch, false)
    }

    fn predict_step(&mut self, x: &[ArrayViewD<'_, f32>]) -> Result<Vec<ArrayD<f32>>> {
        self.check_inputs(x)?;
        self.graph.forward(x, false)?.into_outputs(&self.graph)
    }

    fn reset_metrics(&mut self) {
        self.tracker.reset();
    }

    fn metrics_result(&self) -> Scores {
        self.tracker.scores()
    }

    fn get_weights(&self) -> Vec<ArrayD<f32>> {
        Functional::get_weights(self)
    }

    fn set_weights(&mut self, weights: Vec<ArrayD<f32>>) -> Result<()> {
        Functional::set_weights(self, weights)
    }

    fn save_weights(&self, path: &Path) -> Result<()> {
        Functional::save_weights(self, path)
    }

    fn optimizer(&self) -> Option<&dyn Optimizer> {
        Functional::optimizer(self)
    }

    fn optimizer_mut(&mut self) -> Option<&mut dyn Optimizer> {
        Functional::optimizer_mut(self)
    }
}
