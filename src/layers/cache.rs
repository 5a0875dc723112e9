//! Moving a layer's forward cache out and back ([`Layer::take_forward_cache`] and
//! [`Layer::put_forward_cache`](super::Layer::put_forward_cache)), for a layer trained at
//! several nodes of a functional model.

use super::ForwardCache;
use crate::{Error, Result};

/// Moves out what `slot` holds (possibly nothing: an inference-mode forward keeps nothing).
pub(crate) fn take<T: Send + 'static>(slot: &mut Option<T>) -> Option<ForwardCache> {
    Some(Box::new(slot.take()))
}

/// Puts back into `slot` a cache that [`take`] moved out of a layer of the same type.
///
/// # Errors
/// [`Error::NoForwardCache`] naming `layer` when `cache` is of another layer type.
pub(crate) fn put<T: Send + 'static>(
    layer: &str,
    slot: &mut Option<T>,
    cache: ForwardCache,
) -> Result<()> {
    let cache = cache
        .downcast::<Option<T>>()
        .map_err(|_| Error::NoForwardCache(format!("{layer} (a cache of another layer)")))?;
    *slot = *cache;
    Ok(())
}
