//! The recurrent engine and the optimizers flush subnormal floats to zero inside their own work
//! only: rayon's global pool, which the engine's first parallel call starts, keeps the
//! floating-point mode threads start with, and so does the caller's thread. (A thread inherits
//! the mode of the thread that spawns it, so a pool spawned from inside the engine's
//! flush-to-zero would keep it for good.) One test in this binary: the engine must be the
//! first user of the pool.

use ndarray::ArrayD;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rayon::prelude::*;
use rnnkit::layers::{Layer, Param};
use rnnkit::optimizers::Optimizer;
use rnnkit::prelude::*;
use std::hint::black_box;

/// A product whose exact value, about 1e-39, is subnormal in f32.
fn subnormal_product() -> f32 {
    black_box(1e-20f32) * black_box(1e-19f32)
}

#[test]
fn the_global_pool_and_the_caller_keep_their_mode_after_the_engine_runs() {
    assert!(subnormal_product().is_subnormal(), "the test thread starts in the default mode");
    let mut layer = Lstm::new(96);
    layer.build(&[12, 5], &mut StdRng::seed_from_u64(3)).unwrap();
    let x = ArrayD::from_shape_fn(vec![40, 12, 5], |i| (i[0] + 2 * i[1] + 3 * i[2]) as f32 * 0.01);
    let output = layer.forward(x.view(), None, true).unwrap();
    layer.backward(ArrayD::ones(output.shape()).view(), true).unwrap();
    assert!(subnormal_product().is_subnormal(), "the caller's thread is restored");
    // An optimizer's element-wise update: 2e-38 − 1.5e-38, both normal, is subnormal.
    let mut param = Param::new("w", ArrayD::from_elem(vec![4096], 2.0e-38f32));
    param.grad.fill(1.5e-38);
    Sgd::new(1.0).apply(&mut [&mut param]);
    assert!(param.value.iter().all(|&w| w.to_bits() == 0), "the update flushes to zero");
    assert!(subnormal_product().is_subnormal(), "the caller's thread is restored");
    let on_the_pool: Vec<f32> = (0..64).into_par_iter().map(|_| subnormal_product()).collect();
    assert!(
        on_the_pool.iter().all(|p| p.is_subnormal()),
        "rayon's global pool computes subnormal floats after the engine has run"
    );
}
