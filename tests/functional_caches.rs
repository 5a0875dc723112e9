//! The forward caches of the non-recurrent layers move out and back
//! (`take_forward_cache` / `put_forward_cache`): a backward after another call's forward, with
//! the first call's cache put back, gives what the first call's own backward gives.

use ndarray::ArrayD;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rnnkit::layers::{Layer, LayerExt, Mask};
use rnnkit::prelude::*;

fn ramp(shape: &[usize], offset: f32) -> ArrayD<f32> {
    let n: usize = shape.iter().product();
    ArrayD::from_shape_vec(
        shape.to_vec(),
        (0..n).map(|i| ((i * 7 + 3) % 13) as f32 / 6.5 - 1.0 + offset).collect(),
    )
    .unwrap()
}

/// Runs `layer` (built fresh by `make` for `shape`) on `x1`, moves the cache out, runs it on
/// `x2`, puts the first cache back and back-propagates `g1`; compares the input and weight
/// gradients with a plain forward and backward on `x1`.
fn check(
    make: impl Fn() -> Box<dyn Layer>,
    shape: &[usize],
    x1: ArrayD<f32>,
    x2: ArrayD<f32>,
    mask: Option<&Mask>,
) {
    let build = || {
        let mut layer = make();
        layer.set_name("layer".into());
        layer.build(shape, &mut StdRng::seed_from_u64(1)).unwrap();
        layer
    };
    let mut plain = build();
    let out1 = plain.forward(x1.view(), mask, true).unwrap();
    let g1 = ramp(out1.shape(), 0.25);
    let plain_grad = plain.backward(g1.view(), true).unwrap();

    let mut moved = build();
    let out_again = moved.forward(x1.view(), mask, true).unwrap();
    assert_eq!(out_again, out1, "{}", moved.class_name());
    let first = moved.take_forward_cache().expect("a cache to move");
    moved.forward(x2.view(), mask, true).unwrap();
    let _second = moved.take_forward_cache().expect("a cache to move");
    moved.put_forward_cache(first).unwrap();
    let moved_grad = moved.backward(g1.view(), true).unwrap();
    assert_eq!(moved_grad, plain_grad, "{}: input gradient", moved.class_name());
    let grads = |l: &dyn Layer| l.params().iter().map(|p| p.grad.clone()).collect::<Vec<_>>();
    assert_eq!(
        grads(moved.as_ref()),
        grads(plain.as_ref()),
        "{}: weight gradients",
        moved.class_name()
    );
    // A cache of another layer type is refused.
    let mut other: Box<dyn Layer> = Box::new(Flatten::new());
    other.build(&[2, 2], &mut StdRng::seed_from_u64(1)).unwrap();
    other.forward(ramp(&[1, 2, 2], 0.0).view(), None, true).unwrap();
    let foreign = other.take_forward_cache().unwrap();
    if moved.class_name() != "Flatten" {
        assert!(moved.put_forward_cache(foreign).is_err(), "{}", moved.class_name());
    }
}

#[test]
fn caches_move_out_and_back() {
    let seq = [3, 4, 5];
    let (x1, x2) = (ramp(&seq, 0.0), ramp(&seq, 0.5));
    check(
        || Box::new(Dense::new(3).activation(Activation::Tanh)),
        &seq[1..],
        x1.clone(),
        x2.clone(),
        None,
    );
    check(|| Box::new(Dropout::new(0.4).seed(3)), &seq[1..], x1.clone(), x2.clone(), None);
    check(|| Box::new(Flatten::new()), &seq[1..], x1.clone(), x2.clone(), None);
    check(|| Box::new(Masking::new(0.0)), &seq[1..], x1.clone(), x2.clone(), None);
    check(|| Box::new(LayerNormalization::new()), &seq[1..], x1.clone(), x2.clone(), None);
    check(
        || Box::new(TimeDistributed::new(Dense::new(2))),
        &seq[1..],
        x1.clone(),
        x2.clone(),
        None,
    );
    let mask = Mask::from_shape_fn((3, 4), |(i, j)| j <= i + 1);
    check(|| Box::new(GlobalAveragePooling1D::new()), &seq[1..], x1.clone(), x2, Some(&mask));
    let flat = [3, 5];
    check(|| Box::new(RepeatVector::new(4)), &flat[1..], ramp(&flat, 0.0), ramp(&flat, 0.3), None);
    let ids1 = ramp(&[3, 4], 0.0).mapv(|v| ((v + 1.0) * 4.0).floor());
    let ids2 = ids1.mapv(|v| (v + 3.0) % 9.0);
    check(|| Box::new(Embedding::new(9, 3)), &[4], ids1, ids2, None);
}
