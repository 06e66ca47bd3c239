//! Writing a single-video-track QuickTime movie.

use std::io::{Seek, SeekFrom, Write};

use super::atoms::AtomWriter;
use super::frame_rate::FrameRate;

/// The sample description of the video track (one `stsd` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoFormat {
    /// The QuickTime codec tag: `png `, `jpeg` or `avc1`.
    pub codec_tag: [u8; 4],
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// A name shown by players (at most 31 bytes).
    pub compressor_name: String,
    /// Atoms appended to the sample entry (the `avcC` box for H.264).
    pub extensions: Vec<u8>,
}

impl VideoFormat {
    /// The sample description for frames of `width`x`height` stored with
    /// `codec_tag`, shown as `compressor_name`, with no extension atoms.
    pub fn new(codec_tag: [u8; 4], width: u16, height: u16, compressor_name: &str) -> Self {
        VideoFormat {
            codec_tag,
            width,
            height,
            compressor_name: compressor_name.into(),
            extensions: Vec::new(),
        }
    }

    /// The H.264 (`avc1`) description: its `avcC` atom holds `decoder_config`,
    /// the AVC decoder configuration record (ISO 14496-15).
    pub fn h264(width: u16, height: u16, decoder_config: &[u8]) -> Self {
        let mut atom = AtomWriter::new();
        atom.atom(*b"avcC", |w| w.bytes(decoder_config));
        VideoFormat {
            extensions: atom.into_bytes(),
            ..VideoFormat::new(*b"avc1", width, height, "H.264")
        }
    }
}

/// Streams samples into `mdat` and writes the `moov` index at the end.
///
/// Memory grows only by the sample table: 12 bytes (size, offset, sync
/// flag) per frame. Chunk offsets become 64-bit (`co64`) when any sample
/// starts past 4 GiB.
///
/// Layout: `ftyp` (`qt  `), `mdat` with a 64-bit size, then `moov` with one
/// video track whose sample table holds one sample per chunk.
pub struct MovieWriter<W: Write + Seek> {
    out: W,
    mdat_start: u64,
    position: u64,
    sizes: Vec<u32>,
    offsets: Vec<u64>,
    /// Run-length durations, in frames, of every sample but the newest: (samples, frames each).
    durations: Vec<(u32, u32)>,
    /// The frame the newest sample is shown at (counting from the movie's first frame).
    last_frame: Option<u64>,
    /// 1-based numbers of sync samples, or `None` while every sample is sync.
    sync: Vec<u32>,
    all_sync: bool,
    timescale: u32,
    sample_delta: u32,
}

/// The movie timescale (units per second) of the `mvhd` and `tkhd` durations.
const MOVIE_TIMESCALE: u32 = 1000;

impl<W: Write + Seek> MovieWriter<W> {
    /// Starts a movie at `fps` frames per second (1 to 1000).
    pub fn new(out: W, fps: u32) -> std::io::Result<Self> {
        let rate = FrameRate::integer(fps).map_err(std::io::Error::other)?;
        MovieWriter::with_rate(out, rate)
    }

    /// Starts a movie at `rate` frames per second, written as an exact time base: a whole rate
    /// `n` as timescale `100 n` with samples of 100 units, a fraction `n/d` as timescale `n` with
    /// samples of `d` units (NTSC's 30000/1001 stays exact).
    pub fn with_rate(mut out: W, rate: FrameRate) -> std::io::Result<Self> {
        let (timescale, sample_delta) = match rate.as_integer() {
            Some(fps) => (fps * 100, 100),
            None => (rate.num(), rate.den()),
        };
        let mut head = AtomWriter::new();
        head.atom(*b"ftyp", |w| {
            w.bytes(b"qt  ");
            w.u32(0x2005_0300);
            w.bytes(b"qt  ");
        });
        let mdat_start = head.len() as u64;
        // 64-bit mdat header: size 1 means "the real size follows".
        head.u32(1);
        head.bytes(b"mdat");
        head.u64(0);
        let head = head.into_bytes();
        out.write_all(&head)?;
        Ok(MovieWriter {
            out,
            mdat_start,
            position: head.len() as u64,
            sizes: Vec::new(),
            offsets: Vec::new(),
            sync: Vec::new(),
            all_sync: true,
            durations: Vec::new(),
            last_frame: None,
            timescale,
            sample_delta,
        })
    }

    /// Samples written so far.
    pub fn samples(&self) -> usize {
        self.sizes.len()
    }

    /// Bytes written so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Appends one frame's encoded bytes, shown right after the previous sample; `sync` marks
    /// a keyframe.
    pub fn add_sample(&mut self, data: &[u8], sync: bool) -> std::io::Result<()> {
        let frame = self.last_frame.map_or(0, |f| f + 1);
        self.add_sample_at(data, sync, frame)
    }

    /// Appends one encoded frame shown at frame `frame` (counting from the movie's first frame,
    /// increasing from sample to sample): the previous sample lasts until then, so a frame is
    /// held in place of frames missing after it and the movie keeps its timing.
    pub fn add_sample_at(&mut self, data: &[u8], sync: bool, frame: u64) -> std::io::Result<()> {
        let invalid =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what.to_string());
        let held = match self.last_frame {
            Some(last) if frame <= last => return Err(invalid("sample frames must increase")),
            Some(last) => Some(u32::try_from(frame - last).map_err(|_| invalid("gap too long"))?),
            None => None,
        };
        let size = u32::try_from(data.len()).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "sample over 4 GiB")
        })?;
        self.out.write_all(data)?;
        let number = self.sizes.len() as u32 + 1;
        if sync {
            self.sync.push(number);
        } else {
            self.all_sync = false;
        }
        self.sizes.push(size);
        self.offsets.push(self.position);
        if let Some(frames) = held {
            self.push_duration(frames);
        }
        self.last_frame = Some(frame);
        self.position += data.len() as u64;
        Ok(())
    }

    fn push_duration(&mut self, frames: u32) {
        match self.durations.last_mut() {
            Some((samples, each)) if *each == frames => *samples += 1,
            _ => self.durations.push((1, frames)),
        }
    }

    /// Writes the index and returns the output (flushed); the last sample lasts one frame.
    pub fn finish(self, format: &VideoFormat) -> std::io::Result<W> {
        let end = self.last_frame.map_or(0, |f| f + 1);
        self.finish_at(format, end)
    }

    /// Writes the index and returns the output (flushed); the last sample lasts until frame
    /// `end` (at least one frame), so frames missing at the end of the input keep their time.
    pub fn finish_at(mut self, format: &VideoFormat, end: u64) -> std::io::Result<W> {
        if let Some(last) = self.last_frame {
            let frames = u32::try_from(end.saturating_sub(last).max(1)).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "gap too long")
            })?;
            self.push_duration(frames);
        }
        let moov = self.moov(format);
        self.out.write_all(&moov)?;
        let mdat_size = self.position - self.mdat_start;
        self.out.seek(SeekFrom::Start(self.mdat_start + 8))?;
        self.out.write_all(&mdat_size.to_be_bytes())?;
        self.out.seek(SeekFrom::End(0))?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn moov(&self, f: &VideoFormat) -> Vec<u8> {
        let frames: u64 = self
            .durations
            .iter()
            .map(|&(samples, each)| u64::from(samples) * u64::from(each))
            .sum();
        let media_duration = frames * u64::from(self.sample_delta);
        let movie_duration =
            (media_duration * u64::from(MOVIE_TIMESCALE) / u64::from(self.timescale)) as u32;
        let mut w = AtomWriter::new();
        w.atom(*b"moov", |w| {
            w.full_atom(*b"mvhd", 0, 0, |w| {
                w.u32(0); // creation time
                w.u32(0); // modification time
                w.u32(MOVIE_TIMESCALE);
                w.u32(movie_duration);
                w.u32(0x0001_0000); // preferred rate 1.0
                w.u16(0x0100); // preferred volume 1.0
                w.zeros(10);
                w.identity_matrix();
                w.zeros(24); // preview, poster, selection, current time
                w.u32(2); // next track id
            });
            w.atom(*b"trak", |w| {
                w.full_atom(*b"tkhd", 0, 0x3, |w| {
                    w.u32(0);
                    w.u32(0);
                    w.u32(1); // track id
                    w.u32(0);
                    w.u32(movie_duration);
                    w.zeros(8);
                    w.u16(0); // layer
                    w.u16(0); // alternate group
                    w.u16(0); // volume
                    w.u16(0);
                    w.identity_matrix();
                    w.u32(u32::from(f.width) << 16);
                    w.u32(u32::from(f.height) << 16);
                });
                w.atom(*b"mdia", |w| {
                    media_header(w, self.timescale, media_duration);
                    handler(w, b"mhlr", b"vide", "VideoHandler");
                    w.atom(*b"minf", |w| {
                        w.full_atom(*b"vmhd", 0, 1, |w| {
                            w.u16(0x40); // graphics mode: dither copy
                            w.u16(0x8000);
                            w.u16(0x8000);
                            w.u16(0x8000);
                        });
                        handler(w, b"dhlr", b"alis", "DataHandler");
                        w.atom(*b"dinf", |w| {
                            w.full_atom(*b"dref", 0, 0, |w| {
                                w.u32(1);
                                // Flag 1: the media data is in this file.
                                w.full_atom(*b"alis", 0, 1, |_| {});
                            });
                        });
                        self.sample_table(w, f);
                    });
                });
            });
        });
        w.into_bytes()
    }

    fn sample_table(&self, w: &mut AtomWriter, f: &VideoFormat) {
        let count = self.sizes.len() as u32;
        w.atom(*b"stbl", |w| {
            w.full_atom(*b"stsd", 0, 0, |w| {
                w.u32(1);
                w.atom(f.codec_tag, |w| {
                    w.zeros(6);
                    w.u16(1); // data reference index
                    w.u16(0); // version
                    w.u16(0); // revision
                    w.u32(0); // vendor
                    w.u32(0); // temporal quality
                    w.u32(512); // spatial quality
                    w.u16(f.width);
                    w.u16(f.height);
                    w.u32(0x0048_0000); // 72 dpi
                    w.u32(0x0048_0000);
                    w.u32(0); // data size
                    w.u16(1); // frames per sample
                    let name = &f.compressor_name[..f.compressor_name.len().min(31)];
                    w.pascal_string(name);
                    w.zeros(31 - name.len());
                    w.u16(24); // depth
                    w.u16(0xFFFF); // no color table
                    w.bytes(&f.extensions);
                });
            });
            w.full_atom(*b"stts", 0, 0, |w| {
                w.u32(self.durations.len() as u32);
                for &(samples, each) in &self.durations {
                    w.u32(samples);
                    w.u32(each * self.sample_delta);
                }
            });
            if !self.all_sync {
                w.full_atom(*b"stss", 0, 0, |w| {
                    w.u32(self.sync.len() as u32);
                    self.sync.iter().for_each(|&n| w.u32(n));
                });
            }
            w.full_atom(*b"stsc", 0, 0, |w| {
                if count == 0 {
                    w.u32(0);
                } else {
                    w.u32(1);
                    w.u32(1); // first chunk
                    w.u32(1); // samples per chunk
                    w.u32(1); // sample description
                }
            });
            w.full_atom(*b"stsz", 0, 0, |w| {
                w.u32(0); // sizes vary
                w.u32(count);
                self.sizes.iter().for_each(|&s| w.u32(s));
            });
            if self
                .offsets
                .last()
                .is_some_and(|&o| o > u64::from(u32::MAX))
            {
                w.full_atom(*b"co64", 0, 0, |w| {
                    w.u32(count);
                    self.offsets.iter().for_each(|&o| w.u64(o));
                });
            } else {
                w.full_atom(*b"stco", 0, 0, |w| {
                    w.u32(count);
                    self.offsets.iter().for_each(|&o| w.u32(o as u32));
                });
            }
        });
    }
}

/// `mdhd`, in its 64-bit form only when the duration needs it (long movies at fine timescales).
fn media_header(w: &mut AtomWriter, timescale: u32, duration: u64) {
    let long = duration > u64::from(u32::MAX);
    w.full_atom(*b"mdhd", u8::from(long), 0, |w| {
        if long {
            w.u64(0);
            w.u64(0);
            w.u32(timescale);
            w.u64(duration);
        } else {
            w.u32(0);
            w.u32(0);
            w.u32(timescale);
            w.u32(duration as u32);
        }
        w.u16(0); // language
        w.u16(0); // quality
    });
}

fn handler(w: &mut AtomWriter, component: &[u8; 4], subtype: &[u8; 4], name: &str) {
    w.full_atom(*b"hdlr", 0, 0, |w| {
        w.bytes(component);
        w.bytes(subtype);
        w.u32(0); // manufacturer
        w.u32(0); // flags
        w.u32(0); // flags mask
        w.pascal_string(name);
    });
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, ErrorKind};

    use super::*;
    use crate::movie::MovieIndex;

    fn format() -> VideoFormat {
        VideoFormat {
            codec_tag: *b"png ",
            width: 4,
            height: 2,
            compressor_name: "PNG".into(),
            extensions: Vec::new(),
        }
    }

    #[test]
    fn samples_and_keyframes_round_trip_through_the_index() {
        let mut w = MovieWriter::new(Cursor::new(Vec::new()), 25).unwrap();
        w.add_sample(b"first", true).unwrap();
        w.add_sample(b"second!", false).unwrap();
        w.add_sample(b"3", true).unwrap();
        let mut out = w.finish(&format()).unwrap();
        let index = MovieIndex::read(&mut out).unwrap();
        assert_eq!(index.sample_sizes, [5, 7, 1]);
        assert_eq!(index.sync_samples, Some(vec![1, 3]));
        assert_eq!(index.timescale, 2500);
        assert_eq!(index.sample_durations, [100, 100, 100]);
        let mut buf = Vec::new();
        index.read_sample(&mut out, 1, &mut buf).unwrap();
        assert_eq!(buf, b"second!");
    }

    /// Tracks the position but keeps only small writes (headers, moov), so a
    /// >4 GiB movie can be written without 4 GiB of memory or disk.
    #[derive(Default)]
    struct SparseSink {
        pos: u64,
        len: u64,
        kept: Vec<(u64, Vec<u8>)>,
    }
    impl Write for SparseSink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if buf.len() < 1 << 20 {
                self.kept.push((self.pos, buf.to_vec()));
            }
            self.pos += buf.len() as u64;
            self.len = self.len.max(self.pos);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Seek for SparseSink {
        fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
            self.pos = match to {
                SeekFrom::Start(p) => p,
                SeekFrom::End(d) => (self.len as i64 + d) as u64,
                SeekFrom::Current(d) => (self.pos as i64 + d) as u64,
            };
            Ok(self.pos)
        }
    }

    #[test]
    fn offsets_past_4_gib_switch_to_co64() {
        // Zeroed pages that are never read stay unallocated.
        let big = vec![0u8; 256 << 20];
        let mut w = MovieWriter::new(SparseSink::default(), 30).unwrap();
        for _ in 0..17 {
            w.add_sample(&big, true).unwrap();
        }
        w.add_sample(b"tail", true).unwrap();
        let sink = w.finish(&format()).unwrap();
        // Reassemble the header and moov (everything after the last big sample).
        let moov_at = sink
            .kept
            .iter()
            .map(|(p, _)| *p)
            .filter(|&p| p > 1 << 32)
            .min()
            .unwrap();
        let mut tail = Vec::new();
        for (p, b) in &sink.kept {
            if *p >= moov_at {
                tail.extend_from_slice(b);
            }
        }
        let mut file = Cursor::new(Vec::new());
        // ftyp + a short mdat stand-in, then the real moov.
        file.get_mut().extend_from_slice(&sink.kept[0].1[..20]);
        file.get_mut()
            .extend_from_slice(&[0, 0, 0, 8, b'f', b'r', b'e', b'e']);
        let moov = &tail[4..]; // after the "tail" sample
        file.get_mut().extend_from_slice(moov);
        let index = MovieIndex::read(&mut file).unwrap();
        assert!(index.co64);
        assert_eq!(index.sample_sizes.len(), 18);
        assert_eq!(index.sample_offsets[17], 36 + 17 * (256u64 << 20));
        assert!(index.sample_offsets[17] > u64::from(u32::MAX));
    }

    /// Fails with "no space left" after `room` bytes.
    struct FullDisk {
        inner: Cursor<Vec<u8>>,
        room: usize,
    }
    impl Write for FullDisk {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.inner.get_ref().len() + buf.len() > self.room {
                return Err(std::io::Error::from(ErrorKind::StorageFull));
            }
            self.inner.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Seek for FullDisk {
        fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
            self.inner.seek(to)
        }
    }

    #[test]
    fn a_full_disk_surfaces_as_an_error_from_add_sample_or_finish() {
        let mut w = MovieWriter::new(
            FullDisk {
                inner: Cursor::new(Vec::new()),
                room: 100,
            },
            30,
        )
        .unwrap();
        w.add_sample(&[1; 40], true).unwrap();
        let e = w.add_sample(&[2; 40], true).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::StorageFull);
        assert_eq!(w.samples(), 1, "the failed sample is not indexed");
        let e = w
            .finish(&format())
            .err()
            .expect("finish fails on a full disk");
        assert_eq!(e.kind(), ErrorKind::StorageFull);
    }

    #[test]
    fn an_ntsc_rate_is_written_as_an_exact_time_base() {
        let rate: FrameRate = "29.97".parse().unwrap();
        let mut movie = MovieWriter::with_rate(Cursor::new(Vec::new()), rate).unwrap();
        for _ in 0..3 {
            movie.add_sample(b"frame", true).unwrap();
        }
        let mut out = movie.finish(&format()).unwrap();
        let index = MovieIndex::read(&mut out).unwrap();
        assert_eq!(index.timescale, 30000);
        assert_eq!(index.sample_durations, [1001, 1001, 1001]);
    }

    #[test]
    fn a_sample_is_held_until_the_next_samples_frame_and_the_last_until_the_end() {
        let mut movie = MovieWriter::new(Cursor::new(Vec::new()), 25).unwrap();
        movie.add_sample(b"a", true).unwrap(); // frame 0
        movie.add_sample_at(b"b", true, 1).unwrap();
        movie.add_sample_at(b"c", true, 4).unwrap(); // frames 2 and 3 missing: b is held
        assert!(
            movie.add_sample_at(b"d", true, 4).is_err(),
            "frames must increase"
        );
        let mut out = movie.finish_at(&format(), 7).unwrap(); // frames 5 and 6 missing
        let index = MovieIndex::read(&mut out).unwrap();
        assert_eq!(index.sample_durations, [100, 300, 300]);
    }
}
