//! Products whose right-hand side is a weight matrix read many times (every step), laid out
//! once per call into column panels ([`PackedRhs`]) so that each product reads it contiguously
//! whatever the matrix's width, as a GEMM packs it, but without packing it again every step.
//!
//! Each output value is its value before plus the products in the order of the inner index,
//! one after the other (fused on the AVX2 + FMA and AVX-512 paths, unfused on the portable one),
//! so a row's result depends neither on the other rows nor on how many there are, nor on the
//! register width: chunks of any size give the same bits.

use super::{add_matmul_fixed, hand_written, isa, Isa, PARALLEL_VALUES};
use aligned_vec::{avec, AVec, ConstAlign};
use rayon::prelude::*;

/// Columns per panel of a [`PackedRhs`] of a width without a hand-written product, on the
/// portable and AVX2 paths: two AVX2 registers.
const PANEL: usize = 16;

/// Columns per panel on the AVX-512 path: two AVX-512 registers, so that each broadcast of a
/// left-hand value feeds two FMAs (with one register per row, loads outnumber FMAs).
const WIDE_PANEL: usize = 32;

/// Output rows per register tile on the portable and AVX2 paths: with [`PANEL`] columns, 12
/// accumulators, which leaves AVX2's 16 registers room for the panel's row and a broadcast.
const TILE_ROWS: usize = 6;

/// A right-hand side `(inner, cols)` laid out once for the many [`add_matmul_packed`] products
/// that read it: column panels as wide as the path the CPU runs takes ([`PANEL`] or
/// [`WIDE_PANEL`] columns), each `(inner, panel)` row-major, the last padded with zeros. A
/// width with a hand-written product keeps its own row-major layout.
#[derive(Clone, Debug)]
pub(crate) struct PackedRhs {
    inner: usize,
    cols: usize,
    panel: usize,
    /// Starts on a cache line, so that every row of a panel (64 or 128 bytes) sits on whole
    /// lines: a vector load that straddles two lines costs two loads.
    values: AVec<f32, ConstAlign<CACHE_LINE>>,
}

/// Bytes in a cache line.
const CACHE_LINE: usize = 64;

impl PackedRhs {
    /// Lays out `rhs`, whose row `k` starts at `k · rhs_stride` and holds `cols` values.
    pub(crate) fn new(rhs: &[f32], inner: usize, cols: usize, rhs_stride: usize) -> Self {
        let panel = match isa::best() {
            _ if hand_written(cols) => cols,
            Isa::Avx512 => WIDE_PANEL,
            Isa::Avx2 | Isa::Portable => PANEL,
        };
        let mut values = avec![[CACHE_LINE]| 0.0; cols.div_ceil(panel) * inner * panel];
        let lay_out = |p: usize, packed: &mut [f32]| {
            let first = p * panel;
            let width = panel.min(cols - first);
            for (k, row) in packed.chunks_exact_mut(panel).enumerate() {
                row[..width].copy_from_slice(&rhs[k * rhs_stride + first..][..width]);
            }
        };
        if inner > 0 {
            // Weights are laid out again after every change (every training batch): a large
            // right-hand side (a gate block of a recurrent kernel from 256 units) is laid out
            // by the pool, panel by panel.
            let panel_len = inner * panel;
            if values.len() < PARALLEL_VALUES {
                values.chunks_exact_mut(panel_len).enumerate().for_each(|(p, v)| lay_out(p, v));
            } else {
                values.par_chunks_exact_mut(panel_len).enumerate().for_each(|(p, v)| lay_out(p, v));
            }
        }
        PackedRhs { inner, cols, panel, values }
    }

    /// A column that splits the panels in halves (the first one more when they are odd), where
    /// two [`add_matmul_packed_columns`] can share a product; `cols` when it has one panel.
    pub(crate) fn middle_column(&self) -> usize {
        let panels = self.cols.div_ceil(self.panel);
        (panels.div_ceil(2) * self.panel).min(self.cols)
    }

    /// The matrix `(inner, cols)` as it was given, row-major.
    #[cfg(test)]
    fn unpacked(&self) -> Vec<f32> {
        if hand_written(self.cols) {
            return self.values.to_vec();
        }
        let (mut out, panel) = (vec![0.0; self.inner * self.cols], self.panel);
        for (p, packed) in self.values.chunks_exact((self.inner * panel).max(1)).enumerate() {
            let first = p * panel;
            let width = panel.min(self.cols - first);
            for (k, row) in packed.chunks_exact(panel).enumerate() {
                out[k * self.cols + first..][..width].copy_from_slice(&row[..width]);
            }
        }
        out
    }
}

/// `out[r, :] += Σ_k lhs[r, k] · rhs[k, :]` for `rows` rows, where row `r` of `lhs` starts at
/// `r · lhs_stride` and holds `rhs.inner` values, and row `r` of `out` starts at
/// `r · out_stride` and receives `rhs.cols` values.
pub(crate) fn add_matmul_packed(
    rows: usize,
    lhs: &[f32],
    lhs_stride: usize,
    rhs: &PackedRhs,
    out: &mut [f32],
    out_stride: usize,
) {
    add_matmul_packed_columns(rows, lhs, lhs_stride, rhs, 0..rhs.cols, out, out_stride);
}

/// [`add_matmul_packed`] for the columns `columns` of `rhs` only, into `out` whose row `r`
/// starts at `r · out_stride` with column `columns.start`: each value as the whole product
/// computes it. The range starts and ends on a panel's edge or the last column (as
/// [`PackedRhs::middle_column`] does); a hand-written width is taken whole.
pub(crate) fn add_matmul_packed_columns(
    rows: usize,
    lhs: &[f32],
    lhs_stride: usize,
    rhs: &PackedRhs,
    columns: std::ops::Range<usize>,
    out: &mut [f32],
    out_stride: usize,
) {
    let inner = rhs.inner;
    if columns.is_empty() {
        return;
    }
    if hand_written(rhs.cols) {
        debug_assert_eq!(columns, 0..rhs.cols, "a hand-written width is taken whole");
        add_matmul_fixed(rows, inner, rhs.cols, lhs, lhs_stride, &rhs.values, out, out_stride);
        return;
    }
    debug_assert!(columns.start.is_multiple_of(rhs.panel) && columns.end <= rhs.cols);
    debug_assert!(columns.end.is_multiple_of(rhs.panel) || columns.end == rhs.cols);
    let cols = columns.len();
    if rows == 0 || cols == 0 || inner == 0 {
        return;
    }
    let panels = &rhs.values[columns.start / rhs.panel * inner * rhs.panel..];
    // The extents every tile reads or writes, checked once: the AVX2 and AVX-512 paths read
    // raw pointers.
    let lhs = &lhs[..(rows - 1) * lhs_stride + inner];
    let out = &mut out[..(rows - 1) * out_stride + cols];
    let product = Product { rows, inner, cols, panel: rhs.panel, lhs_stride, out_stride };
    // A layout made for another path than the best (only in tests, which switch paths) runs
    // on the portable one, which reads panels of any width.
    #[cfg(target_arch = "x86_64")]
    match (isa::best(), rhs.panel) {
        // SAFETY (both): the CPU has the features the path was compiled for; the slices hold
        // every value the tiles touch.
        (Isa::Avx512, WIDE_PANEL) => return unsafe { avx512::panels(product, lhs, panels, out) },
        (Isa::Avx2, PANEL) => return unsafe { avx2::panels(product, lhs, panels, out) },
        _ => {}
    }
    product.each_tile::<TILE_ROWS>(panels, |tile, lhs_at, panel, out_at| {
        tile_portable(tile, &lhs[lhs_at..], panel, &mut out[out_at..]);
    });
}

/// The dimensions and strides of one [`add_matmul_packed`] product.
#[derive(Clone, Copy)]
struct Product {
    rows: usize,
    inner: usize,
    cols: usize,
    panel: usize,
    lhs_stride: usize,
    out_stride: usize,
}

/// One register tile: its first rows of a panel of `panel` columns, of which `width` are
/// written.
#[derive(Clone, Copy)]
struct Tile {
    rows: usize,
    inner: usize,
    panel: usize,
    width: usize,
    lhs_stride: usize,
    out_stride: usize,
}

impl Product {
    /// Calls `f(tile, lhs offset, panel, out offset)` for each tile, panel by panel: a panel
    /// stays in L1 while the tiles of all rows stream past it. The rows are split into as few
    /// tiles of at most `R` rows as they need, as even as can be: a short last tile would have
    /// too few accumulators to keep the FMA units busy.
    #[inline(always)]
    fn each_tile<const R: usize>(
        self,
        panels: &[f32],
        mut f: impl FnMut(Tile, usize, &[f32], usize),
    ) {
        let Product { rows, inner, cols, panel: panel_cols, lhs_stride, out_stride } = self;
        let tiles = rows.div_ceil(R);
        let (short, longer) = (rows / tiles, rows % tiles);
        let used = panels.chunks_exact(inner * panel_cols).take(cols.div_ceil(panel_cols));
        for (p, panel) in used.enumerate() {
            let first = p * panel_cols;
            let width = panel_cols.min(cols - first);
            let mut r = 0;
            for t in 0..tiles {
                let tile_rows = short + usize::from(t < longer);
                debug_assert!((1..=R).contains(&tile_rows), "a tile of {tile_rows} rows");
                let tile = Tile {
                    rows: tile_rows,
                    inner,
                    panel: panel_cols,
                    width,
                    lhs_stride,
                    out_stride,
                };
                f(tile, r * lhs_stride, panel, r * out_stride + first);
                r += tile_rows;
            }
        }
    }

    /// For a product of one or two rows, whose tiles would have two or four accumulators, too
    /// few to hide the FMA's latency: calls `f(tile, side_by_side, panel, out offset)` for
    /// groups of 4 (one row) or 2 full panels, which a tile then runs side by side. Returns
    /// what is left: the product of the other columns, their panels and their offset in `out`.
    #[inline(always)]
    fn side_by_side(
        self,
        panels: &[f32],
        mut f: impl FnMut(Tile, usize, &[f32], usize),
    ) -> (Product, &[f32], usize) {
        if self.rows > 2 {
            return (self, panels, 0);
        }
        let Product { rows, inner, cols, panel, lhs_stride, out_stride } = self;
        let (full, panel_len) = (cols / panel, inner * panel);
        let tile = Tile { rows, inner, panel, width: panel, lhs_stride, out_stride };
        let mut done = 0;
        while full - done >= 2 {
            let side_by_side = if rows == 1 && full - done >= 4 { 4 } else { 2 };
            f(tile, side_by_side, &panels[done * panel_len..], done * panel);
            done += side_by_side;
        }
        let rest = Product { cols: cols - done * panel, ..self };
        (rest, &panels[done * panel_len..], done * panel)
    }
}

/// Calls `$tile::<R>($args)` with `R` the one of `$r` equal to `$rows`, else `$last`.
macro_rules! for_rows {
    ($rows:expr, $tile:ident $args:tt, [$($r:literal)*], $last:expr) => {
        match $rows {
            $($r => $tile::<$r> $args,)*
            _ => $tile::<{ $last }> $args,
        }
    };
}

/// A tile on the portable path: the products one after the other, unfused.
fn tile_portable(tile: Tile, lhs: &[f32], panel: &[f32], out: &mut [f32]) {
    let mut acc = [[0.0f32; WIDE_PANEL]; TILE_ROWS];
    for (r, acc) in acc.iter_mut().enumerate().take(tile.rows) {
        let acc = &mut acc[..tile.panel];
        acc[..tile.width].copy_from_slice(&out[r * tile.out_stride..][..tile.width]);
        let a = &lhs[r * tile.lhs_stride..][..tile.inner];
        for (&x, b) in a.iter().zip(panel.chunks_exact(tile.panel)) {
            acc.iter_mut().zip(b).for_each(|(acc, &b)| *acc += x * b);
        }
        out[r * tile.out_stride..][..tile.width].copy_from_slice(&acc[..tile.width]);
    }
}

/// Defines, for a SIMD path (its target features, its panel's columns, the lanes of a register
/// and the register's intrinsics), `side_by_side`, which runs the full panels of a product of
/// one or two rows side by side ([`Product::side_by_side`]) and returns the rest; and its tile
/// `side_by_side_fma::<R, P>`: `R` rows of `P` full panels, each row's values in the same order
/// as in the path's one-panel tile.
macro_rules! side_by_side_tile {
    ($features:literal, $panel:ident, $lanes:literal, $zero:ident, $load:ident, $store:ident,
     $splat:ident, $fma:ident) => {
        /// Runs the product's full panels side by side when it has one or two rows; returns
        /// the product of the other columns, their panels and where they start in `out`.
        ///
        /// # Safety
        /// As `panels`.
        #[target_feature(enable = $features)]
        unsafe fn side_by_side(
            product: Product,
            lhs: *const f32,
            panels: &[f32],
            out: *mut f32,
        ) -> (Product, &[f32], *mut f32) {
            let (rest, panels, first) = product.side_by_side(panels, |tile, count, panel, at| {
                let (p, o) = (panel.as_ptr(), out.add(at));
                match (tile.rows, count) {
                    (1, 4) => side_by_side_fma::<1, 4>(tile, lhs, p, o),
                    (1, _) => side_by_side_fma::<1, 2>(tile, lhs, p, o),
                    _ => side_by_side_fma::<2, 2>(tile, lhs, p, o),
                }
            });
            (rest, panels, out.add(first))
        }

        /// A tile of `R` rows of `P` full panels side by side.
        ///
        /// # Safety
        /// As `panels`, for the tile's rows and `P` full panels from `panel` on.
        #[target_feature(enable = $features)]
        unsafe fn side_by_side_fma<const R: usize, const P: usize>(
            tile: Tile,
            lhs: *const f32,
            panel: *const f32,
            out: *mut f32,
        ) {
            debug_assert_eq!((tile.rows, tile.panel, tile.width), (R, $panel, $panel));
            let panel_len = tile.inner * $panel;
            let column = |r: usize, q: usize| out.add(r * tile.out_stride + q * $panel);
            let (mut low, mut high) = ([[$zero(); P]; R], [[$zero(); P]; R]);
            for r in 0..R {
                for q in 0..P {
                    low[r][q] = $load(column(r, q));
                    high[r][q] = $load(column(r, q).add($lanes));
                }
            }
            // As in the one-panel tile: one pointer per row, which the compiler must not
            // re-derive.
            let a_rows: [*const f32; R] = std::array::from_fn(|r| lhs.add(r * tile.lhs_stride));
            let a_rows = std::ptr::read_volatile(&a_rows);
            for k in 0..tile.inner {
                let mut a = [$zero(); R];
                for r in 0..R {
                    a[r] = $splat(*a_rows[r].add(k));
                }
                for q in 0..P {
                    let b = panel.add(q * panel_len + k * $panel);
                    let (b_low, b_high) = ($load(b), $load(b.add($lanes)));
                    for r in 0..R {
                        low[r][q] = $fma(a[r], b_low, low[r][q]);
                        high[r][q] = $fma(a[r], b_high, high[r][q]);
                    }
                }
            }
            for r in 0..R {
                for q in 0..P {
                    $store(column(r, q), low[r][q]);
                    $store(column(r, q).add($lanes), high[r][q]);
                }
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{Product, Tile, PANEL, TILE_ROWS};
    use std::arch::x86_64::*;

    /// [`add_matmul_packed`](super::add_matmul_packed) with AVX2 + FMA: each tile's `R` rows
    /// of 16 columns in 2·`R` registers while the panel streams past.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA; `lhs` and `out` hold the product's rows at their strides and
    /// `panels` its panels of [`PANEL`] columns.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn panels(product: Product, lhs: &[f32], panels: &[f32], out: &mut [f32]) {
        let (lhs, out) = (lhs.as_ptr(), out.as_mut_ptr());
        let (product, panels, out) = side_by_side(product, lhs, panels, out);
        product.each_tile::<TILE_ROWS>(panels, |tile, lhs_at, panel, out_at| {
            let (a, p, o) = (lhs.add(lhs_at), panel.as_ptr(), out.add(out_at));
            for_rows!(tile.rows, tile_fma(tile, a, p, o), [1 2 3 4 5], TILE_ROWS);
        });
    }

    side_by_side_tile!(
        "avx2,fma",
        PANEL,
        8,
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_storeu_ps,
        _mm256_set1_ps,
        _mm256_fmadd_ps
    );

    /// One tile of `R` rows.
    ///
    /// # Safety
    /// As [`panels`], for the tile's rows, panel and columns.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tile_fma<const R: usize>(
        tile: Tile,
        lhs: *const f32,
        panel: *const f32,
        out: *mut f32,
    ) {
        debug_assert_eq!(tile.panel, PANEL);
        // A narrower last panel goes through a full-width copy of its rows.
        let mut edge = [[0.0f32; PANEL]; R];
        let full = tile.width == PANEL;
        let row = |r: usize| out.add(r * tile.out_stride);
        let (mut low, mut high) = ([_mm256_setzero_ps(); R], [_mm256_setzero_ps(); R]);
        for r in 0..R {
            let from = if full {
                row(r).cast_const()
            } else {
                std::ptr::copy_nonoverlapping(row(r), edge[r].as_mut_ptr(), tile.width);
                edge[r].as_ptr()
            };
            low[r] = _mm256_loadu_ps(from);
            high[r] = _mm256_loadu_ps(from.add(8));
        }
        // One pointer per row, indexed by k. Read back through a volatile read so that the
        // compiler cannot derive each row's address from the previous one, which it otherwise
        // does with a chain of additions inside the loop: six more instructions per k.
        let a_rows: [*const f32; R] = std::array::from_fn(|r| lhs.add(r * tile.lhs_stride));
        let a_rows = std::ptr::read_volatile(&a_rows);
        for k in 0..tile.inner {
            let b_low = _mm256_loadu_ps(panel.add(k * PANEL));
            let b_high = _mm256_loadu_ps(panel.add(k * PANEL + 8));
            for (r, a_row) in a_rows.iter().enumerate() {
                let a = _mm256_broadcast_ss(&*a_row.add(k));
                low[r] = _mm256_fmadd_ps(a, b_low, low[r]);
                high[r] = _mm256_fmadd_ps(a, b_high, high[r]);
            }
        }
        for r in 0..R {
            let to = if full { row(r) } else { edge[r].as_mut_ptr() };
            _mm256_storeu_ps(to, low[r]);
            _mm256_storeu_ps(to.add(8), high[r]);
            if !full {
                std::ptr::copy_nonoverlapping(edge[r].as_ptr(), row(r), tile.width);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{Product, Tile, WIDE_PANEL};
    use std::arch::x86_64::*;

    /// Output rows per register tile: 16 accumulators of [`WIDE_PANEL`] columns, twice what
    /// the two FMA pipes' latency needs, with room for the panel's row and a broadcast.
    const TILE_ROWS: usize = 8;

    /// [`add_matmul_packed`](super::add_matmul_packed) with AVX-512: each tile's `R` rows of
    /// 32 columns in 2·`R` registers while the panel streams past.
    ///
    /// # Safety
    /// The CPU has AVX-512 (F); `lhs` and `out` hold the product's rows at their strides and
    /// `panels` its panels of [`WIDE_PANEL`] columns.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn panels(product: Product, lhs: &[f32], panels: &[f32], out: &mut [f32]) {
        let (lhs, out) = (lhs.as_ptr(), out.as_mut_ptr());
        let (product, panels, out) = side_by_side(product, lhs, panels, out);
        product.each_tile::<TILE_ROWS>(panels, |tile, lhs_at, panel, out_at| {
            let (a, p, o) = (lhs.add(lhs_at), panel.as_ptr(), out.add(out_at));
            if tile.width > 16 {
                for_rows!(tile.rows, both_halves(tile, a, p, o), [1 2 3 4 5 6 7], TILE_ROWS);
            } else {
                for_rows!(tile.rows, low_half(tile, a, p, o), [1 2 3 4 5 6 7], TILE_ROWS);
            }
        });
    }

    /// A tile of a panel's 32 columns, or of its last 17 to 32.
    ///
    /// # Safety
    /// As [`tile_fma`].
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn both_halves<const R: usize>(t: Tile, a: *const f32, p: *const f32, o: *mut f32) {
        tile_fma::<R, true>(t, a, p, o);
    }

    /// A tile of a last panel's 1 to 16 columns: the high half's products, all zeros, are
    /// skipped (a layer of 200 units ends each gate on 8 columns).
    ///
    /// # Safety
    /// As [`tile_fma`].
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn low_half<const R: usize>(t: Tile, a: *const f32, p: *const f32, o: *mut f32) {
        tile_fma::<R, false>(t, a, p, o);
    }

    side_by_side_tile!(
        "avx512f,avx2,fma",
        WIDE_PANEL,
        16,
        _mm512_setzero_ps,
        _mm512_loadu_ps,
        _mm512_storeu_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps
    );

    /// One tile of `R` rows, with the panel's high 16 columns when `HIGH`; a narrower last
    /// panel is read and written through masks.
    ///
    /// # Safety
    /// As [`panels`], for the tile's rows, panel and columns.
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn tile_fma<const R: usize, const HIGH: bool>(
        tile: Tile,
        lhs: *const f32,
        panel: *const f32,
        out: *mut f32,
    ) {
        debug_assert_eq!(tile.panel, WIDE_PANEL);
        let columns = |n: usize| ((1u32 << n) - 1) as __mmask16;
        let (low_mask, high_mask) = (columns(tile.width.min(16)), columns(tile.width.max(16) - 16));
        let row = |r: usize| out.add(r * tile.out_stride);
        let (mut low, mut high) = ([_mm512_setzero_ps(); R], [_mm512_setzero_ps(); R]);
        for r in 0..R {
            low[r] = _mm512_maskz_loadu_ps(low_mask, row(r));
            if HIGH {
                // The high half of a narrow panel's row may lie past the slice: no lane is read.
                high[r] = _mm512_maskz_loadu_ps(high_mask, row(r).wrapping_add(16));
            }
        }
        // As on the AVX2 path: one pointer per row, which the compiler must not re-derive.
        let a_rows: [*const f32; R] = std::array::from_fn(|r| lhs.add(r * tile.lhs_stride));
        let a_rows = std::ptr::read_volatile(&a_rows);
        for k in 0..tile.inner {
            let b_low = _mm512_loadu_ps(panel.add(k * WIDE_PANEL));
            let b_high = if HIGH { _mm512_loadu_ps(panel.add(k * WIDE_PANEL + 16)) } else { b_low };
            for (r, a_row) in a_rows.iter().enumerate() {
                let a = _mm512_set1_ps(*a_row.add(k));
                low[r] = _mm512_fmadd_ps(a, b_low, low[r]);
                if HIGH {
                    high[r] = _mm512_fmadd_ps(a, b_high, high[r]);
                }
            }
        }
        for r in 0..R {
            _mm512_mask_storeu_ps(row(r), low_mask, low[r]);
            if HIGH {
                _mm512_mask_storeu_ps(row(r).wrapping_add(16), high_mask, high[r]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::close;
    use super::*;

    /// Every width up to 70 and wider layers' widths, with row counts on both sides of a
    /// register tile's, against the naive product; the layout reads back, also where it is
    /// laid out in parallel.
    #[test]
    fn add_matmul_packed_matches_naive_product_at_every_width() {
        isa::each(|| {
            for cols in (1..=70).chain([96, 100, 128, 200, 256]) {
                for rows in [1, 2, 3, 4, 5, 6, 7, 9, 12, 13, 16, 17, 25] {
                    check(rows, 7, cols);
                }
            }
            // Right-hand sides laid out in parallel, in panels and in a hand-written width.
            check(3, 300, 250);
            check(3, 1100, 64);
        });
    }

    /// Every layout starts on a cache line, whatever its size.
    #[test]
    fn layouts_start_on_a_cache_line() {
        for (inner, cols) in [(1, 1), (3, 20), (7, 64), (11, 100), (300, 250)] {
            let rhs = vec![1.0; inner * cols];
            let packed = PackedRhs::new(&rhs, inner, cols, cols);
            assert_eq!(packed.values.as_ptr() as usize % CACHE_LINE, 0, "{inner}x{cols}");
        }
    }

    /// A layout made for the best path, read by a product capped to another (the portable
    /// path then reads the panels, of either width), gives the product.
    #[test]
    fn layouts_made_for_another_path_read_correctly() {
        for path in [Isa::Avx2, Isa::Portable] {
            for cols in [20, 50, 64, 100] {
                check_on(9, 11, cols, path);
            }
        }
    }

    /// Each row's result is its value plus the products in order, whatever rows surround it;
    /// on the portable path the products one after the other, unfused: bit for bit.
    #[test]
    fn rows_do_not_depend_on_their_neighbours() {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        isa::each(|| {
            for cols in [8, 32, 40, 100, 128, 200] {
                let (rows, inner) = (13, 11);
                let lhs: Vec<f32> = (0..rows * inner).map(|i| (i as f32).sin()).collect();
                let rhs: Vec<f32> = (0..inner * cols).map(|i| (i as f32 * 0.7).cos()).collect();
                let packed = PackedRhs::new(&rhs, inner, cols, cols);
                let mut together = vec![0.25f32; rows * cols];
                add_matmul_packed(rows, &lhs, inner, &packed, &mut together, cols);
                for r in 0..rows {
                    let mut alone = vec![0.25f32; cols];
                    add_matmul_packed(1, &lhs[r * inner..], inner, &packed, &mut alone, cols);
                    assert_eq!(bits(&alone), bits(&together[r * cols..][..cols]), "{cols}");
                    if r % 2 == 1 {
                        let mut pair = vec![0.25f32; 2 * cols];
                        let lhs = &lhs[(r - 1) * inner..];
                        add_matmul_packed(2, lhs, inner, &packed, &mut pair, cols);
                        assert_eq!(bits(&pair), bits(&together[(r - 1) * cols..][..2 * cols]));
                    }
                    if isa::best() == Isa::Portable {
                        let in_order: Vec<f32> = (0..cols)
                            .map(|j| {
                                let a = &lhs[r * inner..][..inner];
                                (0..inner).fold(0.25f32, |acc, k| a[k] * rhs[k * cols + j] + acc)
                            })
                            .collect();
                        assert_eq!(bits(&alone), bits(&in_order), "{cols}");
                    }
                }
            }
        });
    }

    /// A product computed as two column ranges split at the middle column gives the whole
    /// product's bits, on every path and on both sides of the side-by-side tiles' rows.
    #[test]
    fn column_halves_give_the_whole_products_bits() {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        isa::each(|| {
            for cols in [8, 40, 64, 100, 128, 200, 256] {
                for rows in [1, 2, 3] {
                    let inner = 13;
                    let lhs: Vec<f32> = (0..rows * inner).map(|i| (i as f32).sin()).collect();
                    let rhs: Vec<f32> = (0..inner * cols).map(|i| (i as f32 * 0.3).cos()).collect();
                    let packed = PackedRhs::new(&rhs, inner, cols, cols);
                    let mut whole = vec![0.5f32; rows * cols];
                    add_matmul_packed(rows, &lhs, inner, &packed, &mut whole, cols);
                    let middle = packed.middle_column();
                    assert!(middle > 0 && middle <= cols);
                    let mut halves = vec![0.5f32; rows * cols];
                    for columns in [0..middle, middle..cols] {
                        let out = &mut halves[columns.start..];
                        add_matmul_packed_columns(rows, &lhs, inner, &packed, columns, out, cols);
                    }
                    assert_eq!(bits(&halves), bits(&whole), "{rows} x {cols}");
                }
            }
        });
    }

    fn check(rows: usize, inner: usize, cols: usize) {
        check_on(rows, inner, cols, isa::best());
    }

    /// Lays out a right-hand side on the current path, then checks the product run on `path`
    /// (no better than the current one) against the naive product.
    fn check_on(rows: usize, inner: usize, cols: usize, path: Isa) {
        let (lhs_stride, out_stride, rhs_stride) = (inner + 2, cols + 3, cols + 1);
        let lhs: Vec<f32> = (0..rows * lhs_stride).map(|i| (i % 13) as f32 * 0.1 - 0.6).collect();
        let rhs: Vec<f32> =
            (0..inner * rhs_stride).map(|i| ((i % 17) as f32 - 7.0) * 0.05).collect();
        let packed = PackedRhs::new(&rhs, inner, cols, rhs_stride);
        let dense: Vec<f32> =
            rhs.chunks_exact(rhs_stride).flat_map(|row| row[..cols].to_vec()).collect();
        assert_eq!(packed.unpacked(), dense, "{cols} columns read back");
        let mut out: Vec<f32> = (0..rows * out_stride).map(|i| (i % 5) as f32 * 0.3).collect();
        let before = out.clone();
        isa::capped(path, || {
            add_matmul_packed(rows, &lhs, lhs_stride, &packed, &mut out, out_stride);
        });
        for r in 0..rows {
            for j in 0..cols {
                let expected: f64 = f64::from(before[r * out_stride + j])
                    + (0..inner)
                        .map(|k| {
                            f64::from(lhs[r * lhs_stride + k]) * f64::from(rhs[k * rhs_stride + j])
                        })
                        .sum::<f64>();
                assert!(close(out[r * out_stride + j], expected), "{path:?}: {rows}x{cols}");
            }
            if r + 1 < rows {
                let gap = r * out_stride + cols..(r + 1) * out_stride;
                assert_eq!(out[gap.clone()], before[gap], "{rows}x{cols}: outside the output");
            }
        }
    }
}
