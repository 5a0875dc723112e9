//! Functional models against Keras: summaries (the "Connected to" column, input rows, a
//! chain printed as a Sequential), forward outputs with the same weights, and the logs of a
//! two-output model, and the summaries of the course's translation models
//! (`tests/fixtures/keras_functional.json`, made by
//! `tests/fixtures/generate_functional_fixtures.py`).

mod common;

use common::keras::{arrays, cases, fixtures_from, max_abs_diff};
use rnnkit::datasets::dates;
use rnnkit::model::clear_session;
use rnnkit::prelude::*;
use serde_json::Value;

/// The fixture's models, built in the order Keras built them (so that names agree).
fn build(name: &str) -> rnnkit::Result<Functional> {
    clear_session();
    match name {
        "two_inputs_shared" => {
            let a = Input::new(&[5]);
            let b = Input::new(&[5]);
            let shared = SharedLayer::new(Dense::new(4).activation(Activation::Tanh));
            let ha = shared.call(&a)?;
            let hb = shared.call(&b)?;
            let out_a = Dense::new(1).activation(Activation::Sigmoid).call(&ha)?;
            let hidden = Dense::new(4).activation(Activation::Relu).call(&hb)?;
            let out_b = Dense::new(3).activation(Activation::Softmax).call(&hidden)?;
            Functional::new(&[&a, &b], &[&out_a, &out_b])
        }
        "encoder" => {
            let ids = Input::new(&[NONE]);
            let h = Embedding::new(30, 6).call(&ids)?;
            let h = Lstm::new(5).call(&h)?;
            let out = Dense::new(2).activation(Activation::Softmax).call(&h)?;
            Functional::new(&[&ids], &[&out])
        }
        "encoder_masked" => {
            let ids = Input::new(&[NONE]);
            let h = Embedding::new(30, 6).mask_zero(true).call(&ids)?;
            let h = Lstm::new(5).return_sequences(true).call(&h)?;
            let h = Lstm::new(4).call(&h)?;
            let out = Dense::new(2).activation(Activation::Softmax).call(&h)?;
            Functional::new(&[&ids], &[&out])
        }
        "shared_twice" => {
            let x = Input::new(&[6, 3]);
            let h = Lstm::new(4).return_sequences(true).call(&x)?;
            let dense = SharedLayer::new(Dense::new(4).activation(Activation::Tanh));
            let h = dense.call(&h)?;
            let h = LayerNormalization::new().call(&h)?;
            let h = dense.call(&h)?;
            let pooled = GlobalAveragePooling1D::new().call(&h)?;
            let out = Dense::new(1).call(&pooled)?;
            let repeated = RepeatVector::new(3).call(&pooled)?;
            let repeated = TimeDistributed::new(Dense::new(2)).call(&repeated)?;
            Functional::new(&[&x], &[&out, &repeated])
        }
        other => panic!("no model {other}"),
    }
}

/// Sets Keras' weights on every layer, by name.
fn set_keras_weights(model: &Functional, case: &Value) {
    for (name, weights) in case["weights"].as_object().unwrap() {
        if weights.as_array().unwrap().is_empty() {
            continue; // inputs and layers without weights
        }
        let layer = model.get_layer(name).unwrap();
        layer.with(|l| l.set_weights(arrays(weights))).unwrap();
    }
}

/// Asserts that `model`'s summary is Keras' for `case`: the text, the total, the rows' names
/// and the order of the layers with weights (Keras' `get_weights` order).
fn assert_summary_matches(model: &mut Functional, case: &Value) -> rnnkit::Result<()> {
    let name = case["name"].as_str().unwrap();
    let summary = model.summary()?;
    assert_eq!(
        summary.to_string().trim_end(),
        case["summary"].as_str().unwrap().trim_end(),
        "{name}"
    );
    assert_eq!(summary.total_params() as u64, case["total"].as_u64().unwrap(), "{name}");
    let rows: Vec<&str> =
        case["rows"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    let ours: Vec<&str> = summary.layers().iter().map(|l| l.name.as_str()).collect();
    assert_eq!(ours, rows, "{name}");
    let order: Vec<String> = case["weight_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().split('/').next().unwrap().to_string())
        .collect();
    let mut expected = order.clone();
    expected.dedup();
    let ours: Vec<String> = model
        .layers()
        .iter()
        .filter(|l| l.with(|l| !l.params().is_empty()))
        .map(|l| l.name())
        .collect();
    assert_eq!(ours, expected, "{name}");
    Ok(())
}

#[test]
fn summaries_match_keras() -> rnnkit::Result<()> {
    let fixtures = fixtures_from("keras_functional.json");
    for case in cases(&fixtures, "models") {
        let name = case["name"].as_str().unwrap();
        if name == "encoder_masked" {
            continue; // Keras 3 prints its mask as a NotEqual node; only outputs are compared.
        }
        assert_summary_matches(&mut build(name)?, case)?;
    }
    Ok(())
}

/// The translation example's encoder–decoder LSTM (`examples/translation/seq2seq.rs`): the
/// encoder's last states start the decoder; with `attention`, the decoder's steps attend to
/// the encoder's and are joined to what they read.
fn seq2seq(attention: bool) -> rnnkit::Result<Functional> {
    clear_session();
    let (embedding, units) = (32, 64);
    let human_chars = dates::human_vocabulary().size();
    let iso_chars = dates::iso_vocabulary().size();
    let encoder_inputs = Input::named(&[dates::HUMAN_LENGTH], "encoder_inputs");
    let x = Embedding::new(human_chars, embedding).call(&encoder_inputs)?;
    let encoder =
        Lstm::new(units).return_sequences(attention).return_state(true).call_multi(&[&x])?;
    let (encoder_outputs, h, c) = (&encoder[0], &encoder[1], &encoder[2]);
    let decoder_inputs = Input::named(&[dates::ISO_LENGTH], "decoder_inputs");
    let y = Embedding::new(iso_chars, embedding).call(&decoder_inputs)?;
    let mut decoder_outputs = Lstm::new(units)
        .return_sequences(true)
        .return_state(true)
        .call_multi(&[&y, h, c])?
        .remove(0);
    if attention {
        let context = Attention::new().call_multi(&[&decoder_outputs, encoder_outputs])?.remove(0);
        decoder_outputs = Concatenate::new().call_multi(&[&decoder_outputs, &context])?.remove(0);
    }
    let outputs = Dense::new(iso_chars).activation(Activation::Softmax).call(&decoder_outputs)?;
    let name = if attention { "seq2seq_attention" } else { "seq2seq" };
    Ok(Functional::new(&[&encoder_inputs, &decoder_inputs], &[&outputs])?.name(name))
}

/// The self-attention example's model (`examples/translation/self_attention_model.rs`):
/// `MultiHeadAttention`, `Concatenate`, `Dense` and `LayerNormalization` blocks over embedded
/// characters and positions.
fn self_attention() -> rnnkit::Result<Functional> {
    clear_session();
    let (dim, heads) = (64, 4);
    let embed = |ids: &SymbolicTensor, positions: &SymbolicTensor, chars, steps| {
        let chars = Embedding::new(chars, dim / 2).call(ids)?;
        let places = Embedding::new(steps, dim / 2).call(positions)?;
        Ok::<_, rnnkit::Error>(Concatenate::new().call_multi(&[&chars, &places])?.remove(0))
    };
    let block = |x: &SymbolicTensor, memory: &SymbolicTensor, causal| {
        let attention = MultiHeadAttention::new(heads, dim / heads).use_causal_mask(causal);
        let attended = attention.call_multi(&[x, memory])?.remove(0);
        let joined = Concatenate::new().call_multi(&[x, &attended])?.remove(0);
        let mixed = Dense::new(dim).activation(Activation::Relu).call(&joined)?;
        LayerNormalization::new().call(&mixed)
    };
    let source = Input::named(&[dates::HUMAN_LENGTH], "source_ids");
    let source_positions = Input::named(&[dates::HUMAN_LENGTH], "source_positions");
    let target = Input::named(&[dates::ISO_LENGTH], "target_ids");
    let target_positions = Input::named(&[dates::ISO_LENGTH], "target_positions");
    let human_chars = dates::human_vocabulary().size();
    let iso_chars = dates::iso_vocabulary().size();
    let source_steps = embed(&source, &source_positions, human_chars, dates::HUMAN_LENGTH)?;
    let target_steps = embed(&target, &target_positions, iso_chars, dates::ISO_LENGTH)?;
    let encoded = block(&source_steps, &source_steps, false)?;
    let decoded = block(&target_steps, &target_steps, true)?;
    let decoded = block(&decoded, &encoded, false)?;
    let probabilities = Dense::new(iso_chars).activation(Activation::Softmax).call(&decoded)?;
    let inputs = [&source, &source_positions, &target, &target_positions];
    Ok(Functional::new(&inputs, &[&probabilities])?.name("self_attention"))
}

#[test]
fn course_summaries_match_keras() -> rnnkit::Result<()> {
    let fixtures = fixtures_from("keras_functional.json");
    let course = cases(&fixtures, "course_models");
    assert_eq!(course.len(), 3);
    for case in course {
        let mut model = match case["name"].as_str().unwrap() {
            "seq2seq" => seq2seq(false)?,
            "seq2seq_attention" => seq2seq(true)?,
            "self_attention" => self_attention()?,
            other => panic!("no model {other}"),
        };
        assert_summary_matches(&mut model, case)?;
    }
    Ok(())
}

#[test]
fn forward_outputs_match_keras() -> rnnkit::Result<()> {
    let fixtures = fixtures_from("keras_functional.json");
    for case in cases(&fixtures, "models") {
        let name = case["name"].as_str().unwrap();
        let mut model = build(name)?;
        set_keras_weights(&model, case);
        let inputs = arrays(&case["inputs"]);
        let views: Vec<_> = inputs.iter().map(|a| a.view()).collect();
        let outputs = model.predict(&views)?;
        let expected = arrays(&case["outputs"]);
        assert_eq!(outputs.len(), expected.len(), "{name}");
        for (ours, theirs) in outputs.iter().zip(&expected) {
            assert_eq!(ours.shape(), theirs.shape(), "{name}");
            let diff = max_abs_diff(ours, theirs);
            assert!(diff < 1e-5, "{name}: max |diff| {diff}");
        }
    }
    Ok(())
}

#[test]
fn two_output_logs_match_keras() -> rnnkit::Result<()> {
    let fixtures = fixtures_from("keras_functional.json");
    let case =
        cases(&fixtures, "models").iter().find(|c| c["name"] == "two_inputs_shared").unwrap();
    let mut model = build("two_inputs_shared")?;
    set_keras_weights(&model, case);
    model.compile(Sgd::new(0.01), Loss::MeanSquaredError, &[Metric::MeanAbsoluteError])?;
    let inputs = arrays(&case["inputs"]);
    let targets = arrays(&case["targets"]);
    let x: Vec<_> = inputs.iter().map(|a| a.view()).collect();
    let y: Vec<_> = targets.iter().map(|a| a.view()).collect();
    let scores = model.evaluate(&x, &y)?;
    let logs = case["evaluate"].as_object().unwrap();
    assert!((scores.loss - logs["loss"].as_f64().unwrap() as f32).abs() < 1e-6);
    // Keras' names: `<output>_loss` and `<output>_mae` (rnnkit's metric is named in full).
    for (key, value) in logs.iter().filter(|(k, _)| k.as_str() != "loss") {
        let ours = key.replace("_mae", "_mean_absolute_error");
        let got =
            scores.metric(&ours).unwrap_or_else(|| panic!("{ours} not in {:?}", scores.metrics));
        assert!((got - value.as_f64().unwrap() as f32).abs() < 1e-6, "{key}: {got} vs {value}");
    }
    Ok(())
}
