//! Callbacks in `fit`: EarlyStopping and ModelCheckpoint decisions against real Keras
//! (`tests/fixtures/keras_callbacks.json`, from `generate_callback_fixtures.py`), their effect
//! in real training (stop epoch, restored weights, checkpoint files), TerminateOnNaN, the order
//! of callback calls, and bit-for-bit reproducible training (same seed; 1 thread vs many).

use ndarray::{Array1, Array2, ArrayD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rnnkit::callbacks::{Callback, Control, Logs, Mode};
use rnnkit::prelude::*;
use rnnkit::training::Model;
use rnnkit::Error;
use serde_json::Value;
use std::path::PathBuf;

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rnnkit-callbacks-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp folder");
    dir
}

fn bits(weights: &[ArrayD<f32>]) -> Vec<Vec<u32>> {
    weights.iter().map(|w| w.iter().map(|v| v.to_bits()).collect()).collect()
}

// --- Decisions against Keras -----------------------------------------------------------------

fn keras_cases() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keras_callbacks.json");
    let text = std::fs::read_to_string(path).expect("fixture committed");
    let fixture: Value = serde_json::from_str(&text).expect("valid JSON");
    fixture["cases"].as_array().expect("cases").clone()
}

/// A one-weight model whose weight is set to the epoch number, so the weight left after
/// `on_train_end` tells which epoch's weights the model holds.
fn marker_model() -> rnnkit::Result<Sequential> {
    let mut model = Sequential::new();
    model.add(Dense::new(1).use_bias(false));
    model.build(&[1])?;
    Ok(model)
}

fn mode(config: &Value) -> Mode {
    match config["mode"].as_str() {
        Some("min") => Mode::Min,
        Some("max") => Mode::Max,
        _ => Mode::Auto,
    }
}

fn f(config: &Value, key: &str) -> Option<f32> {
    config[key].as_f64().map(|v| v as f32)
}

struct Outcome {
    epochs_run: usize,
    stopped: bool,
    final_marker: f32,
}

/// Drives `callback` through `values` as `fit` would, epoch numbers from 1.
fn drive(callback: &mut dyn Callback, monitor: &str, values: &[f32]) -> rnnkit::Result<Outcome> {
    let mut model = marker_model()?;
    let keys: Vec<String> =
        ["loss", "accuracy", "val_loss", "val_accuracy"].iter().map(|k| k.to_string()).collect();
    callback.on_train_begin(&keys, &mut model)?;
    let mut outcome = Outcome { epochs_run: 0, stopped: false, final_marker: 0.0 };
    let mut reason = StopReason::Completed;
    for (index, &value) in values.iter().enumerate() {
        let epoch = index + 1;
        model.set_weights(vec![ArrayD::from_elem(ndarray::IxDyn(&[1, 1]), epoch as f32)])?;
        let mut logs: Logs = if monitor == "loss" {
            [("loss", value)].into_iter().collect()
        } else {
            [("loss", 1.0), (monitor, value)].into_iter().collect()
        };
        outcome.epochs_run = epoch;
        if let Control::Stop(stop) = callback.on_epoch_end(epoch, &mut logs, &mut model)? {
            outcome.stopped = true;
            reason = stop;
            break;
        }
    }
    callback.on_train_end(&reason, &mut model)?;
    outcome.final_marker = model.get_weights()[0][[0, 0]];
    Ok(outcome)
}

#[test]
fn early_stopping_and_checkpoint_decide_as_keras() -> TestResult {
    let cases = keras_cases();
    assert!(cases.len() >= 19, "fixture has {} cases", cases.len());
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let config = &case["config"];
        let monitor = case["monitor"].as_str().expect("monitor");
        let values: Vec<f32> = case["values"]
            .as_array()
            .expect("values")
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let expected_best = case["best"].as_f64().map(|v| v as f32);
        match case["callback"].as_str() {
            Some("EarlyStopping") => {
                let mut callback = EarlyStopping::new()
                    .monitor(monitor)
                    .patience(config["patience"].as_u64().unwrap_or(0) as usize)
                    .min_delta(f(config, "min_delta").unwrap_or(0.0))
                    .mode(mode(config))
                    .restore_best_weights(config["restore_best_weights"].as_bool() == Some(true))
                    .start_from_epoch(config["start_from_epoch"].as_u64().unwrap_or(0) as usize);
                if let Some(baseline) = f(config, "baseline") {
                    callback = callback.baseline(baseline);
                }
                let outcome = drive(&mut callback, monitor, &values)?;
                assert_eq!(
                    outcome.epochs_run as u64,
                    case["epochs_run"].as_u64().unwrap(),
                    "{name}"
                );
                assert_eq!(outcome.stopped, case["stopped"].as_bool().unwrap(), "{name}");
                assert_eq!(
                    outcome.final_marker as u64,
                    case["final_marker"].as_u64().unwrap(),
                    "{name}: weights of the wrong epoch after training"
                );
                assert_eq!(callback.best(), expected_best, "{name}");
                assert_eq!(
                    callback.stopped_epoch(),
                    outcome.stopped.then_some(outcome.epochs_run),
                    "{name}"
                );
            }
            Some("ModelCheckpoint") => {
                let dir = scratch(&format!("keras-{name}"));
                let mut callback = ModelCheckpoint::new(dir.join("w.{epoch:02d}.safetensors"))
                    .monitor(monitor)
                    .save_best_only(true)
                    .mode(mode(config));
                if let Some(threshold) = f(config, "initial_value_threshold") {
                    callback = callback.initial_value_threshold(threshold);
                }
                let outcome = drive(&mut callback, monitor, &values)?;
                assert_eq!(
                    outcome.epochs_run as u64,
                    case["epochs_run"].as_u64().unwrap(),
                    "{name}"
                );
                let mut saved: Vec<u64> = std::fs::read_dir(&dir)?
                    .map(|entry| {
                        let file = entry.expect("entry").file_name().into_string().expect("utf-8");
                        file[2..4].parse::<u64>().expect("w.NN.safetensors")
                    })
                    .collect();
                saved.sort_unstable();
                let expected: Vec<u64> =
                    case["saved"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
                assert_eq!(saved, expected, "{name}: epochs saved");
                assert_eq!(callback.best(), expected_best, "{name}");
                // Each file holds that epoch's weights (the marker).
                let last = *expected.last().expect("something saved");
                let mut check = marker_model()?;
                check.load_weights(dir.join(format!("w.{last:02}.safetensors")))?;
                assert_eq!(check.get_weights()[0][[0, 0]], last as f32, "{name}");
                std::fs::remove_dir_all(&dir)?;
            }
            other => panic!("unknown callback {other:?}"),
        }
    }
    Ok(())
}

// --- In real training ------------------------------------------------------------------------

/// Random features and random labels: the model can only memorise, so the validation loss
/// soon rises.
fn noisy_data(samples: usize, seed: u64) -> (Array2<f32>, Array1<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((samples, 8), |_| rng.gen_range(-1.0f32..1.0));
    let y = Array1::from_shape_fn(samples, |_| f32::from(u8::from(rng.gen_bool(0.5))));
    (x, y)
}

fn dense_model(seed: u64) -> rnnkit::Result<Sequential> {
    let mut model = Sequential::new().seed(seed);
    model.add(Dense::new(32).activation(Activation::Relu));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.build(&[8])?;
    model.compile(Adam::new(0.05), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    Ok(model)
}

fn quiet(epochs: usize) -> FitConfig {
    FitConfig { epochs, batch_size: 16, validation_split: 0.25, verbose: 0, ..FitConfig::default() }
}

/// Index (from 1) of the smallest value.
fn argmin(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v < values[best] {
            best = i;
        }
    }
    best + 1
}

fn weights_of_checkpoint(path: &std::path::Path) -> rnnkit::Result<Vec<ArrayD<f32>>> {
    let mut model = dense_model(99)?;
    model.load_weights(path)?;
    Ok(model.get_weights())
}

#[test]
fn early_stopping_restores_the_best_epoch_in_fit() -> TestResult {
    let (x, y) = noisy_data(128, 1);
    let dir = scratch("restore");
    for (patience, restore) in [(1usize, true), (2, true), (2, false)] {
        let mut model = dense_model(3)?;
        let mut early = EarlyStopping::new()
            .monitor("val_loss")
            .patience(patience)
            .restore_best_weights(restore);
        let mut every_epoch = ModelCheckpoint::new(dir.join("epoch-{epoch}.safetensors"));
        let history =
            model.fit_with_callbacks(&x, &y, &quiet(40), &mut [&mut early, &mut every_epoch])?;
        let val_loss = history.metric("val_loss").expect("val_loss");
        let stopped = history.epochs();
        assert!(stopped < 40, "validation loss kept improving: {val_loss:?}");
        let best_epoch = argmin(val_loss);
        assert_eq!(stopped, best_epoch + patience, "val_loss {val_loss:?}");
        assert_eq!(
            history.stop_reason(),
            &StopReason::EarlyStopping { epoch: stopped, monitor: "val_loss".into(), best_epoch }
        );
        assert_eq!(early.stopped_epoch(), Some(stopped));
        assert_eq!(early.best_epoch(), Some(best_epoch));
        assert_eq!(early.best(), Some(val_loss[best_epoch - 1]));
        // The checkpoint written after every epoch tells which weights the model holds.
        let last_path = dir.join(format!("epoch-{stopped}.safetensors"));
        assert_eq!(every_epoch.last_saved(), Some(last_path.as_path()));
        let best = weights_of_checkpoint(&dir.join(format!("epoch-{best_epoch}.safetensors")))?;
        let last = weights_of_checkpoint(&last_path)?;
        assert_ne!(bits(&best), bits(&last));
        let expected = if restore { best } else { last };
        assert_eq!(bits(&model.get_weights()), bits(&expected), "patience {patience}");
        // The restored model scores as the best epoch did.
        if restore {
            let (x_val, y_val) = (x.slice(ndarray::s![96.., ..]), y.slice(ndarray::s![96..]));
            let scores = model.evaluate(&x_val, &y_val, 16)?;
            let gap = (scores.loss - val_loss[best_epoch - 1]).abs();
            assert!(
                gap <= 1e-6,
                "restored val_loss {} vs {}",
                scores.loss,
                val_loss[best_epoch - 1]
            );
        }
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn checkpoint_save_best_only_keeps_the_best_weights() -> TestResult {
    let (x, y) = noisy_data(128, 2);
    let dir = scratch("best-only");
    let mut model = dense_model(5)?;
    let best_path = dir.join("nested").join("best.safetensors");
    let mut best_only = ModelCheckpoint::new(&best_path).save_best_only(true);
    let mut every_epoch = ModelCheckpoint::new(dir.join("e{epoch:03d}-{val_loss:.3f}.safetensors"));
    let history =
        model.fit_with_callbacks(&x, &y, &quiet(12), &mut [&mut best_only, &mut every_epoch])?;
    assert_eq!(history.stop_reason(), &StopReason::Completed);
    let val_loss = history.metric("val_loss").expect("val_loss");
    let best_epoch = argmin(val_loss);
    assert_eq!(best_only.best(), Some(val_loss[best_epoch - 1]));
    assert_eq!(best_only.last_saved(), Some(best_path.as_path()));
    // Every epoch wrote its own file, named from the template.
    let mut names: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".safetensors"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 12);
    for (epoch, name) in (1..).zip(&names) {
        assert_eq!(*name, format!("e{epoch:03}-{:.3}.safetensors", val_loss[epoch - 1]));
    }
    let expected = weights_of_checkpoint(&dir.join(&names[best_epoch - 1]))?;
    assert_eq!(bits(&weights_of_checkpoint(&best_path)?), bits(&expected));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn a_monitored_value_that_is_not_recorded_is_refused_before_training() -> TestResult {
    let (x, y) = noisy_data(64, 3);
    let mut model = dense_model(1)?;
    let before = model.get_weights();
    let no_validation = FitConfig { epochs: 3, verbose: 0, ..FitConfig::default() };
    let mut early = EarlyStopping::new(); // monitors val_loss
    let err = model.fit_with_callbacks(&x, &y, &no_validation, &mut [&mut early]).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("'val_loss'") && message.contains("loss, accuracy"), "{message}");
    assert!(message.contains("validation_split"), "{message}");

    let mut typo =
        ModelCheckpoint::new("unused.safetensors").monitor("val_acc").save_best_only(true);
    let message =
        model.fit_with_callbacks(&x, &y, &quiet(2), &mut [&mut typo]).unwrap_err().to_string();
    assert!(message.contains("'val_acc'") && message.contains("val_accuracy"), "{message}");

    let mut bad_path = ModelCheckpoint::new("w-{val_los}.safetensors");
    let message =
        model.fit_with_callbacks(&x, &y, &quiet(2), &mut [&mut bad_path]).unwrap_err().to_string();
    assert!(message.contains("{val_los}") && message.contains("val_loss"), "{message}");
    assert!(!std::path::Path::new("unused.safetensors").exists());
    assert_eq!(bits(&model.get_weights()), bits(&before), "no training happened");
    Ok(())
}

/// A model whose loss is NaN exactly on the batch that holds sample `nan_row`.
fn nan_setup(nan_row: usize) -> rnnkit::Result<(Sequential, Array2<f32>, Array1<f32>)> {
    let (mut x, y) = noisy_data(80, 4);
    x[[nan_row, 3]] = f32::NAN;
    // A linear hidden layer carries the NaN to the loss.
    let mut model = Sequential::new().seed(2);
    model.add(Dense::new(8));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(Adam::new(0.01), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    Ok((model, x, y))
}

#[test]
fn terminate_on_nan_stops_cleanly_and_fit_without_it_errs() -> TestResult {
    // 60 training samples (validation_split 0.25 holds out the last 20), batches of 16 in
    // order: row 40 is in batch 3 of epoch 1.
    let config = FitConfig { shuffle: false, ..quiet(5) };
    let (mut model, x, y) = nan_setup(40)?;
    let err = model.fit(&x, &y, &config).unwrap_err();
    assert!(matches!(err, Error::NonFiniteLoss { epoch: 1, batch: 3, .. }), "{err:?}");

    let (mut model, x, y) = nan_setup(40)?;
    let mut terminate = TerminateOnNaN::new();
    let mut early = EarlyStopping::new().patience(10).restore_best_weights(true);
    let history = model.fit_with_callbacks(&x, &y, &config, &mut [&mut terminate, &mut early])?;
    let StopReason::NonFiniteLoss { epoch, batch, loss } = history.stop_reason().clone() else {
        panic!("stopped for {:?}", history.stop_reason());
    };
    assert_eq!((epoch, batch), (1, 3));
    assert!(loss.is_nan());
    assert_eq!(history.stop_reason().to_string(), "loss NaN at epoch 1, batch 3");
    // The epoch is finished as Keras finishes it: recorded, validated.
    assert_eq!(history.epochs(), 1);
    assert!(history.metric("loss").unwrap()[0].is_nan());
    let val_loss = history.metric("val_loss").unwrap()[0];
    assert!(val_loss.is_finite(), "the NaN batch must not update the weights");
    assert!(model.get_weights().iter().all(|w| w.iter().all(|v| v.is_finite())));
    // EarlyStopping's train-end restore still ran (the only monitored epoch is the best).
    assert_eq!(early.best_epoch(), Some(1));
    let (x_val, y_val) = (x.slice(ndarray::s![60.., ..]), y.slice(ndarray::s![60..]));
    let restored = model.evaluate(&x_val, &y_val, 16)?.loss;
    assert!((restored - val_loss).abs() <= 1e-6, "{restored} vs {val_loss}");
    Ok(())
}

/// Records every call, and stops after `stop_at` epochs.
struct Recorder {
    events: Vec<String>,
    epoch_logs: Vec<Logs>,
    stop_at: usize,
}

impl Callback for Recorder {
    fn on_train_begin(&mut self, keys: &[String], _model: &mut dyn Model) -> rnnkit::Result<()> {
        self.events.push(format!("begin {}", keys.join(",")));
        Ok(())
    }

    fn on_batch_end(&mut self, epoch: usize, batch: usize, logs: &Logs) -> rnnkit::Result<Control> {
        let keys: Vec<&str> = logs.keys().collect();
        self.events.push(format!("batch {epoch}.{batch} {}", keys.join(",")));
        Ok(Control::Continue)
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        _model: &mut dyn Model,
    ) -> rnnkit::Result<Control> {
        self.events.push(format!("epoch {epoch}"));
        self.epoch_logs.push(logs.clone());
        Ok(if epoch == self.stop_at {
            Control::Stop(StopReason::Requested { epoch, reason: "enough".into() })
        } else {
            Control::Continue
        })
    }

    fn on_train_end(&mut self, reason: &StopReason, _model: &mut dyn Model) -> rnnkit::Result<()> {
        self.events.push(format!("end {reason}"));
        Ok(())
    }
}

#[test]
fn callbacks_run_in_keras_order_with_the_recorded_values() -> TestResult {
    let (x, y) = noisy_data(40, 5);
    let mut model = dense_model(1)?;
    let mut recorder = Recorder { events: Vec::new(), epoch_logs: Vec::new(), stop_at: 2 };
    // 30 training samples in batches of 16: two batches per epoch.
    let history = model.fit_with_callbacks(&x, &y, &quiet(5), &mut [&mut recorder])?;
    let expected = [
        "begin loss,accuracy,val_loss,val_accuracy",
        "batch 1.1 loss,accuracy",
        "batch 1.2 loss,accuracy",
        "epoch 1",
        "batch 2.1 loss,accuracy",
        "batch 2.2 loss,accuracy",
        "epoch 2",
        "end stopped at epoch 2: enough",
    ];
    assert_eq!(recorder.events, expected);
    assert_eq!(history.epochs(), 2);
    for (epoch, logs) in recorder.epoch_logs.iter().enumerate() {
        for key in ["loss", "accuracy", "val_loss", "val_accuracy"] {
            assert_eq!(logs.get(key), Some(history.metric(key).unwrap()[epoch]), "{key}");
        }
    }
    // The same instance serves a second fit: state is reset at train begin.
    let mut early = EarlyStopping::new().monitor("loss").patience(0).mode(Mode::Max);
    let first = model.fit_with_callbacks(&x, &y, &quiet(10), &mut [&mut early])?;
    let second = model.fit_with_callbacks(&x, &y, &quiet(10), &mut [&mut early])?;
    // Monitoring the training loss for a rise: stops at the first epoch it does not rise.
    for history in [&first, &second] {
        let loss = history.metric("loss").unwrap();
        assert!(history.epochs() >= 2);
        assert!(loss[history.epochs() - 1] <= loss[history.epochs() - 2]);
    }
    assert_eq!(early.stopped_epoch(), Some(second.epochs()));
    Ok(())
}

// --- Reproducibility -------------------------------------------------------------------------

/// The lesson's architecture in small, with dropout: batches of 32 split into several chunks
/// of the recurrent layer's parallel loop.
fn small_rnn(seed: u64) -> rnnkit::Result<Sequential> {
    let mut model = Sequential::new().seed(seed);
    model.add(Embedding::new(60, 8).input_length(15));
    model.add(SimpleRnn::new(12));
    model.add(Dropout::new(0.3));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(RmsProp::new(0.01), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    Ok(model)
}

fn train_small_rnn(seed: u64) -> rnnkit::Result<(Vec<ArrayD<f32>>, History)> {
    let mut rng = StdRng::seed_from_u64(17);
    let x = Array2::from_shape_fn((160, 15), |_| rng.gen_range(0..60) as f32);
    let y = Array1::from_shape_fn(160, |i| f32::from(u8::from(x[[i, 14]] < 30.0)));
    let mut model = small_rnn(seed)?;
    let config = FitConfig { epochs: 2, validation_split: 0.2, verbose: 0, ..FitConfig::default() };
    let history = model.fit(&x, &y, &config)?;
    Ok((model.get_weights(), history))
}

#[test]
fn training_is_bit_reproducible_across_runs_and_thread_counts() -> TestResult {
    let (first, first_history) = train_small_rnn(11)?;
    let (second, second_history) = train_small_rnn(11)?;
    assert_eq!(bits(&first), bits(&second));
    assert_eq!(first_history, second_history);

    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let (single, single_history) = pool.install(|| train_small_rnn(11))?;
    assert_eq!(bits(&first), bits(&single), "1 thread vs {}", rayon::current_num_threads());
    assert_eq!(first_history, single_history);

    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build()?;
    let (three, _) = pool.install(|| train_small_rnn(11))?;
    assert_eq!(bits(&first), bits(&three), "3 threads");

    let (other_seed, _) = train_small_rnn(12)?;
    assert_ne!(bits(&first), bits(&other_seed), "the seed must matter");
    Ok(())
}
