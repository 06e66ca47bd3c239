//! Any bytes as a QuickTime movie: the index reader never panics, never allocates what the file
//! cannot hold, and every sample it lists either reads or is refused.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use reel::movie::MovieIndex;

fuzz_target!(|data: &[u8]| {
    let mut file = Cursor::new(data);
    let Ok(index) = MovieIndex::read(&mut file) else {
        return;
    };
    let mut buf = Vec::new();
    for i in 0..index.sample_sizes.len().min(1 << 16) {
        if index.read_sample(&mut file, i, &mut buf).is_ok() {
            assert_eq!(buf.len(), index.sample_sizes[i] as usize);
        }
    }
});
