//! `rnnkit::datasets::imdb` on a miniature archive and folder generated here (same member layout
//! as Stanford's `aclImdb_v1.tar.gz`), its errors, where it looks for data, the download, and the
//! real archive when `../shared/data` has it.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::write::GzEncoder;
use flate2::Compression;
use rnnkit::datasets::imdb::{self, Imdb, Location};
use rnnkit::Error;

/// A folder under the system's temp folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir()
            .join(format!("rnnkit-imdb-{}-{name}-{unique}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The miniature dataset: members in a shuffled order (the reader must sort), with names whose
/// lexicographic order differs from their numeric order, and members that must be skipped.
fn members() -> Vec<(&'static str, &'static str)> {
    vec![
        ("aclImdb/README", "Large Movie Review Dataset (miniature for tests)"),
        ("aclImdb/imdb.vocab", "the\nand\n"),
        ("aclImdb/test/pos/4_8.txt", "test pos four"),
        ("aclImdb/train/pos/11_7.txt", "Fine.<br /><br />Really fine."),
        ("aclImdb/train/unsup/0_0.txt", "unlabeled, must be skipped"),
        ("aclImdb/train/neg/2_1.txt", "Awful."),
        ("aclImdb/train/neg/10_2.txt", "Bad, ünïcödé — and “quotes”."),
        ("aclImdb/train/urls_pos.txt", "http://example.invalid/"),
        ("aclImdb/train/labeledBow.feat", "0 0:1"),
        ("aclImdb/test/neg/5_4.txt", "test neg five"),
        ("aclImdb/train/pos/0_9.txt", "Great!"),
        ("aclImdb/train/neg/1_3.txt", "Dull."),
        ("aclImdb/test/pos/3_10.txt", "test pos three"),
    ]
}

fn check_miniature(data: &Imdb) {
    // Per split: neg then pos, file names sorted as strings ("10_2" < "1_3" < "2_1").
    assert_eq!(
        data.train.texts,
        [
            "Bad, ünïcödé — and “quotes”.",
            "Dull.",
            "Awful.",
            "Great!",
            "Fine.<br /><br />Really fine."
        ]
    );
    assert_eq!(data.train.labels, [0.0, 0.0, 0.0, 1.0, 1.0]);
    assert_eq!(data.train.ratings, [2, 3, 1, 9, 7]);
    assert_eq!(data.test.texts, ["test neg five", "test pos three", "test pos four"]);
    assert_eq!(data.test.labels, [0.0, 1.0, 1.0]);
    assert_eq!(data.test.ratings, [4, 10, 8]);
    assert_eq!((data.train.len(), data.test.len()), (5, 3));
    assert!(!data.train.is_empty());
}

/// The `.tar.gz` bytes of `members`, with a folder entry for each folder as `tar` writes them.
fn archive_bytes(members: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    let mut folders: Vec<&str> = Vec::new();
    for (path, text) in members {
        let mut parent = Path::new(path).parent();
        while let Some(folder) = parent.and_then(Path::to_str).filter(|f| !f.is_empty()) {
            if !folders.contains(&folder) {
                folders.push(folder);
                let mut header = tar::Header::new_gnu();
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                header.set_mode(0o755);
                header.set_cksum();
                builder.append_data(&mut header, format!("{folder}/"), std::io::empty()).unwrap();
            }
            parent = Path::new(folder).parent();
        }
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, text.as_bytes()).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

fn write_archive(dir: &Path, members: &[(&str, &str)]) -> PathBuf {
    let path = dir.join("aclImdb_v1.tar.gz");
    fs::write(&path, archive_bytes(members)).unwrap();
    path
}

/// Unpacks `members` under `dir`; returns `dir/aclImdb`.
fn write_folder(dir: &Path, members: &[(&str, &str)]) -> PathBuf {
    for (path, text) in members {
        let file = dir.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, text).unwrap();
    }
    dir.join("aclImdb")
}

/// Asserts an `Error::Data` about `path` whose message contains each of `needles`.
fn assert_data_error(result: rnnkit::Result<Imdb>, expected_path: &Path, needles: &[&str]) {
    match result {
        Err(Error::Data { path, message }) => {
            assert_eq!(path, expected_path, "{message}");
            for needle in needles {
                assert!(message.contains(needle), "{needle:?} not in {message:?}");
            }
        }
        Err(other) => panic!("expected Error::Data, got {other:?}"),
        Ok(_) => panic!("expected Error::Data, got a dataset"),
    }
}

#[test]
fn reads_a_generated_archive_in_keras_order() {
    let dir = TempDir::new("archive");
    let archive = write_archive(dir.path(), &members());
    check_miniature(&imdb::load(Some(&archive)).unwrap());
    // A folder holding the archive works too.
    check_miniature(&imdb::load(Some(dir.path())).unwrap());
}

#[test]
fn reads_an_unpacked_folder_the_same_way() {
    let dir = TempDir::new("folder");
    let root = write_folder(dir.path(), &members());
    let from_folder = imdb::load(Some(&root)).unwrap();
    check_miniature(&from_folder);
    assert_eq!(imdb::load(Some(dir.path())).unwrap(), from_folder);

    let other = TempDir::new("folder-archive");
    let from_archive = imdb::load(Some(&write_archive(other.path(), &members()))).unwrap();
    assert_eq!(from_archive, from_folder);
}

#[test]
fn a_missing_path_is_an_error_naming_it() {
    let dir = TempDir::new("missing");
    let missing = dir.path().join("nowhere.tar.gz");
    assert_data_error(imdb::load(Some(&missing)), &missing, &["does not exist", imdb::URL]);
    // An existing folder without the dataset is not passed over either.
    let error = imdb::load(Some(dir.path())).unwrap_err();
    assert!(error.to_string().contains("holds neither aclImdb_v1.tar.gz"), "{error}");
}

#[test]
fn a_truncated_archive_is_an_error_saying_to_download_again() {
    let dir = TempDir::new("truncated");
    let bytes = archive_bytes(&members());
    let path = dir.path().join("aclImdb_v1.tar.gz");
    fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert_data_error(
        imdb::load(Some(&path)),
        &path,
        &["truncated or corrupt", "re-download it from", imdb::URL, "RNNKIT_DATA"],
    );
}

#[test]
fn a_damaged_checksum_is_an_error() {
    let dir = TempDir::new("checksum");
    let mut bytes = archive_bytes(&members());
    let crc = bytes.len() - 8;
    bytes[crc] ^= 0xff;
    let path = dir.path().join("aclImdb_v1.tar.gz");
    fs::write(&path, &bytes).unwrap();
    assert_data_error(imdb::load(Some(&path)), &path, &["truncated or corrupt"]);
}

#[test]
fn random_bytes_are_not_an_archive() {
    let dir = TempDir::new("random");
    let path = dir.path().join("aclImdb_v1.tar.gz");
    let noise: Vec<u8> =
        (0u32..4096).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    fs::write(&path, noise).unwrap();
    assert_data_error(imdb::load(Some(&path)), &path, &["is not a gzip file", imdb::URL]);

    let empty = dir.path().join("empty.tar.gz");
    fs::write(&empty, b"").unwrap();
    assert_data_error(imdb::load(Some(&empty)), &empty, &["is not a gzip file"]);
}

#[test]
fn gzip_that_is_not_a_tar_archive_is_an_error() {
    let dir = TempDir::new("not-tar");
    let path = dir.path().join("aclImdb_v1.tar.gz");
    let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
    gzip.write_all(&[b'x'; 2000]).unwrap();
    fs::write(&path, gzip.finish().unwrap()).unwrap();
    assert_data_error(imdb::load(Some(&path)), &path, &["truncated or corrupt"]);
}

#[test]
fn an_archive_missing_a_group_of_reviews_is_an_error() {
    let dir = TempDir::new("no-test-pos");
    let partial: Vec<_> =
        members().into_iter().filter(|(path, _)| !path.starts_with("aclImdb/test/pos/")).collect();
    let path = write_archive(dir.path(), &partial);
    assert_data_error(
        imdb::load(Some(&path)),
        &path,
        &["has no reviews aclImdb/test/pos/*.txt", imdb::URL],
    );
}

#[test]
fn a_folder_missing_a_split_is_an_error() {
    let dir = TempDir::new("folder-no-test");
    let partial: Vec<_> =
        members().into_iter().filter(|(path, _)| !path.starts_with("aclImdb/test/")).collect();
    let root = write_folder(dir.path(), &partial);
    assert_data_error(imdb::load(Some(&root)), &root.join("test").join("neg"), &["is missing"]);
}

#[test]
fn a_review_name_without_a_rating_is_an_error() {
    let dir = TempDir::new("bad-name");
    let mut bad = members();
    bad.push(("aclImdb/train/pos/review.txt", "no rating"));
    let path = write_archive(dir.path(), &bad);
    assert_data_error(
        imdb::load(Some(&path)),
        &path,
        &["aclImdb/train/pos/review.txt is not named ID_RATING.txt"],
    );
}

#[test]
fn a_review_that_is_not_utf8_is_an_error() {
    let dir = TempDir::new("not-utf8");
    let root = write_folder(dir.path(), &members());
    let review = root.join("train/neg/2_1.txt");
    fs::write(&review, b"caf\xe9").unwrap();
    assert_data_error(imdb::load(Some(&root)), &review, &["is not valid UTF-8"]);
}

#[test]
fn locate_prefers_the_argument_then_rnnkit_data_then_the_cache() {
    let argument = TempDir::new("locate-argument");
    let archive = write_archive(argument.path(), &members());
    let data = TempDir::new("locate-data");
    let data_folder = write_folder(data.path(), &members());
    let cache = TempDir::new("locate-cache");
    let cached = write_archive(cache.path(), &members());
    let env = Some(data.path().as_os_str());

    let found = |path: Option<&Path>, env: Option<&OsStr>, cache: Option<&Path>| {
        imdb::locate(path, env, cache).unwrap()
    };
    assert_eq!(found(Some(&archive), env, Some(cache.path())), Location::Archive(archive.clone()));
    assert_eq!(
        found(Some(argument.path()), env, Some(cache.path())),
        Location::Archive(archive.clone())
    );
    assert_eq!(found(None, env, Some(cache.path())), Location::Folder(data_folder.clone()));
    // RNNKIT_DATA may name the file itself, or the aclImdb folder.
    assert_eq!(found(None, Some(archive.as_os_str()), None), Location::Archive(archive.clone()));
    assert_eq!(found(None, Some(data_folder.as_os_str()), None), Location::Folder(data_folder));
    // Unset, empty, or holding nothing: the cache.
    let nothing_here = cache.path().join("nothing-here");
    for env in [None, Some(OsStr::new("")), Some(nothing_here.as_os_str())] {
        assert_eq!(found(None, env, Some(cache.path())), Location::Archive(cached.clone()));
    }
}

#[test]
fn locate_falls_back_to_downloading_into_the_cache() {
    let empty = TempDir::new("locate-empty");
    let cache = empty.path().join("cache").join("rnnkit");
    assert_eq!(
        imdb::locate(None, Some(empty.path().as_os_str()), Some(&cache)).unwrap(),
        Location::Download(cache.join(imdb::FILE_NAME))
    );
    let error = imdb::locate(None, None, None).unwrap_err();
    assert!(matches!(error, Error::Data { .. }), "{error:?}");
    assert!(error.to_string().contains("RNNKIT_DATA"), "{error}");
}

#[test]
fn the_cache_folder_is_named_rnnkit() {
    let dir = rnnkit::datasets::cache_dir()
        .expect("a user cache folder (XDG_CACHE_HOME or HOME must be set for this test)");
    assert!(dir.is_absolute() && dir.ends_with("rnnkit"), "{}", dir.display());
}

/// The real archive, found as the examples find it (`RNNKIT_DATA`, the user cache, a download).
#[test]
fn loads_the_real_archive() {
    let data = imdb::load(None).unwrap_or_else(|error| {
        panic!("this test reads the real IMDB archive, as the sentiment example does: {error}")
    });
    for (name, split) in [("train", &data.train), ("test", &data.test)] {
        assert_eq!(split.len(), 25_000, "{name}");
        assert_eq!((split.labels.len(), split.ratings.len()), (25_000, 25_000), "{name}");
        let positives = split.labels.iter().filter(|&&label| label == 1.0).count();
        assert_eq!(positives, 12_500, "{name}");
        // Negatives first, then positives; ratings agree with labels.
        assert!(split.labels[..12_500].iter().all(|&label| label == 0.0), "{name}");
        assert!(split.ratings[..12_500].iter().all(|&rating| rating <= 4), "{name}");
        assert!(split.ratings[12_500..].iter().all(|&rating| rating >= 7), "{name}");
    }
}

#[test]
fn rnnkit_data_finds_the_shared_archive() {
    // `.cargo/config.toml` points RNNKIT_DATA at ../shared/data for `cargo test`.
    let shared = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data"));
    let value = std::env::var_os("RNNKIT_DATA")
        .expect("RNNKIT_DATA, which .cargo/config.toml sets for `cargo test`");
    assert!(
        shared.join(imdb::FILE_NAME).is_file(),
        "{} has no {}: put the archive there (see the README)",
        shared.display(),
        imdb::FILE_NAME
    );
    match imdb::locate(None, Some(&value), None).unwrap() {
        Location::Archive(path) => assert!(path.ends_with(imdb::FILE_NAME), "{}", path.display()),
        other => panic!("expected the shared archive, got {other:?}"),
    }
}

#[cfg(feature = "download")]
mod download {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    use rnnkit::datasets::download::download_to;

    use super::*;

    /// Serves one request on 127.0.0.1 with `response` (headers and body as given), then closes
    /// the connection. Gives up after 20 s without a client.
    fn serve_once(response: Vec<u8>) -> (String, JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        let server = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut stream = loop {
                match listener.accept() {
                    Ok((stream, _)) => break stream,
                    Err(_) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                    Err(error) => panic!("no client came: {error}"),
                }
            };
            stream.set_nonblocking(false).unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut request = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while request.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                line.clear();
            }
            let _ = stream.write_all(&response);
            let _ = stream.flush();
        });
        (format!("http://{address}/aclImdb_v1.tar.gz"), server)
    }

    fn ok_response(body: &[u8], content_length: Option<usize>) -> Vec<u8> {
        let mut response = b"HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\n".to_vec();
        if let Some(length) = content_length {
            response.extend(format!("Content-Length: {length}\r\n").as_bytes());
        }
        response.extend(b"Connection: close\r\n\r\n");
        response.extend(body);
        response
    }

    /// The names in `dir`: nothing but `expected` may be left there (no temporary file).
    fn assert_only(dir: &Path, expected: &[&str]) {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, expected);
    }

    #[test]
    fn downloads_into_place_and_the_result_loads() {
        let bytes = archive_bytes(&members());
        let (url, server) = serve_once(ok_response(&bytes, Some(bytes.len())));
        let dir = TempDir::new("download");
        let dest = dir.path().join("cache").join("aclImdb_v1.tar.gz");
        download_to(&url, &dest).unwrap();
        server.join().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), bytes);
        assert_only(&dir.path().join("cache"), &["aclImdb_v1.tar.gz"]);
        check_miniature(&imdb::load(Some(&dest)).unwrap());
    }

    #[test]
    fn a_short_transfer_leaves_no_file() {
        let bytes = archive_bytes(&members());
        let (url, server) = serve_once(ok_response(&bytes[..bytes.len() / 2], Some(bytes.len())));
        let dir = TempDir::new("download-short");
        let dest = dir.path().join("aclImdb_v1.tar.gz");
        let error = download_to(&url, &dest).unwrap_err();
        server.join().unwrap();
        assert!(matches!(&error, Error::Download { url: failed, .. } if *failed == url), "{error}");
        assert!(!dest.exists());
        assert_only(dir.path(), &[]);
    }

    #[test]
    fn a_transfer_cut_without_content_length_leaves_the_old_file() {
        let bytes = archive_bytes(&members());
        let (url, server) = serve_once(ok_response(&bytes[..bytes.len() - 100], None));
        let dir = TempDir::new("download-cut");
        let dest = dir.path().join("aclImdb_v1.tar.gz");
        fs::write(&dest, b"old").unwrap();
        let error = download_to(&url, &dest).unwrap_err();
        server.join().unwrap();
        assert!(error.to_string().contains("not a complete gzip file"), "{error}");
        assert_eq!(fs::read(&dest).unwrap(), b"old");
        assert_only(dir.path(), &["aclImdb_v1.tar.gz"]);
    }

    #[test]
    fn an_error_status_is_a_download_error() {
        let body = b"not here";
        let mut response =
            format!("HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\n\r\n", body.len())
                .into_bytes();
        response.extend(body);
        let (url, server) = serve_once(response);
        let dir = TempDir::new("download-404");
        let dest = dir.path().join("aclImdb_v1.tar.gz");
        let error = download_to(&url, &dest).unwrap_err();
        server.join().unwrap();
        assert!(matches!(error, Error::Download { .. }), "{error:?}");
        assert!(error.to_string().contains("404"), "{error}");
        assert_only(dir.path(), &[]);
    }

    #[test]
    fn a_page_that_is_not_gzip_is_refused() {
        let body = b"<html>please log in</html>";
        let (url, server) = serve_once(ok_response(body, Some(body.len())));
        let dir = TempDir::new("download-html");
        let dest = dir.path().join("aclImdb_v1.tar.gz");
        let error = download_to(&url, &dest).unwrap_err();
        server.join().unwrap();
        assert!(error.to_string().contains("not a complete gzip file"), "{error}");
        assert_only(dir.path(), &[]);
    }
}
