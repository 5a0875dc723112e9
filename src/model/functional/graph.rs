//! The graph of a functional model, traced from its outputs back to its inputs as Keras'
//! `map_graph` does: the nodes in an order that computes every input before it is read, the
//! layers in Keras' order (by depth, then by first visit), and the checks that the graph
//! connects and that names are unique.

use super::shared::SharedLayer;
use super::symbolic::{NodeData, Source, SymbolicTensor};
use crate::{Error, Result};
use std::collections::HashMap;
use std::sync::Arc;

/// A model input: its name and per-sample shape.
#[derive(Clone, Debug)]
pub(crate) struct InputSpec {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
}

/// One call of a layer in the model: which layer, which slots it reads and writes.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    /// Index into [`Graph::layers`].
    pub(crate) layer: usize,
    /// The slots of its inputs (`0..inputs.len()` are the model's inputs).
    pub(crate) inputs: Vec<usize>,
    /// The slots of its outputs.
    pub(crate) outputs: Vec<usize>,
    /// Which call of the layer this is (Keras' node index).
    pub(crate) call_index: usize,
    /// Keras' depth of the node: the number of nodes between it and the outputs.
    pub(crate) depth: usize,
}

/// An entry of the model's operations in Keras' order: an input, or a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operation {
    /// Model input `i` (Keras' `InputLayer`).
    Input(usize),
    /// Layer `i` of [`Graph::layers`].
    Layer(usize),
}

/// The traced graph. Slots number every tensor: the model's inputs first, then each node's
/// outputs in node order.
#[derive(Clone, Debug)]
pub(crate) struct Graph {
    pub(crate) inputs: Vec<InputSpec>,
    /// The distinct layers, in Keras' order.
    pub(crate) layers: Vec<SharedLayer>,
    /// Inputs and layers in Keras' order (the summary's rows).
    pub(crate) operations: Vec<Operation>,
    /// The nodes, in an order that computes every slot before it is read.
    pub(crate) nodes: Vec<Node>,
    /// The slots of the model's outputs.
    pub(crate) outputs: Vec<usize>,
    /// Per-sample shape of every slot.
    pub(crate) shapes: Vec<Vec<usize>>,
    /// How many nodes read each slot.
    pub(crate) readers: Vec<usize>,
    /// How many nodes of this model call each layer.
    pub(crate) calls: Vec<usize>,
    /// Keras' depth of each input's node.
    pub(crate) input_depths: Vec<usize>,
}

/// What the trace gathers before slots are numbered.
#[derive(Default)]
struct Trace {
    /// Nodes in post order (inputs before the nodes that read them).
    nodes: Vec<Arc<NodeData>>,
    index: HashMap<usize, usize>,
    /// Operations in order of first visit: the key of a layer, or of an input tensor.
    first_visit: HashMap<usize, usize>,
    used_inputs: Vec<bool>,
}

fn node_key(node: &Arc<NodeData>) -> usize {
    Arc::as_ptr(node) as usize
}

impl Graph {
    /// Traces the graph from `outputs` back to `inputs`.
    pub(crate) fn trace(inputs: &[&SymbolicTensor], outputs: &[&SymbolicTensor]) -> Result<Graph> {
        if inputs.is_empty() || outputs.is_empty() {
            return Err(Error::invalid(
                "inputs and outputs",
                "at least one input and one output",
                format!("{} input(s), {} output(s)", inputs.len(), outputs.len()),
            ));
        }
        for (i, input) in inputs.iter().enumerate() {
            if !input.is_input() {
                return Err(Error::invalid(
                    format!("inputs[{i}]"),
                    "a tensor made by `Input::new` (a model's inputs are Inputs)",
                    format!("the output of layer '{}'", input.name()),
                ));
            }
            if inputs[..i].iter().any(|other| other.key() == input.key()) {
                return Err(Error::invalid(
                    format!("inputs[{i}]"),
                    "each input once",
                    "an input given twice",
                ));
            }
        }
        let mut trace = Trace { used_inputs: vec![false; inputs.len()], ..Trace::default() };
        for output in outputs {
            visit(inputs, output, &mut trace)?;
        }
        if let Some(unused) = trace.used_inputs.iter().position(|used| !used) {
            return Err(Error::invalid(
                format!("inputs[{unused}]"),
                "inputs that the outputs are computed from",
                "an input no output depends on",
            ));
        }
        Graph::number(inputs, outputs, trace)
    }

    /// Numbers the slots, orders the layers as Keras and names what is unnamed.
    fn number(
        inputs: &[&SymbolicTensor],
        outputs: &[&SymbolicTensor],
        trace: Trace,
    ) -> Result<Graph> {
        let mut slots: HashMap<usize, usize> =
            inputs.iter().enumerate().map(|(i, t)| (t.key(), i)).collect();
        let mut shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape().to_vec()).collect();
        let mut layer_index: HashMap<usize, usize> = HashMap::new();
        let mut layers: Vec<SharedLayer> = Vec::new();
        let mut nodes = Vec::with_capacity(trace.nodes.len());
        // Keys of output tensors per node: the tensors are rebuilt on demand, so slots of node
        // outputs are keyed by (node, index).
        let mut node_slots: HashMap<(usize, usize), usize> = HashMap::new();
        for data in &trace.nodes {
            let layer = *layer_index.entry(data.layer.key()).or_insert_with(|| {
                layers.push(data.layer.clone());
                layers.len() - 1
            });
            let input_slots = data
                .inputs
                .iter()
                .map(|t| slot_of(t, &slots, &node_slots))
                .collect::<Option<Vec<usize>>>()
                .ok_or_else(|| Error::NotBuilt("a node's input was not traced".into()))?;
            let mut output_slots = Vec::new();
            for (index, shape) in data.output_shapes.iter().enumerate() {
                node_slots.insert((node_key(data), index), shapes.len());
                output_slots.push(shapes.len());
                shapes.push(shape.clone());
            }
            nodes.push(Node {
                layer,
                inputs: input_slots,
                outputs: output_slots,
                call_index: data.call_index,
                depth: 0,
            });
        }
        let output_slots = outputs
            .iter()
            .map(|t| slot_of(t, &slots, &node_slots))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| Error::NotBuilt("an output was not traced".into()))?;
        slots.clear();
        let mut readers = vec![0; shapes.len()];
        let mut calls = vec![0; layers.len()];
        for node in &nodes {
            node.inputs.iter().for_each(|&s| readers[s] += 1);
            calls[node.layer] += 1;
        }
        let (operations, input_depths) =
            keras_order(inputs, &trace, &mut nodes, &layers, &layer_index);
        let inputs = check_names(inputs, &layers)?;
        Ok(Graph {
            inputs,
            layers,
            operations,
            nodes,
            outputs: output_slots,
            shapes,
            readers,
            calls,
            input_depths,
        })
    }
}

/// The slot of tensor `t`.
fn slot_of(
    t: &SymbolicTensor,
    inputs: &HashMap<usize, usize>,
    node_slots: &HashMap<(usize, usize), usize>,
) -> Option<usize> {
    match t.source() {
        Source::Input(_) => inputs.get(&t.key()).copied(),
        Source::Node(node, index) => node_slots.get(&(node_key(node), *index)).copied(),
    }
}

/// Depth-first visit from `tensor` (Keras' `_build_map_helper`).
fn visit(inputs: &[&SymbolicTensor], tensor: &SymbolicTensor, trace: &mut Trace) -> Result<()> {
    match tensor.source() {
        Source::Input(_) => {
            let Some(position) = inputs.iter().position(|t| t.key() == tensor.key()) else {
                return Err(Error::invalid(
                    "outputs",
                    "outputs computed from the model's inputs only",
                    format!(
                        "an output that depends on input '{}' {}, which is not among the \
                         model's inputs (graph disconnected)",
                        tensor.name(),
                        crate::shape::keras_shape(tensor.shape())
                    ),
                ));
            };
            trace.used_inputs[position] = true;
            let next = trace.first_visit.len();
            trace.first_visit.entry(tensor.key()).or_insert(next);
            Ok(())
        }
        Source::Node(node, _) => {
            if trace.index.contains_key(&node_key(node)) {
                return Ok(());
            }
            let next = trace.first_visit.len();
            trace.first_visit.entry(node.layer.key()).or_insert(next);
            for input in &node.inputs {
                visit(inputs, input, trace)?;
            }
            trace.index.insert(node_key(node), trace.nodes.len());
            trace.nodes.push(Arc::clone(node));
            Ok(())
        }
    }
}

/// Inputs and layers ordered as Keras' `map_graph` orders a model's operations: by decreasing
/// depth (the number of nodes between a node and the outputs, the largest over a layer's
/// nodes), then by first visit.
fn keras_order(
    inputs: &[&SymbolicTensor],
    trace: &Trace,
    nodes: &mut [Node],
    layers: &[SharedLayer],
    layer_index: &HashMap<usize, usize>,
) -> (Vec<Operation>, Vec<usize>) {
    let mut node_depth = vec![0usize; nodes.len()];
    let mut layer_depth: HashMap<usize, usize> = HashMap::new();
    let mut input_depth = vec![0usize; inputs.len()];
    let producer: HashMap<usize, usize> = nodes
        .iter()
        .enumerate()
        .flat_map(|(n, node)| node.outputs.iter().map(move |&s| (s, n)))
        .collect();
    for n in (0..nodes.len()).rev() {
        let layer = nodes[n].layer;
        let depth = node_depth[n].max(layer_depth.get(&layer).copied().unwrap_or(0));
        layer_depth.insert(layer, depth);
        node_depth[n] = depth;
        for &slot in &nodes[n].inputs {
            match producer.get(&slot) {
                Some(&parent) => node_depth[parent] = node_depth[parent].max(depth + 1),
                None => input_depth[slot] = input_depth[slot].max(depth + 1),
            }
        }
    }
    let mut operations: Vec<(usize, usize, Operation)> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let visit = trace.first_visit.get(&input.key()).copied().unwrap_or(usize::MAX);
        operations.push((input_depth[i], visit, Operation::Input(i)));
    }
    for (i, layer) in layers.iter().enumerate() {
        let visit = trace.first_visit.get(&layer.key()).copied().unwrap_or(usize::MAX);
        let depth = layer_depth.get(&layer_index[&layer.key()]).copied().unwrap_or(0);
        operations.push((depth, visit, Operation::Layer(i)));
    }
    operations.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (node, depth) in nodes.iter_mut().zip(node_depth) {
        node.depth = depth;
    }
    (operations.into_iter().map(|(_, _, op)| op).collect(), input_depth)
}

/// Refuses a name used by two of the model's inputs and layers (Keras' rule: names identify
/// layers in saved models); returns the inputs' specifications.
fn check_names(inputs: &[&SymbolicTensor], layers: &[SharedLayer]) -> Result<Vec<InputSpec>> {
    let mut names: Vec<String> =
        inputs.iter().map(|t| t.name()).chain(layers.iter().map(SharedLayer::name)).collect();
    names.sort();
    if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::invalid(
            "layer names",
            "names unique in the model (Keras refuses a name used twice)",
            format!("'{}' used more than once", pair[0]),
        ));
    }
    Ok(inputs.iter().map(|t| InputSpec { name: t.name(), shape: t.shape().to_vec() }).collect())
}
