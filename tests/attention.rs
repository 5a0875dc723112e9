//! `Concatenate`, `Attention`, `AdditiveAttention` and `MultiHeadAttention` through
//! `forward_multi`/`backward_multi`: outputs, attention scores, masks and gradients against Keras
//! (fixtures from `tests/fixtures/generate_attention_fixtures.py`), finite-difference checks,
//! parameter counts and the errors for inputs they cannot take.

mod attention_support;
mod common;

use attention_support::{
    build_for, check_multi_gradients, check_training_multi_gradients, mask_of, run_case,
};
use common::grad::{uniform, Tol};
use common::keras::{cases, fixtures_from};
use ndarray::{arr2, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rnnkit::layers::{
    AdditiveAttention, Attention, Concatenate, Layer, LayerExt, Mask, MultiHeadAttention,
    ScoreMode, NONE,
};
use serde_json::Value;

fn flag(config: &Value, key: &str) -> Option<bool> {
    config.get(key).and_then(Value::as_bool)
}

/// The rnnkit layer of a fixture case.
fn layer_for(case: &Value) -> Box<dyn Layer> {
    let config = &case["config"];
    let causal = flag(config, "use_causal_mask").unwrap_or(false);
    let scores = case["outputs"].as_array().unwrap().len() == 2;
    match case["class"].as_str().unwrap() {
        "Concatenate" => {
            Box::new(Concatenate::new().axis(config["axis"].as_i64().unwrap() as isize))
        }
        "Attention" => {
            let mode = match config.get("score_mode").and_then(Value::as_str) {
                Some("concat") => ScoreMode::Concat,
                _ => ScoreMode::Dot,
            };
            Box::new(
                Attention::new()
                    .use_scale(flag(config, "use_scale").unwrap_or(false))
                    .score_mode(mode)
                    .use_causal_mask(causal)
                    .return_attention_scores(scores),
            )
        }
        "AdditiveAttention" => Box::new(
            AdditiveAttention::new()
                .use_scale(flag(config, "use_scale").unwrap_or(true))
                .use_causal_mask(causal)
                .return_attention_scores(scores),
        ),
        "MultiHeadAttention" => {
            let count = |key: &str| config.get(key).and_then(Value::as_u64).map(|n| n as usize);
            let mut layer =
                MultiHeadAttention::new(count("num_heads").unwrap(), count("key_dim").unwrap())
                    .use_bias(flag(config, "use_bias").unwrap_or(true))
                    .use_causal_mask(causal)
                    .return_attention_scores(scores);
            if let Some(value_dim) = count("value_dim") {
                layer = layer.value_dim(value_dim);
            }
            if let Some(features) = count("output_shape") {
                layer = layer.output_shape(features);
            }
            Box::new(layer)
        }
        other => panic!("no layer {other}"),
    }
}

fn run_section(section: &str, count: usize) {
    let fixtures = fixtures_from("keras_attention.json");
    let all = cases(&fixtures, section);
    assert_eq!(all.len(), count);
    let worst = all.iter().map(|case| run_case(layer_for(case), case)).fold(0.0, f32::max);
    eprintln!("{section}: largest difference from Keras {worst:e}");
}

#[test]
fn concatenate_matches_keras() {
    run_section("concatenate", 5);
}

#[test]
fn attention_and_additive_attention_match_keras() {
    run_section("attention", 10);
}

/// A layer with its inputs and their masks.
type Case = (Box<dyn Layer>, Vec<ArrayD<f32>>, Vec<Option<Mask>>);

#[test]
fn multi_head_attention_matches_keras() {
    run_section("multi_head", 6);
}

#[test]
fn multi_head_attention_parameter_counts_and_shapes_match_keras() {
    let fixtures = fixtures_from("keras_attention.json");
    for case in cases(&fixtures, "param_counts") {
        let count = |key: &str| case[key].as_u64().map(|n| n as usize);
        let (mut layer, shapes): (Box<dyn Layer>, Vec<Vec<usize>>) = match case["class"].as_str() {
            Some("AdditiveAttention") => {
                let dim = count("dim").unwrap();
                (Box::new(AdditiveAttention::new()), vec![vec![3, dim], vec![5, dim]])
            }
            _ => {
                let mut layer =
                    MultiHeadAttention::new(count("num_heads").unwrap(), count("key_dim").unwrap())
                        .use_bias(case["use_bias"].as_bool().unwrap());
                if let Some(value_dim) = count("value_dim") {
                    layer = layer.value_dim(value_dim);
                }
                if let Some(features) = count("output_shape") {
                    layer = layer.output_shape(features);
                }
                let shapes = vec![
                    vec![7, count("query_dim").unwrap()],
                    vec![9, count("value_features").unwrap()],
                ];
                (Box::new(layer), shapes)
            }
        };
        layer.build_multi(&shapes, &mut StdRng::seed_from_u64(0)).unwrap();
        assert_eq!(layer.count_params() as u64, case["params"].as_u64().unwrap(), "{case}");
        if let Some(want) = case["shapes"].as_array() {
            let shapes: Vec<Vec<u64>> = layer
                .params()
                .iter()
                .map(|p| p.value.shape().iter().map(|&d| d as u64).collect())
                .collect();
            let want: Vec<Vec<u64>> = want
                .iter()
                .map(|s| s.as_array().unwrap().iter().map(|d| d.as_u64().unwrap()).collect())
                .collect();
            assert_eq!(shapes, want);
        }
    }
}

#[test]
fn multi_head_attention_gradients_match_finite_differences() {
    let tol = Tol::LAYER;
    let q = uniform(&[2, 4, 5], -1.0, 1.0, 1);
    let v = uniform(&[2, 3, 6], -1.0, 1.0, 2);
    let k = uniform(&[2, 3, 4], -1.0, 1.0, 3);
    let q_mask: Mask = arr2(&[[true, true, false, true], [true, true, true, true]]);
    let v_mask: Mask = arr2(&[[true, false, true], [false, false, false]]);
    let t_mask: Mask = arr2(&[[true, true, true, false], [true, true, true, true]]);
    let layers: Vec<Case> = vec![
        (Box::new(MultiHeadAttention::new(2, 3)), vec![q.clone(), v.clone()], vec![None, None]),
        (
            Box::new(
                MultiHeadAttention::new(3, 2)
                    .value_dim(4)
                    .output_shape(3)
                    .return_attention_scores(true),
            ),
            vec![q.clone(), v.clone(), k.clone()],
            vec![Some(q_mask.clone()), Some(v_mask.clone()), None],
        ),
        (
            Box::new(MultiHeadAttention::new(2, 2)),
            vec![q.clone(), v.clone(), k],
            vec![Some(q_mask), Some(v_mask), None],
        ),
        (
            Box::new(MultiHeadAttention::new(2, 3).use_bias(false).use_causal_mask(true)),
            vec![q.clone(), q.clone()],
            vec![Some(t_mask.clone()), Some(t_mask)],
        ),
    ];
    for (index, (mut layer, inputs, masks)) in layers.into_iter().enumerate() {
        build_for(layer.as_mut(), &format!("mha_{index}"), &inputs);
        let weights: Vec<ArrayD<f32>> = layer
            .params()
            .iter()
            .zip(10..)
            .map(|(p, seed)| uniform(p.value.shape(), -0.6, 0.6, seed))
            .collect();
        layer.set_weights(weights).unwrap();
        let checked = check_multi_gradients(layer.as_mut(), inputs, &masks, tol);
        eprintln!("{} '{}': {checked} scalars", layer.class_name(), layer.name());
    }
}

#[test]
fn attention_gradients_match_finite_differences() {
    let tol = Tol::LAYER;
    let q = uniform(&[2, 3, 4], -1.0, 1.0, 1);
    let v = uniform(&[2, 5, 4], -1.0, 1.0, 2);
    let k = uniform(&[2, 5, 4], -1.0, 1.0, 3);
    let v3 = uniform(&[2, 5, 3], -1.0, 1.0, 4);
    let q_mask: Mask = arr2(&[[true, false, true], [true, true, true]]);
    // No sample with every value step masked: there Keras' scores are shifted by 10⁹ in f32,
    // which finite differences cannot see through (the Keras fixture covers that case).
    let v_mask: Mask =
        arr2(&[[true, true, false, true, false], [false, false, true, false, false]]);
    let masks = [Some(q_mask.clone()), Some(v_mask.clone())];
    let layers: Vec<Case> = vec![
        (Box::new(Attention::new()), vec![q.clone(), v.clone()], vec![None, None]),
        (
            Box::new(Attention::new().use_scale(true).return_attention_scores(true)),
            vec![q.clone(), v.clone()],
            masks.to_vec(),
        ),
        (
            Box::new(Attention::new().score_mode(ScoreMode::Concat).use_scale(true)),
            vec![q.clone(), v3.clone(), k.clone()],
            vec![Some(q_mask.clone()), Some(v_mask.clone()), None],
        ),
        (
            Box::new(Attention::new().use_causal_mask(true).return_attention_scores(true)),
            vec![v.clone(), k.clone()],
            vec![None, None],
        ),
        (
            Box::new(AdditiveAttention::new().return_attention_scores(true)),
            vec![q.clone(), v.clone()],
            masks.to_vec(),
        ),
        (Box::new(AdditiveAttention::new().use_scale(false)), vec![q, v3, k], vec![None; 3]),
    ];
    for (index, (mut layer, inputs, masks)) in layers.into_iter().enumerate() {
        build_for(layer.as_mut(), &format!("attention_{index}"), &inputs);
        // Weights away from their initial ones.
        let weights: Vec<ArrayD<f32>> = layer
            .params()
            .iter()
            .zip(10..)
            .map(|(p, seed)| uniform(p.value.shape(), 0.5, 1.5, seed))
            .collect();
        layer.set_weights(weights).unwrap();
        let checked = check_multi_gradients(layer.as_mut(), inputs, &masks, tol);
        eprintln!("{} '{}': {checked} scalars", layer.class_name(), layer.name());
    }
}

#[test]
fn concatenate_gradients_and_masks() {
    let a = uniform(&[2, 3, 4], -1.0, 1.0, 1);
    let b = uniform(&[2, 2, 4], -1.0, 1.0, 2);
    let mut steps = Concatenate::new().axis(1);
    build_for(&mut steps, "concatenate", &[a.clone(), b.clone()]);
    assert_eq!(steps.output_shape(), Some(&[5, 4][..]));
    check_multi_gradients(&mut steps, vec![a.clone(), b.clone()], &[None, None], Tol::LAYER);
    let mask: Mask = arr2(&[[true, false, true], [false, true, true]]);
    let out = steps.compute_mask_multi(&[a.view(), b.view()], &[Some(&mask), None]).unwrap();
    let want: Mask = arr2(&[[true, false, true, true, true], [false, true, true, true, true]]);
    assert_eq!(out, [Some(want)]);
    assert_eq!(steps.compute_mask_multi(&[a.view(), b.view()], &[None, None]).unwrap(), [None]);

    let mut sized = Concatenate::new();
    let built = sized.build_multi(&[vec![NONE, 3], vec![NONE, 2]], &mut StdRng::seed_from_u64(0));
    assert_eq!(built.unwrap(), [vec![NONE, 5]]);
    let mut time = Concatenate::new().axis(-2);
    let built = time.build_multi(&[vec![NONE, 3], vec![4, 3]], &mut StdRng::seed_from_u64(0));
    assert_eq!(built.unwrap(), [vec![NONE, 3]]);
    // As Keras: the first input's sizes, None included, off the axis.
    let mut first = Concatenate::new();
    let built = first.build_multi(&[vec![NONE, 3], vec![4, 2]], &mut StdRng::seed_from_u64(0));
    assert_eq!(built.unwrap(), [vec![NONE, 5]]);
    let built =
        first.build_multi(&[vec![NONE, 3], vec![4, 2], vec![5, 1]], &mut StdRng::seed_from_u64(0));
    assert!(built.unwrap_err().to_string().contains("matching shapes"));
}

#[test]
fn single_input_calls_are_refused() {
    let mut rng = StdRng::seed_from_u64(0);
    let x = ArrayD::<f32>::zeros(IxDyn(&[1, 2, 3]));
    let layers: Vec<Box<dyn Layer>> = vec![
        Box::new(Concatenate::new()),
        Box::new(Attention::new()),
        Box::new(AdditiveAttention::new()),
        Box::new(MultiHeadAttention::new(2, 4)),
    ];
    for mut layer in layers {
        layer.set_name("joined".into());
        let err = layer.build(&[2, 3], &mut rng).unwrap_err().to_string();
        assert!(err.contains("a list of inputs") && err.contains("'joined'"), "{err}");
        assert!(layer.forward(x.view(), None, false).is_err());
        assert!(layer.backward(x.view(), true).is_err());
    }
}

#[test]
fn shapes_they_cannot_take_are_refused() {
    let mut rng = StdRng::seed_from_u64(0);
    let build = |layer: &mut dyn Layer, shapes: &[Vec<usize>]| {
        layer.set_name("layer".into());
        layer
            .build_multi(shapes, &mut StdRng::seed_from_u64(0))
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    let err = build(&mut Concatenate::new(), &[vec![3, 4], vec![2, 4]]);
    assert!(err.contains("matching shapes") && err.contains("(None, 2, 4)"), "{err}");
    let err = build(&mut Concatenate::new(), &[vec![3, 4], vec![4]]);
    assert!(err.contains("matching shapes"), "{err}");
    let err = build(&mut Concatenate::new().axis(0), &[vec![3, 4], vec![3, 4]]);
    assert!(err.contains("axis"), "{err}");
    let err = build(&mut Concatenate::new().axis(3), &[vec![3, 4], vec![3, 4]]);
    assert!(err.contains("axis"), "{err}");
    assert!(build(&mut Concatenate::new(), &[]).contains("at least one"));
    let err = build(&mut Attention::new(), &[vec![3, 4]]);
    assert!(err.contains("2 or 3"), "{err}");
    let err = build(&mut Attention::new(), &[vec![3, 4], vec![5, 6]]);
    assert!(err.contains("key (None, Tv, dim)") && err.contains("(None, 5, 6)"), "{err}");
    let err = build(&mut Attention::new(), &[vec![3, 4], vec![5, 6], vec![4, 4]]);
    assert!(err.contains("(None, 4, 4)"), "{err}");
    let err = build(&mut AdditiveAttention::new(), &[vec![3, 4, 1], vec![5, 4]]);
    assert!(err.contains("(None, 3, 4, 1)"), "{err}");
    let err = build(&mut Attention::new().dropout(1.0), &[vec![3, 4], vec![5, 4]]);
    assert!(err.contains("dropout"), "{err}");
    let err = build(&mut MultiHeadAttention::new(0, 4), &[vec![3, 4], vec![5, 4]]);
    assert!(err.contains("num_heads"), "{err}");
    let err = build(&mut MultiHeadAttention::new(2, 0), &[vec![3, 4], vec![5, 4]]);
    assert!(err.contains("key_dim"), "{err}");
    let err = build(&mut MultiHeadAttention::new(2, 4).value_dim(0), &[vec![3, 4], vec![5, 4]]);
    assert!(err.contains("value_dim"), "{err}");
    let err = build(&mut MultiHeadAttention::new(2, 4).dropout(-0.1), &[vec![3, 4], vec![5, 4]]);
    assert!(err.contains("dropout"), "{err}");
    let err = build(&mut MultiHeadAttention::new(2, 4), &[vec![3, 4], vec![5, 4], vec![6, 4]]);
    assert!(err.contains("(None, 6, 4)"), "{err}");
    let err = build(&mut MultiHeadAttention::new(2, 4), &[vec![3, NONE], vec![5, 4]]);
    assert!(err.contains("known features"), "{err}");
    let err = build(&mut MultiHeadAttention::new(2, 4), &[vec![3, 4]]);
    assert!(err.contains("2 or 3"), "{err}");
    let err = build(&mut MultiHeadAttention::new(1 << 20, 1 << 20), &[vec![3, 4], vec![5, 4]]);
    assert!(err.contains("fit in memory"), "{err}");

    let mut mha = MultiHeadAttention::new(2, 3);
    mha.set_name("mha".into());
    mha.build_multi(&[vec![NONE, 4], vec![NONE, 5]], &mut rng).unwrap();
    let q = ArrayD::<f32>::zeros(IxDyn(&[2, 3, 4]));
    let v = ArrayD::<f32>::zeros(IxDyn(&[2, 6, 4]));
    let err = mha.forward_multi(&[q.view(), v.view()], &[None, None], false).unwrap_err();
    assert!(err.to_string().contains("(None, None, 5)"), "{err}");
    let v = ArrayD::<f32>::zeros(IxDyn(&[2, 6, 5]));
    let wrong: Mask = arr2(&[[true; 6], [true; 6]]);
    let err = mha.forward_multi(&[q.view(), v.view()], &[Some(&wrong), None], false);
    assert!(err.unwrap_err().to_string().contains("mask 0"));
    mha.params_mut()[0].value = ArrayD::zeros(IxDyn(&[3, 3]));
    let err = mha.forward_multi(&[q.view(), v.view()], &[None, None], false).unwrap_err();
    assert!(err.to_string().contains("weight 0") && err.to_string().contains("(4, 2, 3)"), "{err}");

    // At call time: a batch or a size that does not fit, a mask of the wrong shape, a count.
    let mut layer = Attention::new();
    layer.set_name("attention".into());
    layer.build_multi(&[vec![NONE, 4], vec![NONE, 4]], &mut rng).unwrap();
    let q = ArrayD::<f32>::zeros(IxDyn(&[2, 3, 4]));
    let v = ArrayD::<f32>::zeros(IxDyn(&[3, 5, 4]));
    let err = layer.forward_multi(&[q.view(), v.view()], &[None, None], false).unwrap_err();
    assert!(err.to_string().contains("batch size of input 0 (2)"), "{err}");
    let v = ArrayD::<f32>::zeros(IxDyn(&[2, 5, 3]));
    let err = layer.forward_multi(&[q.view(), v.view()], &[None, None], false).unwrap_err();
    assert!(err.to_string().contains("(None, None, 4)"), "{err}");
    let v = ArrayD::<f32>::zeros(IxDyn(&[2, 5, 4]));
    let wrong: Mask = arr2(&[[true, false, true]]);
    let err = layer.forward_multi(&[q.view(), v.view()], &[None, Some(&wrong)], false);
    assert!(err.unwrap_err().to_string().contains("mask 1"));
    assert!(layer.forward_multi(&[q.view(), v.view()], &[None], false).is_err());
    assert!(layer.forward_multi(&[q.view()], &[None], false).is_err());
    let err = layer.backward_multi(&[q.view()], true).unwrap_err().to_string();
    assert!(err.contains("without a forward pass"), "{err}");
    layer.forward_multi(&[q.view(), v.view()], &[None, None], true).unwrap();
    let err = layer.backward_multi(&[v.view()], true).unwrap_err().to_string();
    assert!(err.contains("(2, 3, 4)") && err.contains("(2, 5, 4)"), "{err}");
    assert!(layer.backward_multi(&[q.view(), q.view()], true).is_err());
}

#[test]
fn forward_caches_move_between_nodes() {
    let q1 = uniform(&[2, 3, 4], -1.0, 1.0, 1);
    let q2 = uniform(&[2, 3, 4], -1.0, 1.0, 2);
    let v = uniform(&[2, 5, 4], -1.0, 1.0, 3);
    let r = uniform(&[2, 3, 4], -1.0, 1.0, 4);
    let layers: Vec<Box<dyn Layer>> = vec![
        Box::new(Concatenate::new().axis(1)),
        Box::new(Attention::new().use_scale(true)),
        Box::new(AdditiveAttention::new()),
        Box::new(MultiHeadAttention::new(2, 3).return_attention_scores(true)),
    ];
    for mut layer in layers {
        build_for(layer.as_mut(), "shared", &[q1.clone(), v.clone()]);
        // Alone: the gradient of node 1.
        let outputs = layer.forward_multi(&[q1.view(), v.view()], &[None, None], false).unwrap();
        let r: Vec<ArrayD<f32>> =
            outputs
                .iter()
                .map(|o| {
                    if o.shape() == r.shape() {
                        r.clone()
                    } else {
                        uniform(o.shape(), -1.0, 1.0, 5)
                    }
                })
                .collect();
        let r: Vec<_> = r.iter().map(|x| x.view()).collect();
        layer.forward_multi(&[q1.view(), v.view()], &[None, None], true).unwrap();
        let alone = layer.backward_multi(&r, true).unwrap();
        let weight_grads: Vec<ArrayD<f32>> =
            layer.params().iter().map(|p| p.grad.clone()).collect();
        // Two nodes: node 1's cache moved out while node 2 runs forward, then put back.
        layer.forward_multi(&[q1.view(), v.view()], &[None, None], true).unwrap();
        let first = layer.take_forward_cache().expect("a cache");
        layer.forward_multi(&[q2.view(), v.view()], &[None, None], true).unwrap();
        let second = layer.take_forward_cache().expect("a cache");
        layer.put_forward_cache(first).unwrap();
        let again = layer.backward_multi(&r, true).unwrap();
        assert_eq!(again, alone, "{}", layer.class_name());
        for (p, first) in layer.params().iter().zip(&weight_grads) {
            assert_eq!(p.grad, first.mapv(|g| 2.0 * g), "{}: {}", layer.class_name(), p.name());
        }
        layer.put_forward_cache(second).unwrap();
        let other = layer.backward_multi(&r, true).unwrap();
        // Concatenate's input gradients do not depend on its inputs; the others' do.
        if layer.class_name() != "Concatenate" {
            assert_ne!(other, alone, "{}: node 2's own gradient", layer.class_name());
        }
        assert!(layer.put_forward_cache(Box::new(3_u8)).is_err());
    }
}

#[test]
fn fixture_masks_are_read() {
    let fixtures = fixtures_from("keras_attention.json");
    let case = &cases(&fixtures, "attention")[1];
    assert!(mask_of(&case["masks"][0]).is_some());
}

#[test]
fn configurations_round_trip_through_the_registry() {
    use rnnkit::prelude::Sequential;
    // Unbuilt, so a Sequential may hold them: only their configurations are written and read.
    let mut model = Sequential::new();
    model.add(Concatenate::new().axis(1));
    model.add(
        Attention::new()
            .use_scale(true)
            .score_mode(ScoreMode::Concat)
            .dropout(0.25)
            .seed(3)
            .use_causal_mask(true)
            .return_attention_scores(true),
    );
    model.add(AdditiveAttention::new().use_scale(false));
    model.add(
        MultiHeadAttention::new(4, 8)
            .value_dim(6)
            .output_shape(10)
            .use_bias(false)
            .dropout(0.1)
            .use_causal_mask(true),
    );
    model.add(MultiHeadAttention::new(2, 3));
    let json = model.to_json().unwrap();
    for needle in [
        r#""class_name":"Concatenate""#,
        r#""axis":1"#,
        r#""class_name":"Attention""#,
        r#""score_mode":"concat""#,
        r#""dropout":0.25"#,
        r#""seed":3"#,
        r#""use_causal_mask":true"#,
        r#""return_attention_scores":true"#,
        r#""class_name":"AdditiveAttention""#,
        r#""use_scale":false"#,
        r#""class_name":"MultiHeadAttention""#,
        r#""num_heads":4"#,
        r#""value_dim":6"#,
        r#""output_shape":[10]"#,
        r#""use_bias":false"#,
        r#""output_shape":null"#,
    ] {
        assert!(json.contains(needle), "{needle} in {json}");
    }
    assert_eq!(Sequential::from_json(&json).unwrap().to_json().unwrap(), json);
    let bad = json.replace(r#""score_mode":"concat""#, r#""score_mode":"general""#);
    let err = Sequential::from_json(&bad).unwrap_err().to_string();
    assert!(err.contains("score_mode") && err.contains("general"), "{err}");
}

#[test]
fn dropout_drops_attention_weights_while_training_only() {
    let q = uniform(&[2, 3, 4], -1.0, 1.0, 1);
    let v = uniform(&[2, 5, 4], -1.0, 1.0, 2);
    let q_mask: Mask = arr2(&[[true, false, true], [true, true, true]]);
    let v_mask: Mask = arr2(&[[true, true, false, true, false], [false, true, true, true, true]]);
    let masks = [Some(q_mask), Some(v_mask)];
    let tol = Tol::LAYER;

    let mut attention = Attention::new().use_scale(true).dropout(0.3).return_attention_scores(true);
    build_for(&mut attention, "attention", &[q.clone(), v.clone()]);
    check_training_multi_gradients(&attention, vec![q.clone(), v.clone()], &masks, tol);
    let mut additive = AdditiveAttention::new().dropout(0.4).seed(5);
    build_for(&mut additive, "additive", &[q.clone(), v.clone()]);
    check_training_multi_gradients(&additive, vec![q.clone(), v.clone()], &masks, tol);
    let mut mha = MultiHeadAttention::new(2, 3).dropout(0.3).return_attention_scores(true);
    build_for(&mut mha, "mha", &[q.clone(), v.clone()]);
    let checked = check_training_multi_gradients(&mha, vec![q.clone(), v.clone()], &masks, tol);
    eprintln!("multi-head attention with dropout: {checked} scalars");

    // Attention returns its weights after dropout: about `rate` of them are zero while
    // training, none in inference, and the kept ones are scaled by 1 / (1 − rate).
    let big_q = uniform(&[64, 8, 4], -1.0, 1.0, 3);
    let big_v = uniform(&[64, 8, 4], -1.0, 1.0, 4);
    let mut layer = Attention::new().dropout(0.25).seed(11).return_attention_scores(true);
    build_for(&mut layer, "dropped", &[big_q.clone(), big_v.clone()]);
    let inputs = [big_q.view(), big_v.view()];
    let plain = layer.forward_multi(&inputs, &[None, None], false).unwrap();
    let trained = layer.forward_multi(&inputs, &[None, None], true).unwrap();
    let dropped = trained[1].iter().filter(|&&w| w == 0.0).count() as f64 / trained[1].len() as f64;
    assert!((dropped - 0.25).abs() < 0.03, "dropped fraction {dropped}");
    assert!(plain[1].iter().all(|&w| w > 0.0));
    for (t, p) in trained[1].iter().zip(plain[1].iter()) {
        assert!(*t == 0.0 || (t - p / 0.75).abs() < 1e-6);
    }
    // The same seed draws the same masks; the generator's state moves on and can be restored.
    let mut twin = Attention::new().dropout(0.25).seed(11).return_attention_scores(true);
    build_for(&mut twin, "twin", &[big_q.clone(), big_v.clone()]);
    let state = twin.generator_states();
    assert_eq!(twin.forward_multi(&inputs, &[None, None], true).unwrap(), trained);
    assert_ne!(twin.forward_multi(&inputs, &[None, None], true).unwrap(), trained);
    twin.set_generator_states(state).unwrap();
    assert_eq!(twin.forward_multi(&inputs, &[None, None], true).unwrap(), trained);
    assert!(twin.set_generator_states(Vec::new()).is_err());
}
