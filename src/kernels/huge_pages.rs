//! Large tables read at random, on huge pages where the system offers them.
//!
//! A folded `Embedding` table (see `Rnn::fold`) can run to tens of megabytes, and each step
//! reads one of its rows per sample at random: with 4 KiB pages, nearly every row costs a TLB
//! miss and a page walk on top of its cache misses. Linux backs a region with 2 MiB pages when
//! asked (`madvise(MADV_HUGEPAGE)`, honoured when transparent huge pages are set to `madvise`
//! or `always`), and one TLB entry then covers 512 rows of 4 KiB.

/// A huge page: 2 MiB on x86-64 and on most aarch64 systems. A table of less than two of them
/// holds at most one aligned one, and fits in the pages the TLB covers anyway.
const HUGE_PAGE: usize = 2 << 20;

/// `len` zeros, on huge pages where the system offers them (Linux); as `vec![0.0; len]`
/// elsewhere, or when it declines.
pub(crate) fn zeroed_table(len: usize) -> Vec<f32> {
    // A large zeroed allocation is fresh memory that nothing has touched yet (the kernel zeroes
    // each page as it is first written), so advice given now applies to every page, and the
    // zeroing stays with whichever threads first write the table.
    let table = vec![0.0f32; len];
    let bytes = len * size_of::<f32>();
    #[cfg(target_os = "linux")]
    if bytes >= 2 * HUGE_PAGE {
        // The advice covers the 4 KiB pages wholly inside the allocation; the kernel backs its
        // 2 MiB-aligned parts with huge pages.
        const PAGE: usize = 4096;
        let start = table.as_ptr() as usize;
        let first = start.next_multiple_of(PAGE);
        let end = (start + bytes) / PAGE * PAGE;
        if end > first {
            // SAFETY: the range lies inside this allocation, which nothing else uses; the
            // advice changes how its pages are backed, never their contents. A refusal (an
            // older kernel, huge pages off) leaves ordinary pages, so the result is ignored.
            unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (bytes, HUGE_PAGE);
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_tables_hold_zeros_at_every_size() {
        for len in [0, 1, 1000, 2 * HUGE_PAGE / 4 + 3, 3 * HUGE_PAGE] {
            let table = zeroed_table(len);
            assert_eq!(table.len(), len);
            assert!(table.iter().all(|&v| v == 0.0), "{len}");
        }
    }
}
