//! Reads `tests/fixtures/keras_core.json`, produced by real Keras with
//! `tests/fixtures/generate_keras_fixtures.py`, and rebuilds its models in rnnkit.

use ndarray::{ArrayD, IxDyn};
use rnnkit::model::Summary;
use rnnkit::prelude::*;
use serde_json::Value;

/// The parsed fixture file.
pub fn fixtures() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keras_core.json");
    let text = std::fs::read_to_string(path).expect("fixture file is committed");
    serde_json::from_str(&text).expect("fixture file is valid JSON")
}

/// A fixture file of `tests/fixtures/` (`"keras_recurrent.json"`), parsed.
pub fn fixtures_from(file: &str) -> Value {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture file is committed");
    serde_json::from_str(&text).expect("fixture file is valid JSON")
}

/// The cases of one section (`"forward"`, `"train_step"`, ...).
pub fn cases<'a>(fixtures: &'a Value, section: &str) -> &'a [Value] {
    fixtures[section].as_array().map(Vec::as_slice).unwrap_or_default()
}

/// A nested JSON list of numbers as an array.
pub fn array(value: &Value) -> ArrayD<f32> {
    let mut shape = Vec::new();
    let mut probe = value;
    while let Value::Array(items) = probe {
        shape.push(items.len());
        match items.first() {
            Some(first) => probe = first,
            None => break,
        }
    }
    let mut flat = Vec::new();
    flatten(value, &mut flat);
    ArrayD::from_shape_vec(IxDyn(&shape), flat).expect("rectangular nested list")
}

fn flatten(value: &Value, out: &mut Vec<f32>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
        Value::Number(n) => out.push(n.as_f64().expect("a number") as f32),
        Value::Bool(b) => out.push(f32::from(u8::from(*b))),
        other => panic!("unexpected JSON value {other}"),
    }
}

/// A list of arrays (`model.get_weights()`).
pub fn arrays(value: &Value) -> Vec<ArrayD<f32>> {
    value.as_array().expect("a list of arrays").iter().map(array).collect()
}

/// The per-sample input shape of a case.
pub fn input_shape(case: &Value) -> Vec<usize> {
    case["input_shape"]
        .as_array()
        .expect("input_shape")
        .iter()
        .map(|d| d.as_u64().expect("a dimension") as usize)
        .collect()
}

fn flag(spec: &Value, key: &str, default: bool) -> bool {
    spec.get(key).and_then(Value::as_bool).unwrap_or(default)
}

fn count(spec: &Value, key: &str) -> usize {
    spec[key].as_u64().unwrap_or_else(|| panic!("{key} in {spec}")) as usize
}

fn activation(spec: &Value) -> Activation {
    spec.get("activation").and_then(Value::as_str).unwrap_or("linear").parse().expect("activation")
}

/// Rebuilds a fixture's model, built for its input shape with rnnkit's own initial weights.
pub fn model(case: &Value) -> Sequential {
    let mut model = Sequential::new();
    for spec in case["model"].as_array().expect("model") {
        let trainable = flag(spec, "trainable", true);
        match spec["class"].as_str().expect("class") {
            "Embedding" => model.add(
                Embedding::new(count(spec, "input_dim"), count(spec, "output_dim"))
                    .mask_zero(flag(spec, "mask_zero", false))
                    .trainable(trainable),
            ),
            "SimpleRNN" => model.add(
                SimpleRnn::new(count(spec, "units"))
                    .activation(activation(spec))
                    .use_bias(flag(spec, "use_bias", true))
                    .return_sequences(flag(spec, "return_sequences", false))
                    .go_backwards(flag(spec, "go_backwards", false))
                    .trainable(trainable),
            ),
            "LSTM" => model.add(lstm(spec)),
            "GRU" => model.add(gru(spec)),
            "Bidirectional" => {
                let merge_mode = match spec["merge_mode"].as_str().unwrap_or("concat") {
                    "concat" => MergeMode::Concat,
                    "sum" => MergeMode::Sum,
                    "mul" => MergeMode::Mul,
                    "ave" => MergeMode::Ave,
                    other => panic!("no rnnkit merge mode for {other}"),
                };
                let inner = &spec["layer"];
                match inner["class"].as_str().expect("class") {
                    "SimpleRNN" => {
                        model.add(Bidirectional::new(simple_rnn(inner)).merge_mode(merge_mode))
                    }
                    "LSTM" => model.add(Bidirectional::new(lstm(inner)).merge_mode(merge_mode)),
                    "GRU" => model.add(Bidirectional::new(gru(inner)).merge_mode(merge_mode)),
                    other => panic!("no rnnkit recurrent layer for {other}"),
                }
            }
            "Dense" => model.add(
                Dense::new(count(spec, "units"))
                    .activation(activation(spec))
                    .use_bias(flag(spec, "use_bias", true))
                    .trainable(trainable),
            ),
            "Flatten" => model.add(Flatten::new()),
            "Masking" => model.add(Masking::new(spec["mask_value"].as_f64().unwrap_or(0.0) as f32)),
            other => panic!("no rnnkit layer for {other}"),
        }
    }
    model.build(&input_shape(case)).expect("fixture model builds");
    model
}

fn recurrent_activation(spec: &Value) -> Activation {
    let name = spec.get("recurrent_activation").and_then(Value::as_str).unwrap_or("sigmoid");
    name.parse().expect("recurrent_activation")
}

/// A fixture's `SimpleRNN` layer.
pub fn simple_rnn(spec: &Value) -> SimpleRnn {
    SimpleRnn::new(count(spec, "units"))
        .activation(activation(spec))
        .use_bias(flag(spec, "use_bias", true))
        .return_sequences(flag(spec, "return_sequences", false))
        .go_backwards(flag(spec, "go_backwards", false))
        .trainable(flag(spec, "trainable", true))
}

/// A fixture's `LSTM` layer.
pub fn lstm(spec: &Value) -> Lstm {
    Lstm::new(count(spec, "units"))
        .activation(activation(spec))
        .recurrent_activation(recurrent_activation(spec))
        .use_bias(flag(spec, "use_bias", true))
        .unit_forget_bias(flag(spec, "unit_forget_bias", true))
        .return_sequences(flag(spec, "return_sequences", false))
        .go_backwards(flag(spec, "go_backwards", false))
        .trainable(flag(spec, "trainable", true))
}

/// A fixture's `GRU` layer.
pub fn gru(spec: &Value) -> Gru {
    Gru::new(count(spec, "units"))
        .activation(activation(spec))
        .recurrent_activation(recurrent_activation(spec))
        .use_bias(flag(spec, "use_bias", true))
        .return_sequences(flag(spec, "return_sequences", false))
        .go_backwards(flag(spec, "go_backwards", false))
        .trainable(flag(spec, "trainable", true))
}

/// Rebuilds a fixture's model with the fixture's initial weights.
pub fn model_with_weights(case: &Value) -> Sequential {
    let mut model = model(case);
    model.set_weights(arrays(&case["weights"])).expect("fixture weights fit the model");
    model
}

/// The fixture's loss.
pub fn loss(case: &Value) -> Loss {
    match case["loss"].as_str().expect("loss") {
        "binary_crossentropy" => Loss::BinaryCrossentropy,
        "categorical_crossentropy" => Loss::CategoricalCrossentropy,
        "sparse_categorical_crossentropy" => Loss::SparseCategoricalCrossentropy,
        "mean_squared_error" => Loss::MeanSquaredError,
        other => panic!("no rnnkit loss for {other}"),
    }
}

/// Compiles `model` with the fixture's optimizer and loss, and the accuracy metric.
pub fn compile(model: &mut Sequential, case: &Value) {
    let spec = &case["optimizer"];
    let real = |key: &str| spec.get(key).and_then(Value::as_f64).map(|v| v as f32);
    let clipping = Clipping {
        clipnorm: real("clipnorm"),
        clipvalue: real("clipvalue"),
        global_clipnorm: real("global_clipnorm"),
    };
    let lr = real("learning_rate").unwrap_or(0.001);
    let metrics = [Metric::Accuracy];
    let loss = loss(case);
    let result = match spec["class"].as_str().unwrap_or("RMSprop") {
        "SGD" => model.compile(
            Sgd::new(lr)
                .momentum(real("momentum").unwrap_or(0.0))
                .nesterov(flag(spec, "nesterov", false))
                .clipping(clipping),
            loss,
            &metrics,
        ),
        "RMSprop" => model.compile(
            RmsProp::new(lr)
                .rho(real("rho").unwrap_or(0.9))
                .momentum(real("momentum").unwrap_or(0.0))
                .epsilon(real("epsilon").unwrap_or(1e-7))
                .clipping(clipping),
            loss,
            &metrics,
        ),
        "Adam" => model.compile(
            Adam::new(lr)
                .beta_1(real("beta_1").unwrap_or(0.9))
                .beta_2(real("beta_2").unwrap_or(0.999))
                .epsilon(real("epsilon").unwrap_or(1e-7))
                .clipping(clipping),
            loss,
            &metrics,
        ),
        other => panic!("no rnnkit optimizer for {other}"),
    };
    result.expect("fixture optimizer is valid");
}

/// Runs the fixture `case`'s training steps (`train_on_batch` on its `x` and `y`) on `model` and
/// asserts that each step's loss and weights are Keras' within `tolerance`; returns the worst
/// weight difference.
pub fn assert_train_steps_match(model: &mut Sequential, case: &Value, tolerance: f32) -> f32 {
    let name = case["name"].as_str().unwrap();
    let (x, y) = (array(&case["x"]), array(&case["y"]));
    let mut worst = 0.0f32;
    for (step, expected) in case["steps"].as_array().unwrap().iter().enumerate() {
        let scores = model.train_on_batch(&x, &y).unwrap();
        let keras_loss = expected["loss"].as_f64().unwrap() as f32;
        assert!(
            (scores.loss - keras_loss).abs() <= tolerance * keras_loss.abs().max(1.0),
            "{name} step {}: loss {} vs keras {keras_loss}",
            step + 1,
            scores.loss
        );
        for (index, (ours, theirs)) in
            model.get_weights().iter().zip(arrays(&expected["weights"])).enumerate()
        {
            let diff = max_abs_diff(ours, &theirs);
            assert!(
                diff <= tolerance,
                "{name} step {} weight {index}: max diff {diff:e}",
                step + 1
            );
            worst = worst.max(diff);
        }
    }
    worst
}

/// Largest absolute difference between two arrays of the same shape.
pub fn max_abs_diff(a: &ArrayD<f32>, b: &ArrayD<f32>) -> f32 {
    assert_eq!(a.shape(), b.shape(), "shapes differ");
    a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Asserts that `summary` is the one Keras printed for the fixture `case`: the parameter
/// counts, every row (name, class, output shape, parameters) and the table's text.
pub fn assert_summary_matches(summary: &Summary, case: &Value) {
    let name = case["name"].as_str().unwrap();
    assert_eq!(summary.total_params() as u64, case["total"].as_u64().unwrap(), "{name}");
    assert_eq!(summary.trainable_params() as u64, case["trainable"].as_u64().unwrap(), "{name}");
    assert_eq!(
        summary.non_trainable_params() as u64,
        case["non_trainable"].as_u64().unwrap(),
        "{name}"
    );
    let expected_layers = case["layers"].as_array().unwrap();
    assert_eq!(summary.layers().len(), expected_layers.len(), "{name}");
    for (row, expected) in summary.layers().iter().zip(expected_layers) {
        assert_eq!(row.name, expected["name"].as_str().unwrap(), "{name}");
        assert_eq!(row.class_name, expected["class"].as_str().unwrap(), "{name}");
        assert_eq!(row.params as u64, expected["params"].as_u64().unwrap(), "{name}");
        let shape: Vec<usize> = expected["output_shape"].as_array().unwrap()[1..]
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(row.output_shape, shape, "{name}");
    }
    assert_eq!(summary.to_string().trim_end(), case["text"].as_str().unwrap().trim_end(), "{name}");
}
