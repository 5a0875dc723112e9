//! `pad_sequences`: Keras' `keras.utils.pad_sequences`, into the `f32` array models take.

use ndarray::{s, Array2};

use crate::{Error, Result};

/// The largest id `pad_sequences` accepts: every integer up to 2²⁴ is exact in `f32`.
const MAX_EXACT_ID: u32 = 1 << 24;

/// Where [`pad_sequences`] adds padding to a short sequence (Keras' `padding`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Padding {
    /// Before the sequence, so its last id is in the last column (Keras' default, `"pre"`).
    #[default]
    Pre,
    /// After the sequence (`"post"`).
    Post,
}

/// Which end [`pad_sequences`] cuts from a sequence longer than `maxlen` (Keras' `truncating`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Truncating {
    /// Drop the first ids, keeping the last `maxlen` (Keras' default, `"pre"`).
    #[default]
    Pre,
    /// Drop the last ids, keeping the first `maxlen` (`"post"`).
    Post,
}

/// Pads or truncates each sequence to `maxlen` ids and stacks them into a
/// `(sequences.len(), maxlen)` array of `f32`, like Keras' `pad_sequences` with `dtype="float32"`.
///
/// Keras' defaults are `maxlen = None` (the longest sequence's length), [`Padding::Pre`],
/// [`Truncating::Pre`] and `value = 0.0`. No sequences give a `(0, maxlen)` array (`(0, 0)`
/// with `maxlen = None`, where Keras raises); empty sequences give rows of `value`.
///
/// # Errors
///
/// [`Error::InvalidArgument`] if `maxlen` is `Some(0)`, if the array would not fit in memory's
/// address space, or if an id kept in the output is above 16,777,216 (2²⁴, the largest range of
/// integers `f32` holds exactly).
///
/// # Example
///
/// ```
/// use rnnkit::text::{pad_sequences, Padding, Truncating};
/// # fn main() -> rnnkit::Result<()> {
/// let sequences = vec![vec![1, 2, 3], vec![4]];
/// let x = pad_sequences(&sequences, Some(2), Padding::Pre, Truncating::Pre, 0.0)?;
/// assert_eq!(x, ndarray::array![[2.0, 3.0], [0.0, 4.0]]);
/// # Ok(())
/// # }
/// ```
pub fn pad_sequences<S: AsRef<[u32]>>(
    sequences: &[S],
    maxlen: Option<usize>,
    padding: Padding,
    truncating: Truncating,
    value: f32,
) -> Result<Array2<f32>> {
    if maxlen == Some(0) {
        return Err(Error::invalid("maxlen", "a positive integer or None", 0));
    }
    let rows = sequences.len();
    let width = match maxlen {
        Some(maxlen) => maxlen,
        None => sequences.iter().map(|sequence| sequence.as_ref().len()).max().unwrap_or(0),
    };
    let fits = rows
        .checked_mul(width)
        .and_then(|len| len.checked_mul(std::mem::size_of::<f32>()))
        .is_some_and(|bytes| bytes <= isize::MAX as usize);
    if !fits {
        return Err(Error::invalid(
            "maxlen",
            format!("an array of {rows} rows that fits in memory"),
            width,
        ));
    }

    // Reserve first: an array too large for memory is an error, not an abort.
    let mut storage = Vec::new();
    if storage.try_reserve_exact(rows * width).is_err() {
        return Err(Error::invalid(
            "maxlen",
            format!("an array of {rows} rows that fits in memory"),
            width,
        ));
    }
    storage.resize(rows * width, value);
    let mut padded = Array2::from_shape_vec((rows, width), storage)
        .map_err(|e| Error::invalid("maxlen", "a shape ndarray accepts", e))?;
    for (mut row, sequence) in padded.rows_mut().into_iter().zip(sequences) {
        let sequence = sequence.as_ref();
        let kept = if sequence.len() <= width {
            sequence
        } else {
            match truncating {
                Truncating::Pre => &sequence[sequence.len() - width..],
                Truncating::Post => &sequence[..width],
            }
        };
        if let Some(&id) = kept.iter().find(|&&id| id > MAX_EXACT_ID) {
            return Err(Error::invalid(
                "sequences",
                format!("ids up to {MAX_EXACT_ID} (exact in f32)"),
                id,
            ));
        }
        let start = match padding {
            Padding::Pre => width - kept.len(),
            Padding::Post => 0,
        };
        for (slot, &id) in row.slice_mut(s![start..start + kept.len()]).iter_mut().zip(kept) {
            *slot = id as f32;
        }
    }
    Ok(padded)
}
