//! The default names of inputs and layers, given as Keras gives them: a stem numbered per
//! thread (`input_layer`, `input_layer_1`, `dense`, `dense_1`, ...), until [`clear_session`].

use std::cell::RefCell;
use std::collections::HashMap;

thread_local! {
    /// How many names each stem has given on this thread (Keras' `OBJECT_NAME_UIDS`).
    static UIDS: RefCell<HashMap<String, usize>> = RefCell::new(HashMap::new());
}

/// The next name of `stem` on this thread: `stem`, then `stem_1`, `stem_2`, ...
pub(crate) fn unique_name(stem: &str) -> String {
    UIDS.with(|uids| {
        let mut uids = uids.borrow_mut();
        let count = uids.entry(stem.to_string()).or_insert(0);
        *count += 1;
        match *count {
            1 => stem.to_string(),
            n => format!("{stem}_{}", n - 1),
        }
    })
}

/// Restarts the default names on this thread, as Keras' `keras.backend.clear_session()`: the
/// next unnamed `Input` is `input_layer` again and the next unnamed `Dense` called is `dense`.
/// Names are given to an input when it is made and to a layer at its first call.
///
/// # Examples
/// ```
/// use rnnkit::model::{clear_session, Input};
/// clear_session();
/// assert_eq!(Input::new(&[3]).name(), "input_layer");
/// assert_eq!(Input::new(&[3]).name(), "input_layer_1");
/// clear_session();
/// assert_eq!(Input::new(&[3]).name(), "input_layer");
/// ```
pub fn clear_session() {
    UIDS.with(|uids| uids.borrow_mut().clear());
}
