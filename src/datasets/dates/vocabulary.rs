//! [`CharVocabulary`]: a fixed numbering of characters, with 0 left for padding.

use crate::{Error, Result};

/// Characters numbered from 1 in the order given; id 0 is padding.
///
/// Unlike a fitted [`Tokenizer`](crate::text::Tokenizer), the numbering does not depend on the
/// texts seen, so every sample of the dates dataset, whatever its seed, uses the same ids.
///
/// # Examples
/// ```
/// use rnnkit::datasets::dates::CharVocabulary;
/// # fn main() -> rnnkit::Result<()> {
/// let vocabulary = CharVocabulary::new("-0123456789")?;
/// assert_eq!(vocabulary.size(), 12); // 11 characters and padding
/// let ids = vocabulary.encode("2021-03-03")?;
/// assert_eq!(ids[..5], [4, 2, 4, 3, 1]); // "2021-": the digits follow "-" (id 1)
/// assert_eq!(vocabulary.decode(ids.iter().copied().chain([0, 0])), "2021-03-03");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CharVocabulary {
    chars: Vec<char>,
}

impl CharVocabulary {
    /// The characters of `chars`, numbered 1, 2, ... in order.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for no character or a character given twice.
    pub fn new(chars: &str) -> Result<CharVocabulary> {
        let chars: Vec<char> = chars.chars().collect();
        if chars.is_empty() {
            return Err(Error::invalid("chars", "at least one character", "\"\""));
        }
        for (position, c) in chars.iter().enumerate() {
            if chars[..position].contains(c) {
                return Err(Error::invalid("chars", "distinct characters", format!("{c:?} twice")));
            }
        }
        Ok(CharVocabulary { chars })
    }

    /// The characters of `chars`, known to be distinct.
    pub(super) fn distinct(chars: &str) -> CharVocabulary {
        CharVocabulary { chars: chars.chars().collect() }
    }

    /// The number of ids, padding included: an `Embedding`'s `input_dim`, a softmax's width.
    pub fn size(&self) -> usize {
        self.chars.len() + 1
    }

    /// The id of `c`, if it is in the vocabulary.
    pub fn id(&self, c: char) -> Option<u32> {
        self.chars.iter().position(|&known| known == c).map(|position| position as u32 + 1)
    }

    /// The character of `id`; `None` for padding (0) and ids past the vocabulary.
    pub fn char(&self, id: u32) -> Option<char> {
        (id as usize).checked_sub(1).and_then(|index| self.chars.get(index)).copied()
    }

    /// The ids of the characters of `text`, in order.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the first character of `text` the vocabulary does not
    /// hold.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        text.chars()
            .map(|c| {
                self.id(c).ok_or_else(|| {
                    Error::invalid(
                        "text",
                        format!(
                            "characters of the vocabulary {:?}",
                            self.chars.iter().collect::<String>()
                        ),
                        format!("{c:?} in {text:?}"),
                    )
                })
            })
            .collect()
    }

    /// The characters of `ids`, padding and ids past the vocabulary skipped.
    pub fn decode(&self, ids: impl IntoIterator<Item = u32>) -> String {
        ids.into_iter().filter_map(|id| self.char(id)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_start_at_one_and_decode_back() {
        let vocabulary = CharVocabulary::new("ab c").unwrap();
        assert_eq!(vocabulary.size(), 5);
        assert_eq!(vocabulary.encode("c ba").unwrap(), [4, 3, 2, 1]);
        assert_eq!(
            (vocabulary.char(0), vocabulary.char(4), vocabulary.char(5)),
            (None, Some('c'), None)
        );
        assert_eq!(vocabulary.decode([0, 1, 9, 4]), "ac");
    }

    #[test]
    fn bad_vocabularies_and_unknown_characters_are_refused() {
        assert!(CharVocabulary::new("").is_err());
        let message = CharVocabulary::new("abca").unwrap_err().to_string();
        assert!(message.contains("'a' twice"), "{message}");
        let message = CharVocabulary::new("ab").unwrap().encode("abc").unwrap_err().to_string();
        assert!(message.contains("'c' in \"abc\""), "{message}");
    }
}
