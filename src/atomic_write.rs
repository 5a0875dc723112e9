//! Writing files so that a crash never leaves a half-written file in place of a good one, and
//! clearing the temporary files that writers killed mid-write left behind.

use crate::{Error, Result};
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same folder: written, synced to disk,
/// then renamed over `path`. Until the rename, an existing file at `path` is untouched; after it,
/// the new content is complete.
///
/// The temporary file is `.NAME.PID.tmp` (`NAME` being `path`'s file name, `PID` the writer's
/// process id). A writer killed before its rename leaves that file behind; each write first
/// removes those of `path` whose writer is dead (see [`remove_dead_writers_files`]).
///
/// # Errors
/// [`Error::Io`] naming the file that could not be written, synced or renamed; the temporary
/// file is then removed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        Error::io(path, std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"))
    })?;
    remove_dead_writers_files(folder, name);
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary = folder.join(temporary_name);
    let written = (|| {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)?;
        // The rename is durable once the folder's entry is synced; not every platform allows it.
        if let Ok(dir) = File::open(folder) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    written.map_err(|source| {
        let _ = fs::remove_file(&temporary);
        Error::io(path, source)
    })
}

/// Removes, from `folder`, the temporary files `.NAME.PID.tmp` of the target file `name` whose
/// writer (process `PID`) is no longer running, and nothing else: not the file of a live writer
/// (another process saving to the same path right now), not this process's own, not a file whose
/// name only resembles the pattern (a `PID` with a sign or leading zeros, another target's name),
/// not a folder or a link. Best effort: a file that cannot be listed or removed stays, and the
/// write goes on.
///
/// Whether a process is running is read from `/proc/PID` on Linux (with `/proc` mounted). On
/// other platforms, or without `/proc`, nothing is removed: the files stay until removed by hand.
///
/// A process id can be reused: a file whose dead writer's id now belongs to another process
/// stays until that process ends. A new process could in principle take a dead writer's id and
/// start writing the same target between the check and the removal; its rename would then fail
/// with an error, and no file would be left half-written.
fn remove_dead_writers_files(folder: &Path, name: &std::ffi::OsStr) {
    let Some(name) = name.to_str() else { return };
    if !can_tell_live_processes() {
        return;
    }
    let Ok(entries) = fs::read_dir(folder) else { return };
    let own = std::process::id();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name.to_str().and_then(|file| writer_of(file, name)) else {
            continue;
        };
        let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
        if is_file && pid != own && !is_running(pid) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The writer's process id if `file` is exactly `.{name}.{pid}.tmp`, the pid written as
/// `u32`'s `Display` does (digits, no sign, no leading zero).
fn writer_of(file: &str, name: &str) -> Option<u32> {
    let digits =
        file.strip_prefix('.')?.strip_prefix(name)?.strip_prefix('.')?.strip_suffix(".tmp")?;
    let pid: u32 = digits.parse().ok()?;
    (digits.bytes().all(|byte| byte.is_ascii_digit()) && pid.to_string() == digits).then_some(pid)
}

/// Whether [`is_running`] can answer: Linux with `/proc` mounted.
fn can_tell_live_processes() -> bool {
    cfg!(target_os = "linux") && Path::new("/proc/self").exists()
}

/// Whether process `pid` exists (running, stopped or a zombie): `/proc/PID` is there.
fn is_running(pid: u32) -> bool {
    pid == 0 || Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("rnnkit-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.csv");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    /// A process id no process can have: Linux's ids are below `pid_max`.
    fn impossible_pid() -> u32 {
        let pid_max = fs::read_to_string("/proc/sys/kernel/pid_max").unwrap();
        pid_max.trim().parse().unwrap()
    }

    fn scratch_folder(test: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("rnnkit-atomic-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn removes_dead_writers_files_and_nothing_else() {
        let dir = scratch_folder("debris");
        let dead = impossible_pid();
        // A writer killed a moment ago: a real process, reaped, so its id is free.
        let mut killed = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let killed_pid = killed.id();
        killed.kill().unwrap();
        killed.wait().unwrap();
        // A live concurrent writer.
        let mut live = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let live_pid = live.id();
        let keep = [
            format!(".out.csv.{live_pid}.tmp"),
            format!(".other.csv.{dead}.tmp"),
            format!(".out.csv.0{dead}.tmp"),
            format!(".out.csv.+{dead}.tmp"),
            format!("out.csv.{dead}.tmp"),
            format!(".out.csv.{dead}.tmp.bak"),
            format!(".out.csv.{dead}x.tmp"),
            ".out.csv..tmp".to_string(),
            "notes.txt".to_string(),
        ];
        let removed = [format!(".out.csv.{dead}.tmp"), format!(".out.csv.{killed_pid}.tmp")];
        for name in keep.iter().chain(&removed) {
            fs::write(dir.join(name), b"debris").unwrap();
        }
        // A folder with a dead writer's name is not a temporary file.
        let folder = format!(".out.csv.{}.tmp", dead - 1);
        fs::create_dir(dir.join(&folder)).unwrap();

        write_atomic(&dir.join("out.csv"), b"saved").unwrap();
        let still_running = live.try_wait().unwrap().is_none();
        live.kill().unwrap();
        live.wait().unwrap();

        assert!(still_running, "the live writer ended before the check");
        let mut expected: Vec<String> = keep.to_vec();
        expected.extend([folder, "out.csv".to_string()]);
        expected.sort();
        assert_eq!(names_in(&dir), expected);
        assert_eq!(fs::read(dir.join("out.csv")).unwrap(), b"saved");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn writer_of_reads_only_the_exact_pattern() {
        assert_eq!(writer_of(".out.csv.42.tmp", "out.csv"), Some(42));
        assert_eq!(writer_of(".out.csv.042.tmp", "out.csv"), None);
        assert_eq!(writer_of(".out.csv.+42.tmp", "out.csv"), None);
        assert_eq!(writer_of(".out.csv.42.tmp", "out"), None);
        assert_eq!(writer_of(".out.csv.99999999999.tmp", "out.csv"), None);
        assert_eq!(writer_of("..out.csv.42.tmp", ".out.csv"), Some(42));
    }

    #[test]
    fn missing_folder_is_an_error_naming_the_file() {
        let path = Path::new("/nonexistent-rnnkit-folder/out.csv");
        let message = write_atomic(path, b"x").unwrap_err().to_string();
        assert!(message.contains("/nonexistent-rnnkit-folder/out.csv"), "{message}");
    }
}
