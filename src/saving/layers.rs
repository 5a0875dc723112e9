//! Layers to and from their configurations: `{"class_name": "LSTM", "config": {...}}`, as
//! Keras' `serialize_keras_object`, with one registry of the classes a file may name.

use super::config::{config_error, dims_value, f32_value, Config, Reader};
use crate::layers::recurrent::Rnn;
use crate::layers::{
    AdditiveAttention, Attention, Bidirectional, Cell, Concatenate, Dense, Dropout, Embedding,
    Flatten, GlobalAveragePooling1D, Gru, GruCell, Layer, LayerExt, LayerNormalization, Lstm,
    LstmCell, Masking, MergeMode, MultiHeadAttention, Recurrent, RepeatVector, ScoreMode,
    SimpleRnn, SimpleRnnCell, TimeDistributed,
};
use crate::Result;
use serde_json::{json, Value};
use std::any::Any;

/// Builds a layer of one class from its configuration's arguments.
type FromConfig = fn(&mut Reader<'_>) -> Result<Box<dyn Layer>>;

/// The classes a configuration may name, and how each is built: Keras' class names.
const REGISTRY: &[(&str, FromConfig)] = &[
    ("Embedding", |r| Ok(Box::new(embedding(r)?))),
    ("SimpleRNN", |r| Ok(Box::new(simple_rnn(r)?))),
    ("LSTM", |r| Ok(Box::new(lstm(r)?))),
    ("GRU", |r| Ok(Box::new(gru(r)?))),
    ("Bidirectional", bidirectional),
    ("Dense", |r| Ok(Box::new(dense(r)?))),
    ("Dropout", |r| Ok(Box::new(dropout(r)?))),
    ("Masking", |r| Ok(Box::new(Masking::new(r.f32("mask_value")?)))),
    ("Flatten", |_| Ok(Box::new(Flatten::new()))),
    ("LayerNormalization", |r| Ok(Box::new(layer_normalization(r)?))),
    ("GlobalAveragePooling1D", |_| Ok(Box::new(GlobalAveragePooling1D::new()))),
    ("RepeatVector", |r| Ok(Box::new(RepeatVector::new(r.usize("n")?)))),
    ("TimeDistributed", time_distributed),
    ("Concatenate", |r| Ok(Box::new(concatenate(r)?))),
    ("Attention", |r| Ok(Box::new(attention(r)?))),
    ("AdditiveAttention", |r| Ok(Box::new(additive_attention(r)?))),
    ("MultiHeadAttention", |r| Ok(Box::new(multi_head_attention(r)?))),
];

/// `{"class_name": .., "config": {"name", "trainable", ["input_shape"], ..arguments}}`.
///
/// # Errors
/// [`Error::Config`](crate::Error::Config) for a layer without a configuration (a custom layer
/// whose `get_config` returns `None`).
pub(crate) fn to_config(layer: &dyn Layer) -> Result<Value> {
    let arguments = layer.get_config().ok_or_else(|| {
        config_error(format!(
            "layer '{}' ({}) has no configuration (its `Layer::get_config` returns None), so \
             the model cannot be saved whole; save its weights with `save_weights` and build \
             the model in code",
            layer.name(),
            layer.class_name()
        ))
    })?;
    let mut config = Config::new();
    config.insert("name".into(), layer.name().into());
    config.insert("trainable".into(), layer.is_trainable().into());
    if let Some(shape) = layer.base().declared_input_shape() {
        config.insert("input_shape".into(), dims_value(shape));
    }
    config.extend(arguments);
    Ok(json!({ "class_name": layer.class_name(), "config": config }))
}

/// The layer `value` describes (written by [`to_config`]), unbuilt.
///
/// # Errors
/// [`Error::Config`](crate::Error::Config) naming the layer and the key: an unknown class, a
/// missing or unknown key, a value of the wrong type.
pub(crate) fn from_config(value: &Value, position: usize) -> Result<Box<dyn Layer>> {
    from_boxed_config(value, &format!("layer {position}"))
}

/// As [`from_config`], for the layer `what` names in messages (`layer 2`, `the layer ... wraps`).
fn from_boxed_config(value: &Value, what: &str) -> Result<Box<dyn Layer>> {
    let mut outer = Reader::new(what.to_string(), value)?;
    let class_name = outer.str("class_name")?;
    let config = outer.required("config")?;
    outer.finish()?;
    let name = config.get("name").and_then(Value::as_str).unwrap_or("");
    let (_, build) = REGISTRY.iter().find(|(class, _)| *class == class_name).ok_or_else(|| {
        let known: Vec<&str> = REGISTRY.iter().map(|(class, _)| *class).collect();
        config_error(format!(
            "{what} ('{name}'): unknown class \"{class_name}\"; expected one of {}",
            known.join(", ")
        ))
    })?;
    let mut reader = Reader::new(format!("layer '{name}' ({class_name})"), config)?;
    let name = reader.str("name")?.to_string();
    let trainable = reader.bool("trainable")?;
    let input_shape = reader.optional_dims("input_shape")?;
    let mut layer = build(&mut reader)?;
    reader.finish()?;
    if name.is_empty() {
        return Err(config_error(format!("{what} ({class_name}): `name` is empty")));
    }
    layer.set_name(name);
    layer.set_trainable(trainable);
    if let Some(shape) = input_shape {
        layer.base_mut().declare_input_shape(shape);
    }
    Ok(layer)
}

fn layer_normalization(r: &mut Reader<'_>) -> Result<LayerNormalization> {
    Ok(LayerNormalization::new()
        .epsilon(r.f32("epsilon")?)
        .center(r.bool("center")?)
        .scale(r.bool("scale")?))
}

fn time_distributed(r: &mut Reader<'_>) -> Result<Box<dyn Layer>> {
    let inner = from_boxed_config(r.required("layer")?, &format!("the layer {} wraps", r.what()))?;
    Ok(Box::new(TimeDistributed::from_boxed(inner)))
}

fn concatenate(r: &mut Reader<'_>) -> Result<Concatenate> {
    let axis = r.required("axis")?;
    let axis = axis.as_i64().ok_or_else(|| {
        config_error(format!("{}: `axis` must be an integer, found {axis}", r.what()))
    })?;
    Ok(Concatenate::new().axis(axis as isize))
}

fn attention(r: &mut Reader<'_>) -> Result<Attention> {
    let mode = match r.str("score_mode")? {
        "dot" => ScoreMode::Dot,
        "concat" => ScoreMode::Concat,
        other => {
            return Err(config_error(format!(
                "{}: `score_mode` must be \"dot\" or \"concat\", found \"{other}\"",
                r.what()
            )))
        }
    };
    let layer = Attention::new()
        .use_scale(r.bool("use_scale")?)
        .score_mode(mode)
        .dropout(r.f32("dropout")?)
        .use_causal_mask(r.bool("use_causal_mask")?)
        .return_attention_scores(r.bool("return_attention_scores")?);
    Ok(match r.optional_u64("seed")? {
        Some(seed) => layer.seed(seed),
        None => layer,
    })
}

fn additive_attention(r: &mut Reader<'_>) -> Result<AdditiveAttention> {
    let layer = AdditiveAttention::new()
        .use_scale(r.bool("use_scale")?)
        .dropout(r.f32("dropout")?)
        .use_causal_mask(r.bool("use_causal_mask")?)
        .return_attention_scores(r.bool("return_attention_scores")?);
    Ok(match r.optional_u64("seed")? {
        Some(seed) => layer.seed(seed),
        None => layer,
    })
}

fn multi_head_attention(r: &mut Reader<'_>) -> Result<MultiHeadAttention> {
    let mut layer = MultiHeadAttention::new(r.usize("num_heads")?, r.usize("key_dim")?)
        .value_dim(r.usize("value_dim")?)
        .dropout(r.f32("dropout")?)
        .use_bias(r.bool("use_bias")?)
        .use_causal_mask(r.bool("use_causal_mask")?)
        .return_attention_scores(r.bool("return_attention_scores")?);
    if let Some(shape) = r.optional_dims("output_shape")? {
        let [features] = shape[..] else {
            return Err(config_error(format!(
                "{}: `output_shape` must list one size (the output's features), found {shape:?}",
                r.what()
            )));
        };
        layer = layer.output_shape(features);
    }
    Ok(match r.optional_u64("seed")? {
        Some(seed) => layer.seed(seed),
        None => layer,
    })
}

fn embedding(r: &mut Reader<'_>) -> Result<Embedding> {
    Ok(Embedding::new(r.usize("input_dim")?, r.usize("output_dim")?)
        .mask_zero(r.bool("mask_zero")?))
}

fn dense(r: &mut Reader<'_>) -> Result<Dense> {
    Ok(Dense::new(r.usize("units")?)
        .activation(r.activation("activation")?)
        .use_bias(r.bool("use_bias")?))
}

fn dropout(r: &mut Reader<'_>) -> Result<Dropout> {
    let layer = Dropout::new(r.f32("rate")?);
    Ok(match r.optional_u64("seed")? {
        Some(seed) => layer.seed(seed),
        None => layer,
    })
}

/// The options every recurrent layer shares.
fn recurrent<C: Cell>(layer: Recurrent<C>, r: &mut Reader<'_>) -> Result<Recurrent<C>> {
    let layer = layer
        .use_bias(r.bool("use_bias")?)
        .return_sequences(r.bool("return_sequences")?)
        .return_state(optional_bool(r, "return_state")?)
        .go_backwards(r.bool("go_backwards")?)
        .dropout(r.f32("dropout")?)
        .recurrent_dropout(r.f32("recurrent_dropout")?);
    Ok(match r.optional_u64("seed")? {
        Some(seed) => layer.seed(seed),
        None => layer,
    })
}

/// A boolean that files written before the key existed leave out: `false` then.
fn optional_bool(r: &mut Reader<'_>, key: &'static str) -> Result<bool> {
    match r.optional(key) {
        None => Ok(false),
        Some(value) => value.as_bool().ok_or_else(|| {
            crate::Error::Config(format!(
                "{}: `{key}` must be true or false, found {value}",
                r.what()
            ))
        }),
    }
}

fn simple_rnn(r: &mut Reader<'_>) -> Result<SimpleRnn> {
    let layer = SimpleRnn::new(r.usize("units")?).activation(r.activation("activation")?);
    recurrent(layer, r)
}

fn lstm(r: &mut Reader<'_>) -> Result<Lstm> {
    let layer = Lstm::new(r.usize("units")?)
        .activation(r.activation("activation")?)
        .recurrent_activation(r.activation("recurrent_activation")?)
        .unit_forget_bias(r.bool("unit_forget_bias")?);
    recurrent(layer, r)
}

fn gru(r: &mut Reader<'_>) -> Result<Gru> {
    let layer = Gru::new(r.usize("units")?)
        .activation(r.activation("activation")?)
        .recurrent_activation(r.activation("recurrent_activation")?);
    recurrent(layer, r)
}

/// Keras' names of the merge modes.
const MERGE_MODES: [(MergeMode, &str); 4] = [
    (MergeMode::Concat, "concat"),
    (MergeMode::Sum, "sum"),
    (MergeMode::Mul, "mul"),
    (MergeMode::Ave, "ave"),
];

fn bidirectional(r: &mut Reader<'_>) -> Result<Box<dyn Layer>> {
    let mode = r.str("merge_mode")?;
    let merge_mode = MERGE_MODES.iter().find(|(_, name)| *name == mode).map(|(m, _)| *m);
    let merge_mode = merge_mode.ok_or_else(|| {
        config_error(format!(
            "{}: `merge_mode` must be one of \"concat\", \"sum\", \"mul\", \"ave\", found \
             \"{mode}\"",
            r.what()
        ))
    })?;
    let inner = r.required("layer")?;
    let what = format!("the layer {} wraps", r.what());
    let mut outer = Reader::new(what.clone(), inner)?;
    let class_name = outer.str("class_name")?;
    let config = outer.required("config")?;
    outer.finish()?;
    let mut inner = Reader::new(format!("{what} ({class_name})"), config)?;
    let layer: Box<dyn Layer> = match class_name {
        "SimpleRNN" => Box::new(Bidirectional::new(simple_rnn(&mut inner)?).merge_mode(merge_mode)),
        "LSTM" => Box::new(Bidirectional::new(lstm(&mut inner)?).merge_mode(merge_mode)),
        "GRU" => Box::new(Bidirectional::new(gru(&mut inner)?).merge_mode(merge_mode)),
        other => {
            return Err(config_error(format!(
                "{what}: class \"{other}\" cannot be wrapped; expected SimpleRNN, LSTM or GRU"
            )))
        }
    };
    inner.finish()?;
    Ok(layer)
}

/// A recurrent layer's arguments: the cell's, then those every recurrent layer shares.
pub(crate) fn recurrent_config<C: Cell>(rnn: &Rnn<C>) -> Config {
    let mut config = Config::new();
    config.insert("units".into(), rnn.units.into());
    let cell: &dyn Any = &rnn.cell;
    if let Some(cell) = cell.downcast_ref::<SimpleRnnCell>() {
        config.insert("activation".into(), cell.activation.keras_name().into());
    } else if let Some(cell) = cell.downcast_ref::<LstmCell>() {
        config.insert("activation".into(), cell.activation.keras_name().into());
        config.insert("recurrent_activation".into(), cell.recurrent_activation.keras_name().into());
        config.insert("unit_forget_bias".into(), cell.unit_forget_bias.into());
    } else if let Some(cell) = cell.downcast_ref::<GruCell>() {
        config.insert("activation".into(), cell.activation.keras_name().into());
        config.insert("recurrent_activation".into(), cell.recurrent_activation.keras_name().into());
    }
    config.insert("use_bias".into(), rnn.use_bias.into());
    config.insert("return_sequences".into(), rnn.return_sequences.into());
    config.insert("return_state".into(), rnn.return_state.into());
    config.insert("go_backwards".into(), rnn.go_backwards.into());
    config.insert("dropout".into(), f32_value(rnn.dropout.input));
    config.insert("recurrent_dropout".into(), f32_value(rnn.dropout.recurrent));
    config.insert("seed".into(), rnn.dropout.seed.into());
    config
}

/// A `Bidirectional`'s arguments: the wrapped layer's configuration and the merge mode.
pub(crate) fn bidirectional_config<C: Cell>(
    layer: &Recurrent<C>,
    merge_mode: MergeMode,
) -> Option<Config> {
    let mode = MERGE_MODES.iter().find(|(m, _)| *m == merge_mode).map(|(_, name)| *name)?;
    let inner = json!({ "class_name": layer.class_name(), "config": layer.get_config()? });
    Some(Config::from_iter([("layer".to_string(), inner), ("merge_mode".to_string(), mode.into())]))
}
