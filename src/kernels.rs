//! Numeric kernels for the recurrent hot loop. The products of the common small widths (8, 16,
//! 32 and 64 columns: a recurrent layer of up to 64 units) are hand-written, compiled three
//! times, for the baseline CPU, with AVX2 + FMA and with AVX-512, chosen at run time ([`isa`]):
//! at those sizes a general GEMM's packing does not pay off. The products that read a weight
//! matrix every step read it laid out once per call, at any width ([`PackedRhs`], in
//! `packed.rs`). The others, at widths without a hand-written product, go to
//! `matrixmultiply`'s single-threaded GEMM, which picks its own kernel for the CPU at run time.
//! Either way the result depends only on the operands, never on the thread count; and the
//! fused paths give the same bits whatever the register width, since each value's products are
//! added in the same order.

mod denormals;
mod huge_pages;
pub(crate) mod isa;
mod packed;

#[cfg(test)]
pub(crate) use denormals::flushing;
pub(crate) use denormals::{for_each_flushed, FlushDenormals};
pub(crate) use huge_pages::zeroed_table;
pub(crate) use packed::{add_matmul_packed, add_matmul_packed_columns, PackedRhs};

pub(crate) use isa::Isa;

/// Below this many values, a layout or a reduction of weights runs on the calling thread:
/// handing it to the pool would cost more than it saves.
pub(crate) const PARALLEL_VALUES: usize = 1 << 16;

/// Declares `$name(args)` that runs `$body` compiled for the best instruction set the CPU has
/// ([`isa::best`]). Inside the body, `fma(a, b, c)` is a·b + c: fused with AVX2 + FMA or
/// AVX-512, unfused on the portable path; `FUSED` says which, and `LANES` is the f32 lanes of
/// the path's vector registers (8, 16, or 1 on the portable path).
macro_rules! dispatch {
    ($(#[$doc:meta])* pub(crate) fn $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        $(#[$doc])*
        // The argument lists mirror BLAS': dimensions, then each operand with its stride.
        #[allow(clippy::too_many_arguments)]
        pub(crate) fn $name($($arg: $ty),*) {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn generic<const FUSED: bool, const LANES: usize>($($arg: $ty),*) {
                #[inline(always)]
                #[allow(dead_code)]
                fn fma<const F: bool>(a: f32, b: f32, c: f32) -> f32 {
                    if F { a.mul_add(b, c) } else { a * b + c }
                }
                #[allow(unused_macros)]
                macro_rules! fma {
                    ($a:expr, $b:expr, $c:expr) => { fma::<FUSED>($a, $b, $c) };
                }
                $body
            }
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn avx2($($arg: $ty),*) {
                    generic::<true, 8>($($arg),*)
                }
                #[target_feature(enable = "avx512f,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                fn avx512($($arg: $ty),*) {
                    generic::<true, 16>($($arg),*)
                }
                match isa::best() {
                    // SAFETY: the CPU supports the features `avx512` was compiled for.
                    Isa::Avx512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: the CPU supports the features `avx2` was compiled for.
                    Isa::Avx2 => return unsafe { avx2($($arg),*) },
                    Isa::Portable => {}
                }
            }
            generic::<false, 1>($($arg),*)
        }
    };
}

/// Whether the hand-written kernels cover `cols` columns.
pub(crate) fn hand_written(cols: usize) -> bool {
    matches!(cols, 8 | 16 | 32 | 64)
}

/// `out[r, :] += Σ_k lhs[r, k] · rhs[k, :]` for `rows` rows, where row `r` of `lhs` starts at
/// `r · lhs_stride` and holds `inner` values, `rhs` is `(inner, cols)` row-major and row `r` of
/// `out` starts at `r · out_stride`.
#[allow(clippy::too_many_arguments)] // BLAS' argument list: dimensions, operands and strides.
pub(crate) fn add_matmul(
    rows: usize,
    inner: usize,
    cols: usize,
    lhs: &[f32],
    lhs_stride: usize,
    rhs: &[f32],
    out: &mut [f32],
    out_stride: usize,
) {
    if hand_written(cols) {
        add_matmul_fixed(rows, inner, cols, lhs, lhs_stride, rhs, out, out_stride);
        return;
    }
    if rows == 0 || cols == 0 {
        return;
    }
    // The views' extents, checked like any slice access before the GEMM reads raw pointers.
    let lhs = &lhs[..(rows - 1) * lhs_stride + inner];
    let rhs = &rhs[..inner * cols];
    let out = &mut out[..(rows - 1) * out_stride + cols];
    // SAFETY: the slices above hold every element of the three strided matrices the call
    // reads or writes; `out` does not alias `lhs` or `rhs` (a `&mut` borrow).
    unsafe {
        matrixmultiply::sgemm(
            rows,
            inner,
            cols,
            1.0,
            lhs.as_ptr(),
            lhs_stride as isize,
            1,
            rhs.as_ptr(),
            cols as isize,
            1,
            1.0,
            out.as_mut_ptr(),
            out_stride as isize,
            1,
        );
    }
}

/// out += lhsᵀ·rhs: `out[m, :] += Σ_r lhs[r, m] · rhs[r, :]` for `inner` rows `r`, where row `r`
/// of `lhs` starts at `r · lhs_stride` and holds `rows` values, row `r` of `rhs` starts at
/// `r · rhs_stride` and holds `cols` values, and `out` is `(rows, cols)` row-major. This is the
/// shape of weight gradients: (features × samples)·(samples × units).
#[allow(clippy::too_many_arguments)] // BLAS' argument list: dimensions, operands and strides.
pub(crate) fn add_matmul_tn(
    rows: usize,
    inner: usize,
    cols: usize,
    lhs: &[f32],
    lhs_stride: usize,
    rhs: &[f32],
    rhs_stride: usize,
    out: &mut [f32],
) {
    if hand_written(cols) {
        add_matmul_tn_fixed(rows, inner, cols, lhs, lhs_stride, rhs, rhs_stride, out);
        return;
    }
    if rows == 0 || cols == 0 || inner == 0 {
        return;
    }
    let lhs = &lhs[..(inner - 1) * lhs_stride + rows];
    let rhs = &rhs[..(inner - 1) * rhs_stride + cols];
    let out = &mut out[..rows * cols];
    // SAFETY: as in `add_matmul`; lhsᵀ is lhs read with its strides swapped.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            inner,
            cols,
            1.0,
            lhs.as_ptr(),
            1,
            lhs_stride as isize,
            rhs.as_ptr(),
            rhs_stride as isize,
            1,
            1.0,
            out.as_mut_ptr(),
            cols as isize,
            1,
        );
    }
}

/// Runs `$block::<N, FUSED, R>(first, args…)` over `$rows` rows ([`in_blocks`]) for `$cols = N`
/// columns, one of [`hand_written`]'s widths, with `R` rows a block: eight vector accumulators
/// of `$lanes` lanes where the registers allow, which hide the FMA's latency on two pipes, two
/// rows otherwise (a value's bits do not depend on the block).
macro_rules! by_width {
    ($cols:expr, $lanes:expr, $rows:expr, $block:ident::<$fused:ident>($($arg:expr),*)) => {
        match ($cols, $lanes) {
            (8, 8 | 16) => in_blocks!($rows, 8, $block::<8, $fused>($($arg),*)),
            (16, 8) => in_blocks!($rows, 4, $block::<16, $fused>($($arg),*)),
            (16, 16) => in_blocks!($rows, 8, $block::<16, $fused>($($arg),*)),
            (32, 16) => in_blocks!($rows, 4, $block::<32, $fused>($($arg),*)),
            (8, _) => in_blocks!($rows, 2, $block::<8, $fused>($($arg),*)),
            (16, _) => in_blocks!($rows, 2, $block::<16, $fused>($($arg),*)),
            (32, _) => in_blocks!($rows, 2, $block::<32, $fused>($($arg),*)),
            (64, _) => in_blocks!($rows, 2, $block::<64, $fused>($($arg),*)),
            (other, _) => debug_assert!(false, "no hand-written product for {other} columns"),
        }
    };
}

/// Calls `$block::<N, FUSED, B>(first, args…)` for the rows `first..first + B` of `$rows`, in
/// blocks of `B = $r` rows, then of two, then of one.
macro_rules! in_blocks {
    ($rows:expr, $r:literal, $block:ident::<$n:literal, $fused:ident>($($arg:expr),*)) => {{
        let mut first = 0;
        while first + $r <= $rows {
            $block::<$n, $fused, $r>(first, $($arg),*);
            first += $r;
        }
        while first + 2 <= $rows {
            $block::<$n, $fused, 2>(first, $($arg),*);
            first += 2;
        }
        if first < $rows {
            $block::<$n, $fused, 1>(first, $($arg),*);
        }
    }};
}

dispatch! {
    /// [`add_matmul`] for the widths of [`hand_written`]: output rows stay in registers across
    /// the inner loop.
    pub(crate) fn add_matmul_fixed(
        rows: usize,
        inner: usize,
        cols: usize,
        lhs: &[f32],
        lhs_stride: usize,
        rhs: &[f32],
        out: &mut [f32],
        out_stride: usize
    ) {
        by_width!(
            cols,
            LANES,
            rows,
            rows_fixed::<FUSED>(inner, lhs, lhs_stride, rhs, out, out_stride)
        );
    }
}

/// [`add_matmul_fixed`] for `N` columns, rows `first..first + R`, held in local arrays across
/// the inner loop.
#[inline(always)]
fn rows_fixed<const N: usize, const FUSED: bool, const R: usize>(
    first: usize,
    inner: usize,
    lhs: &[f32],
    lhs_stride: usize,
    rhs: &[f32],
    out: &mut [f32],
    out_stride: usize,
) {
    let fma = |a: f32, b: f32, c: f32| if FUSED { a.mul_add(b, c) } else { a * b + c };
    let rhs = &rhs[..inner * N];
    let a: [&[f32]; R] = std::array::from_fn(|i| &lhs[(first + i) * lhs_stride..][..inner]);
    let mut acc = [[0.0f32; N]; R];
    for (i, acc) in acc.iter_mut().enumerate() {
        acc.copy_from_slice(&out[(first + i) * out_stride..][..N]);
    }
    for (k, b) in rhs.chunks_exact(N).enumerate() {
        for i in 0..R {
            let x = a[i][k];
            for j in 0..N {
                acc[i][j] = fma(x, b[j], acc[i][j]);
            }
        }
    }
    for (i, acc) in acc.iter().enumerate() {
        out[(first + i) * out_stride..][..N].copy_from_slice(acc);
    }
}

dispatch! {
    /// [`add_matmul_tn`] for the widths of [`hand_written`].
    pub(crate) fn add_matmul_tn_fixed(
        rows: usize,
        inner: usize,
        cols: usize,
        lhs: &[f32],
        lhs_stride: usize,
        rhs: &[f32],
        rhs_stride: usize,
        out: &mut [f32]
    ) {
        by_width!(
            cols,
            LANES,
            rows,
            tn_fixed::<FUSED>(inner, lhs, lhs_stride, rhs, rhs_stride, out)
        );
    }
}

/// [`add_matmul_tn_fixed`] for `N` columns, rows `first..first + R` (columns of `lhs`), held in
/// local arrays while the `inner` rows stream past.
#[inline(always)]
fn tn_fixed<const N: usize, const FUSED: bool, const R: usize>(
    first: usize,
    inner: usize,
    lhs: &[f32],
    lhs_stride: usize,
    rhs: &[f32],
    rhs_stride: usize,
    out: &mut [f32],
) {
    let fma = |a: f32, b: f32, c: f32| if FUSED { a.mul_add(b, c) } else { a * b + c };
    let mut acc = [[0.0f32; N]; R];
    for r in 0..inner {
        let b = &rhs[r * rhs_stride..][..N];
        let x = &lhs[r * lhs_stride + first..][..R];
        for i in 0..R {
            for j in 0..N {
                acc[i][j] = fma(x[i], b[j], acc[i][j]);
            }
        }
    }
    for (i, acc) in acc.iter().enumerate() {
        let row = &mut out[(first + i) * N..][..N];
        row.iter_mut().zip(acc).for_each(|(o, a)| *o += a);
    }
}

dispatch! {
    /// tanh in place, within 5e-7 of the exact value, as a rational approximation (Eigen's
    /// `generic_fast_tanh_float`), which vectorises where libm's `tanhf` does not.
    pub(crate) fn tanh_inplace(values: &mut [f32]) {
        for v in values.iter_mut() {
            *v = fast_tanh(*v, |a, b, c| fma!(a, b, c));
        }
    }
}

dispatch! {
    /// The logistic function in place, as σ(x) = (1 + tanh(x/2)) / 2 through the rational tanh
    /// of [`tanh_inplace`]: within 3e-7 of the exact value, and vectorised (the gates of `Lstm`
    /// and `Gru`).
    pub(crate) fn sigmoid_inplace(values: &mut [f32]) {
        for v in values.iter_mut() {
            let t = fast_tanh(0.5 * *v, |a, b, c| fma!(a, b, c));
            *v = fma!(0.5, t, 0.5);
        }
    }
}

dispatch! {
    /// `grad ⊙= y ⊙ (1 − y)`: dL/dy into dL/dx through the logistic's output y = σ(x).
    pub(crate) fn sigmoid_derive(y: &[f32], grad: &mut [f32]) {
        grad.iter_mut().zip(y).for_each(|(g, &y)| *g *= y * (1.0 - y));
    }
}

dispatch! {
    /// `grad ⊙= 1 − y²`: dL/dy into dL/dx through tanh's output y = tanh(x).
    pub(crate) fn tanh_derive(y: &[f32], grad: &mut [f32]) {
        grad.iter_mut().zip(y).for_each(|(g, &y)| *g *= 1.0 - y * y);
    }
}

/// The rational approximation behind [`tanh_inplace`]; `fma` is a·b + c.
#[inline(always)]
#[allow(clippy::excessive_precision)] // Eigen's coefficients, digit for digit.
fn fast_tanh(input: f32, fma: impl Fn(f32, f32, f32) -> f32) -> f32 {
    // tanh(±7.905…) rounds to ±1 in f32; clamping keeps the polynomials in their range.
    const CLAMP: f32 = 7.905_311;
    let x = input.clamp(-CLAMP, CLAMP);
    let x2 = x * x;
    let mut p = fma(x2, -2.760_768_5e-16, 2.000_187_9e-13);
    p = fma(x2, p, -8.604_671_5e-11);
    p = fma(x2, p, 5.122_297e-8);
    p = fma(x2, p, 1.485_722_4e-5);
    p = fma(x2, p, 6.372_619_3e-4);
    p = fma(x2, p, 4.893_524_6e-3);
    p *= x;
    let mut q = fma(x2, 1.198_258_4e-6, 1.185_347_1e-4);
    q = fma(x2, q, 2.268_434_6e-3);
    q = fma(x2, q, 4.893_525e-3);
    let y = p / q;
    // Tiny inputs: tanh(x) = x to within f32 precision.
    if input.abs() < 4e-4 {
        input
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fused paths give the same bits whatever their register width (AVX2's 256 bits,
    /// AVX-512's 512): the products of each value are added in the same order, fused alike. On
    /// a CPU without AVX-512 both runs take the AVX2 path.
    #[test]
    fn fused_paths_agree_bit_for_bit() {
        let run = || {
            let mut found = Vec::new();
            for cols in [8, 16, 32, 40, 50, 60, 64, 100, 128, 256] {
                let (rows, inner) = (19, 37);
                let lhs: Vec<f32> = (0..rows * inner).map(|i| (i as f32 * 0.37).sin()).collect();
                let rhs: Vec<f32> = (0..inner * cols).map(|i| (i as f32 * 0.71).cos()).collect();
                let mut out: Vec<f32> = (0..rows * cols).map(|i| (i as f32 * 0.13).sin()).collect();
                add_matmul(rows, inner, cols, &lhs, inner, &rhs, &mut out, cols);
                let packed = PackedRhs::new(&rhs, inner, cols, cols);
                add_matmul_packed(rows, &lhs, inner, &packed, &mut out, cols);
                tanh_inplace(&mut out[..rows * cols / 2]);
                sigmoid_inplace(&mut out[rows * cols / 2..]);
                found.extend(out.iter().map(|x| x.to_bits()));
            }
            found
        };
        assert_eq!(isa::capped(Isa::Avx2, run), run());
    }

    /// The largest absolute error of `apply` against `exact` over `values`, on every path this
    /// CPU has; each result must also lie in `range`.
    fn worst_error(
        values: &[f32],
        apply: fn(&mut [f32]),
        exact: fn(f64) -> f64,
        range: std::ops::RangeInclusive<f32>,
    ) -> f64 {
        let worst = std::cell::Cell::new(0.0f64);
        isa::each(|| {
            let mut out = values.to_vec();
            apply(&mut out);
            for (&x, &y) in values.iter().zip(&out) {
                assert!(range.contains(&y), "{:?}: f({x}) = {y}", isa::best());
                worst.set(worst.get().max((f64::from(y) - exact(f64::from(x))).abs()));
            }
        });
        worst.get()
    }

    #[test]
    fn fast_tanh_is_accurate() {
        let mut values: Vec<f32> = (-200_000..=200_000).map(|i| i as f32 * 5e-5).collect();
        values.extend([-30.0, 30.0, f32::MAX, f32::MIN, 1e-30, -1e-30]);
        let worst = worst_error(&values, tanh_inplace, f64::tanh, -1.0..=1.0);
        assert!(worst < 5e-7, "worst absolute error {worst:e}");
    }

    #[test]
    fn fast_sigmoid_is_accurate() {
        let mut values: Vec<f32> = (-200_000..=200_000).map(|i| i as f32 * 1e-4).collect();
        values.extend([-100.0, 100.0, f32::MAX, f32::MIN, 1e-30, -1e-30]);
        let exact = |x: f64| 1.0 / (1.0 + (-x).exp());
        let worst = worst_error(&values, sigmoid_inplace, exact, 0.0..=1.0);
        assert!(worst < 3e-7, "worst absolute error {worst:e}");
    }

    #[test]
    fn derivatives_through_the_output_match_the_formula_on_every_path() {
        let y: Vec<f32> = (0..67).map(|i| (i as f32 * 0.31).sin()).collect();
        let grad: Vec<f32> = (0..67).map(|i| (i as f32 * 0.17).cos()).collect();
        let sigmoid: Vec<f32> = y.iter().zip(&grad).map(|(y, g)| g * (y * (1.0 - y))).collect();
        let tanh: Vec<f32> = y.iter().zip(&grad).map(|(y, g)| g * (1.0 - y * y)).collect();
        isa::each(|| {
            for (derive, expected) in
                [(sigmoid_derive as fn(&[f32], &mut [f32]), &sigmoid), (tanh_derive, &tanh)]
            {
                let mut out = grad.clone();
                derive(&y, &mut out);
                assert_eq!(&out, expected, "{:?}", isa::best());
            }
        });
    }

    /// Every column count up to 70, the widths of larger layers, and row counts on both sides
    /// of the kernels' blocks of rows (8, 4, 2 and 1), on every path this CPU has.
    #[test]
    fn add_matmul_matches_naive_product_at_every_width() {
        isa::each(|| {
            for cols in (1..=70).chain([100, 128, 256, 512]) {
                for rows in 1..=19 {
                    check_add_matmul(rows, 7, cols);
                }
            }
        });
    }

    #[test]
    fn add_matmul_tn_matches_naive_product_at_every_width() {
        isa::each(|| {
            for cols in (1..=70).chain([100, 128, 256, 512]) {
                for rows in 1..=19 {
                    check_add_matmul_tn(rows, 7, cols);
                }
            }
        });
    }

    /// A hand-written product gives each row the bits it gives that row alone, whatever block
    /// of rows the row falls in, on every path this CPU has.
    #[test]
    fn fixed_products_give_a_row_the_same_bits_in_any_block() {
        isa::each(|| {
            for cols in [8, 16, 32, 64] {
                let (rows, inner) = (19, 9);
                let lhs: Vec<f32> = (0..rows * inner).map(|i| (i as f32).sin()).collect();
                let rhs: Vec<f32> = (0..inner * cols).map(|i| (i as f32 * 0.7).cos()).collect();
                let start: Vec<f32> = (0..rows * cols).map(|i| i as f32 * 0.01).collect();
                let (mut all, mut alone) = (start.clone(), start.clone());
                add_matmul(rows, inner, cols, &lhs, inner, &rhs, &mut all, cols);
                for r in 0..rows {
                    let (lhs, out) = (&lhs[r * inner..], &mut alone[r * cols..]);
                    add_matmul(1, inner, cols, lhs, inner, &rhs, out, cols);
                }
                assert!(all.iter().zip(&alone).all(|(a, b)| a.to_bits() == b.to_bits()));
                // Aᵀ·B with A (inner, rows): row m of the product is column m of A.
                let (mut all, mut alone) = (start.clone(), start);
                add_matmul_tn(rows, inner, cols, &lhs, rows, &rhs, cols, &mut all);
                for m in 0..rows {
                    let out = &mut alone[m * cols..];
                    add_matmul_tn(1, inner, cols, &lhs[m..], rows, &rhs, cols, out);
                }
                assert!(all.iter().zip(&alone).all(|(a, b)| a.to_bits() == b.to_bits()));
            }
        });
    }

    /// On the portable path a hand-written product adds each value's products one after the
    /// other, unfused, onto the value already there: bit for bit.
    #[test]
    fn portable_path_adds_in_order_unfused() {
        let best = isa::best();
        isa::capped(Isa::Portable, || {
            for cols in [8, 16, 32, 64] {
                let (rows, inner) = (3, 9);
                let lhs: Vec<f32> = (0..rows * inner).map(|i| (i as f32).sin()).collect();
                let rhs: Vec<f32> = (0..inner * cols).map(|i| (i as f32 * 0.7).cos()).collect();
                let mut out: Vec<f32> = (0..rows * cols).map(|i| i as f32 * 0.01).collect();
                let before = out.clone();
                add_matmul(rows, inner, cols, &lhs, inner, &rhs, &mut out, cols);
                for r in 0..rows {
                    for j in 0..cols {
                        let expected = (0..inner).fold(before[r * cols + j], |acc, k| {
                            lhs[r * inner + k] * rhs[k * cols + j] + acc
                        });
                        assert_eq!(out[r * cols + j].to_bits(), expected.to_bits(), "{cols}");
                    }
                }
            }
        });
        assert_eq!(isa::best(), best);
    }

    pub(super) fn close(found: f32, expected: f64) -> bool {
        (f64::from(found) - expected).abs() <= 1e-5 * (1.0 + expected.abs())
    }

    fn check_add_matmul_tn(rows: usize, inner: usize, cols: usize) {
        let (lhs_stride, rhs_stride) = (rows + 1, cols + 2);
        let lhs: Vec<f32> = (0..inner * lhs_stride).map(|i| (i % 11) as f32 * 0.1).collect();
        let rhs: Vec<f32> = (0..inner * rhs_stride).map(|i| (i % 7) as f32 - 3.0).collect();
        let mut out = vec![0.5f32; rows * cols];
        add_matmul_tn(rows, inner, cols, &lhs, lhs_stride, &rhs, rhs_stride, &mut out);
        for m in 0..rows {
            for j in 0..cols {
                let expected: f64 = 0.5
                    + (0..inner)
                        .map(|r| {
                            f64::from(lhs[r * lhs_stride + m]) * f64::from(rhs[r * rhs_stride + j])
                        })
                        .sum::<f64>();
                assert!(close(out[m * cols + j], expected), "{rows}x{cols}");
            }
        }
    }

    fn check_add_matmul(rows: usize, inner: usize, cols: usize) {
        let (lhs_stride, out_stride) = (inner + 2, cols + 3);
        let lhs: Vec<f32> = (0..rows * lhs_stride).map(|i| (i % 13) as f32 * 0.1 - 0.6).collect();
        let rhs: Vec<f32> = (0..inner * cols).map(|i| ((i % 17) as f32 - 7.0) * 0.05).collect();
        let mut out: Vec<f32> = (0..rows * out_stride).map(|i| (i % 5) as f32 * 0.3).collect();
        let before = out.clone();
        add_matmul(rows, inner, cols, &lhs, lhs_stride, &rhs, &mut out, out_stride);
        for r in 0..rows {
            for j in 0..cols {
                let expected: f64 = f64::from(before[r * out_stride + j])
                    + (0..inner)
                        .map(|k| f64::from(lhs[r * lhs_stride + k]) * f64::from(rhs[k * cols + j]))
                        .sum::<f64>();
                assert!(close(out[r * out_stride + j], expected), "{rows}x{cols}");
            }
            if r + 1 < rows {
                // The gap between rows is left alone.
                let gap = r * out_stride + cols..(r + 1) * out_stride;
                assert_eq!(out[gap.clone()], before[gap]);
            }
        }
    }
}
