//! Lesson 9's self-attention model on the dates task: `MultiHeadAttention` and
//! `LayerNormalization` blocks over embedded characters and positions, trained with teacher
//! forcing and translating greedily (the model is described in `examples/self_attention.rs`).

use crate::seq2seq::argmax;
use crate::task::{Decoded, Translation};
use ndarray::{Array2, Array3, ArrayD, ArrayView2, Axis};
use rnnkit::datasets::dates::{self, Encoded, HUMAN_LENGTH, ISO_LENGTH, START};
use rnnkit::model::{clear_session, set_random_seed};
use rnnkit::prelude::*;
use rnnkit::Result;

/// The size of the self-attention model.
#[derive(Clone, Copy, Debug)]
pub struct SelfAttentionConfig {
    /// Features of each step.
    pub dim: usize,
    /// Attention heads, each of `dim / heads` features.
    pub heads: usize,
    /// Seed of the initial weights.
    pub seed: u64,
}

/// Lesson 9's model on the dates task.
pub struct SelfAttentionTranslator {
    /// `[source ids, source positions, target ids, target positions] → probabilities`.
    pub model: Functional,
}

impl SelfAttentionTranslator {
    /// Builds the model of `examples/self_attention.rs`' documentation.
    ///
    /// # Errors
    /// [`rnnkit::Error::InvalidArgument`] for a `dim` that is odd or not a multiple of
    /// `heads`; the functional API's errors.
    pub fn new(config: SelfAttentionConfig) -> Result<SelfAttentionTranslator> {
        let SelfAttentionConfig { dim, heads, seed } = config;
        if dim % 2 != 0 || heads == 0 || dim % heads != 0 {
            return Err(rnnkit::Error::invalid(
                "dim",
                format!("an even multiple of the {heads} heads"),
                dim,
            ));
        }
        // Layer names from `lstm`, `dense`, ... again, and the weights from the seed.
        clear_session();
        set_random_seed(seed);
        let embed = |ids: &SymbolicTensor, positions: &SymbolicTensor, chars, steps| {
            let chars = Embedding::new(chars, dim / 2).call(ids)?;
            let places = Embedding::new(steps, dim / 2).call(positions)?;
            Ok::<_, rnnkit::Error>(Concatenate::new().call_multi(&[&chars, &places])?.remove(0))
        };
        let block = |x: &SymbolicTensor, memory: &SymbolicTensor, causal| {
            let attention = MultiHeadAttention::new(heads, dim / heads).use_causal_mask(causal);
            let attended = attention.call_multi(&[x, memory])?.remove(0);
            let joined = Concatenate::new().call_multi(&[x, &attended])?.remove(0);
            let mixed = Dense::new(dim).activation(Activation::Relu).call(&joined)?;
            LayerNormalization::new().call(&mixed)
        };
        let source = Input::named(&[HUMAN_LENGTH], "source_ids");
        let source_positions = Input::named(&[HUMAN_LENGTH], "source_positions");
        let target = Input::named(&[ISO_LENGTH], "target_ids");
        let target_positions = Input::named(&[ISO_LENGTH], "target_positions");
        let human_chars = dates::human_vocabulary().size();
        let iso_chars = dates::iso_vocabulary().size();
        let source_steps = embed(&source, &source_positions, human_chars, HUMAN_LENGTH)?;
        let target_steps = embed(&target, &target_positions, iso_chars, ISO_LENGTH)?;
        let encoded = block(&source_steps, &source_steps, false)?;
        let decoded = block(&target_steps, &target_steps, true)?;
        let decoded = block(&decoded, &encoded, false)?;
        let probabilities = Dense::new(iso_chars).activation(Activation::Softmax).call(&decoded)?;
        let model = Functional::new(
            &[&source, &source_positions, &target, &target_positions],
            &[&probabilities],
        )?
        .name("self_attention");
        Ok(SelfAttentionTranslator { model })
    }
}

/// Positions 0, 1, ..., `steps − 1` for each of `samples` rows.
fn positions(samples: usize, steps: usize) -> ArrayD<f32> {
    Array2::from_shape_fn((samples, steps), |(_, step)| step as f32).into_dyn()
}

impl Translation for SelfAttentionTranslator {
    fn model(&mut self) -> &mut Functional {
        &mut self.model
    }

    fn inputs(&self, arrays: &Encoded) -> Vec<ArrayD<f32>> {
        let samples = arrays.encoder_input.nrows();
        vec![
            arrays.encoder_input.clone().into_dyn(),
            positions(samples, HUMAN_LENGTH),
            arrays.decoder_input.clone().into_dyn(),
            positions(samples, ISO_LENGTH),
        ]
    }

    fn translate(&mut self, encoder_input: ArrayView2<'_, f32>) -> Result<Decoded> {
        let samples = encoder_input.nrows();
        let start = dates::iso_vocabulary().id(START).unwrap_or_default() as f32;
        // The decoder's input: START, then each chosen character; the steps not chosen yet are
        // padding, which the causal mask keeps from the steps before them.
        let mut target = Array2::<f32>::zeros((samples, ISO_LENGTH));
        target.column_mut(0).fill(start);
        let (source_positions, target_positions) =
            (positions(samples, HUMAN_LENGTH), positions(samples, ISO_LENGTH));
        let mut ids = Array2::<u32>::zeros((samples, ISO_LENGTH));
        let mut last = None;
        for step in 0..ISO_LENGTH {
            let inputs = [
                encoder_input.into_dyn(),
                source_positions.view(),
                target.view().into_dyn(),
                target_positions.view(),
            ];
            let mut outputs = self.model.predict_batched(&inputs, 256)?;
            // (samples, ISO_LENGTH, iso chars)
            let all = outputs.pop().ok_or(rnnkit::Error::EmptyInput("outputs"))?;
            for (sample, row) in all.index_axis(Axis(1), step).outer_iter().enumerate() {
                let best = argmax(row.iter().copied());
                ids[[sample, step]] = best as u32;
                if step + 1 < ISO_LENGTH {
                    target[[sample, step + 1]] = best as f32;
                }
            }
            last = Some(all);
        }
        // The last pass saw every chosen character: its probabilities are the greedy decoding's
        // at every step.
        let probabilities: Array3<f32> = last
            .ok_or(rnnkit::Error::EmptyInput("outputs"))?
            .into_dimensionality()
            .map_err(|e| rnnkit::Error::invalid("outputs", "(samples, 10, iso chars)", e))?;
        Ok(Decoded { ids, probabilities, attention: None })
    }
}
