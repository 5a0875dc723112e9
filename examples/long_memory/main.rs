//! The Simple RNN's short memory next to GRU and LSTM (the lesson: "a Simple RNN is good at
//! short-term dependencies and bad at long-term ones"; the next lesson's LSTM is the cure).
//!
//! Each sequence starts with a value and ends with a second one a little above or below it; the
//! label says which, and every value between is noise (`memory::RecallTask`). SimpleRNN(32)
//! / GRU(32) / LSTM(32) → Dense(1, sigmoid), trained with Adam at sequence lengths 10 to 400
//! (each length starting from the weights learned at the length before), tested on fresh
//! sequences.
//! `--tokens` runs the token version instead: the first id is the class marker, every id after
//! it noise, through an Embedding. Then the two reasons the lesson gives: the norm of Aᵗ·h for a
//! recurrence matrix of spectral radius 0.9 and 1.2, and the norm of dL/dh_t in the trained
//! Simple RNN as t moves away from the end of the sequence.
//!
//! Run: `cargo run --release --example long_memory -- --csv docs/long_memory.csv --svg
//! docs/long_memory.svg` (add `-- --help` for the flags).

use clap::Parser;
use memory::{
    kind_name, mean_norms, power_norms, run_sweep, state_gradients, train_and_test, MemoryConfig,
    TaskKind,
};
use recurrent_kind::RecurrentKind;
use rnnkit::prelude::*;

// The lesson's code, public for its tests; this program uses part of it.
#[allow(dead_code, unused_imports)]
mod memory;
#[path = "../common/recurrent_kind.rs"]
mod recurrent_kind;
use std::path::PathBuf;
use std::time::Instant;

/// Trains SimpleRNN, GRU and LSTM on a task decided by the first step of each sequence.
#[derive(Parser, Debug)]
struct Args {
    /// Sequence lengths, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [10, 25, 50, 100, 200, 400])]
    lengths: Vec<usize>,
    /// Recurrent layers, comma-separated: simple-rnn, gru, lstm, bi-lstm.
    #[arg(long, value_delimiter = ',', default_values_t = ["simple-rnn".to_string(), "gru".into(), "lstm".into()])]
    kinds: Vec<String>,
    /// Passes over the training sequences.
    #[arg(long, default_value_t = MemoryConfig::default().epochs)]
    epochs: usize,
    /// Training sequences per length.
    #[arg(long, default_value_t = MemoryConfig::default().train_samples)]
    train_samples: usize,
    /// Test sequences per length.
    #[arg(long, default_value_t = MemoryConfig::default().test_samples)]
    test_samples: usize,
    /// Units of every recurrent layer (and dimension of the id vectors).
    #[arg(long, default_value_t = MemoryConfig::default().units)]
    units: usize,
    /// The token task instead: ids through an Embedding, the marker id first, then noise ids.
    #[arg(long)]
    tokens: bool,
    /// With --tokens: draw the noise from the marker ids too, so that they recur after the
    /// marker.
    #[arg(long)]
    markers_in_noise: bool,
    /// Train every length from fresh weights, rather than from the weights each layer learned
    /// at the length before.
    #[arg(long)]
    no_curriculum: bool,
    /// With --tokens: ids of the task, 0 unused, 1 and 2 the markers, the rest noise.
    #[arg(long, default_value_t = MemoryConfig::default().vocabulary)]
    vocabulary: usize,
    /// Sequences per gradient update.
    #[arg(long, default_value_t = MemoryConfig::default().batch_size)]
    batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = MemoryConfig::default().learning_rate)]
    learning_rate: f32,
    /// Seed of the data, the weights and the shuffling.
    #[arg(long, default_value_t = MemoryConfig::default().seed)]
    seed: u64,
    /// The sequence lengths, comma-separated, of the trained SimpleRNNs whose dL/dh_t is
    /// reported.
    #[arg(long, value_delimiter = ',', default_values_t = [100, 200])]
    gradient_lengths: Vec<usize>,
    /// Write the table of test accuracies as CSV here.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Draw the table as an SVG chart (accuracy by length, one line per layer) here.
    #[arg(long)]
    svg: Option<PathBuf>,
}

/// Distances T − t from the end at which dL/dh_t is reported.
const DISTANCES: [usize; 8] = [1, 2, 5, 10, 25, 50, 100, 200];

fn main() -> rnnkit::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let config = MemoryConfig {
        lengths: args.lengths,
        kinds: args.kinds.iter().map(|kind| kind.parse()).collect::<rnnkit::Result<_>>()?,
        batch_size: args.batch_size,
        markers_in_noise: args.markers_in_noise,
        vocabulary: args.vocabulary,
        embedding_dim: args.units,
        units: args.units,
        train_samples: args.train_samples,
        test_samples: args.test_samples,
        epochs: args.epochs,
        learning_rate: args.learning_rate,
        seed: args.seed,
        task: if args.tokens { TaskKind::Tokens } else { TaskKind::Recall },
        curriculum: !args.no_curriculum,
    };
    let task = match config.task {
        TaskKind::Recall => format!(
            "Is the last value below the first? First value flagged at step 0, last = first ± \
             U(0.05, 0.2) flagged at the end, U(−1, 1) noise between; layer({}) → Dense(1, \
             sigmoid)",
            config.units
        ),
        TaskKind::Tokens => format!(
            "Label = the first token (one of 2 markers), then noise; Embedding({}, {}) → \
             layer({}) → Dense(1, sigmoid)",
            config.vocabulary, config.embedding_dim, config.units
        ),
    };
    println!(
        "{task}, Adam({}), {} epochs of {} sequences{}, tested on {} fresh ones",
        config.learning_rate,
        config.epochs,
        config.train_samples,
        if config.curriculum { " (from the previous length's weights)" } else { "" },
        config.test_samples
    );
    let mut gradient_norms: Vec<Vec<f32>> = Vec::new();
    let table = run_sweep(&config, |result, model| {
        println!(
            "steps {:>4}  {:<9}  train accuracy {:.3}  test accuracy {:.3}  ({:.1} s)",
            result.steps,
            kind_name(result.kind),
            result.train_accuracy,
            result.test_accuracy,
            result.seconds
        );
        if result.kind == RecurrentKind::SimpleRnn && args.gradient_lengths.contains(&result.steps)
        {
            gradient_norms.push(state_gradient_norms(model, &config, result.steps)?);
        }
        Ok(())
    })?;
    println!("\nTest accuracy by sequence length:\n\n{table}\n");
    if let Some(path) = &args.csv {
        table.save_csv(path)?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = &args.svg {
        table.plot_svg(path)?;
        println!("wrote {}", path.display());
    }

    println!("\nWhy (1): a linear recurrence h_t = A·h_(t−1) multiplies by A at every step.");
    println!(
        "A = λ·Q, Q a random 16×16 orthogonal matrix (Keras' orthogonal initializer), so every"
    );
    println!("eigenvalue of A has modulus λ (the spectral radius); h a random unit vector.\n");
    let powers = [1, 10, 50, 100];
    print!("{:>5}", "λ");
    for t in powers {
        print!("  {:>11}", format!("‖A^{t}·h‖"));
    }
    println!();
    for radius in [0.9, 1.2] {
        let measured = power_norms(radius, &powers, 16, args.seed)?;
        print!("{radius:>5}");
        for norm in &measured.norms {
            print!("  {norm:>11.4e}");
        }
        println!();
    }

    for &steps in &args.gradient_lengths {
        if !gradient_norms.iter().any(|norms| norms.len() == steps) {
            let (_, mut model) = train_and_test(RecurrentKind::SimpleRnn, steps, &config)?;
            gradient_norms.push(state_gradient_norms(&mut model, &config, steps)?);
        }
    }
    for norms in &gradient_norms {
        print_gradient_norms(norms);
    }
    println!("\n{:.1} s in all", started.elapsed().as_secs_f64());
    Ok(())
}

/// Prints ‖dL/dh_t‖ at the listed distances from the end and at step 0.
fn print_gradient_norms(norms: &[f32]) {
    let steps = norms.len();
    println!(
        "\nWhy (2): in the SimpleRNN trained at length {steps}, the mean over 256 test sequences \
         of ‖dL/dh_t‖,\nthe gradient of each sequence's loss with respect to the state after \
         step t (exact, by back-propagation\nthrough h_t = tanh(x_t·W + h_(t−1)·U + b)); the \
         step that decides the label is t = 0.\n"
    );
    println!("{:>8}  {:>5}  {:>11}  {:>14}", "T − t", "t", "‖dL/dh_t‖", "÷ ‖dL/dh_(T−1)‖");
    let last = norms[steps - 1];
    // The listed distances, then step 0.
    for distance in DISTANCES.into_iter().filter(|&d| d < steps).chain([steps]) {
        let t = steps - distance;
        let norm = norms[t];
        println!("{distance:>8}  {t:>5}  {norm:>11.3e}  {:>14.3e}", norm / last);
    }
}

/// Mean ‖dL/dh_t‖ by step for a trained SimpleRNN on 256 fresh sequences of the task.
fn state_gradient_norms(
    model: &mut Sequential,
    config: &MemoryConfig,
    steps: usize,
) -> rnnkit::Result<Vec<f32>> {
    let (x, y) = config.sequences(steps, 256, config.seed.wrapping_add(7))?;
    Ok(mean_norms(&state_gradients(model, &x, &y)?))
}
