//! Fuzz target `imdb_archive`: see `rnnkit_fuzz::imdb_archive`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rnnkit_fuzz::imdb_archive(data));
