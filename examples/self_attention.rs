//! The self-attention lesson's model (Shusen Wang, "RNN models and NLP applications", lesson 9,
//! as Keras builds it with `MultiHeadAttention` and `LayerNormalization`) on the translation
//! example's task, dates written by people translated to ISO 8601, next to the encoder–decoder
//! LSTM with and without attention in one table.
//!
//! No recurrence: each side embeds its characters and their positions (attention alone does
//! not know the order of the steps), the encoder's characters attend to each other, the
//! decoder's characters attend to the ones before them (a causal mask) and then to the
//! encoder's, and a softmax reads each decoder step:
//!
//! ```python
//! def block(x, memory, causal):
//!     attended = MultiHeadAttention(4, 16)(x, memory, use_causal_mask=causal)
//!     return LayerNormalization()(Dense(64, activation="relu")(Concatenate()([x, attended])))
//! source = Concatenate()([Embedding(human_chars, 32)(source_ids), Embedding(30, 32)(source_positions)])
//! target = Concatenate()([Embedding(iso_chars, 32)(target_ids), Embedding(10, 32)(target_positions)])
//! encoded = block(source, source, False)
//! decoded = block(block(target, target, True), encoded, False)
//! outputs = Dense(iso_chars, activation="softmax")(decoded)
//! ```
//!
//! A step's input and what it attended to are joined by `Concatenate` and a `Dense` layer
//! (where a Transformer adds them), and the positions are model inputs (ids 0, 1, 2, ...)
//! read by an `Embedding`, as Keras' `PositionEmbedding` does. Translation is greedy: the
//! whole model runs once per output character, the decoder's input growing by the character
//! it chose; the causal mask keeps each step from seeing the ones after it.
//!
//! Run: `cargo run --release --example self_attention` (`-- --help` for the flags;
//! `--only-self-attention` skips the two recurrent models).

use clap::Parser;
use rnnkit::Result;
use std::time::Instant;

// The translation example's code and this lesson's model; this program uses part of them.
#[allow(dead_code)]
#[path = "translation/self_attention_model.rs"]
mod self_attention_model;
#[allow(dead_code)]
#[path = "translation/seq2seq.rs"]
mod seq2seq;
#[allow(dead_code)]
#[path = "translation/task.rs"]
mod task;

use self_attention_model::{SelfAttentionConfig, SelfAttentionTranslator};
use task::{Outcome, TaskConfig};

/// Trains lesson 9's self-attention model on the dates task, next to the recurrent models.
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
    /// Features of each step (half the character's embedding, half its position's).
    #[arg(long, default_value_t = 64)]
    dim: usize,
    /// Attention heads.
    #[arg(long, default_value_t = 4)]
    heads: usize,
    /// Seed of the data, the weights and the shuffling.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Train only the self-attention model.
    #[arg(long)]
    only_self_attention: bool,
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
    println!("{} training and {} test pairs", data.train.len(), data.test.len());

    let mut rows: Vec<(&str, Outcome)> = Vec::new();
    let config = SelfAttentionConfig { dim: args.dim, heads: args.heads, seed: args.seed };
    let mut translator = SelfAttentionTranslator::new(config)?;
    println!("\nself-attention:");
    rows.push((
        "self-attention (MultiHeadAttention)",
        task::train_and_test(&mut translator, &data, &task)?,
    ));
    if !args.only_self_attention {
        for (name, attention) in [("encoder–decoder LSTM", false), ("LSTM with attention", true)]
        {
            println!("\n{name}:");
            let config =
                seq2seq::Seq2SeqConfig { attention, seed: args.seed, ..Default::default() };
            let mut translator = seq2seq::Translator::new(config)?;
            rows.push((name, task::train_and_test(&mut translator, &data, &task)?));
        }
    }
    for (pair, got) in data.test.iter().zip(&rows[0].1.translations).take(6) {
        let mark = if *got == pair.iso { "ok" } else { "WRONG" };
        println!("  {:<30} → {got} {mark}", pair.human);
    }
    println!(
        "\n{} epochs on {} pairs, {} test dates:\n",
        args.epochs,
        data.train.len(),
        data.test.len()
    );
    println!(
        "| model | parameters | seconds per epoch | teacher-forced characters | exact match |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (name, outcome) in &rows {
        println!(
            "| {name} | {} | {:.1} | {:.4} | {:.4} |",
            outcome.parameters,
            outcome.seconds_per_epoch,
            outcome.char_accuracy,
            outcome.exact_match
        );
    }
    println!("\n{:.1} s in all", started.elapsed().as_secs_f64());
    Ok(())
}
