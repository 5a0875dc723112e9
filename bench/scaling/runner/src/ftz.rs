//! The CPU's flush-to-zero and denormals-are-zero bits for the calling thread: x86-64's MXCSR
//! FTZ (bit 15) and DAZ (bit 6), aarch64's FPCR FZ (bit 24).

/// Sets the calling thread's flush-to-zero (and, on x86-64, denormals-are-zero) bits.
pub fn enable() {
    write(read() | BITS);
}

/// Whether the calling thread runs with the bits set.
pub fn enabled() -> bool {
    read() & BITS == BITS
}

#[cfg(target_arch = "x86_64")]
const BITS: u64 = (1 << 15) | (1 << 6);
#[cfg(target_arch = "aarch64")]
const BITS: u64 = 1 << 24;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const BITS: u64 = 0;

#[cfg(target_arch = "x86_64")]
fn read() -> u64 {
    let mut csr: u32 = 0;
    // SAFETY: stmxcsr stores the 32-bit control register into `csr`, a valid, aligned u32.
    unsafe { std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags)) };
    u64::from(csr)
}

#[cfg(target_arch = "x86_64")]
fn write(value: u64) {
    let csr = value as u32;
    // SAFETY: ldmxcsr loads a control word read from this register with only the FTZ and DAZ
    // bits added, both defined on every x86-64 CPU with SSE2.
    unsafe { std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags)) };
}

#[cfg(target_arch = "aarch64")]
fn read() -> u64 {
    let fpcr: u64;
    // SAFETY: reading FPCR has no side effect.
    unsafe { std::arch::asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack)) };
    fpcr
}

#[cfg(target_arch = "aarch64")]
fn write(value: u64) {
    // SAFETY: writes back FPCR as read, with only the FZ bit added.
    unsafe { std::arch::asm!("msr fpcr, {}", in(reg) value, options(nomem, nostack)) };
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn read() -> u64 {
    0
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn write(_: u64) {}
