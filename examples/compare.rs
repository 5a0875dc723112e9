//! rnnkit's side of the side-by-side comparison in `bench/compare/` (run it all with
//! `bash bench/compare/run.sh`). Two commands, each printing `RESULT {json}` lines:
//!
//! - `text`: reads the 50,000 labeled reviews from `aclImdb_v1.tar.gz`, strips `<br />`, fits a
//!   `Tokenizer` with 10,000 words on the 25,000 training reviews, maps both splits to ids and
//!   pads them to 500 ('pre' / 'pre'), timing each phase; `--out` writes the ids in file order
//!   (`rnnkit_text_train.npy`, `rnnkit_text_test.npy`) to check them against Keras' pipeline.
//! - `train`: trains the lesson's model (`sentiment::lesson_model`, RmsProp(0.001), binary
//!   cross-entropy, accuracy, batch 32) on the ids that `bench/compare/prepare_data.py` wrote
//!   (`x_train.npy`, `y_train.npy`, `x_val.npy`, ...), timing each epoch (training + validation)
//!   and `evaluate` on the test reviews.
//!
//! ```text
//! cargo run --release --example compare -- text --data ../shared/data/aclImdb_v1.tar.gz
//! cargo run --release --example compare -- train --ids bench/compare/out/ids
//! ```

use clap::{Parser, Subcommand};
use rnnkit::datasets::imdb;
use rnnkit::prelude::*;
use sentiment::SentimentConfig;

// The lesson's pipeline and model, from the sentiment example.
#[allow(dead_code)]
#[path = "common/recurrent_kind.rs"]
mod recurrent_kind;
#[allow(dead_code)]
#[path = "sentiment/pipeline.rs"]
mod sentiment;
use rnnkit::text::{pad_sequences, strip_html_breaks, Padding, Tokenizer, Truncating};
use serde_json::json;
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

type Outcome<T> = std::result::Result<T, Box<dyn Error>>;

/// rnnkit's timings for bench/compare/run.sh.
#[derive(Parser, Debug)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Time reading, cleaning, tokenizing and padding the 50,000 labeled reviews.
    Text {
        /// `aclImdb_v1.tar.gz`, its unpacked `aclImdb/`, or a folder holding either.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Write the padded ids in file order into this folder.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Train the lesson's model on prepared ids; time each epoch and `evaluate`.
    Train {
        /// The folder holding x_train.npy, y_train.npy, x_val.npy, y_val.npy, x_test.npy, y_test.npy.
        #[arg(long)]
        ids: PathBuf,
        /// Passes over the training reviews.
        #[arg(long, default_value_t = 3)]
        epochs: usize,
        /// Reviews per gradient update.
        #[arg(long, default_value_t = 32)]
        batch_size: usize,
        /// Seed of the initial weights and of the shuffling.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() -> Outcome<()> {
    match Args::parse().command {
        Command::Text { data, out } => text(data.as_deref(), out.as_deref()),
        Command::Train { ids, epochs, batch_size, seed } => train(&ids, epochs, batch_size, seed),
    }
}

/// The lesson's text pipeline with rnnkit, phase by phase.
fn text(data: Option<&Path>, out: Option<&Path>) -> Outcome<()> {
    let config = SentimentConfig::default();
    let started = Instant::now();
    let reviews = imdb::load(data)?;
    let read_s = started.elapsed().as_secs_f64();

    let mark = Instant::now();
    let clean = |texts: &[String]| -> Vec<String> {
        texts.iter().map(|text| strip_html_breaks(text)).collect()
    };
    let train_texts = clean(&reviews.train.texts);
    let test_texts = clean(&reviews.test.texts);
    let clean_s = mark.elapsed().as_secs_f64();

    let mark = Instant::now();
    let mut tokenizer = Tokenizer::new().num_words(config.num_words);
    tokenizer.fit_on_texts(&train_texts);
    let fit_s = mark.elapsed().as_secs_f64();

    let mark = Instant::now();
    let train_sequences = tokenizer.texts_to_sequences(&train_texts);
    let test_sequences = tokenizer.texts_to_sequences(&test_texts);
    let map_s = mark.elapsed().as_secs_f64();

    let mark = Instant::now();
    let pad = |sequences: &[Vec<u32>]| {
        pad_sequences(sequences, Some(config.maxlen), Padding::Pre, Truncating::Pre, 0.0)
    };
    let x_train = pad(&train_sequences)?;
    let x_test = pad(&test_sequences)?;
    let pad_s = mark.elapsed().as_secs_f64();
    let total_s = started.elapsed().as_secs_f64();

    let result = json!({
        "kind": "text", "contender": "rnnkit",
        "reviews": train_texts.len() + test_texts.len(),
        "vocabulary": tokenizer.word_index().len(),
        "read_s": read_s, "clean_s": clean_s, "fit_s": fit_s, "map_s": map_s, "pad_s": pad_s,
        "total_s": total_s,
    });
    println!("RESULT {result}");
    if let Some(out) = out {
        fs::create_dir_all(out)?;
        npy::write_i32(&out.join("rnnkit_text_train.npy"), &x_train)?;
        npy::write_i32(&out.join("rnnkit_text_test.npy"), &x_test)?;
        println!("ids written to {}", out.display());
    }
    Ok(())
}

/// Trains the lesson's model one epoch per `fit` call so that each epoch is timed on its own.
fn train(ids: &Path, epochs: usize, batch_size: usize, seed: u64) -> Outcome<()> {
    let load = |name: &str| npy::read_f32(&ids.join(format!("{name}.npy")));
    let (x_train, y_train) = (load("x_train")?, load("y_train")?);
    let (x_val, y_val) = (load("x_val")?, load("y_val")?);
    let (x_test, y_test) = (load("x_test")?, load("y_test")?);

    let config = SentimentConfig { seed, ..SentimentConfig::default() };
    let mut model = sentiment::lesson_model(&config)?;
    model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    let mut fit_config = FitConfig {
        epochs: 1,
        batch_size,
        validation_data: Some((x_val, y_val)),
        verbose: 0,
        ..FitConfig::default()
    };
    let mut epoch_s = Vec::with_capacity(epochs);
    for epoch in 1..=epochs {
        // One seed per epoch: each call to `fit` starts its shuffling afresh.
        fit_config.seed = Some(seed.wrapping_mul(1000).wrapping_add(epoch as u64));
        let mark = Instant::now();
        let history = model.fit(&x_train, &y_train, &fit_config)?;
        let seconds = mark.elapsed().as_secs_f64();
        epoch_s.push(seconds);
        let last = |key: &str| history.metric(key).and_then(|values| values.last().copied());
        let line = json!({
            "kind": "epoch", "contender": "rnnkit", "epoch": epoch, "seconds": seconds,
            "loss": last("loss"), "accuracy": last("accuracy"),
            "val_loss": last("val_loss"), "val_accuracy": last("val_accuracy"),
        });
        println!("RESULT {line}");
    }

    let mark = Instant::now();
    let scores = model.evaluate_batched(&x_test, &y_test, batch_size)?;
    let evaluate_s = mark.elapsed().as_secs_f64();
    let result = json!({
        "kind": "train", "contender": "rnnkit", "version": env!("CARGO_PKG_VERSION"),
        "threads": rayon::current_num_threads(), "epochs": epochs, "batch_size": batch_size,
        "train_samples": x_train.shape()[0], "test_samples": x_test.shape()[0],
        "epoch_s": epoch_s, "evaluate_s": evaluate_s,
        "test_loss": scores.loss, "test_accuracy": scores.metric("accuracy"),
    });
    println!("RESULT {result}");
    Ok(())
}

/// The two corners of NumPy's `.npy` format (version 1.0) that the comparison exchanges:
/// little-endian `int32` and `float32` arrays in C order.
mod npy {
    use super::Outcome;
    use ndarray::{Array2, ArrayD, IxDyn};
    use std::fs;
    use std::path::Path;

    const MAGIC: &[u8] = b"\x93NUMPY";

    /// Reads an `int32` or `float32` array as `f32` (ids below 2²⁴ are exact).
    pub fn read_f32(path: &Path) -> Outcome<ArrayD<f32>> {
        let bytes = fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
        let bad =
            |what: &str| format!("{}: {what}; expected a .npy file (version 1.0)", path.display());
        if bytes.len() < 10 || &bytes[..6] != MAGIC || bytes[6] != 1 {
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

    /// Writes whole-number `f32` ids as an `int32` array.
    pub fn write_i32(path: &Path, ids: &Array2<f32>) -> Outcome<()> {
        let (rows, columns) = ids.dim();
        let mut header =
            format!("{{'descr': '<i4', 'fortran_order': False, 'shape': ({rows}, {columns}), }}");
        // Header padded with spaces and a newline so that the data starts at a multiple of 64.
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut bytes = Vec::with_capacity(10 + header.len() + 4 * ids.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&[1, 0]);
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        for &id in ids.iter() {
            bytes.extend_from_slice(&(id as i32).to_le_bytes());
        }
        fs::write(path, bytes).map_err(|error| format!("{}: {error}", path.display()).into())
    }
}
