//! Moving a layer's forward cache out and back ([`Layer::take_forward_cache`] and
//! [`Layer::put_forward_cache`](super::Layer::put_forward_cache)), for a layer trained at
//! several nodes of a functional model.

use super::ForwardCache;
use crate::{Error, Result};
use std::marker::PhantomData;

/// A cache of layer type `L`: two layer types that keep the same type of cache do not take
/// each other's.
struct Tagged<L, T>(PhantomData<fn() -> L>, Option<T>);

/// Moves out what `slot` of a layer of type `L` holds (possibly nothing: an inference-mode
/// forward keeps nothing).
pub(crate) fn take<L: 'static, T: Send + 'static>(slot: &mut Option<T>) -> Option<ForwardCache> {
    Some(Box::new(Tagged::<L, T>(PhantomData, slot.take())))
}

/// Puts back into `slot` a cache that [`take`] moved out of a layer of type `L`.
///
/// # Errors
/// [`Error::NoForwardCache`] naming `layer` when `cache` is of another layer type.
pub(crate) fn put<L: 'static, T: Send + 'static>(
    layer: &str,
    slot: &mut Option<T>,
    cache: ForwardCache,
) -> Result<()> {
    let cache = cache
        .downcast::<Tagged<L, T>>()
        .map_err(|_| Error::NoForwardCache(format!("{layer} (a cache of another layer)")))?;
    *slot = cache.1;
    Ok(())
}
