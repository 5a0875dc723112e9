//! rnnkit's side of `bench/scaling/run.sh`.
//!
//! ```text
//! rnnkit-scaling measure --cell lstm --units 128 --batch 32 --steps 200 --embedding 32 \
//!     [--ftz] [--seconds 3] [--threads 2] [--seed 1]
//! rnnkit-scaling chart --summary out/summary.json --out ../../docs/scaling.svg
//! ```
//!
//! `measure` prints one `RESULT {json}` line: training and inference samples per second.
//! `--ftz` sets the flush-to-zero and denormals-are-zero bits in the main thread and in every
//! thread of rayon's pool before any work; without it the CPU runs as rnnkit leaves it.

mod chart;
mod ftz;
mod measure;

use measure::{Cell, Shape};
use std::collections::HashMap;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("measure") => options(&args[1..]).and_then(|o| measure_command(&o)),
        Some("chart") => options(&args[1..]).and_then(|o| chart_command(&o)),
        _ => Err("usage: rnnkit-scaling measure|chart [--option value ...]".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("rnnkit-scaling: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `--name value` pairs; a flag without a value (`--ftz`) maps to "true".
fn options(args: &[String]) -> Result<HashMap<String, String>, String> {
    let mut options = HashMap::new();
    let mut iter = args.iter().peekable();
    while let Some(arg) = iter.next() {
        let name = arg.strip_prefix("--").ok_or_else(|| format!("expected --option, got {arg}"))?;
        let value = match iter.peek() {
            Some(next) if !next.starts_with("--") => iter.next().cloned().unwrap_or_default(),
            _ => "true".to_string(),
        };
        options.insert(name.to_string(), value);
    }
    Ok(options)
}

fn number<T: std::str::FromStr>(
    options: &HashMap<String, String>,
    name: &str,
    default: Option<T>,
) -> Result<T, String> {
    match options.get(name) {
        Some(text) => text.parse().map_err(|_| format!("--{name}: not a number: {text}")),
        None => default.ok_or_else(|| format!("--{name} is required")),
    }
}

fn measure_command(options: &HashMap<String, String>) -> Result<(), String> {
    let cell_name = options.get("cell").ok_or("--cell simple_rnn|lstm|gru is required")?;
    let cell = Cell::parse(cell_name)
        .ok_or_else(|| format!("--cell: expected simple_rnn, lstm or gru, got {cell_name}"))?;
    let shape = Shape {
        cell,
        units: number(options, "units", None)?,
        batch: number(options, "batch", None)?,
        steps: number(options, "steps", None)?,
        embedding: number(options, "embedding", Some(32))?,
    };
    let threads: usize = number(options, "threads", Some(2))?;
    let seconds: f64 = number(options, "seconds", Some(3.0))?;
    let seed: u64 = number(options, "seed", Some(1))?;
    let ftz = options.contains_key("ftz");
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .start_handler(move |_| {
            if ftz {
                ftz::enable();
            }
        })
        .build_global()
        .map_err(|e| format!("rayon's thread pool: {e}"))?;
    if ftz {
        ftz::enable();
    }
    let measured = measure::run(&shape, seed, seconds).map_err(|e| e.to_string())?;
    let result = serde_json::json!({
        "contender": "rnnkit",
        "cell": cell_name, "units": shape.units, "batch": shape.batch, "steps": shape.steps,
        "embedding": shape.embedding, "threads": rayon::current_num_threads(), "ftz": ftz,
        "ftz_main_thread_after": ftz::enabled(),
        "train_sps": measured.train.per_second(), "train_batches": measured.train.rounds,
        "train_s": measured.train.seconds,
        "infer_sps": measured.inference.per_second(), "infer_rounds": measured.inference.rounds,
        "infer_s": measured.inference.seconds,
        "data_batches": measure::DATA_BATCHES, "last_loss": measured.last_loss,
    });
    println!("RESULT {result}");
    Ok(())
}

fn chart_command(options: &HashMap<String, String>) -> Result<(), String> {
    let summary = options.get("summary").ok_or("--summary PATH is required")?;
    let out = options.get("out").ok_or("--out PATH is required")?;
    let text = std::fs::read_to_string(summary).map_err(|e| format!("{summary}: {e}"))?;
    let summary: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{summary}: {e}"))?;
    let svg = chart::render(&summary)?;
    std::fs::write(out, svg).map_err(|e| format!("{out}: {e}"))
}
