//! A translation task whose data is generated, not downloaded: dates written in many human
//! formats ("3 March 2021", "03/03/21", "Wed, Mar 3, 2021", "march 3rd 2021", ...) paired with
//! their ISO 8601 form ("2021-03-03"), the sequence-to-sequence lesson's toy translation task.
//!
//! [`generate`] draws dates uniformly from 1950-01-01 to 2049-12-31 ([`FIRST_YEAR`],
//! [`LAST_YEAR`]) and writes each in a [`DateFormat`] drawn uniformly, from a seeded generator.
//! [`encode`] turns the pairs into the three arrays of Keras' character-level
//! sequence-to-sequence tutorial, as character ids of two fixed vocabularies
//! ([`human_vocabulary`], [`iso_vocabulary`]):
//!
//! - the encoder's input: the human form, padded with 0 to [`HUMAN_LENGTH`];
//! - the decoder's input (teacher forcing): [`START`] then the first 9 characters of the ISO
//!   form;
//! - the decoder's target: the 10 characters of the ISO form, the decoder's input shifted by
//!   one step.
//!
//! ```
//! use rnnkit::datasets::dates;
//! use rnnkit::text::Padding;
//! # fn main() -> rnnkit::Result<()> {
//! let pairs = dates::generate(1_000, 7);
//! println!("{} → {}", pairs[0].human, pairs[0].iso);
//! let data = dates::encode(&pairs, Padding::Pre)?;
//! assert_eq!(data.encoder_input.dim(), (1_000, dates::HUMAN_LENGTH));
//! assert_eq!(data.decoder_input.dim(), (1_000, dates::ISO_LENGTH));
//! let iso = dates::iso_vocabulary();
//! assert_eq!(iso.decode(data.decoder_target.row(0).iter().map(|&id| id as u32)), pairs[0].iso);
//! # Ok(())
//! # }
//! ```

mod calendar;
mod formats;
mod vocabulary;

pub use calendar::Date;
pub use formats::DateFormat;
pub use vocabulary::CharVocabulary;

use crate::text::{pad_sequences, Padding, Truncating};
use crate::Result;
use ndarray::Array2;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The first year dates are drawn from. With [`LAST_YEAR`], two-digit years are unambiguous.
pub const FIRST_YEAR: i32 = 1950;
/// The last year dates are drawn from.
pub const LAST_YEAR: i32 = 2049;
/// The length of the longest human form ("Wednesday September 30th, 2021" and the like), to
/// which the encoder's input is padded.
pub const HUMAN_LENGTH: usize = 30;
/// The length of an ISO date, `YYYY-MM-DD`.
pub const ISO_LENGTH: usize = 10;
/// The character that starts the decoder's input (Keras' tutorial uses a tab too).
pub const START: char = '\t';

/// One example of the task: a date, written by a person and in ISO 8601.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatePair {
    /// The date both texts name.
    pub date: Date,
    /// How `human` is written.
    pub format: DateFormat,
    /// The date in `format` (the source text).
    pub human: String,
    /// The date as `YYYY-MM-DD` (the target text).
    pub iso: String,
}

/// `count` dates drawn uniformly from [`FIRST_YEAR`]–[`LAST_YEAR`], each in a format drawn
/// uniformly from [`DateFormat::ALL`]; the same `seed` gives the same pairs.
pub fn generate(count: usize, seed: u64) -> Vec<DatePair> {
    let mut rng = StdRng::seed_from_u64(seed);
    let first = first_day().days_since_epoch();
    let last = last_day().days_since_epoch();
    (0..count)
        .map(|_| {
            let days = rng.gen_range(first..=last);
            // Every day count in the range is a date of years FIRST_YEAR..=LAST_YEAR.
            let date = Date::from_days_since_epoch(days).unwrap_or_else(|_| first_day());
            let format = DateFormat::ALL[rng.gen_range(0..DateFormat::ALL.len())];
            DatePair { date, format, human: format.render(date), iso: date.to_string() }
        })
        .collect()
}

fn first_day() -> Date {
    Date::known(FIRST_YEAR, 1, 1)
}

fn last_day() -> Date {
    Date::known(LAST_YEAR, 12, 31)
}

/// The characters of the human forms: space, `,`, `-`, `.`, `/`, the digits, then the
/// letters, upper case first (67 characters, ids 1 to 67; 0 is padding).
pub fn human_vocabulary() -> CharVocabulary {
    CharVocabulary::distinct(" ,-./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
}

/// The characters of the ISO forms, after [`START`]: `START`, `-`, then the digits (ids 1 to
/// 12; 0 is padding).
pub fn iso_vocabulary() -> CharVocabulary {
    CharVocabulary::distinct("\t-0123456789")
}

/// The task's arrays, one row per pair, as character ids in `f32` (what an `Embedding` takes).
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    /// The human forms, `(pairs, HUMAN_LENGTH)`, ids of [`human_vocabulary`] padded with 0.
    pub encoder_input: Array2<f32>,
    /// [`START`] and the first 9 ISO characters, `(pairs, ISO_LENGTH)`, ids of
    /// [`iso_vocabulary`].
    pub decoder_input: Array2<f32>,
    /// The ISO characters, `(pairs, ISO_LENGTH)`, ids of [`iso_vocabulary`]: the decoder's
    /// input one step ahead (class ids, for sparse categorical cross-entropy).
    pub decoder_target: Array2<f32>,
}

/// The three arrays of the task for `pairs`; the human forms are padded with 0 before
/// (`Padding::Pre`) or after (`Padding::Post`) their text.
///
/// # Errors
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a pair whose texts hold a
/// character outside the vocabularies, a human form longer than [`HUMAN_LENGTH`], or an ISO
/// form of another length than [`ISO_LENGTH`] (pairs edited by hand; [`generate`] makes none).
pub fn encode(pairs: &[DatePair], padding: Padding) -> Result<Encoded> {
    let (human, iso) = (human_vocabulary(), iso_vocabulary());
    let mut sources = Vec::with_capacity(pairs.len());
    let mut inputs = Vec::with_capacity(pairs.len());
    let mut targets = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let source = human.encode(&pair.human)?;
        if source.len() > HUMAN_LENGTH {
            return Err(crate::Error::invalid(
                "human",
                format!("at most {HUMAN_LENGTH} characters"),
                format!("{:?}", pair.human),
            ));
        }
        let target = iso.encode(&pair.iso)?;
        if target.len() != ISO_LENGTH {
            return Err(crate::Error::invalid(
                "iso",
                format!("{ISO_LENGTH} characters (YYYY-MM-DD)"),
                format!("{:?}", pair.iso),
            ));
        }
        let start = iso.id(START).unwrap_or_default();
        inputs.push([&[start], &target[..ISO_LENGTH - 1]].concat());
        targets.push(target);
        sources.push(source);
    }
    let pad = |sequences: &[Vec<u32>], length, padding| {
        pad_sequences(sequences, Some(length), padding, Truncating::Post, 0.0)
    };
    Ok(Encoded {
        encoder_input: pad(&sources, HUMAN_LENGTH, padding)?,
        decoder_input: pad(&inputs, ISO_LENGTH, Padding::Post)?,
        decoder_target: pad(&targets, ISO_LENGTH, Padding::Post)?,
    })
}

#[cfg(test)]
mod tests;
