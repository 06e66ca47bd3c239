//! Any bytes as a cache file: opening and reading never panics or hangs, every frame handed out
//! passes its checksum, and frames come out in increasing recorded order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reel::cache::CacheReader;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.reel");
    std::fs::write(&path, data).unwrap();
    let Ok(mut reader) = CacheReader::open(&path) else {
        return;
    };
    // Frame sizes come from the header: keep the fuzzer's memory bounded.
    if reader.layout().frame_len() > 1 << 24 {
        return;
    }
    let mut chunk = vec![0; 4096];
    let mut last = None;
    while reader.read_frame_in_chunks(&mut chunk, |_, _| {}).unwrap() {
        let index = reader.last_index().unwrap();
        assert!(last.is_none_or(|l| l < index));
        last = Some(index);
    }
    assert!(reader.end().is_some());
});
