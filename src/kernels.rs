//! Small numeric kernels for the recurrent hot loop, compiled twice: once for the baseline CPU
//! and once with AVX2 + FMA, chosen at run time. The step of a recurrence is a
//! `(rows × units) · (units × units)` product, too small for a general GEMM's packing to pay off.

mod denormals;

pub(crate) use denormals::FlushDenormals;

/// Declares `$name(args)` that runs `$body` with AVX2 + FMA when the CPU has them, and as
/// baseline code otherwise. Inside the body, `fma(a, b, c)` is a·b + c (fused when possible).
macro_rules! dispatch {
    ($(#[$doc:meta])* pub(crate) fn $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        $(#[$doc])*
        // The argument lists mirror BLAS': dimensions, then each operand with its stride.
        #[allow(clippy::too_many_arguments)]
        pub(crate) fn $name($($arg: $ty),*) {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn generic<const FUSED: bool>($($arg: $ty),*) {
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
                fn fused($($arg: $ty),*) {
                    generic::<true>($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU supports the features `fused` was compiled for.
                    return unsafe { fused($($arg),*) };
                }
            }
            generic::<false>($($arg),*)
        }
    };
}

dispatch! {
    /// `out[r, :] += Σ_k lhs[r, k] · rhs[k, :]` for `rows` rows, where row `r` of `lhs` starts at
    /// `r · lhs_stride` and holds `inner` values, `rhs` is `(inner, cols)` row-major and row `r`
    /// of `out` starts at `r · out_stride`.
    pub(crate) fn add_matmul(
        rows: usize,
        inner: usize,
        cols: usize,
        lhs: &[f32],
        lhs_stride: usize,
        rhs: &[f32],
        out: &mut [f32],
        out_stride: usize
    ) {
        // Output rows of the common widths stay in registers across the inner loop.
        match cols {
            8 => rows_fixed::<8, FUSED>(rows, inner, lhs, lhs_stride, rhs, out, out_stride),
            16 => rows_fixed::<16, FUSED>(rows, inner, lhs, lhs_stride, rhs, out, out_stride),
            32 => rows_fixed::<32, FUSED>(rows, inner, lhs, lhs_stride, rhs, out, out_stride),
            64 => rows_fixed::<64, FUSED>(rows, inner, lhs, lhs_stride, rhs, out, out_stride),
            _ => {
                for r in 0..rows {
                    let a = &lhs[r * lhs_stride..r * lhs_stride + inner];
                    let o = &mut out[r * out_stride..r * out_stride + cols];
                    for (k, &a_k) in a.iter().enumerate() {
                        let b = &rhs[k * cols..(k + 1) * cols];
                        for (o_j, &b_j) in o.iter_mut().zip(b) {
                            *o_j = fma!(a_k, b_j, *o_j);
                        }
                    }
                }
            }
        }
    }
}

/// [`add_matmul`] for `N` columns: two output rows at a time, held in local arrays.
#[inline(always)]
fn rows_fixed<const N: usize, const FUSED: bool>(
    rows: usize,
    inner: usize,
    lhs: &[f32],
    lhs_stride: usize,
    rhs: &[f32],
    out: &mut [f32],
    out_stride: usize,
) {
    let fma = |a: f32, b: f32, c: f32| if FUSED { a.mul_add(b, c) } else { a * b + c };
    let rhs = &rhs[..inner * N];
    let mut r = 0;
    while r + 2 <= rows {
        let a0 = &lhs[r * lhs_stride..r * lhs_stride + inner];
        let a1 = &lhs[(r + 1) * lhs_stride..(r + 1) * lhs_stride + inner];
        let mut acc0: [f32; N] =
            out[r * out_stride..r * out_stride + N].try_into().unwrap_or([0.0; N]);
        let mut acc1: [f32; N] =
            out[(r + 1) * out_stride..(r + 1) * out_stride + N].try_into().unwrap_or([0.0; N]);
        for (k, b) in rhs.chunks_exact(N).enumerate() {
            let (x0, x1) = (a0[k], a1[k]);
            for j in 0..N {
                acc0[j] = fma(x0, b[j], acc0[j]);
                acc1[j] = fma(x1, b[j], acc1[j]);
            }
        }
        out[r * out_stride..r * out_stride + N].copy_from_slice(&acc0);
        out[(r + 1) * out_stride..(r + 1) * out_stride + N].copy_from_slice(&acc1);
        r += 2;
    }
    if r < rows {
        let a0 = &lhs[r * lhs_stride..r * lhs_stride + inner];
        let mut acc0: [f32; N] =
            out[r * out_stride..r * out_stride + N].try_into().unwrap_or([0.0; N]);
        for (k, b) in rhs.chunks_exact(N).enumerate() {
            for j in 0..N {
                acc0[j] = fma(a0[k], b[j], acc0[j]);
            }
        }
        out[r * out_stride..r * out_stride + N].copy_from_slice(&acc0);
    }
}

dispatch! {
    /// `out[m, :] += Σ_r lhs[r, m] · rhs[r, :]`, i.e. out += lhsᵀ·rhs, for `inner` rows `r`,
    /// where row `r` of `lhs` starts at `r · lhs_stride` and holds `rows` values, row `r` of
    /// `rhs` starts at `r · rhs_stride` and holds `cols` values, and `out` is `(rows, cols)`
    /// row-major. This is the shape of weight gradients: (features × samples)·(samples × units).
    pub(crate) fn add_matmul_tn(
        rows: usize,
        inner: usize,
        cols: usize,
        lhs: &[f32],
        lhs_stride: usize,
        rhs: &[f32],
        rhs_stride: usize,
        out: &mut [f32]
    ) {
        match cols {
            8 => tn_fixed::<8, FUSED>(rows, inner, lhs, lhs_stride, rhs, rhs_stride, out),
            16 => tn_fixed::<16, FUSED>(rows, inner, lhs, lhs_stride, rhs, rhs_stride, out),
            32 => tn_fixed::<32, FUSED>(rows, inner, lhs, lhs_stride, rhs, rhs_stride, out),
            64 => tn_fixed::<64, FUSED>(rows, inner, lhs, lhs_stride, rhs, rhs_stride, out),
            _ => {
                for r in 0..inner {
                    let a = &lhs[r * lhs_stride..r * lhs_stride + rows];
                    let b = &rhs[r * rhs_stride..r * rhs_stride + cols];
                    for (m, &a_m) in a.iter().enumerate() {
                        for (o, &b_j) in out[m * cols..(m + 1) * cols].iter_mut().zip(b) {
                            *o = fma!(a_m, b_j, *o);
                        }
                    }
                }
            }
        }
    }
}

/// [`add_matmul_tn`] for `N` columns: two output rows at a time, held in local arrays while
/// the `inner` rows stream past.
#[inline(always)]
fn tn_fixed<const N: usize, const FUSED: bool>(
    rows: usize,
    inner: usize,
    lhs: &[f32],
    lhs_stride: usize,
    rhs: &[f32],
    rhs_stride: usize,
    out: &mut [f32],
) {
    let fma = |a: f32, b: f32, c: f32| if FUSED { a.mul_add(b, c) } else { a * b + c };
    let mut m = 0;
    while m < rows {
        let pair = m + 1 < rows;
        let mut acc0 = [0.0f32; N];
        let mut acc1 = [0.0f32; N];
        for r in 0..inner {
            let b: &[f32; N] =
                rhs[r * rhs_stride..r * rhs_stride + N].try_into().unwrap_or(&[0.0; N]);
            let x0 = lhs[r * lhs_stride + m];
            let x1 = if pair { lhs[r * lhs_stride + m + 1] } else { 0.0 };
            for j in 0..N {
                acc0[j] = fma(x0, b[j], acc0[j]);
                acc1[j] = fma(x1, b[j], acc1[j]);
            }
        }
        out[m * N..(m + 1) * N].iter_mut().zip(&acc0).for_each(|(o, a)| *o += a);
        if pair {
            out[(m + 1) * N..(m + 2) * N].iter_mut().zip(&acc1).for_each(|(o, a)| *o += a);
        }
        m += 2;
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

    #[test]
    fn fast_tanh_is_accurate() {
        let mut worst = 0.0f64;
        let mut values: Vec<f32> = (-200_000..=200_000).map(|i| i as f32 * 5e-5).collect();
        values.extend([-30.0, 30.0, f32::MAX, f32::MIN, 1e-30, -1e-30]);
        let mut out = values.clone();
        tanh_inplace(&mut out);
        for (&x, &y) in values.iter().zip(&out) {
            worst = worst.max((f64::from(y) - f64::from(x).tanh()).abs());
        }
        assert!(worst < 5e-7, "worst absolute error {worst:e}");
    }

    #[test]
    fn fast_sigmoid_is_accurate() {
        let mut worst = 0.0f64;
        let mut values: Vec<f32> = (-200_000..=200_000).map(|i| i as f32 * 1e-4).collect();
        values.extend([-100.0, 100.0, f32::MAX, f32::MIN, 1e-30, -1e-30]);
        let mut out = values.clone();
        sigmoid_inplace(&mut out);
        for (&x, &y) in values.iter().zip(&out) {
            let exact = 1.0 / (1.0 + (-f64::from(x)).exp());
            worst = worst.max((f64::from(y) - exact).abs());
            assert!((0.0..=1.0).contains(&y), "sigmoid({x}) = {y}");
        }
        assert!(worst < 3e-7, "worst absolute error {worst:e}");
    }

    #[test]
    fn add_matmul_matches_naive_product() {
        for cols in [5, 8, 32] {
            check_add_matmul(3, 4, cols);
        }
    }

    #[test]
    fn add_matmul_tn_matches_naive_product() {
        for (rows, cols) in [(3, 5), (5, 8), (4, 32)] {
            let (inner, lhs_stride, rhs_stride) = (7, rows + 1, cols + 2);
            let lhs: Vec<f32> = (0..inner * lhs_stride).map(|i| (i % 11) as f32 * 0.1).collect();
            let rhs: Vec<f32> = (0..inner * rhs_stride).map(|i| (i % 7) as f32 - 3.0).collect();
            let mut out = vec![0.5f32; rows * cols];
            add_matmul_tn(rows, inner, cols, &lhs, lhs_stride, &rhs, rhs_stride, &mut out);
            for m in 0..rows {
                for j in 0..cols {
                    let expected: f32 = 0.5
                        + (0..inner)
                            .map(|r| lhs[r * lhs_stride + m] * rhs[r * rhs_stride + j])
                            .sum::<f32>();
                    assert!((out[m * cols + j] - expected).abs() < 1e-4, "{rows}x{cols}");
                }
            }
        }
    }

    fn check_add_matmul(rows: usize, inner: usize, cols: usize) {
        let (lhs_stride, out_stride) = (inner + 2, cols + 3);
        let lhs: Vec<f32> = (0..rows * lhs_stride).map(|i| i as f32 * 0.1).collect();
        let rhs: Vec<f32> = (0..inner * cols).map(|i| (i as f32 - 7.0) * 0.05).collect();
        let mut out = vec![1.0f32; rows * out_stride];
        add_matmul(rows, inner, cols, &lhs, lhs_stride, &rhs, &mut out, out_stride);
        for r in 0..rows {
            for j in 0..cols {
                let expected: f32 = 1.0
                    + (0..inner).map(|k| lhs[r * lhs_stride + k] * rhs[k * cols + j]).sum::<f32>();
                assert!((out[r * out_stride + j] - expected).abs() < 1e-4, "cols {cols}");
            }
        }
    }
}
