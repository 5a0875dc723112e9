//! Flush-to-zero for rnnkit's work: [`FlushDenormals`] sets the CPU's
//! flush-to-zero and denormals-are-zero bits (x86-64 MXCSR FTZ | DAZ, aarch64 FPCR FZ) for as
//! long as it lives, and puts the thread's previous mode back when dropped.
//!
//! Gradients that shrink through many steps become subnormal floats, which many CPUs handle in
//! microcode, many times slower than normal ones. TensorFlow runs its CPU kernels with these
//! bits set, so Keras' numbers are computed the same way. The mode is per thread: the recurrent
//! engine, the optimizers' updates and the Embedding's gradient take a guard inside every task
//! they run (see [`for_each_flushed`]), and the caller's own threads keep theirs.

/// While alive, the current thread flushes subnormal results to zero and reads subnormal
/// operands as zero. Not `Send`: it restores the thread that created it.
pub(crate) struct FlushDenormals {
    saved: mode::Word,
    _thread_bound: std::marker::PhantomData<*const ()>,
}

impl FlushDenormals {
    /// Sets the bits on the current thread.
    #[must_use = "the mode is restored when the guard is dropped"]
    pub(crate) fn new() -> Self {
        // A thread starts in the mode of the thread that spawns it, and rayon spawns its global
        // pool at its first use, which is often inside a guard: it is spawned first, so that
        // its threads keep the mode they would have had.
        let _ = rayon::current_num_threads();
        let saved = mode::read();
        mode::write(saved | mode::FLUSH);
        FlushDenormals { saved, _thread_bound: std::marker::PhantomData }
    }
}

/// Runs `op` on every item of `items` in rayon's pool, each task with flush-to-zero set, as the
/// engine's own loops run: for the element-wise updates around the engine (optimizers, the
/// Embedding's gradient), whose values decay towards zero.
pub(crate) fn for_each_flushed<I>(items: I, op: impl Fn(I::Item) + Sync + Send)
where
    I: rayon::iter::ParallelIterator,
{
    items.for_each_init(FlushDenormals::new, |_, item| op(item));
}

/// Whether the current thread flushes subnormals (for tests of the threads that set it).
#[cfg(test)]
pub(crate) fn flushing() -> bool {
    mode::read() & mode::FLUSH == mode::FLUSH
}

impl Drop for FlushDenormals {
    fn drop(&mut self) {
        mode::write(self.saved);
    }
}

#[cfg(target_arch = "x86_64")]
mod mode {
    use std::arch::asm;

    pub(super) type Word = u32;
    /// MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6).
    pub(super) const FLUSH: Word = 0x8000 | 0x0040;

    pub(super) fn read() -> Word {
        let mut csr: Word = 0;
        // SAFETY: stmxcsr stores the 32-bit MXCSR into the given, writable location.
        unsafe { asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags)) };
        csr
    }

    pub(super) fn write(csr: Word) {
        // SAFETY: ldmxcsr loads MXCSR from the given location; `csr` comes from `read`, with
        // only the FTZ and DAZ bits added, which every x86-64 CPU with SSE2 supports.
        unsafe { asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly, preserves_flags)) };
    }
}

#[cfg(target_arch = "aarch64")]
mod mode {
    use std::arch::asm;

    pub(super) type Word = u64;
    /// FPCR's flush-to-zero bit (24), which also flushes subnormal inputs.
    pub(super) const FLUSH: Word = 1 << 24;

    pub(super) fn read() -> Word {
        let fpcr: Word;
        // SAFETY: reading FPCR has no side effect.
        unsafe { asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags)) };
        fpcr
    }

    pub(super) fn write(fpcr: Word) {
        // SAFETY: writes back a value read from FPCR with only the FZ bit changed.
        unsafe { asm!("msr fpcr, {}", in(reg) fpcr, options(nomem, nostack, preserves_flags)) };
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod mode {
    pub(super) type Word = u8;
    pub(super) const FLUSH: Word = 0;

    pub(super) fn read() -> Word {
        0
    }

    pub(super) fn write(_: Word) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    /// A product whose exact value is subnormal in f32 (about 1e-39).
    fn subnormal_product() -> f32 {
        black_box(1e-20f32) * black_box(1e-19f32)
    }

    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[test]
    fn subnormal_results_flush_inside_the_guard_only() {
        assert!(!flushing(), "the test thread starts in the default mode");
        assert!(subnormal_product() > 0.0 && subnormal_product().is_subnormal());
        {
            let _guard = FlushDenormals::new();
            assert!(flushing());
            assert_eq!(subnormal_product(), 0.0);
            // A subnormal operand reads as zero too.
            let tiny = black_box(f32::from_bits(1));
            assert_eq!(black_box(tiny * 2.0f32), 0.0);
        }
        assert!(!flushing());
        assert!(subnormal_product().is_subnormal());
    }

    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    #[test]
    fn nested_guards_restore_the_mode_each_found() {
        let before = mode::read();
        {
            let _outer = FlushDenormals::new();
            let inside = mode::read();
            {
                let _inner = FlushDenormals::new();
                assert_eq!(mode::read(), inside);
                assert_eq!(subnormal_product(), 0.0);
            }
            // The inner guard puts back the outer one's mode, not the thread's original.
            assert_eq!(mode::read(), inside);
            assert_eq!(subnormal_product(), 0.0);
        }
        assert_eq!(mode::read(), before);
        assert!(subnormal_product().is_subnormal());
    }

    #[test]
    fn other_mode_bits_are_kept() {
        let before = mode::read();
        let guard = FlushDenormals::new();
        assert_eq!(mode::read() & !mode::FLUSH, before & !mode::FLUSH);
        drop(guard);
        assert_eq!(mode::read(), before);
    }
}
