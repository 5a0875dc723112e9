//! `Sequential::load_weights` on hostile files: random bytes, truncated and bit-flipped files
//! written by `save_weights`, and valid safetensors files with wrong names, shapes, types,
//! missing or extra tensors and wrong metadata. Every refusal names the file and leaves the
//! model's weights as they were.

use super::{check_message, config, TempDir};
use ndarray::ArrayD;
use proptest::prelude::*;
use rnnkit::prelude::*;
use rnnkit::Error;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Embedding(7, 3, input_length 4) → SimpleRnn(2) → Dense(1, sigmoid), seeded by `seed`.
fn model(seed: u64) -> Sequential {
    let mut model = Sequential::new().seed(seed);
    model.add(Embedding::new(7, 3).input_length(4));
    model.add(SimpleRnn::new(2));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model
}

/// The model's tensors as `save_weights` names them, in the model's order.
const TENSORS: [(&str, &[usize]); 6] = [
    ("embedding/embeddings", &[7, 3]),
    ("simple_rnn/kernel", &[3, 2]),
    ("simple_rnn/recurrent_kernel", &[2, 2]),
    ("simple_rnn/bias", &[2]),
    ("dense/kernel", &[2, 1]),
    ("dense/bias", &[1]),
];

/// The bytes `save_weights` writes for `model(1)`, saved once (a save syncs to disk).
fn saved_bytes() -> Vec<u8> {
    static SAVED: OnceLock<Vec<u8>> = OnceLock::new();
    SAVED
        .get_or_init(|| {
            let dir = TempDir::new("weights-saved");
            let path = dir.path().join("saved.safetensors");
            model(1).save_weights(&path).expect("a built model saves");
            fs::read(&path).expect("just written")
        })
        .clone()
}

/// Writes `bytes` and loads them into `model(2)`. A refusal must be a data or file error naming
/// the file and must leave the weights unchanged; returns the weights loaded, if any.
fn load(dir: &TempDir, bytes: &[u8]) -> Result<Result<Vec<ArrayD<f32>>, Error>, TestCaseError> {
    let path = dir.path().join("weights.safetensors");
    fs::write(&path, bytes).expect("the temp folder is writable");
    let mut model = model(2);
    let before = model.get_weights();
    match model.load_weights(&path) {
        Ok(()) => Ok(Ok(model.get_weights())),
        Err(error) => {
            prop_assert!(matches!(error, Error::Data { .. } | Error::Io { .. }), "{:?}", error);
            check_message(&error, &[path.display().to_string()])?;
            prop_assert_eq!(model.get_weights(), before, "a refused load changed the weights");
            Ok(Err(error))
        }
    }
}

/// What happens to one of the model's tensors in a hand-made file.
#[derive(Clone, Debug)]
enum Change {
    Keep,
    Rename(String),
    Reshape(Vec<usize>),
    Retype(Dtype),
    Drop,
}

fn change() -> impl Strategy<Value = Change> {
    let dtype = prop::sample::select(vec![
        Dtype::F64,
        Dtype::F16,
        Dtype::BF16,
        Dtype::I32,
        Dtype::U8,
        Dtype::I64,
        Dtype::BOOL,
    ]);
    prop_oneof![
        6 => Just(Change::Keep),
        1 => "[a-z_/]{1,12}".prop_map(Change::Rename),
        1 => prop::collection::vec(0usize..8, 0..4).prop_map(Change::Reshape),
        1 => dtype.prop_map(Change::Retype),
        1 => Just(Change::Drop),
    ]
}

/// A safetensors file of the model's tensors after `changes`, plus `extra` tensors, with the
/// given metadata; the values are `value` as bytes of the stored type.
fn handmade(
    changes: &[Change],
    extra: &[(String, Vec<usize>)],
    metadata: Option<HashMap<String, String>>,
    value: f32,
) -> Vec<u8> {
    let mut tensors: Vec<(String, Dtype, Vec<usize>)> = Vec::new();
    for ((name, shape), change) in TENSORS.iter().zip(changes) {
        let (name, shape) = (name.to_string(), shape.to_vec());
        match change {
            Change::Keep => tensors.push((name, Dtype::F32, shape)),
            Change::Rename(new) => tensors.push((new.clone(), Dtype::F32, shape)),
            Change::Reshape(new) => tensors.push((name, Dtype::F32, new.clone())),
            Change::Retype(dtype) => tensors.push((name, *dtype, shape)),
            Change::Drop => {}
        }
    }
    for (name, shape) in extra {
        tensors.push((name.clone(), Dtype::F32, shape.clone()));
    }
    let data: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, dtype, shape)| {
            let len = shape.iter().product::<usize>() * dtype.bitsize() / 8;
            value.to_le_bytes().iter().copied().cycle().take(len).collect()
        })
        .collect();
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .zip(&data)
        .map(|((name, dtype, shape), bytes)| {
            (name.clone(), TensorView::new(*dtype, shape.clone(), bytes).expect("sized to fit"))
        })
        .collect();
    safetensors::serialize(views, metadata).expect("distinct names")
}

/// The first problem `load_weights` must report for `changes` and `extra`: a fact its message
/// must contain.
fn first_problem(changes: &[Change], extra: &[(String, Vec<usize>)]) -> Option<String> {
    for ((name, shape), change) in TENSORS.iter().zip(changes) {
        match change {
            Change::Keep => {}
            Change::Reshape(new) if new.as_slice() == *shape => {}
            Change::Retype(Dtype::F32) => {}
            _ => return Some(format!("`{name}`")),
        }
    }
    let renamed = changes.iter().filter_map(|c| match c {
        Change::Rename(name) => Some(name.clone()),
        _ => None,
    });
    extra.iter().map(|(name, _)| name.clone()).chain(renamed).next().map(|name| format!("`{name}`"))
}

/// Names no existing tensor uses.
fn fresh_name() -> impl Strategy<Value = String> {
    "[a-z_/]{1,12}".prop_filter("a new name", |n| TENSORS.iter().all(|(t, _)| t != n))
}

/// Whether `bytes` hold rnnkit's metadata with its checksum field, as `save_weights` writes.
fn has_checksum(bytes: &[u8]) -> bool {
    let Ok((_, metadata)) = SafeTensors::read_metadata(bytes) else { return false };
    let text = metadata.metadata().as_ref().and_then(|m| m.get("rnnkit.architecture"));
    let json = text.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
    json.is_some_and(|json| json["checksum"].is_string())
}

fn metadata_of(bytes: &[u8]) -> HashMap<String, String> {
    let (_, metadata) = SafeTensors::read_metadata(bytes).expect("saved by save_weights");
    metadata.metadata().clone().unwrap_or_default()
}

proptest! {
    #![proptest_config(config(256))]

    /// Random bytes, bare or behind a plausible header length and `{`: refused.
    #[test]
    fn random_bytes_are_refused(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        header_len in prop::option::of(0u64..600),
    ) {
        let dir = TempDir::new("weights-random");
        let bytes = match header_len {
            Some(n) => [&n.to_le_bytes()[..], b"{", &bytes].concat(),
            None => bytes,
        };
        prop_assert!(load(&dir, &bytes)?.is_err(), "random bytes loaded");
    }

    /// A saved file cut short anywhere is refused; with bytes flipped it is refused or, if the
    /// flips left the tensors intact, loads exactly the saved weights.
    #[test]
    fn truncated_or_flipped_files_are_refused(
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let dir = TempDir::new("weights-damaged");
        let bytes = saved_bytes();
        prop_assert!(load(&dir, &bytes[..cut.index(bytes.len())])?.is_err(), "truncated file loaded");
        let mut flipped = bytes.clone();
        for (at, mask) in &flips {
            flipped[at.index(bytes.len())] ^= mask;
        }
        if let Ok(weights) = load(&dir, &flipped)? {
            // Known gap (see damaged_metadata_key_does_not_disable_the_checksum): a flip that
            // renames the metadata key or its checksum field turns the check off.
            prop_assert!(
                weights == model(1).get_weights() || !has_checksum(&flipped),
                "flipped bytes loaded other weights past an intact checksum"
            );
        }
    }

    /// Hand-made safetensors files: exactly the model's names, shapes and `f32` load; any
    /// renamed, reshaped, retyped, missing or extra tensor is refused naming the first one.
    #[test]
    fn wrong_names_shapes_and_types_are_refused(
        changes in prop::collection::vec(change(), 6),
        extra in prop::collection::vec((fresh_name(), prop::collection::vec(0usize..4, 0..3)), 0..2),
        format_only in any::<bool>(),
        value in -2.0f32..2.0,
    ) {
        let renamed: Vec<&String> = changes.iter().filter_map(|c| match c {
            Change::Rename(name) => Some(name),
            _ => None,
        }).chain(extra.iter().map(|(n, _)| n)).collect();
        let distinct = renamed.iter().enumerate().all(|(i, a)| renamed[..i].iter().all(|b| a != b));
        prop_assume!(distinct && renamed.iter().all(|n| TENSORS.iter().all(|(t, _)| t != n)));
        let dir = TempDir::new("weights-handmade");
        let metadata = format_only.then(|| HashMap::from([("format".into(), "rnnkit".into())]));
        let bytes = handmade(&changes, &extra, metadata, value);
        match (load(&dir, &bytes)?, first_problem(&changes, &extra)) {
            (Ok(weights), None) => {
                prop_assert!(weights.iter().flatten().all(|&w| w == value), "not the file's values");
            }
            (Err(error), Some(fact)) => check_message(&error, &[fact])?,
            (result, problem) => prop_assert!(false, "{:?} for {:?}", result.map(|_| ()), problem),
        }
    }

    /// A saved file whose architecture metadata was replaced (garbage, or a layer of another
    /// class) is refused naming the metadata or the layer.
    #[test]
    fn wrong_architecture_metadata_is_refused(
        garbage in prop::option::of(any::<String>()),
        layer in 0usize..3,
        class in "[A-Z][a-z]{0,8}",
    ) {
        let dir = TempDir::new("weights-metadata");
        let saved = saved_bytes();
        let mut metadata = metadata_of(&saved);
        let key = "rnnkit.architecture";
        let fact = match garbage {
            Some(text) => {
                metadata.insert(key.into(), text);
                key.to_string()
            }
            None => {
                let mut json: serde_json::Value =
                    serde_json::from_str(&metadata[key]).expect("save_weights writes JSON");
                let name = json["layers"][layer]["name"].as_str().expect("named").to_string();
                prop_assume!(json["layers"][layer]["class_name"] != class.as_str());
                json["layers"][layer]["class_name"] = class.into();
                metadata.insert(key.into(), json.to_string());
                format!("'{name}'")
            }
        };
        // The saved tensors again, so the checksum in the metadata still holds.
        let bytes = handmade_from(&model(1).get_weights(), metadata);
        let error = load(&dir, &bytes)?.expect_err("wrong metadata");
        check_message(&error, &[fact])?;
    }

    /// A valid file loads only into a model of the same architecture; other models refuse it
    /// naming the file and keep their weights.
    #[test]
    fn a_file_loads_only_into_its_architecture(
        input_dim in 1usize..9, output_dim in 1usize..4, units in 1usize..4, dense in 1usize..3,
    ) {
        let dir = TempDir::new("weights-architecture");
        let path: PathBuf = dir.path().join("saved.safetensors");
        fs::write(&path, saved_bytes()).expect("the temp folder is writable");
        let mut other = Sequential::new().seed(3);
        other.add(Embedding::new(input_dim, output_dim).input_length(4));
        other.add(SimpleRnn::new(units));
        other.add(Dense::new(dense).activation(Activation::Sigmoid));
        let before = other.get_weights();
        let same = (input_dim, output_dim, units, dense) == (7, 3, 2, 1);
        match other.load_weights(&path) {
            Ok(()) => {
                prop_assert!(same, "loaded into another architecture");
                prop_assert_eq!(other.get_weights(), model(1).get_weights());
            }
            Err(error) => {
                prop_assert!(!same, "refused its own architecture: {:?}", error);
                check_message(&error, &[path.display().to_string()])?;
                prop_assert_eq!(other.get_weights(), before);
            }
        }
    }
}

/// The model's tensors with the values of `weights`, under `metadata`.
fn handmade_from(weights: &[ArrayD<f32>], metadata: HashMap<String, String>) -> Vec<u8> {
    let data: Vec<Vec<u8>> =
        weights.iter().map(|w| w.iter().flat_map(|v| v.to_le_bytes()).collect()).collect();
    let views: Vec<(&str, TensorView<'_>)> = TENSORS
        .iter()
        .zip(&data)
        .map(|((name, shape), bytes)| {
            (*name, TensorView::new(Dtype::F32, shape.to_vec(), bytes).expect("sized to fit"))
        })
        .collect();
    safetensors::serialize(views, Some(metadata)).expect("distinct names")
}

/// Loading from a path that does not exist, or into a model that is not built, is refused.
#[test]
fn missing_files_and_unbuilt_models_are_refused() {
    let dir = TempDir::new("weights-missing");
    let missing: &Path = &dir.path().join("missing.safetensors");
    let error = model(1).load_weights(missing).expect_err("no file");
    assert!(error.to_string().contains(&missing.display().to_string()), "{error}");
    let mut unbuilt = Sequential::new();
    unbuilt.add(SimpleRnn::new(2));
    let path = dir.path().join("saved.safetensors");
    model(1).save_weights(&path).expect("a built model saves");
    let error = unbuilt.load_weights(&path).expect_err("not built");
    assert!(matches!(error, Error::NotBuilt(_)), "{error:?}");
}

/// Two flips in a saved file: one renames the metadata key (`rnnkit.architecture` →
/// `snnkit.architecture`), one changes the last byte of tensor data. The file then reads as a
/// safetensors file from elsewhere, without a checksum, and the damaged value loads silently.
#[test]
fn damaged_metadata_key_does_not_disable_the_checksum() {
    let dir = TempDir::new("weights-key");
    let mut bytes = saved_bytes();
    let key = bytes.windows(20).position(|w| w == b"\"rnnkit.architecture").expect("the key");
    bytes[key + 1] ^= 1;
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    let path = dir.path().join("damaged.safetensors");
    fs::write(&path, &bytes).expect("the temp folder is writable");
    let error = model(2).load_weights(&path).expect_err("damaged data");
    assert!(error.to_string().contains(&path.display().to_string()), "{error}");
}
