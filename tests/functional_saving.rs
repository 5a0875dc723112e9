//! A functional model saved whole and loaded back (the file of `Sequential::save`, with Keras'
//! node list): the same predictions, the same summary, a shared layer stored once, and training
//! resumed bit for bit.

use ndarray::{Array2, ArrayD};
use rnnkit::prelude::*;
use serde_json::Value;

fn model() -> rnnkit::Result<Functional> {
    let ids = Input::named(&[6], "ids");
    let extra = Input::named(&[6], "extra");
    let embed = SharedLayer::new(Embedding::new(12, 4));
    let encoded = Lstm::new(5).call(&Dropout::new(0.2).call(&embed.call(&ids)?)?)?;
    let pooled = GlobalAveragePooling1D::new().call(&embed.call(&extra)?)?;
    let out1 = Dense::new(3).activation(Activation::Softmax).call(&encoded)?;
    let out2 = Dense::new(3).activation(Activation::Softmax).call(&pooled)?;
    Ok(Functional::new(&[&ids, &extra], &[&out1, &out2])?.name("two_readers"))
}

fn data() -> (Vec<ArrayD<f32>>, Vec<ArrayD<f32>>) {
    let ids = Array2::from_shape_fn((20, 6), |(i, j)| ((i * 5 + j * 3) % 12) as f32).into_dyn();
    let extra = Array2::from_shape_fn((20, 6), |(i, j)| ((i + j * 7) % 12) as f32).into_dyn();
    let y1 = Array2::from_shape_fn((20, 1), |(i, _)| (i % 3) as f32).into_dyn();
    let y2 = Array2::from_shape_fn((20, 1), |(i, _)| ((i / 2) % 3) as f32).into_dyn();
    (vec![ids, extra], vec![y1, y2])
}

fn views(arrays: &[ArrayD<f32>]) -> Vec<ndarray::ArrayViewD<'_, f32>> {
    arrays.iter().map(|a| a.view()).collect()
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir()
        .join(format!("rnnkit-functional-{name}-{}.safetensors", std::process::id()))
}

#[test]
fn saved_model_predicts_the_same_and_resumes_training_bit_for_bit() -> rnnkit::Result<()> {
    let (x, y) = data();
    let mut original = model()?;
    original.compile(Adam::new(0.01), Loss::SparseCategoricalCrossentropy, &[Metric::Accuracy])?;
    let config =
        FitConfig { epochs: 2, batch_size: 8, seed: Some(3), verbose: 0, ..FitConfig::default() };
    original.fit(&views(&x), &views(&y), &config)?;
    let path = temp("resume");
    original.save(&path)?;
    let mut restored = Functional::load(&path)?;
    std::fs::remove_file(&path).ok();

    assert_eq!(restored.model_name(), "two_readers");
    assert_eq!(restored.summary()?.to_string(), original.summary()?.to_string());
    assert_eq!(restored.get_weights(), original.get_weights());
    assert_eq!(restored.predict(&views(&x))?, original.predict(&views(&x))?);

    let resumed = restored.fit(&views(&x), &views(&y), &config)?;
    let continued = original.fit(&views(&x), &views(&y), &config)?;
    assert_eq!(restored.get_weights(), original.get_weights());
    assert_eq!(resumed.metric("loss"), continued.metric("loss"));
    Ok(())
}

#[test]
fn json_lists_each_layer_once_with_its_nodes() -> rnnkit::Result<()> {
    let original = model()?;
    let json: Value = serde_json::from_str(&original.to_json()?).unwrap();
    let layers = json["config"]["layers"].as_array().unwrap();
    let embedding: Vec<&Value> = layers.iter().filter(|l| l["class_name"] == "Embedding").collect();
    assert_eq!(embedding.len(), 1, "a shared layer is recorded once");
    let nodes = embedding[0]["inbound_nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2, "one inbound node per call");
    assert_eq!(nodes[1]["args"][0]["config"]["keras_history"], serde_json::json!(["extra", 0, 0]));
    assert_eq!(json["config"]["input_layers"], serde_json::json!([["ids", 0, 0], ["extra", 0, 0]]));

    let mut copy = Functional::from_json(&original.to_json()?)?;
    assert_eq!(copy.to_json()?, original.to_json()?);
    assert_eq!(copy.get_weights().len(), original.get_weights().len());
    let (x, _) = data();
    assert_eq!(copy.predict(&views(&x))?.len(), 2);
    // A Sequential's file is not a functional model, and the reverse.
    assert!(Sequential::from_json(&original.to_json()?).is_err());
    let mut sequential = Sequential::new();
    sequential.add(Dense::new(1));
    sequential.build(&[2])?;
    let err = Functional::from_json(&sequential.to_json()?).unwrap_err();
    assert!(err.to_string().contains("Functional"), "{err}");
    Ok(())
}

#[test]
fn weights_file_round_trip() -> rnnkit::Result<()> {
    let original = model()?;
    let path = temp("weights");
    original.save_weights(&path)?;
    // Built again on a fresh name count and another seed: the same names, other weights.
    rnnkit::model::clear_session();
    rnnkit::model::set_random_seed(5);
    let mut other = model()?;
    assert_ne!(other.get_weights(), original.get_weights());
    other.load_weights(&path)?;
    std::fs::remove_file(&path).ok();
    assert_eq!(other.get_weights(), original.get_weights());
    Ok(())
}
