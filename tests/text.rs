//! `rnnkit::text` against real Keras: `tests/fixtures/keras_text.json` was written by
//! `keras_preprocessing.text.Tokenizer` and `keras.utils.pad_sequences`
//! (`tests/fixtures/generate_text_fixtures.py`).

use std::collections::HashMap;

use rnnkit::text::{
    pad_sequences, strip_html_breaks, Padding, Tokenizer, Truncating, DEFAULT_FILTERS,
};
use rnnkit::Error;
use serde_json::Value;

fn fixtures() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keras_text.json");
    let text = std::fs::read_to_string(path).expect("tests/fixtures/keras_text.json is readable");
    serde_json::from_str(&text).expect("keras_text.json is JSON")
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

fn tokenizer_from(config: &Value) -> Tokenizer {
    let mut tokenizer = Tokenizer::new()
        .num_words(config["num_words"].as_u64().map(|n| n as usize))
        .lower(config["lower"].as_bool().unwrap())
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

/// Fits a tokenizer as the named Keras case did and checks every attribute Keras recorded.
fn check_tokenizer_case(name: &str) {
    let all = fixtures();
    let case = &all["tokenizer"][name];
    assert!(case.is_object(), "no tokenizer case {name:?} in the fixtures");
    let preprocess = |text: String| match case["preprocess"].as_str() {
        Some("strip_html_breaks") => strip_html_breaks(&text),
        Some(other) => panic!("unknown preprocessing {other:?}"),
        None => text,
    };
    let mut tokenizer = tokenizer_from(&case["config"]);
    for texts in case["fits"].as_array().unwrap() {
        tokenizer.fit_on_texts(strings(texts).into_iter().map(preprocess));
    }

    let expected_index: HashMap<String, u32> = case["word_index"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].as_str().unwrap().to_string(), pair[1].as_u64().unwrap() as u32))
        .collect();
    let index: HashMap<String, u32> =
        tokenizer.word_index().iter().map(|(word, id)| (word.to_string(), id)).collect();
    assert_eq!(index, expected_index, "{name}: word_index");
    assert_eq!(tokenizer.word_index().len(), expected_index.len(), "{name}: duplicate words");
    for (word, &id) in &expected_index {
        assert_eq!(tokenizer.word_index().get(word), Some(id), "{name}: get({word:?})");
        assert_eq!(tokenizer.word_index().word(id), Some(word.as_str()), "{name}: word({id})");
    }

    let expected_counts: Vec<(String, usize)> = case["word_counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (pair[0].as_str().unwrap().to_string(), pair[1].as_u64().unwrap() as usize))
        .collect();
    let counts: Vec<(String, usize)> =
        tokenizer.word_counts().map(|(word, count)| (word.to_string(), count)).collect();
    assert_eq!(counts, expected_counts, "{name}: word_counts");
    assert_eq!(
        tokenizer.document_count() as u64,
        case["document_count"].as_u64().unwrap(),
        "{name}: document_count"
    );

    let texts: Vec<String> = strings(&case["texts"]).into_iter().map(preprocess).collect();
    let sequences = tokenizer.texts_to_sequences(&texts);
    let expected = ids(&case["sequences"]);
    for ((text, got), want) in texts.iter().zip(&sequences).zip(&expected) {
        assert_eq!(got, want, "{name}: sequence of {text:?}");
    }
    assert_eq!(sequences.len(), expected.len(), "{name}: number of sequences");
}

macro_rules! keras_tokenizer_cases {
    ($($test:ident => $case:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                check_tokenizer_case($case);
            }
        )*

        /// Every case in the fixture file has a test above.
        #[test]
        fn every_tokenizer_fixture_is_tested() {
            let tested = [$($case),*];
            let all = fixtures();
            for name in all["tokenizer"].as_object().unwrap().keys() {
                assert!(tested.contains(&name.as_str()), "fixture case {name:?} has no test");
            }
        }
    };
}

keras_tokenizer_cases! {
    tokenizer_defaults => "default",
    tokenizer_num_words_5 => "num_words_5",
    tokenizer_num_words_1_keeps_nothing => "num_words_1",
    tokenizer_num_words_0_means_no_limit => "num_words_0_means_no_limit",
    tokenizer_oov_token => "oov",
    tokenizer_oov_token_with_num_words => "oov_num_words_5",
    tokenizer_oov_token_that_is_also_a_word => "oov_is_a_word",
    tokenizer_oov_token_that_is_also_a_word_with_num_words => "oov_is_a_word_num_words_3",
    tokenizer_unfitted => "unfitted",
    tokenizer_lower_false => "lower_false",
    tokenizer_no_filters => "no_filters",
    tokenizer_custom_filters => "custom_filters",
    tokenizer_split_comma => "split_comma",
    tokenizer_split_on_a_filter_character => "split_filter_char",
    tokenizer_unicode_split_and_filters => "unicode_split_and_filters",
    tokenizer_fit_twice_accumulates => "fit_twice",
    tokenizer_after_strip_html_breaks => "strip_html_breaks",
}

#[test]
fn ties_keep_the_order_of_first_appearance() {
    let mut tokenizer = Tokenizer::new();
    tokenizer.fit_on_texts(["b a c", "c a b d"]);
    // Counts: b 2, a 2, c 2, d 1; the tie b/a/c keeps first appearance.
    let index = tokenizer.word_index();
    let ids = ["b", "a", "c", "d"].map(|word| index.get(word));
    assert_eq!(ids, [Some(1), Some(2), Some(3), Some(4)]);
    assert_eq!(index.iter().collect::<Vec<_>>(), [("b", 1), ("a", 2), ("c", 3), ("d", 4)]);
    let counts: Vec<(&str, usize)> = tokenizer.word_counts().collect();
    assert_eq!(counts, [("b", 2), ("a", 2), ("c", 2), ("d", 1)]);
}

#[test]
fn apostrophes_are_kept_and_carriage_returns_do_not_split() {
    let mut tokenizer = Tokenizer::new();
    tokenizer.fit_on_texts(["It's\r\nfine, isn't it?"]);
    let mut words: Vec<&str> = tokenizer.word_index().iter().map(|(word, _)| word).collect();
    words.sort_unstable();
    assert_eq!(words, ["fine", "isn't", "it", "it's\r"]);
}

#[test]
fn lowercasing_is_unicode_aware() {
    let mut tokenizer = Tokenizer::new();
    tokenizer.fit_on_texts(["ΟΔΟΣ İ STRAẞE"]);
    let index = tokenizer.word_index();
    assert!(index.get("οδος").is_some(), "final sigma: {index:?}");
    assert!(index.get("i\u{307}").is_some(), "dotted capital I: {index:?}");
    assert!(index.get("straße").is_some(), "capital sharp s: {index:?}");
}

#[test]
fn html_breaks_become_br_unless_stripped() {
    let text = "Good.<br /><br />Bad.";
    let mut tokenizer = Tokenizer::new();
    tokenizer.fit_on_texts([text]);
    assert_eq!(tokenizer.word_index().get("br"), Some(1));
    assert_eq!(strip_html_breaks(text), "Good.  Bad.");
    let mut stripped = Tokenizer::new();
    stripped.fit_on_texts([strip_html_breaks(text)]);
    assert_eq!(stripped.word_index().get("br"), None);
}

#[test]
fn setting_the_oov_token_after_fitting_renumbers_like_fitting_with_it() {
    let texts = ["a b b", "c"];
    let mut before = Tokenizer::new().oov_token("<OOV>");
    before.fit_on_texts(texts);
    let mut after = Tokenizer::new();
    after.fit_on_texts(texts);
    let after = after.oov_token("<OOV>");
    let entries = |tokenizer: &Tokenizer| -> Vec<(String, u32)> {
        tokenizer.word_index().iter().map(|(word, id)| (word.to_string(), id)).collect()
    };
    assert_eq!(entries(&before), entries(&after));
    assert_eq!(after.texts_to_sequences(["b z"]), [vec![2, 1]]);
}

#[test]
fn an_unfitted_tokenizer_maps_every_word_to_the_oov_token() {
    // Keras emits `None` for each word here; rnnkit behaves as if fitted on no text.
    let tokenizer = Tokenizer::new().oov_token("<OOV>");
    assert_eq!(tokenizer.word_index().len(), 1);
    assert_eq!(tokenizer.texts_to_sequences(["any words", ""]), [vec![1, 1], vec![]]);
}

#[test]
fn word_index_grows_past_its_first_table_and_finds_every_word() {
    let texts: Vec<String> = (0..5000).map(|n| format!("w{n} w{} common", n / 2)).collect();
    let mut tokenizer = Tokenizer::new();
    tokenizer.fit_on_texts(&texts);
    let index = tokenizer.word_index();
    assert_eq!(index.len(), 5001);
    assert_eq!(index.get("common"), Some(1));
    for n in 0..5000 {
        let id = index.get(&format!("w{n}")).unwrap();
        assert_eq!(index.word(id), Some(format!("w{n}").as_str()));
    }
    assert_eq!(
        (index.get("w5000"), index.get(""), index.word(0), index.word(5002)),
        (None, None, None, None)
    );
}

#[test]
fn default_filters_are_keras() {
    assert_eq!(DEFAULT_FILTERS, "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n");
    let tokenizer = Tokenizer::default();
    let debug = format!("{tokenizer:?}");
    assert!(debug.starts_with("Tokenizer {"), "{debug}");
}

fn padding_of(value: &Value) -> Padding {
    match value.as_str().unwrap() {
        "pre" => Padding::Pre,
        "post" => Padding::Post,
        other => panic!("padding {other:?}"),
    }
}

fn truncating_of(value: &Value) -> Truncating {
    match value.as_str().unwrap() {
        "pre" => Truncating::Pre,
        "post" => Truncating::Post,
        other => panic!("truncating {other:?}"),
    }
}

#[test]
fn pad_sequences_matches_keras() {
    let all = fixtures();
    let cases = all["pad_sequences"].as_object().unwrap();
    assert!(cases.len() >= 10);
    for (name, case) in cases {
        let sequences = ids(&case["sequences"]);
        let padded = pad_sequences(
            &sequences,
            case["maxlen"].as_u64().map(|n| n as usize),
            padding_of(&case["padding"]),
            truncating_of(&case["truncating"]),
            case["value"].as_f64().unwrap() as f32,
        )
        .unwrap_or_else(|error| panic!("{name}: {error}"));
        let shape: Vec<usize> = case["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(padded.shape(), shape.as_slice(), "{name}: shape");
        let expected: Vec<Vec<f32>> = case["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
            .collect();
        for (row, want) in padded.rows().into_iter().zip(&expected) {
            assert_eq!(row.to_vec(), *want, "{name}");
        }
    }
}

#[test]
fn pad_sequences_defaults_are_pre() {
    assert_eq!(Padding::default(), Padding::Pre);
    assert_eq!(Truncating::default(), Truncating::Pre);
}

#[test]
fn pad_sequences_accepts_slices_and_no_sequences() {
    let sequences: [&[u32]; 2] = [&[1, 2], &[3]];
    let padded = pad_sequences(&sequences, None, Padding::Post, Truncating::Pre, 0.0).unwrap();
    assert_eq!(padded, ndarray::array![[1.0, 2.0], [3.0, 0.0]]);
    let none: [Vec<u32>; 0] = [];
    let padded = pad_sequences(&none, None, Padding::Pre, Truncating::Pre, 0.0).unwrap();
    assert_eq!(padded.dim(), (0, 0));
}

#[test]
fn pad_sequences_rejects_maxlen_zero() {
    let error = pad_sequences(&[vec![1]], Some(0), Padding::Pre, Truncating::Pre, 0.0).unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { name, .. } if name == "maxlen"), "{error}");
    assert!(error.to_string().contains("expected a positive integer or None, got 0"), "{error}");
}

#[test]
fn pad_sequences_rejects_ids_f32_cannot_hold() {
    let too_big = (1 << 24) + 1;
    let error =
        pad_sequences(&[vec![1, too_big]], None, Padding::Pre, Truncating::Pre, 0.0).unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { name, .. } if name == "sequences"));
    assert!(error.to_string().contains("16777217"), "{error}");
    // Truncated away, the same id is no problem.
    let padded =
        pad_sequences(&[vec![1, too_big]], Some(1), Padding::Pre, Truncating::Post, 0.0).unwrap();
    assert_eq!(padded, ndarray::array![[1.0]]);
}

#[test]
fn pad_sequences_rejects_arrays_too_large_to_address() {
    let error =
        pad_sequences(&[vec![1], vec![2]], Some(usize::MAX), Padding::Pre, Truncating::Pre, 0.0)
            .unwrap_err();
    assert!(matches!(&error, Error::InvalidArgument { name, .. } if name == "maxlen"), "{error}");
}
