//! Progress output of `fit`: the one place `verbose` controls.

use crate::callbacks::Logs;
use crate::model::Scores;
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

    /// At the end of the epoch, with its logs (training and validation values, and what the
    /// callbacks added).
    pub(super) fn finish(self, logs: &Logs) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let line = format!("{elapsed:.1}s - {logs}");
        match (self.bar, self.verbose) {
            (Some(bar), _) if bar.is_hidden() => println!("{line}"),
            (Some(bar), _) => bar.finish_with_message(line),
            (None, 0) => {}
            (None, _) => println!("{line}"),
        }
    }
}
