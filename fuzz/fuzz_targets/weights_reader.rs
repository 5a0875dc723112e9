//! Fuzz target `weights_reader`: see `rnnkit_fuzz::weights_reader`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rnnkit_fuzz::weights_reader(data));
