//! Dropout inside a recurrent layer, as Keras' `DropoutRNNCell`: `dropout` on the input x_t,
//! `recurrent_dropout` on the state h_{t−1} the recurrent kernel reads.
//!
//! Each sample of a batch draws its masks once and keeps them for every step (Gal & Ghahramani's
//! variational dropout, Keras' behaviour). A mask value is 0 (dropped) or 1/(1 − rate) (kept,
//! inverted dropout). As Keras 3: with `recurrent_dropout > 0` every gate has its own input and
//! recurrent masks (the cells' `implementation = 1`); with only `dropout`, one input mask serves
//! all gates. The carried state itself is never dropped: LSTM's c and GRU's z ⊙ h_{t−1} read the
//! true state.

use crate::layers::{Generator, GeneratorState};
use crate::{Error, Result};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use std::ops::Range;

/// The dropout settings of a recurrent layer and the generator its masks come from.
#[derive(Clone, Debug, Default)]
pub(crate) struct DropoutConfig {
    /// Fraction of the input features dropped (Keras' `dropout`).
    pub(crate) input: f32,
    /// Fraction of the state values dropped before the recurrent kernel (`recurrent_dropout`).
    pub(crate) recurrent: f32,
    /// The generator's seed; drawn from the model's generator when `None`.
    pub(crate) seed: Option<u64>,
    rng: Option<Generator>,
}

impl DropoutConfig {
    /// Whether training draws any mask.
    pub(crate) fn is_active(&self) -> bool {
        self.input > 0.0 || self.recurrent > 0.0
    }

    /// Checks that both rates are in `[0, 1)`.
    pub(crate) fn check(&self) -> Result<()> {
        for (name, rate) in [("dropout", self.input), ("recurrent_dropout", self.recurrent)] {
            if !(0.0..1.0).contains(&rate) {
                return Err(Error::invalid(name, "a number in [0, 1)", rate));
            }
        }
        Ok(())
    }

    /// Seeds the generator of the masks. Draws from the model's generator only when a rate is
    /// set, so that a layer without dropout leaves the other layers' weights as they were.
    pub(crate) fn seed_from(&mut self, rng: &mut StdRng) {
        self.rng = None;
        if self.is_active() {
            let drawn = rng.gen::<u64>();
            self.rng = Some(Generator::seed_from_u64(self.seed.unwrap_or(drawn)));
        }
    }

    /// Where the masks' generator stands: none without dropout.
    pub(crate) fn generator_states(&self) -> Vec<GeneratorState> {
        self.rng.iter().map(GeneratorState::of).collect()
    }

    /// Puts the generator at `state` (`None` for a layer without dropout).
    pub(crate) fn set_generator(&mut self, state: Option<&GeneratorState>) {
        self.rng = state.map(GeneratorState::generator);
    }

    /// Whether the layer has a generator.
    pub(crate) fn has_generator(&self) -> bool {
        self.rng.is_some()
    }

    /// Draws a training batch's masks into `masks`, reusing its buffers; clears them when the
    /// layer has no dropout.
    pub(crate) fn draw(
        &mut self,
        masks: &mut DropoutMasks,
        batch: usize,
        features: usize,
        units: usize,
        gates: usize,
    ) {
        masks.clear();
        let Some(rng) = self.rng.as_mut() else { return };
        masks.features = features;
        masks.units = units;
        masks.gates = gates;
        // One input mask for all gates unless the state is dropped too (Keras 3's
        // `implementation = 1` when `recurrent_dropout > 0`).
        masks.input_masks = if self.recurrent > 0.0 { gates } else { 1 };
        if self.input > 0.0 {
            fill(&mut masks.input, batch * masks.input_masks * features, self.input, rng);
        }
        if self.recurrent > 0.0 {
            fill(&mut masks.recurrent, batch * gates * units, self.recurrent, rng);
        }
    }
}

/// Fills `values` with `len` mask values: 1/(1 − rate) with probability 1 − rate, else 0.
/// Drawn in order from one generator, so the masks do not depend on the thread count.
fn fill(values: &mut Vec<f32>, len: usize, rate: f32, rng: &mut Generator) {
    let threshold = (f64::from(rate) * 4_294_967_296.0) as u64;
    let kept = 1.0 / (1.0 - rate);
    values.clear();
    values
        .extend((0..len).map(|_| if u64::from(rng.next_u32()) >= threshold { kept } else { 0.0 }));
}

/// The masks of one training batch: `input (batch, input_masks, features)` and
/// `recurrent (batch, gates, units)`, each empty when its rate is 0.
#[derive(Clone, Debug, Default)]
pub(crate) struct DropoutMasks {
    input: Vec<f32>,
    recurrent: Vec<f32>,
    input_masks: usize,
    features: usize,
    units: usize,
    gates: usize,
}

impl DropoutMasks {
    fn clear(&mut self) {
        self.input.clear();
        self.recurrent.clear();
    }

    /// The masks of the samples `rows`.
    pub(super) fn rows(&self, rows: Range<usize>) -> ChunkDropout<'_> {
        ChunkDropout {
            input: sample_rows(&self.input, self.input_masks * self.features, &rows),
            recurrent: sample_rows(&self.recurrent, self.gates * self.units, &rows),
            input_masks: self.input_masks,
            features: self.features,
            units: self.units,
            gates: self.gates,
        }
    }
}

/// The values of samples `rows` in `values`, `per_sample` values a sample (none if empty).
fn sample_rows<'a>(values: &'a [f32], per_sample: usize, rows: &Range<usize>) -> &'a [f32] {
    if values.is_empty() {
        values
    } else {
        &values[rows.start * per_sample..rows.end * per_sample]
    }
}

/// The masks of a chunk's samples, as the loops of `steps.rs` read them.
#[derive(Clone, Copy, Debug)]
pub(super) struct ChunkDropout<'a> {
    input: &'a [f32],
    recurrent: &'a [f32],
    input_masks: usize,
    features: usize,
    units: usize,
    gates: usize,
}

impl<'a> ChunkDropout<'a> {
    /// No dropout: inference, or a layer without it.
    pub(super) const NONE: ChunkDropout<'static> = ChunkDropout {
        input: &[],
        recurrent: &[],
        input_masks: 1,
        features: 0,
        units: 0,
        gates: 1,
    };

    /// The input mask (`features` values) of sample `row` for the kernel's gate `gate`.
    pub(super) fn input(&self, row: usize, gate: usize) -> Option<&'a [f32]> {
        if self.input.is_empty() {
            return None;
        }
        let index = row * self.input_masks + gate % self.input_masks;
        Some(&self.input[index * self.features..][..self.features])
    }

    /// Whether the input is dropped before the kernel.
    pub(super) fn drops_input(&self) -> bool {
        !self.input.is_empty()
    }

    /// Whether the state is dropped before the recurrent kernel.
    pub(super) fn drops_state(&self) -> bool {
        !self.recurrent.is_empty()
    }

    /// The recurrent mask (`units` values) of sample `row` for the recurrent kernel's gate
    /// `gate`.
    pub(super) fn recurrent(&self, row: usize, gate: usize) -> Option<&'a [f32]> {
        if self.recurrent.is_empty() {
            return None;
        }
        Some(&self.recurrent[(row * self.gates + gate) * self.units..][..self.units])
    }
}
