//! `fit_ragged` and `evaluate_ragged`: the training loops on [`RaggedSequences`], each batch
//! padded to its own longest sequence.

use super::config::FitConfig;
use super::history::{History, Scores};
use super::sequential::Sequential;
use crate::data::RaggedSequences;
use crate::training::{self, DataSource};
use crate::{Error, Result};
use rand::Rng;

impl Sequential {
    /// Trains on sequences of different lengths, as Keras' `fit` on a `tf.data` dataset of
    /// padded (and bucketed) batches: each epoch takes its batches from
    /// [`RaggedSequences::epoch`], each padded to its own longest sequence, so that no batch
    /// runs the padding of the longest sequence of the whole set. The model must take
    /// sequences of any length (an `Embedding` without `input_length`).
    ///
    /// From `config` it reads `epochs`, `seed` (of the batches' shuffling; `None` draws it from
    /// the model's generator, as `fit`) and `verbose`; the batch size, the shuffling and the
    /// bucketing are the data's. After each epoch the model is evaluated on `validation`, as
    /// [`Sequential::evaluate_ragged`]. With callbacks: `rnnkit::training::fit` on
    /// [`RaggedSequences::source`].
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
        // Built (from a first batch) before the seed is drawn, as `fit` does.
        let first = data.batch(&[0])?.x.into_dyn();
        self.prepare_input(&first.view())?;
        let seed = config.seed.unwrap_or_else(|| self.rng.gen());
        let mut train = data.source(seed)?;
        let mut validation = validation.map(|v| v.source(0).map(|s| s.in_order())).transpose()?;
        let validation = validation.as_mut().map(|v| v as &mut dyn DataSource);
        training::fit(self, &mut train, validation, config, &mut [])
    }

    /// Loss and metrics on sequences of different lengths, as [`Sequential::evaluate`] on the
    /// batches of [`RaggedSequences::epoch`] in order (unshuffled; bucketed if the data is),
    /// each padded to its own longest sequence.
    ///
    /// # Errors
    /// As [`Sequential::fit_ragged`].
    pub fn evaluate_ragged(&mut self, data: &RaggedSequences) -> Result<Scores> {
        self.check_compiled("evaluate")?;
        training::evaluate(self, &mut data.source(0)?.in_order())
    }
}
