//! [`SharedSteps`]: the recurrent products of a chunk of one sample, each step's columns shared
//! by two threads.
//!
//! A single sample cannot be split by rows, and its steps follow one another, so the second
//! thread takes half the columns of every step's h_{t−1}·U_g: each thread then reads only its
//! half of U, which stays in its own core's cache. A step is a few microseconds, far less than
//! handing a task to a sleeping thread, so the helper is handed one task for the whole sequence
//! and waits for each step by spinning on atomics. Every value is computed as the whole product
//! computes it, by whichever thread takes it: the bits do not depend on the threads.

use super::cell::Cell;
use super::weights::Packed;
use crate::kernels::{self, FlushDenormals};
use std::hint::spin_loop;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

/// The steps of one chunk's forward, shared between the thread that runs it ([`Self::add`],
/// step by step) and a helper ([`Self::help`], for the whole sequence).
///
/// Steps are numbered from 1 as they are published. The second half of step `r`'s products is
/// taken by whichever thread first moves `taken` from `r − 1` to `r`: the helper when it is
/// waiting, the runner itself when the helper is late or was never started.
pub(super) struct SharedSteps<'a> {
    weights: &'a Packed,
    units: usize,
    /// The last step published, its h_{t−1} and its step blocks.
    published: AtomicUsize,
    h_prev: AtomicPtr<f32>,
    step: AtomicPtr<f32>,
    /// The last step whose second half is taken, and the last one the helper finished.
    taken: AtomicUsize,
    done: AtomicUsize,
    finished: AtomicBool,
}

impl<'a> SharedSteps<'a> {
    /// Runs `forward`, which calls [`Self::add`] for each step of a layer of `units` units
    /// whose weights are `weights`, with a helper on another thread of rayon's pool.
    pub(super) fn run<C: Cell>(
        weights: &'a Packed,
        units: usize,
        forward: impl FnOnce(&Self) + Send,
    ) {
        let shared = SharedSteps::new(weights, units);
        rayon::join(
            || {
                let _end = Finish(&shared);
                forward(&shared);
            },
            || shared.help::<C>(),
        );
    }

    /// Steps of a layer of `units` units whose weights are `weights`.
    fn new(weights: &'a Packed, units: usize) -> Self {
        SharedSteps {
            weights,
            units,
            published: AtomicUsize::new(0),
            h_prev: AtomicPtr::new(std::ptr::null_mut()),
            step: AtomicPtr::new(std::ptr::null_mut()),
            taken: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            finished: AtomicBool::new(false),
        }
    }

    /// Adds h_{t−1}·U_g into the step blocks of one sample (`step`, laid out as the cell's
    /// [`CellLayout`](super::cell::CellLayout) says, for one row), the first half of every
    /// product's columns on this thread and the second where the helper takes it.
    pub(super) fn add<C: Cell>(&self, h_prev: &[f32], step: &mut [f32]) {
        let r = self.publish(h_prev, step);
        self.add_published::<C>(r, h_prev, step);
    }

    /// Makes the next step's h_{t−1} and step blocks the helper's to read and write; returns
    /// its number.
    fn publish(&self, h_prev: &[f32], step: &mut [f32]) -> usize {
        debug_assert_eq!(h_prev.len(), self.units);
        let r = self.published.load(Ordering::Relaxed) + 1;
        self.h_prev.store(h_prev.as_ptr().cast_mut(), Ordering::Relaxed);
        self.step.store(step.as_mut_ptr(), Ordering::Relaxed);
        self.published.store(r, Ordering::Release);
        r
    }

    /// The runner's part of published step `r`: the first halves, the second ones too unless
    /// the helper takes them, whose end it then waits for.
    fn add_published<C: Cell>(&self, r: usize, h_prev: &[f32], step: &mut [f32]) {
        let (step_len, step) = (step.len(), step.as_mut_ptr());
        // SAFETY: the first halves of the gate blocks lie within `step` (`recurrent_into` names
        // blocks of `step`), and no thread writes them but this one; the helper writes only
        // second halves, and only between taking step `r` and publishing `done`.
        unsafe { self.half::<C>(h_prev.as_ptr(), step, step_len, false) };
        if self.take(r) {
            // SAFETY: as above, for the second halves, which this thread has taken.
            unsafe { self.half::<C>(h_prev.as_ptr(), step, step_len, true) };
        } else {
            while self.done.load(Ordering::Acquire) != r {
                spin_loop();
            }
        }
    }

    /// Takes the second half of the products of the steps published until the forward ends.
    fn help<C: Cell>(&self) {
        let _flush = FlushDenormals::new();
        let mut seen = 0;
        while !self.finished.load(Ordering::Acquire) {
            let r = self.published.load(Ordering::Acquire);
            if r == seen {
                spin_loop();
                continue;
            }
            seen = r;
            if self.take(r) {
                // Step `r` cannot move on before `done`: its pointers are still its own.
                let h_prev = self.h_prev.load(Ordering::Relaxed);
                let step = self.step.load(Ordering::Relaxed);
                let step_len = C::LAYOUT.step_blocks * self.units;
                // SAFETY: the runner published these pointers for step `r` and waits for
                // `done` before it reads the second halves or reuses the buffers.
                unsafe { self.half::<C>(h_prev, step, step_len, true) };
                self.done.store(r, Ordering::Release);
            }
        }
    }

    /// Whether this thread takes the second half of step `r`.
    fn take(&self, r: usize) -> bool {
        self.taken.compare_exchange(r - 1, r, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Adds the first or `second` half of every gate's columns of h_{t−1}·U_g into the step.
    ///
    /// # Safety
    /// `h_prev` holds `units` values and `step` `step_len` values, which hold every gate's
    /// block; no other thread reads or writes the half's values meanwhile.
    unsafe fn half<C: Cell>(
        &self,
        h_prev: *const f32,
        step: *mut f32,
        step_len: usize,
        second: bool,
    ) {
        let units = self.units;
        let h_prev = std::slice::from_raw_parts(h_prev, units);
        for (g, &block) in C::LAYOUT.recurrent_into.iter().enumerate() {
            let recurrent = self.weights.recurrent_panels(g);
            let middle = recurrent.middle_column();
            let columns = if second { middle..units } else { 0..middle };
            debug_assert!(block * units + columns.end <= step_len);
            let out = std::slice::from_raw_parts_mut(
                step.add(block * units + columns.start),
                columns.len(),
            );
            kernels::add_matmul_packed_columns(1, h_prev, units, recurrent, columns, out, units);
        }
    }
}

/// Ends [`SharedSteps::help`] when dropped: when the forward has run every step, or panicked
/// (`rayon::join` waits for the helper before it passes the panic on).
struct Finish<'s, 'a>(&'s SharedSteps<'a>);

impl Drop for Finish<'_, '_> {
    fn drop(&mut self) {
        self.0.finished.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::recurrent::cells::{GruCell, LstmCell, SimpleRnnCell};
    use crate::layers::recurrent::weights::Pass;
    use crate::param::Param;
    use ndarray::ArrayD;

    /// Weights of a cell `C` of `units` units over 3 features, values that differ in their low
    /// bits, laid out for the forward.
    fn weights<C: Cell>(units: usize) -> Packed {
        let columns = C::LAYOUT.columns(units);
        let value = |shape: Vec<usize>, seed: usize| {
            let len = shape.iter().product();
            let values = (0..len).map(|i| ((i * 7919 + seed) % 1000) as f32 * 1e-3 - 0.5);
            Param::new("w", ArrayD::from_shape_vec(shape, values.collect()).unwrap())
        };
        let params = [
            value(vec![3, columns], 1),
            value(vec![units, columns], 2),
            value(C::LAYOUT.bias_shape(units), 3),
        ];
        Packed::new::<C>("rnn", &params, 3, units, Pass::Forward).unwrap()
    }

    /// The step blocks after h_{t−1}·U_g is added as the engine's unshared loop adds it.
    fn unshared<C: Cell>(weights: &Packed, h_prev: &[f32], step: &[f32]) -> Vec<f32> {
        let (mut step, units) = (step.to_vec(), h_prev.len());
        for (g, &block) in C::LAYOUT.recurrent_into.iter().enumerate() {
            let (into, recurrent) = (&mut step[block * units..], weights.recurrent_panels(g));
            kernels::add_matmul_packed(1, h_prev, units, recurrent, into, units);
        }
        step
    }

    fn bits(values: &[f32]) -> Vec<u32> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    /// Steps whose second halves the helper takes, and steps the runner takes whole (the
    /// helper started only after the last, as `rayon::join` runs a task nobody stole), give
    /// the unshared loop's bits.
    fn check<C: Cell>(units: usize) {
        let weights = weights::<C>(units);
        let h_prev: Vec<f32> = (0..units).map(|i| (i as f32 * 0.37).sin()).collect();
        let start: Vec<f32> =
            (0..C::LAYOUT.step_blocks * units).map(|i| (i as f32 * 0.11).cos()).collect();
        let expected = bits(&unshared::<C>(&weights, &h_prev, &start));

        let shared = SharedSteps::new(&weights, units);
        std::thread::scope(|scope| {
            scope.spawn(|| shared.help::<C>());
            let _end = Finish(&shared);
            for _ in 0..3 {
                // The helper takes the step: the runner starts only once it is done.
                let mut step = start.clone();
                let r = shared.publish(&h_prev, &mut step);
                while shared.done.load(Ordering::Acquire) != r {
                    spin_loop();
                }
                shared.add_published::<C>(r, &h_prev, &mut step);
                assert!(bits(&step) == expected, "{units} units, helped");
            }
        });

        let alone = SharedSteps::new(&weights, units);
        for _ in 0..3 {
            let mut step = start.clone();
            alone.add::<C>(&h_prev, &mut step);
            assert!(bits(&step) == expected, "{units} units, alone");
        }
        drop(Finish(&alone));
        alone.help::<C>();
    }

    #[test]
    fn shared_steps_give_the_unshared_bits_whoever_takes_them() {
        for units in [100, 128, 200, 256] {
            check::<LstmCell>(units);
            check::<GruCell>(units);
            check::<SimpleRnnCell>(units);
        }
    }
}
