//! The lesson's IMDB sentiment model, end to end (Shusen Wang, "RNN models and NLP
//! applications", lesson 3: Simple RNN). The Keras program it reproduces:
//!
//! ```python
//! model = Sequential()
//! model.add(Embedding(10000, 32, input_length=500))
//! model.add(SimpleRNN(32, return_sequences=False))
//! model.add(Dense(1, activation='sigmoid'))
//! model.summary()
//! model.compile(optimizer=RMSprop(lr=0.001), loss='binary_crossentropy', metrics=['acc'])
//! model.fit(x_train, y_train, epochs=3, batch_size=32, validation_data=(x_valid, y_valid))
//! model.evaluate(x_test, y_test)
//! ```
//!
//! Reviews have their `<br />` line breaks stripped (as Keras users do), a 10,000-word
//! vocabulary is learned on the training reviews, each review is cut or padded to its last 500
//! ids, and the 25,000 training reviews are shuffled and split 20,000 / 5,000.
//!
//! Run: `cargo run --release --example sentiment` (add `-- --help` for the flags;
//! `-- --imbalanced` trains on a tenth of the positive reviews without and with
//! `class_weight`). The data is
//! found through `--data`, `RNNKIT_DATA`, the user cache, or downloaded from Stanford.

use clap::Parser;
use pipeline::SentimentConfig;
use recurrent_kind::RecurrentKind;
use rnnkit::callbacks::Callback;
use rnnkit::datasets::imdb;
use rnnkit::prelude::*;

mod imbalanced;
mod pipeline;
#[path = "../common/recurrent_kind.rs"]
mod recurrent_kind;
use std::path::PathBuf;
use std::time::Instant;

/// Trains the lesson's Simple RNN on IMDB reviews and reports its test accuracy.
#[derive(Parser, Debug)]
struct Args {
    /// Passes over the training reviews.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Reviews per gradient update.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// `aclImdb_v1.tar.gz`, an unpacked `aclImdb/`, or a folder holding either.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Seed of the shuffling and of the initial weights.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Use this many training and this many test reviews, for a quick run.
    #[arg(long)]
    limit: Option<usize>,
    /// The recurrent layer: simple-rnn (the lesson), lstm, gru or bi-lstm.
    #[arg(long, default_value = "simple-rnn")]
    model: RecurrentKind,
    /// The lesson's variant: SimpleRnn(32, return_sequences) → Flatten → Dense.
    #[arg(long)]
    return_sequences: bool,
    /// Mask the padding (Keras' `mask_zero=True`): leading padded steps are skipped.
    #[arg(long)]
    mask_zero: bool,
    /// Fraction of the recurrent layer's input features dropped while training (`dropout`).
    /// Default: 0 for simple-rnn (the lesson), 0.2 for lstm, gru and bi-lstm, whose third epoch
    /// otherwise overfits on some seeds.
    #[arg(long)]
    dropout: Option<f32>,
    /// Fraction of the recurrent layer's state dropped while training (`recurrent_dropout`).
    #[arg(long, default_value_t = 0.0)]
    recurrent_dropout: f32,
    /// Write the per-epoch history as CSV here.
    #[arg(long)]
    history: Option<PathBuf>,
    /// Draw the learning curves (loss and accuracy by epoch) as an SVG chart here.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Save the trained weights here (safetensors; load them with `model.load_weights`).
    #[arg(long)]
    save: Option<PathBuf>,
    /// Stop once the validation loss has not improved for an epoch and keep the best epoch's
    /// weights (EarlyStopping on val_loss, patience 1, restore_best_weights).
    #[arg(long)]
    early_stopping: bool,
    /// Keep one positive training review in ten, then train without and with `class_weight`
    /// and compare their precision, recall and AUC on the balanced test set.
    #[arg(long)]
    imbalanced: bool,
}

const SENTENCES: [&str; 2] = ["a wonderful, moving film", "a dull waste of two hours"];

fn main() -> rnnkit::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let config = SentimentConfig {
        limit: args.limit,
        recurrent: args.model,
        return_sequences: args.return_sequences,
        mask_zero: args.mask_zero,
        dropout: args.dropout.unwrap_or(match args.model {
            RecurrentKind::SimpleRnn => 0.0,
            _ => 0.2,
        }),
        recurrent_dropout: args.recurrent_dropout,
        seed: args.seed,
        ..SentimentConfig::default()
    };

    let mut data = pipeline::prepare(imdb::load(args.data.as_deref())?, &config)?;
    println!(
        "{} training, {} validation, {} test reviews; prepared in {:.1} s",
        data.x_train.nrows(),
        data.x_val.nrows(),
        data.x_test.nrows(),
        started.elapsed().as_secs_f64()
    );

    if args.imbalanced {
        return imbalanced::run(&data, &config, args.epochs, args.batch_size);
    }
    let mut model = pipeline::lesson_model(&config)?;
    println!("{}", model.summary()?);
    if config.dropout > 0.0 || config.recurrent_dropout > 0.0 {
        println!(
            "recurrent layer: dropout {}, recurrent_dropout {} (while training)",
            config.dropout, config.recurrent_dropout
        );
    }
    model.compile(RmsProp::new(0.001), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    let fit_config = FitConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        // Moved, not copied: the validation reviews are needed only by `fit`.
        validation_data: Some((
            std::mem::take(&mut data.x_val).into_dyn(),
            std::mem::take(&mut data.y_val).into_dyn(),
        )),
        seed: Some(args.seed),
        ..FitConfig::default()
    };
    let training = Instant::now();
    let mut early_stopping =
        EarlyStopping::new().monitor("val_loss").patience(1).restore_best_weights(true).verbose(1);
    let mut callbacks: Vec<&mut dyn Callback> = Vec::new();
    if args.early_stopping {
        callbacks.push(&mut early_stopping);
    }
    let history =
        model.fit_with_callbacks(&data.x_train, &data.y_train, &fit_config, &mut callbacks)?;
    let per_epoch = training.elapsed().as_secs_f64() / history.epochs().max(1) as f64;
    if history.stop_reason() != &StopReason::Completed {
        println!("training stopped: {}", history.stop_reason());
    }
    if let Some(path) = &args.history {
        history.save_csv(path)?;
        println!("history written to {}", path.display());
    }
    if let Some(path) = &args.plot {
        history.plot_svg(path)?;
        println!("learning curves drawn in {}", path.display());
    }
    if let Some(path) = &args.save {
        model.save_weights(path)?;
        println!("weights saved to {}", path.display());
    }

    let evaluating = Instant::now();
    let scores = model.evaluate(&data.x_test, &data.y_test, args.batch_size)?;
    println!(
        "test: {scores} ({} reviews in {:.1} s)",
        data.x_test.nrows(),
        evaluating.elapsed().as_secs_f64()
    );
    let probabilities = model.predict(&data.encode(&SENTENCES)?, 2)?;
    for (sentence, p) in SENTENCES.iter().zip(probabilities.iter()) {
        println!("P(positive | \"{sentence}\") = {p:.3}");
    }
    println!(
        "{per_epoch:.1} s per epoch (training + validation); {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
