//! The bodies of rnnkit's fuzz targets, shared by the cargo-fuzz targets in `fuzz/fuzz_targets/`
//! and by the stable replay in `tests/properties/replay.rs`, which runs them over seeds and
//! random bytes.
//!
//! A body panics only when rnnkit breaks its contract with hostile input: a panic inside rnnkit,
//! an error with an empty message or one that does not name the file, weights changed by a
//! refused load, or a result that breaks its own invariants.
//!
//! Run one target (nightly toolchain, `cargo install cargo-fuzz`), from `fuzz/`:
//! `cargo +nightly fuzz run imdb_archive corpus/imdb_archive seeds/imdb_archive -- -max_total_time=120`.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use rnnkit::datasets::imdb;
use rnnkit::prelude::*;
use rnnkit::text::{pad_sequences, Padding, Tokenizer, Truncating};

/// A file in the temp folder private to this process and thread, rewritten by each run.
fn scratch_file(name: &str) -> PathBuf {
    let thread = format!("{:?}", std::thread::current().id());
    let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
    std::env::temp_dir().join(format!("rnnkit-fuzz-{}-{thread}-{name}", std::process::id()))
}

/// `data` as a `.tar.gz` file given to `imdb::load`: a well-formed dataset, or an error that
/// names the file.
pub fn imdb_archive(data: &[u8]) {
    let path = scratch_file("aclImdb_v1.tar.gz");
    fs::write(&path, data).expect("the temp folder is writable");
    match imdb::load(Some(&path)) {
        Ok(dataset) => {
            for split in [&dataset.train, &dataset.test] {
                assert!(!split.is_empty(), "a loaded split is empty");
                assert_eq!(split.texts.len(), split.labels.len());
                assert_eq!(split.texts.len(), split.ratings.len());
                assert!(split.labels.windows(2).all(|w| w[0] <= w[1]), "labels out of order");
                assert!(split.ratings.iter().all(|r| (1..=10).contains(r)), "rating out of range");
            }
        }
        Err(error) => {
            let message = error.to_string();
            assert!(message.contains(&path.display().to_string()), "{message:?} names no file");
        }
    }
}

/// The model whose weights `weights_reader` loads: Embedding(7, 3, input_length 4) →
/// SimpleRnn(2) → Dense(1, sigmoid), built.
pub fn weights_model(seed: u64) -> Sequential {
    let mut model = Sequential::new().seed(seed);
    model.add(Embedding::new(7, 3).input_length(4));
    model.add(SimpleRnn::new(2));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    model
}

/// `data` as a weights file given to `load_weights`: loads, or is refused naming the file with
/// the weights unchanged.
pub fn weights_reader(data: &[u8]) {
    let path = scratch_file("weights.safetensors");
    fs::write(&path, data).expect("the temp folder is writable");
    let mut model = weights_model(2);
    let before = model.get_weights();
    match model.load_weights(&path) {
        Ok(()) => {
            let after = model.get_weights();
            assert!(after.iter().zip(&before).all(|(a, b)| a.shape() == b.shape()));
        }
        Err(error) => {
            let message = error.to_string();
            assert!(message.contains(&path.display().to_string()), "{message:?} names no file");
            assert_eq!(model.get_weights(), before, "a refused load changed the weights");
        }
    }
}

/// `data` as settings and texts: byte 0 holds flags, byte 1 `num_words`, bytes 2–3 `maxlen`;
/// the rest, read as UTF-8 (lossy), holds texts separated by U+001E, the first two being the
/// filters and the split character when flag 2 is set. Fits, maps and pads, and checks that
/// every id is known, below `num_words` or the `oov_token`'s, and padded as asked.
pub fn tokenizer(data: &[u8]) {
    let [flags, words, low, high, rest @ ..] = data else { return };
    let text = String::from_utf8_lossy(rest);
    let mut texts: Vec<&str> = text.split('\u{1e}').collect();
    let mut tokenizer = Tokenizer::new().lower(flags & 1 != 0);
    if flags & 2 != 0 && texts.len() >= 2 {
        let split = texts[1].chars().next().unwrap_or(' ');
        tokenizer = tokenizer.filters(texts[0]).split(split);
        texts.drain(..2);
    }
    let oov = (flags & 4 != 0).then_some("<oov>");
    let num_words = match words % 4 {
        0 => None,
        1 => Some(usize::from(words / 4)),
        2 => Some(usize::MAX),
        _ => Some(1),
    };
    tokenizer = tokenizer.oov_token(oov).num_words(num_words);
    tokenizer.fit_on_texts(&texts);
    let sequences = tokenizer.texts_to_sequences(&texts);
    assert_eq!(sequences.len(), texts.len());
    let index = tokenizer.word_index();
    let oov_id = oov.and_then(|token| index.get(token));
    let limit = num_words.filter(|&n| n > 0);
    for &id in sequences.iter().flatten() {
        assert!(index.word(id).is_some(), "id {id} has no word");
        assert!(
            Some(id) == oov_id || limit.is_none_or(|n| (id as usize) < n),
            "id {id} is not below num_words {num_words:?}"
        );
    }
    let maxlen = (flags & 8 == 0).then_some(usize::from(u16::from_le_bytes([*low, *high])));
    let padding = if flags & 16 != 0 { Padding::Post } else { Padding::Pre };
    let truncating = if flags & 32 != 0 { Truncating::Post } else { Truncating::Pre };
    match pad_sequences(&sequences, maxlen, padding, truncating, -1.0) {
        Ok(padded) => {
            let longest = sequences.iter().map(Vec::len).max().unwrap_or(0);
            assert_eq!(padded.dim(), (sequences.len(), maxlen.unwrap_or(longest)));
            let fill = padded.iter().filter(|&&v| v == -1.0).count();
            let ids: usize = sequences.iter().map(|s| s.len().min(padded.ncols())).sum();
            assert_eq!(fill + ids, padded.len(), "padding and ids do not fill the array");
        }
        Err(error) => assert!(
            maxlen == Some(0) && error.to_string().contains("maxlen"),
            "pad_sequences refused maxlen {maxlen:?}: {error}"
        ),
    }
}

/// Seed inputs for `target`: a valid miniature archive, a valid weights file, settings and
/// texts for the tokenizer.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    match target {
        "imdb_archive" => vec![miniature_archive()],
        "weights_reader" => {
            let path = scratch_file("seed.safetensors");
            weights_model(1).save_weights(&path).expect("a built model saves");
            vec![fs::read(&path).expect("just written")]
        }
        "tokenizer" => vec![
            b"\x01\x29\x05\x00The cat sat.\x1eThe cat ran; the dog sat!".to_vec(),
            "\x07\x00\x03\x00,.\x1e;\x1eΣίσυφος; ΟΔΟΣ; straße\x1eİstanbul".as_bytes().to_vec(),
            b"\x38\x02\x00\x00a b c\x1e\x1ea a a a".to_vec(),
        ],
        _ => Vec::new(),
    }
}

/// One review in each group of the IMDB layout, plus members to skip.
fn miniature_archive() -> Vec<u8> {
    let members = [
        ("aclImdb/train/neg/1_2.txt", "Dull."),
        ("aclImdb/train/pos/2_9.txt", "Great!"),
        ("aclImdb/train/unsup/0_0.txt", "Skipped."),
        ("aclImdb/test/neg/3_1.txt", "Awful.<br />Really."),
        ("aclImdb/test/pos/4_10.txt", "Fine."),
        ("aclImdb/README", "readme"),
    ];
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    for (path, text) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, text.as_bytes()).expect("in memory");
    }
    let mut gz = builder.into_inner().expect("in memory");
    gz.flush().expect("in memory");
    gz.finish().expect("in memory")
}
