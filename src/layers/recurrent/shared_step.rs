//! [`SharedSteps`]: the recurrent products of a chunk of one sample, each step's columns shared
//! by two threads.
//!
//! A single sample cannot be split by rows, and its steps follow one another, so the second
//! thread takes half the columns of every step's products, h_{t−1}·U_g forward and
//! dL/d(h_{t−1}·U_g)·U_gᵀ backward: each thread then reads only its half of U, which stays in
//! its own core's cache. A step is a few microseconds, far less than
//! handing a task to a sleeping thread, so the helper is handed one task for the whole sequence
//! and waits for each step by spinning on atomics. Every value is computed as the whole product
//! computes it, by whichever thread takes it: the bits do not depend on the threads.

use super::cell::Cell;
use super::weights::{Packed, Pass};
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
    pass: Pass,
    /// The last step published, what its products read and where they add.
    published: AtomicUsize,
    lhs: AtomicPtr<f32>,
    out: AtomicPtr<f32>,
    /// The last step whose second half is taken, and the last one the helper finished.
    taken: AtomicUsize,
    done: AtomicUsize,
    finished: AtomicBool,
}

impl<'a> SharedSteps<'a> {
    /// Runs `steps`, which calls [`Self::add`] for each step of `pass` of a layer of `units`
    /// units whose weights, laid out for that pass, are `weights`, with a helper on another
    /// thread of rayon's pool.
    pub(super) fn run<C: Cell, T: Send>(
        weights: &'a Packed,
        units: usize,
        pass: Pass,
        steps: impl FnOnce(&Self) -> T + Send,
    ) -> T {
        let shared = SharedSteps::new(weights, units, pass);
        let (result, ()) = rayon::join(
            || {
                let _end = Finish(&shared);
                steps(&shared)
            },
            || shared.help::<C>(),
        );
        result
    }

    /// Steps of `pass` of a layer of `units` units whose weights are `weights`.
    fn new(weights: &'a Packed, units: usize, pass: Pass) -> Self {
        debug_assert!(pass != Pass::Fold, "a fold has no steps");
        SharedSteps {
            weights,
            units,
            pass,
            published: AtomicUsize::new(0),
            lhs: AtomicPtr::new(std::ptr::null_mut()),
            out: AtomicPtr::new(std::ptr::null_mut()),
            taken: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            finished: AtomicBool::new(false),
        }
    }

    /// Adds the step's products for one sample, the first half of every product's columns on
    /// this thread and the second where the helper takes it. Forward, h_{t−1}·U_g: `lhs` is
    /// h_{t−1} and `out` the step blocks, as the cell's
    /// [`CellLayout`](super::cell::CellLayout) lays them out. Backward,
    /// Σ_g dL/d(h_{t−1}·U_g)·U_gᵀ: `lhs` is the step's gradient blocks and `out` dL/dh_{t−1}.
    pub(super) fn add<C: Cell>(&self, lhs: &[f32], out: &mut [f32]) {
        let r = self.publish(lhs, out);
        self.add_published::<C>(r, lhs, out);
    }

    /// Makes the next step's operands the helper's to read and write; returns its number.
    fn publish(&self, lhs: &[f32], out: &mut [f32]) -> usize {
        let r = self.published.load(Ordering::Relaxed) + 1;
        self.lhs.store(lhs.as_ptr().cast_mut(), Ordering::Relaxed);
        self.out.store(out.as_mut_ptr(), Ordering::Relaxed);
        self.published.store(r, Ordering::Release);
        r
    }

    /// The runner's part of published step `r`: the first halves, the second ones too unless
    /// the helper takes them, whose end it then waits for.
    fn add_published<C: Cell>(&self, r: usize, lhs: &[f32], out: &mut [f32]) {
        debug_assert!(lhs.len() >= self.lhs_len::<C>() && out.len() >= self.out_len::<C>());
        let (lhs, out) = (lhs.as_ptr(), out.as_mut_ptr());
        // SAFETY: `lhs` and `out` hold what the pass reads and writes (checked above); no
        // thread writes the first halves but this one, and the helper writes only second
        // halves, only between taking step `r` and publishing `done`.
        unsafe { self.half::<C>(lhs, out, false) };
        if self.take(r) {
            // SAFETY: as above, for the second halves, which this thread has taken.
            unsafe { self.half::<C>(lhs, out, true) };
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
                let (lhs, out) =
                    (self.lhs.load(Ordering::Relaxed), self.out.load(Ordering::Relaxed));
                // SAFETY: the runner published these pointers for step `r`, of the lengths it
                // checked, and waits for `done` before it reads the second halves or moves on.
                unsafe { self.half::<C>(lhs, out, true) };
                self.done.store(r, Ordering::Release);
            }
        }
    }

    /// Whether this thread takes the second half of step `r`.
    fn take(&self, r: usize) -> bool {
        self.taken.compare_exchange(r - 1, r, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// The values the pass' products read, and those they write.
    fn lhs_len<C: Cell>(&self) -> usize {
        match self.pass {
            Pass::Backward => C::LAYOUT.grad_blocks * self.units,
            Pass::Forward | Pass::Fold => self.units,
        }
    }

    fn out_len<C: Cell>(&self) -> usize {
        match self.pass {
            Pass::Backward => self.units,
            Pass::Forward | Pass::Fold => C::LAYOUT.step_blocks * self.units,
        }
    }

    /// Adds the first or `second` half of the columns of every product of the step.
    ///
    /// # Safety
    /// `lhs` and `out` hold [`Self::lhs_len`] and [`Self::out_len`] values; no other thread
    /// reads or writes the half's values meanwhile.
    unsafe fn half<C: Cell>(&self, lhs: *const f32, out: *mut f32, second: bool) {
        let units = self.units;
        let lhs = std::slice::from_raw_parts(lhs, self.lhs_len::<C>());
        for g in 0..C::LAYOUT.gates {
            // Which values the product reads, its weights, and where it adds.
            let (lhs, rhs, out_at) = match self.pass {
                Pass::Backward => {
                    let gate = C::LAYOUT.recurrent_grad[g];
                    (&lhs[g * units..], self.weights.recurrent_t_panels(gate), 0)
                }
                Pass::Forward | Pass::Fold => {
                    (lhs, self.weights.recurrent_panels(g), C::LAYOUT.recurrent_into[g] * units)
                }
            };
            let middle = rhs.middle_column();
            let columns = if second { middle..units } else { 0..middle };
            let out =
                std::slice::from_raw_parts_mut(out.add(out_at + columns.start), columns.len());
            kernels::add_matmul_packed_columns(1, lhs, units, rhs, columns, out, units);
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
    use crate::param::Param;
    use ndarray::ArrayD;

    /// Weights of a cell `C` of `units` units over 3 features, values that differ in their low
    /// bits, laid out for `pass`.
    fn weights<C: Cell>(units: usize, pass: Pass) -> Packed {
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
        Packed::new::<C>("rnn", &params, 3, units, pass).unwrap()
    }

    /// `out` after the step's products are added as the engine's unshared loops add them.
    fn unshared<C: Cell>(weights: &Packed, pass: Pass, lhs: &[f32], out: &[f32]) -> Vec<f32> {
        let (mut out, units) = (out.to_vec(), weights.units);
        for g in 0..C::LAYOUT.gates {
            match pass {
                Pass::Backward => {
                    let recurrent_t = weights.recurrent_t_panels(C::LAYOUT.recurrent_grad[g]);
                    let dz = &lhs[g * units..];
                    kernels::add_matmul_packed(1, dz, units, recurrent_t, &mut out, units);
                }
                Pass::Forward | Pass::Fold => {
                    let into = &mut out[C::LAYOUT.recurrent_into[g] * units..];
                    let recurrent = weights.recurrent_panels(g);
                    kernels::add_matmul_packed(1, lhs, units, recurrent, into, units);
                }
            }
        }
        out
    }

    fn bits(values: &[f32]) -> Vec<u32> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    /// Steps whose second halves the helper takes, and steps the runner takes whole (the
    /// helper started only after the last, as `rayon::join` runs a task nobody stole), give
    /// the unshared loops' bits.
    fn check<C: Cell>(units: usize, pass: Pass) {
        let weights = weights::<C>(units, pass);
        let shared = SharedSteps::new(&weights, units, pass);
        let (lhs_len, out_len) = (shared.lhs_len::<C>(), shared.out_len::<C>());
        let lhs: Vec<f32> = (0..lhs_len).map(|i| (i as f32 * 0.37).sin()).collect();
        let start: Vec<f32> = (0..out_len).map(|i| (i as f32 * 0.11).cos()).collect();
        let expected = bits(&unshared::<C>(&weights, pass, &lhs, &start));

        std::thread::scope(|scope| {
            scope.spawn(|| shared.help::<C>());
            let _end = Finish(&shared);
            for _ in 0..3 {
                // The helper takes the step: the runner starts only once it is done.
                let mut out = start.clone();
                let r = shared.publish(&lhs, &mut out);
                while shared.done.load(Ordering::Acquire) != r {
                    spin_loop();
                }
                shared.add_published::<C>(r, &lhs, &mut out);
                assert!(bits(&out) == expected, "{pass:?}, {units} units, helped");
            }
        });

        let alone = SharedSteps::new(&weights, units, pass);
        for _ in 0..3 {
            let mut out = start.clone();
            alone.add::<C>(&lhs, &mut out);
            assert!(bits(&out) == expected, "{pass:?}, {units} units, alone");
        }
        drop(Finish(&alone));
        alone.help::<C>();
    }

    #[test]
    fn shared_steps_give_the_unshared_bits_whoever_takes_them() {
        for pass in [Pass::Forward, Pass::Backward] {
            for units in [100, 128, 200, 256] {
                check::<LstmCell>(units, pass);
                check::<GruCell>(units, pass);
                check::<SimpleRnnCell>(units, pass);
            }
        }
    }
}
