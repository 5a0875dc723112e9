//! Hostile input: whatever a user passes to a public entry point, rnnkit returns `Ok` or an `Err`
//! whose message says what was wrong; it never panics, aborts or hangs.
//!
//! Properties by topic live in `tests/properties/`: the layers through the `Layer` trait, the
//! `Sequential` model, the text tools, the IMDB reader, the weights file, and a replay of the
//! fuzz targets' bodies (`fuzz/src/lib.rs`) over seeds and random bytes. A panic inside a
//! property is a failure that proptest shrinks to a minimal input.
//!
//! Each property runs a fixed number of cases from a fixed seed, so the suite is repeatable; a
//! deeper search is one environment variable away:
//! `PROPTEST_CASES=20000 PROPTEST_RNG_SEED=7 cargo test --release --test properties`.
//! Failures are not persisted to files: each bug found is kept as a named regression test.

#[path = "properties/embedding.rs"]
mod embedding;
#[path = "properties/imdb.rs"]
mod imdb;
#[path = "properties/layers.rs"]
mod layers;
#[path = "properties/model.rs"]
mod model;
#[path = "properties/replay.rs"]
mod replay;
#[path = "properties/text.rs"]
mod text;
#[path = "properties/weights.rs"]
mod weights;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestCaseError};
use rnnkit::Error;

/// The seed of every property unless `PROPTEST_RNG_SEED` is set.
const SEED: u64 = 0x726e_6e6b_6974;

/// `cases` cases from the fixed seed, unless `PROPTEST_CASES` / `PROPTEST_RNG_SEED` say
/// otherwise; no failure files.
pub fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(SEED);
    }
    // Some properties skip the inputs they cannot use; allow that at any case count.
    config.max_global_rejects = config.max_global_rejects.max(4 * config.cases);
    config.failure_persistence = None;
    config
}

/// The error's message is not empty and mentions every one of `facts`.
pub fn check_message<S: AsRef<str>>(error: &Error, facts: &[S]) -> Result<(), TestCaseError> {
    let message = error.to_string();
    prop_assert!(!message.trim().is_empty(), "empty message for {:?}", error);
    for fact in facts {
        let fact = fact.as_ref();
        prop_assert!(message.contains(fact), "message {:?} does not mention {:?}", message, fact);
    }
    Ok(())
}

/// A per-sample shape as rnnkit's messages print it: `(None, 500, 32)`.
pub fn keras_shape(sample_shape: &[usize]) -> String {
    let dims: String = sample_shape.iter().map(|d| format!(", {d}")).collect();
    format!("(None{dims})")
}

/// A concrete array shape as rnnkit's messages print it: `(32, 500)`, `(7,)`.
pub fn array_shape(shape: &[usize]) -> String {
    match shape {
        [single] => format!("({single},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// Values that break naive code: NaN, infinities, signed zero, extremes, fractions, integers
/// past f32's exact range; mixed with small integers (valid ids) and ordinary floats.
pub fn hostile_f32() -> impl Strategy<Value = f32> {
    let special = prop::sample::select(vec![
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
        0.5,
        -1.0,
        1e30,
        -1e30,
        f32::MAX,
        f32::MIN,
        f32::MIN_POSITIVE,
        16_777_217.0,
    ]);
    prop_oneof![4 => (0u8..6).prop_map(f32::from), 2 => -3.0f32..8.0, 1 => special]
}

/// A small per-sample shape: rank 0 to 3, each axis 0 to 3 long.
pub fn small_shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..4, 0..4)
}

/// An array of `shape` filled by cycling through `values` (which must not be empty).
pub fn filled(shape: &[usize], values: &[f32]) -> ArrayD<f32> {
    let len: usize = shape.iter().product();
    let data: Vec<f32> = (0..len).map(|k| values[k % values.len()]).collect();
    ArrayD::from_shape_vec(IxDyn(shape), data).expect("the data has the shape's length")
}

/// A folder under the system's temp folder, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir()
            .join(format!("rnnkit-properties-{}-{name}-{unique}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("the temp folder is writable");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
