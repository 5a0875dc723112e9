//! `WordTable`: the tokenizer's set of distinct words, each with a position.

/// Distinct words stored back to back in one string, found through an open-addressing hash
/// table. Lookups by `&str` allocate nothing; the words a corpus uses most, inserted first, share
/// a few cache lines; and a slot holds part of its word's hash, so that probing past other words
/// reads nothing else.
#[derive(Clone, Default)]
pub(super) struct WordTable {
    /// The words, concatenated in insertion order.
    text: String,
    /// Where each word ends in `text`; it starts where the previous one ends.
    ends: Vec<usize>,
    /// 0 for an empty slot, else the low 32 bits of the word's hash, then 1 + its position in
    /// the low 32 bits. The length is 0 or a power of two, and at most half the slots are used.
    slots: Vec<u64>,
}

impl WordTable {
    pub(super) fn with_capacity(words: usize) -> Self {
        let mut table = WordTable::default();
        table.ends.reserve(words);
        table.slots = vec![0; (2 * words).next_power_of_two().max(64)];
        table
    }

    /// The number of words.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    #[inline]
    pub(super) fn word(&self, position: usize) -> &str {
        let start = if position == 0 { 0 } else { self.ends[position - 1] };
        &self.text[start..self.ends[position]]
    }

    /// The position of `word`, if present.
    #[inline]
    pub(super) fn find(&self, word: &str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        self.probe(word, hash(word)).1
    }

    /// The position of `word`, inserting it at the end if absent; and whether it was inserted.
    pub(super) fn find_or_insert(&mut self, word: &str) -> (usize, bool) {
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
