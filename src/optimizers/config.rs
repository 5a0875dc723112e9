//! Optimizers and learning-rate schedules from their configurations (Keras'
//! `keras.optimizers.deserialize`): one registry of the classes a saved model may name.

use super::schedules::{CosineDecay, ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay};
use super::{Adagrad, Adam, Clipping, LearningRate, Nadam, Optimizer, RmsProp, Sgd};
use crate::saving::{config_error, number_f32, Reader};
use crate::Result;
use serde_json::Value;

/// Builds an optimizer of one class from its configuration's own arguments.
type FromConfig = fn(LearningRate, &mut Reader<'_>) -> Result<Box<dyn Optimizer>>;

/// The optimizer classes a configuration may name: Keras' class names. (`AdamW` is saved as
/// the `Adam` it is, with its weight decay.)
const OPTIMIZERS: &[(&str, FromConfig)] = &[
    ("SGD", |lr, r| {
        Ok(Box::new(Sgd::new(lr).momentum(r.f32("momentum")?).nesterov(r.bool("nesterov")?)))
    }),
    ("RMSprop", |lr, r| {
        Ok(Box::new(
            RmsProp::new(lr)
                .rho(r.f32("rho")?)
                .momentum(r.f32("momentum")?)
                .epsilon(r.f32("epsilon")?),
        ))
    }),
    ("Adam", |lr, r| {
        Ok(Box::new(
            Adam::new(lr)
                .beta_1(r.f32("beta_1")?)
                .beta_2(r.f32("beta_2")?)
                .epsilon(r.f32("epsilon")?),
        ))
    }),
    ("Nadam", |lr, r| {
        Ok(Box::new(
            Nadam::new(lr)
                .beta_1(r.f32("beta_1")?)
                .beta_2(r.f32("beta_2")?)
                .epsilon(r.f32("epsilon")?),
        ))
    }),
    ("Adagrad", |lr, r| {
        Ok(Box::new(
            Adagrad::new(lr)
                .initial_accumulator_value(r.f32("initial_accumulator_value")?)
                .epsilon(r.f32("epsilon")?),
        ))
    }),
];

/// The optimizer `value` describes (`{"class_name": .., "config": {..}}`, as
/// [`Optimizer::get_config`] writes it), with no update applied yet, checked.
///
/// # Errors
/// [`Error::Config`](crate::Error::Config) for an unknown class, a missing or unknown key or a
/// value of the wrong type; [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a
/// hyper-parameter out of its domain.
pub(crate) fn optimizer_from_config(value: &Value) -> Result<Box<dyn Optimizer>> {
    let mut outer = Reader::new("the optimizer", value)?;
    let class_name = outer.str("class_name")?;
    let config = outer.required("config")?;
    outer.finish()?;
    let (_, build) = OPTIMIZERS.iter().find(|(name, _)| *name == class_name).ok_or_else(|| {
        let known: Vec<&str> = OPTIMIZERS.iter().map(|(name, _)| *name).collect();
        config_error(format!(
            "the optimizer: unknown class \"{class_name}\"; expected one of {}",
            known.join(", ")
        ))
    })?;
    let mut r = Reader::new(format!("the optimizer ({class_name})"), config)?;
    let learning_rate = learning_rate(r.required("learning_rate")?)?;
    let weight_decay = r.optional_f32("weight_decay")?;
    let clipping = Clipping {
        clipnorm: r.optional_f32("clipnorm")?,
        clipvalue: r.optional_f32("clipvalue")?,
        global_clipnorm: r.optional_f32("global_clipnorm")?,
    };
    let mut optimizer = build(learning_rate, &mut r)?;
    r.finish()?;
    let base = optimizer.base_mut();
    base.weight_decay = weight_decay;
    base.clipping = clipping;
    optimizer.validate()?;
    Ok(optimizer)
}

/// A learning rate: a number, or a schedule's configuration.
fn learning_rate(value: &Value) -> Result<LearningRate> {
    if value.is_number() {
        return number_f32(value).map(LearningRate::Constant).ok_or_else(|| {
            config_error(format!("the optimizer: `learning_rate` {value} is not a finite number"))
        });
    }
    let mut outer = Reader::new("the learning-rate schedule", value)?;
    let class_name = outer.str("class_name")?;
    let config = outer.required("config")?;
    outer.finish()?;
    let mut r = Reader::new(format!("the learning-rate schedule ({class_name})"), config)?;
    let rate: LearningRate = match class_name {
        "ExponentialDecay" => ExponentialDecay::new(
            r.f32("initial_learning_rate")?,
            r.u64("decay_steps")?,
            r.f32("decay_rate")?,
        )
        .staircase(r.bool("staircase")?)
        .into(),
        "InverseTimeDecay" => InverseTimeDecay::new(
            r.f32("initial_learning_rate")?,
            r.u64("decay_steps")?,
            r.f32("decay_rate")?,
        )
        .staircase(r.bool("staircase")?)
        .into(),
        "CosineDecay" => {
            let schedule = CosineDecay::new(r.f32("initial_learning_rate")?, r.u64("decay_steps")?)
                .alpha(r.f32("alpha")?)
                .warmup_steps(r.u64("warmup_steps")?);
            match r.optional_f32("warmup_target")? {
                Some(target) => schedule.warmup_target(target),
                None => schedule,
            }
            .into()
        }
        "PiecewiseConstantDecay" => {
            let boundaries = r.required("boundaries")?;
            let boundaries = boundaries
                .as_array()
                .and_then(|b| b.iter().map(Value::as_u64).collect::<Option<Vec<u64>>>());
            let values = r.required("values")?;
            let values = values
                .as_array()
                .and_then(|v| v.iter().map(number_f32).collect::<Option<Vec<f32>>>());
            match (boundaries, values) {
                (Some(boundaries), Some(values)) => {
                    PiecewiseConstantDecay::new(boundaries, values).into()
                }
                _ => {
                    return Err(config_error(format!(
                        "{}: `boundaries` must be a list of non-negative integers and `values` a \
                         list of numbers",
                        r.what()
                    )))
                }
            }
        }
        other => {
            return Err(config_error(format!(
                "the learning-rate schedule: unknown class \"{other}\"; expected one of \
                 ExponentialDecay, InverseTimeDecay, CosineDecay, PiecewiseConstantDecay"
            )))
        }
    };
    r.finish()?;
    Ok(rate)
}
