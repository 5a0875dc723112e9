//! `History::plot_svg`: the chart is written (atomically), holds one line per recorded series
//! with one point per epoch, in the history's order and colours, and refuses what it cannot draw.

use ndarray::{Array1, Array2};
use rnnkit::prelude::*;
use rnnkit::Error;
use std::fs;
use std::path::PathBuf;

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Training values are drawn in blue, validation values in orange.
const TRAINING_STROKE: &str = "#1F77B4";
const VALIDATION_STROKE: &str = "#FF7F0E";

/// A fresh, empty folder for one test.
fn scratch(test: &str) -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("rnnkit-plot-{}-{test}", std::process::id()));
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A history of `epochs` epochs from a tiny sentiment-like model: loss and accuracy, plus their
/// `val_` twins when `validation_split` is positive.
fn history(epochs: usize, validation_split: f32) -> rnnkit::Result<History> {
    let mut model = Sequential::new().seed(3);
    model.add(Embedding::new(30, 4).input_length(8));
    model.add(SimpleRnn::new(4));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model.compile(RmsProp::new(0.01), Loss::BinaryCrossentropy, &[Metric::Accuracy])?;
    // Label 1 when the sequence holds id 1: learnable, so the curves move.
    let x = Array2::from_shape_fn((48, 8), |(i, j)| ((i * 5 + j * 11) % 30) as f32);
    let y = Array1::from_iter(
        x.rows().into_iter().map(|row| f32::from(row.iter().any(|&id| id == 1.0))),
    );
    let config =
        FitConfig { epochs, batch_size: 8, validation_split, verbose: 0, ..FitConfig::default() };
    model.fit(&x, &y, &config)
}

/// A `<polyline>` of the SVG: its stroke colour and its points in pixels.
struct Polyline {
    stroke: String,
    points: Vec<(f64, f64)>,
}

/// Every `<polyline .../>` element of `svg`, in document order.
fn polylines(svg: &str) -> Vec<Polyline> {
    svg.split("<polyline")
        .skip(1)
        .map(|rest| {
            let element = &rest[..rest.find('>').unwrap_or(rest.len())];
            let attribute = |name: &str| {
                let start = element.find(&format!("{name}=\"")).map(|i| i + name.len() + 2);
                start.map_or(String::new(), |s| {
                    element[s..].split('"').next().unwrap_or("").to_string()
                })
            };
            let points = attribute("points")
                .split_whitespace()
                .filter_map(|pair| {
                    let (x, y) = pair.split_once(',')?;
                    Some((x.parse().ok()?, y.parse().ok()?))
                })
                .collect();
            Polyline { stroke: attribute("stroke").to_uppercase(), points }
        })
        .collect()
}

/// The content of every `<text>` element anchored at its start: the legends' labels (titles
/// and tick labels are centred or end-anchored).
fn legend_labels(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter(|rest| rest[..rest.find('>').unwrap_or(0)].contains("text-anchor=\"start\""))
        .filter_map(|rest| {
            let content = &rest[rest.find('>')? + 1..rest.find("</text>")?];
            Some(content.trim().to_string())
        })
        .collect()
}

/// Whether the pixel heights order the epochs as the values do (the y axis points down): a
/// higher point has a larger value, and a larger value is never drawn lower (equal pixels are
/// allowed for values closer than a pixel).
fn follows(points: &[(f64, f64)], values: &[f32]) -> bool {
    let pairs: Vec<(f64, f32)> = points.iter().map(|p| p.1).zip(values.iter().copied()).collect();
    pairs.iter().all(|&(yi, vi)| {
        pairs.iter().all(|&(yj, vj)| (yi >= yj || vi > vj) && (vi <= vj || yi <= yj))
    })
}

/// The polylines drawn in a series colour (axes and ticks are black polylines too).
fn series_lines(svg: &str) -> Vec<Polyline> {
    polylines(svg)
        .into_iter()
        .filter(|l| l.stroke == TRAINING_STROKE || l.stroke == VALIDATION_STROKE)
        .collect()
}

#[test]
fn one_line_per_series_with_one_point_per_epoch() -> TestResult {
    let history = history(4, 0.25)?;
    let keys: Vec<&str> = history.keys().collect();
    assert_eq!(keys, ["loss", "accuracy", "val_loss", "val_accuracy"]);
    let dir = scratch("series")?;
    let path = dir.join("curves.svg");
    history.plot_svg(&path)?;

    let svg = fs::read_to_string(&path)?;
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "not an SVG document");
    let lines = series_lines(&svg);
    assert_eq!(lines.len(), 4, "one polyline per series");
    // Panels in order of the quantities (loss, accuracy), training before validation in each.
    let drawn = ["loss", "val_loss", "accuracy", "val_accuracy"];
    for (line, key) in lines.iter().zip(drawn) {
        let values = history.metric(key).ok_or("missing series")?;
        assert_eq!(line.points.len(), 4, "{key}: one point per epoch");
        assert!(line.points.windows(2).all(|w| w[0].0 < w[1].0), "{key}: epochs left to right");
        assert!(follows(&line.points, values), "{key}: heights do not follow {values:?}");
        let stroke = if key.starts_with("val_") { VALIDATION_STROKE } else { TRAINING_STROKE };
        assert_eq!(line.stroke, stroke, "{key}");
    }
    // Each series is named in its panel's legend.
    assert_eq!(legend_labels(&svg), drawn);
    assert!(svg.contains(">\nepoch\n</text>"), "x axis is not labelled");
    fs::remove_dir_all(dir)?;
    Ok(())
}

#[test]
fn without_validation_only_training_lines() -> TestResult {
    let history = history(2, 0.0)?;
    let dir = scratch("training")?;
    let path = dir.join("curves.svg");
    history.plot_svg(&path)?;
    let svg = fs::read_to_string(&path)?;
    let lines = series_lines(&svg);
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l.stroke == TRAINING_STROKE && l.points.len() == 2));
    assert_eq!(legend_labels(&svg), ["loss", "accuracy"]);
    assert!(!svg.contains("val_"));
    fs::remove_dir_all(dir)?;
    Ok(())
}

#[test]
fn replaces_an_existing_file_and_leaves_no_temporary() -> TestResult {
    let history = history(1, 0.25)?;
    let dir = scratch("replace")?;
    let path = dir.join("curves.svg");
    fs::write(&path, "old content")?;
    history.plot_svg(&path)?;
    let svg = fs::read_to_string(&path)?;
    assert!(svg.starts_with("<svg"));
    // A single epoch still shows each series, as a marker.
    assert!(svg.matches("<circle").count() >= 4, "one marker per series and epoch");
    assert_eq!(fs::read_dir(&dir)?.count(), 1, "a temporary file was left behind");
    fs::remove_dir_all(dir)?;
    Ok(())
}

#[test]
fn empty_history_is_refused_and_writes_nothing() -> TestResult {
    let dir = scratch("empty")?;
    let path = dir.join("curves.svg");
    let error = History::default().plot_svg(&path).err().ok_or("an empty history was drawn")?;
    assert!(matches!(error, Error::InvalidArgument { ref name, .. } if name == "history"));
    assert!(error.to_string().contains("at least one recorded epoch"), "{error}");
    assert!(!path.exists());
    fs::remove_dir_all(dir)?;
    Ok(())
}

#[test]
fn unwritable_path_is_an_io_error_naming_it() -> TestResult {
    let history = history(1, 0.0)?;
    let path = std::env::temp_dir().join("rnnkit-no-such-folder").join("curves.svg");
    let error = history.plot_svg(&path).err().ok_or("wrote into a missing folder")?;
    assert!(matches!(error, Error::Io { .. }));
    assert!(error.to_string().contains(&path.display().to_string()), "{error}");
    Ok(())
}
