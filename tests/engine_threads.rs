//! The recurrent engine above 64 units, where chunks hold up to 16 samples and products read the
//! weights laid out in panels: outputs, weight gradients and input gradients are
//! bit-identical with one thread, two and three, with a mask, dropout and widths that are not a
//! multiple of the panels'.

mod common;

use common::grad::uniform;
use ndarray::{Array2, ArrayD};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rnnkit::layers::{Layer, Mask};
use rnnkit::prelude::*;

const SAMPLES: usize = 37;
const STEPS: usize = 30;
const FEATURES: usize = 24;

/// Output, then every weight gradient, then the input gradient of each layer, after a
/// training-mode forward and a backward in a pool of `threads` threads; then the output of an
/// inference-mode forward.
fn run(threads: usize, x: &ArrayD<f32>, mask: &Mask) -> Vec<Vec<u32>> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let layers: Vec<Box<dyn Layer>> = vec![
            Box::new(Lstm::new(128).return_sequences(true)),
            Box::new(Gru::new(100).go_backwards(true)),
            Box::new(SimpleRnn::new(72).dropout(0.2).recurrent_dropout(0.3)),
            Box::new(Lstm::new(96).dropout(0.25)),
        ];
        let mut results = Vec::new();
        for mut layer in layers {
            layer.build(&[STEPS, FEATURES], &mut StdRng::seed_from_u64(5)).unwrap();
            let output = layer.forward(x.view(), Some(mask), true).unwrap();
            let grad = uniform(output.shape(), -1.0, 1.0, 92);
            let d_input = layer.backward(grad.view(), true).unwrap().unwrap();
            results.push(bits(&output));
            results.extend(layer.params().iter().map(|p| bits(&p.grad)));
            results.push(bits(&d_input));
            results.push(bits(&layer.forward(x.view(), Some(mask), false).unwrap()));
        }
        results
    })
}

fn bits(values: &ArrayD<f32>) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn wide_layers_give_the_same_bits_on_one_thread_two_and_three() {
    let x = uniform(&[SAMPLES, STEPS, FEATURES], -1.0, 1.0, 91);
    // Some samples padded at the start, some masked here and there.
    let mask =
        Array2::from_shape_fn((SAMPLES, STEPS), |(b, s)| s >= b % 9 && (b * 7 + s) % 11 != 0);
    assert_same_bits_on_one_thread_two_and_three(&x, &mask);
}

/// A batch of one sample, whose steps' products a second thread shares, forward and backward.
#[test]
fn a_sample_alone_gives_the_same_bits_on_one_thread_two_and_three() {
    let x = uniform(&[1, STEPS, FEATURES], -1.0, 1.0, 94);
    let mask = Array2::from_shape_fn((1, STEPS), |(_, s)| s >= 2 && s % 11 != 0);
    assert_same_bits_on_one_thread_two_and_three(&x, &mask);
}

fn assert_same_bits_on_one_thread_two_and_three(x: &ArrayD<f32>, mask: &Mask) {
    let one = run(1, x, mask);
    for threads in [2, 3] {
        let many = run(threads, x, mask);
        assert_eq!(one.len(), many.len());
        for (index, (a, b)) in one.iter().zip(&many).enumerate() {
            assert!(a.iter().any(|&v| v != 0), "result {index} is all zeros");
            assert_eq!(a, b, "result {index} differs between one thread and {threads}");
        }
    }
}

/// Inference splits a batch into as many chunks as the pool has threads when the batch is
/// small (a batch of 8 runs as two chunks of 4 on two threads): its outputs are the same bits
/// on one thread, two and three, and the same as a training-mode forward's, whose chunks
/// depend on the layer and the batch only, at batch sizes on both sides of a chunk and of the
/// thread count.
#[test]
fn inference_of_small_batches_gives_the_same_bits_on_any_thread_count() {
    let outputs = |threads: usize, samples: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let x = uniform(&[samples, STEPS, FEATURES], -1.0, 1.0, 93);
            let layers: Vec<Box<dyn Layer>> = vec![
                Box::new(Lstm::new(128)),
                Box::new(Gru::new(100).return_sequences(true)),
                Box::new(SimpleRnn::new(32)),
            ];
            let mut results = Vec::new();
            for mut layer in layers {
                layer.build(&[STEPS, FEATURES], &mut StdRng::seed_from_u64(6)).unwrap();
                let inference = bits(&layer.forward(x.view(), None, false).unwrap());
                let training = bits(&layer.forward(x.view(), None, true).unwrap());
                assert!(inference.iter().any(|&v| v != 0), "all zeros");
                assert_eq!(inference, training, "{threads} threads, {samples} samples");
                results.push(inference);
            }
            results
        })
    };
    for samples in [1, 2, 3, 5, 8, 17, 20, 33, 48] {
        let one = outputs(1, samples);
        for threads in [2, 3] {
            assert_eq!(one, outputs(threads, samples), "{threads} threads, {samples} samples");
        }
    }
}
