//! Datasets: where data comes from and how it is read.
//!
//! [`imdb::load`] looks for Stanford's `aclImdb_v1.tar.gz` (or its unpacked `aclImdb/` folder) in
//! this order, and reads the first it finds:
//!
//! 1. the path given as argument: the `.tar.gz` file itself, an `aclImdb/` folder, or a folder
//!    holding either (an argument that holds none of them is an error, not a fall-through);
//! 2. the environment variable `RNNKIT_DATA` ([`DATA_ENV`]), with the same three forms (when it
//!    is empty or holds none of them, the search goes on);
//! 3. the user cache: `aclImdb_v1.tar.gz` in [`cache_dir`], that is `$XDG_CACHE_HOME/rnnkit/` if
//!    that variable holds an absolute path, else `$HOME/.cache/rnnkit/`;
//! 4. with the `download` feature (on by default), a download of [`imdb::URL`] (84 MB) into that
//!    cache, once, with a progress bar (`download::download_to`); without the feature, an error
//!    saying where to put the file.
//!
//! Nothing is unpacked to disk: the archive is streamed. [`imdb::locate`] answers where `load`
//! would read from without reading.
//!
//! [`dates`] is generated instead: dates in many human formats paired with their ISO form, the
//! translation lesson's task.

pub mod dates;
#[cfg(feature = "download")]
pub mod download;
pub mod imdb;

use std::path::PathBuf;

/// The environment variable naming where datasets are: a folder holding them, or the file itself.
pub const DATA_ENV: &str = "RNNKIT_DATA";

/// rnnkit's folder in the user cache, where downloads go: `$XDG_CACHE_HOME/rnnkit` if that
/// variable holds an absolute path, else `$HOME/.cache/rnnkit`; `None` if neither is set.
pub fn cache_dir() -> Option<PathBuf> {
    let absolute =
        |name: &str| std::env::var_os(name).map(PathBuf::from).filter(|path| path.is_absolute());
    let base =
        absolute("XDG_CACHE_HOME").or_else(|| absolute("HOME").map(|home| home.join(".cache")))?;
    Some(base.join("rnnkit"))
}
