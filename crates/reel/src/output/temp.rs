//! Temporary files beside their destination, renamed into place when complete.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::cleanup::{self, Registration};
use super::OutputError;

/// What every temporary file's name ends with, after a random part unique to its creator.
pub(super) const TEMP_SUFFIX: &str = ".reel-tmp";

/// A hidden temporary file (`.NAME.XXXXXX.reel-tmp`) in the directory of its destination `NAME`.
///
/// Created with `O_EXCL` under a random name, so concurrent exports never share one. It is
/// removed when dropped unless [`persist`](TempFile::persist)ed, and registered so that a signal
/// that ends the process removes it too ([`remove_registered_temp_files`](super::remove_registered_temp_files)).
#[derive(Debug)]
pub struct TempFile {
    path: tempfile::TempPath,
    dest: PathBuf,
    _registration: Registration,
}

impl TempFile {
    /// Creates the temporary file for `dest` (whose directory must exist) and returns it with
    /// the open file to write.
    pub fn create(dest: &Path) -> Result<(TempFile, File), OutputError> {
        let dir = parent_dir(dest);
        let name = dest.file_name().unwrap_or_default().to_string_lossy();
        let (file, path) = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(TEMP_SUFFIX)
            .rand_bytes(RANDOM_LEN)
            .tempfile_in(dir)
            .map_err(OutputError::io(dest))?
            .into_parts();
        let registration = cleanup::register(&path);
        let temp = TempFile {
            path,
            dest: dest.to_path_buf(),
            _registration: registration,
        };
        Ok((temp, file))
    }

    /// The destination this file will be renamed to.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Renames the file onto its destination. With `replace` an existing file there is
    /// replaced (atomically); without it, an existing file is an error and is left untouched.
    /// The caller has flushed and synced the file.
    pub fn persist(self, replace: bool) -> Result<(), OutputError> {
        let TempFile { path, dest, .. } = self;
        let result = if replace {
            path.persist(&dest)
        } else {
            path.persist_noclobber(&dest)
        };
        result.map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                OutputError::Exists { path: dest.clone() }
            } else {
                OutputError::Io {
                    path: dest.clone(),
                    source: e.error,
                }
            }
        })
    }
}

/// The directory a path's file lives in (`.` for a bare file name).
pub(super) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Length of the random part of a temporary file's name.
const RANDOM_LEN: usize = 6;

/// Whether `file_name` is a temporary file made by [`TempFile::create`] for destination `dest_name`.
pub(super) fn is_temp_for(file_name: &str, dest_name: &str) -> bool {
    is_temp_matching(file_name, |dest| dest == dest_name)
}

/// Whether `file_name` is a temporary file made by [`TempFile::create`] for a destination whose
/// name `matches` accepts: `.NAME.XXXXXX.reel-tmp`, or `.NAME.reel-tmp` as older versions named
/// theirs.
pub(super) fn is_temp_matching(file_name: &str, matches: impl Fn(&str) -> bool) -> bool {
    let Some(middle) = file_name
        .strip_prefix('.')
        .and_then(|rest| rest.strip_suffix(TEMP_SUFFIX))
    else {
        return false;
    };
    let with_random = middle.rsplit_once('.').is_some_and(|(dest, random)| {
        random.len() == RANDOM_LEN
            && random.bytes().all(|b| b.is_ascii_alphanumeric())
            && matches(dest)
    });
    with_random || matches(middle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_temp_file_is_hidden_beside_its_destination_and_removed_unless_persisted() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.mov");
        let (temp, mut file) = TempFile::create(&dest).unwrap();
        file.write_all(b"movie").unwrap();
        let name = temp
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(is_temp_for(&name, "out.mov"), "{name}");
        assert!(temp.path.exists());
        let tmp_path = temp.path.to_path_buf();
        drop(temp);
        assert!(!tmp_path.exists(), "dropped unpersisted: removed");
        assert!(!dest.exists());
    }

    #[test]
    fn two_temp_files_for_one_destination_never_share_a_name() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.mov");
        let (a, _) = TempFile::create(&dest).unwrap();
        let (b, _) = TempFile::create(&dest).unwrap();
        assert_ne!(a.path.to_path_buf(), b.path.to_path_buf());
    }

    #[test]
    fn persisting_without_replace_leaves_an_existing_destination_alone() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("image-0001.png");
        std::fs::write(&dest, b"theirs").unwrap();
        let (temp, mut file) = TempFile::create(&dest).unwrap();
        file.write_all(b"ours").unwrap();
        let err = temp.persist(false).unwrap_err();
        assert!(matches!(err, OutputError::Exists { .. }), "{err}");
        assert_eq!(std::fs::read(&dest).unwrap(), b"theirs");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "the temporary file is gone");
    }

    #[test]
    fn persisting_with_replace_replaces_the_destination() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.mov");
        std::fs::write(&dest, b"old").unwrap();
        let (temp, mut file) = TempFile::create(&dest).unwrap();
        file.write_all(b"new").unwrap();
        temp.persist(true).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
    }

    #[test]
    fn temp_names_are_recognised_only_for_their_own_destination() {
        assert!(is_temp_for(".out.mov.Ab3xYz.reel-tmp", "out.mov"));
        assert!(is_temp_for(".out.mov.reel-tmp", "out.mov"));
        assert!(!is_temp_for(".out.mov2.Ab3xYz.reel-tmp", "out.mov"));
        assert!(!is_temp_for("out.mov.Ab3xYz.reel-tmp", "out.mov"));
        assert!(!is_temp_for(".out.mov.Ab3xYz", "out.mov"));
        assert!(!is_temp_for(".out.mov.reel-tmp", "out"));
    }
}
