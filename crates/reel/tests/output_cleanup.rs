//! The signal path's cleanup removes this process's temporary and lock files (its own process:
//! the cleanup is process-wide).

use std::io::Write;

use reel::output::{remove_registered_temp_files, MovieTarget, SequenceTarget};

#[test]
fn the_signal_cleanup_removes_open_temporary_and_lock_files_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let bystander = dir.path().join("notes.txt");
    std::fs::write(&bystander, b"keep me").unwrap();
    let movie = MovieTarget::prepare(&dir.path().join("out.mov"), None, false).unwrap();
    let (_temp, mut file) = movie.temp_file().unwrap();
    file.write_all(b"half a movie").unwrap();
    let frames = dir.path().join("frames");
    let seq =
        SequenceTarget::prepare(&frames, "f-%d.png", |n| n.starts_with("f-"), None, false).unwrap();
    let (_png, _) = seq.temp_file("f-1.png").unwrap();

    // Two temporary files and two lock files.
    assert_eq!(remove_registered_temp_files(), 4);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "only notes.txt and frames/ remain: {left:?}");
    assert!(bystander.exists());
    assert_eq!(std::fs::read_dir(&frames).unwrap().count(), 0);
}
