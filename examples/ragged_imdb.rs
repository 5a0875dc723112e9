//! The lesson's model on IMDB, three ways to batch the reviews: every review padded to 500 ids
//! (the lesson), each batch padded to its own longest review (`RaggedSequences`), and reviews
//! bucketed by length before batching (`bucket_boundaries`, as `tf.data`'s
//! `bucket_by_sequence_length`). Reports the test accuracy and the seconds per epoch of each.
//!
//! Embedding(10000, 32) → SimpleRNN(32) → Dense(1, sigmoid); RMSprop(0.001), binary
//! cross-entropy, accuracy; batch 32; reviews cut to their last 500 ids in every mode; the
//! 25,000 training reviews shuffled and split 20,000 / 5,000; the 25,000 test reviews for
//! `evaluate`. The modes run alternately, `--repeats` times each, and the table gives medians,
//! so that a machine shared with other work slows them alike.
//!
//! Run: `cargo run --release --example ragged_imdb` (`-- --help` for the flags).

use clap::Parser;
use ndarray::Array1;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rnnkit::data::RaggedSequences;
use rnnkit::datasets::imdb;
use rnnkit::prelude::*;
use rnnkit::text::{pad_sequences, strip_html_breaks, Padding, Tokenizer, Truncating};
use std::path::PathBuf;
use std::time::Instant;

const NUM_WORDS: usize = 10_000;
const MAXLEN: usize = 500;
const VALIDATION: usize = 5_000;

/// Times the lesson's model on IMDB with padded, ragged and bucketed batches.
#[derive(Parser, Debug)]
struct Args {
    /// `aclImdb_v1.tar.gz`, an unpacked `aclImdb/`, or a folder holding either.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Passes over the training reviews per run.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Runs of each mode, alternated.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Seed of the split; round r (from 0) seeds the initial weights and the shuffling with
    /// `seed + r`, the same for every mode of the round.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Bucket boundaries (review lengths in ids) of the bucketed mode.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "25,50,75,100,125,150,175,200,225,250,275,300,325,350,375,400,425,450,475,500"
    )]
    boundaries: Vec<usize>,
    /// Modes to run, among padded, ragged and bucketed.
    #[arg(long, value_delimiter = ',', default_value = "padded,ragged,bucketed")]
    modes: Vec<String>,
}

/// The reviews as ids, split.
struct Reviews {
    train: Vec<Vec<u32>>,
    y_train: Array1<f32>,
    val: Vec<Vec<u32>>,
    y_val: Array1<f32>,
    test: Vec<Vec<u32>>,
    y_test: Array1<f32>,
}

fn prepare(args: &Args) -> rnnkit::Result<Reviews> {
    let imdb::Imdb { train, test } = imdb::load(args.data.as_deref())?;
    let mut order: Vec<usize> = (0..train.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(args.seed));
    let mut tokenizer = Tokenizer::new().num_words(NUM_WORDS);
    tokenizer.fit_on_texts(order.iter().map(|&i| strip_html_breaks(&train.texts[i])));
    let encode = |texts: &[String], order: &[usize]| {
        tokenizer.texts_to_sequences(order.iter().map(|&i| strip_html_breaks(&texts[i])))
    };
    let labels = |labels: &[f32], order: &[usize]| order.iter().map(|&i| labels[i]).collect();
    let (fit, val) = order.split_at(order.len() - VALIDATION);
    let test_order: Vec<usize> = (0..test.len()).collect();
    Ok(Reviews {
        train: encode(&train.texts, fit),
        y_train: labels(&train.labels, fit),
        val: encode(&train.texts, val),
        y_val: labels(&train.labels, val),
        test: encode(&test.texts, &test_order),
        y_test: labels(&test.labels, &test_order),
    })
}

fn lesson_model(seed: u64, input_length: Option<usize>) -> rnnkit::Result<Sequential> {
    let mut model = Sequential::new().seed(seed);
    let embedding = Embedding::new(NUM_WORDS, 32);
    model.add(match input_length {
        Some(steps) => embedding.input_length(steps),
        None => embedding,
    });
    model.add(SimpleRnn::new(32));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    Ok(model)
}

/// One run's measurements.
struct Run {
    /// Ids the first epoch's training batches hold, padding included.
    padded_ids: usize,
    seconds_per_epoch: f64,
    test_accuracy: f32,
    evaluate_seconds: f64,
}

fn run(mode: &str, reviews: &Reviews, args: &Args, seed: u64) -> rnnkit::Result<Run> {
    let config = FitConfig {
        epochs: args.epochs,
        batch_size: 32,
        seed: Some(seed),
        verbose: 0,
        ..FitConfig::default()
    };
    let ragged = |sequences: &[Vec<u32>], labels: &Array1<f32>, boundaries: &[usize]| {
        RaggedSequences::new(sequences.to_vec(), labels.clone().into_dyn())
            .map(|data| data.batch_size(32).maxlen(MAXLEN).bucket_boundaries(boundaries.to_vec()))
    };
    let mut padded_ids = reviews.train.len() * MAXLEN;
    let (fit_seconds, evaluate_seconds, scores) = if mode == "padded" {
        let pad =
            |s: &[Vec<u32>]| pad_sequences(s, Some(MAXLEN), Padding::Pre, Truncating::Pre, 0.0);
        let (x_train, x_val, x_test) =
            (pad(&reviews.train)?, pad(&reviews.val)?, pad(&reviews.test)?);
        let mut model = lesson_model(seed, Some(MAXLEN))?;
        let config = FitConfig {
            validation_data: Some((x_val.into_dyn(), reviews.y_val.clone().into_dyn())),
            ..config
        };
        let start = Instant::now();
        model.fit(&x_train, &reviews.y_train, &config)?;
        let fit_seconds = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let scores = model.evaluate_batched(&x_test, &reviews.y_test, 32)?;
        (fit_seconds, start.elapsed().as_secs_f64(), scores)
    } else {
        let boundaries: &[usize] = if mode == "bucketed" { &args.boundaries } else { &[] };
        let train = ragged(&reviews.train, &reviews.y_train, boundaries)?;
        let val = ragged(&reviews.val, &reviews.y_val, boundaries)?;
        let test = ragged(&reviews.test, &reviews.y_test, boundaries)?;
        let mut rng = StdRng::seed_from_u64(seed);
        padded_ids = 0;
        for batch in train.epoch(&mut rng)? {
            padded_ids += train.batch(&batch)?.x.len();
        }
        let mut model = lesson_model(seed, None)?;
        let start = Instant::now();
        model.fit_ragged(&train, Some(&val), &config)?;
        let fit_seconds = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let scores = model.evaluate_ragged(&test)?;
        (fit_seconds, start.elapsed().as_secs_f64(), scores)
    };
    Ok(Run {
        padded_ids,
        seconds_per_epoch: fit_seconds / args.epochs as f64,
        test_accuracy: scores.metric("accuracy").unwrap_or(f32::NAN),
        evaluate_seconds,
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() -> rnnkit::Result<()> {
    let args = Args::parse();
    for mode in &args.modes {
        if !["padded", "ragged", "bucketed"].contains(&mode.as_str()) {
            return Err(rnnkit::Error::invalid("modes", "padded, ragged or bucketed", mode));
        }
    }
    let start = Instant::now();
    let reviews = prepare(&args)?;
    let ids: usize = reviews.train.iter().map(|r| r.len().min(MAXLEN)).sum();
    println!(
        "{} training, {} validation, {} test reviews; {:.1} training ids per review after the cut \
         to {MAXLEN}; prepared in {:.1} s; load average {}",
        reviews.train.len(),
        reviews.val.len(),
        reviews.test.len(),
        ids as f64 / reviews.train.len() as f64,
        start.elapsed().as_secs_f64(),
        load_average()
    );
    let mut runs: Vec<Vec<Run>> = args.modes.iter().map(|_| Vec::new()).collect();
    for repeat in 0..args.repeats {
        // Each round starts with the next mode, so that no mode always runs first.
        for k in 0..args.modes.len() {
            let index = (k + repeat) % args.modes.len();
            let mode = &args.modes[index];
            let result = run(mode, &reviews, &args, args.seed + repeat as u64)?;
            println!(
                "run {} {mode:>8}: {:.2} s per epoch, test accuracy {:.4}, evaluate {:.2} s; load {}",
                repeat + 1,
                result.seconds_per_epoch,
                result.test_accuracy,
                result.evaluate_seconds,
                load_average()
            );
            runs[index].push(result);
        }
    }
    println!();
    println!(
        "| batches | ids per epoch (padding included) | seconds per epoch | vs padded (same \
         round) | test accuracy | evaluate 25,000 |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let padded = args.modes.iter().position(|m| m == "padded");
    for (index, (mode, mode_runs)) in args.modes.iter().zip(&runs).enumerate() {
        let mut epoch: Vec<f64> = mode_runs.iter().map(|r| r.seconds_per_epoch).collect();
        let mut accuracy: Vec<f64> = mode_runs.iter().map(|r| f64::from(r.test_accuracy)).collect();
        let mut evaluate: Vec<f64> = mode_runs.iter().map(|r| r.evaluate_seconds).collect();
        // The ratio to the padded run of the same round, whose load was the closest.
        let ratio = padded.filter(|&p| p != index).map_or("1.00×".into(), |p| {
            let mut ratios: Vec<f64> = mode_runs
                .iter()
                .zip(&runs[p])
                .map(|(run, base)| run.seconds_per_epoch / base.seconds_per_epoch)
                .collect();
            format!("{:.2}×", median(&mut ratios))
        });
        println!(
            "| {mode} | {} | {:.2} | {ratio} | {:.4} | {:.2} s |",
            mode_runs[0].padded_ids,
            median(&mut epoch),
            median(&mut accuracy),
            median(&mut evaluate)
        );
    }
    println!(
        "\nmedians of {} runs of {} epochs each; load average at the end {}",
        args.repeats,
        args.epochs,
        load_average()
    );
    Ok(())
}
