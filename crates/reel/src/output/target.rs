//! Checking an output before anything is written to it.

use std::fs::{self, File, Metadata};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::lock::TargetLock;
use super::temp::{is_temp_for, is_temp_matching, parent_dir, TempFile};
use super::OutputError;

/// How far to follow a chain of symlinks before calling it a loop (as the kernel's `ELOOP`).
const MAX_SYMLINKS: usize = 40;

/// A movie file about to be written: checked, locked, and cleared of stale temporary files.
///
/// The movie is written to a [`TempFile`] beside the file the path finally names (a symlink is
/// followed, so the link stays a link) and renamed there by [`persist`](MovieTarget::persist).
#[derive(Debug)]
pub struct MovieTarget {
    path: PathBuf,
    resolved: PathBuf,
    overwrite: bool,
    stale_removed: Vec<PathBuf>,
    _lock: TargetLock,
}

impl MovieTarget {
    /// Prepares `path` for a movie exported from `input` (`None` when the frames do not come
    /// from a file). Creates missing parent directories. Refuses a directory, anything that
    /// exists and is not a regular file, the input itself, an existing movie unless `overwrite`,
    /// and a target another export is writing.
    pub fn prepare(
        path: &Path,
        input: Option<&Path>,
        overwrite: bool,
    ) -> Result<MovieTarget, OutputError> {
        if path.as_os_str().to_string_lossy().ends_with('/') || path.is_dir() {
            return Err(OutputError::IsADirectory {
                path: path.to_path_buf(),
            });
        }
        let resolved = resolve_symlinks(path)?;
        // What no lock can change is refused before anything is created (not even a lock file
        // beside a device).
        if let Some(meta) = metadata_if_exists(&resolved, path)? {
            check_existing(path, &meta, input, true)?;
        }
        let dir = parent_dir(&resolved).to_path_buf();
        fs::create_dir_all(&dir).map_err(OutputError::io(&dir))?;
        let name = file_name(&resolved);
        let lock = TargetLock::acquire(&dir, &name, path)?;
        // Checked under the lock: an export that just finished may have created the file.
        if let Some(meta) = metadata_if_exists(&resolved, path)? {
            check_existing(path, &meta, input, overwrite)?;
        }
        let stale_removed = remove_stale_temp_files(&dir, |n| is_temp_for(n, &name))?;
        Ok(MovieTarget {
            path: path.to_path_buf(),
            resolved,
            overwrite,
            stale_removed,
            _lock: lock,
        })
    }

    /// The path the user gave.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Temporary files of killed exports that preparing removed.
    pub fn stale_removed(&self) -> &[PathBuf] {
        &self.stale_removed
    }

    /// A new temporary file for the movie, and the file to write.
    pub fn temp_file(&self) -> Result<(TempFile, File), OutputError> {
        TempFile::create(&self.resolved)
    }

    /// Renames the finished (flushed and synced) movie into place.
    pub fn persist(&self, temp: TempFile) -> Result<(), OutputError> {
        temp.persist(self.overwrite)
            .map_err(|e| self.on_user_path(e))
    }

    fn on_user_path(&self, e: OutputError) -> OutputError {
        match e {
            OutputError::Exists { .. } => OutputError::Exists {
                path: self.path.clone(),
            },
            OutputError::Io { source, .. } => OutputError::Io {
                path: self.path.clone(),
                source,
            },
            other => other,
        }
    }
}

/// A directory about to receive a numbered file sequence: checked, locked, cleared of stale
/// temporary files, and (with `overwrite`) of the previous sequence.
#[derive(Debug)]
pub struct SequenceTarget {
    dir: PathBuf,
    stale_removed: Vec<PathBuf>,
    replaced: usize,
    _lock: TargetLock,
}

impl SequenceTarget {
    /// Prepares `dir` for files named by `pattern` (shown in messages and naming the lock);
    /// `matches` says whether a file name belongs to the sequence. Creates the directory if
    /// missing. Refuses a `dir` that is not a directory, a sequence another export is writing,
    /// and existing files of the sequence unless `overwrite`, in which case exactly those files
    /// are removed (nothing else in the directory). The input is never among them.
    pub fn prepare(
        dir: &Path,
        pattern: &str,
        matches: impl Fn(&str) -> bool,
        input: Option<&Path>,
        overwrite: bool,
    ) -> Result<SequenceTarget, OutputError> {
        match fs::metadata(dir) {
            Ok(meta) if !meta.is_dir() => {
                return Err(OutputError::NotADirectory {
                    path: dir.to_path_buf(),
                })
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir_all(dir).map_err(OutputError::io(dir))?
            }
            Err(e) => return Err(OutputError::io(dir)(e)),
        }
        let lock = TargetLock::acquire(dir, pattern, dir)?;
        let existing = matching_files(dir, &matches)?;
        if let Some(first) = existing.first() {
            if !overwrite {
                return Err(OutputError::SequenceExists {
                    dir: dir.to_path_buf(),
                    pattern: pattern.to_string(),
                    count: existing.len(),
                    example: file_name(first),
                });
            }
            for file in &existing {
                let meta = fs::symlink_metadata(file).map_err(OutputError::io(file))?;
                check_existing(file, &meta, input, true)?;
            }
            for file in &existing {
                fs::remove_file(file).map_err(OutputError::io(file))?;
            }
        }
        let stale_removed = remove_stale_temp_files(dir, |name| is_temp_matching(name, &matches))?;
        Ok(SequenceTarget {
            dir: dir.to_path_buf(),
            stale_removed,
            replaced: if overwrite { existing.len() } else { 0 },
            _lock: lock,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Files of a previous sequence that `overwrite` removed.
    pub fn replaced(&self) -> usize {
        self.replaced
    }

    /// Temporary files of killed exports that preparing removed.
    pub fn stale_removed(&self) -> &[PathBuf] {
        &self.stale_removed
    }

    /// A new temporary file for the sequence's file `name`, and the file to write.
    pub fn temp_file(&self, name: &str) -> Result<(TempFile, File), OutputError> {
        TempFile::create(&self.dir.join(name))
    }

    /// Renames a finished (flushed) file into place. Never replaces a file: the sequence's old
    /// files were removed by `prepare`, so one found now was made by someone else meanwhile.
    pub fn persist(&self, temp: TempFile) -> Result<(), OutputError> {
        temp.persist(false)
    }
}

/// Follows `path` through symlinks to the path of the file it finally names (which need not
/// exist yet).
fn resolve_symlinks(path: &Path) -> Result<PathBuf, OutputError> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&current).map_err(OutputError::io(path))?;
                current = parent_dir(&current).join(target);
            }
            _ => return Ok(current),
        }
    }
    Err(OutputError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other("too many levels of symbolic links"),
    })
}

fn metadata_if_exists(resolved: &Path, shown: &Path) -> Result<Option<Metadata>, OutputError> {
    match fs::metadata(resolved) {
        Ok(meta) => Ok(Some(meta)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(OutputError::io(shown)(e)),
    }
}

/// What must hold of an existing output before it may be replaced.
fn check_existing(
    path: &Path,
    meta: &Metadata,
    input: Option<&Path>,
    overwrite: bool,
) -> Result<(), OutputError> {
    let path = path.to_path_buf();
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(OutputError::IsADirectory { path });
    }
    if !kind.is_file() {
        let kind = if kind.is_char_device() {
            "character device"
        } else if kind.is_block_device() {
            "block device"
        } else if kind.is_fifo() {
            "FIFO"
        } else if kind.is_socket() {
            "socket"
        } else {
            "special file"
        };
        return Err(OutputError::NotRegular { path, kind });
    }
    if let Some(input) = input {
        if let Ok(input_meta) = fs::metadata(input) {
            if input_meta.dev() == meta.dev() && input_meta.ino() == meta.ino() {
                return Err(OutputError::SameAsInput { path });
            }
        }
    }
    if !overwrite {
        return Err(OutputError::Exists { path });
    }
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

fn matching_files(
    dir: &Path,
    matches: &impl Fn(&str) -> bool,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(OutputError::io(dir))? {
        let entry = entry.map_err(OutputError::io(dir))?;
        if entry.file_name().to_str().is_some_and(matches) {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

/// Removes the hidden temporary files that `is_stale` recognises. Called with the target's lock
/// held, so every such file was left by an export that is no longer running.
fn remove_stale_temp_files(
    dir: &Path,
    is_stale: impl Fn(&str) -> bool,
) -> Result<Vec<PathBuf>, OutputError> {
    let stale = matching_files(dir, &is_stale)?;
    for file in &stale {
        fs::remove_file(file).map_err(OutputError::io(file))?;
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::Command;

    fn mkfifo(path: &Path) {
        let status = Command::new("mkfifo").arg(path).status().unwrap();
        assert!(status.success());
    }

    fn write_movie(target: &MovieTarget, bytes: &[u8]) {
        let (temp, mut file) = target.temp_file().unwrap();
        file.write_all(bytes).unwrap();
        target.persist(temp).unwrap();
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_new_movie_lands_at_its_path_creating_missing_parents_and_leaving_nothing_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/out.mov");
        let target = MovieTarget::prepare(&path, None, false).unwrap();
        write_movie(&target, b"movie");
        drop(target);
        assert_eq!(fs::read(&path).unwrap(), b"movie");
        assert_eq!(names(&dir.path().join("a/b")), ["out.mov"]);
    }

    #[test]
    fn an_existing_movie_is_refused_without_overwrite_and_replaced_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.mov");
        fs::write(&path, b"old").unwrap();
        let err = MovieTarget::prepare(&path, None, false).unwrap_err();
        assert!(matches!(err, OutputError::Exists { .. }), "{err}");
        assert!(err.to_string().contains("--overwrite"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["out.mov"], "nothing created");
        let target = MovieTarget::prepare(&path, None, true).unwrap();
        write_movie(&target, b"new");
        assert_eq!(fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn a_fifo_is_refused_and_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.mov");
        mkfifo(&fifo);
        for overwrite in [false, true] {
            let err = MovieTarget::prepare(&fifo, None, overwrite).unwrap_err();
            assert!(
                matches!(err, OutputError::NotRegular { kind: "FIFO", .. }),
                "{err}"
            );
        }
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(names(dir.path()), ["pipe.mov"], "no lock file beside it");
    }

    #[test]
    fn a_device_is_refused_before_anything_is_created_beside_it() {
        let err = MovieTarget::prepare(Path::new("/dev/null"), None, true).unwrap_err();
        assert!(
            matches!(
                err,
                OutputError::NotRegular {
                    kind: "character device",
                    ..
                }
            ),
            "{err}"
        );
        assert!(!Path::new("/dev/.null.reel-lock").exists());
    }

    #[test]
    fn a_symlink_is_followed_and_stays_a_link_to_the_new_movie() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.mov");
        let link = dir.path().join("link.mov");
        fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink("real.mov", &link).unwrap();
        let target = MovieTarget::prepare(&link, None, true).unwrap();
        write_movie(&target, b"new");
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
    }

    #[test]
    fn a_symlink_to_a_fifo_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        mkfifo(&fifo);
        let link = dir.path().join("out.mov");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        let err = MovieTarget::prepare(&link, None, true).unwrap_err();
        assert!(matches!(err, OutputError::NotRegular { .. }), "{err}");
    }

    #[test]
    fn the_input_is_never_the_output_even_through_another_name() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("frames.reel");
        fs::write(&input, b"cache").unwrap();
        let hard_link = dir.path().join("same.mov");
        fs::hard_link(&input, &hard_link).unwrap();
        for path in [&input, &hard_link] {
            let err = MovieTarget::prepare(path, Some(&input), true).unwrap_err();
            assert!(matches!(err, OutputError::SameAsInput { .. }), "{err}");
        }
        assert_eq!(fs::read(&input).unwrap(), b"cache");
    }

    #[test]
    fn a_directory_is_refused_as_a_movie() {
        let dir = tempfile::tempdir().unwrap();
        let err = MovieTarget::prepare(dir.path(), None, true).unwrap_err();
        assert!(matches!(err, OutputError::IsADirectory { .. }), "{err}");
    }

    #[test]
    fn a_second_export_into_the_same_movie_is_refused_while_the_first_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.mov");
        let first = MovieTarget::prepare(&path, None, false).unwrap();
        let err = MovieTarget::prepare(&path, None, true).unwrap_err();
        assert!(matches!(err, OutputError::Busy { .. }), "{err}");
        write_movie(&first, b"first");
        drop(first);
        let err = MovieTarget::prepare(&path, None, false).unwrap_err();
        assert!(matches!(err, OutputError::Exists { .. }), "{err}");
    }

    #[test]
    fn stale_temporary_files_of_a_killed_export_are_removed_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.mov");
        let stale = dir.path().join(".out.mov.x1Y2z3.reel-tmp");
        let old_style = dir.path().join(".out.mov.reel-tmp");
        let other = dir.path().join(".other.mov.x1Y2z3.reel-tmp");
        for f in [&stale, &old_style, &other] {
            fs::write(f, b"half").unwrap();
        }
        let target = MovieTarget::prepare(&path, None, false).unwrap();
        assert_eq!(target.stale_removed().len(), 2);
        assert!(!stale.exists() && !old_style.exists());
        assert!(
            other.exists(),
            "another target's temporary file is not ours to remove"
        );
    }

    fn is_frame(name: &str) -> bool {
        name.strip_prefix("image-")
            .and_then(|r| r.strip_suffix(".png"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }

    #[test]
    fn a_directory_with_a_sequence_is_refused_and_with_overwrite_loses_exactly_that_sequence() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "image-0001.png",
            "image-0002.png",
            "notes.txt",
            "image-final.png",
        ] {
            fs::write(dir.path().join(f), b"x").unwrap();
        }
        let err = SequenceTarget::prepare(dir.path(), "image-%04d.png", is_frame, None, false)
            .unwrap_err();
        assert!(
            matches!(err, OutputError::SequenceExists { count: 2, .. }),
            "{err}"
        );
        assert_eq!(names(dir.path()).len(), 4, "nothing touched");
        let target =
            SequenceTarget::prepare(dir.path(), "image-%04d.png", is_frame, None, true).unwrap();
        assert_eq!(target.replaced(), 2);
        drop(target);
        assert_eq!(names(dir.path()), ["image-final.png", "notes.txt"]);
    }

    #[test]
    fn a_sequence_file_is_never_persisted_over_a_file_that_appeared_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let target =
            SequenceTarget::prepare(dir.path(), "image-%04d.png", is_frame, None, false).unwrap();
        let (temp, mut file) = target.temp_file("image-0000.png").unwrap();
        file.write_all(b"ours").unwrap();
        fs::write(dir.path().join("image-0000.png"), b"theirs").unwrap();
        assert!(target.persist(temp).is_err());
        assert_eq!(
            fs::read(dir.path().join("image-0000.png")).unwrap(),
            b"theirs"
        );
    }

    #[test]
    fn a_file_given_as_the_sequence_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, b"x").unwrap();
        let err =
            SequenceTarget::prepare(&file, "image-%04d.png", is_frame, None, false).unwrap_err();
        assert!(matches!(err, OutputError::NotADirectory { .. }), "{err}");
    }

    #[test]
    fn two_sequences_into_one_directory_at_once_refuse_the_second() {
        let dir = tempfile::tempdir().unwrap();
        let _first =
            SequenceTarget::prepare(dir.path(), "image-%04d.png", is_frame, None, false).unwrap();
        let err = SequenceTarget::prepare(dir.path(), "image-%04d.png", is_frame, None, false)
            .unwrap_err();
        assert!(matches!(err, OutputError::Busy { .. }), "{err}");
    }

    #[test]
    fn stale_sequence_temporary_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".image-0007.png.aB3dE9.reel-tmp");
        let old_style = dir.path().join(".image-0008.png.reel-tmp");
        let unrelated = dir.path().join(".notes.txt.aB3dE9.reel-tmp");
        for f in [&stale, &old_style, &unrelated] {
            fs::write(f, b"x").unwrap();
        }
        let target =
            SequenceTarget::prepare(dir.path(), "image-%04d.png", is_frame, None, false).unwrap();
        assert_eq!(target.stale_removed().len(), 2);
        assert!(unrelated.exists());
    }
}
