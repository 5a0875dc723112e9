//! Progress output of `fit`: the one place `verbose` controls.

use super::history::Scores;
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Instant;

/// Reports one epoch's progress as `verbose` asks: nothing (0), a bar (1), a line (2).
pub(super) struct Progress {
    verbose: u8,
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Progress {
    pub(super) fn start_epoch(verbose: u8, epoch: usize, epochs: usize, samples: usize) -> Self {
        if verbose > 0 {
            println!("Epoch {epoch}/{epochs}");
        }
        let bar = (verbose == 1).then(|| {
            let bar = ProgressBar::new(samples as u64);
            let template = "{pos:>6}/{len:6} [{bar:30}] {elapsed_precise} {per_sec:>12} {msg}";
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Progress { verbose, bar, started: Instant::now() }
    }

    /// After each batch: the samples seen so far and the running scores.
    pub(super) fn batch_done(&self, samples: usize, running: &Scores) {
        if let Some(bar) = &self.bar {
            bar.set_position(samples as u64);
            bar.set_message(running.to_string());
        }
    }

    /// At the end of the epoch, with the training and (if any) validation scores.
    pub(super) fn finish(self, train: &Scores, validation: Option<&Scores>) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let mut line = format!("{elapsed:.1}s - {train}");
        if let Some(val) = validation {
            line.push_str(&format!(" - val_{}", val.to_string().replace(" - ", " - val_")));
        }
        match (self.bar, self.verbose) {
            (Some(bar), _) if bar.is_hidden() => println!("{line}"),
            (Some(bar), _) => bar.finish_with_message(line),
            (None, 0) => {}
            (None, _) => println!("{line}"),
        }
    }
}
