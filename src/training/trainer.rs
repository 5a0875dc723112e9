//! The loops every model shares (Keras' `trainers/trainer.py`): `fit`'s epochs, `evaluate`,
//! `predict` and `train_on_batch`, driving a [`Model`] over a [`DataSource`].

use super::callback_list::{epoch_logs, log_keys};
use super::progress::Progress;
use super::{Batch, CallbackList, DataSource, Model};
use crate::callbacks::Callback;
use crate::model::{FitConfig, History, Scores};
use crate::{Error, Result};
use ndarray::{concatenate, ArrayD, ArrayViewD, Axis};

/// Trains `model` for `config.epochs` passes over `train`, as Keras' `fit`, and returns the
/// per-epoch [`History`]. After each epoch the model is evaluated on `validation`, if given.
///
/// Only `epochs` and `verbose` are read from `config`: the source already decides the batches,
/// their order and the split (`Sequential::fit` builds its sources from the other fields).
///
/// Order, as Keras: every callback's `on_train_begin`; per epoch, `on_epoch_begin`, then
/// `on_batch_end` after each batch, validation, and `on_epoch_end` with the epoch's logs (which
/// callbacks may extend: the history records them as the last callback left them); finally
/// `on_train_end`. A stop asked after a batch ends the epoch there (its values are still
/// validated and recorded); a stop after an epoch ends training.
///
/// # Errors
/// The model's step errors; [`Error::NonFiniteLoss`] when a batch's loss is NaN or infinite
/// (unless a callback stopped training at that batch); any error a callback returns.
pub fn fit(
    model: &mut dyn Model,
    train: &mut dyn DataSource,
    mut validation: Option<&mut dyn DataSource>,
    config: &FitConfig,
    callbacks: &mut [&mut dyn Callback],
) -> Result<History> {
    let mut callbacks = CallbackList::new(callbacks);
    model.reset_metrics();
    let keys = log_keys(&model.metrics_result(), validation.is_some());
    callbacks.train_begin(&keys, model)?;
    let mut history = History::default();
    for epoch in 1..=config.epochs {
        callbacks.epoch_begin(epoch, model)?;
        let progress = Progress::start_epoch(config.verbose, epoch, config.epochs, train.samples());
        train_epoch(model, train, epoch, &progress, &mut callbacks)?;
        let train_scores = model.metrics_result();
        let val_scores = match validation.as_deref_mut() {
            Some(source) => Some(evaluate(model, source)?),
            None => None,
        };
        let mut logs = epoch_logs(&train_scores, val_scores.as_ref());
        callbacks.epoch_end(epoch, &mut logs, model)?;
        history.push_logs(&logs);
        progress.finish(&logs);
        if callbacks.stopped() {
            break;
        }
    }
    history.set_stop_reason(callbacks.train_end(model)?);
    Ok(history)
}

/// One pass over `train`, a train step per batch, the running scores reported after each.
fn train_epoch(
    model: &mut dyn Model,
    train: &mut dyn DataSource,
    epoch: usize,
    progress: &Progress,
    callbacks: &mut CallbackList<'_, '_>,
) -> Result<()> {
    model.reset_metrics();
    train.start_epoch();
    let (mut batch, mut seen) = (0, 0);
    while let Some(data) = train.next_batch()? {
        batch += 1;
        let loss = model.train_step(&data)?;
        seen += data.samples();
        let running = model.metrics_result();
        progress.batch_done(seen, &running);
        callbacks.batch_end(epoch, batch, &running)?;
        if callbacks.stopped() {
            break;
        }
        if !loss.is_finite() {
            return Err(Error::NonFiniteLoss { epoch, batch, loss });
        }
    }
    Ok(())
}

/// The loss and metrics of `model` over every batch of `source`, as Keras' `evaluate`: the
/// loss averaged with weights by batch size, the metrics accumulated over all batches.
///
/// # Errors
/// The model's step errors.
pub fn evaluate(model: &mut dyn Model, source: &mut dyn DataSource) -> Result<Scores> {
    model.reset_metrics();
    source.start_epoch();
    inference(model, source.samples(), |model| {
        while let Some(batch) = source.next_batch()? {
            model.test_step(&batch)?;
        }
        Ok(())
    })?;
    Ok(model.metrics_result())
}

/// The outputs of `model` for every batch of `source`, joined along axis 0, one array per model
/// output, as Keras' `predict`. The sources' targets, if any, are not read.
///
/// # Errors
/// The model's step errors, and [`Error::EmptyInput`] for a source without batches.
pub fn predict(model: &mut dyn Model, source: &mut dyn DataSource) -> Result<Vec<ArrayD<f32>>> {
    source.start_epoch();
    let batches = inference(model, source.samples(), |model| {
        let mut batches = Vec::new();
        while let Some(batch) = source.next_batch()? {
            let views: Vec<ArrayViewD<'_, f32>> = batch.x.iter().map(|x| x.view()).collect();
            batches.push(model.predict_step(&views)?);
        }
        Ok(batches)
    })?;
    let outputs = batches.first().map_or(0, Vec::len);
    if batches.is_empty() {
        return Err(Error::EmptyInput("x"));
    }
    (0..outputs)
        .map(|output| {
            let views: Vec<_> = batches.iter().map(|b| b[output].view()).collect();
            concatenate(Axis(0), &views).map_err(|e| Error::NotBuilt(format!("predict: {e}")))
        })
        .collect()
}

/// One gradient update on `batch`, as Keras' `train_on_batch`: the batch's loss and metrics,
/// computed before the update.
///
/// # Errors
/// The model's step errors.
pub fn train_on_batch(model: &mut dyn Model, batch: &Batch) -> Result<Scores> {
    model.reset_metrics();
    model.train_step(batch)?;
    Ok(model.metrics_result())
}

/// Runs `steps` between the model's `begin_inference` and `end_inference`, ending also on error.
fn inference<T>(
    model: &mut dyn Model,
    samples: usize,
    steps: impl FnOnce(&mut dyn Model) -> Result<T>,
) -> Result<T> {
    model.begin_inference(samples)?;
    let result = steps(model);
    model.end_inference();
    result
}
