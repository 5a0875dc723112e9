//! Fuzz target `tokenizer`: see `rnnkit_fuzz::tokenizer`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rnnkit_fuzz::tokenizer(data));
