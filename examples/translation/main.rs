//! The sequence-to-sequence lessons (Shusen Wang, "RNN models and NLP applications", lessons 7
//! and 8): an encoder–decoder LSTM trained with teacher forcing, then translating one
//! character at a time with inference models that share its layers (as Keras' character-level
//! sequence-to-sequence tutorial builds `encoder_model` and `decoder_model`), and the same
//! model with attention. The task is generated: dates written in many human formats
//! ("3 March 2021", "03/03/21", "Wed, Mar 3, 2021", ...) translated to ISO 8601
//! ("2021-03-03"), from `rnnkit::datasets::dates`.
//!
//! Both models train on the same pairs and are tested on pairs they never saw; the program
//! prints their exact-match accuracy side by side (a translation counts only when all 10
//! characters are right), by format, and draws the attention weights of a few test dates as
//! SVG heatmaps (the picture of lesson 8).
//!
//! Run: `cargo run --release --example translation -- --heatmaps docs` (`-- --help` for the
//! flags).

use clap::Parser;
use rnnkit::datasets::dates::{self, DateFormat};
use rnnkit::Result;
use std::path::PathBuf;
use std::time::Instant;

// The lessons' code, public for their tests; this program uses part of it.
#[allow(dead_code)]
mod seq2seq;
#[allow(dead_code)]
mod task;

use seq2seq::Seq2SeqConfig;
use task::{Outcome, TaskConfig};

/// Trains the encoder–decoder LSTM with and without attention on the dates task.
#[derive(Parser, Debug)]
struct Args {
    /// Training pairs.
    #[arg(long, default_value_t = 10_000)]
    train: usize,
    /// Test pairs (none of them among the training pairs).
    #[arg(long, default_value_t = 2_000)]
    test: usize,
    /// Passes over the training pairs.
    #[arg(long, default_value_t = 15)]
    epochs: usize,
    /// Pairs per gradient update.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Units of each LSTM.
    #[arg(long, default_value_t = 64)]
    units: usize,
    /// Seed of the data, the weights and the shuffling.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Draw the attention weights of the first test dates as SVG heatmaps in this folder.
    #[arg(long)]
    heatmaps: Option<PathBuf>,
    /// How many test dates to draw.
    #[arg(long, default_value_t = 3)]
    pictures: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let task = TaskConfig {
        train: args.train,
        test: args.test,
        epochs: args.epochs,
        batch_size: args.batch_size,
        seed: args.seed,
        verbose: 2,
    };
    let data = task::Data::new(&task)?;
    println!(
        "{} training and {} test pairs in {} formats, e.g.:",
        data.train.len(),
        data.test.len(),
        DateFormat::ALL.len()
    );
    for pair in data.test.iter().take(4) {
        println!("  {:<30} → {}", pair.human, pair.iso);
    }

    let mut outcomes = Vec::new();
    for attention in [false, true] {
        let config = Seq2SeqConfig {
            units: args.units,
            attention,
            seed: args.seed,
            ..Seq2SeqConfig::default()
        };
        let mut translator = seq2seq::Translator::new(config)?;
        println!("\n{}", translator.model.summary()?);
        let outcome = task::train_and_test(&mut translator, &data, &task)?;
        println!(
            "exact match on {} test dates: {:.4} (teacher-forced characters {:.4})",
            data.test.len(),
            outcome.exact_match,
            outcome.char_accuracy
        );
        for (pair, got) in data.test.iter().zip(&outcome.translations).take(6) {
            let mark = if *got == pair.iso { "ok" } else { "WRONG" };
            println!("  {:<30} → {got} {mark}", pair.human);
        }
        if let (Some(folder), Some(attention)) = (&args.heatmaps, &outcome.decoded.attention) {
            for path in task::draw_heatmaps(folder, &data.test, &outcome, attention, args.pictures)?
            {
                println!("attention weights drawn in {}", path.display());
            }
        }
        outcomes.push(outcome);
    }

    println!(
        "\n| model | parameters | seconds per epoch | teacher-forced characters | exact match |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (name, outcome) in ["encoder–decoder LSTM", "with attention"].iter().zip(&outcomes) {
        println!(
            "| {name} | {} | {:.1} | {:.4} | {:.4} |",
            outcome.parameters,
            outcome.seconds_per_epoch,
            outcome.char_accuracy,
            outcome.exact_match
        );
    }
    println!(
        "\nexact match by format:\n\n| format | example | LSTM | attention |\n|---|---|---:|---:|"
    );
    for format in DateFormat::ALL {
        let by =
            |outcome: &Outcome| task::exact_match_of(&data.test, &outcome.translations, format);
        let example = format.render(dates::Date::new(2021, 3, 3)?);
        println!(
            "| {format:?} | `{example}` | {:.3} | {:.3} |",
            by(&outcomes[0]),
            by(&outcomes[1])
        );
    }
    println!("\n{:.1} s in all", started.elapsed().as_secs_f64());
    Ok(())
}
