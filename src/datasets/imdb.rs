//! The IMDB movie-review sentiment dataset (Maas et al., "Learning Word Vectors for Sentiment
//! Analysis", ACL 2011), read from Stanford's `aclImdb_v1.tar.gz` or its unpacked `aclImdb/`.
//!
//! Only the 50,000 labeled reviews are read (`aclImdb/{train,test}/{neg,pos}/ID_RATING.txt`);
//! `train/unsup` and the other members are skipped. The order is the one Keras users get by
//! reading the folders: per split, the negative reviews (label 0) then the positive ones
//! (label 1), each in lexicographic order of file name.
//!
//! ```no_run
//! use rnnkit::datasets::imdb;
//! # fn main() -> rnnkit::Result<()> {
//! let data = imdb::load(None)?; // argument, RNNKIT_DATA, user cache, then download
//! assert_eq!(data.train.len(), 25_000);
//! println!("{} ({})", data.train.texts[0], data.train.labels[0]);
//! # Ok(())
//! # }
//! ```

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use flate2::bufread::GzDecoder;

use crate::{Error, Result};

/// Where Stanford distributes the dataset.
pub const URL: &str = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz";

/// The archive's file name, looked for in `RNNKIT_DATA` and in the user cache.
pub const FILE_NAME: &str = "aclImdb_v1.tar.gz";

/// The top folder of the archive, and the name of an unpacked copy.
const FOLDER_NAME: &str = "aclImdb";

/// The four groups of labeled reviews, in the order they are returned.
const GROUPS: [(&str, &str); 4] =
    [("train", "neg"), ("train", "pos"), ("test", "neg"), ("test", "pos")];

/// Reviews larger than this are still read; it only caps the buffer reserved up front from a
/// (possibly corrupt) tar header.
const MAX_RESERVE: u64 = 1 << 20;

/// One half of the dataset: texts with their labels and ratings, in the same order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Split {
    /// The reviews, as in the files (HTML line breaks `<br />` included).
    pub texts: Vec<String>,
    /// 0.0 for a negative review, 1.0 for a positive one.
    pub labels: Vec<f32>,
    /// The review's rating out of 10, from its file name (negative ≤ 4, positive ≥ 7).
    pub ratings: Vec<u8>,
}

impl Split {
    /// The number of reviews.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether there is no review.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

/// The labeled IMDB reviews: 25,000 for training and 25,000 for testing, half of each positive.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Imdb {
    /// `aclImdb/train/{neg,pos}`.
    pub train: Split,
    /// `aclImdb/test/{neg,pos}`.
    pub test: Split,
}

/// Where [`load`] reads the dataset from, as found by [`locate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A `.tar.gz` archive with Stanford's member paths.
    Archive(PathBuf),
    /// An unpacked `aclImdb/` folder.
    Folder(PathBuf),
    /// Found nowhere: `load` downloads the archive to this path in the user cache.
    Download(PathBuf),
}

/// Loads the 50,000 labeled IMDB reviews from the first place that has them.
///
/// The places, in order: `path`, the folder or file named by `RNNKIT_DATA`, the user cache,
/// else (with the `download` feature) a download into the cache; see
/// [the module docs](crate::datasets) for details.
///
/// `path` (like `RNNKIT_DATA`) may be the `aclImdb_v1.tar.gz` file, an unpacked `aclImdb/`
/// folder, or a folder holding either. The archive is streamed, never unpacked to disk.
///
/// # Errors
///
/// - [`Error::Data`] if `path` holds no dataset; if the file is not a gzip file, is truncated or
///   corrupt, lacks one of the four groups of reviews, has a review that is not UTF-8 or a file
///   name not of the form `ID_RATING.txt`; or, without the `download` feature, if the dataset
///   is found nowhere.
/// - [`Error::Io`] if a file or folder cannot be read.
/// - [`Error::Download`] if the download fails.
pub fn load(path: Option<&Path>) -> Result<Imdb> {
    let rnnkit_data = std::env::var_os(super::DATA_ENV);
    let cache_dir = super::cache_dir();
    match locate(path, rnnkit_data.as_deref(), cache_dir.as_deref())? {
        Location::Archive(file) => read_archive(&file),
        Location::Folder(folder) => read_folder(&folder),
        Location::Download(file) => download_and_read(&file),
    }
}

/// Where [`load`] would read from, given its argument, the value of `RNNKIT_DATA` and the user
/// cache folder ([`cache_dir`](super::cache_dir)); touches nothing but file metadata.
///
/// An empty `rnnkit_data` counts as unset; one that holds no dataset is passed over.
///
/// # Errors
///
/// [`Error::Data`] if `path` is given but holds no dataset, or if the dataset is found nowhere
/// and there is no cache folder to download to.
pub fn locate(
    path: Option<&Path>,
    rnnkit_data: Option<&OsStr>,
    cache_dir: Option<&Path>,
) -> Result<Location> {
    if let Some(path) = path {
        return find_in(path).ok_or_else(|| {
            let problem = if path.exists() {
                format!("holds neither {FILE_NAME} nor an unpacked {FOLDER_NAME}/ folder")
            } else {
                "does not exist".to_string()
            };
            data_error(
                path,
                format!(
                    "{problem}; pass the path of {FILE_NAME} (download it from {URL}) or of its \
                     unpacked {FOLDER_NAME}/ folder"
                ),
            )
        });
    }
    if let Some(location) =
        rnnkit_data.filter(|value| !value.is_empty()).and_then(|value| find_in(Path::new(value)))
    {
        return Ok(location);
    }
    let Some(cache_dir) = cache_dir else {
        return Err(data_error(
            Path::new(FILE_NAME),
            format!(
                "not found in {} and there is no user cache folder ($HOME is unset); download \
                 {URL} and set {} to its folder",
                super::DATA_ENV,
                super::DATA_ENV
            ),
        ));
    };
    let file = cache_dir.join(FILE_NAME);
    Ok(if file.is_file() { Location::Archive(file) } else { Location::Download(file) })
}

/// The dataset in `path`, if any: the archive itself, an `aclImdb/` folder, or a folder holding
/// the archive or an `aclImdb/` folder (the archive first).
fn find_in(path: &Path) -> Option<Location> {
    if path.is_file() {
        return Some(Location::Archive(path.to_path_buf()));
    }
    if !path.is_dir() {
        return None;
    }
    let archive = path.join(FILE_NAME);
    let folder = path.join(FOLDER_NAME);
    if archive.is_file() {
        Some(Location::Archive(archive))
    } else if folder.is_dir() {
        Some(Location::Folder(folder))
    } else if path.join("train").is_dir() || path.join("test").is_dir() {
        Some(Location::Folder(path.to_path_buf()))
    } else {
        None
    }
}

#[cfg(feature = "download")]
fn download_and_read(file: &Path) -> Result<Imdb> {
    super::download::download_to(URL, file)?;
    read_archive(file)
}

#[cfg(not(feature = "download"))]
fn download_and_read(file: &Path) -> Result<Imdb> {
    Err(data_error(
        file,
        format!(
            "not found, nor in {}, and rnnkit was built without its `download` feature; download \
             {URL} to this path or set {} to the folder holding it",
            super::DATA_ENV,
            super::DATA_ENV
        ),
    ))
}

/// Streams the reviews out of a `.tar.gz` archive.
fn read_archive(path: &Path) -> Result<Imdb> {
    let file = File::open(path).map_err(|source| Error::io(path, source))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let head = reader.fill_buf().map_err(|source| Error::io(path, source))?;
    if !head.starts_with(&[0x1f, 0x8b]) {
        return Err(damaged(path, format!("is not a gzip file; expected {FILE_NAME}")));
    }
    let corrupt = |error: io::Error| {
        damaged(
            path,
            format!("cannot be read as a .tar.gz archive ({error}): it is truncated or corrupt"),
        )
    };
    let mut archive = tar::Archive::new(GzDecoder::new(reader));
    let mut reviews = Reviews::default();
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let member = entry.path().map_err(corrupt)?.into_owned();
        let Some((group, name)) = classify(&member) else { continue };
        let rating = rating_of(name).ok_or_else(|| bad_name(path, &member))?;
        let mut bytes = Vec::with_capacity(entry.size().min(MAX_RESERVE) as usize);
        entry.read_to_end(&mut bytes).map_err(corrupt)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            damaged(path, format!("member {} is not valid UTF-8", member.display()))
        })?;
        reviews.push(group, name.to_string(), rating, text);
    }
    // Read to the end so that the gzip trailer (CRC and length) is checked.
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(corrupt)?;
    reviews.finish(path)
}

/// Reads the reviews of an unpacked `aclImdb/` folder.
fn read_folder(root: &Path) -> Result<Imdb> {
    let mut reviews = Reviews::default();
    for (group, (split, label)) in GROUPS.iter().enumerate() {
        let dir = root.join(split).join(label);
        let listing = fs::read_dir(&dir).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => {
                damaged(&dir, "is missing: the folder is incomplete".to_string())
            }
            _ => Error::io(&dir, source),
        })?;
        for entry in listing {
            let file = entry.map_err(|source| Error::io(&dir, source))?.path();
            let Some(name) = file.file_name().and_then(OsStr::to_str) else { continue };
            // Hidden files (such as macOS' `._NAME` companions) are not reviews.
            if name.starts_with('.') || !name.ends_with(".txt") || !file.is_file() {
                continue;
            }
            let rating = rating_of(name).ok_or_else(|| bad_name(root, &file))?;
            let bytes = fs::read(&file).map_err(|source| Error::io(&file, source))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| damaged(&file, "is not valid UTF-8".to_string()))?;
            reviews.push(group, name.to_string(), rating, text);
        }
    }
    reviews.finish(root)
}

/// The group (index into [`GROUPS`]) and file name of a member `aclImdb/SPLIT/LABEL/NAME.txt`.
fn classify(member: &Path) -> Option<(usize, &str)> {
    let mut parts = member.components().filter(|part| *part != Component::CurDir);
    let mut next = || parts.next().and_then(|part| part.as_os_str().to_str());
    let (top, split, label, name) = (next()?, next()?, next()?, next()?);
    if top != FOLDER_NAME || next().is_some() || !name.ends_with(".txt") {
        return None;
    }
    let group = GROUPS.iter().position(|&group| group == (split, label))?;
    Some((group, name))
}

/// The rating in a file name `ID_RATING.txt`, if it is one from 1 to 10.
fn rating_of(name: &str) -> Option<u8> {
    let (_, rating) = name.strip_suffix(".txt")?.rsplit_once('_')?;
    rating.parse::<u8>().ok().filter(|rating| (1..=10).contains(rating))
}

fn bad_name(path: &Path, member: &Path) -> Error {
    damaged(
        path,
        format!("{} is not named ID_RATING.txt with a rating from 1 to 10", member.display()),
    )
}

fn data_error(path: &Path, message: String) -> Error {
    Error::Data { path: path.to_path_buf(), message }
}

/// An [`Error::Data`] for a damaged or incomplete copy, saying what to do.
fn damaged(path: &Path, problem: String) -> Error {
    data_error(
        path,
        format!(
            "{problem}; re-download it from {URL} or set {} to a complete copy",
            super::DATA_ENV
        ),
    )
}

/// A review with what it is sorted by.
struct Review {
    name: String,
    rating: u8,
    text: String,
}

/// The reviews read so far, by group.
#[derive(Default)]
struct Reviews {
    groups: [Vec<Review>; 4],
}

impl Reviews {
    fn push(&mut self, group: usize, name: String, rating: u8, text: String) {
        self.groups[group].push(Review { name, rating, text });
    }

    /// Checks that every group has reviews, sorts each by file name and assembles the splits.
    fn finish(self, source: &Path) -> Result<Imdb> {
        for (reviews, (split, label)) in self.groups.iter().zip(GROUPS) {
            if reviews.is_empty() {
                return Err(damaged(
                    source,
                    format!("has no reviews {FOLDER_NAME}/{split}/{label}/*.txt"),
                ));
            }
        }
        let [train_neg, train_pos, test_neg, test_pos] = self.groups;
        Ok(Imdb { train: split_of(train_neg, train_pos), test: split_of(test_neg, test_pos) })
    }
}

fn split_of(negative: Vec<Review>, positive: Vec<Review>) -> Split {
    let mut split = Split::default();
    for (mut reviews, label) in [(negative, 0.0), (positive, 1.0)] {
        reviews.sort_by(|a, b| a.name.cmp(&b.name));
        for review in reviews {
            split.texts.push(review.text);
            split.labels.push(label);
            split.ratings.push(review.rating);
        }
    }
    split
}
