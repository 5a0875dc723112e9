//! Every layer through the `Layer` trait: `build` on any shape, `forward` on any array and mask,
//! `backward` without a forward pass or with a gradient of any shape, `set_weights` with any list.

use super::{array_shape, check_message, config, filled, hostile_f32, keras_shape, small_shape};
use ndarray::{Array2, ArrayD};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rnnkit::layers::{Bidirectional, Dropout, Gru, Layer, Lstm, MergeMode};
use rnnkit::prelude::*;
use rnnkit::Error;

/// A layer with its hyper-parameters, small enough to build in microseconds.
#[derive(Clone, Debug)]
enum Spec {
    Embedding {
        input_dim: usize,
        output_dim: usize,
        mask_zero: bool,
    },
    SimpleRnn {
        units: usize,
        return_sequences: bool,
        go_backwards: bool,
        activation: Activation,
    },
    /// With `dropout` and `recurrent_dropout` both `dropout`.
    Lstm {
        units: usize,
        return_sequences: bool,
        go_backwards: bool,
        dropout: f32,
    },
    /// With `recurrent_dropout` `dropout`.
    Gru {
        units: usize,
        return_sequences: bool,
        go_backwards: bool,
        dropout: f32,
    },
    /// `Bidirectional` around a SimpleRnn (0), an Lstm (1) or a Gru (2).
    Bidirectional {
        inner: u8,
        units: usize,
        return_sequences: bool,
        merge_mode: MergeMode,
    },
    Dense {
        units: usize,
        use_bias: bool,
        activation: Activation,
    },
    Flatten,
    Masking {
        mask_value: f32,
    },
    Dropout {
        rate: f32,
    },
}

impl Spec {
    fn make(&self) -> Box<dyn Layer> {
        let mut layer: Box<dyn Layer> = match *self {
            Spec::Embedding { input_dim, output_dim, mask_zero } => {
                Box::new(Embedding::new(input_dim, output_dim).mask_zero(mask_zero))
            }
            Spec::SimpleRnn { units, return_sequences, go_backwards, activation } => Box::new(
                SimpleRnn::new(units)
                    .return_sequences(return_sequences)
                    .go_backwards(go_backwards)
                    .activation(activation),
            ),
            Spec::Lstm { units, return_sequences, go_backwards, dropout } => Box::new(
                Lstm::new(units)
                    .return_sequences(return_sequences)
                    .go_backwards(go_backwards)
                    .dropout(dropout)
                    .recurrent_dropout(dropout),
            ),
            Spec::Gru { units, return_sequences, go_backwards, dropout } => Box::new(
                Gru::new(units)
                    .return_sequences(return_sequences)
                    .go_backwards(go_backwards)
                    .recurrent_dropout(dropout),
            ),
            Spec::Bidirectional { inner, units, return_sequences, merge_mode } => match inner {
                0 => Box::new(
                    Bidirectional::new(SimpleRnn::new(units).return_sequences(return_sequences))
                        .merge_mode(merge_mode),
                ),
                1 => Box::new(
                    Bidirectional::new(Lstm::new(units).return_sequences(return_sequences))
                        .merge_mode(merge_mode),
                ),
                _ => Box::new(
                    Bidirectional::new(Gru::new(units).return_sequences(return_sequences))
                        .merge_mode(merge_mode),
                ),
            },
            Spec::Dense { units, use_bias, activation } => {
                Box::new(Dense::new(units).use_bias(use_bias).activation(activation))
            }
            Spec::Flatten => Box::new(Flatten::new()),
            Spec::Masking { mask_value } => Box::new(Masking::new(mask_value)),
            Spec::Dropout { rate } => Box::new(Dropout::new(rate).seed(3)),
        };
        layer.set_name("layer_under_test".into());
        layer
    }

    /// The hyper-parameter `build` must refuse first, if one is out of its domain.
    fn bad_argument(&self) -> Option<&'static str> {
        match *self {
            Spec::Embedding { input_dim: 0, .. } => Some("input_dim"),
            Spec::Embedding { output_dim: 0, .. } => Some("output_dim"),
            Spec::SimpleRnn { units: 0, .. }
            | Spec::Lstm { units: 0, .. }
            | Spec::Gru { units: 0, .. }
            | Spec::Bidirectional { units: 0, .. }
            | Spec::Dense { units: 0, .. } => Some("units"),
            Spec::Dropout { rate } if !(0.0..1.0).contains(&rate) => Some("rate"),
            Spec::Lstm { dropout, .. } if !(0.0..1.0).contains(&dropout) => Some("dropout"),
            Spec::Gru { dropout, .. } if !(0.0..1.0).contains(&dropout) => {
                Some("recurrent_dropout")
            }
            _ => None,
        }
    }

    /// A per-sample input shape the layer accepts, from three axis lengths of at least 1.
    fn valid_shape(&self, dims: [usize; 3]) -> Vec<usize> {
        match self {
            Spec::Embedding { .. } => vec![dims[0]],
            Spec::SimpleRnn { .. }
            | Spec::Lstm { .. }
            | Spec::Gru { .. }
            | Spec::Bidirectional { .. }
            | Spec::Masking { .. } => vec![dims[0], dims[1]],
            Spec::Dense { .. } if dims[2].is_multiple_of(2) => vec![dims[1]],
            Spec::Dense { .. } | Spec::Flatten | Spec::Dropout { .. } => dims[..2].to_vec(),
        }
    }

    /// Input values the layer accepts: ids in range for an embedding.
    fn valid_value(&self, k: usize) -> f32 {
        match self {
            Spec::Embedding { input_dim, .. } => (k % input_dim.max(&1)) as f32,
            _ => (k % 7) as f32 / 7.0 - 0.4,
        }
    }
}

fn activation() -> impl Strategy<Value = Activation> {
    prop::sample::select(vec![
        Activation::Linear,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::Softmax,
    ])
}

fn merge_mode() -> impl Strategy<Value = MergeMode> {
    prop::sample::select(vec![MergeMode::Concat, MergeMode::Sum, MergeMode::Mul, MergeMode::Ave])
}

/// Any layer, including zero-sized hyper-parameters and a hostile dropout rate.
fn spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        (0usize..6, 0usize..4, any::<bool>()).prop_map(|(input_dim, output_dim, mask_zero)| {
            Spec::Embedding { input_dim, output_dim, mask_zero }
        }),
        (0usize..4, any::<bool>(), any::<bool>(), activation()).prop_map(
            |(units, return_sequences, go_backwards, activation)| Spec::SimpleRnn {
                units,
                return_sequences,
                go_backwards,
                activation
            }
        ),
        (0usize..4, any::<bool>(), any::<bool>(), dropout_rate()).prop_map(
            |(units, return_sequences, go_backwards, dropout)| Spec::Lstm {
                units,
                return_sequences,
                go_backwards,
                dropout
            }
        ),
        (0usize..4, any::<bool>(), any::<bool>(), dropout_rate()).prop_map(
            |(units, return_sequences, go_backwards, dropout)| Spec::Gru {
                units,
                return_sequences,
                go_backwards,
                dropout
            }
        ),
        (0u8..3, 0usize..4, any::<bool>(), merge_mode()).prop_map(
            |(inner, units, return_sequences, merge_mode)| Spec::Bidirectional {
                inner,
                units,
                return_sequences,
                merge_mode
            }
        ),
        (0usize..4, any::<bool>(), activation())
            .prop_map(|(units, use_bias, activation)| Spec::Dense { units, use_bias, activation }),
        Just(Spec::Flatten),
        hostile_f32().prop_map(|mask_value| Spec::Masking { mask_value }),
        dropout_rate().prop_map(|rate| Spec::Dropout { rate }),
    ]
}

/// A dropout rate: none, a valid one, or anything (NaN, negative, huge).
fn dropout_rate() -> impl Strategy<Value = f32> {
    prop_oneof![Just(0.0f32), 0.0f32..1.0, hostile_f32()]
}

/// A layer whose hyper-parameters are all valid.
fn valid_spec() -> impl Strategy<Value = Spec> {
    spec().prop_filter("valid hyper-parameters", |spec| spec.bad_argument().is_none())
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(0)
}

/// Builds `spec` on a shape it accepts and returns the layer with a valid training batch.
fn built(spec: &Spec, dims: [usize; 3], batch: usize) -> (Box<dyn Layer>, ArrayD<f32>) {
    let mut layer = spec.make();
    let shape = spec.valid_shape(dims);
    layer.build(&shape, &mut rng()).expect("valid hyper-parameters on a valid shape build");
    let batch_shape: Vec<usize> = [batch].into_iter().chain(shape).collect();
    let values: Vec<f32> = (0..11).map(|k| spec.valid_value(k)).collect();
    (layer, filled(&batch_shape, &values))
}

/// `backward_logits` of a layer that keeps its logits; for any other layer, the error a model
/// reports for it.
fn backward_logits(
    layer: &mut dyn Layer,
    grad: ndarray::ArrayViewD<'_, f32>,
    input_grad: bool,
) -> rnnkit::Result<Option<ArrayD<f32>>> {
    let name = layer.name().to_string();
    match layer.output_head() {
        Some(head) => head.backward_logits(grad, input_grad),
        None => Err(Error::NotBuilt(format!("layer '{name}' does not keep its logits"))),
    }
}

fn dims() -> impl Strategy<Value = [usize; 3]> {
    [1usize..4, 1usize..4, 1usize..4]
}

proptest! {
    #![proptest_config(config(256))]

    /// `build` returns the output shape it records, or an error naming the bad shape or
    /// hyper-parameter and leaving the layer unbuilt.
    #[test]
    fn build_gives_the_output_shape_or_an_error(spec in spec(), shape in small_shape()) {
        let mut layer = spec.make();
        match layer.build(&shape, &mut rng()) {
            Ok(output) => prop_assert_eq!(layer.output_shape(), Some(output.as_slice())),
            Err(error) => {
                prop_assert!(layer.output_shape().is_none(), "a failed build left an output shape");
                match (&error, spec.bad_argument()) {
                    (Error::InvalidArgument { .. }, Some(name)) => check_message(&error, &[name])?,
                    (Error::ShapeMismatch { .. }, None) => {
                        check_message(&error, &[keras_shape(&shape)])?
                    }
                    _ => prop_assert!(false, "unexpected error for {:?}: {:?}", spec, error),
                }
            }
        }
    }

    /// `forward` on any array and any mask, built or not, in either mode: a batch of the output
    /// shape, or an error naming the shape it refused.
    #[test]
    fn forward_gives_a_batch_of_the_output_shape_or_an_error(
        spec in spec(),
        build_shape in small_shape(),
        build_first in any::<bool>(),
        (matching, batch, other_shape) in (any::<bool>(), 0usize..4, small_shape()),
        values in prop::collection::vec(hostile_f32(), 1..8),
        mask in prop::option::of(((0usize..4, 0usize..5), any::<u64>())),
        training in any::<bool>(),
    ) {
        let mut layer = spec.make();
        let built = build_first && layer.build(&build_shape, &mut rng()).is_ok();
        let input_shape: Vec<usize> = if matching {
            [batch].into_iter().chain(build_shape.iter().copied()).collect()
        } else {
            other_shape
        };
        let input = filled(&input_shape, &values);
        let mask = mask.map(|((rows, steps), bits)| {
            Array2::from_shape_fn((rows, steps), |(i, j)| bits >> ((i * 5 + j) % 64) & 1 == 1)
        });
        let mask_result = layer.compute_mask(input.view(), mask.as_ref());
        if let Err(error) = &mask_result {
            check_message(error, &[] as &[&str])?;
        }
        match layer.forward(input.view(), mask.as_ref(), training) {
            Ok(output) => {
                prop_assert!(built, "an unbuilt layer ran forward");
                let per_sample = layer.output_shape().expect("built");
                prop_assert_eq!(output.shape()[0], input.shape()[0]);
                prop_assert_eq!(&output.shape()[1..], per_sample);
            }
            Err(error @ Error::ShapeMismatch { .. }) => {
                let found = error.to_string();
                let mask_shape = mask.as_ref().map(|m| array_shape(m.shape()));
                prop_assert!(
                    found.contains(&array_shape(input.shape()))
                        || mask_shape.is_some_and(|m| found.contains(&m)),
                    "{:?} names neither the input {:?} nor the mask", found, input.shape()
                );
            }
            Err(error) => check_message(&error, &[] as &[&str])?,
        }
    }

    /// `backward` with no training-mode forward before it is `NoForwardCache` naming the layer,
    /// built or not, after an inference forward or none.
    #[test]
    fn backward_without_a_training_forward_is_an_error(
        spec in valid_spec(),
        dims in dims(),
        inference_first in any::<bool>(),
        build_first in any::<bool>(),
        grad_shape in small_shape(),
        input_grad in any::<bool>(),
        logits in any::<bool>(),
    ) {
        let (mut layer, input) = if build_first {
            built(&spec, dims, 2)
        } else {
            (spec.make(), filled(&[2, dims[0]], &[0.0]))
        };
        if inference_first {
            let _ = layer.forward(input.view(), None, false);
        }
        let grad = filled(&grad_shape, &[0.25, -1.0]);
        let result = if logits {
            backward_logits(layer.as_mut(), grad.view(), input_grad)
        } else {
            layer.backward(grad.view(), input_grad)
        };
        let error = result.expect_err("backward without a training forward");
        prop_assert!(
            matches!(error, Error::NoForwardCache(_) | Error::NotBuilt(_)),
            "unexpected error {:?}", error
        );
        check_message(&error, &["layer_under_test"])?;
    }

    /// After a training forward, `backward` with the output's shape succeeds and returns a
    /// gradient of the input's shape; any other gradient shape is accepted or refused by name,
    /// and a refused one leaves the weights' gradients untouched.
    #[test]
    fn backward_checks_the_gradient_shape(
        spec in valid_spec(),
        dims in dims(),
        batch in 1usize..4,
        (which_shape, axis, other_shape) in (0u8..3, any::<prop::sample::Index>(), small_shape()),
        grad_value in hostile_f32(),
        input_grad in any::<bool>(),
        logits in any::<bool>(),
    ) {
        let (mut layer, input) = built(&spec, dims, batch);
        let output = layer.forward(input.view(), None, true).expect("a valid batch runs");
        let right_shape = which_shape == 0;
        let grad_shape = match which_shape {
            0 => output.shape().to_vec(),
            // A near miss: one axis of the output one longer.
            1 => {
                let mut shape = output.shape().to_vec();
                let at = axis.index(shape.len());
                shape[at] += 1;
                shape
            }
            _ => other_shape,
        };
        let grad = filled(&grad_shape, &[grad_value, 0.5]);
        let before: Vec<ArrayD<f32>> = layer.params().iter().map(|p| p.grad.clone()).collect();
        let result = if logits {
            backward_logits(layer.as_mut(), grad.view(), input_grad)
        } else {
            layer.backward(grad.view(), input_grad)
        };
        match result {
            Ok(input_gradient) => {
                if let Some(g) = input_gradient {
                    prop_assert!(input_grad, "an input gradient nobody asked for");
                    prop_assert_eq!(g.shape(), input.shape());
                }
            }
            Err(error) => {
                let expected_ok = right_shape && !logits;
                prop_assert!(!expected_ok, "the output's own shape was refused: {:?}", error);
                if let Error::ShapeMismatch { .. } = error {
                    check_message(&error, &[array_shape(grad.shape())])?;
                } else {
                    check_message(&error, &["layer_under_test"])?;
                }
                let after: Vec<ArrayD<f32>> =
                    layer.params().iter().map(|p| p.grad.clone()).collect();
                prop_assert_eq!(before, after, "a refused backward changed the gradients");
            }
        }
    }

    /// `set_weights` with any list: the exact shapes are taken as given; any other count or
    /// shape is refused by name and leaves the weights unchanged.
    #[test]
    fn set_weights_takes_the_right_shapes_only(
        spec in valid_spec(),
        dims in dims(),
        exact in any::<bool>(),
        shapes in prop::collection::vec(small_shape(), 0..4),
        value in hostile_f32(),
    ) {
        let (mut layer, _) = built(&spec, dims, 1);
        let before = layer.get_weights();
        let weights: Vec<ArrayD<f32>> = if exact {
            before.iter().map(|w| w.mapv(|_| value)).collect()
        } else {
            shapes.iter().map(|shape| filled(shape, &[value])).collect()
        };
        let same_shapes = weights.len() == before.len()
            && weights.iter().zip(&before).all(|(w, b)| w.shape() == b.shape());
        match layer.set_weights(weights.clone()) {
            Ok(()) => {
                prop_assert!(same_shapes, "weights of other shapes were taken");
                let after = layer.get_weights();
                prop_assert!(
                    after.iter().zip(&weights).all(|(a, w)| {
                        a.shape() == w.shape()
                            && a.iter().zip(w.iter()).all(|(x, y)| x.to_bits() == y.to_bits())
                    }),
                    "the weights are not the ones given"
                );
            }
            Err(error) => {
                prop_assert!(!same_shapes, "weights of the right shapes were refused: {:?}", error);
                match &error {
                    Error::WeightCount { .. } => {
                        check_message(&error, &[format!("received {}", weights.len())])?
                    }
                    Error::WeightMismatch { index, .. } => {
                        check_message(&error, &[array_shape(weights[*index].shape())])?
                    }
                    other => prop_assert!(false, "unexpected error {:?}", other),
                }
                prop_assert_eq!(layer.get_weights(), before, "a refused set_weights changed them");
            }
        }
    }
}

/// Sizes no machine can allocate (each weight would pass 2^47 bytes, the address space) or whose
/// product overflows `usize`, mixed with small ones.
fn huge() -> impl Strategy<Value = usize> {
    prop_oneof![
        1 => 1usize..4,
        2 => prop::sample::select(vec![1usize << 45, 1 << 50, 1 << 62, usize::MAX]),
    ]
}

/// Layers with at least one size from [`huge`].
fn huge_spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        (huge(), huge()).prop_map(|(input_dim, output_dim)| Spec::Embedding {
            input_dim,
            output_dim,
            mask_zero: false
        }),
        huge().prop_map(|units| Spec::SimpleRnn {
            units,
            return_sequences: false,
            go_backwards: false,
            activation: Activation::Tanh
        }),
        huge().prop_map(|units| Spec::Lstm {
            units,
            return_sequences: false,
            go_backwards: false,
            dropout: 0.0
        }),
        huge().prop_map(|units| Spec::Gru {
            units,
            return_sequences: false,
            go_backwards: false,
            dropout: 0.0
        }),
        huge().prop_map(|units| Spec::Dense {
            units,
            use_bias: true,
            activation: Activation::Linear
        }),
        Just(Spec::Flatten),
    ]
}

proptest! {
    // Each case runs in a child process, so that an abort (a refused allocation) fails this
    // case instead of ending the test binary.
    #![proptest_config(proptest::test_runner::Config { fork: true, ..config(48) })]

    /// `build` with sizes too large to allocate or to multiply returns an error naming the size,
    /// not a panic or an abort; a `Flatten` output is the exact product of its input's axes, or
    /// of unknown size (`NONE`, `usize::MAX`) when one of them is.
    #[test]
    fn huge_sizes_are_refused_not_aborted(
        spec in huge_spec(),
        shape in prop::collection::vec(huge(), 1..3),
    ) {
        let mut layer = spec.make();
        match layer.build(&shape, &mut rng()) {
            Ok(output) => {
                if let Spec::Flatten = spec {
                    let product = if shape.contains(&rnnkit::layers::NONE) {
                        Some(rnnkit::layers::NONE)
                    } else {
                        shape.iter().try_fold(1usize, |p, &d| p.checked_mul(d))
                    };
                    prop_assert_eq!(Some(output), product.map(|p| vec![p]));
                }
            }
            Err(error) => check_message(&error, &[] as &[&str])?,
        }
    }
}

/// `Embedding::new(usize::MAX, 1)`: ndarray panics "Shape too large" in `initializers::uniform`.
#[test]
fn embedding_with_input_dim_usize_max_is_an_error() {
    let mut layer = Embedding::new(usize::MAX, 1);
    let error = layer.build(&[3], &mut rng()).expect_err("cannot be allocated");
    assert!(error.to_string().contains("input_dim"), "{error}");
}

/// `Embedding::new(1 << 45, 1)`: a 128 TiB table; the allocation fails and the process aborts.
#[test]
fn embedding_too_large_to_allocate_is_an_error() {
    let mut layer = Embedding::new(1 << 45, 1);
    let error = layer.build(&[3], &mut rng()).expect_err("cannot be allocated");
    assert!(error.to_string().contains("input_dim"), "{error}");
}

/// `Dense::new(usize::MAX)`: `fan_in + fan_out` overflows in `initializers::glorot_uniform`
/// (a panic with overflow checks; without them ndarray panics "Shape too large").
#[test]
fn dense_with_units_usize_max_is_an_error() {
    let mut layer = Dense::new(usize::MAX);
    let error = layer.build(&[2], &mut rng()).expect_err("cannot be allocated");
    assert!(error.to_string().contains("units"), "{error}");
}

/// `Dense` on 2^45 features: a 256 TiB kernel; the allocation fails and the process aborts.
#[test]
fn dense_on_features_too_large_to_allocate_is_an_error() {
    let mut layer = Dense::new(2);
    let error = layer.build(&[1 << 45], &mut rng()).expect_err("cannot be allocated");
    assert!(error.to_string().contains(&(1usize << 45).to_string()), "{error}");
}

/// `SimpleRnn::new(1 << 45)`: the glorot kernel is 256 TiB; the allocation fails and the process
/// aborts (an orthogonal recurrent kernel of 2^90 values would follow).
#[test]
fn simple_rnn_too_large_to_allocate_is_an_error() {
    let mut layer = SimpleRnn::new(1 << 45);
    let error = layer.build(&[2, 2], &mut rng()).expect_err("cannot be allocated");
    assert!(error.to_string().contains("units"), "{error}");
}

/// `Flatten` on `(2^32, 2^32)`: the product overflows `usize` (a panic with overflow checks,
/// a silent wrap to `(None, 0)` without), reachable from `Sequential` through
/// `Embedding::input_length(usize::MAX)` → `Flatten`.
#[test]
fn flatten_whose_product_overflows_is_an_error() {
    let mut layer = Flatten::new();
    let error = layer.build(&[1 << 32, 1 << 32], &mut rng()).expect_err("not representable");
    assert!(error.to_string().contains(&(1usize << 32).to_string()), "{error}");
}

/// `Dropout(0.0)` in training mode passes the gradient through without checking its shape: a
/// gradient of shape `()` for an output of shape `(1, 1, 1)` comes back as the input gradient.
#[test]
fn dropout_identity_backward_checks_the_gradient_shape() {
    let (mut layer, input) = built(&Spec::Dropout { rate: 0.0 }, [1, 1, 1], 1);
    layer.forward(input.view(), None, true).expect("a valid batch runs");
    let grad = filled(&[], &[1.0]);
    let error = layer.backward(grad.view(), true).expect_err("a gradient of shape ()");
    assert!(error.to_string().contains("()"), "{error}");
}

/// `Masking` checks only the first two axes of the gradient: for an output `(1, 1, 1)` a
/// gradient `(1, 1, 2)` is taken and returned as the input gradient.
#[test]
fn masking_backward_checks_the_feature_axis() {
    let (mut layer, input) = built(&Spec::Masking { mask_value: 0.0 }, [1, 1, 1], 1);
    layer.forward(input.view(), None, true).expect("a valid batch runs");
    let grad = filled(&[1, 1, 2], &[1.0]);
    let error = layer.backward(grad.view(), true).expect_err("a gradient of shape (1, 1, 2)");
    assert!(error.to_string().contains("(1, 1, 2)"), "{error}");
}
