//! Downloading a `.tar.gz` dataset into place, atomically (feature `download`, on by default).

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use flate2::bufread::GzDecoder;
use indicatif::{ProgressBar, ProgressStyle};

use crate::{Error, Result};

/// How long to wait for the connection, then for each read of the body.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Downloads the gzip file at `url` (`http://` or `https://`) to `dest`, creating its folder.
///
/// The body goes to a hidden temporary file beside `dest`, is checked (as many bytes as the
/// server announced, and a complete gzip stream with a valid checksum), synced to disk, and only
/// then renamed to `dest`, replacing any file there. On any failure the temporary file is removed
/// and `dest` is left as it was. A progress bar is drawn on standard error when it is a terminal.
///
/// # Errors
///
/// - [`Error::Download`] if the request fails, the server answers with an error status, the
///   transfer stops early, or what arrives is not a complete gzip file.
/// - [`Error::Io`] if the folder or the file cannot be created, written or renamed.
///
/// # Example
///
/// ```no_run
/// use rnnkit::datasets::{download::download_to, imdb};
/// # fn main() -> rnnkit::Result<()> {
/// download_to(imdb::URL, std::path::Path::new("data/aclImdb_v1.tar.gz"))?;
/// # Ok(())
/// # }
/// ```
pub fn download_to(url: &str, dest: &Path) -> Result<()> {
    let folder = match dest.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Some(file_name) = dest.file_name().map(|name| name.to_string_lossy().into_owned()) else {
        return Err(Error::invalid("dest", "a file path", dest.display()));
    };
    fs::create_dir_all(&folder).map_err(|source| Error::io(&folder, source))?;
    let partial = folder.join(format!(".{file_name}.{}.part", std::process::id()));
    let result = fetch(url, &partial, &file_name)
        .and_then(|()| fs::rename(&partial, dest).map_err(|source| Error::io(dest, source)));
    match result {
        Ok(()) => {
            // Make the rename itself durable; not every platform can sync a folder, so a
            // failure here is not an error.
            if let Ok(handle) = File::open(&folder) {
                let _ = handle.sync_all();
            }
            Ok(())
        }
        Err(error) => {
            let _ = fs::remove_file(&partial);
            Err(error)
        }
    }
}

/// Writes the body of `url` to `partial`, synced, and checks that it is a whole gzip file.
fn fetch(url: &str, partial: &Path, file_name: &str) -> Result<()> {
    let failed = |message: String| Error::Download { url: url.to_string(), message };
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(READ_TIMEOUT)
        .build();
    let response = agent
        .get(url)
        .call()
        .map_err(|error| failed(format!("{error}; check the address and the connection")))?;
    let announced = response.header("Content-Length").and_then(|value| value.parse::<u64>().ok());
    let mut body = response.into_reader();

    let bar = progress_bar(announced, file_name);
    let file = File::create(partial).map_err(|source| Error::io(partial, source))?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let mut chunk = vec![0u8; 1 << 16];
    let mut received: u64 = 0;
    loop {
        let count = match body.read(&mut chunk) {
            Ok(0) => break,
            Ok(count) => count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                bar.abandon();
                return Err(failed(format!(
                    "the transfer stopped after {received} bytes ({error}); try again"
                )));
            }
        };
        writer.write_all(&chunk[..count]).map_err(|source| Error::io(partial, source))?;
        received += count as u64;
        bar.inc(count as u64);
    }
    if let Some(announced) = announced.filter(|&announced| announced != received) {
        bar.abandon();
        return Err(failed(format!(
            "the transfer stopped after {received} of {announced} bytes; try again"
        )));
    }
    bar.finish_and_clear();
    let file = writer.into_inner().map_err(|error| Error::io(partial, error.into_error()))?;
    file.sync_all().map_err(|source| Error::io(partial, source))?;
    drop(file);

    let file = File::open(partial).map_err(|source| Error::io(partial, source))?;
    let mut gzip = GzDecoder::new(BufReader::with_capacity(1 << 20, file));
    io::copy(&mut gzip, &mut io::sink()).map_err(|error| {
        failed(format!("the {received} bytes received are not a complete gzip file ({error})"))
    })?;
    Ok(())
}

/// A byte-counting bar, or a spinner when the size is unknown; hidden unless stderr is a terminal.
fn progress_bar(len: Option<u64>, file_name: &str) -> ProgressBar {
    let (bar, template) = match len {
        Some(len) => (
            ProgressBar::new(len),
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        ),
        None => (ProgressBar::new_spinner(), "{msg} {spinner} {bytes} {bytes_per_sec}"),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(format!("downloading {file_name}"));
    bar
}
