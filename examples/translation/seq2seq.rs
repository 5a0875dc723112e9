//! The lessons' encoder–decoder LSTM, with and without attention: the model trained with
//! teacher forcing, and the inference models that share its layers to translate one character
//! at a time.

use ndarray::{s, Array2, Array3, ArrayD, ArrayView2, Axis};
use rnnkit::datasets::dates::{self, Encoded, HUMAN_LENGTH, ISO_LENGTH, START};
use rnnkit::layers::NONE;
use rnnkit::model::{clear_session, set_random_seed};
use rnnkit::prelude::*;
use rnnkit::Result;

use crate::task::{Decoded, Translation};

/// The size of the model.
#[derive(Clone, Copy, Debug)]
pub struct Seq2SeqConfig {
    /// Features of each character's embedding, on both sides.
    pub embedding: usize,
    /// Units of the encoder's and of the decoder's LSTM.
    pub units: usize,
    /// Whether the decoder attends to the encoder's outputs (Luong's dot-product attention).
    pub attention: bool,
    /// Seed of the initial weights.
    pub seed: u64,
}

impl Default for Seq2SeqConfig {
    fn default() -> Self {
        Seq2SeqConfig { embedding: 32, units: 64, attention: false, seed: 1 }
    }
}

/// The trained model and the two inference models built from its layers.
pub struct Translator {
    /// `[human ids, decoder input ids] → probabilities (batch, 10, iso chars)`: teacher forcing.
    pub model: Functional,
    /// `human ids → [encoder outputs (with attention), h, c]`.
    pub encoder: Functional,
    /// `[previous char, (encoder outputs), h, c] → [probabilities, h, c, (attention weights)]`.
    pub decoder: Functional,
    attention: bool,
}

impl Translator {
    /// Builds the training model (Keras' tutorial, with embeddings instead of one-hot
    /// characters):
    ///
    /// ```python
    /// encoder_inputs = Input(shape=(30,))
    /// x = Embedding(human_chars, 32)(encoder_inputs)
    /// encoder_outputs, h, c = LSTM(64, return_sequences=attention, return_state=True)(x)
    /// decoder_inputs = Input(shape=(None,))
    /// y = Embedding(iso_chars, 32)(decoder_inputs)
    /// decoder_outputs, _, _ = LSTM(64, return_sequences=True, return_state=True)(
    ///     y, initial_state=[h, c])
    /// if attention:
    ///     context = Attention()([decoder_outputs, encoder_outputs])
    ///     decoder_outputs = Concatenate()([decoder_outputs, context])
    /// outputs = Dense(iso_chars, activation="softmax")(decoder_outputs)
    /// model = Model([encoder_inputs, decoder_inputs], outputs)
    /// ```
    ///
    /// and the inference models on the same layer objects (`SharedLayer`), so that they use the
    /// trained weights.
    ///
    /// # Errors
    /// The functional API's errors (none for these shapes).
    pub fn new(config: Seq2SeqConfig) -> Result<Translator> {
        // Layer names from `lstm`, `dense`, ... again, and the weights from the seed.
        clear_session();
        set_random_seed(config.seed);
        let human_chars = dates::human_vocabulary().size();
        let iso_chars = dates::iso_vocabulary().size();
        let Seq2SeqConfig { embedding, units, attention, .. } = config;

        let encoder_inputs = Input::named(&[HUMAN_LENGTH], "encoder_inputs");
        let embedded = Embedding::new(human_chars, embedding).call(&encoder_inputs)?;
        let encoder_lstm = Lstm::new(units).return_sequences(attention).return_state(true);
        let [encoder_outputs, h, c]: [SymbolicTensor; 3] =
            encoder_lstm.call_multi(&[&embedded])?.try_into().map_err(|_| outputs("encoder"))?;

        let decoder_embedding = SharedLayer::new(Embedding::new(iso_chars, embedding));
        let decoder_lstm =
            SharedLayer::new(Lstm::new(units).return_sequences(true).return_state(true));
        let head = SharedLayer::new(Dense::new(iso_chars).activation(Activation::Softmax));
        let attention_layer = SharedLayer::new(Attention::new().return_attention_scores(true));
        let concatenate = SharedLayer::new(Concatenate::new());
        // The decoder, called on the teacher's characters and on the previous prediction.
        let decode =
            |inputs: &SymbolicTensor, memory: &SymbolicTensor, states: [&SymbolicTensor; 2]| {
                let y = (&decoder_embedding).call(inputs)?;
                let [sequence, h, c]: [SymbolicTensor; 3] = (&decoder_lstm)
                    .call_multi(&[&y, states[0], states[1]])?
                    .try_into()
                    .map_err(|_| outputs("decoder"))?;
                let (features, weights) = if attention {
                    let [context, weights]: [SymbolicTensor; 2] = (&attention_layer)
                        .call_multi(&[&sequence, memory])?
                        .try_into()
                        .map_err(|_| outputs("attention"))?;
                    ((&concatenate).call_multi(&[&sequence, &context])?.remove(0), Some(weights))
                } else {
                    (sequence, None)
                };
                Ok::<_, rnnkit::Error>(((&head).call(&features)?, h, c, weights))
            };

        let decoder_inputs = Input::named(&[NONE], "decoder_inputs");
        let (probabilities, ..) = decode(&decoder_inputs, &encoder_outputs, [&h, &c])?;
        let name = if attention { "seq2seq_attention" } else { "seq2seq" };
        let model =
            Functional::new(&[&encoder_inputs, &decoder_inputs], &[&probabilities])?.name(name);

        let encoder_results: Vec<&SymbolicTensor> =
            if attention { vec![&encoder_outputs, &h, &c] } else { vec![&h, &c] };
        let encoder = Functional::new(&[&encoder_inputs], &encoder_results)?.name("encoder");

        let previous = Input::named(&[1], "previous_char");
        let memory = Input::named(&[HUMAN_LENGTH, units], "encoder_outputs");
        let h_in = Input::named(&[units], "state_h");
        let c_in = Input::named(&[units], "state_c");
        let (step, h_out, c_out, weights) = decode(&previous, &memory, [&h_in, &c_in])?;
        let decoder = match &weights {
            Some(weights) => Functional::new(
                &[&previous, &memory, &h_in, &c_in],
                &[&step, &h_out, &c_out, weights],
            )?,
            None => Functional::new(&[&previous, &h_in, &c_in], &[&step, &h_out, &c_out])?,
        }
        .name("decoder");
        Ok(Translator { model, encoder, decoder, attention })
    }

    /// Runs the inference models step by step as [`Translation::translate`] does, but feeds the
    /// decoder the characters of `decoder_input` (`(samples, ISO_LENGTH)`, [`START`] first)
    /// instead of its own predictions: the probabilities then equal the training model's.
    ///
    /// # Errors
    /// The models' errors.
    pub fn teacher_forced(
        &mut self,
        encoder_input: ArrayView2<'_, f32>,
        decoder_input: ArrayView2<'_, f32>,
    ) -> Result<Decoded> {
        self.run(encoder_input, Some(decoder_input))
    }

    fn run(
        &mut self,
        encoder_input: ArrayView2<'_, f32>,
        teacher: Option<ArrayView2<'_, f32>>,
    ) -> Result<Decoded> {
        const BATCH: usize = 256;
        let samples = encoder_input.nrows();
        let encoded = self.encoder.predict_batched(&[encoder_input.into_dyn()], BATCH)?;
        let (memory, mut h, mut c) = match encoded.as_slice() {
            [memory, h, c] if self.attention => (Some(memory.clone()), h.clone(), c.clone()),
            [h, c] => (None, h.clone(), c.clone()),
            _ => return Err(outputs("encoder")),
        };
        let start = dates::iso_vocabulary().id(START).unwrap_or_default() as f32;
        let mut previous = Array2::from_elem((samples, 1), start);
        let mut ids = Array2::<u32>::zeros((samples, ISO_LENGTH));
        let mut probabilities = None;
        let mut attention =
            self.attention.then(|| Array3::<f32>::zeros((samples, ISO_LENGTH, HUMAN_LENGTH)));
        for step in 0..ISO_LENGTH {
            if let Some(teacher) = teacher {
                previous.column_mut(0).assign(&teacher.column(step));
            }
            let mut inputs = vec![previous.view().into_dyn()];
            inputs.extend(memory.as_ref().map(|m| m.view()));
            inputs.extend([h.view(), c.view()]);
            let mut results = self.decoder.predict_batched(&inputs, BATCH)?.into_iter();
            let (Some(step_probabilities), Some(next_h), Some(next_c)) =
                (results.next(), results.next(), results.next())
            else {
                return Err(outputs("decoder"));
            };
            // (samples, 1, iso chars) → (samples, iso chars)
            let step_probabilities = step_probabilities.index_axis_move(Axis(1), 0);
            let all = probabilities.get_or_insert_with(|| {
                Array3::<f32>::zeros((samples, ISO_LENGTH, step_probabilities.shape()[1]))
            });
            all.slice_mut(s![.., step, ..]).assign(&step_probabilities);
            for (sample, row) in step_probabilities.outer_iter().enumerate() {
                let best = argmax(row.iter().copied());
                ids[[sample, step]] = best as u32;
                previous[[sample, 0]] = best as f32;
            }
            if let (Some(attention), Some(weights)) = (attention.as_mut(), results.next()) {
                // (samples, 1, HUMAN_LENGTH)
                attention.slice_mut(s![.., step, ..]).assign(&weights.index_axis(Axis(1), 0));
            }
            (h, c) = (next_h, next_c);
        }
        let probabilities = probabilities.unwrap_or_else(|| Array3::zeros((samples, 0, 0)));
        Ok(Decoded { ids, probabilities, attention })
    }
}

impl Translation for Translator {
    fn model(&mut self) -> &mut Functional {
        &mut self.model
    }

    fn inputs(&self, arrays: &Encoded) -> Vec<ArrayD<f32>> {
        vec![arrays.encoder_input.clone().into_dyn(), arrays.decoder_input.clone().into_dyn()]
    }

    fn translate(&mut self, encoder_input: ArrayView2<'_, f32>) -> Result<Decoded> {
        self.run(encoder_input, None)
    }
}

/// The index of the largest value (the first of equals).
pub fn argmax(values: impl Iterator<Item = f32>) -> usize {
    values
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, v)| if v > best.1 { (i, v) } else { best })
        .0
}

/// The error of a layer or model that gave another number of outputs than built.
fn outputs(what: &str) -> rnnkit::Error {
    rnnkit::Error::invalid(what, "the outputs it was built with", "another number")
}
