//! The fuzz targets' bodies (`fuzz/src/lib.rs`) on the stable toolchain: over their seeds (the
//! generated ones and the files in `fuzz/seeds/<target>/`), every cut and many flips of the
//! binary seeds, any corpus a fuzzing run left in `fuzz/corpus/<target>/`, and random bytes.

#[path = "../../fuzz/src/lib.rs"]
mod bodies;

use super::config;
use proptest::prelude::*;
use std::fs;
use std::path::Path;

/// A fuzz target's body.
type Body = fn(&[u8]);

const TARGETS: [(&str, Body); 3] = [
    ("imdb_archive", bodies::imdb_archive),
    ("weights_reader", bodies::weights_reader),
    ("tokenizer", bodies::tokenizer),
];

/// The files of `folder`, if it exists.
fn files_in(folder: &Path) -> Vec<Vec<u8>> {
    let Ok(listing) = fs::read_dir(folder) else { return Vec::new() };
    listing.flatten().filter_map(|entry| fs::read(entry.path()).ok()).collect()
}

/// The fuzz crate's folder `kind/target` (`seeds` committed, `corpus` left by a fuzzing run).
fn fuzz_files(kind: &str, target: &str) -> Vec<Vec<u8>> {
    files_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(kind).join(target))
}

/// Seeds of `target`: generated and committed.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let mut seeds = bodies::seeds(target);
    for file in fuzz_files("seeds", target) {
        if !seeds.contains(&file) {
            seeds.push(file);
        }
    }
    seeds
}

/// Each body on each seed, each seed cut at every length, each byte of each seed flipped, and
/// each input of a local fuzzing corpus (`fuzz/corpus/<target>/`, not committed) as it is.
#[test]
fn fuzz_bodies_take_their_seeds_cut_and_flipped() {
    for (target, body) in TARGETS {
        for input in fuzz_files("corpus", target) {
            body(&input);
        }
        let seeds = seeds(target);
        assert!(!seeds.is_empty(), "no seeds for {target}");
        for seed in seeds.iter().filter(|seed| seed.len() <= 4096) {
            body(seed);
            for cut in 0..seed.len() {
                body(&seed[..cut]);
            }
            for at in 0..seed.len() {
                let mut flipped = seed.clone();
                flipped[at] ^= 0x5a;
                body(&flipped);
            }
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Each body on random bytes, and on a seed with random bytes written over it.
    #[test]
    fn fuzz_bodies_take_random_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        target in 0usize..3,
        splice in any::<prop::sample::Index>(),
    ) {
        let (name, body) = TARGETS[target];
        body(&bytes);
        if let Some(seed) = bodies::seeds(name).first() {
            let at = splice.index(seed.len());
            let mut spliced = seed.clone();
            let end = (at + bytes.len()).min(seed.len());
            spliced[at..end].copy_from_slice(&bytes[..end - at]);
            body(&spliced);
        }
    }
}
