//! What tests/attention.rs shares: running a layer on a list of inputs through
//! `forward_multi`/`backward_multi`, the Keras cases of `keras_attention.json`, and a
//! finite-difference check for layers with several inputs and outputs.

use crate::common::grad::{uniform, unravel, Tol, R_SEED};
use crate::common::keras::{array, arrays, max_abs_diff};
use ndarray::{Array2, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rnnkit::layers::{Layer, LayerExt, Mask};
use serde_json::Value;

/// A JSON `(batch, steps)` list of booleans as a mask; `null` as none.
pub fn mask_of(value: &Value) -> Option<Mask> {
    let rows = value.as_array()?;
    let cols = rows[0].as_array().unwrap().len();
    let flat: Vec<bool> =
        rows.iter().flat_map(|r| r.as_array().unwrap()).map(|v| v.as_bool().unwrap()).collect();
    Some(Array2::from_shape_vec((rows.len(), cols), flat).unwrap())
}

/// Builds `layer` for the per-sample shapes of `inputs`.
pub fn build_for(layer: &mut dyn Layer, name: &str, inputs: &[ArrayD<f32>]) -> Vec<Vec<usize>> {
    layer.set_name(name.to_string());
    let shapes: Vec<Vec<usize>> = inputs.iter().map(|x| x.shape()[1..].to_vec()).collect();
    layer.build_multi(&shapes, &mut StdRng::seed_from_u64(7)).expect("layer builds")
}

/// Runs a Keras case on `layer` (unbuilt): sets the case's weights, runs a training-mode
/// forward with its masks and the backward of `Σ outputs ⊙ R`, and returns the largest
/// difference from Keras over outputs, output mask, input and weight gradients.
pub fn run_case(mut layer: Box<dyn Layer>, case: &Value) -> f32 {
    let name = case["name"].as_str().unwrap();
    let inputs = arrays(&case["inputs"]);
    build_for(layer.as_mut(), name, &inputs);
    let names: Vec<String> = layer.params().iter().map(|p| p.name().to_string()).collect();
    let want: Vec<String> = case["weight_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, want, "{name}: weight names");
    assert_eq!(layer.count_params() as u64, case["params"].as_u64().unwrap(), "{name}: params");
    layer.set_weights(arrays(&case["weights"])).unwrap();
    let masks: Vec<Option<Mask>> = case["masks"].as_array().unwrap().iter().map(mask_of).collect();
    let mask_refs: Vec<Option<&Mask>> = masks.iter().map(Option::as_ref).collect();
    let views: Vec<_> = inputs.iter().map(|x| x.view()).collect();
    let outputs = layer.forward_multi(&views, &mask_refs, true).unwrap();
    let keras_outputs = arrays(&case["outputs"]);
    assert_eq!(outputs.len(), keras_outputs.len(), "{name}: number of outputs");
    let mut diffs: Vec<f32> =
        outputs.iter().zip(&keras_outputs).map(|(a, b)| max_abs_diff(a, b)).collect();
    let out_masks = layer.compute_mask_multi(&views, &mask_refs).unwrap();
    assert_eq!(out_masks[0], mask_of(&case["output_mask"]), "{name}: output mask");
    assert!(out_masks[1..].iter().all(Option::is_none), "{name}: the scores have no mask");
    let r = arrays(&case["r"]);
    let r_views: Vec<_> = r.iter().map(|x| x.view()).collect();
    let grads = layer.backward_multi(&r_views, true).unwrap();
    let keras_grads = case["input_grads"].as_array().unwrap();
    assert_eq!(grads.len(), keras_grads.len(), "{name}: one gradient per input");
    for (grad, want) in grads.iter().zip(keras_grads) {
        diffs.push(max_abs_diff(grad.as_ref().expect("an input gradient"), &array(want)));
    }
    for (param, want) in layer.params().iter().zip(arrays(&case["weight_grads"])) {
        diffs.push(max_abs_diff(&param.grad, &want));
    }
    let worst = diffs.iter().copied().fold(0.0, f32::max);
    assert!(worst <= 1e-5, "{name}: differs from Keras by {worst} ({diffs:?})");
    worst
}

/// `Σ_k Σ outputs_k ⊙ r_k`, in `f64`.
fn weighted_sum(outputs: &[ArrayD<f32>], r: &[ArrayD<f32>]) -> f64 {
    outputs
        .iter()
        .zip(r)
        .map(|(o, r)| o.iter().zip(r).map(|(&o, &r)| f64::from(o) * f64::from(r)).sum::<f64>())
        .sum()
}

/// `f(values)` at `values[flat] ± eps`, as a central difference; restores the value.
fn central(
    values: &mut ArrayD<f32>,
    flat: usize,
    eps: f32,
    mut f: impl FnMut(&ArrayD<f32>) -> f64,
) -> f64 {
    let original = values.as_slice().unwrap()[flat];
    let (plus, minus) = (original + eps, original - eps);
    values.as_slice_mut().unwrap()[flat] = plus;
    let up = f(values);
    values.as_slice_mut().unwrap()[flat] = minus;
    let down = f(values);
    values.as_slice_mut().unwrap()[flat] = original;
    (up - down) / (f64::from(plus) - f64::from(minus))
}

/// Checks every weight gradient and every input gradient of a built layer with several inputs
/// against central differences of `L = Σ outputs ⊙ R`; also that inference gives the training
/// output, that weight gradients accumulate and that `input_grads = false` returns none.
/// Returns the number of scalars compared.
pub fn check_multi_gradients(
    layer: &mut dyn Layer,
    inputs: Vec<ArrayD<f32>>,
    masks: &[Option<Mask>],
    tol: Tol,
) -> usize {
    let what = format!("{} '{}'", layer.class_name(), layer.name());
    let mask_refs: Vec<Option<&Mask>> = masks.iter().map(Option::as_ref).collect();
    for p in layer.params_mut() {
        p.grad.fill(0.0);
    }
    let views: Vec<_> = inputs.iter().map(|x| x.view()).collect();
    let outputs = layer.forward_multi(&views, &mask_refs, true).expect("forward");
    let r: Vec<ArrayD<f32>> =
        outputs.iter().zip(0..).map(|(o, k)| uniform(o.shape(), -1.0, 1.0, R_SEED + k)).collect();
    let r_views: Vec<_> = r.iter().map(|x| x.view()).collect();
    let grads = layer.backward_multi(&r_views, true).expect("backward");
    let weight_grads: Vec<ArrayD<f32>> = layer.params().iter().map(|p| p.grad.clone()).collect();
    let inference = layer.forward_multi(&views, &mask_refs, false).expect("inference");
    for (a, b) in inference.iter().zip(&outputs) {
        assert!(max_abs_diff(a, b) <= 1e-6, "{what}: training and inference outputs differ");
    }
    layer.forward_multi(&views, &mask_refs, true).expect("forward again");
    let none = layer.backward_multi(&r_views, false).expect("backward without inputs");
    assert!(none.iter().all(Option::is_none), "{what}: input gradients without input_grads");
    for (p, first) in layer.params().iter().zip(&weight_grads) {
        assert!(max_abs_diff(&p.grad, &first.mapv(|g| 2.0 * g)) <= 1e-5, "{what}: accumulate");
    }
    drop(views);

    let mut checked = 0;
    let mut compare = |entry: String, analytic: f32, numeric: f64| {
        let diff = (f64::from(analytic) - numeric).abs();
        assert!(
            diff <= tol.atol + tol.rtol * numeric.abs(),
            "{what}: {entry}: analytic {analytic:+.6e}, numeric {numeric:+.6e}"
        );
        checked += 1;
    };
    let loss_at = |layer: &mut dyn Layer, inputs: &[ArrayD<f32>]| {
        let views: Vec<_> = inputs.iter().map(|x| x.view()).collect();
        weighted_sum(&layer.forward_multi(&views, &mask_refs, false).expect("forward"), &r)
    };
    for (index, analytic) in weight_grads.iter().enumerate() {
        let mut values = layer.params()[index].value.clone();
        for flat in 0..values.len() {
            let numeric = central(&mut values, flat, tol.eps, |v| {
                layer.params_mut()[index].value.assign(v);
                loss_at(layer, &inputs)
            });
            layer.params_mut()[index].value.assign(&values);
            let name = layer.params()[index].name();
            compare(format!("{name}[{flat}]"), analytic.as_slice().unwrap()[flat], numeric);
        }
    }
    for k in 0..inputs.len() {
        let grad = grads[k].clone().expect("an input gradient");
        assert_eq!(grad.shape(), inputs[k].shape(), "{what}: input {k} gradient shape");
        for flat in 0..inputs[k].len() {
            let mut values = inputs[k].clone();
            let numeric = central(&mut values, flat, tol.eps, |v| {
                let mut perturbed = inputs.clone();
                perturbed[k] = v.clone();
                loss_at(layer, &perturbed)
            });
            let index = unravel(flat, inputs[k].shape());
            compare(format!("input {k}{index:?}"), grad[IxDyn(&index)], numeric);
        }
    }
    checked
}

/// As [`check_multi_gradients`] for a layer whose training-mode output is random (dropout):
/// every forward pass, the analytic one and each perturbed one, runs in training mode on a
/// fresh clone of `snapshot`, so all draw the same dropout masks. Returns the number of
/// scalars compared.
pub fn check_training_multi_gradients<L: Layer + Clone>(
    snapshot: &L,
    inputs: Vec<ArrayD<f32>>,
    masks: &[Option<Mask>],
    tol: Tol,
) -> usize {
    let what = format!("{} '{}' (training)", snapshot.class_name(), snapshot.name());
    let mask_refs: Vec<Option<&Mask>> = masks.iter().map(Option::as_ref).collect();
    let run = |layer: &L, inputs: &[ArrayD<f32>]| {
        let views: Vec<_> = inputs.iter().map(|x| x.view()).collect();
        layer.clone().forward_multi(&views, &mask_refs, true).expect("forward")
    };
    let mut layer = snapshot.clone();
    let outputs = run(snapshot, &inputs);
    let views: Vec<_> = inputs.iter().map(|x| x.view()).collect();
    layer.forward_multi(&views, &mask_refs, true).expect("forward");
    let r: Vec<ArrayD<f32>> =
        outputs.iter().zip(0..).map(|(o, k)| uniform(o.shape(), -1.0, 1.0, R_SEED + k)).collect();
    let r_views: Vec<_> = r.iter().map(|x| x.view()).collect();
    let grads = layer.backward_multi(&r_views, true).expect("backward");
    let mut checked = 0;
    let mut compare = |entry: String, analytic: f32, numeric: f64| {
        let diff = (f64::from(analytic) - numeric).abs();
        assert!(
            diff <= tol.atol + tol.rtol * numeric.abs(),
            "{what}: {entry}: analytic {analytic:+.6e}, numeric {numeric:+.6e}"
        );
        checked += 1;
    };
    let mut perturbed = snapshot.clone();
    for (index, param) in layer.params().iter().enumerate() {
        let mut values = snapshot.params()[index].value.clone();
        for flat in 0..values.len() {
            let numeric = central(&mut values, flat, tol.eps, |v| {
                perturbed.params_mut()[index].value.assign(v);
                weighted_sum(&run(&perturbed, &inputs), &r)
            });
            perturbed.params_mut()[index].value.assign(&values);
            compare(
                format!("{}[{flat}]", param.name()),
                param.grad.as_slice().unwrap()[flat],
                numeric,
            );
        }
    }
    for k in 0..inputs.len() {
        let grad = grads[k].clone().expect("an input gradient");
        for flat in 0..inputs[k].len() {
            let mut values = inputs[k].clone();
            let numeric = central(&mut values, flat, tol.eps, |v| {
                let mut changed = inputs.clone();
                changed[k] = v.clone();
                weighted_sum(&run(snapshot, &changed), &r)
            });
            let index = unravel(flat, inputs[k].shape());
            compare(format!("input {k}{index:?}"), grad[IxDyn(&index)], numeric);
        }
    }
    checked
}
