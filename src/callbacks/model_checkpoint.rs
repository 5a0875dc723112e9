//! `ModelCheckpoint`: save the weights during training.

use super::monitor::{Mode, Monitor};
use super::{Callback, Control, Logs};
use crate::training::Model;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// Saves the model's weights after each epoch, as Keras' `keras.callbacks.ModelCheckpoint`
/// with `save_weights_only=True` (`keras/src/callbacks/model_checkpoint.py`), through
/// [`Sequential::save_weights`](crate::model::Sequential::save_weights): a safetensors file, written atomically, so an interrupted run
/// never leaves a half-written checkpoint. The folder is created if missing, as Keras does.
///
/// `path` may contain Python-style placeholders, filled after each epoch: `{epoch}` (from 1)
/// and any logged value (`{val_loss}`), with an optional format `{epoch:02d}`,
/// `{val_loss:.4f}` — `"ckpt/weights.{epoch:02d}-{val_loss:.2f}.safetensors"` as in Keras.
///
/// With `save_best_only`, a file is written only when the monitored value (default
/// `val_loss`) improves on the best so far, which starts at `initial_value_threshold` (if set)
/// and, as in Keras, is kept across `fit` calls. A path without placeholders then always holds
/// the best weights.
///
/// # Errors
/// `fit` returns [`Error::InvalidArgument`] before training when the path names an unknown
/// value or format, or when `save_best_only` monitors a value that `fit` does not record (Keras
/// warns and saves every epoch); and the errors of [`Sequential::save_weights`](crate::model::Sequential::save_weights) when a file
/// cannot be written.
///
/// # Examples
/// ```
/// use rnnkit::prelude::*;
/// let checkpoint = ModelCheckpoint::new("checkpoints/best.safetensors")
///     .monitor("val_loss")
///     .save_best_only(true);
/// assert!(checkpoint.last_saved().is_none());
/// ```
#[derive(Clone, Debug)]
pub struct ModelCheckpoint {
    path: PathBuf,
    monitor: Monitor,
    save_best_only: bool,
    verbose: u8,
    best: Option<f32>,
    last_saved: Option<PathBuf>,
}

impl ModelCheckpoint {
    /// Saves to `path` (a template, see above) after every epoch.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        ModelCheckpoint {
            path: path.into(),
            monitor: Monitor::new("val_loss"),
            save_best_only: false,
            verbose: 0,
            best: None,
            last_saved: None,
        }
    }

    /// The value compared by `save_best_only`. Default: `"val_loss"`.
    pub fn monitor(mut self, monitor: &str) -> Self {
        self.monitor.name = monitor.to_string();
        self
    }

    /// Save only when the monitored value improves. Default: `false`.
    pub fn save_best_only(mut self, save_best_only: bool) -> Self {
        self.save_best_only = save_best_only;
        self
    }

    /// Whether lower or higher is better. Default: [`Mode::Auto`].
    pub fn mode(mut self, mode: Mode) -> Self {
        self.monitor.mode = mode;
        self
    }

    /// The value to beat before the first save with `save_best_only`. Default: none.
    pub fn initial_value_threshold(mut self, threshold: f32) -> Self {
        self.best = Some(threshold);
        self
    }

    /// 1 prints Keras' messages ("Epoch 3: val_loss improved from 0.41235 to 0.39871, saving
    /// model to ..."); 0 is silent. Default: 0.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }

    /// The best monitored value seen with `save_best_only`.
    pub fn best(&self) -> Option<f32> {
        self.best
    }

    /// The file written last, if any.
    pub fn last_saved(&self) -> Option<&Path> {
        self.last_saved.as_deref()
    }

    /// `path` with its placeholders filled for `epoch` and `logs`.
    fn file_path(&self, epoch: usize, logs: &Logs) -> Result<PathBuf> {
        let Some(template) = self.path.to_str() else { return Ok(self.path.clone()) };
        fill_template(template, epoch, logs).map(PathBuf::from)
    }
}

impl Callback for ModelCheckpoint {
    fn on_train_begin(&mut self, keys: &[String], _model: &mut dyn Model) -> Result<()> {
        if self.save_best_only {
            self.monitor.check("ModelCheckpoint", keys)?;
        }
        // Every placeholder must name a value that will be logged.
        let sample: Logs = keys.iter().map(|key| (key.as_str(), 0.0)).collect();
        self.file_path(1, &sample).map(|_| ())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        model: &mut dyn Model,
    ) -> Result<Control> {
        let path = self.file_path(epoch, logs)?;
        if self.save_best_only {
            if let Some(current) = logs.get(&self.monitor.name) {
                let best = self.best.map_or_else(|| "None".to_string(), |b| format!("{b:.5}"));
                let name = &self.monitor.name;
                if !self.monitor.is_improvement(current, self.best) {
                    if self.verbose > 0 {
                        println!("Epoch {epoch}: {name} did not improve from {best}");
                    }
                    return Ok(Control::Continue);
                }
                if self.verbose > 0 {
                    println!(
                        "Epoch {epoch}: {name} improved from {best} to {current:.5}, saving \
                         model to {}",
                        path.display()
                    );
                }
                self.best = Some(current);
            }
        } else if self.verbose > 0 {
            println!("Epoch {epoch}: saving model to {}", path.display());
        }
        if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
        }
        model.save_weights(&path)?;
        self.last_saved = Some(path);
        Ok(Control::Continue)
    }
}

/// Fills `{name}` and `{name:spec}` placeholders (`{{` and `}}` are literal braces) with
/// `epoch` or a value of `logs`, as Python's `str.format`. Specs: `[0][width][.precision][d|f]`.
fn fill_template(template: &str, epoch: usize, logs: &Logs) -> Result<String> {
    let bad = |what: String| {
        let mut known = vec!["epoch".to_string()];
        known.extend(logs.keys().map(str::to_string));
        Error::invalid(
            "ModelCheckpoint path",
            format!(
                "placeholders {{name}} or {{name:spec}} naming one of {} with a spec such as 02d \
                 or .4f",
                known.join(", ")
            ),
            format!("{what} in '{template}'"),
        )
    };
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        let end = match (tail.starts_with('{'), tail.find('}')) {
            (true, Some(end)) => end,
            _ => return Err(bad("an unmatched brace".into())),
        };
        let field = &tail[1..end];
        let (name, spec) = field.split_once(':').unwrap_or((field, ""));
        let value = if name == "epoch" {
            Value::Int(epoch)
        } else {
            Value::Float(logs.get(name).ok_or_else(|| bad(format!("{{{name}}}")))?)
        };
        out.push_str(&value.format(spec).ok_or_else(|| bad(format!("{{{field}}}")))?);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A value substituted into a path.
enum Value {
    Int(usize),
    Float(f32),
}

impl Value {
    /// Formats as Python's format spec `[0][width][.precision][d|f]` does; `None` for a spec
    /// outside that subset (or `d` for a float, which Python refuses too).
    fn format(&self, spec: &str) -> Option<String> {
        let (spec, kind) = match spec.chars().last() {
            Some(c @ ('d' | 'f')) => (&spec[..spec.len() - 1], Some(c)),
            _ => (spec, None),
        };
        let (width, precision) = match spec.split_once('.') {
            Some((width, precision)) => (width, Some(precision.parse::<usize>().ok()?)),
            None => (spec, None),
        };
        let zero = width.starts_with('0');
        let width = if width.is_empty() { 0 } else { width.parse::<usize>().ok()? };
        let text = match (self, kind, precision) {
            (Value::Int(v), None | Some('d'), None) => v.to_string(),
            (Value::Int(v), Some('f'), p) => format!("{:.*}", p.unwrap_or(6), *v as f64),
            (Value::Float(v), None, None) => f64::from(*v).to_string(),
            (Value::Float(v), None | Some('f'), p) => {
                format!("{:.*}", p.unwrap_or(6), f64::from(*v))
            }
            _ => return None,
        };
        let (sign, digits) = match text.strip_prefix('-') {
            Some(digits) => ("-", digits),
            None => ("", text.as_str()),
        };
        let pad = width.saturating_sub(text.len());
        Some(if zero {
            format!("{sign}{}{digits}", "0".repeat(pad))
        } else {
            format!("{}{text}", " ".repeat(pad))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_placeholders_as_python_format() {
        let logs: Logs = [("val_loss", 0.5f32), ("loss", -0.25)].into_iter().collect();
        let fill = |t: &str| fill_template(t, 3, &logs).unwrap();
        assert_eq!(fill("w.{epoch:02d}-{val_loss:.2f}.st"), "w.03-0.50.st");
        assert_eq!(fill("{epoch}/{loss}"), "3/-0.25");
        assert_eq!(fill("{loss:06.2f}"), "-00.25");
        assert_eq!(fill("{epoch:3d}|{{x}}"), "  3|{x}");
        assert_eq!(fill("plain.safetensors"), "plain.safetensors");
        for bad in ["{val_acc}", "{epoch", "x}", "{loss:d}", "{epoch:x}"] {
            let message = fill_template(bad, 1, &logs).unwrap_err().to_string();
            assert!(message.contains("ModelCheckpoint path"), "{message}");
        }
    }
}
