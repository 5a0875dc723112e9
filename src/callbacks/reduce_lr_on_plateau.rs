//! `ReduceLROnPlateau`: lower the learning rate when a monitored value stops improving.

use super::monitor::{Mode, Monitor};
use super::python_float::python_repr;
use super::{Callback, Control, Logs};
use crate::optimizers::LearningRateControl;
use crate::training::Model;
use crate::{Error, Result};

/// Multiplies the learning rate by `factor` when the monitored value has not improved for
/// `patience` epochs, as Keras' `keras.callbacks.ReduceLROnPlateau`.
///
/// After each epoch: during a cooldown the counter goes down and the wait is reset; an
/// improvement (by more than `min_delta`) records the new best and resets the wait; otherwise,
/// outside a cooldown, the wait grows, and when it reaches `patience` the rate becomes
/// max(rate·factor, min_lr) — if the rate is above `min_lr` — and a cooldown of `cooldown`
/// epochs starts. The rate in force is recorded in the logs as `learning_rate`, as Keras
/// records it. Rates are read and computed as Keras does (the `f32` rate widened to `f64`,
/// times `factor`), so the messages print Keras' digits.
///
/// Pass it to [`Sequential::fit_with_callbacks`](crate::model::Sequential::fit_with_callbacks)
/// (it reaches the model's optimizer through [`Model::optimizer_mut`]), or drive an optimizer
/// directly with [`ReduceLROnPlateau::on_epoch_end`], which takes any
/// [`LearningRateControl`]. [`ReduceLROnPlateau::messages`] keeps what it printed or would
/// have printed.
///
/// # Examples
/// In `fit`:
/// ```
/// use ndarray::{Array1, Array2};
/// use rnnkit::callbacks::ReduceLROnPlateau;
/// use rnnkit::prelude::*;
/// # fn main() -> rnnkit::Result<()> {
/// let mut model = Sequential::new();
/// model.add(Dense::new(1).activation(Activation::Sigmoid));
/// model.compile(Sgd::new(0.5), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
/// let x = Array2::from_shape_fn((32, 2), |(i, j)| ((i * 3 + j) % 5) as f32 - 2.0);
/// let y = Array1::from_shape_fn(32, |i| (i % 2) as f32); // not learnable: a plateau
/// let mut reduce = ReduceLROnPlateau::new().monitor("loss").factor(0.5).patience(1);
/// let config = FitConfig { epochs: 8, verbose: 0, ..FitConfig::default() };
/// let history = model.fit_with_callbacks(&x, &y, &config, &mut [&mut reduce])?;
/// let rates = history.metric("learning_rate").unwrap();
/// assert_eq!(rates[0], 0.5);
/// assert!(rates.windows(2).all(|pair| pair[1] <= pair[0]));
/// # Ok(())
/// # }
/// ```
///
/// On an optimizer alone:
/// ```
/// use rnnkit::callbacks::{Logs, ReduceLROnPlateau};
/// use rnnkit::optimizers::{AdamW, LearningRateControl};
/// # fn main() -> rnnkit::Result<()> {
/// let mut optimizer = AdamW::new(0.1);
/// let mut reduce = ReduceLROnPlateau::new().patience(1).factor(0.5);
/// for (epoch, val_loss) in [1.0, 1.0, 0.5].into_iter().enumerate() {
///     let mut logs: Logs = [("val_loss", val_loss)].into_iter().collect();
///     reduce.on_epoch_end(epoch + 1, &mut logs, &mut optimizer)?;
/// }
/// assert_eq!(optimizer.current_learning_rate(), 0.05);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ReduceLROnPlateau {
    monitor: Monitor,
    factor: f64,
    patience: usize,
    verbose: u8,
    cooldown: usize,
    min_lr: f64,
    wait: usize,
    cooldown_counter: usize,
    best: Option<f32>,
    messages: Vec<String>,
}

impl Default for ReduceLROnPlateau {
    fn default() -> Self {
        ReduceLROnPlateau::new()
    }
}

impl ReduceLROnPlateau {
    /// Keras' defaults: monitor `val_loss`, factor 0.1, patience 10, verbose 0, mode auto,
    /// min_delta 1e-4, cooldown 0, min_lr 0.
    pub fn new() -> Self {
        let mut monitor = Monitor::new("val_loss");
        monitor.min_delta = 1e-4;
        ReduceLROnPlateau {
            monitor,
            factor: 0.1,
            patience: 10,
            verbose: 0,
            cooldown: 0,
            min_lr: 0.0,
            wait: 0,
            cooldown_counter: 0,
            best: None,
            messages: Vec::new(),
        }
    }

    /// The value to watch (`"val_loss"`, `"loss"`, `"val_auc"`, ...). Default: `"val_loss"`.
    pub fn monitor(mut self, monitor: &str) -> Self {
        self.monitor.name = monitor.to_string();
        self
    }

    /// What the rate is multiplied by, in [0, 1). Default: 0.1.
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// Epochs without improvement before the rate is reduced. Default: 10.
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// 1 prints Keras' message at each reduction. Default: 0.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }

    /// Whether the value should go down or up. Default: [`Mode::Auto`].
    pub fn mode(mut self, mode: Mode) -> Self {
        self.monitor.mode = mode;
        self
    }

    /// The smallest change that counts as an improvement (its absolute value). Default: 1e-4.
    pub fn min_delta(mut self, min_delta: f32) -> Self {
        self.monitor.min_delta = min_delta;
        self
    }

    /// Epochs to wait after a reduction before counting again. Default: 0.
    pub fn cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The rate is never reduced below this. Default: 0.
    pub fn min_lr(mut self, min_lr: f64) -> Self {
        self.min_lr = min_lr;
        self
    }

    /// Epochs since the last improvement (Keras' `wait`).
    pub fn wait(&self) -> usize {
        self.wait
    }

    /// The best monitored value so far.
    pub fn best(&self) -> Option<f32> {
        self.best
    }

    /// Keras' messages of the reductions since the last `on_train_begin`
    /// (`"Epoch 4: ReduceLROnPlateau reducing learning rate to 0.010000000149011612."`),
    /// kept whatever `verbose` is.
    pub fn messages(&self) -> &[String] {
        &self.messages
    }

    /// Checks the arguments and that the monitored name is among `keys` (the names `fit`
    /// records), then forgets any previous run (Keras' `on_train_begin`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a factor outside [0, 1) (Keras refuses factor ≥ 1), a
    /// negative or non-finite `min_lr`, a non-finite `min_delta` or a name `fit` will not
    /// record.
    pub fn on_train_begin(&mut self, keys: &[String]) -> Result<()> {
        if !(0.0..1.0).contains(&self.factor) {
            return Err(Error::invalid(
                "ReduceLROnPlateau factor",
                "a number in [0, 1) (ReduceLROnPlateau does not support a factor >= 1.0)",
                self.factor,
            ));
        }
        if !(self.min_lr.is_finite() && self.min_lr >= 0.0) {
            return Err(Error::invalid(
                "ReduceLROnPlateau min_lr",
                "a finite number ≥ 0",
                self.min_lr,
            ));
        }
        self.monitor.check("ReduceLROnPlateau", keys)?;
        self.wait = 0;
        self.cooldown_counter = 0;
        self.best = None;
        self.messages.clear();
        Ok(())
    }

    /// Runs Keras' end-of-epoch decision for `epoch` (counted from 1) on its `logs`, records
    /// the rate in force as `learning_rate` in the logs, and lowers the optimizer's rate when
    /// the plateau has lasted `patience` epochs. Returns Keras' message when the rate was
    /// reduced (`"Epoch 4: ReduceLROnPlateau reducing learning rate to 0.010000000149011612."`),
    /// which is also printed (after an empty line, as Keras) when `verbose` is 1.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the monitored value is missing from `logs`, or when the
    /// optimizer refuses the new rate (a rate from a schedule).
    pub fn on_epoch_end<O: LearningRateControl + ?Sized>(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        optimizer: &mut O,
    ) -> Result<Option<String>> {
        let old_lr = f64::from(optimizer.current_learning_rate());
        logs.insert("learning_rate", old_lr as f32);
        let Some(current) = logs.get(&self.monitor.name) else {
            let keys: Vec<String> = logs.keys().map(String::from).collect();
            self.monitor.check("ReduceLROnPlateau", &keys)?;
            return Ok(None);
        };
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if self.monitor.is_improvement(current, self.best) {
            self.best = Some(current);
            self.wait = 0;
            return Ok(None);
        }
        if self.cooldown_counter > 0 {
            return Ok(None);
        }
        self.wait += 1;
        if self.wait < self.patience || old_lr <= f64::from(self.min_lr as f32) {
            return Ok(None);
        }
        let new_lr = (old_lr * self.factor).max(self.min_lr);
        optimizer.set_learning_rate(new_lr as f32)?;
        self.cooldown_counter = self.cooldown;
        self.wait = 0;
        let message = format!(
            "Epoch {epoch}: ReduceLROnPlateau reducing learning rate to {}.",
            python_repr(new_lr)
        );
        if self.verbose > 0 {
            println!("\n{message}");
        }
        self.messages.push(message.clone());
        Ok(Some(message))
    }
}

impl Callback for ReduceLROnPlateau {
    fn on_train_begin(&mut self, keys: &[String], _model: &mut dyn Model) -> Result<()> {
        ReduceLROnPlateau::on_train_begin(self, keys)
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        model: &mut dyn Model,
    ) -> Result<Control> {
        let optimizer = model.optimizer_mut().ok_or(Error::NotCompiled("ReduceLROnPlateau"))?;
        ReduceLROnPlateau::on_epoch_end(self, epoch, logs, optimizer)?;
        Ok(Control::Continue)
    }
}
