//! `Tokenizer`'s `char_level`, `word_docs`, `sequences_to_texts` and matrices against real Keras:
//! `tests/fixtures/keras_text_extras.json` was written by `keras_preprocessing.text.Tokenizer`
//! (`tests/fixtures/generate_text_extras_fixtures.py`).

use std::collections::HashMap;

use rnnkit::text::{MatrixMode, Tokenizer};
use rnnkit::Error;
use serde_json::Value;

fn fixtures() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keras_text_extras.json");
    let text = std::fs::read_to_string(path).expect("keras_text_extras.json is readable");
    serde_json::from_str(&text).expect("keras_text_extras.json is JSON")
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().unwrap().iter().map(|item| item.as_str().unwrap().to_string()).collect()
}

fn ids(value: &Value) -> Vec<Vec<u32>> {
    let rows = value.as_array().unwrap();
    rows.iter()
        .map(|row| row.as_array().unwrap().iter().map(|id| id.as_u64().unwrap() as u32).collect())
        .collect()
}

fn pairs(value: &Value) -> Vec<(String, u64)> {
    let items = value.as_array().unwrap();
    items
        .iter()
        .map(|pair| (pair[0].as_str().unwrap().to_string(), pair[1].as_u64().unwrap()))
        .collect()
}

fn tokenizer_from(config: &Value) -> Tokenizer {
    let mut tokenizer = Tokenizer::new()
        .num_words(config["num_words"].as_u64().map(|n| n as usize))
        .lower(config["lower"].as_bool().unwrap())
        .char_level(config["char_level"].as_bool().unwrap())
        .oov_token(config["oov_token"].as_str());
    if let Some(filters) = config["filters"].as_str() {
        tokenizer = tokenizer.filters(filters);
    }
    let split = config["split"].as_str().unwrap();
    let mut chars = split.chars();
    let (Some(split), None) = (chars.next(), chars.next()) else {
        panic!("the fixtures split on one character, got {split:?}");
    };
    tokenizer.split(split)
}

const MODES: [(&str, MatrixMode); 4] = [
    ("binary", MatrixMode::Binary),
    ("count", MatrixMode::Count),
    ("tfidf", MatrixMode::Tfidf),
    ("freq", MatrixMode::Freq),
];

/// Compares a matrix with Keras' float64 one rounded to `f32`; returns the largest difference
/// from Keras' float64 values.
fn check_matrix(name: &str, got: rnnkit::Result<ndarray::Array2<f32>>, want: &Value) -> f64 {
    if let Some(message) = want.get("error").and_then(Value::as_str) {
        let error = got.expect_err(&format!("{name}: Keras raised {message:?}"));
        assert!(matches!(error, Error::InvalidArgument { .. }), "{name}: {error}");
        // Keras' own message is quoted in ours.
        assert!(error.to_string().contains(message), "{name}: {error} lacks {message:?}");
        return 0.0;
    }
    let got = got.unwrap_or_else(|error| panic!("{name}: {error}"));
    let rows = want.as_array().unwrap();
    let columns = rows.first().map_or(0, |row| row.as_array().unwrap().len());
    assert_eq!(got.dim(), (rows.len(), columns), "{name}: shape");
    let mut largest = 0.0f64;
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.as_array().unwrap().iter().enumerate() {
            let keras = value.as_f64().unwrap();
            assert_eq!(got[[r, c]], keras as f32, "{name}: cell ({r}, {c})");
            largest = largest.max((f64::from(got[[r, c]]) - keras).abs());
        }
    }
    largest
}

/// Fits a tokenizer as the named Keras case did and checks everything Keras recorded; returns the
/// largest difference of its matrices from Keras' float64 values.
fn check_case(name: &str) -> f64 {
    let all = fixtures();
    let case = &all["cases"][name];
    assert!(case.is_object(), "no case {name:?} in the fixtures");
    let mut tokenizer = tokenizer_from(&case["config"]);
    for texts in case["fits"].as_array().unwrap() {
        tokenizer.fit_on_texts(strings(texts));
    }

    let index: HashMap<String, u64> =
        tokenizer.word_index().iter().map(|(word, id)| (word.to_string(), u64::from(id))).collect();
    let expected: HashMap<String, u64> = pairs(&case["word_index"]).into_iter().collect();
    assert_eq!(index, expected, "{name}: word_index");
    let counts: Vec<(String, u64)> =
        tokenizer.word_counts().map(|(word, n)| (word.to_string(), n as u64)).collect();
    assert_eq!(counts, pairs(&case["word_counts"]), "{name}: word_counts");
    let mut docs: Vec<(String, u64)> =
        tokenizer.word_docs().map(|(word, n)| (word.to_string(), n as u64)).collect();
    docs.sort();
    assert_eq!(docs, pairs(&case["word_docs"]), "{name}: word_docs");
    assert_eq!(tokenizer.document_count() as u64, case["document_count"].as_u64().unwrap());

    let texts = strings(&case["texts"]);
    assert_eq!(tokenizer.texts_to_sequences(&texts), ids(&case["sequences"]), "{name}: sequences");
    let id_sequences = ids(&case["id_sequences"]);
    assert_eq!(
        tokenizer.sequences_to_texts(&id_sequences),
        strings(&case["id_texts"]),
        "{name}: sequences_to_texts"
    );

    let mut largest = 0.0f64;
    for (key, mode) in MODES {
        let got = tokenizer.texts_to_matrix(&texts, mode);
        let difference =
            check_matrix(&format!("{name} texts_to_matrix {key}"), got, &case["texts_matrix"][key]);
        largest = largest.max(difference);
        let got = tokenizer.sequences_to_matrix(&id_sequences, mode);
        let want = &case["sequences_matrix"][key];
        let difference = check_matrix(&format!("{name} sequences_to_matrix {key}"), got, want);
        largest = largest.max(difference);
    }
    largest
}

macro_rules! keras_cases {
    ($($test:ident => $case:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                check_case($case);
            }
        )*

        /// Every case in the fixture file has a test above; prints the largest difference of the
        /// matrices from Keras' float64 values (each is Keras' value rounded to `f32`).
        #[test]
        fn every_fixture_case_is_tested() {
            let tested = [$($case),*];
            let all = fixtures();
            let mut largest = 0.0f64;
            for name in all["cases"].as_object().unwrap().keys() {
                assert!(tested.contains(&name.as_str()), "fixture case {name:?} has no test");
                largest = largest.max(check_case(name));
            }
            println!("largest matrix difference from Keras' float64 values: {largest:e}");
            assert!(largest < 1e-6, "{largest}");
        }
    };
}

keras_cases! {
    defaults => "default",
    num_words_5 => "num_words_5",
    oov_token => "oov",
    oov_token_with_num_words => "oov_num_words_5",
    oov_token_that_is_also_a_word => "oov_is_a_word",
    oov_token_that_is_also_a_word_with_num_words => "oov_is_a_word_num_words_3",
    fit_twice_accumulates_word_docs => "fit_twice",
    char_level => "char_level",
    char_level_keeps_case_without_lower => "char_level_lower_false",
    char_level_with_num_words => "char_level_num_words_8",
    char_level_ignores_filters_and_split => "char_level_oov_filters_split",
    unfitted_without_num_words_refuses_matrices => "unfitted",
    unfitted_with_num_words_sizes_matrices_but_refuses_tfidf => "unfitted_num_words_6",
    fitted_on_no_text => "fitted_on_nothing",
    fitted_on_no_text_with_oov_token => "fitted_on_nothing_oov",
    fitted_on_texts_without_words => "fitted_on_empty_texts",
}

#[test]
fn unfitted_with_an_oov_token_maps_unknown_ids_to_it() {
    // Keras' word_index is empty until a fit (its sequences_to_texts raises KeyError there);
    // rnnkit's holds the token, as for texts_to_sequences, so it behaves as fitted on no text.
    let tokenizer = Tokenizer::new().oov_token("<OOV>");
    assert_eq!(tokenizer.sequences_to_texts(&[vec![1, 7], vec![]]), ["<OOV> <OOV>", ""]);
    let error = tokenizer.texts_to_matrix(["a"], MatrixMode::Binary).unwrap_err();
    assert!(error.to_string().contains("Specify a dimension"), "{error}");
}

#[test]
fn freq_divides_by_the_whole_sequence_length() {
    let tokenizer = Tokenizer::new().num_words(3);
    let matrix = tokenizer.sequences_to_matrix(&[[2u32, 2, 7, 9]], MatrixMode::Freq).unwrap();
    assert_eq!(matrix, ndarray::array![[0.0, 0.0, 0.5]]);
}

#[test]
fn tfidf_follows_keras_formula() {
    let mut tokenizer = Tokenizer::new();
    tokenizer.fit_on_texts(["a a b", "a c", "d"]);
    // Ids: a 1 (in 2 texts), b 2, c 3, d 4 (1 text each).
    let matrix = tokenizer.texts_to_matrix(["a a a b z"], MatrixMode::Tfidf).unwrap();
    let idf = |docs: f64| (1.0 + 3.0 / (1.0 + docs)).ln();
    let a = (1.0 + 3f64.ln()) * idf(2.0);
    let b = idf(1.0);
    assert_eq!(matrix, ndarray::array![[0.0, a as f32, b as f32, 0.0, 0.0]]);
}

#[test]
fn matrices_too_large_to_address_are_errors() {
    let tokenizer = Tokenizer::new().num_words(usize::MAX / 2);
    let error = tokenizer.sequences_to_matrix(&[[1u32], [2]], MatrixMode::Count).unwrap_err();
    assert!(
        matches!(&error, Error::InvalidArgument { name, .. } if name == "num_words"),
        "{error}"
    );
}

#[test]
fn matrix_mode_default_is_binary() {
    assert_eq!(MatrixMode::default(), MatrixMode::Binary);
}

#[test]
fn char_level_round_trips_through_sequences_to_texts() {
    let mut tokenizer = Tokenizer::new().char_level(true).lower(false);
    tokenizer.fit_on_texts(["Héllo, wörld"]);
    let sequences = tokenizer.texts_to_sequences(["wörld"]);
    assert_eq!(sequences[0].len(), 5);
    assert_eq!(tokenizer.sequences_to_texts(&sequences), ["w ö r l d"]);
}
