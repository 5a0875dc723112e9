//! The long-memory lesson (`examples/long_memory/memory`): the first-token task, the powers of λ·Q, dL/dh_t of a Simple RNN
//! (against central finite differences and against the layer's own back-propagation), and a
//! small run of the sweep with its CSV and chart.

use approx::assert_abs_diff_eq;
use long_memory::{
    mean_norms, memory_model, power_norms, run_sweep, scaled_orthogonal, state_gradients,
    train_and_test, MemoryConfig, MemoryTask, RecallTask, TaskKind, FIRST_NOISE, MARKERS,
    RECALL_FEATURES,
};
use ndarray::{s, Array1, Array2, Array3, ArrayD, Ix2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use recurrent_kind::RecurrentKind;
use rnnkit::prelude::*;
use rnnkit::{Error, Result};

// The lesson's code, all of it public for the example; the tests use part of it.
#[allow(dead_code, unused_imports)]
#[path = "../examples/long_memory/memory/mod.rs"]
mod long_memory;
#[path = "../examples/common/recurrent_kind.rs"]
mod recurrent_kind;

// ---------------------------------------------------------------- the task

#[test]
fn the_marker_decides_the_label_and_everything_else_is_noise() -> Result<()> {
    for marker_position in [0, 1] {
        let task = MemoryTask { steps: 30, vocabulary: 9, marker_position, ..MemoryTask::new(1) };
        let (x, y) = task.generate(101, 5)?;
        assert_eq!(x.dim(), (101, 30));
        assert_eq!(y.len(), 101);
        for (row, &label) in x.rows().into_iter().zip(&y) {
            assert!(label == 0.0 || label == 1.0, "label {label}");
            assert_eq!(row[marker_position] as usize, MARKERS[label as usize]);
            for (step, &id) in row.iter().enumerate().filter(|(s, _)| *s != marker_position) {
                assert_eq!(id.fract(), 0.0);
                let id = id as usize;
                assert!((FIRST_NOISE..9).contains(&id), "step {step}: id {id} is not noise");
            }
        }
        // Balanced: 51 zeros and 50 ones, so guessing scores 0.5.
        assert_eq!(y.iter().filter(|&&label| label == 1.0).count(), 50);
        assert_eq!(task.distance(), 29 - marker_position);
    }
    Ok(())
}

#[test]
fn the_noise_uses_every_noise_id_and_does_not_depend_on_the_label() -> Result<()> {
    let task = MemoryTask { vocabulary: 8, ..MemoryTask::new(50) };
    let (x, y) = task.generate(400, 9)?;
    // Mean noise id per class: both near the middle of 3..8 (5.0), whatever the label.
    for label in [0.0, 1.0] {
        let rows: Vec<usize> = (0..400).filter(|&i| y[i] == label).collect();
        let noise = rows.iter().flat_map(|&i| x.row(i).slice(s![1..]).to_vec());
        let (count, sum) = noise.fold((0usize, 0.0f64), |(n, s), id| (n + 1, s + f64::from(id)));
        assert_abs_diff_eq!(sum / count as f64, 5.0, epsilon = 0.05);
    }
    for id in FIRST_NOISE..8 {
        assert!(
            x.slice(s![.., 1..]).iter().any(|&v| v as usize == id),
            "noise id {id} never drawn"
        );
    }
    Ok(())
}

#[test]
fn markers_can_recur_in_the_noise_but_only_the_first_decides() -> Result<()> {
    // Ids 1..3: the noise is the two markers themselves.
    let task = MemoryTask { vocabulary: 3, markers_in_noise: true, ..MemoryTask::new(40) };
    let (x, y) = task.generate(64, 2)?;
    for (row, &label) in x.rows().into_iter().zip(&y) {
        assert_eq!(row[0] as usize, MARKERS[label as usize]);
        assert!(row.iter().all(|&id| id == 1.0 || id == 2.0), "{row}");
        // Both markers recur after the first step, whatever the label.
        assert!(row.iter().skip(1).any(|&id| id == 1.0) && row.iter().skip(1).any(|&id| id == 2.0));
    }
    Ok(())
}

#[test]
fn the_task_is_deterministic_by_seed() -> Result<()> {
    let task = MemoryTask::new(20);
    let first = task.generate(16, 3)?;
    assert_eq!(first, task.generate(16, 3)?);
    let other = task.generate(16, 4)?;
    assert_ne!(first.0, other.0);
    Ok(())
}

/// The recall task: flags at the first and the last step only; the last value is the first ±
/// a gap in range, below it exactly when the label is 1; U(−1, 1) noise between; balanced
/// labels; the same data for the same seed; bad settings name the argument.
#[test]
fn the_recall_task_asks_about_the_first_value_at_the_last_step() -> Result<()> {
    let task = RecallTask { min_gap: 0.1, max_gap: 0.15, ..RecallTask::new(40) };
    let (x, y) = task.generate(2001, 9)?;
    assert_eq!(x.dim(), (2001, 40, RECALL_FEATURES));
    assert_eq!(y.iter().filter(|&&label| label == 0.0).count(), 1001);
    assert_eq!(task.distance(), 38);
    let mut noise = Vec::new();
    for (sequence, &label) in x.outer_iter().zip(&y) {
        for (step, values) in sequence.outer_iter().enumerate() {
            assert_eq!(values[0], f32::from(step == 0), "the start flag");
            assert_eq!(values[1], f32::from(step == 39), "the end flag");
            if step != 0 && step != 39 {
                noise.push(f64::from(values[2]));
            }
        }
        let (first, last) = (sequence[[0, 2]], sequence[[39, 2]]);
        assert!(first.abs() <= 0.8, "{first}");
        assert!((0.0999..=0.1501).contains(&(first - last).abs()), "{first} {last}");
        assert_eq!(label, f32::from(last < first));
    }
    let mean = noise.iter().sum::<f64>() / noise.len() as f64;
    let spread = noise.iter().map(|v| v * v).sum::<f64>() / noise.len() as f64;
    assert!(noise.iter().all(|v| v.abs() <= 1.0));
    assert!(mean.abs() < 0.01, "noise mean {mean}");
    assert!((spread - 1.0 / 3.0).abs() < 0.01, "noise E[v²] {spread}, U(−1, 1) has 1/3");
    assert_eq!(task.generate(2001, 9)?, (x, y));
    assert_ne!(task.generate(5, 10)?.0, task.generate(5, 11)?.0);

    for (bad, name) in [
        (RecallTask::new(1), "`steps`"),
        (RecallTask { min_gap: 0.0, ..RecallTask::new(5) }, "`min_gap, max_gap`"),
        (RecallTask { min_gap: 0.2, max_gap: 0.1, ..RecallTask::new(5) }, "`min_gap, max_gap`"),
        (RecallTask { max_gap: 0.5, ..RecallTask::new(5) }, "`min_gap, max_gap`"),
        (RecallTask { min_gap: f32::NAN, ..RecallTask::new(5) }, "`min_gap, max_gap`"),
    ] {
        let error = bad.generate(4, 1).unwrap_err();
        assert!(error.to_string().contains(name), "{error}");
    }
    let error = RecallTask::new(5).generate(0, 1).unwrap_err();
    assert!(error.to_string().contains("`samples`"), "{error}");
    Ok(())
}

#[test]
fn bad_task_settings_are_errors_that_name_the_argument() {
    let cases = [
        (MemoryTask { steps: 0, ..MemoryTask::new(1) }, 4, "`steps`"),
        (MemoryTask { marker_position: 5, ..MemoryTask::new(5) }, 4, "`marker_position`"),
        (MemoryTask { vocabulary: 3, ..MemoryTask::new(5) }, 4, "`vocabulary`"),
        (MemoryTask::new(5), 0, "`samples`"),
        (
            MemoryTask { vocabulary: 2, markers_in_noise: true, ..MemoryTask::new(5) },
            4,
            "`vocabulary`",
        ),
    ];
    for (task, samples, name) in cases {
        let error = task.generate(samples, 0).unwrap_err();
        assert!(matches!(error, Error::InvalidArgument { .. }), "{error:?}");
        assert!(error.to_string().contains(name), "{error}");
    }
}

// ---------------------------------------------------------------- powers of λ·Q

#[test]
fn norms_of_powers_follow_lambda_to_the_t() -> Result<()> {
    let powers = [1, 10, 50, 100];
    for radius in [0.9, 1.2] {
        let measured = power_norms(radius, &powers, 16, 3)?;
        assert_eq!(measured.powers, powers);
        for (&t, &norm) in powers.iter().zip(&measured.norms) {
            // Q is orthogonal to f32 precision (as Keras' initializer gives it): ~1e-8 per step.
            let expected = radius.powi(t as i32);
            assert!((norm / expected - 1.0).abs() < 1e-5, "λ = {radius}, t = {t}: {norm}");
        }
    }
    // 0.9¹⁰⁰ ≈ 2.7·10⁻⁵ vanishes, 1.2¹⁰⁰ ≈ 8.3·10⁷ explodes.
    assert!(power_norms(0.9, &[100], 8, 1)?.norms[0] < 3e-5);
    assert!(power_norms(1.2, &[100], 8, 1)?.norms[0] > 8e7);
    // Powers in any order, repeated, and t = 0 (the unit vector itself).
    let unordered = power_norms(1.2, &[10, 0, 1, 10], 4, 2)?;
    assert_abs_diff_eq!(unordered.norms[1], 1.0, epsilon = 1e-12);
    assert_abs_diff_eq!(unordered.norms[0], unordered.norms[3]);
    assert_abs_diff_eq!(unordered.norms[0], 1.2f64.powi(10), epsilon = 1e-5);
    Ok(())
}

#[test]
fn the_matrix_is_lambda_times_an_orthogonal_matrix() -> Result<()> {
    let a = scaled_orthogonal(6, 0.9, 11)?;
    // AᵀA = λ²·I exactly when A = λ·Q with QᵀQ = I.
    let gram = a.t().dot(&a);
    for ((i, j), &value) in gram.indexed_iter() {
        let expected = if i == j { 0.81 } else { 0.0 };
        assert_abs_diff_eq!(value, expected, epsilon = 1e-6);
    }
    for (units, radius) in [(0, 0.9), (4, 0.0), (4, -1.0), (4, f64::NAN)] {
        let error = scaled_orthogonal(units, radius, 0).unwrap_err();
        assert!(matches!(error, Error::InvalidArgument { .. }), "{error:?}");
    }
    Ok(())
}

// ---------------------------------------------------------------- dL/dh_t

const STEPS: usize = 7;

fn tiny_config() -> MemoryConfig {
    MemoryConfig {
        task: TaskKind::Tokens,
        vocabulary: 6,
        embedding_dim: 3,
        units: 4,
        seed: 3,
        ..MemoryConfig::default()
    }
}

/// A tiny Embedding(6, 3) → SimpleRnn(4) → Dense(1, sigmoid) whose weights are scaled up so
/// that tanh works well away from its linear part, and a few sequences of the task.
fn tiny_model() -> Result<(Sequential, Array2<f32>, Array1<f32>)> {
    let config = tiny_config();
    let mut model = memory_model(RecurrentKind::SimpleRnn, STEPS, &config)?;
    let mut rng = StdRng::seed_from_u64(21);
    let weights = model
        .get_weights()
        .into_iter()
        .map(|w| w.mapv(|v| 3.0 * v + rng.gen_range(-0.3f32..0.3)))
        .collect();
    model.set_weights(weights)?;
    let (x, y) = config.task(STEPS).generate(5, 8)?;
    Ok((model, x, y))
}

/// The weights of the tiny model in `f64`: embeddings, W, U, b, v, c.
struct Weights {
    embeddings: Array2<f64>,
    kernel: Array2<f64>,
    recurrent_kernel: Array2<f64>,
    bias: Array1<f64>,
    dense_kernel: Array1<f64>,
    dense_bias: f64,
}

fn weights(model: &Sequential) -> Weights {
    let w = model.get_weights();
    let matrix = |a: &ArrayD<f32>| a.mapv(f64::from).into_dimensionality::<Ix2>().unwrap();
    let vector = |a: &ArrayD<f32>| a.iter().map(|&v| f64::from(v)).collect::<Array1<f64>>();
    Weights {
        embeddings: matrix(&w[0]),
        kernel: matrix(&w[1]),
        recurrent_kernel: matrix(&w[2]),
        bias: vector(&w[3]),
        dense_kernel: vector(&w[4]),
        dense_bias: f64::from(w[5][[0]]),
    }
}

/// The loss of one sample when its state after step `from` is `state`: the recurrence
/// h_s = tanh(x_s·W + h_{s−1}·U + b) run on from step `from + 1`, then p = σ(h_{T−1}·v + c) and
/// −y·log p − (1−y)·log(1−p), all in f64. `from = None` starts before step 0 from h = 0.
fn loss_from(
    w: &Weights,
    ids: &[f32],
    label: f64,
    from: Option<usize>,
    state: &Array1<f64>,
) -> f64 {
    let mut h = state.clone();
    let first = from.map_or(0, |t| t + 1);
    for &id in &ids[first..] {
        let x = w.embeddings.row(id as usize);
        h = (x.dot(&w.kernel) + h.dot(&w.recurrent_kernel) + &w.bias).mapv(f64::tanh);
    }
    let p = 1.0 / (1.0 + (-(h.dot(&w.dense_kernel) + w.dense_bias)).exp());
    -label * p.ln() - (1.0 - label) * (1.0 - p).ln()
}

/// The states h_0..h_{T−1} of one sample, in f64.
fn states(w: &Weights, ids: &[f32]) -> Vec<Array1<f64>> {
    let mut h = Array1::<f64>::zeros(w.bias.len());
    ids.iter()
        .map(|&id| {
            let x = w.embeddings.row(id as usize);
            h = (x.dot(&w.kernel) + h.dot(&w.recurrent_kernel) + &w.bias).mapv(f64::tanh);
            h.clone()
        })
        .collect()
}

#[test]
fn the_reference_recurrence_reproduces_the_model() -> Result<()> {
    let (mut model, x, y) = tiny_model()?;
    let w = weights(&model);
    let predicted = model.predict_batched(&x, 8)?;
    for (i, row) in x.rows().into_iter().enumerate() {
        let loss = loss_from(&w, row.as_slice().unwrap(), f64::from(y[i]), None, &Array1::zeros(4));
        let p = f64::from(predicted[[i, 0]]);
        let model_loss = -f64::from(y[i]) * p.ln() - (1.0 - f64::from(y[i])) * (1.0 - p).ln();
        assert_abs_diff_eq!(loss, model_loss, epsilon = 1e-5);
    }
    Ok(())
}

#[test]
fn state_gradients_match_central_differences() -> Result<()> {
    let (mut model, x, y) = tiny_model()?;
    let grads = state_gradients(&mut model, &x, &y)?;
    assert_eq!(grads.dim(), (5, STEPS, 4));
    let w = weights(&model);
    let step = 1e-6;
    let mut worst = 0.0f64;
    for (i, row) in x.rows().into_iter().enumerate() {
        let ids = row.as_slice().unwrap();
        let label = f64::from(y[i]);
        let states = states(&w, ids);
        for t in 0..STEPS {
            for k in 0..4 {
                let mut plus = states[t].clone();
                plus[k] += step;
                let mut minus = states[t].clone();
                minus[k] -= step;
                let numeric = (loss_from(&w, ids, label, Some(t), &plus)
                    - loss_from(&w, ids, label, Some(t), &minus))
                    / (2.0 * step);
                let analytic = f64::from(grads[[i, t, k]]);
                let error = (analytic - numeric).abs();
                assert!(
                    error <= 1e-5 + 1e-3 * numeric.abs(),
                    "sample {i}, dL/dh_{t}[{k}]: analytic {analytic}, numeric {numeric}"
                );
                worst = worst.max(error);
            }
        }
    }
    // The weights make tanh matter: the gradient really changes along the sequence.
    let norms = mean_norms(&grads);
    assert!((norms[0] / norms[STEPS - 1] - 1.0).abs() > 0.1, "{norms:?}");
    println!("worst absolute error {worst:.2e}");
    Ok(())
}

#[test]
fn state_gradients_agree_with_the_layers_own_back_propagation() -> Result<()> {
    // dL/dx_t = (dL/dh_t ⊙ (1 − h_t²))·Wᵀ, where SimpleRnn::backward computes dL/dx_t itself.
    let (mut model, x, y) = tiny_model()?;
    let grads = state_gradients(&mut model, &x, &y)?;
    let w = weights(&model);
    let all = model.get_weights();
    let mut rnn = SimpleRnn::new(4);
    rnn.build(&[STEPS, 3], &mut StdRng::seed_from_u64(0))?;
    rnn.set_weights(all[1..4].to_vec())?;
    let embedded =
        Array3::from_shape_fn((5, STEPS, 3), |(i, t, e)| all[0][[x[[i, t]] as usize, e]]);
    let last = rnn.forward(embedded.view().into_dyn(), None, true)?; // (batch, units)
    let mut grad_last = Array2::<f32>::zeros((5, 4));
    for i in 0..5 {
        let logit: f32 = (0..4).map(|k| last[[i, k]] * all[4][[k, 0]]).sum::<f32>() + all[5][[0]];
        let p = 1.0 / (1.0 + (-logit).exp());
        for k in 0..4 {
            grad_last[[i, k]] = (p - y[i]) * all[4][[k, 0]];
        }
    }
    let grad_input = rnn.backward(grad_last.view().into_dyn(), true)?.unwrap();
    for (i, row) in x.rows().into_iter().enumerate() {
        let states = states(&w, row.as_slice().unwrap());
        for t in 0..STEPS {
            let pre = grads.slice(s![i, t, ..]).mapv(f64::from) * states[t].mapv(|h| 1.0 - h * h);
            let expected = w.kernel.dot(&pre);
            for e in 0..3 {
                assert_abs_diff_eq!(
                    f64::from(grad_input[[i, t, e]]),
                    expected[e],
                    epsilon = 1e-5 + 1e-3 * expected[e].abs()
                );
            }
        }
    }
    Ok(())
}

#[test]
fn state_gradients_refuse_models_they_do_not_describe() -> Result<()> {
    let config = tiny_config();
    let (x, y) = config.task(STEPS).generate(4, 1)?;
    let mut lstm = memory_model(RecurrentKind::Lstm, STEPS, &config)?;
    let error = state_gradients(&mut lstm, &x, &y).unwrap_err();
    assert!(error.to_string().contains("Embedding → LSTM → Dense"), "{error}");

    // A SimpleRnn whose activation is not tanh cannot be described by the tanh recurrence.
    let mut relu = Sequential::new();
    relu.add(Embedding::new(6, 3).input_length(STEPS));
    relu.add(SimpleRnn::new(4).activation(Activation::Relu));
    relu.add(Dense::new(1).activation(Activation::Sigmoid));
    let weights = relu.get_weights().into_iter().map(|w| w.mapv(|v| 4.0 * v + 0.2)).collect();
    relu.set_weights(weights)?;
    let error = state_gradients(&mut relu, &x, &y).unwrap_err();
    assert!(error.to_string().contains("differ by"), "{error}");

    let (mut model, x, _) = tiny_model()?;
    let error = state_gradients(&mut model, &x, &Array1::zeros(3)).unwrap_err();
    assert!(matches!(error, Error::LengthMismatch { x: 5, y: 3 }), "{error:?}");
    let error = state_gradients(&mut model, &Array2::zeros((2, 0)), &Array1::zeros(2)).unwrap_err();
    assert!(matches!(error, Error::EmptyInput(_)), "{error:?}");
    for x in [ArrayD::zeros(vec![]), ArrayD::zeros(vec![2, 3, 4, 5])] {
        let error = state_gradients(&mut model, &x, &Array1::zeros(0)).unwrap_err();
        assert!(error.to_string().contains("dimensions"), "{error}");
    }
    Ok(())
}

/// On vectors, a SimpleRnn → Dense model gives the same dL/dh_t as the Embedding → SimpleRnn →
/// Dense model with the same weights gives on the ids whose embeddings those vectors are.
#[test]
fn state_gradients_on_vectors_match_those_on_the_ids_they_embed() -> Result<()> {
    let (mut model, x, y) = tiny_model()?;
    let all = model.get_weights();
    let embedded =
        Array3::from_shape_fn((5, STEPS, 3), |(i, t, e)| all[0][[x[[i, t]] as usize, e]]);
    let mut vectors = Sequential::new();
    vectors.add(SimpleRnn::new(4));
    vectors.add(Dense::new(1).activation(Activation::Sigmoid));
    vectors.build(&[STEPS, 3])?;
    vectors.set_weights(all[1..].to_vec())?;
    let on_ids = state_gradients(&mut model, &x, &y)?;
    let on_vectors = state_gradients(&mut vectors, &embedded, &y)?;
    assert_eq!(on_ids.dim(), (5, STEPS, 4));
    for (a, b) in on_ids.iter().zip(&on_vectors) {
        assert_abs_diff_eq!(a, b, epsilon = 1e-6 + 1e-5 * a.abs());
    }
    // Vectors given to a model that starts with an Embedding, and ids to one that does not.
    let error = state_gradients(&mut model, &embedded, &y).unwrap_err();
    assert!(error.to_string().contains("for vectors"), "{error}");
    let error = state_gradients(&mut vectors, &x, &y).unwrap_err();
    assert!(error.to_string().contains("for ids"), "{error}");
    Ok(())
}

#[test]
fn mean_norms_average_the_per_sample_norms() {
    // Sample 0: (3, 4) then (0, 0); sample 1: (0, 1) then (6, 8).
    let grads =
        Array3::from_shape_vec((2, 2, 2), vec![3.0, 4.0, 0.0, 0.0, 0.0, 1.0, 6.0, 8.0]).unwrap();
    assert_eq!(mean_norms(&grads), [3.0, 5.0]);
}

// ---------------------------------------------------------------- the sweep

fn quick_config() -> MemoryConfig {
    MemoryConfig {
        lengths: vec![4, 12],
        train_samples: 96,
        test_samples: 64,
        epochs: 2,
        batch_size: 16,
        ..MemoryConfig::default()
    }
}

#[test]
fn a_small_sweep_gives_a_row_per_length_and_a_column_per_layer() -> Result<()> {
    let config = quick_config();
    let mut seen = Vec::new();
    let table = run_sweep(&config, |result, model| {
        seen.push((result.kind, result.steps, model.summary()?.layers()[0].class_name.clone()));
        Ok(())
    })?;
    assert_eq!(
        seen.iter().map(|(_, _, class)| class.as_str()).collect::<Vec<_>>(),
        ["SimpleRNN", "GRU", "LSTM", "SimpleRNN", "GRU", "LSTM"]
    );
    assert_eq!(table.results().len(), 6);
    for result in table.results() {
        assert!((0.0..=1.0).contains(&result.test_accuracy), "{result:?}");
        assert!((0.0..=1.0).contains(&result.train_accuracy), "{result:?}");
        assert!(result.seconds > 0.0, "training takes time: {result:?}");
    }
    let csv = table.to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "steps,simple_rnn,gru,lstm");
    assert_eq!(lines.len(), 3);
    for (line, steps) in lines[1..].iter().zip(["4", "12"]) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0], steps);
        assert_eq!(cells.len(), 4);
        for cell in &cells[1..] {
            let accuracy: f32 = cell.parse().unwrap();
            assert!((0.0..=1.0).contains(&accuracy), "{line}");
        }
    }
    let text = table.to_string();
    assert!(text.starts_with("| steps | SimpleRNN | GRU | LSTM |\n|---:|---:|---:|---:|\n| 4 |"));
    assert_eq!(text.lines().count(), 4);

    let folder = std::env::temp_dir().join(format!("rnnkit-long-memory-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    table.save_csv(folder.join("table.csv"))?;
    assert_eq!(std::fs::read_to_string(folder.join("table.csv")).unwrap(), csv);
    table.plot_svg(folder.join("chart.svg"))?;
    let svg = std::fs::read_to_string(folder.join("chart.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    for label in ["SimpleRNN", "GRU", "LSTM", "chance (0.5)", "test accuracy"] {
        assert!(svg.contains(label), "the chart has no '{label}'");
    }
    std::fs::remove_dir_all(&folder).unwrap();
    let error = table.plot_svg("/nonexistent-rnnkit-folder/chart.svg").unwrap_err();
    assert!(error.to_string().contains("/nonexistent-rnnkit-folder/chart.svg"), "{error}");
    Ok(())
}

#[test]
fn training_is_deterministic_and_learns_the_short_task() -> Result<()> {
    let config = MemoryConfig {
        lengths: vec![5],
        train_samples: 2000,
        test_samples: 256,
        epochs: 10,
        ..MemoryConfig::default()
    };
    let (first, _) = train_and_test(RecurrentKind::SimpleRnn, 5, &config)?;
    let (again, _) = train_and_test(RecurrentKind::SimpleRnn, 5, &config)?;
    assert_eq!(first.test_accuracy, again.test_accuracy);
    assert_eq!(first.train_accuracy, again.train_accuracy);
    // Three noise steps between the two values: every layer compares them.
    assert!(first.test_accuracy > 0.95, "{first:?}");
    Ok(())
}

/// With a curriculum, a length's training starts from the weights learned at the length
/// before: its model equals one trained from those weights by hand, and differs from one
/// trained from fresh weights.
#[test]
fn the_curriculum_starts_each_length_from_the_weights_before() -> Result<()> {
    let config = MemoryConfig {
        kinds: vec![RecurrentKind::Gru],
        lengths: vec![4, 9],
        train_samples: 64,
        test_samples: 32,
        epochs: 2,
        batch_size: 16,
        ..MemoryConfig::default()
    };
    let mut trained = Vec::new();
    run_sweep(&config, |_, model| {
        trained.push(model.get_weights());
        Ok(())
    })?;
    let fresh = MemoryConfig { curriculum: false, ..config.clone() };
    let mut from_scratch = Vec::new();
    run_sweep(&fresh, |_, model| {
        from_scratch.push(model.get_weights());
        Ok(())
    })?;
    assert_eq!(trained[0], from_scratch[0], "the first length starts fresh either way");
    assert_ne!(trained[1], from_scratch[1]);

    // By hand: the model for length 9, set to the weights learned at length 4, then trained.
    let mut by_hand = memory_model(RecurrentKind::Gru, 9, &config)?;
    by_hand.set_weights(trained[0].clone())?;
    let data_seed = config.seed.wrapping_mul(1_000_003).wrapping_add(9);
    let (x, y) = config.sequences(9, config.train_samples, data_seed)?;
    by_hand.fit(&x, &y, &config.fit_config())?;
    assert_eq!(by_hand.get_weights(), trained[1]);
    Ok(())
}

#[test]
fn bad_sweep_settings_are_errors() {
    let zero_epochs = MemoryConfig { epochs: 0, ..quick_config() };
    let error = run_sweep(&zero_epochs, |_, _| Ok(())).unwrap_err();
    assert!(error.to_string().contains("`epochs`"), "{error}");
    let no_lengths = MemoryConfig { lengths: vec![], ..quick_config() };
    assert!(run_sweep(&no_lengths, |_, _| Ok(())).is_err());
    let zero_length = MemoryConfig { lengths: vec![0], ..quick_config() };
    let error = train_and_test(RecurrentKind::Gru, 0, &zero_length).unwrap_err();
    assert!(error.to_string().contains("`steps`"), "{error}");
    // The callback's error stops the sweep and comes back.
    let error = run_sweep(&quick_config(), |_, _| Err(Error::EmptyInput("x"))).unwrap_err();
    assert!(matches!(error, Error::EmptyInput("x")), "{error:?}");
}
