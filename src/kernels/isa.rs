//! The instruction sets the kernels are compiled for, chosen at run time: the best this CPU
//! has. Tests cap the choice per thread to run every path the CPU can.

/// A level of the instruction sets the kernels use; each includes the ones below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) enum Isa {
    /// Baseline code: products one after the other, unfused.
    Portable,
    /// x86-64 AVX2 + FMA: 256-bit registers, fused products.
    Avx2,
    /// x86-64 AVX-512 (F) besides AVX2 + FMA: 512-bit registers, fused products.
    Avx512,
}

/// The best level this CPU has; in tests, no better than the current thread's cap.
#[inline(always)]
pub(crate) fn best() -> Isa {
    #[cfg(test)]
    return detected().min(cap::CAP.with(|cap| cap.get()));
    #[cfg(not(test))]
    detected()
}

/// The best level this CPU has (`is_x86_feature_detected!` caches what it reads).
#[inline(always)]
fn detected() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx2") && has!("fma") {
            return if has!("avx512f") { Isa::Avx512 } else { Isa::Avx2 };
        }
    }
    Isa::Portable
}

#[cfg(test)]
pub(crate) use cap::{capped, each};

#[cfg(test)]
mod cap {
    use super::{detected, Isa};
    use std::cell::Cell;

    thread_local! {
        pub(super) static CAP: Cell<Isa> = const { Cell::new(Isa::Avx512) };
    }

    /// Runs `f` on the current thread with the kernels no better than `cap`.
    pub(crate) fn capped<T>(cap: Isa, f: impl FnOnce() -> T) -> T {
        let before = CAP.with(|c| c.replace(cap));
        let result = f();
        CAP.with(|c| c.set(before));
        result
    }

    /// Runs `check` at every level this CPU has, best first.
    pub(crate) fn each(check: impl Fn()) {
        for level in [Isa::Avx512, Isa::Avx2, Isa::Portable] {
            if level <= detected() {
                capped(level, &check);
            }
        }
    }
}
