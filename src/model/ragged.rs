//! `fit_ragged` and `evaluate_ragged`: training and measuring on [`RaggedSequences`], each
//! batch padded to its own longest sequence.

use super::config::FitConfig;
use super::evaluate::Totals;
use super::history::{History, Scores};
use super::progress::Progress;
use super::sequential::Sequential;
use crate::data::RaggedSequences;
use crate::{Error, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

impl Sequential {
    /// Trains on sequences of different lengths, as Keras' `fit` on a `tf.data` dataset of
    /// padded (and bucketed) batches: each epoch takes its batches from
    /// [`RaggedSequences::epoch`], each padded to its own longest sequence, so no batch runs
    /// the padding of the longest sequence of the whole set. The model must take sequences of
    /// any length (an `Embedding` without `input_length`).
    ///
    /// From `config` it reads `epochs`, `seed` (of the batches' shuffling; `None` draws it from
    /// the model's generator) and `verbose`; the batch size, the shuffling and the bucketing are
    /// the data's. Validation runs on `validation` after each epoch, as
    /// [`Sequential::evaluate_ragged`].
    ///
    /// # Errors
    /// [`Error::NotCompiled`] before `compile`; [`Error::InvalidArgument`] for a
    /// `validation_split` or `validation_data` in `config` (pass the validation sequences as
    /// `validation`) and for bad batching settings; [`Error::ShapeMismatch`] when the model
    /// takes a fixed length or the labels do not fit its output; [`Error::NonFiniteLoss`] when
    /// the loss becomes NaN or infinite; the layers' errors (ids out of range).
    ///
    /// # Examples
    /// ```
    /// use rnnkit::data::RaggedSequences;
    /// use rnnkit::prelude::*;
    /// # fn main() -> rnnkit::Result<()> {
    /// let reviews = vec![vec![4, 8, 2], vec![7], vec![3, 3, 9, 1, 5], vec![6, 2]];
    /// let labels = ndarray::array![1.0, 0.0, 1.0, 0.0].into_dyn();
    /// let data = RaggedSequences::new(reviews, labels)?.batch_size(2).bucket_boundaries(vec![3]);
    /// let mut model = Sequential::new();
    /// model.add(Embedding::new(10, 4).mask_zero(true));
    /// model.add(SimpleRnn::new(4));
    /// model.add(Dense::new(1).activation(Activation::Sigmoid));
    /// model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    /// let config = FitConfig { epochs: 2, verbose: 0, ..FitConfig::default() };
    /// let history = model.fit_ragged(&data, Some(&data), &config)?;
    /// assert_eq!(history.metric("val_accuracy").map(<[f32]>::len), Some(2));
    /// # Ok(())
    /// # }
    /// ```
    pub fn fit_ragged(
        &mut self,
        data: &RaggedSequences,
        validation: Option<&RaggedSequences>,
        config: &FitConfig,
    ) -> Result<History> {
        self.check_compiled("fit")?;
        if config.validation_split != 0.0 || config.validation_data.is_some() {
            return Err(Error::invalid(
                "validation_split / validation_data",
                "none with RaggedSequences: pass the validation sequences to fit_ragged",
                format!("validation_split {}", config.validation_split),
            ));
        }
        let seed = config.seed.unwrap_or_else(|| self.rng.gen());
        let mut rng = StdRng::seed_from_u64(seed);
        let metrics = self.compiled_metrics();
        let mut history = History::default();
        for epoch in 1..=config.epochs {
            let progress = Progress::start_epoch(config.verbose, epoch, config.epochs, data.len());
            let mut totals = Totals::new(&metrics);
            for (batch, indices) in data.epoch(&mut rng)?.iter().enumerate() {
                let padded = data.batch(indices)?;
                let x = padded.x.into_dyn();
                self.prepare_input(&x.view())?;
                let y = self.conform(x.shape(), padded.y.view())?;
                let (loss, output, mask) = self.train_step(x.view(), y.view())?;
                totals.add(loss, output.view(), y.view(), mask.as_ref())?;
                progress.batch_done(totals.samples, &totals.scores());
                if !loss.is_finite() {
                    return Err(Error::NonFiniteLoss { epoch, batch: batch + 1, loss });
                }
            }
            let train_scores = totals.scores();
            let val_scores = validation.map(|v| self.evaluate_ragged(v)).transpose()?;
            history.push("", &train_scores);
            if let Some(val) = &val_scores {
                history.push("val_", val);
            }
            progress.finish(&train_scores, val_scores.as_ref());
        }
        Ok(history)
    }

    /// Loss and metrics on sequences of different lengths, as [`Sequential::evaluate`] on the
    /// batches of [`RaggedSequences::epoch`] taken in order (unshuffled, bucketed if the data
    /// is), each padded to its own longest sequence.
    ///
    /// # Errors
    /// As [`Sequential::fit_ragged`].
    pub fn evaluate_ragged(&mut self, data: &RaggedSequences) -> Result<Scores> {
        self.check_compiled("evaluate")?;
        let loss = self.loss()?;
        let mut totals = Totals::new(&self.compiled_metrics());
        let batches = data.epoch_in_order()?;
        let ids = batches.iter().flatten().map(|&i| data.length(i)).sum::<usize>();
        let mut folded = None;
        for indices in &batches {
            let padded = data.batch(indices)?;
            let x = padded.x.into_dyn();
            self.prepare_input(&x.view())?;
            if folded.is_none() {
                folded = Some(self.fold_start(&[ids])?);
            }
            let y = self.conform(x.shape(), padded.y.view())?;
            let (output, mask) =
                self.forward(x.view(), false, folded.as_ref().and_then(Option::as_ref))?;
            let (value, _) =
                loss.value_and_grad(output.view(), self.output_logits(), y.view(), mask.as_ref());
            totals.add(value, output.view(), y.view(), mask.as_ref())?;
        }
        Ok(totals.scores())
    }
}
