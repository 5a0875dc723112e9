//! The loops of [`Rnn`](super::Rnn) over one chunk of samples.
//!
//! A chunk keeps its buffers time-major, so that everything one step reads or writes is
//! contiguous: the states `(steps + 1, rows, units)` and the step rows `(steps, STEP_BLOCKS,
//! rows, units)` (each block of the cell a `(rows, units)` matrix). Inference, which no backward
//! follows, holds only what the steps ahead read ([`Keep`]), so that its buffers stay in cache.
//! Forward projects the input x·W_g ahead of the recurrence: a few steps ahead, one product per
//! step and gate over the chunk's samples, or, for a chunk of few samples, a block of `TIME_BLOCK`
//! steps ahead, one product per sample and gate over its steps (a folded input copies its table
//! rows a few steps ahead instead); the step then adds only h_{t−1}·U_g. BPTT walks the steps back
//! in the same blocks and adds each block's weight gradients as one product per gate over all its
//! (step, sample) rows, while the gradient rows are still in cache. The products that read a weight
//! matrix read it laid out once per call (`Packed`), through `kernels`' register-blocked code at
//! every width.

use super::cell::Cell;
use super::dropout::ChunkDropout;
use super::shared_step::SharedSteps;
use super::weights::{ChunkGradients, Packed};
use crate::kernels;
use ndarray::ArrayView2;
use std::ops::Range;

/// The most samples per parallel chunk of a layer of `units` units. Wider layers take more
/// samples, over which each step's pass over the recurrent kernel is shared.
fn widest_chunk(units: usize) -> usize {
    if units > 64 {
        16
    } else {
        8
    }
}

/// Samples per parallel chunk in training of a `batch` through a layer of `units` units: a
/// function of the layer and the batch alone, since the chunks' weight gradients are summed in
/// chunk order, so that results do not depend on the thread count. [`widest_chunk`], or half
/// the batch when that is fewer, so that a small batch still runs on two threads.
pub(super) fn chunk_rows(units: usize, batch: usize) -> usize {
    widest_chunk(units).min(batch.div_ceil(2)).max(1)
}

/// Samples per chunk in inference of a `batch`, for a pool of `threads` threads: at most
/// [`widest_chunk`], in about as many chunks as a multiple of the thread count (a batch of 8 on
/// two threads runs as two chunks of 4, 48 samples of a wide layer as four chunks of 12; every
/// chunk but the last has the same rows, so 49 samples of a narrow layer make seven of 7). Nothing
/// is summed across chunks in inference and each row's result is the same in any chunk, so
/// outputs do not depend on the thread count either.
pub(super) fn inference_chunk_rows(units: usize, batch: usize, threads: usize) -> usize {
    let threads = threads.max(1);
    let chunks = threads * batch.div_ceil(threads * widest_chunk(units));
    batch.div_ceil(chunks.max(1)).max(1)
}

/// Steps whose input projection (forward) or weight gradients (backward) are computed together:
/// few enough for their rows to stay in cache between the products and the recurrence.
const TIME_BLOCK: usize = 32;

/// The fewest samples in a chunk for which its input projection runs one product per step and
/// gate over its samples (see [`Chunk::projects_by_step`]).
const SAMPLE_ROWS: usize = 8;

/// The most bytes of step rows written ahead of the recurrence, projected step by step or
/// looked up in a folded table: rows that outgrow L2 before the recurrence reads them are read
/// back from further away, and push the recurrent kernel out of L2 on their way. (LSTM(256) over
/// 16 samples, a step's rows 64 KiB: inference 15% faster 2 to 8 steps ahead than 32.)
const AHEAD_BYTES: usize = 128 * 1024;

/// The distance between the values of consecutive steps in a chunk's buffers: one cache line
/// more than their size, so that products down the steps do not read addresses a multiple of
/// 4 KiB apart (which share a set of the L1 cache).
fn padded(len: usize) -> usize {
    len + 16
}

/// What the steps read, for a batch or for a chunk of its samples.
#[derive(Clone, Copy)]
pub(super) enum ChunkInput<'a> {
    /// The input sequences `(samples, steps, features)`.
    Features(&'a [f32]),
    /// For inference after an `Embedding`: the table row of each id `(samples, steps)`, and the
    /// table folded into the input projection, `(input_dim, GATES·units)`: bias + E_v·W_g for
    /// row v and gate g, the values [`Chunk::project`] would compute for that row's vector.
    Folded { rows: &'a [usize], table: &'a [f32] },
}

impl<'a> ChunkInput<'a> {
    /// The part of a batch's input that belongs to its samples `samples`.
    pub(super) fn samples(self, samples: Range<usize>, steps: usize, features: usize) -> Self {
        match self {
            ChunkInput::Features(x) => {
                let per_sample = steps * features;
                ChunkInput::Features(&x[samples.start * per_sample..samples.end * per_sample])
            }
            ChunkInput::Folded { rows, table } => ChunkInput::Folded {
                rows: &rows[samples.start * steps..samples.end * steps],
                table,
            },
        }
    }
}

/// A value per state of a chunk's rows, `(rows, units)` each: the initial states h_0 and c_0
/// in forward, the gradients of the last states in backward. `c` is empty without `carry`.
#[derive(Clone, Copy)]
pub(super) struct StateRows<'a> {
    pub(super) h: &'a [f32],
    pub(super) c: &'a [f32],
}

/// What a chunk's forward keeps in its buffers for what reads them after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Keep {
    /// Every step's states and step rows, which `backward` reads: a training-mode forward.
    Everything,
    /// Every step's states, the output of a layer that returns sequences; of the step rows,
    /// the block of steps being run.
    States,
    /// Two state slots, which end with the last states, and the block of step rows being run:
    /// an inference-mode forward whose output is the last state.
    Last,
}

/// Where a chunk's steps sit in time and in the state buffers.
#[derive(Clone, Copy)]
struct Geometry {
    steps: usize,
    go_backwards: bool,
    /// Whether the state buffers hold two slots, as when only the last state is kept (a step
    /// reads one and writes the other), rather than `steps + 1`.
    two_slots: bool,
}

impl Geometry {
    /// Input time index of the `k`-th step read.
    fn step_at(self, k: usize) -> usize {
        if self.go_backwards {
            self.steps - 1 - k
        } else {
            k
        }
    }

    /// Slots of the state buffer holding (h_{t−1}, h_t) for input time `t`: reading forwards,
    /// h_t sits at `t + 1` and the zero state at 0; reading backwards, h_t sits at `t` and the
    /// zero state at `steps`; of two slots, the one of the same parity.
    fn slots(self, t: usize) -> (usize, usize) {
        let (prev, cur) = if self.go_backwards { (t + 1, t) } else { (t, t + 1) };
        (self.held(prev), self.held(cur))
    }

    /// The slot that holds slot `slot` of `steps + 1`.
    fn held(self, slot: usize) -> usize {
        if self.two_slots {
            slot & 1
        } else {
            slot
        }
    }

    /// The slot of the last state, h_T.
    fn last_slot(self) -> usize {
        if self.go_backwards {
            0
        } else {
            self.held(self.steps)
        }
    }

    /// The slot the first step reads: h_0's.
    fn first_slot(self) -> usize {
        if self.go_backwards {
            self.held(self.steps)
        } else {
            0
        }
    }

    /// The input times of reading steps `k_range` (a contiguous range either way).
    fn times(self, k_range: Range<usize>) -> Range<usize> {
        if self.go_backwards {
            self.steps - k_range.end..self.steps - k_range.start
        } else {
            k_range
        }
    }

    /// Number of leading steps, in reading order, masked for every sample of the chunk.
    fn leading_masked(self, mask: Option<&ArrayView2<'_, bool>>) -> usize {
        let Some(mask) = mask else { return 0 };
        (0..self.steps).take_while(|&k| !mask.column(self.step_at(k)).iter().any(|&m| m)).count()
    }
}

/// The previous slot (read) and the current slot (written) of a state buffer.
fn pair_mut(states: &mut [f32], prev: usize, cur: usize, len: usize) -> (&[f32], &mut [f32]) {
    if prev < cur {
        let (before, after) = states.split_at_mut(cur);
        (&before[prev..prev + len], &mut after[..len])
    } else {
        let (before, after) = states.split_at_mut(prev);
        (&after[..len], &mut before[cur..cur + len])
    }
}

/// The buffers of one chunk of samples, kept between calls (see the module documentation).
#[derive(Clone, Debug)]
pub(super) struct Chunk {
    rows: usize,
    steps: usize,
    units: usize,
    /// h, `(steps + 1, rows, units)`, slots as [`Geometry::slots`]: the first two only, after an
    /// inference that keeps the last state. In every buffer, the values of consecutive steps
    /// (slots) are [`padded`] apart.
    states: Vec<f32>,
    /// c in the same layout, or empty without `CARRY`.
    carries: Vec<f32>,
    /// `(steps, STEP_BLOCKS, rows, units)`: every step's after a training-mode forward, which
    /// backward reads; in inference, the first slots hold the block of steps being run, which
    /// stays in cache where rows for every step would stream through memory.
    step_rows: Vec<f32>,
    /// What the last forward keeps, which sets the slots its buffers hold.
    keep: Keep,
    /// The gradient blocks of one block of steps, `(TIME_BLOCK, GRAD_BLOCKS, rows, units)`.
    grad_rows: Vec<f32>,
    /// Leading steps (in reading order) masked for every sample: they are not computed, and
    /// their slots carry the initial states.
    skipped: usize,
    /// Room for a dropped copy of a weight block or of the states, with dropout.
    scratch: Vec<f32>,
    /// A block of steps' input or states, and one gradient block of theirs, gathered for the
    /// weight gradients: `(TIME_BLOCK·rows, features or units)` each.
    gathered: Vec<f32>,
    gathered_dz: Vec<f32>,
}

impl Chunk {
    /// A chunk of `rows` samples, with buffers for every step (an inference uses only the first
    /// slots of some, as [`Keep`] says).
    pub(super) fn new<C: Cell>(rows: usize, steps: usize, units: usize) -> Self {
        let n = rows * units;
        Chunk {
            rows,
            steps,
            units,
            states: vec![0.0; (steps + 1) * padded(n)],
            carries: vec![0.0; if C::LAYOUT.carry { (steps + 1) * padded(n) } else { 0 }],
            step_rows: vec![0.0; steps * padded(C::LAYOUT.step_blocks * n)],
            keep: Keep::Everything,
            grad_rows: Vec::new(),
            skipped: 0,
            scratch: Vec::new(),
            gathered: Vec::new(),
            gathered_dz: Vec::new(),
        }
    }

    /// Samples in the chunk.
    pub(super) fn rows(&self) -> usize {
        self.rows
    }

    /// Whether the buffers have the sizes of a chunk of `rows` samples and `steps` steps.
    pub(super) fn fits(&self, rows: usize, steps: usize, units: usize) -> bool {
        (self.rows, self.steps, self.units) == (rows, steps, units)
    }

    /// The geometry of the chunk's steps, read in the direction `go_backwards`.
    fn geometry(&self, go_backwards: bool) -> Geometry {
        Geometry { steps: self.steps, go_backwards, two_slots: self.keep == Keep::Last }
    }

    /// Writes the initial states (zeros without `initial`) into the slot the first step reads
    /// and into the slots of the skipped steps, which carry them. Every other slot is written
    /// by its step.
    fn start_from<C: Cell>(&mut self, geometry: Geometry, initial: Option<StateRows<'_>>) {
        let n = self.rows * self.units;
        // The slot the first step reads, also for a sequence of no steps (h_T is then h_0).
        let first = geometry.first_slot();
        let carried = (0..self.skipped).map(|k| geometry.slots(geometry.step_at(k)).1);
        for slot in std::iter::once(first).chain(carried) {
            let h = &mut self.states[slot * padded(n)..][..n];
            match initial {
                Some(initial) => h.copy_from_slice(initial.h),
                None => h.fill(0.0),
            }
            if C::LAYOUT.carry {
                let c = &mut self.carries[slot * padded(n)..][..n];
                match initial {
                    Some(initial) => c.copy_from_slice(initial.c),
                    None => c.fill(0.0),
                }
            }
        }
    }

    /// The chunk's last states, h_T into `h` and (with `carry`) c_T into `c`, `(rows, units)`
    /// each: the states after the last step read.
    pub(super) fn write_states(&self, go_backwards: bool, h: &mut [f32], c: &mut [f32]) {
        let n = self.rows * self.units;
        let slot = self.geometry(go_backwards).last_slot();
        h[..n].copy_from_slice(&self.states[slot * padded(n)..][..n]);
        if !self.carries.is_empty() {
            c[..n].copy_from_slice(&self.carries[slot * padded(n)..][..n]);
        }
    }

    /// The chunk's output: the states in reading order `(rows, steps, units)`, or the last one
    /// `(rows, units)`.
    pub(super) fn write_output(&self, go_backwards: bool, return_sequences: bool, out: &mut [f32]) {
        let (units, n) = (self.units, self.rows * self.units);
        let geometry = self.geometry(go_backwards);
        if return_sequences {
            for k in 0..self.steps {
                let slot = geometry.slots(geometry.step_at(k)).1;
                let state = &self.states[slot * padded(n)..][..n];
                for (i, h) in state.chunks_exact(units).enumerate() {
                    out[(i * self.steps + k) * units..][..units].copy_from_slice(h);
                }
            }
        } else {
            let slot = geometry.last_slot();
            out[..n].copy_from_slice(&self.states[slot * padded(n)..][..n]);
        }
    }

    /// Runs the recurrence on the chunk's input, with the dropout masks `dropout`, from the
    /// states `initial` (h_0 and c_0 of the chunk's rows, `(rows, units)` each, c_0 empty
    /// without `carry`) or from zeros; what it keeps for later readers, `keep`; with `shared`,
    /// a chunk of one row without recurrent dropout, each step's products are shared with a
    /// helper thread.
    #[allow(clippy::too_many_arguments)] // The settings, the input and its masks, the states.
    pub(super) fn forward<C: Cell>(
        &mut self,
        cell: &C,
        weights: &Packed,
        go_backwards: bool,
        input: ChunkInput<'_>,
        mask: Option<ArrayView2<'_, bool>>,
        dropout: ChunkDropout<'_>,
        initial: Option<StateRows<'_>>,
        keep: Keep,
        shared: Option<&SharedSteps<'_>>,
    ) {
        let (rows, steps, units) = (self.rows, self.steps, self.units);
        debug_assert!(shared.is_none() || (rows == 1 && !dropout.drops_state()));
        self.keep = keep;
        let n = rows * units;
        self.scratch.resize(scratch_len(rows, units, weights.features), 0.0);
        let carry = if C::LAYOUT.carry { n } else { 0 };
        let geometry = self.geometry(go_backwards);
        self.skipped = geometry.leading_masked(mask.as_ref());
        self.start_from::<C>(geometry, initial);
        // The blocks the products add into start every step as the biases.
        let summed = C::LAYOUT.summed_blocks() * units;
        let mut init = Vec::with_capacity(summed * rows);
        for block in weights.step_init[..summed].chunks_exact(units) {
            (0..rows).for_each(|_| init.extend_from_slice(block));
        }
        let step_len = C::LAYOUT.step_blocks * n;
        let step_stride = padded(step_len);
        let (slot, carry_slot) = (padded(n), if C::LAYOUT.carry { padded(n) } else { 0 });

        // Per step only h_{t−1}·U_g, for all rows at once, then the cell: no allocation. The
        // input projection runs a few steps or a block of steps ahead, while its rows stay in cache.
        let by_step = self.projects_by_step(dropout);
        let ahead = match input {
            // A product over a block of steps needs them all for its rows.
            ChunkInput::Features(_) if !by_step => TIME_BLOCK,
            ChunkInput::Features(_) | ChunkInput::Folded { .. } => {
                (AHEAD_BYTES / (step_stride * size_of::<f32>())).clamp(1, TIME_BLOCK)
            }
        };
        // The input time whose step rows come first in the buffer: 0 when it holds every step,
        // the first of the block being run otherwise.
        let mut base = 0;
        let mut projected = self.skipped;
        for k in self.skipped..steps {
            if k == projected {
                projected = (k + ahead).min(steps);
                let times = geometry.times(k..projected);
                if keep != Keep::Everything {
                    base = times.start;
                }
                // A folded table writes the gate blocks whole; a projection adds into them.
                let start = match input {
                    ChunkInput::Features(_) => 0,
                    ChunkInput::Folded { .. } => C::LAYOUT.gates * n,
                };
                for t in times.clone() {
                    let step = &mut self.step_rows[(t - base) * step_stride..][..step_len];
                    step[start..init.len()].copy_from_slice(&init[start..]);
                }
                match input {
                    ChunkInput::Features(x) => {
                        self.project::<C>(weights, x, times, base, dropout);
                    }
                    ChunkInput::Folded { rows, table } => {
                        self.look_up::<C>(rows, table, times, base);
                    }
                }
            }
            let t = geometry.step_at(k);
            let (prev, cur) = geometry.slots(t);
            let step = &mut self.step_rows[(t - base) * step_stride..][..step_len];
            let (h_prev, h) = pair_mut(&mut self.states, prev * slot, cur * slot, n);
            match shared {
                Some(shared) => shared.add::<C>(h_prev, step),
                None => add_recurrent::<C>(weights, dropout, h_prev, step, &mut self.scratch),
            }
            let (c_prev, c) =
                pair_mut(&mut self.carries, prev * carry_slot, cur * carry_slot, carry);
            cell.forward(units, step, h_prev, c_prev, h, c);
            if let Some(mask) = &mask {
                // A masked step carries the states through unchanged.
                for i in (0..rows).filter(|&i| !mask[(i, t)]) {
                    h[i * units..][..units].copy_from_slice(&h_prev[i * units..][..units]);
                    if C::LAYOUT.carry {
                        c[i * units..][..units].copy_from_slice(&c_prev[i * units..][..units]);
                    }
                }
            }
        }
    }

    /// Adds x_t·W_g into the step rows of input times `times` (time t's at slot `t − base`, as in
    /// [`Chunk::forward`]): one product per step and gate, `(rows, features) × (features, units)`,
    /// or one per sample and gate, `(times, features) × (features, units)` (as
    /// [`Chunk::projects_by_step`] decides; each value's bits are the same). With input dropout,
    /// (x_t ⊙ m_g)·W_g is computed as x_t·(diag(m_g)·W_g), the sample's mask applied to the
    /// kernel's rows.
    fn project<C: Cell>(
        &mut self,
        weights: &Packed,
        x: &[f32],
        times: Range<usize>,
        base: usize,
        dropout: ChunkDropout<'_>,
    ) {
        let (rows, steps, units, features) = (self.rows, self.steps, self.units, weights.features);
        let n = rows * units;
        let step_stride = padded(C::LAYOUT.step_blocks * n);
        if self.projects_by_step(dropout) {
            for t in times {
                let x = &x[t * features..];
                for g in 0..C::LAYOUT.gates {
                    let into = &mut self.step_rows[(t - base) * step_stride + g * n..];
                    let kernel = weights.kernel_panels(g);
                    kernels::add_matmul_packed(rows, x, steps * features, kernel, into, units);
                }
            }
            return;
        }
        for i in 0..rows {
            let x = &x[(i * steps + times.start) * features..];
            for g in 0..C::LAYOUT.gates {
                let first = (times.start - base) * step_stride;
                let into = &mut self.step_rows[first + g * n + i * units..];
                let rows = times.len();
                match dropout.input(i, g) {
                    Some(keep) => {
                        scale_rows(weights.kernel_gate(g), units, keep, &mut self.scratch);
                        let kernel = &self.scratch[..features * units];
                        kernels::add_matmul(
                            rows,
                            features,
                            units,
                            x,
                            features,
                            kernel,
                            into,
                            step_stride,
                        );
                    }
                    None => {
                        let kernel = weights.kernel_panels(g);
                        kernels::add_matmul_packed(rows, x, features, kernel, into, step_stride);
                    }
                }
            }
        }
    }

    /// Whether [`Chunk::project`] runs one product per step and gate, the chunk's samples as its
    /// rows: with enough samples to fill a register tile, and one kernel for them all (no input
    /// dropout). Otherwise one per sample and gate, over a block of steps.
    fn projects_by_step(&self, dropout: ChunkDropout<'_>) -> bool {
        self.rows >= SAMPLE_ROWS && !dropout.drops_input()
    }

    /// Writes the folded table's rows into the input-projection blocks of the step rows of
    /// input times `times`, held as in [`Chunk::project`]: the same values, without the
    /// products.
    fn look_up<C: Cell>(&mut self, ids: &[usize], table: &[f32], times: Range<usize>, base: usize) {
        let (rows, steps, units) = (self.rows, self.steps, self.units);
        let (n, width) = (rows * units, C::LAYOUT.gates * units);
        let step_stride = padded(C::LAYOUT.step_blocks * n);
        for i in 0..rows {
            for t in times.clone() {
                let folded = &table[ids[i * steps + t] * width..][..width];
                let step = &mut self.step_rows[(t - base) * step_stride..];
                for (g, gate) in folded.chunks_exact(units).enumerate() {
                    step[g * n + i * units..][..units].copy_from_slice(gate);
                }
            }
        }
    }

    /// BPTT on the chunk: `grad` is dL/doutput of its rows, `x` its input and `dropout` its
    /// masks as in `forward`; `states` adds dL/dh_T and dL/dc_T (gradients of the returned
    /// states) and `d_initial` receives dL/dh_0 and dL/dc_0, when given; `shared` as in
    /// `forward`. Writes dL/dx into `d_input` when given and returns the chunk's weight
    /// gradients.
    #[allow(clippy::too_many_arguments)] // The settings, the inputs and the outputs.
    pub(super) fn backward<C: Cell>(
        &mut self,
        cell: &C,
        weights: &Packed,
        go_backwards: bool,
        return_sequences: bool,
        x: &[f32],
        mask: Option<ArrayView2<'_, bool>>,
        dropout: ChunkDropout<'_>,
        grad: &[f32],
        states: Option<StateRows<'_>>,
        mut d_input: Option<&mut [f32]>,
        d_initial: Option<(&mut [f32], &mut [f32])>,
        shared: Option<&SharedSteps<'_>>,
    ) -> ChunkGradients {
        debug_assert_eq!(self.keep, Keep::Everything, "backward reads every step's buffers");
        debug_assert!(shared.is_none() || (self.rows == 1 && !dropout.drops_state()));
        let (rows, steps, units, features) = (self.rows, self.steps, self.units, weights.features);
        let n = rows * units;
        let carry = if C::LAYOUT.carry { n } else { 0 };
        let (step_len, grad_len) = (C::LAYOUT.step_blocks * n, C::LAYOUT.grad_blocks * n);
        let stride = padded(grad_len);
        let (step_stride, slot) = (padded(step_len), padded(n));
        let carry_slot = if C::LAYOUT.carry { slot } else { 0 };
        let columns = C::LAYOUT.gates * units;
        let geometry = self.geometry(go_backwards);
        self.grad_rows.resize(TIME_BLOCK.min(steps) * stride, 0.0);
        let bias_len = match (weights.has_bias, C::LAYOUT.recurrent_bias) {
            (false, _) => 0,
            (true, false) => columns,
            (true, true) => 2 * columns,
        };
        let mut gradients = ChunkGradients {
            kernel: vec![0.0; columns * features],
            recurrent: vec![0.0; columns * units],
            bias: vec![0.0; bias_len],
        };

        // Backwards through time, a block of steps at a time: dh (dc) holds dL/dh_t (dL/dc_t)
        // of every row. A masked step passes both through and leaves its gradient rows zero.
        let mut dh = vec![0.0f32; n];
        let mut dc = vec![0.0f32; carry];
        let (mut kept_dh, mut kept_dc) = (vec![0.0f32; n], vec![0.0f32; carry]);
        if !return_sequences {
            dh.copy_from_slice(&grad[..n]);
        }
        if let Some(states) = states {
            dh.iter_mut().zip(states.h).for_each(|(d, g)| *d += g);
            dc.iter_mut().zip(states.c).for_each(|(d, g)| *d += g);
        }
        let mut block_end = steps;
        while block_end > self.skipped {
            let block_start = block_end.saturating_sub(TIME_BLOCK).max(self.skipped);
            let times = geometry.times(block_start..block_end);
            self.grad_rows[..times.len() * stride].fill(0.0);
            for k in (block_start..block_end).rev() {
                let t = geometry.step_at(k);
                let (prev, cur) = geometry.slots(t);
                if return_sequences {
                    // Output k (reading order) is the state at input time t.
                    for (i, dh_row) in dh.chunks_exact_mut(units).enumerate() {
                        let g = &grad[(i * steps + k) * units..][..units];
                        dh_row.iter_mut().zip(g).for_each(|(d, g)| *d += g);
                    }
                }
                let masked = mask.as_ref().filter(|m| (0..rows).any(|i| !m[(i, t)]));
                if masked.is_some() {
                    kept_dh.copy_from_slice(&dh);
                    kept_dc.copy_from_slice(&dc);
                }
                let step_grad = &mut self.grad_rows[(t - times.start) * stride..][..grad_len];
                cell.backward(
                    units,
                    &self.step_rows[t * step_stride..][..step_len],
                    &self.states[prev * slot..][..n],
                    &self.carries[prev * carry_slot..][..carry],
                    &self.states[cur * slot..][..n],
                    &mut dh,
                    &mut dc,
                    step_grad,
                );
                if let Some(mask) = masked {
                    for i in (0..rows).filter(|&i| !mask[(i, t)]) {
                        let row = i * units..(i + 1) * units;
                        dh[row.clone()].copy_from_slice(&kept_dh[row.clone()]);
                        if C::LAYOUT.carry {
                            dc[row.clone()].copy_from_slice(&kept_dc[row.clone()]);
                        }
                        for block in step_grad.chunks_exact_mut(n) {
                            block[row.clone()].fill(0.0);
                        }
                    }
                }
                // dL/dh_{t−1} += Σ_g dL/d(h_{t−1}·U_g)·U_gᵀ.
                match shared {
                    Some(shared) => shared.add::<C>(step_grad, &mut dh),
                    None => add_recurrent_gradient::<C>(
                        weights,
                        dropout,
                        step_grad,
                        &mut dh,
                        &mut self.scratch,
                    ),
                }
            }
            self.add_block_gradients::<C>(
                weights,
                &mut gradients,
                x,
                times.clone(),
                go_backwards,
                dropout,
                shared,
            );
            if let Some(d_input) = d_input.as_deref_mut() {
                // dX = Σ_g dZ_g·W_gᵀ for the block's steps, per sample; with input dropout
                // W_gᵀ·diag(m_g), the mask applied to the transposed kernel's columns.
                for i in 0..rows {
                    let out = &mut d_input[(i * steps + times.start) * features..];
                    for g in 0..C::LAYOUT.gates {
                        let dz = &self.grad_rows[(C::LAYOUT.input_grad + g) * n + i * units..];
                        let steps = times.len();
                        match dropout.input(i, g) {
                            Some(keep) => {
                                let kernel_t = weights.kernel_gate_t(g);
                                scale_columns(kernel_t, keep, &mut self.scratch);
                                let kernel_t = &self.scratch[..units * features];
                                kernels::add_matmul(
                                    steps, units, features, dz, stride, kernel_t, out, features,
                                );
                            }
                            None => {
                                let kernel_t = weights.kernel_t_panels(g);
                                kernels::add_matmul_packed(
                                    steps, dz, stride, kernel_t, out, features,
                                );
                            }
                        }
                    }
                }
            }
            block_end = block_start;
        }
        if let Some((d_h, d_c)) = d_initial {
            // The skipped steps carried the initial states: their gradient passes through.
            d_h[..n].copy_from_slice(&dh);
            d_c[..carry].copy_from_slice(&dc);
        }
        gradients
    }

    /// Adds one block of steps' share of the weight gradients: dW_g += Xᵀ·dZ_g,
    /// dU_g += H_prevᵀ·dZ_g, db += Σ dZ. With dropout the products read X ⊙ m_g and
    /// H_prev ⊙ r_g, each sample through its masks; with `shared`, its helper takes half of
    /// each product.
    #[allow(clippy::too_many_arguments)] // The block, its input, its masks and the helper.
    fn add_block_gradients<C: Cell>(
        &mut self,
        weights: &Packed,
        gradients: &mut ChunkGradients,
        x: &[f32],
        times: Range<usize>,
        go_backwards: bool,
        dropout: ChunkDropout<'_>,
        shared: Option<&SharedSteps<'_>>,
    ) {
        let (rows, units) = (self.rows, self.units);
        let n = rows * units;
        let stride = padded(C::LAYOUT.grad_blocks * n);
        let columns = C::LAYOUT.gates * units;
        // H_prev for input time t is slot t reading forwards, slot t + 1 reading backwards.
        let first_slot = times.start + usize::from(go_backwards);
        let block =
            BlockGradients { x, times: times.clone(), first_slot, features: weights.features };
        if kernels::hand_written(units) {
            self.weight_gradients_per_sample::<C>(&block, gradients, dropout);
        } else {
            self.weight_gradients_gathered::<C>(&block, gradients, dropout, shared);
        }
        let block_rows = &self.grad_rows[..times.len() * stride];
        if let Some((input_bias, recurrent_bias)) =
            (!gradients.bias.is_empty()).then(|| gradients.bias.split_at_mut(columns))
        {
            for step in block_rows.chunks_exact(stride) {
                for g in 0..C::LAYOUT.gates {
                    let into = &mut input_bias[g * units..][..units];
                    let block = &step[(C::LAYOUT.input_grad + g) * n..][..n];
                    for row in block.chunks_exact(units) {
                        into.iter_mut().zip(row).for_each(|(b, d)| *b += d);
                    }
                }
                if C::LAYOUT.recurrent_bias {
                    for (block, &gate) in C::LAYOUT.recurrent_grad.iter().enumerate() {
                        let into = &mut recurrent_bias[gate * units..][..units];
                        for row in step[block * n..][..n].chunks_exact(units) {
                            into.iter_mut().zip(row).for_each(|(b, d)| *b += d);
                        }
                    }
                }
            }
        }
    }

    /// [`Chunk::add_block_gradients`]' products at a width with hand-written products: per
    /// sample and gate, over the block's steps, reading the rows where they are.
    fn weight_gradients_per_sample<C: Cell>(
        &mut self,
        block: &BlockGradients<'_>,
        gradients: &mut ChunkGradients,
        dropout: ChunkDropout<'_>,
    ) {
        let (rows, steps, units, features) = (self.rows, self.steps, self.units, block.features);
        let n = rows * units;
        let stride = padded(C::LAYOUT.grad_blocks * n);
        let (times, block_rows) = (&block.times, &self.grad_rows[..block.times.len() * stride]);
        for i in 0..rows {
            let x = &block.x[(i * steps + times.start) * features..];
            for (g, d_kernel) in gradients.kernel.chunks_exact_mut(features * units).enumerate() {
                let dz = &block_rows[(C::LAYOUT.input_grad + g) * n + i * units..];
                let product = ProductTn { rows: features, inner: times.len(), columns: units };
                let keep = dropout.input(i, g);
                product.add_into(d_kernel, keep, &mut self.scratch, (x, features), (dz, stride));
            }
            let h_prev = &self.states[block.first_slot * padded(n) + i * units..];
            for (b, &gate) in C::LAYOUT.recurrent_grad.iter().enumerate() {
                let d_recurrent = &mut gradients.recurrent[gate * units * units..][..units * units];
                let dz = &block_rows[b * n + i * units..];
                let product = ProductTn { rows: units, inner: times.len(), columns: units };
                let keep = dropout.recurrent(i, gate);
                let h_prev = (h_prev, padded(n));
                product.add_into(d_recurrent, keep, &mut self.scratch, h_prev, (dz, stride));
            }
        }
    }

    /// [`Chunk::add_block_gradients`]' products at other widths: one per gate over all the
    /// block's (step, sample) rows, gathered contiguous first (through the dropout masks), so
    /// that each product passes over its weight gradient once per block rather than once per
    /// sample. A chunk of one sample computes each product in two halves of its rows, which
    /// `shared`'s helper can take: the bits are the same whoever does.
    fn weight_gradients_gathered<C: Cell>(
        &mut self,
        block: &BlockGradients<'_>,
        gradients: &mut ChunkGradients,
        dropout: ChunkDropout<'_>,
        shared: Option<&SharedSteps<'_>>,
    ) {
        let (rows, steps, units, features) = (self.rows, self.steps, self.units, block.features);
        let n = rows * units;
        let stride = padded(C::LAYOUT.grad_blocks * n);
        let (times, count) = (&block.times, block.times.len() * rows);
        let block_rows = &self.grad_rows[..times.len() * stride];
        let (gathered, dz) = (&mut self.gathered, &mut self.gathered_dz);
        // Without a gate's own mask, the rows gathered for the first gate serve every gate.
        let (input_masks, state_masks) = (dropout.input(0, 0).is_some(), dropout.drops_state());
        for (g, d_kernel) in gradients.kernel.chunks_exact_mut(features * units).enumerate() {
            gather_block(block_rows, stride, (C::LAYOUT.input_grad + g) * n, n, dz);
            if g == 0 || input_masks {
                gathered.resize(count * features, 0.0);
                for (s, t) in times.clone().enumerate() {
                    for i in 0..rows {
                        let row = &block.x[(i * steps + t) * features..][..features];
                        let out = &mut gathered[(s * rows + i) * features..][..features];
                        copy_through(row, dropout.input(i, g), out);
                    }
                }
            }
            let product = ProductTn { rows: features, inner: count, columns: units };
            product.add_in_halves(d_kernel, rows == 1, shared, (gathered, features), (dz, units));
        }
        for (b, &gate) in C::LAYOUT.recurrent_grad.iter().enumerate() {
            let d_recurrent = &mut gradients.recurrent[gate * units * units..][..units * units];
            gather_block(block_rows, stride, b * n, n, dz);
            if b == 0 || state_masks {
                gathered.resize(count * units, 0.0);
                for s in 0..times.len() {
                    let states = &self.states[(block.first_slot + s) * padded(n)..][..n];
                    for (i, row) in states.chunks_exact(units).enumerate() {
                        let out = &mut gathered[(s * rows + i) * units..][..units];
                        copy_through(row, dropout.recurrent(i, gate), out);
                    }
                }
            }
            let product = ProductTn { rows: units, inner: count, columns: units };
            product.add_in_halves(d_recurrent, rows == 1, shared, (gathered, units), (dz, units));
        }
    }
}

/// Adds h_{t−1}·U_g into the step blocks of every row (`step`, as [`CellLayout`] lays them
/// out), all rows at once; (h_{t−1} ⊙ r_g)·U_g through the gate's dropped copy of the state
/// (in `scratch`) when the state is dropped.
///
/// [`CellLayout`]: super::cell::CellLayout
pub(super) fn add_recurrent<C: Cell>(
    weights: &Packed,
    dropout: ChunkDropout<'_>,
    h_prev: &[f32],
    step: &mut [f32],
    scratch: &mut [f32],
) {
    let (n, units) = (h_prev.len(), weights.units);
    let rows = n / units;
    for (g, &block) in C::LAYOUT.recurrent_into.iter().enumerate() {
        let into = &mut step[block * n..];
        let recurrent = weights.recurrent_panels(g);
        let h_read = if dropout.drops_state() {
            let dropped = &mut scratch[..n];
            for (i, (out, h)) in
                dropped.chunks_exact_mut(units).zip(h_prev.chunks_exact(units)).enumerate()
            {
                let keep = dropout.recurrent(i, g).unwrap_or_default();
                out.iter_mut().zip(h).zip(keep).for_each(|((o, h), k)| *o = h * k);
            }
            &scratch[..n]
        } else {
            h_prev
        };
        kernels::add_matmul_packed(rows, h_read, units, recurrent, into, units);
    }
}

/// dL/dh_{t−1} += Σ_g dL/d(h_{t−1}·U_g)·U_gᵀ for every row at once (`step_grad` the step's
/// gradient blocks); through the gate's mask r_g, with `scratch` as room, when the state is
/// dropped.
pub(super) fn add_recurrent_gradient<C: Cell>(
    weights: &Packed,
    dropout: ChunkDropout<'_>,
    step_grad: &[f32],
    dh: &mut [f32],
    scratch: &mut [f32],
) {
    let (n, units) = (dh.len(), weights.units);
    let rows = n / units;
    for (block, &gate) in C::LAYOUT.recurrent_grad.iter().enumerate() {
        let dz = &step_grad[block * n..];
        let recurrent_t = weights.recurrent_t_panels(gate);
        if !dropout.drops_state() {
            kernels::add_matmul_packed(rows, dz, units, recurrent_t, dh, units);
            continue;
        }
        let through = &mut scratch[..n];
        through.fill(0.0);
        kernels::add_matmul_packed(rows, dz, units, recurrent_t, through, units);
        for (i, (dh, d)) in dh.chunks_exact_mut(units).zip(through.chunks_exact(units)).enumerate()
        {
            let keep = dropout.recurrent(i, gate).unwrap_or_default();
            dh.iter_mut().zip(d).zip(keep).for_each(|((dh, d), k)| *dh += d * k);
        }
    }
}

/// Scratch values a chunk needs with dropout: a dropped copy of the states, or of a kernel gate
/// block (either way round).
fn scratch_len(rows: usize, units: usize, features: usize) -> usize {
    (rows * units).max(features.max(units) * units)
}

/// Writes `matrix` (rows of `columns` values) into `out` with row `r` scaled by `keep[r]`.
fn scale_rows(matrix: &[f32], columns: usize, keep: &[f32], out: &mut [f32]) {
    for ((out, row), &k) in
        out.chunks_exact_mut(columns).zip(matrix.chunks_exact(columns)).zip(keep)
    {
        out.iter_mut().zip(row).for_each(|(o, &w)| *o = w * k);
    }
}

/// Writes `matrix` (rows of `keep.len()` values) into `out` with column `c` scaled by `keep[c]`.
fn scale_columns(matrix: &[f32], keep: &[f32], out: &mut [f32]) {
    for (out, row) in out.chunks_exact_mut(keep.len()).zip(matrix.chunks_exact(keep.len())) {
        out.iter_mut().zip(row).zip(keep).for_each(|((o, &w), &k)| *o = w * k);
    }
}

/// Writes into `out` (resized) block `offset..offset + n` of every step of `rows` (steps
/// `stride` apart): one block's rows of a block of steps, contiguous.
fn gather_block(rows: &[f32], stride: usize, offset: usize, n: usize, out: &mut Vec<f32>) {
    out.resize(rows.len() / stride * n, 0.0);
    for (out, step) in out.chunks_exact_mut(n.max(1)).zip(rows.chunks_exact(stride)) {
        out.copy_from_slice(&step[offset..][..n]);
    }
}

/// Writes `row` into `out`, through the dropout mask `keep` when there is one.
fn copy_through(row: &[f32], keep: Option<&[f32]>, out: &mut [f32]) {
    match keep {
        Some(keep) => out.iter_mut().zip(row).zip(keep).for_each(|((o, &v), &k)| *o = v * k),
        None => out.copy_from_slice(row),
    }
}

/// What the weight gradients of a block of steps read beside the chunk's buffers: the chunk's
/// input `(rows, steps, features)`, the block's input times, and the state slot of H_prev at
/// its first time.
struct BlockGradients<'a> {
    x: &'a [f32],
    times: Range<usize>,
    first_slot: usize,
    features: usize,
}

/// The product C += Aᵀ·B of a weight gradient, `(rows, inner)ᵀ × (inner, columns)`.
struct ProductTn {
    rows: usize,
    inner: usize,
    columns: usize,
}

impl ProductTn {
    /// Adds Aᵀ·B into `into`, or diag(keep)·Aᵀ·B (through `scratch`) when a dropout mask
    /// `keep` scaled A's columns. `a` and `b` come with their row strides.
    fn add_into(
        &self,
        into: &mut [f32],
        keep: Option<&[f32]>,
        scratch: &mut [f32],
        (a, lda): (&[f32], usize),
        (b, ldb): (&[f32], usize),
    ) {
        let (m, k, n) = (self.rows, self.inner, self.columns);
        let Some(keep) = keep else {
            kernels::add_matmul_tn(m, k, n, a, lda, b, ldb, into);
            return;
        };
        let product = &mut scratch[..m * n];
        product.fill(0.0);
        kernels::add_matmul_tn(m, k, n, a, lda, b, ldb, product);
        for ((into, row), &k) in into.chunks_exact_mut(n).zip(product.chunks_exact(n)).zip(keep) {
            into.iter_mut().zip(row).for_each(|(i, &p)| *i += p * k);
        }
    }

    /// Adds Aᵀ·B into `into`, whole or in two `halves` of its rows (A's columns), the second on
    /// `shared`'s helper when there is one.
    fn add_in_halves(
        &self,
        into: &mut [f32],
        halves: bool,
        shared: Option<&SharedSteps<'_>>,
        (a, lda): (&[f32], usize),
        (b, ldb): (&[f32], usize),
    ) {
        let (m, k, n) = (self.rows, self.inner, self.columns);
        if !halves {
            kernels::add_matmul_tn(m, k, n, a, lda, b, ldb, into);
            return;
        }
        let middle = m / 2;
        let (top, bottom) = into[..m * n].split_at_mut(middle * n);
        let mut first = || kernels::add_matmul_tn(middle, k, n, a, lda, b, ldb, top);
        let mut second =
            || kernels::add_matmul_tn(m - middle, k, n, &a[middle..], lda, b, ldb, bottom);
        match shared {
            Some(shared) => shared.join(first, second),
            None => {
                first();
                second();
            }
        }
    }
}
