//! The shared training loops drive any model through `training::Model`: a model written here,
//! not a `Sequential`, gets `fit`, `evaluate`, `predict`, `train_on_batch` and callbacks.

use ndarray::{Array1, ArrayD, ArrayViewD, IxDyn};
use rnnkit::callbacks::{Callback, Control, Logs};
use rnnkit::model::{FitConfig, Scores, StopReason};
use rnnkit::optimizers::{Optimizer, Sgd};
use rnnkit::training::{self, ArraySource, Batch, DataSource, Model};
use std::path::Path;

/// y = w·x with a squared error, two inputs summed (to exercise lists of arrays), and the
/// optimizer's learning rate as the step size.
#[derive(Debug)]
struct Linear {
    w: f32,
    optimizer: Sgd,
    loss_sum: f64,
    samples: usize,
}

impl Linear {
    fn new(w: f32) -> Self {
        Linear { w, optimizer: Sgd::new(0.1), loss_sum: 0.0, samples: 0 }
    }

    fn loss_and_grad(&self, batch: &Batch) -> (f32, f32) {
        let x = &batch.x[0] + &batch.x[1];
        let e = x.mapv(|x| x * self.w) - &batch.y[0];
        let n = e.len() as f32;
        ((&e * &e).sum() / n, 2.0 * (&e * &x).sum() / n)
    }

    fn track(&mut self, loss: f32, samples: usize) {
        self.loss_sum += f64::from(loss) * samples as f64;
        self.samples += samples;
    }
}

impl Model for Linear {
    fn train_step(&mut self, batch: &Batch) -> rnnkit::Result<f32> {
        let (loss, grad) = self.loss_and_grad(batch);
        self.w -= self.optimizer.learning_rate() * grad;
        self.track(loss, batch.samples());
        Ok(loss)
    }

    fn test_step(&mut self, batch: &Batch) -> rnnkit::Result<f32> {
        let (loss, _) = self.loss_and_grad(batch);
        self.track(loss, batch.samples());
        Ok(loss)
    }

    fn predict_step(&mut self, x: &[ArrayViewD<'_, f32>]) -> rnnkit::Result<Vec<ArrayD<f32>>> {
        Ok(vec![(&x[0] + &x[1]).mapv(|x| x * self.w)])
    }

    fn reset_metrics(&mut self) {
        (self.loss_sum, self.samples) = (0.0, 0);
    }

    fn metrics_result(&self) -> Scores {
        let loss = if self.samples == 0 { 0.0 } else { self.loss_sum / self.samples as f64 };
        Scores { loss: loss as f32, metrics: vec![("w".into(), self.w)] }
    }

    fn get_weights(&self) -> Vec<ArrayD<f32>> {
        vec![ArrayD::from_elem(IxDyn(&[]), self.w)]
    }

    fn set_weights(&mut self, weights: Vec<ArrayD<f32>>) -> rnnkit::Result<()> {
        self.w = weights[0].iter().copied().next().unwrap_or(self.w);
        Ok(())
    }

    fn save_weights(&self, _path: &Path) -> rnnkit::Result<()> {
        Ok(())
    }

    fn optimizer(&self) -> Option<&dyn Optimizer> {
        Some(&self.optimizer)
    }

    fn optimizer_mut(&mut self) -> Option<&mut dyn Optimizer> {
        Some(&mut self.optimizer)
    }
}

/// Halves the learning rate before every epoch after the first, records the rate in the logs
/// and keeps the best weights, all through `&mut dyn Model`.
#[derive(Default)]
struct Recorder {
    events: Vec<String>,
    best: Option<(f32, Vec<ArrayD<f32>>)>,
}

impl Callback for Recorder {
    fn on_train_begin(&mut self, keys: &[String], _model: &mut dyn Model) -> rnnkit::Result<()> {
        self.events.push(format!("begin {}", keys.join(",")));
        Ok(())
    }

    fn on_epoch_begin(&mut self, epoch: usize, model: &mut dyn Model) -> rnnkit::Result<()> {
        if epoch > 1 {
            let optimizer = model.optimizer_mut().expect("an optimizer");
            let rate = optimizer.learning_rate();
            rnnkit::optimizers::LearningRateControl::set_learning_rate(optimizer, rate / 2.0)?;
        }
        self.events.push(format!("epoch begin {epoch}"));
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        model: &mut dyn Model,
    ) -> rnnkit::Result<Control> {
        let rate = model.optimizer().map_or(f32::NAN, |o| o.learning_rate());
        logs.insert("learning_rate", rate);
        let val_loss = logs.get("val_loss").expect("val_loss");
        if self.best.as_ref().is_none_or(|(best, _)| val_loss < *best) {
            self.best = Some((val_loss, model.get_weights()));
        }
        self.events.push(format!("epoch end {epoch}"));
        Ok(if epoch == 3 {
            Control::Stop(StopReason::Requested { epoch, reason: "three".into() })
        } else {
            Control::Continue
        })
    }
}

fn data(samples: usize) -> (ArrayD<f32>, ArrayD<f32>, ArrayD<f32>) {
    let a = Array1::from_shape_fn(samples, |i| (i % 7) as f32 / 7.0 - 0.4).into_dyn();
    let b = Array1::from_shape_fn(samples, |i| (i % 3) as f32 / 3.0).into_dyn();
    let y = (&a + &b).mapv(|x| 3.0 * x);
    (a, b, y)
}

#[test]
fn a_model_that_is_not_sequential_gets_fit_evaluate_predict_and_callbacks() -> rnnkit::Result<()> {
    let (a, b, y) = data(40);
    let mut model = Linear::new(0.0);
    let mut train = ArraySource::new(vec![a.view(), b.view()], vec![y.view()], 8)?.shuffled(1);
    let (va, vb, vy) = data(12);
    let mut validation = ArraySource::new(vec![va.view(), vb.view()], vec![vy.view()], 5)?;
    let mut recorder = Recorder::default();
    let config = FitConfig { epochs: 10, verbose: 0, ..FitConfig::default() };
    let history = training::fit(
        &mut model,
        &mut train,
        Some(&mut validation as &mut dyn DataSource),
        &config,
        &mut [&mut recorder],
    )?;
    assert_eq!(history.epochs(), 3);
    assert!(matches!(history.stop_reason(), StopReason::Requested { epoch: 3, .. }));
    assert_eq!(
        history.keys().collect::<Vec<_>>(),
        ["loss", "w", "val_loss", "val_w", "learning_rate"]
    );
    assert_eq!(history.metric("learning_rate"), Some(&[0.1f32, 0.05, 0.025][..]));
    let losses = history.metric("loss").expect("loss");
    assert!(losses[2] < losses[0], "training lowers the loss: {losses:?}");
    assert_eq!(
        recorder.events,
        [
            "begin loss,w,val_loss,val_w",
            "epoch begin 1",
            "epoch end 1",
            "epoch begin 2",
            "epoch end 2",
            "epoch begin 3",
            "epoch end 3"
        ]
    );
    // evaluate is the validation the history recorded last.
    let scores = training::evaluate(&mut model, &mut validation)?;
    assert_eq!(Some(scores.loss), history.metric("val_loss").map(|v| v[2]));
    let predicted = training::predict(&mut model, &mut validation)?;
    assert_eq!(predicted.len(), 1);
    assert_eq!(predicted[0], (&va + &vb).mapv(|x| x * model.w));
    let before = model.w;
    let batch = Batch::new(vec![a.clone(), b.clone()], vec![y.clone()]);
    let scores = training::train_on_batch(&mut model, &batch)?;
    assert_eq!(scores.metric("w"), Some(model.w));
    assert_ne!(model.w, before);
    Ok(())
}
