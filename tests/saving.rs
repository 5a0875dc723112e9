//! `save_weights` / `load_weights`: the safetensors layout, bit-exact round trips, and every
//! kind of bad file (missing, truncated, corrupt, wrong architecture, wrong dtype) refused
//! with a message naming the file and the tensor, leaving the model untouched; failed saves
//! leave an existing file intact.

use ndarray::{Array1, Array2, ArrayD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rnnkit::prelude::*;
use rnnkit::Error;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rnnkit-saving-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp folder");
    dir
}

fn bits(weights: &[ArrayD<f32>]) -> Vec<Vec<u32>> {
    weights.iter().map(|w| w.iter().map(|v| v.to_bits()).collect()).collect()
}

/// Embedding(50, 8) → SimpleRnn(units) → Dropout → Dense(1, sigmoid) on 12 ids.
fn model(units: usize, seed: u64) -> rnnkit::Result<Sequential> {
    let mut model = Sequential::new().seed(seed);
    model.add(Embedding::new(50, 8).input_length(12));
    model.add(SimpleRnn::new(units));
    model.add(Dropout::new(0.25));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(RmsProp::new(0.01), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    Ok(model)
}

fn data() -> (Array2<f32>, Array1<f32>) {
    let mut rng = StdRng::seed_from_u64(3);
    let x = Array2::from_shape_fn((64, 12), |_| rng.gen_range(0..50) as f32);
    let y = Array1::from_shape_fn(64, |i| f32::from(u8::from(x[[i, 11]] < 25.0)));
    (x, y)
}

/// A model trained for one epoch (so its weights are not the initial ones), saved to `path`.
fn trained_and_saved(path: &Path) -> rnnkit::Result<Sequential> {
    let (x, y) = data();
    let mut trained = model(6, 1)?;
    trained.fit(&x, &y, &FitConfig { epochs: 1, verbose: 0, ..FitConfig::default() })?;
    trained.save_weights(path)?;
    Ok(trained)
}

#[test]
fn round_trip_predicts_bit_identically() -> TestResult {
    let dir = scratch("round-trip");
    let path = dir.join("model.safetensors");
    let mut trained = trained_and_saved(&path)?;
    let (x, _) = data();
    let expected = trained.predict_batched(&x, 16)?;

    let mut fresh = model(6, 2)?;
    assert_ne!(bits(&[fresh.predict_batched(&x, 16)?]), bits(std::slice::from_ref(&expected)));
    fresh.load_weights(&path)?;
    assert_eq!(bits(&fresh.get_weights()), bits(&trained.get_weights()));
    assert_eq!(bits(&[fresh.predict_batched(&x, 16)?]), bits(&[expected]));
    // Saving the loaded model writes the same bytes.
    let again = dir.join("again.safetensors");
    fresh.save_weights(&again)?;
    assert_eq!(std::fs::read(&path)?, std::fs::read(&again)?);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn file_holds_keras_named_f32_tensors_and_the_architecture() -> TestResult {
    let dir = scratch("layout");
    let path = dir.join("model.safetensors");
    let trained = trained_and_saved(&path)?;
    let bytes = std::fs::read(&path)?;
    let file = SafeTensors::deserialize(&bytes)?;
    let mut names = file.names();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "dense/bias",
            "dense/kernel",
            "embedding/embeddings",
            "simple_rnn/bias",
            "simple_rnn/kernel",
            "simple_rnn/recurrent_kernel"
        ]
    );
    let weights = trained.get_weights();
    let order = [
        ("embedding/embeddings", vec![50, 8]),
        ("simple_rnn/kernel", vec![8, 6]),
        ("simple_rnn/recurrent_kernel", vec![6, 6]),
        ("simple_rnn/bias", vec![6]),
        ("dense/kernel", vec![6, 1]),
        ("dense/bias", vec![1]),
    ];
    for ((name, shape), weight) in order.iter().zip(&weights) {
        let tensor = file.tensor(name)?;
        assert_eq!(tensor.dtype(), Dtype::F32, "{name}");
        assert_eq!(tensor.shape(), shape.as_slice(), "{name}");
        let values: Vec<f32> = tensor
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let stored = ArrayD::from_shape_vec(shape.clone(), values)?;
        assert_eq!(bits(&[stored]), bits(std::slice::from_ref(weight)), "{name}");
    }

    let (_, header) = SafeTensors::read_metadata(&bytes)?;
    let metadata = header.metadata().clone().expect("metadata");
    assert_eq!(metadata.len(), 1);
    let architecture: serde_json::Value = serde_json::from_str(&metadata["rnnkit.architecture"])?;
    let checksum = architecture["checksum"].as_str().expect("checksum");
    assert!(checksum.starts_with("fnv1a64:") && checksum.len() == 24, "{checksum}");
    assert_eq!(architecture["rnnkit_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(architecture["input_shape"], serde_json::json!([12]));
    let layers = architecture["layers"].as_array().expect("layers");
    let described: Vec<(String, String, String)> = layers
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().into(),
                l["class_name"].as_str().unwrap().into(),
                l["output_shape"].to_string(),
            )
        })
        .collect();
    let expected = [
        ("embedding", "Embedding", "[12,8]"),
        ("simple_rnn", "SimpleRNN", "[6]"),
        ("dropout", "Dropout", "[6]"),
        ("dense", "Dense", "[1]"),
    ];
    for ((name, class, shape), (e_name, e_class, e_shape)) in described.iter().zip(expected) {
        assert_eq!((name.as_str(), class.as_str(), shape.as_str()), (e_name, e_class, e_shape));
    }
    assert_eq!(described.len(), 4);
    assert_eq!(
        layers[1]["weights"],
        serde_json::json!([
            {"name": "kernel", "shape": [8, 6]},
            {"name": "recurrent_kernel", "shape": [6, 6]},
            {"name": "bias", "shape": [6]}
        ])
    );
    assert_eq!(layers[2]["weights"], serde_json::json!([]));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Loads `path` into a fresh model of `units` and checks that it fails as `Error::Data`/`Io`
/// with every `needle` in the message, leaving the weights untouched; returns the message.
fn refused(path: &Path, units: usize, needles: &[&str]) -> rnnkit::Result<String> {
    let mut target = model(units, 9)?;
    target.build(&[12])?;
    let before = target.get_weights();
    let err = target.load_weights(path).expect_err("the load must fail");
    assert!(matches!(err, Error::Data { .. } | Error::Io { .. }), "{err:?}");
    let message = err.to_string();
    eprintln!("{message}");
    assert!(message.contains(&path.display().to_string()), "names the file: {message}");
    for needle in needles {
        assert!(message.contains(needle), "{needle:?} not in: {message}");
    }
    assert_eq!(bits(&target.get_weights()), bits(&before), "weights changed: {message}");
    Ok(message)
}

#[test]
fn missing_truncated_and_corrupt_files_are_refused() -> TestResult {
    let dir = scratch("damaged");
    let path = dir.join("model.safetensors");
    trained_and_saved(&path)?;
    let bytes = std::fs::read(&path)?;

    refused(&dir.join("absent.safetensors"), 6, &["No such file"])?;

    let truncated = dir.join("truncated.safetensors");
    for keep in [0, 5, 100, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&truncated, &bytes[..keep])?;
        refused(&truncated, 6, &["truncated or corrupt"])?;
    }

    let garbage = dir.join("garbage.safetensors");
    std::fs::write(&garbage, b"this is not a weights file at all, just some text")?;
    refused(&garbage, 6, &["not a complete safetensors file"])?;

    // One flipped bit in the tensor data: the header still parses, the checksum does not.
    let flipped = dir.join("flipped.safetensors");
    let mut damaged = bytes.clone();
    let last = damaged.len() - 3;
    damaged[last] ^= 0x10;
    std::fs::write(&flipped, &damaged)?;
    refused(&flipped, 6, &["checksum", "corrupt"])?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn another_architecture_is_refused_naming_the_tensor_and_shapes() -> TestResult {
    let dir = scratch("architecture");
    let path = dir.join("model.safetensors");
    trained_and_saved(&path)?;

    // Wrong shape: SimpleRnn(7) instead of 6.
    let message =
        refused(&path, 7, &["`simple_rnn/kernel`", "(8, 6) in the file", "expected (8, 7)"])?;
    assert!(message.contains("SimpleRNN"), "{message}");

    // Missing tensor: the target has a second Dense layer.
    let mut bigger = Sequential::new();
    bigger.add(Embedding::new(50, 8).input_length(12));
    bigger.add(SimpleRnn::new(6));
    bigger.add(Dropout::new(0.25));
    bigger.add(Dense::new(4));
    bigger.add(Dense::new(1).activation(Activation::Sigmoid));
    let before = bigger.get_weights();
    let message = bigger.load_weights(&path).unwrap_err().to_string();
    // dense/kernel exists in the file with another shape: reported as a shape mismatch.
    assert!(
        message.contains("`dense/kernel`") && message.contains("(6, 1) in the file"),
        "{message}"
    );
    assert!(message.contains("expected (6, 4)"), "{message}");
    assert_eq!(bits(&bigger.get_weights()), bits(&before));

    // A tensor the file lacks entirely.
    let renamed = dir.join("renamed.safetensors");
    let mut other = Sequential::new();
    other.add(Embedding::new(50, 8).input_length(12));
    other.add(SimpleRnn::new(6));
    other.add(Dense::new(1).activation(Activation::Sigmoid));
    other.add(Dense::new(1));
    other.save_weights(&renamed)?; // has dense_1/kernel, dense_1/bias
    let message = refused(&renamed, 6, &["`dense_1/kernel`", "no weight for", "dense/kernel"])?;
    assert!(message.contains("the file's layers"), "{message}");

    let mut four = Sequential::new();
    four.add(Embedding::new(50, 8).input_length(12));
    four.add(SimpleRnn::new(6));
    four.add(Dense::new(1).activation(Activation::Sigmoid));
    four.add(Dense::new(1));
    let mut three = Sequential::new();
    three.add(Embedding::new(50, 8).input_length(12));
    three.add(SimpleRnn::new(6));
    three.add(Dense::new(1).activation(Activation::Sigmoid));
    let small = dir.join("three.safetensors");
    three.save_weights(&small)?;
    let before = four.get_weights();
    let message = four.load_weights(&small).unwrap_err().to_string();
    assert!(message.contains("`dense_1/kernel`") && message.contains("is missing"), "{message}");
    assert!(message.contains("expected shape (1, 1)"), "{message}");
    assert!(message.contains("'dense' (Dense, output (None, 1))"), "{message}");
    assert_eq!(bits(&four.get_weights()), bits(&before));
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Writes `model`'s weights with another tool's conventions: no rnnkit metadata, every tensor
/// `f32` except `f64_tensor`, stored as `f64`.
fn write_foreign(model: &Sequential, path: &Path, f64_tensor: Option<&str>) -> TestResult {
    let mut names = Vec::new();
    for layer in model.layers() {
        for param in layer.params() {
            names.push(format!("{}/{}", layer.name(), param.name()));
        }
    }
    let weights = model.get_weights();
    let bytes: Vec<(Dtype, Vec<u8>)> = names
        .iter()
        .zip(&weights)
        .map(|(name, w)| {
            if Some(name.as_str()) == f64_tensor {
                (Dtype::F64, w.iter().flat_map(|v| f64::from(*v).to_le_bytes()).collect())
            } else {
                (Dtype::F32, w.iter().flat_map(|v| v.to_le_bytes()).collect())
            }
        })
        .collect();
    let views = names
        .iter()
        .zip(&weights)
        .zip(&bytes)
        .map(|((name, w), (dtype, data))| {
            Ok((name.clone(), TensorView::new(*dtype, w.shape().to_vec(), data)?))
        })
        .collect::<std::result::Result<Vec<_>, safetensors::SafeTensorError>>()?;
    let file =
        safetensors::serialize(views, Some(HashMap::from([("format".into(), "np".into())])))?;
    std::fs::write(path, file)?;
    Ok(())
}

#[test]
fn files_from_other_writers_load_and_other_dtypes_are_refused() -> TestResult {
    let dir = scratch("foreign");
    let source = model(6, 4)?;
    let mut source = source;
    source.build(&[12])?;

    let plain = dir.join("plain.safetensors");
    write_foreign(&source, &plain, None)?;
    let mut target = model(6, 5)?;
    target.load_weights(&plain)?;
    assert_eq!(bits(&target.get_weights()), bits(&source.get_weights()));

    let doubles = dir.join("doubles.safetensors");
    write_foreign(&source, &doubles, Some("simple_rnn/recurrent_kernel"))?;
    refused(&doubles, 6, &["`simple_rnn/recurrent_kernel`", "F64", "expected F32", "(6, 6)"])?;

    // Without metadata, a shape mismatch still names the tensor and both shapes, and a
    // missing tensor lists the file's tensors.
    refused(&plain, 7, &["`simple_rnn/kernel`", "(8, 6) in the file", "expected (8, 7)"])?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn a_failed_save_leaves_the_existing_file_intact() -> TestResult {
    let dir = scratch("failed-save");
    let path = dir.join("model.safetensors");
    trained_and_saved(&path)?;
    let original = std::fs::read(&path)?;
    let other = model(6, 77)?;
    let mut other = other;
    other.build(&[12])?;

    // The temporary file the atomic write creates next to the target cannot be created
    // (a folder is in its way), even as root.
    let blocker = dir.join(format!(".model.safetensors.{}.tmp", std::process::id()));
    std::fs::create_dir(&blocker)?;
    let err = other.save_weights(&path).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
    assert_eq!(std::fs::read(&path)?, original, "the existing file changed");
    std::fs::remove_dir(&blocker)?;

    // A missing folder: an error naming the path, nothing created.
    let missing = dir.join("no-such-folder").join("model.safetensors");
    let err = other.save_weights(&missing).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-folder/model.safetensors"), "{err}");
    assert!(!missing.exists());

    // An unbuilt model has nothing to save and writes nothing.
    let mut unbuilt = Sequential::new();
    unbuilt.add(Dense::new(1));
    let err = unbuilt.save_weights(&path).unwrap_err();
    assert!(matches!(err, Error::NotBuilt(_)), "{err:?}");
    assert_eq!(std::fs::read(&path)?, original);

    // The file still loads, and only the file: no temporary is left behind.
    let mut check = model(6, 8)?;
    check.load_weights(&path)?;
    let left: Vec<_> = std::fs::read_dir(&dir)?.collect();
    assert_eq!(left.len(), 1, "{left:?}");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

#[test]
fn loading_into_a_model_without_an_input_shape_is_an_error() -> TestResult {
    let dir = scratch("unbuilt");
    let path = dir.join("model.safetensors");
    trained_and_saved(&path)?;
    let mut unbuilt = Sequential::new();
    unbuilt.add(SimpleRnn::new(6));
    let err = unbuilt.load_weights(&path).unwrap_err();
    assert!(matches!(err, Error::NotBuilt(_)), "{err:?}");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// The README's "Saving and resuming" block, verbatim between the markers, run in a scratch
/// folder on a small random data set.
#[test]
fn readme_saving_and_resuming() -> TestResult {
    let dir = scratch("readme");
    std::env::set_current_dir(&dir)?;
    let mut rng = StdRng::seed_from_u64(42);
    let x: Array2<f32> = Array2::from_shape_fn((40, 500), |_| rng.gen_range(0..10_000) as f32);
    let y: Array1<f32> = Array1::from_shape_fn(40, |_| rng.gen_range(0..2) as f32);
    // --- README ---
    fn lesson_model() -> rnnkit::Result<Sequential> {
        let mut model = Sequential::new();
        model.add(Embedding::new(10_000, 32).input_length(500));
        model.add(SimpleRnn::new(32));
        model.add(Dense::new(1).activation(Activation::Sigmoid));
        model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
        Ok(model)
    }

    // x: (samples, 500) padded ids, y: (samples,) labels, as in the quickstart.
    let mut model = lesson_model()?;
    let mut early_stopping =
        EarlyStopping::new().monitor("val_loss").patience(1).restore_best_weights(true);
    let mut checkpoint = ModelCheckpoint::new("checkpoints/best.safetensors").save_best_only(true);
    let mut terminate_on_nan = TerminateOnNaN::new();
    let config = FitConfig { epochs: 10, validation_split: 0.2, ..FitConfig::default() };
    let history = model.fit_with_callbacks(
        &x,
        &y,
        &config,
        &mut [&mut early_stopping, &mut checkpoint, &mut terminate_on_nan],
    )?;
    println!("{}", history.stop_reason()); // e.g. "early stopping at epoch 4 (val_loss best at epoch 3)"
    model.save("sentiment.safetensors")?;

    // Later, in another program: no architecture to rebuild, no compile.
    let mut restored = Sequential::load("sentiment.safetensors")?;
    let probabilities = restored.predict(&x)?; // bit-identical to model.predict(&x)
    restored.fit(&x, &y, &config)?; // resumes with the optimizer's state

    // --- end of README ---
    assert_eq!(bits(&[probabilities]), bits(&[model.predict(&x)?]));
    let mut again = lesson_model()?;
    again.load_weights("sentiment.safetensors")?;
    assert_eq!(bits(&[again.predict(&x)?]), bits(&[model.predict(&x)?]));
    assert_ne!(bits(&restored.get_weights()), bits(&model.get_weights()), "resumed training");
    assert_eq!(checkpoint.last_saved(), Some(Path::new("checkpoints/best.safetensors")));
    assert!(dir.join("checkpoints/best.safetensors").exists());

    // The block above is the README's, line for line.
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/saving.rs"))?;
    let marker = "// --- README ---\n";
    let start = source.find(marker).expect("start marker") + marker.len();
    let end = source.find("    // --- end of README ---").expect("end marker");
    let block: Vec<&str> = source[start..end]
        .trim_end()
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))?;
    let section = &readme[readme.find("## Saving and resuming").expect("README section")..];
    let code = &section[section.find("```rust\n").expect("code block") + 8..];
    let code = &code[..code.find("```").expect("end of block")];
    let readme_lines: Vec<&str> = code
        .lines()
        .filter(|l| *l != "use rnnkit::prelude::*;")
        .skip_while(|l| l.is_empty())
        .collect();
    assert_eq!(block, readme_lines);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
