//! The whole model in one file (`save` / `load`) and its architecture as JSON (`to_json` /
//! `from_json`): resumed training is bit-identical to training that never stopped, for every
//! optimizer; every layer's configuration round-trips; and every bad file or JSON is refused
//! with a message that says what is wrong.

use ndarray::{Array1, Array2, Array3, ArrayD, ArrayViewD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rnnkit::layers::{LayerBase, Mask};
use rnnkit::optimizers::schedules::{CosineDecay, ExponentialDecay, PiecewiseConstantDecay};
use rnnkit::optimizers::{Adagrad, AdamW, Nadam};
use rnnkit::prelude::*;
use rnnkit::Error;
use safetensors::SafeTensors;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rnnkit-model-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp folder");
    dir
}

fn bits(weights: &[ArrayD<f32>]) -> Vec<Vec<u32>> {
    weights.iter().map(|w| w.iter().map(|v| v.to_bits()).collect()).collect()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn ids(samples: usize, steps: usize, vocabulary: usize, seed: u64) -> Array2<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    Array2::from_shape_fn((samples, steps), |_| rng.gen_range(0..vocabulary) as f32)
}

fn labels(x: &Array2<f32>) -> Array1<f32> {
    Array1::from_shape_fn(x.nrows(), |i| f32::from(u8::from(x[[i, 0]] < x[[i, 1]])))
}

/// Embedding → LSTM → Dense, the embedding frozen when `freeze_embedding` (so the optimizer's
/// slots skip its weight).
fn sentiment_model(seed: u64, freeze_embedding: bool) -> Sequential {
    let mut model = Sequential::new().seed(seed);
    model.add(Embedding::new(30, 6).input_length(8).trainable(!freeze_embedding));
    model.add(Lstm::new(5));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model
}

/// Every optimizer, with schedules, weight decay, momentum and clipping among them.
/// Compiles a model with one optimizer.
type Compile = Box<dyn Fn(&mut Sequential) -> rnnkit::Result<()>>;

fn optimizers() -> Vec<(&'static str, Compile)> {
    let loss = Loss::BinaryCrossentropy;
    let metrics = [Metric::Accuracy];
    vec![
        ("SGD", Box::new(move |m| m.compile(Sgd::new(0.1), loss, &metrics))),
        (
            "SGD nesterov",
            Box::new(move |m| {
                m.compile(Sgd::new(0.05).momentum(0.9).nesterov(true), loss, &metrics)
            }),
        ),
        (
            "RMSprop",
            Box::new(move |m| {
                let clipping = Clipping { clipnorm: Some(0.5), ..Clipping::default() };
                m.compile(RmsProp::new(0.01).momentum(0.5).clipping(clipping), loss, &metrics)
            }),
        ),
        (
            "Adam with a schedule",
            Box::new(move |m| {
                m.compile(Adam::new(ExponentialDecay::new(0.02, 3, 0.7)), loss, &metrics)
            }),
        ),
        (
            "AdamW",
            Box::new(move |m| m.compile(AdamW::new(CosineDecay::new(0.02, 10)), loss, &metrics)),
        ),
        (
            "Adagrad",
            Box::new(move |m| {
                let schedule = PiecewiseConstantDecay::new(vec![2, 5], vec![0.1, 0.05, 0.01]);
                m.compile(Adagrad::new(schedule).weight_decay(0.01), loss, &metrics)
            }),
        ),
        ("Nadam", Box::new(move |m| m.compile(Nadam::new(0.01), loss, &metrics))),
    ]
}

#[test]
fn resumed_training_is_bit_identical_for_every_optimizer() -> TestResult {
    let dir = scratch("resume");
    let x = ids(40, 8, 30, 1);
    let y = labels(&x);
    // Batches in order: two epochs in one `fit` see the same batches as one epoch twice.
    let epoch =
        FitConfig { epochs: 1, batch_size: 16, shuffle: false, verbose: 0, ..FitConfig::default() };
    for (name, compile) in optimizers() {
        for freeze_embedding in [false, true] {
            let mut uninterrupted = sentiment_model(7, freeze_embedding);
            compile(&mut uninterrupted)?;
            uninterrupted.fit(&x, &y, &FitConfig { epochs: 2, ..epoch.clone() })?;

            let mut first = sentiment_model(7, freeze_embedding);
            compile(&mut first)?;
            first.fit(&x, &y, &epoch)?;
            let path =
                dir.join(format!("{}-{freeze_embedding}.safetensors", name.replace(' ', "_")));
            first.save(&path)?;
            drop(first);
            let mut resumed = Sequential::load(&path)?;
            resumed.fit(&x, &y, &epoch)?;

            assert!(
                bits(&resumed.get_weights()) == bits(&uninterrupted.get_weights()),
                "{name} (embedding frozen: {freeze_embedding}): resumed training differs"
            );
            if name == "SGD" {
                continue; // Plain SGD with a constant rate has no state to lose.
            }
            // Without the optimizer's state, the second epoch would differ.
            let mut restarted = sentiment_model(7, freeze_embedding);
            compile(&mut restarted)?;
            restarted.set_weights(Sequential::load(&path)?.get_weights())?;
            restarted.fit(&x, &y, &epoch)?;
            assert!(
                bits(&restarted.get_weights()) != bits(&uninterrupted.get_weights()),
                "{name}: a fresh optimizer should not reproduce the uninterrupted run"
            );
        }
    }
    assert_eq!(names_in(&dir).iter().filter(|n| n.ends_with(".tmp")).count(), 0);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Every layer class with non-default settings: Embedding (mask_zero), Bidirectional LSTM
/// (sum), GRU (go_backwards, dropout, seed), Dropout (seed), Dense (softmax).
fn tagger() -> rnnkit::Result<Sequential> {
    let mut model = Sequential::new().seed(11);
    model.add(Embedding::new(20, 4).input_length(6).mask_zero(true));
    model.add(
        Bidirectional::new(Lstm::new(3).return_sequences(true).unit_forget_bias(false))
            .merge_mode(MergeMode::Sum),
    );
    model.add(
        Gru::new(4)
            .go_backwards(true)
            .dropout(0.1)
            .recurrent_dropout(0.2)
            .seed(5)
            .recurrent_activation(Activation::Sigmoid),
    );
    model.add(Dropout::new(0.3).seed(9));
    model.add(Dense::new(3).activation(Activation::Softmax));
    model.compile(
        Adam::new(0.01).beta_1(0.8).epsilon(1e-6),
        Loss::SparseCategoricalCrossentropy,
        &[Metric::Accuracy, Metric::SparseCategoricalAccuracy],
    )?;
    Ok(model)
}

/// Masking → SimpleRNN (relu, sequences, no bias) → Flatten → Dense, on float sequences, built
/// by `build` (no layer declares the input).
fn regressor() -> rnnkit::Result<Sequential> {
    let mut model = Sequential::new().seed(2);
    model.add(Masking::new(-1.0));
    model
        .add(SimpleRnn::new(3).activation(Activation::Relu).return_sequences(true).use_bias(false));
    model.add(Flatten::new());
    model.add(Dense::new(2).use_bias(false));
    model.build(&[5, 2])?;
    model.compile(
        Sgd::new(0.01),
        Loss::Huber { delta: 0.5 },
        &[Metric::MeanAbsoluteError, Metric::RootMeanSquaredError],
    )?;
    Ok(model)
}

#[test]
fn every_layer_round_trips_with_its_weights_and_settings() -> TestResult {
    let dir = scratch("layers");
    // The tagger, trained one epoch.
    let x = ids(24, 6, 20, 4);
    let y = x.mapv(|v| (v as usize % 3) as f32).column(5).to_owned();
    let mut model = tagger()?;
    model.fit(&x, &y, &FitConfig { batch_size: 8, verbose: 0, ..FitConfig::default() })?;
    let path = dir.join("tagger.safetensors");
    model.save(&path)?;
    let mut loaded = Sequential::load(&path)?;
    assert_eq!(loaded.to_json()?, model.to_json()?);
    assert_eq!(loaded.summary()?.to_string(), model.summary()?.to_string());
    assert_eq!(bits(&loaded.get_weights()), bits(&model.get_weights()));
    assert_eq!(bits(&[loaded.predict(&x)?]), bits(&[model.predict(&x)?]));
    assert_eq!(loaded.evaluate(&x, &y)?, model.evaluate(&x, &y)?);
    let names: Vec<String> = loaded.layers().map(|l| l.name().to_string()).collect();
    assert_eq!(names, ["embedding", "bidirectional", "gru", "dropout", "dense"]);

    // The regressor, not trained, with a renamed and frozen layer.
    let mut model = regressor()?;
    model.get_layer_mut("dense")?.set_name("head".into());
    model.get_layer_mut("simple_rnn")?.set_trainable(false);
    let path = dir.join("regressor.safetensors");
    model.save(&path)?;
    let mut loaded = Sequential::load(&path)?;
    let x = Array3::from_shape_fn(
        (4, 5, 2),
        |(i, j, k)| if j > 3 { -1.0 } else { (i + j + k) as f32 / 7.0 },
    );
    let y = Array2::from_shape_fn((4, 2), |(i, k)| (i + k) as f32 / 4.0);
    assert_eq!(loaded.to_json()?, model.to_json()?);
    assert!(!loaded.get_layer("simple_rnn")?.is_trainable());
    assert_eq!(bits(&[loaded.predict(&x)?]), bits(&[model.predict(&x)?]));
    assert_eq!(loaded.evaluate(&x, &y)?, model.evaluate(&x, &y)?);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn a_model_loads_without_a_declared_input_shape() -> TestResult {
    let dir = scratch("undeclared");
    let mut model = Sequential::new().seed(4);
    model.add(Embedding::new(30, 4)); // no input_length: the shape comes from the data
    model.add(Gru::new(3));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(RmsProp::new(0.01), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    let x = ids(10, 7, 30, 2);
    model.fit(&x, &labels(&x), &FitConfig { verbose: 0, ..FitConfig::default() })?;
    let path = dir.join("model.safetensors");
    model.save(&path)?;
    let mut loaded = Sequential::load(&path)?;
    assert_eq!(loaded.summary()?.total_params(), model.summary()?.total_params());
    assert_eq!(bits(&[loaded.predict(&x)?]), bits(&[model.predict(&x)?]));

    // A model never built is saved without weights and loads unbuilt.
    let mut unbuilt = Sequential::new();
    unbuilt.add(Embedding::new(30, 4));
    unbuilt.add(Dense::new(2));
    unbuilt.save(&path)?;
    let mut loaded = Sequential::load(&path)?;
    assert!(loaded.get_weights().is_empty());
    assert!(loaded.layers().all(|layer| layer.output_shape().is_none()));
    loaded.build(&[3])?;
    assert_eq!(loaded.summary()?.total_params(), 30 * 4 + 4 * 2 + 2);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn json_round_trips_and_rebuilds_the_architecture() -> TestResult {
    let model = tagger()?;
    let json = model.to_json()?;
    let value: Value = serde_json::from_str(&json)?;
    assert_eq!(value["class_name"], "Sequential");
    assert_eq!(value["format_version"], 1);
    assert_eq!(value["config"]["build_input_shape"], serde_json::json!([6]));
    let gru = &value["config"]["layers"][2];
    assert_eq!(gru["class_name"], "GRU");
    assert_eq!(gru["config"]["go_backwards"], true);
    assert_eq!(gru["config"]["dropout"].to_string(), "0.1");
    assert_eq!(value["config"]["layers"][1]["config"]["layer"]["class_name"], "LSTM");
    let mut rebuilt = Sequential::from_json(&json)?;
    assert_eq!(rebuilt.to_json()?, json);
    let mut original = tagger()?;
    assert_eq!(rebuilt.summary()?.to_string(), original.summary()?.to_string());
    // New weights from seed 0, not the original's (seed 11): the JSON holds no weights.
    assert_ne!(bits(&rebuilt.get_weights()), bits(&original.get_weights()));
    Ok(())
}

/// `from_json` of the tagger's JSON after `edit`: the error's message.
fn edited(edit: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(&tagger().unwrap().to_json().unwrap()).unwrap();
    edit(&mut value);
    match Sequential::from_json(&value.to_string()) {
        Ok(_) => panic!("the edited JSON was accepted"),
        Err(error) => {
            assert!(matches!(error, Error::Config(_) | Error::InvalidArgument { .. }), "{error:?}");
            error.to_string()
        }
    }
}

#[test]
fn hand_edited_json_is_refused_with_a_clear_message() {
    let contains = |message: String, part: &str| assert!(message.contains(part), "{message}");
    contains(
        edited(|v| v["config"]["layers"][2]["config"]["unit"] = 4.into()),
        "layer 'gru' (GRU): unknown key(s) `unit`",
    );
    contains(
        edited(|v| {
            v["config"]["layers"][2]["config"].as_object_mut().unwrap().remove("units");
        }),
        "layer 'gru' (GRU): the key `units` is missing",
    );
    contains(
        edited(|v| v["config"]["layers"][4]["config"]["units"] = "three".into()),
        "`units` must be a non-negative integer, found \"three\"",
    );
    contains(
        edited(|v| v["config"]["layers"][4]["config"]["activation"] = "gelu".into()),
        "`activation` must be one of",
    );
    contains(
        edited(|v| v["config"]["layers"][0]["class_name"] = "Conv1D".into()),
        "unknown class \"Conv1D\"",
    );
    contains(
        edited(|v| v["config"]["layers"][3]["config"]["name"] = "dense".into()),
        "two layers are named 'dense'",
    );
    contains(
        edited(|v| v["format_version"] = 2.into()),
        "format version 2 was written by a newer rnnkit",
    );
    contains(edited(|v| v["config"]["layers"][4]["config"]["units"] = 0.into()), "units");
    contains(
        edited(|v| v["config"]["layers"][1]["config"]["merge_mode"] = "max".into()),
        "`merge_mode` must be one of",
    );
    let message = Sequential::from_json("{\"class_name\": ").unwrap_err().to_string();
    assert!(message.contains("not valid JSON"), "{message}");
}

/// A layer without a configuration.
#[derive(Debug)]
struct Identity {
    base: LayerBase,
}

impl Layer for Identity {
    fn class_name(&self) -> &'static str {
        "Identity"
    }
    fn base(&self) -> &LayerBase {
        &self.base
    }
    fn base_mut(&mut self) -> &mut LayerBase {
        &mut self.base
    }
    fn build(&mut self, input_shape: &[usize], _rng: &mut StdRng) -> rnnkit::Result<Vec<usize>> {
        Ok(self.base.built(input_shape, input_shape.to_vec()))
    }
    fn forward(
        &mut self,
        input: ArrayViewD<'_, f32>,
        _mask: Option<&Mask>,
        _training: bool,
    ) -> rnnkit::Result<ArrayD<f32>> {
        Ok(input.to_owned())
    }
    fn backward(
        &mut self,
        grad_output: ArrayViewD<'_, f32>,
        _input_grad: bool,
    ) -> rnnkit::Result<Option<ArrayD<f32>>> {
        Ok(Some(grad_output.to_owned()))
    }
}

#[test]
fn a_failed_save_leaves_the_existing_file_and_nothing_else() -> TestResult {
    let dir = scratch("failed-save");
    let path = dir.join("model.safetensors");
    tagger()?.save(&path)?;
    let before = std::fs::read(&path)?;
    let mut custom = Sequential::new();
    custom.add(Embedding::new(10, 2).input_length(3));
    custom.add(Identity { base: LayerBase::new() });
    let error = custom.save(&path).unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error:?}");
    assert!(
        error.to_string().contains("layer 'identity' (Identity) has no configuration"),
        "{error}"
    );
    assert!(custom.to_json().is_err());
    assert_eq!(std::fs::read(&path)?, before);
    assert_eq!(names_in(&dir), ["model.safetensors"]);
    // A folder in the way: an I/O error, nothing left behind.
    let folder = dir.join("taken");
    std::fs::create_dir(&folder)?;
    assert!(matches!(tagger()?.save(&folder), Err(Error::Io { .. })));
    assert_eq!(names_in(&dir), ["model.safetensors", "taken"]);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Rewrites the model file at `path` with its JSON changed by `edit` (the tensors kept).
fn rewrite_json(path: &Path, edit: impl FnOnce(&mut Value)) {
    let buffer = std::fs::read(path).unwrap();
    let (_, header) = SafeTensors::read_metadata(&buffer).unwrap();
    let mut json: Value =
        serde_json::from_str(&header.metadata().as_ref().unwrap()["rnnkit.model"]).unwrap();
    edit(&mut json);
    let tensors = SafeTensors::deserialize(&buffer).unwrap();
    let views: Vec<_> = tensors.tensors();
    let metadata = HashMap::from([("rnnkit.model".to_string(), json.to_string())]);
    let bytes = safetensors::serialize(views, Some(metadata)).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn load_error(path: &Path) -> String {
    match Sequential::load(path) {
        Ok(_) => panic!("{} was loaded", path.display()),
        Err(error) => {
            assert!(matches!(error, Error::Data { .. }), "{error:?}");
            let message = error.to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
            message
        }
    }
}

#[test]
fn bad_files_are_refused_with_a_clear_message() -> TestResult {
    let dir = scratch("bad-files");
    let good = dir.join("good.safetensors");
    tagger()?.save(&good)?;
    let copy = |name: &str| -> PathBuf {
        let path = dir.join(name);
        std::fs::copy(&good, &path).unwrap();
        path
    };
    let contains = |message: String, part: &str| assert!(message.contains(part), "{message}");

    let newer = copy("newer.safetensors");
    rewrite_json(&newer, |v| {
        v["format_version"] = 2.into();
        v["something_new"] = true.into();
    });
    contains(load_error(&newer), "format version 2 was written by a newer rnnkit");

    let bytes = std::fs::read(&good)?;
    for cut in [4, 100, bytes.len() / 2, bytes.len() - 1] {
        let truncated = dir.join("truncated.safetensors");
        std::fs::write(&truncated, &bytes[..cut])?;
        contains(load_error(&truncated), "truncated or corrupt");
    }

    let mut flipped = bytes.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 0x40;
    let corrupt = dir.join("corrupt.safetensors");
    std::fs::write(&corrupt, &flipped)?;
    contains(load_error(&corrupt), "does not match its checksum");

    let edited = copy("edited.safetensors");
    rewrite_json(&edited, |v| {
        v["model"]["config"]["layers"][4]["config"]["activation"] = "sigmoid".into()
    });
    contains(load_error(&edited), "edited by hand");

    let learning_rate = copy("learning-rate.safetensors");
    rewrite_json(&learning_rate, |v| {
        v["compile"]["optimizer"]["config"]["learning_rate"] = 0.5.into()
    });
    contains(load_error(&learning_rate), "does not match its checksum");

    let weights_only = dir.join("weights.safetensors");
    tagger()?.save_weights(&weights_only)?;
    contains(load_error(&weights_only), "weights file (written by `save_weights`)");

    let missing = dir.join("missing.safetensors");
    assert!(matches!(Sequential::load(&missing), Err(Error::Io { .. })));

    // The good file still loads.
    Sequential::load(&good)?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn the_file_records_the_compile_settings_and_optimizer_state() -> TestResult {
    let dir = scratch("contents");
    let path = dir.join("model.safetensors");
    let x = ids(20, 8, 30, 5);
    let mut model = sentiment_model(1, false);
    model.compile(
        Nadam::new(0.01),
        Loss::BinaryCrossentropy,
        &[Metric::Precision { threshold: 0.4 }],
    )?;
    model.fit(&x, &labels(&x), &FitConfig { batch_size: 8, verbose: 0, ..FitConfig::default() })?;
    model.save(&path)?;
    let buffer = std::fs::read(&path)?;
    let tensors = SafeTensors::deserialize(&buffer)?;
    let (_, header) = SafeTensors::read_metadata(&buffer)?;
    let json: Value = serde_json::from_str(&header.metadata().as_ref().unwrap()["rnnkit.model"])?;
    assert_eq!(json["compile"]["optimizer"]["class_name"], "Nadam");
    assert_eq!(json["compile"]["optimizer"]["config"]["learning_rate"].to_string(), "0.01");
    assert_eq!(json["compile"]["loss"], "binary_crossentropy");
    assert_eq!(json["compile"]["metrics"][0]["class_name"], "Precision");
    assert_eq!(json["optimizer_state"]["iterations"], 3);
    assert!(json["optimizer_state"]["scalars"]["u_product"].is_number());
    let mut names = tensors.names();
    names.sort();
    assert!(names.contains(&"lstm/recurrent_kernel"));
    // Embedding, LSTM (3) and Dense (2) weights: 6 momentums and 6 velocities.
    assert_eq!(names.iter().filter(|n| n.starts_with("optimizer/momentums/")).count(), 6);
    assert_eq!(names.iter().filter(|n| n.starts_with("optimizer/velocities/")).count(), 6);
    assert_eq!(tensors.tensor("optimizer/velocities/2")?.shape(), &[5, 20]);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn load_weights_reads_a_model_file_of_the_same_architecture() -> TestResult {
    let dir = scratch("load-weights");
    let path = dir.join("model.safetensors");
    let x = ids(12, 8, 30, 6);
    let mut trained = sentiment_model(3, false);
    trained.compile(Adam::new(0.01), Loss::BinaryCrossentropy, &[])?;
    trained.fit(&x, &labels(&x), &FitConfig { verbose: 0, ..FitConfig::default() })?;
    trained.save(&path)?;
    let mut fresh = sentiment_model(8, false);
    fresh.load_weights(&path)?;
    assert_eq!(bits(&fresh.get_weights()), bits(&trained.get_weights()));

    let mut other = Sequential::new();
    other.add(Embedding::new(30, 6).input_length(8));
    other.add(Gru::new(5));
    other.add(Dense::new(1).activation(Activation::Sigmoid));
    let before = bits(&other.get_weights());
    let message = other.load_weights(&path).unwrap_err().to_string();
    assert!(message.contains("is not this model"), "{message}");
    assert_eq!(bits(&other.get_weights()), before);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Dropout everywhere: a Dropout layer, a recurrent layer's input and state dropout, and a
/// Bidirectional GRU with dropout in both directions.
fn dropout_model() -> rnnkit::Result<Sequential> {
    let mut model = Sequential::new().seed(21);
    model.add(Embedding::new(30, 6).input_length(8));
    model.add(Dropout::new(0.2));
    model.add(Lstm::new(4).return_sequences(true).dropout(0.3).recurrent_dropout(0.2));
    model.add(Bidirectional::new(Gru::new(3).dropout(0.25)));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(Adam::new(0.01), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    Ok(model)
}

#[test]
fn resumed_training_draws_the_same_dropout_masks() -> TestResult {
    let dir = scratch("dropout");
    let path = dir.join("model.safetensors");
    let x = ids(40, 8, 30, 9);
    let y = labels(&x);
    let epoch = FitConfig { batch_size: 16, shuffle: false, verbose: 0, ..FitConfig::default() };
    let mut uninterrupted = dropout_model()?;
    uninterrupted.fit(&x, &y, &FitConfig { epochs: 2, ..epoch.clone() })?;
    let mut first = dropout_model()?;
    first.fit(&x, &y, &epoch)?;
    first.save(&path)?;
    let mut resumed = Sequential::load(&path)?;
    resumed.fit(&x, &y, &epoch)?;
    assert!(bits(&resumed.get_weights()) == bits(&uninterrupted.get_weights()));

    // Shuffled, with a seed per `fit`: the loaded model goes on as the saved one does.
    let shuffled = FitConfig { seed: Some(5), shuffle: true, ..epoch };
    let mut original = dropout_model()?;
    original.fit(&x, &y, &shuffled)?;
    original.save(&path)?;
    let mut loaded = Sequential::load(&path)?;
    original.fit(&x, &y, &shuffled)?;
    loaded.fit(&x, &y, &shuffled)?;
    assert!(bits(&loaded.get_weights()) == bits(&original.get_weights()));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn damaged_files_never_panic() -> TestResult {
    let dir = scratch("damaged");
    let good = dir.join("good.safetensors");
    dropout_model()?.save(&good)?;
    let bytes = std::fs::read(&good)?;
    let damaged = dir.join("damaged.safetensors");
    let mut refused = 0;
    let mut tried = 0;
    for position in (0..bytes.len()).step_by(37) {
        for flip in [0x01u8, 0x80] {
            let mut copy = bytes.clone();
            copy[position] ^= flip;
            std::fs::write(&damaged, &copy)?;
            tried += 1;
            if Sequential::load(&damaged).is_err() {
                refused += 1;
            }
        }
    }
    assert_eq!(refused, tried, "{refused} of {tried} damaged files refused");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn an_optimizer_refuses_another_optimizers_state() {
    let adam = Adam::new(0.01);
    let mut sgd = Sgd::new(0.1).momentum(0.9);
    let message = sgd.set_state(adam.state()).unwrap_err().to_string();
    assert!(message.contains("momentums"), "{message}");
    let mut nadam = Nadam::new(0.01);
    assert!(nadam.set_state(adam.state()).is_err());
    let mut other = Adam::new(0.5);
    other.set_state(adam.state()).unwrap();
    assert_eq!(other.state(), adam.state());
}
