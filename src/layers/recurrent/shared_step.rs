//! [`SharedSteps`]: the recurrent products of a chunk of one sample, each step's columns shared
//! by two threads.
//!
//! A single sample cannot be split by rows, and its steps follow one another, so the second
//! thread takes half the columns of every step's products, h_{t−1}·U_g forward and
//! dL/d(h_{t−1}·U_g)·U_gᵀ backward: each thread then reads only its half of U, which stays in
//! its own core's cache. A step is a few microseconds, far less than handing a task to a
//! sleeping thread, so the helper is handed one task for the whole sequence and waits for each
//! step by spinning on atomics; between steps it can take other halves of work too
//! ([`SharedSteps::join`]), such as those of the weight gradients. Every value is computed as
//! the whole product computes it, by whichever thread takes it: the bits do not depend on the
//! threads.

use super::cell::Cell;
use super::weights::{Packed, Pass};
use crate::kernels::{self, FlushDenormals, PackedRhs};
use std::hint::spin_loop;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

/// The fewest multiply-adds of a step's products (units² · gates) for which sharing them pays
/// for the hand-over: LSTM(65), GRU(74), SimpleRNN(128). (SimpleRNN(96) runs inference 30%
/// slower shared, SimpleRNN(128) 14% faster, LSTM(72) 18% faster.)
const MIN_STEP_PRODUCT: usize = 1 << 14;

/// Spins before a waiting thread yields its core (a thread preempted on a busy machine).
const SPINS_BEFORE_YIELD: u32 = 1 << 10;

/// Whether the steps of a forward or backward (`pass`) over `chunks` chunks of `chunk_len`
/// rows are shared: a single chunk of one sample, a thread to spare in rayon's pool, and
/// products wide enough to split.
pub(super) fn pays<C: Cell>(weights: &Packed, pass: Pass, chunks: usize, chunk_len: usize) -> bool {
    let units = weights.units;
    chunks == 1
        && chunk_len == 1
        && units * units * C::LAYOUT.gates >= MIN_STEP_PRODUCT
        && rayon::current_num_threads() > 1
        && recurrent(weights, pass, 0).middle_column() < units
}

/// The recurrent kernel's gate `gate` as `pass` reads it: U_g forward, U_gᵀ backward.
fn recurrent(weights: &Packed, pass: Pass, gate: usize) -> &PackedRhs {
    match pass {
        Pass::Backward => weights.recurrent_t_panels(gate),
        Pass::Forward | Pass::Fold => weights.recurrent_panels(gate),
    }
}

/// The steps of one chunk's forward or backward, shared between the thread that runs it
/// ([`Self::add`], step by step) and a helper ([`Self::help`], for the whole sequence).
///
/// Steps are numbered from 1 as they are published. The second half of step `r`'s products is
/// taken by whichever thread first moves `taken` from `r − 1` to `r`: the helper when it is
/// waiting, the runner itself when the helper is late or was never started. What each thread
/// writes sits on its own cache line, apart from what the other polls.
pub(super) struct SharedSteps<'a> {
    weights: &'a Packed,
    units: usize,
    pass: Pass,
    /// Written by the runner: the last step published, its second half, and whether the
    /// sequence has ended.
    published: CacheLine<Published>,
    /// The last step whose second half is taken.
    taken: CacheLine<AtomicUsize>,
    /// Written by the helper: the last step whose second half it finished; whether it panicked.
    done: CacheLine<AtomicUsize>,
    poisoned: AtomicBool,
}

/// What the runner publishes: the step's number, its second half (a [`Job`]) and whether the
/// sequence has ended.
struct Published {
    step: AtomicUsize,
    job: AtomicPtr<()>,
    finished: AtomicBool,
}

/// The second half of a step, as the runner publishes it: whichever thread takes the step calls
/// it, once.
type Job<'j> = &'j mut (dyn FnMut() + Send + 'j);

/// A pointer that both halves of a step's products use: each writes only its own values.
#[derive(Clone, Copy)]
struct Operand(*mut f32);

// SAFETY: the halves that share an `Operand` read and write disjoint values (see `add`).
unsafe impl Send for Operand {}

impl Operand {
    /// The pointer (a method, so that a closure captures the `Operand`, not its field).
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// A value alone on its cache line (two lines: adjacent lines are fetched in pairs).
#[repr(align(128))]
struct CacheLine<T>(T);

impl<'a> SharedSteps<'a> {
    /// Runs `steps`, which calls [`Self::add`] for each step of `pass` of a layer whose
    /// weights, laid out for that pass, are `weights` (and [`Self::join`] for other work), with
    /// a helper on another thread of rayon's pool.
    ///
    /// `steps` must not wait for rayon's work: a thread that waits in rayon runs the tasks of
    /// its own queue, the helper's among them, which would then spin until a step that its
    /// own thread, suspended below it, was to publish.
    pub(super) fn run<T: Send>(
        weights: &'a Packed,
        pass: Pass,
        steps: impl FnOnce(&Self) -> T + Send,
    ) -> T {
        let shared = SharedSteps::new(weights, pass);
        let (result, ()) = rayon::join(
            || {
                // `join` called from outside the pool runs this on one of its threads.
                let _flush = FlushDenormals::new();
                let _end = Finish(&shared);
                steps(&shared)
            },
            || shared.help(),
        );
        result
    }

    /// Steps of `pass` of a layer whose weights are `weights`.
    fn new(weights: &'a Packed, pass: Pass) -> Self {
        debug_assert!(pass != Pass::Fold, "a fold has no steps");
        SharedSteps {
            weights,
            units: weights.units,
            pass,
            published: CacheLine(Published {
                step: AtomicUsize::new(0),
                job: AtomicPtr::new(std::ptr::null_mut()),
                finished: AtomicBool::new(false),
            }),
            taken: CacheLine(AtomicUsize::new(0)),
            done: CacheLine(AtomicUsize::new(0)),
            poisoned: AtomicBool::new(false),
        }
    }

    /// Adds the step's products for one sample, the first half of every product's columns on
    /// this thread and the second where the helper takes it. Forward, h_{t−1}·U_g: `lhs` is
    /// h_{t−1} and `out` the step blocks, as the cell's
    /// [`CellLayout`](super::cell::CellLayout) lays them out. Backward,
    /// Σ_g dL/d(h_{t−1}·U_g)·U_gᵀ: `lhs` is the step's gradient blocks and `out` dL/dh_{t−1}.
    pub(super) fn add<C: Cell>(&self, lhs: &[f32], out: &mut [f32]) {
        assert!(
            lhs.len() >= self.lhs_len::<C>() && out.len() >= self.out_len::<C>(),
            "a shared step of {} units reads {} values and writes {}: got {} and {}",
            self.units,
            self.lhs_len::<C>(),
            self.out_len::<C>(),
            lhs.len(),
            out.len()
        );
        // One pointer each, which both halves use: the columns they write are disjoint.
        let (lhs, out) = (Operand(lhs.as_ptr().cast_mut()), Operand(out.as_mut_ptr()));
        // SAFETY: `lhs` and `out` hold what the pass reads and writes (checked above), borrowed
        // until `join` returns, which is after both halves.
        let half = move |second| unsafe { self.half::<C>(lhs.get(), out.get(), second) };
        self.join(move || half(false), move || half(true));
    }

    /// Runs `here` on this thread and `there` on the helper if it is waiting, here otherwise
    /// (as `rayon::join` would, without handing a task over); returns once both have run. What
    /// the two write must be disjoint, as their borrows make it.
    pub(super) fn join(&self, here: impl FnOnce(), there: impl FnOnce() + Send) {
        let mut there = Some(there);
        let mut call = || {
            if let Some(there) = there.take() {
                there();
            }
        };
        let mut job: Job<'_> = &mut call;
        let r = self.publish(&mut job);
        // Dropped before `job`: waits until the helper is done with it, also if `here` unwinds.
        let mut end = StepEnd { shared: self, r, taken_here: false };
        here();
        if self.take(r) {
            end.taken_here = true;
            job();
        }
    }

    /// Makes `job` the next step's second half, for the helper to take; returns the step's
    /// number.
    fn publish(&self, job: &mut Job<'_>) -> usize {
        let published = &self.published.0;
        let r = published.step.load(Ordering::Relaxed) + 1;
        published.job.store((job as *mut Job<'_>).cast(), Ordering::Relaxed);
        published.step.store(r, Ordering::Release);
        r
    }

    /// Takes the second half of the steps published until the sequence ends.
    fn help(&self) {
        let _flush = FlushDenormals::new();
        let _poison = Poison(self);
        let published = &self.published.0;
        let mut seen = 0;
        loop {
            let mut r = seen;
            spin_until(|| {
                r = published.step.load(Ordering::Acquire);
                r != seen || published.finished.load(Ordering::Acquire)
            });
            if r == seen {
                return;
            }
            seen = r;
            if self.take(r) {
                let job = published.job.load(Ordering::Relaxed).cast::<Job<'_>>();
                // SAFETY: the runner published `job` for step `r`, which it waits for `done`
                // to leave (`StepEnd`); the step is taken once, here, so nothing else calls it.
                unsafe { (*job)() };
                self.done.0.store(r, Ordering::Release);
            }
        }
    }

    /// Whether this thread takes the second half of step `r`.
    fn take(&self, r: usize) -> bool {
        self.taken.0.compare_exchange(r - 1, r, Ordering::AcqRel, Ordering::Acquire).is_ok()
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
    /// writes `lhs`, or reads or writes the half's values of `out`, meanwhile.
    unsafe fn half<C: Cell>(&self, lhs: *const f32, out: *mut f32, second: bool) {
        let units = self.units;
        let lhs = std::slice::from_raw_parts(lhs, self.lhs_len::<C>());
        for g in 0..C::LAYOUT.gates {
            // Which values the product reads, its weights, and where it adds.
            let (lhs, rhs, out_at) = match self.pass {
                Pass::Backward => {
                    let gate = C::LAYOUT.recurrent_grad[g];
                    (&lhs[g * units..], recurrent(self.weights, self.pass, gate), 0)
                }
                Pass::Forward | Pass::Fold => {
                    let into = C::LAYOUT.recurrent_into[g] * units;
                    (lhs, recurrent(self.weights, self.pass, g), into)
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

/// Spins until `ready()`, yielding the core now and then after a while.
fn spin_until(mut ready: impl FnMut() -> bool) {
    let mut spins = 0;
    while !ready() {
        if spins < SPINS_BEFORE_YIELD {
            spins += 1;
            spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// The runner's hold on step `r`, dropped when its part is done or when it unwinds: takes the
/// second half if nobody has (the helper then never writes the step), or waits until the
/// helper has finished it, so that no buffer of the step is freed or reused under its writes.
struct StepEnd<'s, 'a> {
    shared: &'s SharedSteps<'a>,
    r: usize,
    taken_here: bool,
}

impl Drop for StepEnd<'_, '_> {
    fn drop(&mut self) {
        let (shared, r) = (self.shared, self.r);
        if self.taken_here || shared.take(r) {
            return;
        }
        let poisoned = || shared.poisoned.load(Ordering::Acquire);
        spin_until(|| shared.done.0.load(Ordering::Acquire) == r || poisoned());
        if shared.done.0.load(Ordering::Acquire) != r && !std::thread::panicking() {
            panic!("the thread sharing a recurrent layer's steps panicked");
        }
    }
}

/// Ends [`SharedSteps::help`] when dropped: when the runner has run every step, or panicked
/// (`rayon::join` waits for the helper before it passes the panic on).
struct Finish<'s, 'a>(&'s SharedSteps<'a>);

impl Drop for Finish<'_, '_> {
    fn drop(&mut self) {
        self.0.published.0.finished.store(true, Ordering::Release);
    }
}

/// Tells the runner, when the helper unwinds, that the step it took will not be done.
struct Poison<'s, 'a>(&'s SharedSteps<'a>);

impl Drop for Poison<'_, '_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.poisoned.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::recurrent::cells::{GruCell, LstmCell, SimpleRnnCell};
    use crate::layers::recurrent::dropout::ChunkDropout;
    use crate::layers::recurrent::steps::{add_recurrent, add_recurrent_gradient};
    use crate::param::Param;
    use ndarray::ArrayD;
    use std::panic::{catch_unwind, AssertUnwindSafe};

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
        let (mut out, mut scratch) = (out.to_vec(), Vec::new());
        match pass {
            Pass::Backward => add_recurrent_gradient::<C>(
                weights,
                ChunkDropout::NONE,
                lhs,
                &mut out,
                &mut scratch,
            ),
            Pass::Forward | Pass::Fold => {
                add_recurrent::<C>(weights, ChunkDropout::NONE, lhs, &mut out, &mut scratch)
            }
        }
        out
    }

    fn bits(values: &[f32]) -> Vec<u32> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    /// Steps whose second halves the helper takes (the runner's first half waits for it),
    /// steps shared with a helper that may or may not be in time, and steps the runner takes
    /// whole (no helper), give the unshared loops' bits.
    fn check<C: Cell>(units: usize, pass: Pass) {
        let weights = weights::<C>(units, pass);
        let shared = SharedSteps::new(&weights, pass);
        let (lhs_len, out_len) = (shared.lhs_len::<C>(), shared.out_len::<C>());
        let lhs: Vec<f32> = (0..lhs_len).map(|i| (i as f32 * 0.37).sin()).collect();
        let start: Vec<f32> = (0..out_len).map(|i| (i as f32 * 0.11).cos()).collect();
        let expected = bits(&unshared::<C>(&weights, pass, &lhs, &start));

        std::thread::scope(|scope| {
            scope.spawn(|| shared.help());
            let _end = Finish(&shared);
            for _ in 0..3 {
                let mut out = start.clone();
                let (l, o) = (Operand(lhs.as_ptr().cast_mut()), Operand(out.as_mut_ptr()));
                let (steps, helped) = (&shared, &AtomicBool::new(false));
                // SAFETY: `lhs` and `out` have the pass' lengths; the halves write apart.
                shared.join(
                    || {
                        spin_until(|| helped.load(Ordering::Acquire));
                        unsafe { steps.half::<C>(l.get(), o.get(), false) }
                    },
                    move || {
                        unsafe { steps.half::<C>(l.get(), o.get(), true) };
                        helped.store(true, Ordering::Release);
                    },
                );
                assert!(bits(&out) == expected, "{pass:?}, {units} units, helped");
                let mut out = start.clone();
                shared.add::<C>(&lhs, &mut out);
                assert!(bits(&out) == expected, "{pass:?}, {units} units, shared");
            }
        });

        let alone = SharedSteps::new(&weights, pass);
        for _ in 0..3 {
            let mut out = start.clone();
            alone.add::<C>(&lhs, &mut out);
            assert!(bits(&out) == expected, "{pass:?}, {units} units, alone");
        }
        drop(Finish(&alone));
        alone.help();
    }

    /// `join` runs its second closure on the helper when the helper waits for a step, and on
    /// the runner, after the first, when there is no helper.
    #[test]
    fn join_hands_the_second_half_to_a_waiting_helper() {
        let weights = weights::<LstmCell>(128, Pass::Forward);
        let shared = SharedSteps::new(&weights, Pass::Forward);
        let runner = std::thread::current().id();
        std::thread::scope(|scope| {
            scope.spawn(|| shared.help());
            let _end = Finish(&shared);
            let (helped, mut there_on) = (AtomicBool::new(false), None);
            shared.join(
                || spin_until(|| helped.load(Ordering::Acquire)),
                || {
                    there_on = Some(std::thread::current().id());
                    helped.store(true, Ordering::Release);
                },
            );
            assert!(there_on.is_some_and(|id| id != runner), "{there_on:?}");
        });
        let alone = SharedSteps::new(&weights, Pass::Forward);
        let order = std::sync::Mutex::new(Vec::new());
        let push = |name| order.lock().unwrap().push((name, std::thread::current().id()));
        alone.join(|| push("here"), || push("there"));
        assert_eq!(order.into_inner().unwrap(), [("here", runner), ("there", runner)]);
        drop(Finish(&alone));
        alone.help();
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

    /// A runner that panics ends its helper: the panic reaches the caller, nothing hangs.
    #[test]
    fn a_panic_in_the_steps_ends_the_helper() {
        let weights = weights::<LstmCell>(128, Pass::Forward);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let (lhs, mut out) = (vec![0.5f32; 128], vec![0.0f32; 5 * 128]);
        let result = catch_unwind(AssertUnwindSafe(|| {
            pool.install(|| {
                SharedSteps::run::<()>(&weights, Pass::Forward, |shared| {
                    for _ in 0..20 {
                        shared.add::<LstmCell>(&lhs, &mut out);
                    }
                    shared.add::<LstmCell>(&lhs, &mut out[..10]);
                })
            })
        }));
        let message = result.expect_err("the short step panics");
        let message = message.downcast_ref::<String>().expect("a formatted message");
        assert!(message.contains("writes 640: got 128 and 10"), "{message}");
    }

    /// The runner's thread flushes subnormals, as the helper's does, also when `run` is
    /// called from a thread outside rayon's pool (which moves the runner to one of the pool's
    /// threads, in the mode they keep between tasks).
    #[test]
    fn the_runner_flushes_subnormals_from_any_thread() {
        let weights = weights::<LstmCell>(128, Pass::Forward);
        let flushing = std::thread::scope(|scope| {
            let runner = || SharedSteps::run(&weights, Pass::Forward, |_| kernels::flushing());
            scope.spawn(runner).join().unwrap()
        });
        assert!(flushing);
    }

    #[test]
    fn only_a_sample_alone_with_wide_products_shares_its_steps() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        pool.install(|| {
            let wide = weights::<LstmCell>(256, Pass::Forward);
            assert!(pays::<LstmCell>(&wide, Pass::Forward, 1, 1));
            assert!(!pays::<LstmCell>(&wide, Pass::Forward, 2, 1), "two chunks");
            assert!(!pays::<LstmCell>(&wide, Pass::Forward, 1, 2), "two rows");
            let least = weights::<SimpleRnnCell>(128, Pass::Backward);
            assert!(pays::<SimpleRnnCell>(&least, Pass::Backward, 1, 1));
            let narrow = weights::<SimpleRnnCell>(127, Pass::Forward);
            assert!(!pays::<SimpleRnnCell>(&narrow, Pass::Forward, 1, 1), "a short product");
            // LSTM(64)'s product is long enough, but one hand-written width: nothing to split.
            let one_panel = weights::<LstmCell>(64, Pass::Forward);
            assert!(!pays::<LstmCell>(&one_panel, Pass::Forward, 1, 1), "one panel");
            assert!(pays::<LstmCell>(&weights::<LstmCell>(72, Pass::Forward), Pass::Forward, 1, 1));
        });
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let wide = weights::<LstmCell>(256, Pass::Forward);
        one.install(|| assert!(!pays::<LstmCell>(&wide, Pass::Forward, 1, 1), "one thread"));
    }
}
