//! Running the graph: forward through the nodes in order with masks propagated, and backward
//! in reverse, gradients summed where a tensor is read by several nodes.

use super::graph::Graph;
use crate::layers::{ForwardCache, Layer};
use crate::losses::LossGrad;
use crate::param::Mask;
use crate::shape::array_shape;
use crate::{Error, Result};
use ndarray::{ArrayD, ArrayViewD};

/// What a forward pass leaves: every node output and its mask, and the caches of the layers
/// called at several nodes (moved out after each node's forward).
pub(crate) struct Pass {
    /// Node outputs by slot (`None` for the model's inputs, which the caller holds).
    values: Vec<Option<ArrayD<f32>>>,
    masks: Vec<Option<Mask>>,
    caches: Vec<Option<ForwardCache>>,
}

impl Pass {
    /// The array of model output `i`.
    pub(crate) fn output(&self, graph: &Graph, i: usize) -> Result<ArrayViewD<'_, f32>> {
        let slot = graph.outputs[i];
        match &self.values[slot] {
            Some(value) => Ok(value.view()),
            None => Err(Error::invalid(
                "outputs",
                "outputs computed by layers",
                "a model input given as an output",
            )),
        }
    }

    /// The mask of model output `i`.
    pub(crate) fn output_mask(&self, graph: &Graph, i: usize) -> Option<&Mask> {
        self.masks[graph.outputs[i]].as_ref()
    }

    /// Takes the arrays of the model's outputs.
    pub(crate) fn into_outputs(mut self, graph: &Graph) -> Result<Vec<ArrayD<f32>>> {
        let mut outputs = Vec::with_capacity(graph.outputs.len());
        for (i, &slot) in graph.outputs.iter().enumerate() {
            // An output listed twice is copied the second time.
            let value = match graph.outputs[..i].contains(&slot) {
                true => self.values[slot].clone(),
                false => self.values[slot].take(),
            };
            outputs.push(value.ok_or_else(|| {
                Error::invalid("outputs", "outputs computed by layers", "a model input")
            })?);
        }
        Ok(outputs)
    }
}

impl Graph {
    /// Runs every node on the inputs `x` (checked by the caller), in training or inference
    /// mode. In training, the cache of a layer called at several nodes is moved out after each
    /// of its nodes.
    pub(crate) fn forward(&self, x: &[ArrayViewD<'_, f32>], training: bool) -> Result<Pass> {
        let slots = self.shapes.len();
        let mut pass = Pass {
            values: (0..slots).map(|_| None).collect(),
            masks: vec![None; slots],
            caches: (0..self.nodes.len()).map(|_| None).collect(),
        };
        for (n, node) in self.nodes.iter().enumerate() {
            let mut slot = self.layers[node.layer].lock();
            let layer: &mut dyn Layer = slot.layer.as_mut();
            let (outputs, masks) = {
                let views: Vec<ArrayViewD<'_, f32>> = node
                    .inputs
                    .iter()
                    .map(|&s| match &pass.values[s] {
                        Some(value) => value.view(),
                        None => x[s].view(),
                    })
                    .collect();
                let masks: Vec<Option<&Mask>> =
                    node.inputs.iter().map(|&s| pass.masks[s].as_ref()).collect();
                let out_masks = layer.compute_mask_multi(&views, &masks)?;
                (layer.forward_multi(&views, &masks, training)?, out_masks)
            };
            if outputs.len() != node.outputs.len() || masks.len() != node.outputs.len() {
                return Err(Error::invalid(
                    format!("outputs of layer '{}'", layer.base().name()),
                    format!("{} output(s), as at its call", node.outputs.len()),
                    outputs.len(),
                ));
            }
            if training && self.calls[node.layer] > 1 {
                let cache = layer.take_forward_cache().ok_or_else(|| {
                    Error::invalid(
                        format!("layer '{}'", layer.base().name()),
                        "a layer that can hand over its forward cache, to be trained at \
                         several nodes of a model",
                        format!(
                            "{} called at {} nodes",
                            layer.class_name(),
                            self.calls[node.layer]
                        ),
                    )
                })?;
                pass.caches[n] = Some(cache);
            }
            for ((&s, output), mask) in node.outputs.iter().zip(outputs).zip(masks) {
                pass.values[s] = Some(output);
                pass.masks[s] = mask;
            }
        }
        Ok(pass)
    }

    /// Back-propagates the loss gradient of each output (`None` for an output the loss does
    /// not read) through the nodes in reverse, summing the gradients of a tensor read by
    /// several nodes and passing zeros for outputs nothing reads. A [`LossGrad::Logits`] is
    /// taken by the layer's [`OutputHead`](crate::layers::OutputHead).
    pub(crate) fn backward(
        &self,
        pass: &mut Pass,
        output_grads: Vec<Option<LossGrad>>,
    ) -> Result<()> {
        let inputs = self.inputs.len();
        let mut grads: Vec<Option<ArrayD<f32>>> = (0..self.shapes.len()).map(|_| None).collect();
        let mut logits: Vec<Option<ArrayD<f32>>> = (0..self.nodes.len()).map(|_| None).collect();
        for (i, grad) in output_grads.into_iter().enumerate() {
            let slot = self.outputs[i];
            match grad {
                Some(LossGrad::Output(g)) => add_into(&mut grads[slot], g)?,
                Some(LossGrad::Logits(g)) => {
                    let node = self.nodes.iter().position(|n| n.outputs.contains(&slot));
                    if let Some(node) = node {
                        logits[node] = Some(g);
                    }
                }
                None => {}
            }
        }
        for (n, node) in self.nodes.iter().enumerate().rev() {
            let from_logits = logits[n].take();
            if from_logits.is_none() && node.outputs.iter().all(|&s| grads[s].is_none()) {
                pass.caches[n] = None;
                continue;
            }
            let mut slot = self.layers[node.layer].lock();
            let layer: &mut dyn Layer = slot.layer.as_mut();
            if let Some(cache) = pass.caches[n].take() {
                layer.put_forward_cache(cache)?;
            }
            let need_input = node.inputs.iter().any(|&s| s >= inputs);
            let input_grads = match from_logits {
                Some(g) => {
                    let name = layer.base().name().to_string();
                    let head = layer.output_head().ok_or_else(|| {
                        Error::NotBuilt(format!("layer '{name}' does not keep its logits"))
                    })?;
                    vec![head.backward_logits(g.view(), need_input)?]
                }
                None => {
                    let owned: Vec<ArrayD<f32>> = node
                        .outputs
                        .iter()
                        .map(|&s| match grads[s].take() {
                            Some(g) => g,
                            None => ArrayD::zeros(
                                pass.values[s].as_ref().map_or(&[][..], |v| v.shape()),
                            ),
                        })
                        .collect();
                    let views: Vec<ArrayViewD<'_, f32>> = owned.iter().map(|g| g.view()).collect();
                    layer.backward_multi(&views, need_input)?
                }
            };
            if need_input && input_grads.len() != node.inputs.len() {
                return Err(Error::invalid(
                    format!("input gradients of layer '{}'", layer.base().name()),
                    format!("one per input ({})", node.inputs.len()),
                    input_grads.len(),
                ));
            }
            for (&s, g) in node.inputs.iter().zip(input_grads) {
                if let (true, Some(g)) = (s >= inputs, g) {
                    add_into(&mut grads[s], g)?;
                }
            }
        }
        Ok(())
    }
}

/// Adds `g` to the gradient held in `into`.
fn add_into(into: &mut Option<ArrayD<f32>>, g: ArrayD<f32>) -> Result<()> {
    match into {
        Some(sum) if sum.shape() == g.shape() => *sum += &g,
        Some(sum) => {
            return Err(Error::ShapeMismatch {
                layer: "gradient of a tensor read by several nodes".into(),
                expected: array_shape(sum.shape()),
                found: array_shape(g.shape()),
            })
        }
        None => *into = Some(g),
    }
    Ok(())
}
