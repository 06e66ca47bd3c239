//! Random damage (bit flips, zeroed ranges, truncation, appended junk) to caches and movies:
//! the readers never panic or hang, never hand out a damaged frame, and recover every frame
//! whose record the damage did not touch. `PROPTEST_CASES=20000 cargo test --release -p reel
//! --test damage_properties` runs a longer search than CI's.

mod common;

use std::io::Cursor;

use proptest::prelude::*;
use reel::cache::format::{FRAME_HEADER_LEN, HEADER_LEN};
use reel::cache::CacheReader;
use reel::movie::{MovieIndex, MovieWriter, VideoFormat};

use common::{known_frame, write_cache};

const W: u32 = 6;
const H: u32 = 3;

#[derive(Debug, Clone)]
enum Harm {
    Flip { at: usize, bit: u8 },
    Zero { at: usize, len: usize },
    Truncate { keep: usize },
    Append { junk: Vec<u8> },
}

fn harm() -> impl Strategy<Value = Harm> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Harm::Flip { at, bit }),
        (any::<usize>(), 1usize..200).prop_map(|(at, len)| Harm::Zero { at, len }),
        any::<usize>().prop_map(|keep| Harm::Truncate { keep }),
        prop::collection::vec(any::<u8>(), 1..300).prop_map(|junk| Harm::Append { junk }),
    ]
}

/// Applies the harms and returns which original byte ranges changed (start..end, in the
/// original file's offsets), and the damaged bytes.
fn apply(mut bytes: Vec<u8>, harms: &[Harm]) -> (Vec<u8>, Vec<std::ops::Range<usize>>) {
    let mut touched = Vec::new();
    for h in harms {
        let len = bytes.len();
        match h {
            Harm::Flip { at, bit } if len > 0 => {
                let at = at % len;
                bytes[at] ^= 1 << bit;
                touched.push(at..at + 1);
            }
            Harm::Zero { at, len: n } if len > 0 => {
                let at = at % len;
                let end = (at + n).min(len);
                bytes[at..end].fill(0);
                touched.push(at..end);
            }
            Harm::Truncate { keep } => {
                let keep = keep % (len + 1);
                bytes.truncate(keep);
                touched.push(keep..usize::MAX);
            }
            Harm::Append { junk } => bytes.extend_from_slice(junk),
            _ => {}
        }
    }
    (bytes, touched)
}

fn untouched(range: std::ops::Range<usize>, touched: &[std::ops::Range<usize>]) -> bool {
    touched
        .iter()
        .all(|t| t.end <= range.start || t.start >= range.end)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
        // Failures are printed with their minimal input; nothing is written into the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_damaged_cache_gives_back_every_untouched_frame_and_nothing_damaged(
        frames in 1u32..10,
        harms in prop::collection::vec(harm(), 0..5),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.reel");
        write_cache(&path, W, H, frames);
        let (bytes, touched) = apply(std::fs::read(&path).unwrap(), &harms);
        std::fs::write(&path, &bytes).unwrap();

        let header_intact = untouched(0..HEADER_LEN, &touched);
        let mut reader = match CacheReader::open(&path) {
            Ok(r) => r,
            Err(e) => {
                prop_assert!(!header_intact, "an intact header was refused: {e}");
                return Ok(());
            }
        };
        let record = FRAME_HEADER_LEN + (W * H * 4) as usize;
        let mut pixels = vec![0; reader.layout().frame_len()];
        let mut recovered = Vec::new();
        // Bounded: the reader visits each record once.
        while reader.read_frame(&mut pixels).unwrap() {
            let index = reader.last_index().unwrap();
            prop_assert_eq!(&pixels, &known_frame(W, H, index as u32), "frame {} is intact", index);
            recovered.push(index);
        }
        prop_assert!(recovered.windows(2).all(|w| w[0] < w[1]), "in order: {:?}", recovered);
        if header_intact {
            for i in 0..u64::from(frames) {
                let start = HEADER_LEN + i as usize * record;
                if start + record <= bytes.len() && untouched(start..start + record, &touched) {
                    prop_assert!(recovered.contains(&i), "untouched frame {} lost: {:?}", i, reader.damage());
                }
            }
            let lost: u64 = reader.damage().iter().map(|d| d.frames()).sum();
            prop_assert_eq!(recovered.len() as u64 + lost, u64::from(frames));
        }
    }

    #[test]
    fn frames_handed_out_to_be_read_later_recover_and_lose_exactly_what_reading_in_place_does(
        frames in 1u32..10,
        harms in prop::collection::vec(harm(), 0..5),
    ) {
        // The export's encoder threads read cache frames themselves (`next_stored_frame`),
        // check each against its checksum once read, and report failures back (`note_lost`):
        // the frames kept and the damage reported must be those of reading in place.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.reel");
        write_cache(&path, W, H, frames);
        let (bytes, _) = apply(std::fs::read(&path).unwrap(), &harms);
        std::fs::write(&path, &bytes).unwrap();
        let (Ok(mut in_place), Ok(mut handed_out)) = (CacheReader::open(&path), CacheReader::open(&path)) else {
            return Ok(());
        };
        let mut pixels = vec![0; in_place.layout().frame_len()];
        let mut expected = Vec::new();
        while in_place.read_frame(&mut pixels).unwrap() {
            expected.push((in_place.last_index().unwrap(), pixels.clone()));
        }
        let (mut kept, mut lost) = (Vec::new(), Vec::new());
        while let Some(frame) = handed_out.next_stored_frame().unwrap() {
            frame.read_bytes(0, &mut pixels).unwrap();
            // In two pieces, as an encoder reads a frame a few rows at a time.
            let (a, b) = pixels.split_at(W as usize * 4);
            match frame.verify([(crc32fast::hash(a), a.len()), (crc32fast::hash(b), b.len())]) {
                Ok(()) => kept.push((frame.frame(), pixels.clone())),
                Err(_) => lost.push(frame.frame()),
            }
        }
        for frame in lost {
            handed_out.note_lost(frame);
        }
        prop_assert_eq!(kept, expected);
        prop_assert_eq!(handed_out.damage(), in_place.damage());
        prop_assert_eq!(handed_out.end(), in_place.end());
        prop_assert_eq!(handed_out.frames_read(), in_place.frames_read());
    }

    #[test]
    fn a_damaged_movie_index_is_refused_or_read_but_never_panics(
        samples in 1usize..8,
        harms in prop::collection::vec(harm(), 0..5),
    ) {
        let mut movie = MovieWriter::new(Cursor::new(Vec::new()), 30).unwrap();
        let data: Vec<Vec<u8>> = (0..samples).map(|i| vec![i as u8; 10 + i * 7]).collect();
        for d in &data {
            movie.add_sample(d, true).unwrap();
        }
        let format = VideoFormat {
            codec_tag: *b"png ",
            width: 6,
            height: 3,
            compressor_name: "PNG".into(),
            extensions: Vec::new(),
        };
        let original = movie.finish(&format).unwrap().into_inner();
        let clean = MovieIndex::read(&mut Cursor::new(&original)).unwrap();
        let sample_range = |i: usize| {
            let start = clean.sample_offsets[i] as usize;
            start..start + clean.sample_sizes[i] as usize
        };
        let (bytes, touched) = apply(original.clone(), &harms);
        // Whether every harm stayed inside sample data (the index itself is then intact).
        let index_intact = touched
            .iter()
            .all(|t| (0..samples).any(|i| sample_range(i).start <= t.start && t.end <= sample_range(i).end));
        let mut file = Cursor::new(bytes);
        match MovieIndex::read(&mut file) {
            Ok(index) => {
                let mut buf = Vec::new();
                for (i, written) in data.iter().enumerate().take(index.sample_sizes.len()) {
                    let read = index.read_sample(&mut file, i, &mut buf);
                    if index_intact && untouched(sample_range(i), &touched) {
                        prop_assert!(read.is_ok());
                        prop_assert_eq!(&buf, written, "untouched sample {} reads back", i);
                    }
                }
            }
            Err(e) => prop_assert!(!index_intact, "an intact index was refused: {e}"),
        }
    }
}
