//! Embedding ids: every id that is not an integer in `0..input_dim` (negative, fractional, NaN,
//! ±inf, huge, exactly `input_dim`) is refused with `IdOutOfRange` naming the id and the
//! vocabulary size, by the layer and through a model; every other id is looked up.

use super::{check_message, config, filled};
use ndarray::Array2;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rnnkit::layers::Layer;
use rnnkit::prelude::*;
use rnnkit::Error;

/// Ids in and out of range, at the limit, and every kind of float that is not an id.
fn id() -> impl Strategy<Value = f32> {
    prop_oneof![
        3 => (0u8..14).prop_map(f32::from),
        2 => prop::sample::select(vec![
            -1.0,
            -0.0,
            0.5,
            2.5,
            1.0 - f32::EPSILON / 2.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e9,
            f32::MAX,
            16_777_217.0,
            -1e-45,
            1e-45,
        ]),
    ]
}

/// Whether `id` is an integer in `0..input_dim` (−0 is 0).
fn in_table(id: f32, input_dim: usize) -> bool {
    id.is_finite() && id >= 0.0 && id.fract() == 0.0 && (id as usize) < input_dim
}

proptest! {
    #![proptest_config(config(256))]

    /// One id placed among valid ones, looked up by the layer or by a model's predict and
    /// train_on_batch.
    #[test]
    fn embedding_refuses_every_id_outside_its_table(
        input_dim in 1usize..12,
        (id, at_limit) in (id(), any::<bool>()),
        (row, column) in (0usize..3, 0usize..4),
        mask_zero in any::<bool>(),
        through_model in any::<bool>(),
    ) {
        let id = if at_limit { input_dim as f32 } else { id };
        let mut ids = Array2::<f32>::zeros((3, 4));
        ids[(row, column)] = id;
        let valid = in_table(id, input_dim);
        let results: Vec<Result<Vec<usize>, Error>> = if through_model {
            let mut model = Sequential::new();
            model.add(Embedding::new(input_dim, 2).input_length(4).mask_zero(mask_zero));
            model.add(SimpleRnn::new(2));
            model.add(Dense::new(1).activation(Activation::Sigmoid));
            model.compile(Sgd::new(0.1), Loss::BinaryCrossentropy, &[]).expect("valid optimizer");
            let y = filled(&[3, 1], &[0.0, 1.0]);
            vec![
                model.predict_batched(&ids, 2).map(|out| out.shape().to_vec()),
                model.train_on_batch(&ids, &y).map(|_| vec![3, 1]),
            ]
        } else {
            let mut layer = Embedding::new(input_dim, 2).mask_zero(mask_zero);
            layer.set_name("ids".into());
            layer.build(&[4], &mut StdRng::seed_from_u64(0)).expect("valid");
            // The mask of id 0 is computed whatever the other ids are.
            let mask = layer.compute_mask(ids.view().into_dyn(), None);
            prop_assert!(mask.is_ok(), "{:?}", mask);
            vec![layer.forward(ids.view().into_dyn(), None, true).map(|out| out.shape().to_vec())]
        };
        let expected_shape = if through_model { vec![3, 1] } else { vec![3, 4, 2] };
        for result in results {
            match result {
                Ok(shape) => {
                    prop_assert!(valid, "id {} accepted with input_dim {}", id, input_dim);
                    prop_assert_eq!(shape, expected_shape.clone());
                }
                Err(error) => {
                    prop_assert!(!valid, "id {} refused with input_dim {}: {}", id, input_dim, error);
                    prop_assert!(matches!(error, Error::IdOutOfRange { .. }), "{:?}", error);
                    check_message(&error, &[format!("id {id} "), format!("0..{input_dim}")])?;
                }
            }
        }
    }
}
