//! The loss and the metrics of `compile` as Keras serialises them: a name
//! (`"binary_crossentropy"`, `"accuracy"`) for those without arguments,
//! `{"class_name": "Huber", "config": {"delta": 1.0}}` for the others.

use super::config::{config_error, f32_value, Reader};
use crate::losses::Loss;
use crate::metrics::{Auc, AucCurve, AucSummation, Metric};
use crate::Result;
use serde_json::{json, Value};

/// The loss's configuration.
pub(super) fn loss_to_config(loss: Loss) -> Value {
    match loss {
        Loss::BinaryCrossentropy => "binary_crossentropy".into(),
        Loss::CategoricalCrossentropy => "categorical_crossentropy".into(),
        Loss::SparseCategoricalCrossentropy => "sparse_categorical_crossentropy".into(),
        Loss::MeanSquaredError => "mean_squared_error".into(),
        Loss::MeanAbsoluteError => "mean_absolute_error".into(),
        Loss::LogCosh => "log_cosh".into(),
        Loss::Huber { delta } => {
            json!({ "class_name": "Huber", "config": { "delta": f32_value(delta) } })
        }
        Loss::BinaryCrossentropyWith { from_logits, label_smoothing } => json!({
            "class_name": "BinaryCrossentropy",
            "config": { "from_logits": from_logits, "label_smoothing": f32_value(label_smoothing) }
        }),
        Loss::CategoricalCrossentropyWith { from_logits, label_smoothing } => json!({
            "class_name": "CategoricalCrossentropy",
            "config": { "from_logits": from_logits, "label_smoothing": f32_value(label_smoothing) }
        }),
        Loss::BinaryFocalCrossentropy {
            alpha,
            gamma,
            apply_class_balancing,
            from_logits,
            label_smoothing,
        } => json!({
            "class_name": "BinaryFocalCrossentropy",
            "config": {
                "alpha": f32_value(alpha),
                "gamma": f32_value(gamma),
                "apply_class_balancing": apply_class_balancing,
                "from_logits": from_logits,
                "label_smoothing": f32_value(label_smoothing),
            }
        }),
    }
}

/// The loss `value` describes, checked.
///
/// # Errors
/// [`Error::Config`](crate::Error::Config) for an unknown name or class or a bad argument.
pub(super) fn loss_from_config(value: &Value) -> Result<Loss> {
    let loss = match value.as_str() {
        Some("binary_crossentropy") => Loss::BinaryCrossentropy,
        Some("categorical_crossentropy") => Loss::CategoricalCrossentropy,
        Some("sparse_categorical_crossentropy") => Loss::SparseCategoricalCrossentropy,
        Some("mean_squared_error") => Loss::MeanSquaredError,
        Some("mean_absolute_error") => Loss::MeanAbsoluteError,
        Some("log_cosh") => Loss::LogCosh,
        Some(other) => return Err(config_error(format!("the loss: unknown name \"{other}\""))),
        None => {
            let (class_name, mut r) = class_and_config("the loss", value)?;
            let loss = match class_name {
                "Huber" => Loss::Huber { delta: r.f32("delta")? },
                "BinaryCrossentropy" => Loss::BinaryCrossentropyWith {
                    from_logits: r.bool("from_logits")?,
                    label_smoothing: r.f32("label_smoothing")?,
                },
                "CategoricalCrossentropy" => Loss::CategoricalCrossentropyWith {
                    from_logits: r.bool("from_logits")?,
                    label_smoothing: r.f32("label_smoothing")?,
                },
                "BinaryFocalCrossentropy" => Loss::BinaryFocalCrossentropy {
                    alpha: r.f32("alpha")?,
                    gamma: r.f32("gamma")?,
                    apply_class_balancing: r.bool("apply_class_balancing")?,
                    from_logits: r.bool("from_logits")?,
                    label_smoothing: r.f32("label_smoothing")?,
                },
                other => return Err(config_error(format!("the loss: unknown class \"{other}\""))),
            };
            r.finish()?;
            loss
        }
    };
    loss.validate().map_err(|e| config_error(format!("the loss: {e}")))?;
    Ok(loss)
}

const CURVES: [(AucCurve, &str); 2] = [(AucCurve::Roc, "ROC"), (AucCurve::Pr, "PR")];
const SUMMATIONS: [(AucSummation, &str); 3] = [
    (AucSummation::Interpolation, "interpolation"),
    (AucSummation::Minoring, "minoring"),
    (AucSummation::Majoring, "majoring"),
];

/// The metric's configuration.
pub(super) fn metric_to_config(metric: Metric) -> Value {
    let with =
        |class_name: &str, config: Value| json!({ "class_name": class_name, "config": config });
    match metric {
        Metric::Accuracy
        | Metric::CategoricalAccuracy
        | Metric::SparseCategoricalAccuracy
        | Metric::MeanAbsoluteError
        | Metric::MeanSquaredError
        | Metric::RootMeanSquaredError => metric.name().into(),
        Metric::BinaryAccuracy { threshold } => {
            with("BinaryAccuracy", json!({ "threshold": f32_value(threshold) }))
        }
        Metric::TopKCategoricalAccuracy { k } => with("TopKCategoricalAccuracy", json!({ "k": k })),
        Metric::Precision { threshold } => {
            with("Precision", json!({ "thresholds": f32_value(threshold) }))
        }
        Metric::Recall { threshold } => {
            with("Recall", json!({ "thresholds": f32_value(threshold) }))
        }
        Metric::Auc(auc) => {
            let (curve, num_thresholds, summation) = auc.parts();
            let curve = CURVES.iter().find(|(c, _)| *c == curve).map_or("ROC", |(_, n)| n);
            let summation = SUMMATIONS
                .iter()
                .find(|(s, _)| *s == summation)
                .map_or("interpolation", |(_, n)| n);
            with(
                "AUC",
                json!({
                    "curve": curve,
                    "num_thresholds": num_thresholds,
                    "summation_method": summation,
                }),
            )
        }
    }
}

/// The metric `value` describes, checked.
///
/// # Errors
/// [`Error::Config`](crate::Error::Config) for an unknown name or class or a bad argument.
pub(super) fn metric_from_config(value: &Value) -> Result<Metric> {
    let metric = match value.as_str() {
        Some(name) => [
            Metric::Accuracy,
            Metric::CategoricalAccuracy,
            Metric::SparseCategoricalAccuracy,
            Metric::MeanAbsoluteError,
            Metric::MeanSquaredError,
            Metric::RootMeanSquaredError,
        ]
        .into_iter()
        .find(|m| m.name() == name)
        .ok_or_else(|| config_error(format!("a metric: unknown name \"{name}\"")))?,
        None => {
            let (class_name, mut r) = class_and_config("a metric", value)?;
            let metric = match class_name {
                "BinaryAccuracy" => Metric::BinaryAccuracy { threshold: r.f32("threshold")? },
                "TopKCategoricalAccuracy" => Metric::TopKCategoricalAccuracy { k: r.usize("k")? },
                "Precision" => Metric::Precision { threshold: r.f32("thresholds")? },
                "Recall" => Metric::Recall { threshold: r.f32("thresholds")? },
                "AUC" => {
                    let curve = r.str("curve")?;
                    let curve = CURVES.iter().find(|(_, n)| *n == curve).map(|(c, _)| *c);
                    let summation = r.str("summation_method")?;
                    let summation =
                        SUMMATIONS.iter().find(|(_, n)| *n == summation).map(|(s, _)| *s);
                    let (Some(curve), Some(summation)) = (curve, summation) else {
                        return Err(config_error(
                            "the metric AUC: `curve` must be \"ROC\" or \"PR\" and \
                             `summation_method` one of \"interpolation\", \"minoring\", \
                             \"majoring\"",
                        ));
                    };
                    Metric::Auc(
                        Auc::new()
                            .curve(curve)
                            .num_thresholds(r.usize("num_thresholds")?)
                            .summation_method(summation),
                    )
                }
                other => return Err(config_error(format!("a metric: unknown class \"{other}\""))),
            };
            r.finish()?;
            metric
        }
    };
    metric.validate().map_err(|e| config_error(format!("the metric {}: {e}", metric.name())))?;
    Ok(metric)
}

/// The class name and a reader of the arguments of `{"class_name": .., "config": {..}}`.
fn class_and_config<'a>(what: &str, value: &'a Value) -> Result<(&'a str, Reader<'a>)> {
    let mut outer = Reader::new(what, value)?;
    let class_name = outer.str("class_name")?;
    let config = outer.required("config")?;
    outer.finish()?;
    Ok((class_name, Reader::new(format!("{what} ({class_name})"), config)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_loss_and_metric_round_trips() {
        let losses = [
            Loss::BinaryCrossentropy,
            Loss::CategoricalCrossentropy,
            Loss::SparseCategoricalCrossentropy,
            Loss::MeanSquaredError,
            Loss::MeanAbsoluteError,
            Loss::LogCosh,
            Loss::Huber { delta: 0.7 },
            Loss::BinaryCrossentropyWith { from_logits: true, label_smoothing: 0.1 },
            Loss::CategoricalCrossentropyWith { from_logits: false, label_smoothing: 0.2 },
            Loss::BinaryFocalCrossentropy {
                alpha: 0.3,
                gamma: 1.5,
                apply_class_balancing: true,
                from_logits: true,
                label_smoothing: 0.05,
            },
        ];
        for loss in losses {
            let text = loss_to_config(loss).to_string();
            assert_eq!(loss_from_config(&serde_json::from_str(&text).unwrap()).unwrap(), loss);
        }
        let metrics = [
            Metric::Accuracy,
            Metric::BinaryAccuracy { threshold: 0.3 },
            Metric::CategoricalAccuracy,
            Metric::SparseCategoricalAccuracy,
            Metric::TopKCategoricalAccuracy { k: 3 },
            Metric::Precision { threshold: 0.6 },
            Metric::Recall { threshold: 0.4 },
            Metric::Auc(Auc::new().curve(AucCurve::Pr).num_thresholds(50)),
            Metric::MeanAbsoluteError,
            Metric::MeanSquaredError,
            Metric::RootMeanSquaredError,
        ];
        for metric in metrics {
            let text = metric_to_config(metric).to_string();
            assert_eq!(metric_from_config(&serde_json::from_str(&text).unwrap()).unwrap(), metric);
        }
        let message = loss_from_config(&json!("hinge")).unwrap_err().to_string();
        assert!(message.contains("unknown name \"hinge\""), "{message}");
    }
}
