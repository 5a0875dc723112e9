//! `WordVectors`: GloVe and word2vec text files the tests write, the embedding matrix for a
//! fitted `Tokenizer`, its coverage, and an error (never a panic) for each kind of bad file.

use std::path::PathBuf;

use ndarray::{array, Array2};
use rnnkit::prelude::*;
use rnnkit::text::{Tokenizer, VectorFormat, WordVectors};
use rnnkit::Error;

/// A file in a folder of its own under the system's temporary folder, removed on drop.
struct TempFile {
    folder: PathBuf,
    path: PathBuf,
}

impl TempFile {
    fn new(test: &str, contents: &[u8]) -> TempFile {
        let folder =
            std::env::temp_dir().join(format!("rnnkit-word-vectors-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join("vectors.txt");
        std::fs::write(&path, contents).unwrap();
        TempFile { folder, path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

const GLOVE: &str = "the 0.1 0.2 0.3\nmovie -1.5 2.0 0.25\ngreat 1e-3 -4E2 7\n";

fn fitted_tokenizer(num_words: usize) -> Tokenizer {
    let mut tokenizer = Tokenizer::new().num_words(num_words);
    // Ids by count: the 1, movie 2, great 3, zebra 4, dull 5.
    tokenizer.fit_on_texts(["the movie the great movie the", "great zebra dull zebra"]);
    tokenizer
}

fn read_error(test: &str, contents: &str, format: VectorFormat) -> (String, PathBuf) {
    let file = TempFile::new(test, contents.as_bytes());
    let error = WordVectors::read(&file.path, format).unwrap_err();
    let Error::Data { path, .. } = &error else {
        panic!("{test}: expected Error::Data, got {error:?}")
    };
    assert_eq!(path, &file.path, "{test}: the error names the file");
    (error.to_string(), file.path.clone())
}

#[test]
fn reads_glove_and_builds_the_matrix_for_the_tokenizer() {
    let file = TempFile::new("glove", GLOVE.as_bytes());
    let vectors = WordVectors::read(&file.path, VectorFormat::Glove).unwrap();
    assert_eq!((vectors.len(), vectors.dim()), (3, 3));
    assert_eq!(vectors.get("great"), Some(&[1e-3, -400.0, 7.0][..]));
    assert_eq!(vectors.get("Great"), None);

    let tokenizer = fitted_tokenizer(5);
    let (matrix, coverage) = vectors.embedding_matrix(&tokenizer, 5).unwrap();
    let expected: Array2<f32> = array![
        [0.0, 0.0, 0.0],
        [0.1, 0.2, 0.3],
        [-1.5, 2.0, 0.25],
        [1e-3, -400.0, 7.0],
        [0.0, 0.0, 0.0],
    ];
    assert_eq!(matrix, expected);
    // Ids 1-4 have rows; "dull" (id 5) is past input_dim.
    assert_eq!((coverage.words, coverage.found), (4, 3));
    assert_eq!(coverage.missing, ["zebra"]);
    assert_eq!(coverage.to_string(), "found vectors for 3 of 4 words (75.0%)");
}

#[test]
fn reads_word2vec_text_with_its_header() {
    let text = "3 2\r\nthe 1 2\r\nmovie 3 4 \r\n\r\nzebra 5 6\r\n";
    let file = TempFile::new("word2vec", text.as_bytes());
    let vectors = WordVectors::read(&file.path, VectorFormat::Word2VecText).unwrap();
    assert_eq!((vectors.len(), vectors.dim()), (3, 2));
    let (matrix, coverage) = vectors.embedding_matrix(&fitted_tokenizer(10), 7).unwrap();
    assert_eq!(matrix.dim(), (7, 2));
    assert_eq!(matrix.row(4).to_vec(), [5.0, 6.0]);
    assert_eq!(matrix.row(6).to_vec(), [0.0, 0.0]);
    assert_eq!((coverage.words, coverage.found), (5, 3));
    assert_eq!(coverage.missing, ["great", "dull"]);
}

#[test]
fn the_oov_token_has_a_zero_row_unless_the_file_has_it() {
    let mut tokenizer = Tokenizer::new().oov_token("<unk>");
    tokenizer.fit_on_texts(["the movie"]);
    let vectors =
        WordVectors::from_reader("the 1 1\nmovie 2 2\n".as_bytes(), VectorFormat::Glove).unwrap();
    let (matrix, coverage) = vectors.embedding_matrix(&tokenizer, 4).unwrap();
    assert_eq!(matrix, array![[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]);
    assert_eq!(coverage.missing, ["<unk>"]);
}

#[test]
fn later_duplicates_win_and_words_may_contain_spaces() {
    let text = "a 1 2\n. . . 3 4\na 5 6\n";
    let vectors = WordVectors::from_reader(text.as_bytes(), VectorFormat::Glove).unwrap();
    assert_eq!(vectors.len(), 2);
    assert_eq!(vectors.get("a"), Some(&[5.0, 6.0][..]));
    assert_eq!(vectors.get(". . ."), Some(&[3.0, 4.0][..]));
}

#[test]
fn unicode_words_and_a_byte_order_mark() {
    let text = "\u{feff}café 1 2\nλόγος 3 4\n";
    let vectors = WordVectors::from_reader(text.as_bytes(), VectorFormat::Glove).unwrap();
    assert_eq!(vectors.get("café"), Some(&[1.0, 2.0][..]));
    assert_eq!(vectors.get("λόγος"), Some(&[3.0, 4.0][..]));
}

#[test]
fn ragged_vectors_are_errors_naming_the_line() {
    let (message, _) = read_error("ragged-short", "a 1 2 3\nb 1 2\n", VectorFormat::Glove);
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("has 2 values, expected 3 (the dimension of line 1)"), "{message}");
    let (message, _) = read_error("ragged-long", "a 1 2\nb 1 2 3\n", VectorFormat::Glove);
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("has 3 values, expected 2"), "{message}");
    let text = "2 3\na 1 2 3\nb 1 2\n";
    let (message, _) = read_error("ragged-w2v", text, VectorFormat::Word2VecText);
    assert!(message.contains("line 3") && message.contains("in the header"), "{message}");
}

#[test]
fn non_numbers_are_errors_naming_the_line_and_value() {
    let (message, _) = read_error("nan-word", "a 1 2\nb 1 x\n", VectorFormat::Glove);
    assert!(
        message.contains("line 2: value 2 of `b` is `x`; expected a finite number"),
        "{message}"
    );
    let (message, _) = read_error("inf", "a 1 inf\n", VectorFormat::Glove);
    assert!(message.contains("line 1") && message.contains("`inf`"), "{message}");
    let (message, _) = read_error("overflow", "a 1 1e39\n", VectorFormat::Glove);
    assert!(message.contains("`1e39`"), "{message}");
    let (message, _) = read_error("no-vector", "a 1\nlonely\n", VectorFormat::Glove);
    assert!(message.contains("line 2") && message.contains("has no vector"), "{message}");
}

#[test]
fn empty_files_are_errors() {
    let (message, _) = read_error("empty", "", VectorFormat::Glove);
    assert!(message.contains("no word vectors"), "{message}");
    let (message, _) = read_error("blank", "\n  \n", VectorFormat::Glove);
    assert!(message.contains("no word vectors"), "{message}");
    let (message, _) = read_error("header-only", "0 5\n", VectorFormat::Word2VecText);
    assert!(message.contains("no word vectors"), "{message}");
}

#[test]
fn word2vec_headers_and_counts_are_checked() {
    let (message, _) = read_error("no-header", "the 1 2\n", VectorFormat::Word2VecText);
    assert!(message.contains("line 1") && message.contains("count dim"), "{message}");
    let (message, _) = read_error("bad-header", "3 x\n", VectorFormat::Word2VecText);
    assert!(message.contains("line 1"), "{message}");
    let (message, _) = read_error("zero-dim", "3 0\n", VectorFormat::Word2VecText);
    assert!(message.contains("line 1"), "{message}");
    let truncated = "3 2\na 1 2\nb 3 4\n";
    let (message, _) = read_error("truncated", truncated, VectorFormat::Word2VecText);
    assert!(message.contains("announces 3 vectors, the file has 2"), "{message}");
    let (message, _) = read_error("too-many", "1 2\na 1 2\nb 3 4\n", VectorFormat::Word2VecText);
    assert!(message.contains("announces 1 vectors, the file has 2"), "{message}");
}

#[test]
fn non_utf8_lines_are_errors_naming_the_line() {
    let file = TempFile::new("latin1", b"a 1 2\ncaf\xe9 3 4\n");
    let error = WordVectors::read(&file.path, VectorFormat::Glove).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("line 2: is not UTF-8"), "{message}");
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let path = std::env::temp_dir().join("rnnkit-no-such-vectors-file.txt");
    let error = WordVectors::read(&path, VectorFormat::Glove).unwrap_err();
    assert!(matches!(&error, Error::Io { path: p, .. } if p == &path), "{error:?}");
}

#[test]
fn input_dim_zero_is_an_error() {
    let vectors = WordVectors::from_reader(GLOVE.as_bytes(), VectorFormat::Glove).unwrap();
    let error = vectors.embedding_matrix(&fitted_tokenizer(5), 0).unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { name, .. } if name == "input_dim"));
    let error = vectors.embedding_matrix(&fitted_tokenizer(5), usize::MAX / 2).unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { name, .. } if name == "input_dim"));
}

#[test]
fn the_matrix_becomes_a_frozen_embeddings_weights() {
    let vectors = WordVectors::from_reader(GLOVE.as_bytes(), VectorFormat::Glove).unwrap();
    let tokenizer = fitted_tokenizer(6);
    let (matrix, _) = vectors.embedding_matrix(&tokenizer, 6).unwrap();
    let mut model = Sequential::new();
    model.add(Embedding::new(6, 3).input_length(4).trainable(false));
    model.add(SimpleRnn::new(2));
    model.add(Dense::new(1).activation(Activation::Sigmoid));
    let mut weights = model.get_weights();
    weights[0] = matrix.clone().into_dyn();
    model.set_weights(weights).unwrap();
    model.compile(Sgd::new(0.5), Loss::BinaryCrossentropy, &[Metric::Accuracy]).unwrap();
    let x = array![[1.0, 2.0, 3.0, 0.0], [4.0, 5.0, 0.0, 0.0]];
    let y = array![[1.0], [0.0]];
    model.train_on_batch(&x, &y).unwrap();
    let after = model.get_weights();
    assert_eq!(after[0], matrix.into_dyn(), "the frozen embeddings did not move");
    assert_eq!(model.summary().unwrap().non_trainable_params(), 18);
}
