//! `datasets::imdb::load(Some(path))` on hostile files and folders: random bytes, random bytes
//! behind a gzip header, truncated and bit-flipped archives, tar members with odd names and
//! types, and folders with odd entries (symlinks, FIFOs, folders named like reviews).

use super::{check_message, config, TempDir};
use flate2::write::GzEncoder;
use flate2::Compression;
use proptest::prelude::*;
use rnnkit::datasets::imdb::{self, Imdb};
use rnnkit::Error;
use std::fs;
use std::io::{Read, Write};
use std::path::Path;

/// Path components that a reader must classify correctly or skip: the real ones, empty and
/// relative ones, names with no, bad or out-of-range ratings, non-UTF-8 and very long names.
fn component() -> impl Strategy<Value = Vec<u8>> {
    let pool: Vec<Vec<u8>> = [
        "aclImdb",
        "train",
        "test",
        "neg",
        "pos",
        "unsup",
        "",
        ".",
        "..",
        "1_7.txt",
        "0_1.txt",
        "2_10.txt",
        "3_11.txt",
        "4_0.txt",
        "_5.txt",
        "a_b_3.txt",
        "5_-1.txt",
        "6_+7.txt",
        "7_07.txt",
        "x.txt",
        ".txt",
        "8_1.TXT",
        "ünï_3.txt",
        "\\",
        "C:",
        "名前_2.txt",
        "9_2.txt/",
        "10_4",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .chain([b"\xff\xfe_2.txt".to_vec(), [b"x".repeat(150), b"_4.txt".to_vec()].concat()])
    .collect();
    prop::sample::select(pool)
}

/// A member path: two to six components, sometimes absolute or `./`-prefixed.
fn member_name() -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec(component(), 1..6), 0u8..4).prop_map(|(parts, prefix)| {
        let mut name = match prefix {
            0 => b"/".to_vec(),
            1 => b"./".to_vec(),
            _ => Vec::new(),
        };
        name.extend(parts.join(&b'/'));
        name
    })
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    File,
    Folder,
    Symlink,
    Hardlink,
    Fifo,
    /// A PAX extended header with the member's data as its records, before a regular file.
    Pax,
}

#[derive(Clone, Debug)]
struct Member {
    name: Vec<u8>,
    kind: Kind,
    data: Vec<u8>,
}

fn member() -> impl Strategy<Value = Member> {
    let kind = prop::sample::select(vec![
        Kind::File,
        Kind::File,
        Kind::File,
        Kind::Folder,
        Kind::Symlink,
        Kind::Hardlink,
        Kind::Fifo,
        Kind::Pax,
    ]);
    let data = prop_oneof![
        "[a-z .!]{0,20}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..40),
        Just(b"27 path=aclImdb/test/pos/1_9.txt\n".to_vec()),
    ];
    (member_name(), kind, data).prop_map(|(name, kind, data)| Member { name, kind, data })
}

/// One review in each of the four groups, so that an archive can load.
fn valid_members() -> Vec<Member> {
    ["train/neg/1_2.txt", "train/pos/2_9.txt", "test/neg/3_1.txt", "test/pos/4_10.txt"]
        .iter()
        .map(|path| Member {
            name: format!("aclImdb/{path}").into_bytes(),
            kind: Kind::File,
            data: b"A review.".to_vec(),
        })
        .collect()
}

/// A tar header of `kind` whose name field holds the first 100 bytes of `name` as they are.
fn raw_header(name: &[u8], kind: tar::EntryType, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    let field = &mut header.as_old_mut().name;
    let len = name.len().min(field.len());
    field[..len].copy_from_slice(&name[..len]);
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(0o644);
    header
}

/// The `.tar.gz` bytes of `members`, names written raw (a GNU long-name entry before names
/// longer than the 100-byte field), with no check of what the names say.
fn archive(members: &[Member]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for member in members {
        if member.name.len() > 100 {
            let mut long = member.name.clone();
            long.push(0);
            let mut header =
                raw_header(b"././@LongLink", tar::EntryType::GNULongName, long.len() as u64);
            header.set_cksum();
            builder.append(&header, long.as_slice()).expect("in memory");
        }
        let (kind, data): (tar::EntryType, &[u8]) = match member.kind {
            Kind::File => (tar::EntryType::Regular, &member.data),
            Kind::Folder => (tar::EntryType::Directory, &[]),
            Kind::Symlink => (tar::EntryType::Symlink, &[]),
            Kind::Hardlink => (tar::EntryType::Link, &[]),
            Kind::Fifo => (tar::EntryType::Fifo, &[]),
            Kind::Pax => {
                let mut pax = raw_header(b"pax", tar::EntryType::XHeader, member.data.len() as u64);
                pax.set_cksum();
                builder.append(&pax, member.data.as_slice()).expect("in memory");
                (tar::EntryType::Regular, b"after a PAX header".as_slice())
            }
        };
        let mut header = raw_header(&member.name, kind, data.len() as u64);
        if matches!(member.kind, Kind::Symlink | Kind::Hardlink) {
            let link = &mut header.as_old_mut().linkname;
            let target = b"aclImdb/train/neg/1_2.txt";
            link[..target.len()].copy_from_slice(target);
        }
        header.set_cksum();
        builder.append(&header, data).expect("in memory");
    }
    builder.into_inner().and_then(|gz| gz.finish()).expect("in memory")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory")
}

/// A loaded dataset is well formed: aligned columns, both labels, ratings 1 to 10, negative
/// reviews before positive ones.
fn check_dataset(data: &Imdb) -> Result<(), TestCaseError> {
    for split in [&data.train, &data.test] {
        prop_assert!(!split.is_empty());
        prop_assert_eq!(split.texts.len(), split.labels.len());
        prop_assert_eq!(split.texts.len(), split.ratings.len());
        prop_assert!(split.labels.windows(2).all(|w| w[0] <= w[1]), "{:?}", split.labels);
        prop_assert!(split.labels.iter().all(|&l| l == 0.0 || l == 1.0));
        prop_assert!(split.ratings.iter().all(|r| (1..=10).contains(r)));
    }
    Ok(())
}

/// `load(path)`: a well-formed dataset, or an error of a data or file kind naming `path`.
fn load_checked(path: &Path) -> Result<Option<Imdb>, TestCaseError> {
    match imdb::load(Some(path)) {
        Ok(data) => {
            check_dataset(&data)?;
            Ok(Some(data))
        }
        Err(error) => {
            prop_assert!(matches!(error, Error::Data { .. } | Error::Io { .. }), "{:?}", error);
            check_message(&error, &[path.display().to_string()])?;
            Ok(None)
        }
    }
}

fn write(dir: &TempDir, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(imdb::FILE_NAME);
    fs::write(&path, bytes).expect("the temp folder is writable");
    path
}

proptest! {
    #![proptest_config(config(256))]

    /// Random bytes, bare or behind a gzip magic number, or gzip-compressed: never a dataset.
    #[test]
    fn random_bytes_are_refused(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        wrapping in 0u8..3,
    ) {
        let dir = TempDir::new("random");
        let bytes = match wrapping {
            0 => bytes,
            1 => [&[0x1f, 0x8b][..], &bytes].concat(),
            _ => gzip(&bytes),
        };
        let path = write(&dir, &bytes);
        prop_assert!(load_checked(&path)?.is_none(), "random bytes loaded");
    }

    /// Archives with members of any name and type load as a well-formed dataset or are refused
    /// naming the file.
    #[test]
    fn odd_members_load_or_are_refused(
        members in prop::collection::vec(member(), 0..8),
        with_valid in any::<bool>(),
        valid_first in any::<bool>(),
    ) {
        let dir = TempDir::new("members");
        let mut all = if with_valid && valid_first { valid_members() } else { Vec::new() };
        all.extend(members);
        if with_valid && !valid_first {
            all.extend(valid_members());
        }
        let path = write(&dir, &archive(&all));
        load_checked(&path)?;
    }

    /// A valid archive cut short anywhere is refused; one with bytes flipped is refused or, if
    /// the flips missed the data (gzip's header fields), loads the same reviews.
    #[test]
    fn truncated_or_flipped_archives_are_refused(
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 0..4),
        extra in prop::collection::vec(member(), 0..3),
    ) {
        let dir = TempDir::new("damaged");
        let mut members = valid_members();
        members.extend(extra);
        let bytes = archive(&members);
        let intact = load_checked(&write(&dir, &bytes))?;
        let truncated = &bytes[..cut.index(bytes.len())];
        prop_assert!(load_checked(&write(&dir, truncated))?.is_none(), "a truncated archive loaded");
        let mut flipped = bytes.clone();
        for (at, mask) in &flips {
            flipped[at.index(bytes.len())] ^= mask;
        }
        if let Some(data) = load_checked(&write(&dir, &flipped))? {
            prop_assert_eq!(Some(data), intact, "flipped bytes loaded other reviews");
        }
    }

    /// A compressed tar stream with bytes flipped inside (valid gzip, corrupt tar headers and
    /// sizes) loads well-formed or is refused.
    #[test]
    fn corrupt_tar_inside_valid_gzip_is_refused_or_loads(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        extra in prop::collection::vec(member(), 0..3),
    ) {
        let dir = TempDir::new("tar");
        let mut members = valid_members();
        members.extend(extra);
        let mut tar_bytes = Vec::new();
        flate2::read::GzDecoder::new(archive(&members).as_slice())
            .read_to_end(&mut tar_bytes)
            .expect("our own archive decompresses");
        for (at, value) in &flips {
            let at = at.index(tar_bytes.len());
            tar_bytes[at] = *value;
        }
        load_checked(&write(&dir, &gzip(&tar_bytes)))?;
    }
}

/// An entry of an unpacked folder: a review-like file, a folder or a symlink named like one, a
/// FIFO, or a hidden file.
#[derive(Clone, Debug)]
enum Entry {
    File(Vec<u8>),
    Folder,
    Symlink(&'static str),
    Fifo,
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        4 => prop_oneof![
            "[a-z .]{0,20}".prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..20),
        ]
        .prop_map(Entry::File),
        1 => Just(Entry::Folder),
        1 => prop::sample::select(vec!["/dev/zero", "missing", "loop", ".."]).prop_map(Entry::Symlink),
        1 => Just(Entry::Fifo),
    ]
}

fn file_name() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        component().prop_filter("a file name", |c| !c.is_empty()
            && !c.contains(&b'/')
            && c != b"."
            && c != b".."),
        Just(b"._1_1.txt".to_vec()),
    ]
}

/// Creates `entry` at `path` (a FIFO through `mkfifo`, when the system has it), unless
/// something is there already: writing into a FIFO made by an earlier entry would block.
fn create(path: &Path, entry: &Entry) {
    if path.symlink_metadata().is_ok() {
        return;
    }
    let _ = match entry {
        Entry::File(data) => fs::write(path, data),
        Entry::Folder => fs::create_dir_all(path),
        Entry::Symlink("loop") => std::os::unix::fs::symlink(path, path),
        Entry::Symlink(target) => std::os::unix::fs::symlink(target, path),
        Entry::Fifo => std::process::Command::new("mkfifo").arg(path).status().map(|_| ()),
    };
}

proptest! {
    #![proptest_config(config(96))]

    /// Unpacked folders with missing groups and odd entries (FIFOs and a symlink to /dev/zero
    /// among them, which must not be read) load well-formed or are refused naming a path.
    #[test]
    fn odd_folders_load_or_are_refused(
        groups in prop::collection::vec(any::<bool>(), 4),
        entries in prop::collection::vec((0usize..4, file_name(), entry()), 0..10),
        pass_parent in any::<bool>(),
    ) {
        use std::os::unix::ffi::OsStrExt;
        let dir = TempDir::new("folder");
        let root = dir.path().join("aclImdb");
        let group_dirs: Vec<_> = ["train/neg", "train/pos", "test/neg", "test/pos"]
            .iter()
            .map(|group| root.join(group))
            .collect();
        for (present, group) in groups.iter().zip(&group_dirs) {
            if *present {
                fs::create_dir_all(group).expect("the temp folder is writable");
            }
        }
        for (group, name, entry) in &entries {
            if groups[*group] {
                create(&group_dirs[*group].join(std::ffi::OsStr::from_bytes(name)), entry);
            }
        }
        let path = if pass_parent { dir.path() } else { root.as_path() };
        match imdb::load(Some(path)) {
            Ok(data) => check_dataset(&data)?,
            Err(error) => {
                prop_assert!(matches!(error, Error::Data { .. } | Error::Io { .. }), "{:?}", error);
                check_message(&error, &[dir.path().display().to_string()])?;
            }
        }
    }
}
