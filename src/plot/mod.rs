//! Charts as SVG, drawn with plotters and written atomically (no system fonts or libraries
//! needed): a model's learning curves ([`History::plot_svg`](crate::model::History::plot_svg))
//! and attention weights as a heatmap ([`attention_heatmap`]).

mod heatmap;
mod learning_curves;

pub use heatmap::attention_heatmap;
