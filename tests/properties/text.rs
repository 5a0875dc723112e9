//! The text tools on any input: the `Tokenizer` on arbitrary Unicode with any filters, split
//! character, `num_words` and `oov_token`; `pad_sequences` with any lengths, ids and `maxlen`.

use super::{check_message, config, hostile_f32};
use proptest::prelude::*;
use rnnkit::text::{pad_sequences, Padding, Tokenizer, Truncating, DEFAULT_FILTERS};

/// Texts with repeated words, separators of every kind, Unicode case pairs (final sigma, dotted
/// I, sharp s), NUL and BOM; or any string at all.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-cA-C !,.'\t\n\r\u{0}\u{a0}\u{feff}ΣσςİẞßéÉ😀-]{0,40}",
        1 => any::<String>(),
    ]
}

fn filters() -> impl Strategy<Value = String> {
    prop_oneof![Just(DEFAULT_FILTERS.to_string()), Just(String::new()), "[ -~éΣ😀\u{0}]{0,6}",]
}

fn split() -> impl Strategy<Value = char> {
    prop_oneof![
        2 => Just(' '),
        1 => prop::sample::select(vec!['a', ',', '\n', '\u{0}', 'Σ', 'ς', '😀', '\u{a0}']),
        1 => any::<char>(),
    ]
}

fn num_words() -> impl Strategy<Value = Option<usize>> {
    prop::sample::select(vec![
        None,
        Some(0),
        Some(1),
        Some(2),
        Some(3),
        Some(1 << 40),
        Some(usize::MAX),
    ])
}

/// Keras' rule written the slow way: lowercase, replace each filter by the split character,
/// split on it, drop empty strings.
fn keras_words(text: &str, filters: &str, split: char, lower: bool) -> Vec<String> {
    let text = if lower { text.to_lowercase() } else { text.to_string() };
    let replaced: String =
        text.chars().map(|c| if filters.contains(c) { split } else { c }).collect();
    replaced.split(split).filter(|word| !word.is_empty()).map(str::to_string).collect()
}

/// Pads or truncates one sequence the slow way.
fn padded_row(
    sequence: &[u32],
    width: usize,
    padding: Padding,
    truncating: Truncating,
    value: f32,
) -> Vec<f32> {
    let kept: Vec<f32> = match truncating {
        _ if sequence.len() <= width => sequence.iter().map(|&id| id as f32).collect(),
        Truncating::Pre => sequence[sequence.len() - width..].iter().map(|&id| id as f32).collect(),
        Truncating::Post => sequence[..width].iter().map(|&id| id as f32).collect(),
    };
    let fill = vec![value; width - kept.len()];
    match padding {
        Padding::Pre => [fill, kept].concat(),
        Padding::Post => [kept, fill].concat(),
    }
}

fn padding() -> impl Strategy<Value = Padding> {
    prop_oneof![Just(Padding::Pre), Just(Padding::Post)]
}

fn truncating() -> impl Strategy<Value = Truncating> {
    prop_oneof![Just(Truncating::Pre), Just(Truncating::Post)]
}

/// Ids: mostly small, some at and past 2^24 (the last integer f32 holds exactly).
fn id() -> impl Strategy<Value = u32> {
    prop_oneof![8 => 0u32..20, 1 => prop::sample::select(vec![1 << 24, (1 << 24) + 1, u32::MAX])]
}

proptest! {
    #![proptest_config(config(256))]

    /// The tokenizer on any texts and settings: the word index is consistent both ways, every
    /// fitted word is in it, and each sequence is Keras' rule applied word by word (`num_words`
    /// limit, `oov_token` replacement).
    #[test]
    fn tokenizer_follows_keras_on_any_text(
        texts in prop::collection::vec(text(), 0..5),
        unseen in prop::collection::vec(text(), 0..3),
        filters in filters(),
        split in split(),
        lower in any::<bool>(),
        num_words in num_words(),
        oov_token in prop::option::of(prop_oneof!["<OOV>", "[a-c]{0,2}", any::<String>()]),
    ) {
        let mut tokenizer = Tokenizer::new()
            .filters(&filters)
            .split(split)
            .lower(lower)
            .num_words(num_words)
            .oov_token(oov_token.as_deref());
        tokenizer.fit_on_texts(&texts);
        prop_assert_eq!(tokenizer.document_count(), texts.len());
        let index = tokenizer.word_index();
        for (word, id) in index.iter() {
            prop_assert_eq!(index.get(word), Some(id));
            prop_assert_eq!(index.word(id), Some(word));
        }
        let words: Vec<Vec<String>> =
            texts.iter().map(|text| keras_words(text, &filters, split, lower)).collect();
        let counted: usize = tokenizer.word_counts().map(|(_, count)| count).sum();
        prop_assert_eq!(counted, words.iter().map(Vec::len).sum::<usize>());
        for word in words.iter().flatten() {
            prop_assert!(index.get(word).is_some(), "fitted word {:?} has no id", word);
        }
        let limit = num_words.filter(|&n| n > 0);
        let oov_id = oov_token.as_deref().and_then(|token| index.get(token));
        let all: Vec<String> = texts.iter().chain(&unseen).cloned().collect();
        let sequences = tokenizer.texts_to_sequences(&all);
        prop_assert_eq!(sequences.len(), all.len());
        for (text, sequence) in all.iter().zip(&sequences) {
            let expected: Vec<u32> = keras_words(text, &filters, split, lower)
                .iter()
                .filter_map(|word| match index.get(word) {
                    Some(id) if limit.is_none_or(|n| (id as usize) < n) => Some(id),
                    _ => oov_id,
                })
                .collect();
            prop_assert_eq!(sequence, &expected, "text {:?}", text);
        }
    }

    /// `pad_sequences` with any lengths, ids, small `maxlen` and padding value: the slow rule's
    /// rows, or an error naming `maxlen = 0` or the first id past 2^24 it would keep.
    #[test]
    fn pad_sequences_pads_and_truncates_any_lengths(
        sequences in prop::collection::vec(prop::collection::vec(id(), 0..8), 0..6),
        maxlen in prop::sample::select(vec![None, Some(0), Some(1), Some(2), Some(3), Some(5), Some(9)]),
        padding in padding(),
        truncating in truncating(),
        value in hostile_f32(),
    ) {
        let result = pad_sequences(&sequences, maxlen, padding, truncating, value);
        if maxlen == Some(0) {
            let error = result.expect_err("maxlen 0");
            return check_message(&error, &["maxlen", "0"]);
        }
        let width = maxlen.unwrap_or_else(|| sequences.iter().map(Vec::len).max().unwrap_or(0));
        let rows: Vec<Vec<f32>> = sequences
            .iter()
            .map(|sequence| padded_row(sequence, width, padding, truncating, value))
            .collect();
        let too_large = sequences.iter().find_map(|sequence| {
            let kept = match truncating {
                _ if sequence.len() <= width => &sequence[..],
                Truncating::Pre => &sequence[sequence.len() - width..],
                Truncating::Post => &sequence[..width],
            };
            kept.iter().find(|&&id| id > 1 << 24).copied()
        });
        match (result, too_large) {
            (Ok(padded), None) => {
                prop_assert_eq!(padded.dim(), (sequences.len(), width));
                for (row, expected) in padded.rows().into_iter().zip(&rows) {
                    let same = row.iter().zip(expected).all(|(a, b)| a.to_bits() == b.to_bits());
                    prop_assert!(same, "row {:?}, expected {:?}", row, expected);
                }
            }
            (Err(error), Some(id)) => check_message(&error, &[id.to_string()])?,
            (result, too_large) => {
                prop_assert!(false, "{:?} with an id past 2^24: {:?}", result, too_large)
            }
        }
    }
}

proptest! {
    // Each case runs in a child process, so that an abort (a refused allocation) is a failure
    // of this case rather than the end of the test binary.
    #![proptest_config(proptest::test_runner::Config { fork: true, ..config(24) })]

    /// A `maxlen` whose array cannot be allocated (past the address space) is refused by name,
    /// not an abort.
    #[test]
    fn pad_sequences_refuses_an_array_that_cannot_be_allocated(
        sequences in prop::collection::vec(prop::collection::vec(0u32..5, 0..3), 1..4),
        maxlen in prop::sample::select(vec![1usize << 45, 1 << 50, (1 << 60) + 3, usize::MAX / 8]),
        padding in padding(),
        truncating in truncating(),
    ) {
        let error = pad_sequences(&sequences, Some(maxlen), padding, truncating, 0.0)
            .expect_err("an array past the address space");
        check_message(&error, &["maxlen", &maxlen.to_string()])?;
    }
}

/// Minimal case of the property above: one empty sequence padded to 2^45 ids (128 TiB).
#[test]
fn pad_sequences_maxlen_2_pow_45_is_an_error() {
    let sequences: Vec<Vec<u32>> = vec![vec![]];
    let error = pad_sequences(&sequences, Some(1 << 45), Padding::Pre, Truncating::Pre, 0.0)
        .expect_err("128 TiB cannot be allocated");
    assert!(error.to_string().contains("maxlen"), "{error}");
}
