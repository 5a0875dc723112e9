//! `Sequential` end to end: add/build/summary with any stack, and compile/fit/evaluate/predict/
//! train_on_batch/set_weights with arrays of any shape, any batch size and validation split.

use super::{array_shape, check_message, config, filled, hostile_f32, keras_shape, small_shape};
use ndarray::ArrayD;
use proptest::prelude::*;
use rnnkit::prelude::*;
use rnnkit::Error;

/// Three tiny models covering ids, sequences and flat features.
#[derive(Clone, Copy, Debug)]
enum Arch {
    /// Embedding(10, 3, input_length 4) → SimpleRnn(2) → Dense(1, sigmoid).
    Text { mask_zero: bool },
    /// SimpleRnn(2) → Dense(3, softmax), built from the first `x` it sees.
    Sequence { return_sequences: bool },
    /// Flatten → Dense(2), built from the first `x` it sees.
    Flat,
}

impl Arch {
    fn model(self) -> Sequential {
        let mut model = Sequential::new().seed(5);
        match self {
            Arch::Text { mask_zero } => {
                model.add(Embedding::new(10, 3).input_length(4).mask_zero(mask_zero));
                model.add(SimpleRnn::new(2));
                model.add(Dense::new(1).activation(Activation::Sigmoid));
            }
            Arch::Sequence { return_sequences } => {
                model.add(SimpleRnn::new(2).return_sequences(return_sequences));
                model.add(Dense::new(3).activation(Activation::Softmax));
            }
            Arch::Flat => {
                model.add(Flatten::new());
                model.add(Dense::new(2));
            }
        }
        model
    }

    /// A per-sample input shape the model takes.
    fn sample_shape(self) -> Vec<usize> {
        match self {
            Arch::Text { .. } => vec![4],
            Arch::Sequence { .. } => vec![3, 2],
            Arch::Flat => vec![2, 2],
        }
    }

    /// Input values the model takes (ids in range for the text model).
    fn value(self, k: usize) -> f32 {
        match self {
            Arch::Text { .. } => (k % 10) as f32,
            _ => (k % 5) as f32 / 5.0 - 0.3,
        }
    }

    /// The loss that fits the model's output.
    fn loss(self) -> Loss {
        match self {
            Arch::Text { .. } => Loss::BinaryCrossentropy,
            Arch::Sequence { .. } => Loss::SparseCategoricalCrossentropy,
            Arch::Flat => Loss::MeanSquaredError,
        }
    }

    /// Per-sample target shape for `self.loss()`.
    fn target_shape(self) -> Vec<usize> {
        match self {
            Arch::Text { .. } => vec![1],
            Arch::Sequence { return_sequences: true } => vec![3],
            Arch::Sequence { return_sequences: false } => vec![],
            Arch::Flat => vec![2],
        }
    }

    /// `samples` valid inputs and targets.
    fn data(self, samples: usize) -> (ArrayD<f32>, ArrayD<f32>) {
        let x_values: Vec<f32> = (0..13).map(|k| self.value(k)).collect();
        let shape = |per_sample: Vec<usize>| -> Vec<usize> {
            [samples].into_iter().chain(per_sample).collect()
        };
        let y_values = [0.0, 1.0, 1.0, 0.0, 2.0];
        let y_values = if matches!(self, Arch::Text { .. }) { &y_values[..4] } else { &y_values };
        (
            filled(&shape(self.sample_shape()), &x_values),
            filled(&shape(self.target_shape()), y_values),
        )
    }
}

fn arch() -> impl Strategy<Value = Arch> {
    prop_oneof![
        any::<bool>().prop_map(|mask_zero| Arch::Text { mask_zero }),
        any::<bool>().prop_map(|return_sequences| Arch::Sequence { return_sequences }),
        Just(Arch::Flat),
    ]
}

fn loss() -> impl Strategy<Value = Loss> {
    prop::sample::select(vec![
        Loss::BinaryCrossentropy,
        Loss::CategoricalCrossentropy,
        Loss::SparseCategoricalCrossentropy,
        Loss::MeanSquaredError,
    ])
}

fn batch_size() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 0usize..4, 1 => prop::sample::select(vec![usize::MAX, 1 << 40])]
}

/// Validation splits in and out of [0, 1), NaN and infinities included.
fn split() -> impl Strategy<Value = f32> {
    prop_oneof![
        2 => 0.0f32..1.0,
        1 => prop::sample::select(vec![
            0.0, -0.0, 0.5, 0.999, 1.0, 1.5, -0.2, f32::NAN, f32::INFINITY, f32::NEG_INFINITY,
            f32::MIN_POSITIVE, 1.0 - f32::EPSILON,
        ]),
    ]
}

fn compiled(arch: Arch, loss: Loss) -> Sequential {
    let mut model = arch.model();
    model.compile(Sgd::new(0.01), loss, &[Metric::Accuracy]).expect("valid optimizer");
    model
}

fn quiet(batch_size: usize) -> FitConfig {
    FitConfig { batch_size, verbose: 0, ..FitConfig::default() }
}

proptest! {
    #![proptest_config(config(256))]

    /// Everything random at once: model, loss, optimizer hyper-parameters, whether it is
    /// compiled, `x`, `y`, validation data, batch size, epochs, split. Every call returns `Ok` or
    /// a described error, and `predict`'s output has one row per sample.
    #[test]
    fn training_calls_take_any_arrays(
        arch in arch(),
        loss in prop_oneof![3 => Just(None), 1 => loss().prop_map(Some)],
        (compile, learning_rate, momentum) in (
            prop::bool::weighted(0.85),
            prop_oneof![4 => 0.001f32..0.5, 1 => hostile_f32()],
            prop_oneof![4 => 0.0f32..0.99, 1 => hostile_f32()],
        ),
        samples in 0usize..6,
        (x_right, x_other, x_poison) in (
            prop::bool::weighted(0.8), small_shape(), prop::option::weighted(0.2, hostile_f32())),
        (y_right, y_other, y_poison) in (
            prop::bool::weighted(0.8), small_shape(), prop::option::weighted(0.2, hostile_f32())),
        validation in prop::option::weighted(0.3, (0usize..3, any::<bool>(), small_shape())),
        (batch_size, epochs, validation_split, shuffle, seed) in (
            batch_size(),
            0usize..3,
            prop_oneof![2 => Just(0.0f32), 1 => split()],
            any::<bool>(),
            prop::option::of(any::<u64>()),
        ),
    ) {
        let mut model = arch.model();
        if compile {
            let optimizer = Sgd::new(learning_rate).momentum(momentum);
            let loss = loss.unwrap_or(arch.loss());
            if let Err(error) = model.compile(optimizer, loss, &[Metric::Accuracy]) {
                check_message(&error, &[] as &[&str])?;
            }
        }
        // Valid arrays with one value replaced by a hostile one, or arrays of any shape.
        let poison = |mut array: ArrayD<f32>, value: Option<f32>| {
            if let (Some(value), Some(first)) = (value, array.iter_mut().next()) {
                *first = value;
            }
            array
        };
        let (x_valid, y_valid) = arch.data(samples);
        let x = if x_right { poison(x_valid, x_poison) } else { filled(&x_other, &[0.5, 2.0]) };
        let y = if y_right { poison(y_valid, y_poison) } else { filled(&y_other, &[1.0, 0.0]) };
        let validation_data = validation.map(|(rows, right, other)| {
            let (x_val, y_val) = arch.data(rows);
            if right { (x_val, y_val) } else { (filled(&other, &[1.0]), y_val) }
        });
        let config = FitConfig {
            epochs,
            validation_split,
            validation_data,
            shuffle,
            seed,
            ..quiet(batch_size)
        };
        if let Err(error) = model.fit(&x, &y, &config) {
            check_message(&error, &[] as &[&str])?;
        }
        if let Err(error) = model.evaluate_batched(&x, &y, batch_size) {
            check_message(&error, &[] as &[&str])?;
        }
        match model.predict_batched(&x, batch_size) {
            Ok(output) => prop_assert_eq!(output.shape()[0], x.shape()[0]),
            Err(error) => check_message(&error, &[] as &[&str])?,
        }
        if let Err(error) = model.train_on_batch(&x, &y) {
            check_message(&error, &[] as &[&str])?;
        }
    }

    /// A `validation_split` outside [0, 1), or one that leaves no sample on a side, is refused
    /// by name; any other trains.
    #[test]
    fn fit_names_a_bad_validation_split(
        arch in arch(), samples in 1usize..8, validation_split in split(),
    ) {
        let mut model = compiled(arch, arch.loss());
        let (x, y) = arch.data(samples);
        let config = FitConfig { validation_split, ..quiet(2) };
        let in_range = (0.0..1.0).contains(&validation_split);
        match model.fit(&x, &y, &config) {
            Ok(history) => {
                prop_assert!(in_range, "split {} accepted", validation_split);
                let has_validation = history.metric("val_loss").is_some();
                prop_assert_eq!(has_validation, validation_split > 0.0);
            }
            Err(error) => {
                prop_assert!(matches!(error, Error::InvalidArgument { .. }), "{:?}", error);
                check_message(&error, &["validation_split", &validation_split.to_string()])?;
                if in_range {
                    // Refused only when one side of the split would be empty.
                    let kept = (samples as f64 * (1.0 - f64::from(validation_split))).floor();
                    prop_assert!(kept == 0.0 || kept == samples as f64, "split refused: {:?}", error);
                }
            }
        }
    }

    /// A zero batch size is refused by name by every call that takes one.
    #[test]
    fn zero_batch_size_is_named(arch in arch(), samples in 1usize..5) {
        let mut model = compiled(arch, arch.loss());
        let (x, y) = arch.data(samples);
        let errors = [
            model.fit(&x, &y, &quiet(0)).map(|_| ()),
            model.evaluate_batched(&x, &y, 0).map(|_| ()),
            model.predict_batched(&x, 0).map(|_| ()),
        ];
        for result in errors {
            let error = result.expect_err("batch_size 0");
            check_message(&error, &["batch_size", "0"])?;
        }
    }

    /// `x` and `y` with different numbers of samples are refused with both numbers.
    #[test]
    fn mismatched_sample_counts_are_named(
        arch in arch(), samples in 1usize..5, shift in 1usize..7,
    ) {
        let y_samples = (samples + shift) % 7;
        let mut model = compiled(arch, arch.loss());
        let (x, _) = arch.data(samples);
        let (_, y) = arch.data(y_samples);
        let results = [
            model.fit(&x, &y, &quiet(2)).map(|_| ()),
            model.evaluate_batched(&x, &y, 2).map(|_| ()),
            model.train_on_batch(&x, &y).map(|_| ()),
        ];
        for result in results {
            let error = result.expect_err("mismatched samples");
            prop_assert!(matches!(error, Error::LengthMismatch { .. }), "{:?}", error);
            check_message(&error, &[samples.to_string(), y_samples.to_string()])?;
        }
    }

    /// Targets whose per-sample shape does not fit the loss and the output are refused with
    /// their shape.
    #[test]
    fn targets_of_another_shape_are_named(
        arch in arch(), loss in loss(), samples in 1usize..4, per_sample in small_shape(),
    ) {
        let mut model = compiled(arch, loss);
        let (x, _) = arch.data(samples);
        let shape: Vec<usize> = [samples].into_iter().chain(per_sample).collect();
        let y = filled(&shape, &[0.0, 1.0]);
        for result in [
            model.fit(&x, &y, &quiet(2)).map(|_| ()),
            model.evaluate_batched(&x, &y, 2).map(|_| ()),
            model.train_on_batch(&x, &y).map(|_| ()),
        ] {
            if let Err(error) = result {
                if let Error::ShapeMismatch { .. } = error {
                    check_message(&error, &[array_shape(y.shape())])?;
                } else {
                    check_message(&error, &[] as &[&str])?;
                }
            }
        }
    }

    /// Empty or rank-0 `x` is refused as empty; an uncompiled model refuses to train.
    #[test]
    fn empty_inputs_and_uncompiled_models_are_refused(
        arch in arch(), shape in small_shape(), rank_zero in any::<bool>(),
    ) {
        let shape: Vec<usize> = if rank_zero { vec![] } else { [0].into_iter().chain(shape).collect() };
        let x = filled(&shape, &[1.0]);
        let mut model = compiled(arch, arch.loss());
        for result in [
            model.fit(&x, &x, &quiet(2)).map(|_| ()),
            model.evaluate_batched(&x, &x, 2).map(|_| ()),
            model.predict_batched(&x, 2).map(|_| ()),
            model.train_on_batch(&x, &x).map(|_| ()),
        ] {
            let error = result.expect_err("empty x");
            prop_assert!(matches!(error, Error::EmptyInput(_)), "{:?}", error);
            check_message(&error, &["empty"])?;
        }
        let mut uncompiled = arch.model();
        let (x, y) = arch.data(2);
        for result in [
            uncompiled.fit(&x, &y, &quiet(2)).map(|_| ()),
            uncompiled.evaluate_batched(&x, &y, 2).map(|_| ()),
            uncompiled.train_on_batch(&x, &y).map(|_| ()),
        ] {
            let error = result.expect_err("not compiled");
            check_message(&error, &["compile"])?;
        }
    }

    /// `Sequential::set_weights` takes exactly the model's shapes; anything else is refused by
    /// name and leaves every weight unchanged.
    #[test]
    fn model_set_weights_takes_the_right_shapes_only(
        arch in arch(),
        exact in any::<bool>(),
        shapes in prop::collection::vec(small_shape(), 0..7),
        value in hostile_f32(),
    ) {
        let mut model = arch.model();
        model.build(&arch.sample_shape()).expect("valid shape");
        let before = model.get_weights();
        let weights: Vec<ArrayD<f32>> = if exact {
            before.iter().map(|w| w.mapv(|_| value)).collect()
        } else {
            shapes.iter().map(|shape| filled(shape, &[value])).collect()
        };
        let same = weights.len() == before.len()
            && weights.iter().zip(&before).all(|(w, b)| w.shape() == b.shape());
        match model.set_weights(weights.clone()) {
            Ok(()) => prop_assert!(same, "weights of other shapes were taken"),
            Err(error) => {
                prop_assert!(!same, "weights of the right shapes were refused: {:?}", error);
                match &error {
                    Error::WeightCount { .. } => {
                        check_message(&error, &[format!("received {}", weights.len())])?
                    }
                    Error::WeightMismatch { index, .. } => {
                        check_message(&error, &[array_shape(weights[*index].shape())])?
                    }
                    other => prop_assert!(false, "unexpected error {:?}", other),
                }
                prop_assert_eq!(model.get_weights(), before);
            }
        }
    }

    /// Any stack of up to four layers, built or not: `summary` agrees with the layers, and a
    /// second `build` with another shape is refused with both shapes.
    #[test]
    fn any_stack_builds_or_says_why(
        layers in prop::collection::vec(0usize..6, 0..5),
        sizes in prop::collection::vec(0usize..4, 5),
        shape in prop::option::of(small_shape()),
        other in small_shape(),
    ) {
        let mut model = Sequential::new();
        for (&kind, &size) in layers.iter().zip(&sizes) {
            match kind {
                0 => model.add(Embedding::new(size + 1, size).input_length(size)),
                1 => model.add(SimpleRnn::new(size).return_sequences(size % 2 == 0)),
                2 => model.add(Dense::new(size)),
                3 => model.add(Flatten::new()),
                4 => model.add(Masking::new(0.0)),
                _ => model.add(rnnkit::layers::Dropout::new(size as f32 / 3.0)),
            }
        }
        let built = match &shape {
            Some(shape) => match model.build(shape) {
                Ok(()) => true,
                Err(error) => {
                    check_message(&error, &[] as &[&str])?;
                    false
                }
            },
            None => false,
        };
        match model.summary() {
            Ok(summary) => {
                let counted: usize = model.layers().map(|l| l.count_params()).sum();
                prop_assert_eq!(summary.total_params(), counted);
                prop_assert_eq!(summary.layers().len(), model.layers().count());
                prop_assert!(!summary.to_string().is_empty());
            }
            Err(error) => {
                prop_assert!(!built, "summary refused a built model: {:?}", error);
                check_message(&error, &[] as &[&str])?;
            }
        }
        if let (true, Some(shape)) = (built, &shape) {
            if other != *shape {
                let error = model.build(&other).expect_err("another shape");
                check_message(&error, &[keras_shape(shape), keras_shape(&other)])?;
            }
        }
    }

    /// A call refused for the shape of its `x` leaves a model that builds itself from its first
    /// `x` free to take a valid `x` afterwards, as Keras, which builds only on success.
    #[test]
    fn a_refused_first_input_does_not_pin_the_input_shape(
        arch in prop_oneof![
            any::<bool>().prop_map(|return_sequences| Arch::Sequence { return_sequences }),
            Just(Arch::Flat),
        ],
        bad_shape in small_shape(),
    ) {
        let mut model = compiled(arch, arch.loss());
        let bad = filled(&[[2].as_slice(), &bad_shape].concat(), &[0.5]);
        let refused = model.predict_batched(&bad, 2).is_err();
        prop_assume!(refused);
        let (x, y) = arch.data(3);
        let trained = model.fit(&x, &y, &quiet(2));
        prop_assert!(trained.is_ok(), "after refusing {:?}: {:?}", bad.shape(), trained.err());
    }
}
