//! `Tokenizer`: Keras' legacy text tokenizer (`keras_preprocessing.text.Tokenizer`).

use std::fmt;

use super::word_table::WordTable;

/// Keras' default `filters`: ASCII punctuation except the apostrophe, plus tab and newline.
///
/// Each of these characters is replaced by the split character before splitting, so
/// `"it's great!"` gives `["it's", "great"]`. `\r` and Unicode spaces are not in the set.
pub const DEFAULT_FILTERS: &str = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

/// Replaces every HTML line break `<br />` with a space, as Keras users do to IMDB reviews before
/// tokenizing (`text.replace("<br />", " ")`).
///
/// Only the exact spelling `<br />` (the one in the IMDB reviews) is replaced. Without this step
/// Keras' filters turn each `<br />` into the token `br`.
///
/// ```
/// use rnnkit::text::strip_html_breaks;
///
/// assert_eq!(strip_html_breaks("Great.<br /><br />Really."), "Great.  Really.");
/// ```
pub fn strip_html_breaks(text: &str) -> String {
    text.replace("<br />", " ")
}

/// Turns texts into sequences of word ids, and back, with the semantics of Keras' legacy
/// `Tokenizer`.
///
/// A text is lowercased (like Python's `str.lower`, Unicode included), each character of
/// `filters` is replaced by the `split` character, the text is split on that character and empty
/// strings are dropped. The apostrophe is not a filter (`it's` is one word) and neither `\r` nor
/// Unicode spaces separate words.
///
/// [`fit_on_texts`](Self::fit_on_texts) counts words. Ids go by count, most frequent first, ties
/// in order of first appearance, from 1 (0 is left for padding). With an `oov_token`, that token
/// takes id 1 and the words follow from 2. [`texts_to_sequences`](Self::texts_to_sequences) maps
/// words to ids as `u32`; words it does not know, or whose id is `num_words` or more, are dropped,
/// or replaced by the `oov_token`'s id when there is one.
///
/// With [`char_level`](Self::char_level), every character is a token instead.
/// [`sequences_to_texts`](Self::sequences_to_texts) maps ids back to words, and
/// [`texts_to_matrix`](Self::texts_to_matrix) / [`sequences_to_matrix`](Self::sequences_to_matrix)
/// give one row per text in Keras' modes ([`MatrixMode`](super::MatrixMode)).
///
/// ```
/// use rnnkit::text::Tokenizer;
///
/// let mut tokenizer = Tokenizer::new().num_words(3);
/// tokenizer.fit_on_texts(["The cat sat.", "The cat ran; the dog sat!"]);
/// assert_eq!(tokenizer.word_index().get("the"), Some(1));
/// assert_eq!(tokenizer.word_index().get("dog"), Some(5));
/// // num_words = 3 keeps ids 1 and 2 ("the", "cat"), dropping rarer words.
/// assert_eq!(tokenizer.texts_to_sequences(["the dog and the cat"]), vec![vec![1, 1, 2]]);
/// ```
#[derive(Clone)]
pub struct Tokenizer {
    pub(super) num_words: Option<usize>,
    filters: String,
    lower: bool,
    split: char,
    oov_token: Option<String>,
    char_level: bool,
    separators: Separators,
    /// Whether `fit_on_texts` was called, even on no text (Keras' `word_index` is empty before).
    pub(super) fitted: bool,
    pub(super) document_count: usize,
    /// The fitted words in order of first appearance, and how often each occurred (Keras'
    /// `word_counts`).
    pub(super) counted: WordTable,
    counts: Vec<usize>,
    /// For each fitted word, the number of texts it occurred in (Keras' `word_docs`), and the
    /// last text (numbered from 1) that counted it.
    pub(super) docs: Vec<usize>,
    last_document: Vec<usize>,
    pub(super) word_index: WordIndex,
}

impl Default for Tokenizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Tokenizer {
    /// A tokenizer with Keras' defaults: no `num_words` limit, [`DEFAULT_FILTERS`], lowercasing,
    /// split on `' '`, word level, no `oov_token`. It knows no word until it is fitted.
    pub fn new() -> Self {
        let split = ' ';
        Tokenizer {
            num_words: None,
            filters: DEFAULT_FILTERS.to_string(),
            lower: true,
            split,
            oov_token: None,
            char_level: false,
            separators: Separators::new(DEFAULT_FILTERS, split),
            fitted: false,
            document_count: 0,
            counted: WordTable::default(),
            counts: Vec::new(),
            docs: Vec::new(),
            last_document: Vec::new(),
            word_index: WordIndex::default(),
        }
    }

    /// Keeps only the ids below `num_words` (the `num_words - 1` most frequent words) when mapping
    /// texts to sequences. Default: `None`, every fitted word. Takes `10_000`, `Some(10_000)` or
    /// `None`.
    ///
    /// As in Keras, the vocabulary ([`word_index`](Self::word_index)) still holds every word,
    /// and `Some(0)` means no limit (Keras tests `if num_words`).
    pub fn num_words(mut self, num_words: impl Into<Option<usize>>) -> Self {
        self.num_words = num_words.into();
        self
    }

    /// Characters replaced by the split character before splitting. Default: [`DEFAULT_FILTERS`].
    /// `""` filters nothing. Ignored with [`char_level`](Self::char_level).
    pub fn filters(mut self, filters: &str) -> Self {
        self.filters = filters.to_string();
        self.separators = Separators::new(&self.filters, self.split);
        self
    }

    /// Whether texts are lowercased first (Unicode-aware, like Python's `str.lower`). Default:
    /// `true`.
    pub fn lower(mut self, lower: bool) -> Self {
        self.lower = lower;
        self
    }

    /// The character words are separated by. Default: `' '`. Ignored with
    /// [`char_level`](Self::char_level).
    ///
    /// Keras accepts a string; rnnkit takes one character, which covers the separators used in
    /// practice and cannot be empty.
    pub fn split(mut self, split: char) -> Self {
        self.split = split;
        self.separators = Separators::new(&self.filters, split);
        self
    }

    /// A token standing for unknown words, given id 1; takes `"<OOV>"`, `Some("<OOV>")` or `None`.
    /// Default: `None` (unknown words are dropped).
    ///
    /// As in Keras, if the token also occurs as a word in the fitted texts, the word's id wins and
    /// id 1 is left unused. Before any fit every word maps to id 1 (where Keras emits `None`).
    pub fn oov_token<'a>(mut self, oov_token: impl Into<Option<&'a str>>) -> Self {
        self.oov_token = oov_token.into().map(str::to_string);
        self.rebuild_index();
        self
    }

    /// Whether every character is a token (Keras' `char_level`). Default: `false`.
    ///
    /// As in Keras, a character-level tokenizer still lowercases (if [`lower`](Self::lower)) but
    /// applies neither the `filters` nor the `split` character: spaces and punctuation are tokens
    /// too. Tokens are Unicode scalar values (Python's string items), so a lowercased `'İ'` gives
    /// two tokens, `'i'` and `'\u{307}'`, as in Python.
    ///
    /// ```
    /// use rnnkit::text::Tokenizer;
    ///
    /// let mut tokenizer = Tokenizer::new().char_level(true);
    /// tokenizer.fit_on_texts(["Aha, a cab!"]);
    /// // 'a' occurs 4 times, then ' ' twice; ties keep the order of first appearance.
    /// assert_eq!(tokenizer.word_index().get("a"), Some(1));
    /// assert_eq!(tokenizer.word_index().get(" "), Some(2));
    /// assert_eq!(tokenizer.texts_to_sequences(["a ha!"]), vec![vec![1, 2, 3, 1, 7]]);
    /// assert_eq!(tokenizer.sequences_to_texts(&[[3, 1]]), ["h a"]);
    /// ```
    pub fn char_level(mut self, char_level: bool) -> Self {
        self.char_level = char_level;
        self
    }

    /// Counts the words of `texts` and rebuilds the word index from all the texts fitted so far
    /// (calls accumulate, as in Keras).
    pub fn fit_on_texts<I, S>(&mut self, texts: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut buffer = String::new();
        let splitter = Splitter {
            separators: &self.separators,
            lower: self.lower,
            char_level: self.char_level,
        };
        for text in texts {
            self.document_count += 1;
            let document = self.document_count;
            let (counted, counts) = (&mut self.counted, &mut self.counts);
            let (docs, last_document) = (&mut self.docs, &mut self.last_document);
            splitter.for_each_token(text.as_ref(), &mut buffer, |word| {
                let (position, added) = counted.find_or_insert(word);
                if added {
                    counts.push(1);
                    docs.push(1);
                    last_document.push(document);
                } else {
                    counts[position] += 1;
                    if last_document[position] != document {
                        last_document[position] = document;
                        docs[position] += 1;
                    }
                }
            });
        }
        self.fitted = true;
        self.rebuild_index();
    }

    /// Maps each text to its word ids, in order.
    ///
    /// Words never seen by [`fit_on_texts`](Self::fit_on_texts), and words whose id is
    /// `num_words` or more, are dropped, or replaced by the `oov_token`'s id if one is set. An
    /// unfitted tokenizer knows no word.
    pub fn texts_to_sequences<I, S>(&self, texts: I) -> Vec<Vec<u32>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let oov_id = self.oov_token.as_deref().and_then(|token| self.word_index.get(token));
        let limit = self.num_words.filter(|&n| n > 0);
        let mut buffer = String::new();
        let splitter = Splitter {
            separators: &self.separators,
            lower: self.lower,
            char_level: self.char_level,
        };
        // Ids are collected in `scratch`, then copied out at their exact size: one allocation per
        // text instead of one per doubling.
        let mut scratch = Vec::new();
        texts
            .into_iter()
            .map(|text| {
                scratch.clear();
                splitter.for_each_token(text.as_ref(), &mut buffer, |word| {
                    match self.word_index.get(word) {
                        Some(id) if limit.is_none_or(|n| (id as usize) < n) => scratch.push(id),
                        _ => scratch.extend(oov_id),
                    }
                });
                scratch.clone()
            })
            .collect()
    }

    /// Maps each sequence of ids back to its words, joined by spaces (Keras'
    /// `sequences_to_texts`; character-level tokens are joined by spaces too).
    ///
    /// As [`texts_to_sequences`](Self::texts_to_sequences) does for words, ids with no word
    /// (0 among them) and ids of `num_words` or more are dropped, or become the `oov_token` if one
    /// is set.
    ///
    /// ```
    /// use rnnkit::text::Tokenizer;
    ///
    /// let mut tokenizer = Tokenizer::new().num_words(3).oov_token("<OOV>");
    /// tokenizer.fit_on_texts(["the cat sat on the mat"]);
    /// // Ids: <OOV> 1, the 2, cat 3, ...; num_words = 3 keeps ids 1 and 2.
    /// assert_eq!(tokenizer.sequences_to_texts(&[vec![2, 3, 0, 99]]), ["the <OOV> <OOV> <OOV>"]);
    /// ```
    pub fn sequences_to_texts<S: AsRef<[u32]>>(&self, sequences: &[S]) -> Vec<String> {
        let limit = self.num_words.filter(|&n| n > 0);
        let oov_token = self.oov_token.as_deref();
        sequences
            .iter()
            .map(|sequence| {
                let mut text = String::new();
                for &id in sequence.as_ref() {
                    let word = match self.word_index.word(id) {
                        Some(word) if limit.is_none_or(|n| (id as usize) < n) => Some(word),
                        _ => oov_token,
                    };
                    if let Some(word) = word {
                        if !text.is_empty() {
                            text.push(' ');
                        }
                        text.push_str(word);
                    }
                }
                text
            })
            .collect()
    }

    /// Each known word and its id (Keras' `word_index`, and `index_word` through
    /// [`WordIndex::word`]): every fitted word regardless of `num_words`, plus the `oov_token` if
    /// set.
    pub fn word_index(&self) -> &WordIndex {
        &self.word_index
    }

    /// Each fitted word and the number of times it occurred, in order of first appearance (Keras'
    /// `word_counts`).
    pub fn word_counts(&self) -> impl ExactSizeIterator<Item = (&str, usize)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .map(|(position, &count)| (self.counted.word(position), count))
    }

    /// Each fitted word and the number of texts it occurred in, in order of first appearance
    /// (Keras' `word_docs`, whose order is a set's). [`MatrixMode::Tfidf`](super::MatrixMode)
    /// reads it.
    pub fn word_docs(&self) -> impl ExactSizeIterator<Item = (&str, usize)> + '_ {
        self.docs.iter().enumerate().map(|(position, &docs)| (self.counted.word(position), docs))
    }

    /// The number of texts fitted so far.
    pub fn document_count(&self) -> usize {
        self.document_count
    }

    /// Recomputes the word index from the counts: Keras sorts `word_counts` by count with a stable
    /// sort, puts the `oov_token` first, then numbers from 1, a later duplicate of the token
    /// overwriting its id.
    fn rebuild_index(&mut self) {
        let counts = &self.counts;
        let mut order: Vec<usize> = (0..counts.len()).collect();
        order.sort_by(|&a, &b| counts[b].cmp(&counts[a]));
        let oov_token = self.oov_token.as_deref();
        let oov_is_a_word = oov_token.is_some_and(|token| self.counted.find(token).is_some());
        let mut index =
            WordIndex::with_capacity(order.len() + 1, if oov_is_a_word { 2 } else { 1 });
        if let Some(token) = oov_token.filter(|_| !oov_is_a_word) {
            index.push(token);
        }
        for position in order {
            index.push(self.counted.word(position));
        }
        self.word_index = index;
    }
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokenizer")
            .field("num_words", &self.num_words)
            .field("filters", &self.filters)
            .field("lower", &self.lower)
            .field("split", &self.split)
            .field("oov_token", &self.oov_token)
            .field("char_level", &self.char_level)
            .field("document_count", &self.document_count)
            .field("words", &self.word_index.len())
            .finish()
    }
}

/// The characters that end a word: the filters and the split character.
#[derive(Clone)]
struct Separators {
    /// Indexed by byte; only ASCII entries can be `true`.
    ascii: [bool; 256],
    /// Non-ASCII separators, if any (then words are split by `char` instead of by byte).
    other: Vec<char>,
}

impl Separators {
    fn new(filters: &str, split: char) -> Self {
        let mut separators = Separators { ascii: [false; 256], other: Vec::new() };
        for c in filters.chars().chain([split]) {
            if c.is_ascii() {
                separators.ascii[c as usize] = true;
            } else if !separators.other.contains(&c) {
                separators.other.push(c);
            }
        }
        separators
    }

    fn contains(&self, c: char) -> bool {
        if c.is_ascii() {
            self.ascii[c as usize]
        } else {
            self.other.contains(&c)
        }
    }
}

/// How a text becomes tokens: the tokenizer's settings that [`Splitter::for_each_token`] reads.
struct Splitter<'a> {
    separators: &'a Separators,
    lower: bool,
    char_level: bool,
}

impl Splitter<'_> {
    /// Calls `visit` on each token of `text`: lowercased if `lower`, then each character if
    /// `char_level`, else split on `separators` with empty words dropped. `buffer` is reused
    /// across texts to hold the lowercased text.
    ///
    /// Replacing each filter by the split character and splitting on it (Keras) is the same as
    /// splitting on any filter or the split character, which is what this does.
    fn for_each_token<'t>(
        &self,
        text: &'t str,
        buffer: &'t mut String,
        mut visit: impl FnMut(&str),
    ) {
        let text: &str = if !self.lower {
            text
        } else if text.is_ascii() {
            buffer.clear();
            buffer.push_str(text);
            buffer.make_ascii_lowercase();
            buffer
        } else {
            // `str::to_lowercase` follows Unicode's full mapping with the final-sigma rule, as
            // Python's `str.lower` does.
            *buffer = text.to_lowercase();
            buffer
        };
        let separators = self.separators;
        if self.char_level {
            for (start, c) in text.char_indices() {
                visit(&text[start..start + c.len_utf8()]);
            }
        } else if separators.other.is_empty() {
            // All separators are ASCII, and ASCII bytes never occur inside a multi-byte UTF-8
            // character, so every separator byte is a character boundary. Blocks of 64 bytes
            // become a bit mask of separators first, so that the branches go per word, not per
            // byte.
            let mut start = 0;
            for (block, bytes) in text.as_bytes().chunks(64).enumerate() {
                let mut mask = 0u64;
                for (bit, &byte) in bytes.iter().enumerate() {
                    mask |= u64::from(separators.ascii[byte as usize]) << bit;
                }
                while mask != 0 {
                    let end = block * 64 + mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    if end > start {
                        visit(&text[start..end]);
                    }
                    start = end + 1;
                }
            }
            if start < text.len() {
                visit(&text[start..]);
            }
        } else {
            text.split(|c| separators.contains(c)).filter(|word| !word.is_empty()).for_each(visit);
        }
    }
}

/// A tokenizer's vocabulary: each word and its id, from 1 (Keras' `word_index` and `index_word`).
///
/// ```
/// use rnnkit::text::Tokenizer;
///
/// let mut tokenizer = Tokenizer::new();
/// tokenizer.fit_on_texts(["to be or not to be"]);
/// let index = tokenizer.word_index();
/// assert_eq!((index.len(), index.get("be"), index.word(3)), (4, Some(2), Some("or")));
/// assert_eq!(index.iter().next(), Some(("to", 1)));
/// ```
#[derive(Clone)]
pub struct WordIndex {
    /// The words by increasing id.
    words: WordTable,
    /// The id of the first word; ids are consecutive from there. It is 2 when the `oov_token`
    /// is also a fitted word (Keras leaves id 1 unused then), else 1.
    first_id: u32,
}

impl Default for WordIndex {
    fn default() -> Self {
        WordIndex::with_capacity(0, 1)
    }
}

impl WordIndex {
    fn with_capacity(words: usize, first_id: u32) -> Self {
        WordIndex { words: WordTable::with_capacity(words), first_id }
    }

    /// Appends a word that is not in the index yet, with the next id.
    fn push(&mut self, word: &str) {
        self.words.find_or_insert(word);
    }

    /// The id of a word at `position`: fewer than 2^32 words, as in [`WordTable`].
    #[inline]
    fn id(&self, position: usize) -> u32 {
        self.first_id + position as u32
    }

    /// The id of `word`, if it is known.
    #[inline]
    pub fn get(&self, word: &str) -> Option<u32> {
        self.words.find(word).map(|position| self.id(position))
    }

    /// The word with id `id`, if any (Keras' `index_word`).
    pub fn word(&self, id: u32) -> Option<&str> {
        let position = id.checked_sub(self.first_id)? as usize;
        (position < self.len()).then(|| self.words.word(position))
    }

    /// The number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there is no word.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The words and their ids, by increasing id (the order of Keras' `word_index` dict).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, u32)> + '_ {
        (0..self.len()).map(|position| (self.words.word(position), self.id(position)))
    }
}

impl fmt::Debug for WordIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}
