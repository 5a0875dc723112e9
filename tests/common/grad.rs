//! Gradient checks: analytic gradients against central finite differences.
//!
//! Two harnesses:
//!
//! * [`check_layer_gradients`] drives one built [`Layer`] directly. The scalar loss is
//!   `L = Σ output ⊙ R` for a fixed random `R` (accumulated in `f64`), so `dL/doutput = R`: the
//!   harness runs `forward(training = true)` and `backward(R, input_grad = true)` and compares
//!   every weight's accumulated [`Param::grad`] and the returned input gradient with
//!   `(L(v + h) − L(v − h)) / 2h` for every scalar `v`.
//! * [`check_model_gradients`] goes through a whole [`Sequential`] and its loss with the public
//!   API only: the analytic gradient is read back from one `train_on_batch` step of plain SGD
//!   (`w_new = w − lr·g`, so `g = (w_old − w_new) / lr`), the numeric one from `evaluate`'s mean
//!   loss with each weight perturbed through `set_weights`.
//!
//! An entry passes when `|analytic − numeric| ≤ atol + rtol·|numeric|`. On failure the harness
//! panics naming the worst entry (`simple_rnn/recurrent_kernel[1, 2]`, `input[0, 3, 1]`).

use std::fmt;

use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rnnkit::layers::{Layer, Mask};
use rnnkit::prelude::*;

/// Step and tolerances of a finite-difference check.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    /// The perturbation `h` applied to each scalar (the step actually taken is measured after
    /// rounding to `f32`).
    pub eps: f32,
    /// Absolute part of the tolerance.
    pub atol: f64,
    /// Relative part of the tolerance, times `|numeric|`.
    pub rtol: f64,
}

impl Tol {
    /// For single layers with `L = Σ output ⊙ R` (gradients of order 0.1–1).
    pub const LAYER: Tol = Tol { eps: 1e-2, atol: 1e-3, rtol: 2e-2 };
    /// For whole models through a mean loss (gradients of order 1e-3–1e-1, loss read as `f32`).
    pub const MODEL: Tol = Tol { eps: 1e-2, atol: 1e-4, rtol: 2e-2 };

    fn bound(&self, numeric: f64) -> f64 {
        self.atol + self.rtol * numeric.abs()
    }
}

/// Which entries of the input gradient the layer check compares.
pub enum InputGrad<'a> {
    /// Every input scalar.
    All,
    /// None: the input is not differentiable (token ids); `backward` must then return no
    /// gradient or an all-zero one.
    NotDifferentiable,
    /// Only the entries whose multi-index passes the filter (for example the unmasked steps of
    /// `Masking`, whose output jumps where a perturbation unmasks a step). The others are still
    /// returned in [`GradReport::input_grad`] for the caller's own checks.
    Where(&'a dyn Fn(&[usize]) -> bool),
}

/// The outcome of a passed check, for the test's log.
#[derive(Clone, Debug, Default)]
pub struct GradReport {
    /// Scalars compared.
    pub checked: usize,
    /// Largest `|a − n| / (atol + rtol·|n|)`: the fraction of the tolerance used (≤ 1 passes).
    pub worst_ratio: f64,
    /// Name of the entry with `worst_ratio`.
    pub worst_entry: String,
    /// Largest `|a − n| / max(|a|, |n|)` over entries with `max(|a|, |n|) ≥ REL_FLOOR`.
    pub worst_rel: f64,
    /// Name of the entry with `worst_rel`.
    pub worst_rel_entry: String,
    /// The analytic input gradient, when the layer returned one.
    pub input_grad: Option<ArrayD<f32>>,
}

/// Entries smaller than this (in both gradients) do not count towards [`GradReport::worst_rel`].
pub const REL_FLOOR: f64 = 1e-3;

impl fmt::Display for GradReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} scalars; worst rel err {:.2e} at {}; worst tolerance use {:.3} at {}",
            self.checked, self.worst_rel, self.worst_rel_entry, self.worst_ratio, self.worst_entry
        )
    }
}

/// One comparison that failed, kept to report the worst.
struct Failure {
    entry: String,
    analytic: f64,
    numeric: f64,
    ratio: f64,
}

/// Accumulates comparisons.
struct Comparer {
    tol: Tol,
    report: GradReport,
    failures: Vec<Failure>,
}

impl Comparer {
    fn new(tol: Tol) -> Self {
        Comparer { tol, report: GradReport::default(), failures: Vec::new() }
    }

    fn compare(&mut self, entry: impl FnOnce() -> String, analytic: f64, numeric: f64) {
        let entry = entry();
        let diff = (analytic - numeric).abs();
        let ratio = if analytic.is_finite() && numeric.is_finite() {
            diff / self.tol.bound(numeric)
        } else {
            f64::INFINITY
        };
        let scale = analytic.abs().max(numeric.abs());
        let rel = if scale >= REL_FLOOR { diff / scale } else { 0.0 };
        self.report.checked += 1;
        if ratio > self.report.worst_ratio || self.report.worst_entry.is_empty() {
            self.report.worst_ratio = ratio;
            self.report.worst_entry = entry.clone();
        }
        if rel > self.report.worst_rel || self.report.worst_rel_entry.is_empty() {
            self.report.worst_rel = rel;
            self.report.worst_rel_entry = entry.clone();
        }
        if ratio > 1.0 {
            self.failures.push(Failure { entry, analytic, numeric, ratio });
        }
    }

    fn finish(self, what: &str) -> GradReport {
        if !self.failures.is_empty() {
            let mut failures = self.failures;
            failures.sort_by(|a, b| b.ratio.total_cmp(&a.ratio));
            let listed: Vec<String> = failures
                .iter()
                .take(8)
                .map(|f| {
                    format!(
                        "  {}: analytic {:+.6e}, numeric {:+.6e}, |diff| {:.3e} = {:.2}× tolerance",
                        f.entry,
                        f.analytic,
                        f.numeric,
                        (f.analytic - f.numeric).abs(),
                        f.ratio
                    )
                })
                .collect();
            panic!(
                "{what}: {} of {} gradient entries differ from finite differences \
                 (eps {}, tolerance {} + {}·|numeric|); worst first:\n{}",
                failures.len(),
                self.report.checked,
                self.tol.eps,
                self.tol.atol,
                self.tol.rtol,
                listed.join("\n")
            );
        }
        self.report
    }
}

/// `[i, j, k]` of the `flat`-th element (row-major) of an array of shape `shape`.
pub fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &dim) in index.iter_mut().zip(shape).rev() {
        *slot = flat % dim;
        flat /= dim;
    }
    index
}

fn entry_name(prefix: &str, flat: usize, shape: &[usize]) -> String {
    format!("{prefix}{:?}", unravel(flat, shape))
}

/// A `shape` array of values drawn uniformly from `[low, high)` by a generator seeded with `seed`.
pub fn uniform(shape: &[usize], low: f32, high: f32, seed: u64) -> ArrayD<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    ArrayD::from_shape_fn(IxDyn(shape), |_| rng.gen_range(low..high))
}

/// `Σ output ⊙ r`, accumulated in `f64`.
fn weighted_sum(output: &ArrayD<f32>, r: &ArrayD<f32>) -> f64 {
    assert_eq!(output.shape(), r.shape(), "output shape changed between evaluations");
    output.iter().zip(r.iter()).map(|(&o, &r)| f64::from(o) * f64::from(r)).sum()
}

/// The seed of `R` in [`check_layer_gradients`].
pub const R_SEED: u64 = 0x5EED_0F04;

fn zero_grads(layer: &mut dyn Layer) {
    for param in layer.params_mut() {
        param.grad.fill(0.0);
    }
}

fn grads(layer: &dyn Layer) -> Vec<ArrayD<f32>> {
    layer.params().iter().map(|p| p.grad.clone()).collect()
}

/// Central differences of `f` at the `flat`-th scalar of `values`, with the step measured after
/// `f32` rounding. Restores the scalar.
fn central_difference(
    values: &mut ArrayD<f32>,
    flat: usize,
    eps: f32,
    mut f: impl FnMut(&ArrayD<f32>) -> f64,
) -> f64 {
    let original = *values.iter().nth(flat).expect("index in range");
    let plus = original + eps;
    let minus = original - eps;
    *values.iter_mut().nth(flat).expect("index in range") = plus;
    let up = f(values);
    *values.iter_mut().nth(flat).expect("index in range") = minus;
    let down = f(values);
    *values.iter_mut().nth(flat).expect("index in range") = original;
    (up - down) / (f64::from(plus) - f64::from(minus))
}

/// Checks every weight gradient and the whole input gradient of a built `layer`; see the module
/// documentation. Panics naming the worst entry when a gradient is wrong.
pub fn check_layer_gradients(
    layer: &mut dyn Layer,
    input: ArrayD<f32>,
    mask: Option<Mask>,
    tol: Tol,
) -> GradReport {
    check_layer_gradients_with(layer, input, mask, tol, InputGrad::All)
}

/// As [`check_layer_gradients`], choosing which input entries are compared.
pub fn check_layer_gradients_with(
    layer: &mut dyn Layer,
    mut input: ArrayD<f32>,
    mask: Option<Mask>,
    tol: Tol,
    input_check: InputGrad<'_>,
) -> GradReport {
    let what = format!("{} '{}'", layer.class_name(), layer.name());
    let mask = mask.as_ref();

    // Analytic gradients from zeroed accumulators.
    zero_grads(layer);
    let output = layer.forward(input.view(), mask, true).expect("forward (training)");
    let r = uniform(output.shape(), -1.0, 1.0, R_SEED);
    let input_grad = layer.backward(r.view(), true).expect("backward");
    let weight_grads = grads(layer);

    // Inference gives the same output as training.
    let inference = layer.forward(input.view(), mask, false).expect("forward (inference)");
    assert_eq!(inference.shape(), output.shape(), "{what}: training and inference shapes differ");
    let gap = inference
        .iter()
        .zip(&output)
        .map(|(a, b)| (a - b).abs() / (1.0 + b.abs()))
        .fold(0.0, f32::max);
    assert!(gap <= 1e-6, "{what}: training and inference outputs differ by {gap:e}");

    // `backward` accumulates: a second pass without zeroing doubles every weight gradient, and
    // `input_grad = false` returns no input gradient.
    layer.forward(input.view(), mask, true).expect("forward (training, again)");
    let none = layer.backward(r.view(), false).expect("backward without input gradient");
    assert!(none.is_none(), "{what}: backward(input_grad = false) returned an input gradient");
    for ((param, first), index) in layer.params().iter().zip(&weight_grads).zip(0..) {
        let doubled = first.mapv(|g| 2.0 * g);
        let worst =
            param.grad.iter().zip(doubled.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        let scale = doubled.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
        assert!(
            worst <= 1e-5 * scale,
            "{what}: weight {index} ({}) gradient does not accumulate over two backward passes \
             (max |g₂ − 2·g₁| = {worst:e})",
            param.name()
        );
    }

    let mut comparer = Comparer::new(tol);
    let loss_at = |layer: &mut dyn Layer, x: &ArrayD<f32>| -> f64 {
        let out = layer.forward(x.view(), mask, false).expect("forward (perturbed)");
        weighted_sum(&out, &r)
    };

    // Every weight.
    let names: Vec<&'static str> = layer.params().iter().map(|p| p.name()).collect();
    for (index, name) in names.iter().enumerate() {
        let shape = layer.params()[index].value.shape().to_vec();
        let prefix = format!("{}/{name}", layer.name());
        for flat in 0..shape.iter().product() {
            let mut values = layer.params()[index].value.clone();
            let numeric = central_difference(&mut values, flat, tol.eps, |perturbed| {
                layer.params_mut()[index].value.assign(perturbed);
                loss_at(layer, &input)
            });
            layer.params_mut()[index].value.assign(&values);
            let analytic = f64::from(*weight_grads[index].iter().nth(flat).expect("grad entry"));
            comparer.compare(|| entry_name(&prefix, flat, &shape), analytic, numeric);
        }
    }

    // The input.
    let shape = input.shape().to_vec();
    match (&input_check, &input_grad) {
        (InputGrad::NotDifferentiable, Some(g)) => {
            assert!(
                g.iter().all(|&v| v == 0.0),
                "{what}: a non-differentiable input received a non-zero gradient"
            );
        }
        (InputGrad::NotDifferentiable, None) => {}
        (_, None) => panic!("{what}: backward(input_grad = true) returned no input gradient"),
        (check, Some(g)) => {
            assert_eq!(g.shape(), input.shape(), "{what}: input gradient has the wrong shape");
            for flat in 0..input.len() {
                let index = unravel(flat, &shape);
                if let InputGrad::Where(keep) = check {
                    if !keep(&index) {
                        continue;
                    }
                }
                let numeric = central_difference(&mut input, flat, tol.eps, |x| loss_at(layer, x));
                let analytic = f64::from(g[IxDyn(&index)]);
                comparer.compare(|| format!("input{index:?}"), analytic, numeric);
            }
        }
    }

    let mut report = comparer.finish(&what);
    report.input_grad = input_grad;
    report
}

/// Checks the gradients of a built layer whose training-mode output is random (dropout): every
/// forward pass, the analytic one and each perturbed one, runs on a fresh clone of `snapshot`,
/// so all draw the same masks from the same generator state. The loss is `Σ output ⊙ R` of the
/// training-mode output, as in [`check_layer_gradients`]; every weight and every input scalar
/// is compared. Panics naming the worst entry when a gradient is wrong.
pub fn check_training_gradients<L: Layer + Clone>(
    snapshot: &L,
    mut input: ArrayD<f32>,
    mask: Option<Mask>,
    tol: Tol,
) -> GradReport {
    let what = format!("{} '{}' (training)", snapshot.class_name(), snapshot.name());
    let mask = mask.as_ref();
    let mut layer = snapshot.clone();
    zero_grads(&mut layer);
    let output = layer.forward(input.view(), mask, true).expect("forward (training)");
    let r = uniform(output.shape(), -1.0, 1.0, R_SEED);
    let input_grad = layer.backward(r.view(), true).expect("backward").expect("input gradient");
    let weight_grads = grads(&layer);
    let loss_at = |layer: &L, x: &ArrayD<f32>| -> f64 {
        let out = layer.clone().forward(x.view(), mask, true).expect("forward (perturbed)");
        weighted_sum(&out, &r)
    };

    let mut comparer = Comparer::new(tol);
    let mut perturbed = snapshot.clone();
    for (index, analytic) in weight_grads.iter().enumerate() {
        let shape = analytic.shape().to_vec();
        let prefix = format!("{}/{}", snapshot.name(), snapshot.params()[index].name());
        let mut values = snapshot.params()[index].value.clone();
        for flat in 0..values.len() {
            let numeric = central_difference(&mut values, flat, tol.eps, |v| {
                perturbed.params_mut()[index].value.assign(v);
                loss_at(&perturbed, &input)
            });
            let a = f64::from(*analytic.iter().nth(flat).expect("grad entry"));
            comparer.compare(|| entry_name(&prefix, flat, &shape), a, numeric);
        }
        perturbed.params_mut()[index].value.assign(&values);
    }
    let shape = input.shape().to_vec();
    assert_eq!(input_grad.shape(), input.shape(), "{what}: input gradient has the wrong shape");
    for flat in 0..input.len() {
        let index = unravel(flat, &shape);
        let numeric = central_difference(&mut input, flat, tol.eps, |x| loss_at(snapshot, x));
        let analytic = f64::from(input_grad[IxDyn(&index)]);
        comparer.compare(|| format!("input{index:?}"), analytic, numeric);
    }
    let mut report = comparer.finish(&what);
    report.input_grad = Some(input_grad);
    report
}

/// The learning rate of the SGD step [`check_model_gradients`] reads gradients from.
pub const MODEL_LR: f32 = 1.0;

/// Checks the gradient of `loss` (averaged over `x`'s samples, as `fit` does) with respect to
/// every weight of a built `model`, through the public API: compiles `model` with
/// `Sgd::new(MODEL_LR)` and `loss`, reads the analytic gradient from one `train_on_batch` step on
/// the whole of `x`, and compares it with central differences of `evaluate`'s loss. The model's
/// weights are restored afterwards. Panics naming the worst entry when a gradient is wrong.
pub fn check_model_gradients(
    model: &mut Sequential,
    loss: Loss,
    x: &ArrayD<f32>,
    y: &ArrayD<f32>,
    tol: Tol,
) -> GradReport {
    let samples = x.shape()[0];
    model.compile(Sgd::new(MODEL_LR), loss, &[]).expect("compile");
    let names: Vec<String> = model
        .layers()
        .flat_map(|layer| {
            let layer_name = layer.name().to_string();
            layer
                .params()
                .iter()
                .map(move |p| format!("{layer_name}/{}", p.name()))
                .collect::<Vec<_>>()
        })
        .collect();
    let trainable: Vec<bool> =
        model.layers().flat_map(|layer| vec![layer.is_trainable(); layer.params().len()]).collect();
    let original = model.get_weights();
    assert_eq!(names.len(), original.len(), "one name per weight");

    // Analytic: one plain SGD step, g = (w_old − w_new) / lr.
    let before = model.evaluate_batched(x, y, samples).expect("evaluate").loss;
    let scores = model.train_on_batch(x, y).expect("train_on_batch");
    assert!(
        (scores.loss - before).abs() <= 1e-5 * before.abs().max(1.0),
        "train_on_batch's loss {} differs from evaluate's {before}",
        scores.loss
    );
    let stepped = model.get_weights();
    let analytic: Vec<ArrayD<f64>> = original
        .iter()
        .zip(&stepped)
        .map(|(old, new)| {
            ndarray::Zip::from(old)
                .and(new)
                .map_collect(|&o, &n| (f64::from(o) - f64::from(n)) / f64::from(MODEL_LR))
        })
        .collect();

    // Numeric: central differences of evaluate's mean loss.
    let mut comparer = Comparer::new(tol);
    let mut weights = original.clone();
    for index in 0..weights.len() {
        let shape = weights[index].shape().to_vec();
        if !trainable[index] {
            assert!(
                analytic[index].iter().all(|&g| g == 0.0),
                "{}: a frozen weight changed in a training step",
                names[index]
            );
            continue;
        }
        for flat in 0..weights[index].len() {
            let mut values = weights[index].clone();
            let numeric = central_difference(&mut values, flat, tol.eps, |perturbed| {
                weights[index] = perturbed.clone();
                model.set_weights(weights.clone()).expect("set_weights");
                f64::from(model.evaluate_batched(x, y, samples).expect("evaluate (perturbed)").loss)
            });
            weights[index] = values;
            let a = *analytic[index].iter().nth(flat).expect("grad entry");
            comparer.compare(|| entry_name(&names[index], flat, &shape), a, numeric);
        }
    }
    model.set_weights(original).expect("restore weights");
    comparer.finish(&format!("model through {}", loss.keras_name()))
}

/// Names and builds `layer` for per-sample `shape` with a generator seeded by `seed`, then gives
/// every bias (every weight whose name ends in `bias`) random values from U(−0.5, 0.5), so that
/// checks do not run at the zero initial biases.
pub fn built_with_random_biases<L: Layer>(
    mut layer: L,
    name: &str,
    shape: &[usize],
    seed: u64,
) -> L {
    layer.set_name(name.to_string());
    layer.build(shape, &mut StdRng::seed_from_u64(seed)).expect("layer builds");
    let weights: Vec<ArrayD<f32>> = layer
        .params()
        .iter()
        .zip(0..)
        .map(|(p, i)| {
            if p.name().ends_with("bias") {
                uniform(p.value.shape(), -0.5, 0.5, seed.wrapping_add(100 + i))
            } else {
                p.value.clone()
            }
        })
        .collect();
    layer.set_weights(weights).expect("same shapes");
    layer
}

/// A `(3, 5)` mask with the first and last steps masked in every sample (leading masked steps
/// in either reading order), holes in between, and one sample fully masked.
pub fn mask_all_edges_and_empty_sample() -> Mask {
    ndarray::arr2(&[
        [false, true, false, true, false],
        [false, true, true, true, false],
        [false, false, false, false, false],
    ])
}
