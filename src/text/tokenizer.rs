//! `Tokenizer`: Keras' legacy text tokenizer (`keras_preprocessing.text.Tokenizer`), word level.

use std::fmt;

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

/// Turns texts into sequences of word ids, with the semantics of Keras' legacy `Tokenizer`.
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
/// Keras' `char_level`, `word_docs` and the matrix modes are not provided.
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
    num_words: Option<usize>,
    filters: String,
    lower: bool,
    split: char,
    oov_token: Option<String>,
    separators: Separators,
    document_count: usize,
    /// The fitted words in order of first appearance, and how often each occurred (Keras'
    /// `word_counts`).
    counted: WordTable,
    counts: Vec<usize>,
    word_index: WordIndex,
}

impl Default for Tokenizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Tokenizer {
    /// A tokenizer with Keras' defaults: no `num_words` limit, [`DEFAULT_FILTERS`], lowercasing,
    /// split on `' '`, no `oov_token`. It knows no word until it is fitted.
    pub fn new() -> Self {
        let split = ' ';
        Tokenizer {
            num_words: None,
            filters: DEFAULT_FILTERS.to_string(),
            lower: true,
            split,
            oov_token: None,
            separators: Separators::new(DEFAULT_FILTERS, split),
            document_count: 0,
            counted: WordTable::default(),
            counts: Vec::new(),
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
    /// `""` filters nothing.
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

    /// The character words are separated by. Default: `' '`.
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

    /// Counts the words of `texts` and rebuilds the word index from all the texts fitted so far
    /// (calls accumulate, as in Keras).
    pub fn fit_on_texts<I, S>(&mut self, texts: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut buffer = String::new();
        for text in texts {
            self.document_count += 1;
            let (counted, counts) = (&mut self.counted, &mut self.counts);
            for_each_word(&self.separators, self.lower, text.as_ref(), &mut buffer, |word| {
                let (position, added) = counted.find_or_insert(word);
                if added {
                    counts.push(1);
                } else {
                    counts[position] += 1;
                }
            });
        }
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
        // Ids are collected in `scratch`, then copied out at their exact size: one allocation per
        // text instead of one per doubling.
        let mut scratch = Vec::new();
        texts
            .into_iter()
            .map(|text| {
                scratch.clear();
                for_each_word(&self.separators, self.lower, text.as_ref(), &mut buffer, |word| {
                    match self.word_index.get(word) {
                        Some(id) if limit.is_none_or(|n| (id as usize) < n) => scratch.push(id),
                        _ => scratch.extend(oov_id),
                    }
                });
                scratch.clone()
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

/// Calls `visit` on each word of `text`: lowercased if `lower`, split on `separators`, empty
/// words dropped. `buffer` is reused across texts to hold the lowercased text.
///
/// Replacing each filter by the split character and splitting on it (Keras) is the same as
/// splitting on any filter or the split character, which is what this does.
fn for_each_word<'t>(
    separators: &Separators,
    lower: bool,
    text: &'t str,
    buffer: &'t mut String,
    mut visit: impl FnMut(&str),
) {
    let text: &str = if !lower {
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
    if separators.other.is_empty() {
        // All separators are ASCII, and ASCII bytes never occur inside a multi-byte UTF-8
        // character, so every separator byte is a character boundary. Blocks of 64 bytes become a
        // bit mask of separators first, so that the branches go per word, not per byte.
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
        self.words.ends.len()
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

/// Distinct words stored back to back in one string, found through an open-addressing hash
/// table. Lookups by `&str` allocate nothing; the words a corpus uses most, inserted first, share
/// a few cache lines; and a slot holds part of its word's hash, so that probing past other words
/// reads nothing else.
#[derive(Clone, Default)]
struct WordTable {
    /// The words, concatenated in insertion order.
    text: String,
    /// Where each word ends in `text`; it starts where the previous one ends.
    ends: Vec<usize>,
    /// 0 for an empty slot, else the low 32 bits of the word's hash, then 1 + its position in
    /// the low 32 bits. The length is 0 or a power of two, and at most half the slots are used.
    slots: Vec<u64>,
}

impl WordTable {
    fn with_capacity(words: usize) -> Self {
        let mut table = WordTable::default();
        table.ends.reserve(words);
        table.slots = vec![0; (2 * words).next_power_of_two().max(64)];
        table
    }

    #[inline]
    fn word(&self, position: usize) -> &str {
        let start = if position == 0 { 0 } else { self.ends[position - 1] };
        &self.text[start..self.ends[position]]
    }

    /// The position of `word`, if present.
    #[inline]
    fn find(&self, word: &str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        self.probe(word, hash(word)).1
    }

    /// The position of `word`, inserting it at the end if absent; and whether it was inserted.
    fn find_or_insert(&mut self, word: &str) -> (usize, bool) {
        if 2 * (self.ends.len() + 1) > self.slots.len() {
            self.grow();
        }
        let hash = hash(word);
        let (slot, found) = self.probe(word, hash);
        if let Some(position) = found {
            return (position, false);
        }
        self.text.push_str(word);
        self.ends.push(self.text.len());
        self.slots[slot] = slot_entry(hash, self.ends.len());
        (self.ends.len() - 1, true)
    }

    /// The slot holding `word` and its position, or the empty slot where it would go.
    #[inline]
    fn probe(&self, word: &str, hash: u64) -> (usize, Option<usize>) {
        let mask = self.slots.len() - 1;
        let mut slot = (hash >> 32) as usize & mask;
        let tag = hash << 32;
        loop {
            let entry = self.slots[slot];
            if entry == 0 {
                return (slot, None);
            }
            if entry & TAG_MASK == tag & TAG_MASK {
                let position = (entry & !TAG_MASK) as usize - 1;
                if self.word(position) == word {
                    return (slot, Some(position));
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Doubles the slots (at least 64) and re-places every word.
    fn grow(&mut self) {
        let size = (2 * self.slots.len()).max(64);
        let mask = size - 1;
        let mut slots = vec![0; size];
        for position in 0..self.ends.len() {
            let hash = hash(self.word(position));
            let mut slot = (hash >> 32) as usize & mask;
            while slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            slots[slot] = slot_entry(hash, position + 1);
        }
        self.slots = slots;
    }
}

/// The high half of a slot: the low half of the hash.
const TAG_MASK: u64 = 0xffff_ffff_0000_0000;

/// A used slot: the hash's low 32 bits, then `position_plus_one`. A vocabulary of 2^32 words
/// would need hundreds of GB, so positions fit in 32 bits.
#[inline]
fn slot_entry(hash: u64, position_plus_one: usize) -> u64 {
    (hash << 32) | (position_plus_one as u64 & !TAG_MASK)
}

/// FxHash (as in rustc) over 8-byte lanes, then the length; the high half picks the slot, the
/// low half is the slot's tag. The last lane is read as fixed-size pieces that may overlap
/// (no variable-length copy), as wyhash does.
#[inline]
fn hash(word: &str) -> u64 {
    const K: u64 = 0xf135_7aea_2e62_a9c5;
    let bytes = word.as_bytes();
    let len = bytes.len();
    let mix = |hash: u64, lane: u64| (hash ^ lane).wrapping_mul(K).rotate_left(26);
    let mut hash: u64 = 0;
    let mut lanes = bytes.chunks_exact(8);
    for lane in &mut lanes {
        hash = mix(hash, read_u64(lane));
    }
    let last = match lanes.remainder() {
        [] => 0,
        _ if len >= 8 => read_u64(&bytes[len - 8..]),
        rest if rest.len() >= 4 => {
            u64::from(read_u32(rest)) | u64::from(read_u32(&rest[rest.len() - 4..])) << 32
        }
        rest => {
            u64::from(rest[0])
                | u64::from(rest[rest.len() / 2]) << 8
                | u64::from(rest[rest.len() - 1]) << 16
        }
    };
    (mix(hash, last) ^ len as u64).wrapping_mul(K)
}

/// The first 8 bytes of `bytes` (at least 8 long), little-endian.
#[inline]
fn read_u64(bytes: &[u8]) -> u64 {
    u64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ])
}

/// The first 4 bytes of `bytes` (at least 4 long), little-endian.
#[inline]
fn read_u32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}
