//! RustyML 0.17 on the lesson's model, timed, for bench/compare/run.sh.
//!
//! Embedding(10000, 32) → SimpleRNN(32, tanh) → Dense(1, sigmoid), RMSprop(0.001, rho 0.9,
//! epsilon 1e-7), binary cross-entropy, batch 32, on the ids that prepare_data.py wrote. RustyML's
//! `fit_with_batches` reshuffles per call, so each epoch is one call with its own shuffle seed; it
//! has no metrics and its `evaluate` is one full-batch pass, so validation and test are scored here
//! from `predict` in batches of 32 (loss: binary cross-entropy on probabilities clipped to
//! [1e-7, 1 − 1e-7]; accuracy at 0.5). Prints `RESULT {json}` lines.
//!
//! ```text
//! cargo run --release --manifest-path bench/compare/rustyml/Cargo.toml -- IDS_FOLDER [EPOCHS]
//! ```

use ndarray::{s, ArrayD, Axis, IxDyn};
use rustyml::prelude::*;
use serde_json::json;
use std::error::Error;
use std::fs;
use std::path::Path;
use std::time::Instant;

type Outcome<T> = Result<T, Box<dyn Error>>;

const BATCH_SIZE: usize = 32;
const SEED: u64 = 1;

fn main() -> Outcome<()> {
    let mut args = std::env::args().skip(1);
    let ids = args.next().ok_or("usage: rustyml-compare IDS_FOLDER [EPOCHS]")?;
    let epochs: usize = args.next().map_or(Ok(3), |epochs| epochs.parse())?;
    let ids = Path::new(&ids);
    let load = |name: &str| read_npy(&ids.join(format!("{name}.npy")));
    // Targets as (samples, 1), the shape of the Dense output.
    let column = |y: ArrayD<f32>| y.insert_axis(Axis(1));
    let (x_train, y_train) = (load("x_train")?, column(load("y_train")?));
    let (x_val, y_val) = (load("x_val")?, column(load("y_val")?));
    let (x_test, y_test) = (load("x_test")?, column(load("y_test")?));
    let steps = x_train.shape()[1];

    let mut model = SequentialBuilder::new_with_seed(SEED)
        .add(Embedding::new(10_000, 32)?.with_random_state(SEED))
        .add(SimpleRNN::new(32, Activation::Tanh)?.with_random_state(SEED + 1))
        .add(Dense::new(1, Activation::Sigmoid)?.with_random_state(SEED + 2))
        .build(&Shape::known(&[BATCH_SIZE, steps]))?;
    model.compile(RMSprop::new(0.001, 0.9, 1e-7, 0.0)?, BinaryCrossEntropy::new());

    let mut epoch_s = Vec::with_capacity(epochs);
    for epoch in 1..=epochs {
        model.set_seed(SEED * 1000 + epoch as u64);
        let mark = Instant::now();
        let history = model.fit_with_batches(&x_train, &y_train, 1, BATCH_SIZE)?;
        let (val_loss, val_accuracy) = score(&model, &x_val, &y_val)?;
        let seconds = mark.elapsed().as_secs_f64();
        epoch_s.push(seconds);
        let line = json!({
            "kind": "epoch", "contender": "rustyml", "epoch": epoch, "seconds": seconds,
            "loss": history.loss().last(), "accuracy": null,
            "val_loss": val_loss, "val_accuracy": val_accuracy,
        });
        println!("RESULT {line}");
    }

    let mark = Instant::now();
    let (test_loss, test_accuracy) = score(&model, &x_test, &y_test)?;
    let evaluate_s = mark.elapsed().as_secs_f64();
    let result = json!({
        "kind": "train", "contender": "rustyml", "version": "RustyML 0.17.0",
        "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "epochs": epochs, "batch_size": BATCH_SIZE,
        "train_samples": x_train.shape()[0], "test_samples": x_test.shape()[0],
        "epoch_s": epoch_s, "evaluate_s": evaluate_s,
        "test_loss": test_loss, "test_accuracy": test_accuracy,
    });
    println!("RESULT {result}");
    Ok(())
}

/// Mean binary cross-entropy and accuracy of `predict` over `(x, y)`, in batches.
fn score(model: &Sequential, x: &ArrayD<f32>, y: &ArrayD<f32>) -> Outcome<(f64, f64)> {
    let samples = x.shape()[0];
    let (mut loss, mut correct) = (0.0_f64, 0_usize);
    for start in (0..samples).step_by(BATCH_SIZE) {
        let end = (start + BATCH_SIZE).min(samples);
        let probabilities = model.predict(&x.slice(s![start..end, ..]).to_owned().into_dyn())?;
        for (&p, &target) in probabilities.iter().zip(y.slice(s![start..end, ..]).iter()) {
            let p = f64::from(p).clamp(1e-7, 1.0 - 1e-7);
            let target = f64::from(target);
            loss -= target * p.ln() + (1.0 - target) * (1.0 - p).ln();
            correct += usize::from((p > 0.5) == (target > 0.5));
        }
    }
    Ok((loss / samples as f64, correct as f64 / samples as f64))
}

/// Reads a little-endian `int32` or `float32` `.npy` array (version 1.0, C order) as `f32`.
fn read_npy(path: &Path) -> Outcome<ArrayD<f32>> {
    let bytes = fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let bad =
        |what: &str| format!("{}: {what}; expected a .npy file (version 1.0)", path.display());
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" || bytes[6] != 1 {
        return Err(bad("no .npy version 1.0 header").into());
    }
    let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let header = bytes
        .get(10..10 + header_len)
        .and_then(|header| std::str::from_utf8(header).ok())
        .ok_or_else(|| bad("truncated header"))?;
    if header.contains("'fortran_order': True") {
        return Err(bad("Fortran order").into());
    }
    let shape: Vec<usize> = header
        .split_once("'shape': (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .ok_or_else(|| bad("no shape"))?
        .0
        .split(',')
        .map(str::trim)
        .filter(|dim| !dim.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| bad("unreadable shape"))?;
    let data = &bytes[10 + header_len..];
    let words = data.chunks_exact(4).map(|word| [word[0], word[1], word[2], word[3]]);
    let values: Vec<f32> = if header.contains("'descr': '<i4'") {
        words.map(|word| i32::from_le_bytes(word) as f32).collect()
    } else if header.contains("'descr': '<f4'") {
        words.map(f32::from_le_bytes).collect()
    } else {
        return Err(bad("dtype other than <i4 or <f4").into());
    };
    if values.len() != shape.iter().product::<usize>() || data.len() % 4 != 0 {
        return Err(bad("data length does not match the shape").into());
    }
    Ok(ArrayD::from_shape_vec(IxDyn(&shape), values)?)
}
