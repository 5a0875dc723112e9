//! `LayerNormalization`, `GlobalAveragePooling1D`, `RepeatVector` and `TimeDistributed`: outputs
//! and gradients against Keras (fixtures from
//! `tests/fixtures/generate_course_layers_fixtures.py`), finite-difference checks, summaries
//! and the errors for inputs they cannot take.

mod common;

use common::grad::built_with_random_biases as build;
use common::grad::{check_layer_gradients, uniform, Tol};
use common::keras::{array, arrays, assert_summary_matches, cases, fixtures_from, max_abs_diff};
use ndarray::{arr2, Array2, ArrayD, Axis};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rnnkit::layers::{Layer, Mask, NONE};
use rnnkit::prelude::*;
use serde_json::Value;

fn layer_for(case: &Value) -> Box<dyn Layer> {
    let config = &case["config"];
    match case["class"].as_str().unwrap() {
        "LayerNormalization" => {
            let mut layer = LayerNormalization::new();
            if let Some(epsilon) = config["epsilon"].as_f64() {
                layer = layer.epsilon(epsilon as f32);
            }
            if let Some(center) = config["center"].as_bool() {
                layer = layer.center(center);
            }
            if let Some(scale) = config["scale"].as_bool() {
                layer = layer.scale(scale);
            }
            Box::new(layer)
        }
        "GlobalAveragePooling1D" => Box::new(GlobalAveragePooling1D::new()),
        "RepeatVector" => Box::new(RepeatVector::new(config["n"].as_u64().unwrap() as usize)),
        "TimeDistributed" => {
            assert_eq!(config["activation"], "tanh");
            let units = config["units"].as_u64().unwrap() as usize;
            Box::new(TimeDistributed::new(Dense::new(units).activation(Activation::Tanh)))
        }
        other => panic!("no layer {other}"),
    }
}

fn mask_of(value: &Value) -> Option<Mask> {
    let rows = value.as_array()?;
    let cols = rows[0].as_array().unwrap().len();
    let flat: Vec<bool> =
        rows.iter().flat_map(|r| r.as_array().unwrap()).map(|v| v.as_bool().unwrap()).collect();
    Some(Array2::from_shape_vec((rows.len(), cols), flat).unwrap())
}

#[test]
fn outputs_and_gradients_match_keras() {
    let fixtures = fixtures_from("keras_course_layers.json");
    let all = cases(&fixtures, "layers");
    assert_eq!(all.len(), 7);
    let mut largest = 0.0f32;
    for case in all {
        let name = case["name"].as_str().unwrap();
        let input = array(&case["input"]);
        let mut layer = layer_for(case);
        layer.set_name(name.to_string());
        layer.build(&input.shape()[1..], &mut StdRng::seed_from_u64(0)).unwrap();
        let names: Vec<&str> = layer.params().iter().map(|p| p.name()).collect();
        assert_eq!(
            names,
            case["weight_names"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect::<Vec<_>>(),
            "{name}"
        );
        layer.set_weights(arrays(&case["weights"])).unwrap();
        let mask = mask_of(&case["mask"]);
        let output = layer.forward(input.view(), mask.as_ref(), true).unwrap();
        let mut diffs = vec![max_abs_diff(&output, &array(&case["output"]))];
        let input_grad = layer.backward(array(&case["r"]).view(), true).unwrap().unwrap();
        diffs.push(max_abs_diff(&input_grad, &array(&case["input_grad"])));
        for (param, want) in layer.params().iter().zip(arrays(&case["weight_grads"])) {
            diffs.push(max_abs_diff(&param.grad, &want));
        }
        let worst = diffs.iter().copied().fold(0.0, f32::max);
        assert!(worst <= 1e-5, "{name}: differs from Keras by {worst} ({diffs:?})");
        largest = largest.max(worst);
    }
    eprintln!("course layers: largest difference from Keras {largest:e}");
}

#[test]
fn summaries_match_keras() {
    let fixtures = fixtures_from("keras_course_layers.json");
    for case in cases(&fixtures, "summaries") {
        let mut model = Sequential::new();
        match case["name"].as_str().unwrap() {
            "tagger" => {
                model.add(Embedding::new(100, 8));
                model.add(Lstm::new(16).return_sequences(true));
                model.add(TimeDistributed::new(Dense::new(5).activation(Activation::Softmax)));
            }
            "pooled" => {
                model.add(Embedding::new(1000, 16).mask_zero(true));
                model.add(GlobalAveragePooling1D::new());
                model.add(LayerNormalization::new());
                model.add(Dense::new(1).activation(Activation::Sigmoid));
            }
            "repeat" => {
                model.add(Lstm::new(8));
                model.add(RepeatVector::new(4));
                model.add(Lstm::new(6).return_sequences(true));
                model.add(TimeDistributed::new(Dense::new(3)));
            }
            other => panic!("no model {other}"),
        }
        let input_shape: Vec<usize> = case["input_shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        model.build(&input_shape).unwrap();
        assert_summary_matches(&model.summary().unwrap(), case);
    }
}

#[test]
fn a_fully_masked_sample_averages_to_nan_as_in_keras() {
    let fixtures = fixtures_from("keras_course_layers.json");
    assert!(fixtures["fully_masked_average"].as_array().unwrap().iter().all(|v| v == "nan"));
    let mut layer = build(GlobalAveragePooling1D::new(), "pool", &[3, 2], 1);
    let mask = arr2(&[[false, false, false], [true, false, true]]);
    let input = uniform(&[2, 3, 2], -1.0, 1.0, 2);
    let output = layer.forward(input.view(), Some(&mask), false).unwrap();
    assert!(output.index_axis(Axis(0), 0).iter().all(|v| v.is_nan()));
    assert!(output.index_axis(Axis(0), 1).iter().all(|v| v.is_finite()));
}

#[test]
fn gradients_match_finite_differences() {
    let tol = Tol::LAYER;
    let mut norm = build(LayerNormalization::new(), "layer_normalization", &[4, 6], 3);
    let gamma = uniform(&[6], 0.5, 1.5, 4);
    let beta = uniform(&[6], -0.5, 0.5, 5);
    norm.set_weights(vec![gamma, beta]).unwrap();
    let report = check_layer_gradients(&mut norm, uniform(&[3, 4, 6], -2.0, 2.0, 6), None, tol);
    eprintln!("layer normalization: {report}");

    let mut no_center = build(LayerNormalization::new().center(false).epsilon(0.01), "ln", &[5], 3);
    check_layer_gradients(&mut no_center, uniform(&[4, 5], -1.0, 1.0, 7), None, tol);

    let mut pool = build(GlobalAveragePooling1D::new(), "pool", &[5, 3], 1);
    let mask: Mask = arr2(&[
        [true, false, true, true, false],
        [false, false, false, false, true],
        [true, true, true, true, true],
    ]);
    let report =
        check_layer_gradients(&mut pool, uniform(&[3, 5, 3], -1.0, 1.0, 8), Some(mask), tol);
    eprintln!("global average pooling (masked): {report}");

    let mut repeat = build(RepeatVector::new(4), "repeat", &[3], 1);
    check_layer_gradients(&mut repeat, uniform(&[2, 3], -1.0, 1.0, 9), None, tol);

    let inner = Dense::new(4).activation(Activation::Tanh);
    let mut distributed = build(TimeDistributed::new(inner), "time_distributed", &[5, 3], 10);
    let report =
        check_layer_gradients(&mut distributed, uniform(&[2, 5, 3], -1.0, 1.0, 11), None, tol);
    eprintln!("time distributed dense: {report}");
}

#[test]
fn masks_pass_or_stop_as_in_keras() {
    let mask: Mask = arr2(&[[true, false, true]]);
    let input: ArrayD<f32> = uniform(&[1, 3, 2], -1.0, 1.0, 1);
    let norm = build(LayerNormalization::new(), "n", &[3, 2], 1);
    assert_eq!(norm.compute_mask(input.view(), Some(&mask)).unwrap(), Some(mask.clone()));
    let td = build(TimeDistributed::new(Dense::new(2)), "t", &[3, 2], 1);
    assert_eq!(td.compute_mask(input.view(), Some(&mask)).unwrap(), Some(mask.clone()));
    let pool = build(GlobalAveragePooling1D::new(), "p", &[3, 2], 1);
    assert_eq!(pool.compute_mask(input.view(), Some(&mask)).unwrap(), None);
}

#[test]
fn inputs_they_cannot_take_are_refused() {
    let mut rng = StdRng::seed_from_u64(0);
    let err = RepeatVector::new(2).build(&[3, 4], &mut rng).unwrap_err().to_string();
    assert!(err.contains("(None, features)") && err.contains("(None, 3, 4)"), "{err}");
    assert!(RepeatVector::new(0).build(&[3], &mut rng).unwrap_err().to_string().contains("n"));
    let err = GlobalAveragePooling1D::new().build(&[4], &mut rng).unwrap_err().to_string();
    assert!(err.contains("(None, steps, features)"), "{err}");
    let err = TimeDistributed::new(Dense::new(2)).build(&[4], &mut rng).unwrap_err().to_string();
    assert!(err.contains("at least 3 axes"), "{err}");
    let err = LayerNormalization::new().epsilon(0.0).build(&[4], &mut rng).unwrap_err().to_string();
    assert!(err.contains("epsilon"), "{err}");
    let err = LayerNormalization::new().build(&[3, NONE], &mut rng).unwrap_err().to_string();
    assert!(err.contains("(None, 3, None)"), "{err}");

    let mut pool = build(GlobalAveragePooling1D::new(), "p", &[3, 2], 1);
    let input = uniform(&[2, 3, 2], -1.0, 1.0, 1);
    let wrong_mask = arr2(&[[true, true]]);
    assert!(pool.forward(input.view(), Some(&wrong_mask), false).is_err());
    assert!(pool.backward(ndarray::ArrayD::zeros(ndarray::IxDyn(&[2, 2])).view(), true).is_err());
    let mut model = Sequential::new();
    model.add(RepeatVector::new(2));
    model.build(&[3]).unwrap();
    let err = model.predict(&ndarray::Array2::<f32>::zeros((1, 4))).unwrap_err().to_string();
    assert!(err.contains("(None, 3)"), "{err}");
}

#[test]
fn models_with_them_save_and_load_whole() {
    let mut model = Sequential::new();
    model.add(Embedding::new(50, 6).input_length(7).mask_zero(true));
    model.add(Lstm::new(5).return_sequences(true));
    model.add(LayerNormalization::new().epsilon(0.01).center(false));
    model.add(TimeDistributed::new(Dense::new(4).activation(Activation::Tanh)));
    model.add(GlobalAveragePooling1D::new());
    model.add(RepeatVector::new(3));
    model.add(Flatten::new());
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(RmsProp::new(0.01), Loss::BinaryCrossentropy, &[Metric::Accuracy]).unwrap();
    let x = ndarray::Array2::from_shape_fn((8, 7), |(i, j)| ((i * 3 + j * 5) % 50) as f32);
    let y = ndarray::Array1::from_shape_fn(8, |i| (i % 2) as f32);
    let config = FitConfig { epochs: 2, batch_size: 4, verbose: 0, ..FitConfig::default() };
    model.fit(&x, &y, &config).unwrap();
    let expected = model.predict(&x).unwrap();

    let from_json = Sequential::from_json(&model.to_json().unwrap()).unwrap();
    assert_eq!(from_json.to_json().unwrap(), model.to_json().unwrap());

    let dir = std::env::temp_dir().join(format!("rnnkit-course-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    model.save(&path).unwrap();
    let mut loaded = Sequential::load(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(loaded.predict(&x).unwrap(), expected);
}
