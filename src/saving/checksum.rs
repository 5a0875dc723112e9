//! The checksum of a weights file's tensor data: FNV-1a, 64 bits, over the tensors' bytes in
//! name order (the serialiser's order), stored as `fnv1a64:` and 16 hex digits.

use super::{data_error, METADATA_KEY};
use crate::Result;
use safetensors::SafeTensors;
use serde_json::Value;
use std::path::Path;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, 64 bits, continued from `hash` over `bytes`.
fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME))
}

/// The checksum of tensors' data given in name order.
pub(super) fn of<'a>(data_in_name_order: impl IntoIterator<Item = &'a [u8]>) -> u64 {
    data_in_name_order.into_iter().fold(FNV_OFFSET, fnv1a)
}

/// `fnv1a64:` and 16 hex digits.
pub(super) fn text(checksum: u64) -> String {
    format!("fnv1a64:{checksum:016x}")
}

/// Checks the tensors' data against the checksum of the file's metadata `json` (rnnkit's, when
/// the file has it).
///
/// # Errors
/// [`Error::Data`](crate::Error::Data) naming `path` when the metadata has no checksum or the
/// data does not match it.
pub(super) fn verify(path: &Path, tensors: &SafeTensors<'_>, json: Option<&Value>) -> Result<()> {
    let Some(json) = json else { return Ok(()) };
    let Some(stored) = json.get("checksum").and_then(Value::as_str) else {
        return Err(data_error(
            path,
            format!("the metadata `{METADATA_KEY}` has no checksum; the file is corrupt"),
        ));
    };
    let mut names = tensors.names();
    names.sort_unstable();
    let mut data = Vec::with_capacity(names.len());
    for name in names {
        data.push(tensors.tensor(name).map_err(|e| super::not_weights(path, e))?.data());
    }
    let computed = text(of(data));
    if stored != computed {
        return Err(data_error(
            path,
            format!(
                "the tensor data does not match the file's checksum ({stored}, computed \
                 {computed}); the file is corrupt"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_reference_vectors() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(FNV_OFFSET, b"foobar"), 0x8594_4171_f739_67e8);
    }
}
