//! Reading back the index of a QuickTime movie: codec, size, and where each
//! sample is. Used to verify movies (tests, `reel info`) without ffmpeg.

use std::io::{Read, Seek, SeekFrom};

/// What went wrong parsing a movie.
#[derive(Debug, thiserror::Error)]
pub enum MovieParseError {
    /// Reading failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// An atom claims more bytes than the file has.
    #[error("malformed movie: atom '{}' at offset {offset} has size {size} past the end of the file ({len} bytes)", String::from_utf8_lossy(.kind))]
    AtomPastEnd {
        /// The atom's type.
        kind: [u8; 4],
        /// Where it starts.
        offset: u64,
        /// The size it claims.
        size: u64,
        /// The file's length.
        len: u64,
    },
    /// A required atom is missing (named by its path).
    #[error("malformed movie: no {0} atom")]
    MissingAtom(&'static str),
    /// No `moov`: the movie was not finished.
    #[error("malformed movie: no moov atom (the movie was not finished)")]
    Unfinished,
    /// An atom (or entry) too short for its fields.
    #[error("malformed movie: {0} too short")]
    TooShort(&'static str),
    /// The sample-to-chunk table does not start at chunk 1.
    #[error("malformed movie: stsc does not cover chunk 1")]
    ChunkNotCovered,
    /// A sample table lists more entries than its atom has room for (damage, not a movie
    /// with billions of samples).
    #[error("malformed movie: {table} lists {count} entries but has room for {room}")]
    TableTooLong {
        /// The table's atom.
        table: &'static str,
        /// Entries it lists.
        count: usize,
        /// Entries its size holds.
        room: usize,
    },
    /// The chunks hold another number of samples than `stsz` lists.
    #[error("malformed movie: stsz lists {listed} samples but chunks hold {in_chunks}")]
    SampleCount {
        /// Samples `stsz` lists.
        listed: usize,
        /// Samples the chunks hold (at least; counting stops past `listed`).
        in_chunks: usize,
    },
}

/// The first video track of a movie, as its sample table describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovieIndex {
    /// The `ftyp` major brand.
    pub brand: [u8; 4],
    /// The codec tag of the sample description.
    pub codec_tag: [u8; 4],
    /// Width from the sample description.
    pub width: u16,
    /// Height from the sample description.
    pub height: u16,
    /// Media timescale (units per second).
    pub timescale: u32,
    /// Duration of each sample, in timescale units.
    pub sample_durations: Vec<u32>,
    /// Byte size of each sample.
    pub sample_sizes: Vec<u32>,
    /// File offset of each sample.
    pub sample_offsets: Vec<u64>,
    /// 1-based sync sample numbers, or `None` if every sample is sync.
    pub sync_samples: Option<Vec<u32>>,
    /// Whether chunk offsets were 64-bit (`co64`).
    pub co64: bool,
    /// Extension atoms of the sample description (e.g. `avcC`), raw.
    pub extensions: Vec<u8>,
}

impl MovieIndex {
    /// Parses the movie in `file`.
    pub fn read<R: Read + Seek>(file: &mut R) -> Result<Self, MovieParseError> {
        let len = file.seek(SeekFrom::End(0))?;
        let mut at = 0u64;
        let mut brand = None;
        let mut moov = None;
        // Fewer bytes than an atom header are trailing junk, not an atom.
        while at + 8 <= len {
            file.seek(SeekFrom::Start(at))?;
            let mut head = [0u8; 8];
            file.read_exact(&mut head)?;
            let mut size = u64::from(u32::from_be_bytes(head[0..4].try_into().unwrap()));
            let kind: [u8; 4] = head[4..8].try_into().unwrap();
            let mut header_len = 8;
            if size == 1 {
                let mut big = [0u8; 8];
                file.read_exact(&mut big)?;
                size = u64::from_be_bytes(big);
                header_len = 16;
            } else if size == 0 {
                size = len - at;
            }
            // Junk after the index ends the scan (players ignore trailing bytes too); junk
            // before it is damage.
            if (size < header_len || at + size > len) && moov.is_some() && brand.is_some() {
                break;
            }
            if size < header_len || at + size > len {
                return Err(MovieParseError::AtomPastEnd {
                    kind,
                    offset: at,
                    size,
                    len,
                });
            }
            match &kind {
                b"ftyp" => {
                    let mut b = [0u8; 4];
                    file.read_exact(&mut b)?;
                    brand = Some(b);
                }
                b"moov" => {
                    let mut body = vec![0u8; (size - header_len) as usize];
                    file.read_exact(&mut body)?;
                    moov = Some(body);
                }
                _ => {}
            }
            at += size;
        }
        let brand = brand.ok_or(MovieParseError::MissingAtom("ftyp"))?;
        let moov = moov.ok_or(MovieParseError::Unfinished)?;
        Self::parse_moov(brand, &moov, len)
    }

    fn parse_moov(brand: [u8; 4], moov: &[u8], file_len: u64) -> Result<Self, MovieParseError> {
        use MovieParseError::{MissingAtom, TooShort};
        let stbl = find_path(moov, &[b"trak", b"mdia", b"minf", b"stbl"])
            .ok_or(MissingAtom("trak/mdia/minf/stbl"))?;
        let mdhd = find_path(moov, &[b"trak", b"mdia", b"mdhd"]).ok_or(MissingAtom("mdhd"))?;
        // Version 1 has 64-bit times before the timescale.
        let timescale_at = if mdhd.first() == Some(&1) { 20 } else { 12 };
        let timescale = be32(mdhd, timescale_at)?;

        let stsd = child(stbl, b"stsd").ok_or(MissingAtom("stsd"))?;
        let entry = stsd.get(8..).ok_or(TooShort("stsd"))?;
        let entry_size = be32(entry, 0)? as usize;
        let entry = entry
            .get(..entry_size)
            .filter(|e| e.len() >= 8)
            .ok_or(TooShort("stsd entry"))?;
        let codec_tag: [u8; 4] = entry[4..8].try_into().unwrap();
        // Fixed fields of a video sample entry end at byte 86 (8 header + 78).
        let width = be16(entry, 32)?;
        let height = be16(entry, 34)?;
        let extensions = entry.get(86..).unwrap_or_default().to_vec();

        let stsz = child(stbl, b"stsz").ok_or(MissingAtom("stsz"))?;
        let uniform = be32(stsz, 4)?;
        let count = be32(stsz, 8)? as usize;
        let sample_sizes = if uniform != 0 {
            // Every sample has bytes in the file: more samples than bytes is damage.
            if count as u64 > file_len {
                return Err(MovieParseError::TableTooLong {
                    table: "stsz",
                    count,
                    room: file_len as usize,
                });
            }
            vec![uniform; count]
        } else {
            table(stsz, 8, 4, "stsz")?;
            (0..count)
                .map(|i| be32(stsz, 12 + 4 * i))
                .collect::<Result<_, _>>()?
        };
        let (chunk_offsets, co64) = chunk_offsets(stbl)?;
        let sample_offsets = sample_offsets(stbl, &chunk_offsets, &sample_sizes)?;

        let stts = child(stbl, b"stts").ok_or(MissingAtom("stts"))?;
        let mut sample_durations = Vec::with_capacity(count);
        for i in 0..table(stts, 4, 8, "stts")? {
            let (n, delta) = (be32(stts, 8 + 8 * i)?, be32(stts, 12 + 8 * i)?);
            if sample_durations.len() + n as usize > count {
                return Err(MovieParseError::TableTooLong {
                    table: "stts",
                    count: sample_durations.len() + n as usize,
                    room: count,
                });
            }
            sample_durations.resize(sample_durations.len() + n as usize, delta);
        }
        let sync_samples = match child(stbl, b"stss") {
            Some(stss) => Some(
                (0..table(stss, 4, 4, "stss")?)
                    .map(|i| be32(stss, 8 + 4 * i))
                    .collect::<Result<_, _>>()?,
            ),
            None => None,
        };
        Ok(MovieIndex {
            brand,
            codec_tag,
            width,
            height,
            timescale,
            sample_durations,
            sample_sizes,
            sample_offsets,
            sync_samples,
            co64,
            extensions,
        })
    }

    /// Reads sample `i` (0-based) into `buf`.
    pub fn read_sample<R: Read + Seek>(
        &self,
        file: &mut R,
        i: usize,
        buf: &mut Vec<u8>,
    ) -> std::io::Result<()> {
        let (size, offset) = (self.sample_sizes[i], self.sample_offsets[i]);
        let len = file.seek(SeekFrom::End(0))?;
        if offset
            .checked_add(u64::from(size))
            .is_none_or(|end| end > len)
        {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("sample {i} ({size} bytes at offset {offset}) runs past the end of the file ({len} bytes)"),
            ));
        }
        buf.resize(size as usize, 0);
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(buf)
    }
}

fn be16(b: &[u8], at: usize) -> Result<u16, MovieParseError> {
    b.get(at..at + 2)
        .map(|s| u16::from_be_bytes(s.try_into().unwrap()))
        .ok_or(MovieParseError::TooShort("atom"))
}

fn be32(b: &[u8], at: usize) -> Result<u32, MovieParseError> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes(s.try_into().unwrap()))
        .ok_or(MovieParseError::TooShort("atom"))
}

fn be64(b: &[u8], at: usize) -> Result<u64, MovieParseError> {
    b.get(at..at + 8)
        .map(|s| u64::from_be_bytes(s.try_into().unwrap()))
        .ok_or(MovieParseError::TooShort("atom"))
}

/// The chunk offsets of a sample table (`stco`, or `co64`: then `true`).
fn chunk_offsets(stbl: &[u8]) -> Result<(Vec<u64>, bool), MovieParseError> {
    if let Some(stco) = child(stbl, b"stco") {
        let n = table(stco, 4, 4, "stco")?;
        let v = (0..n)
            .map(|i| be32(stco, 8 + 4 * i).map(u64::from))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((v, false))
    } else if let Some(co64) = child(stbl, b"co64") {
        let n = table(co64, 4, 8, "co64")?;
        let v = (0..n)
            .map(|i| be64(co64, 8 + 8 * i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((v, true))
    } else {
        Err(MovieParseError::MissingAtom("stco or co64"))
    }
}

/// Where each sample starts: its chunk's offset plus the sizes of the samples
/// before it in that chunk (`stsc` says how many samples each chunk holds).
fn sample_offsets(
    stbl: &[u8],
    chunk_offsets: &[u64],
    sample_sizes: &[u32],
) -> Result<Vec<u64>, MovieParseError> {
    let count = sample_sizes.len();
    let stsc = child(stbl, b"stsc").ok_or(MovieParseError::MissingAtom("stsc"))?;
    let runs = (0..table(stsc, 4, 12, "stsc")?)
        .map(|i| Ok((be32(stsc, 8 + 12 * i)?, be32(stsc, 12 + 12 * i)?)))
        .collect::<Result<Vec<(u32, u32)>, MovieParseError>>()?;
    let mut offsets = Vec::with_capacity(count);
    for (chunk_index, &chunk_offset) in chunk_offsets.iter().enumerate() {
        let chunk_number = chunk_index as u32 + 1;
        let per_chunk = runs
            .iter()
            .rev()
            .find(|(first, _)| *first <= chunk_number)
            .map(|r| r.1)
            .ok_or(MovieParseError::ChunkNotCovered)?;
        let mut offset = chunk_offset;
        for _ in 0..per_chunk {
            let Some(&size) = sample_sizes.get(offsets.len()) else {
                return Err(MovieParseError::SampleCount {
                    listed: count,
                    in_chunks: offsets.len() + 1,
                });
            };
            offsets.push(offset);
            offset += u64::from(size);
        }
    }
    if offsets.len() != count {
        return Err(MovieParseError::SampleCount {
            listed: count,
            in_chunks: offsets.len(),
        });
    }
    Ok(offsets)
}

/// The entry count of a sample table whose `entry_len`-byte entries follow the count at
/// `count_at`, checked against the atom's size (so damage cannot ask for billions of entries).
fn table(
    atom: &[u8],
    count_at: usize,
    entry_len: usize,
    name: &'static str,
) -> Result<usize, MovieParseError> {
    let count = be32(atom, count_at)? as usize;
    let room = atom.len().saturating_sub(count_at + 4) / entry_len;
    if count > room {
        return Err(MovieParseError::TableTooLong {
            table: name,
            count,
            room,
        });
    }
    Ok(count)
}

/// The body of the first child atom of `kind` within `body` (32-bit sizes only, as in `moov`).
fn child<'a>(mut body: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    while body.len() >= 8 {
        let size = u32::from_be_bytes(body[0..4].try_into().unwrap()) as usize;
        if size < 8 || size > body.len() {
            return None;
        }
        if &body[4..8] == kind {
            return Some(&body[8..size]);
        }
        body = &body[size..];
    }
    None
}

fn find_path<'a>(mut body: &'a [u8], path: &[&[u8; 4]]) -> Option<&'a [u8]> {
    for kind in path {
        body = child(body, kind)?;
    }
    Some(body)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::movie::{MovieWriter, VideoFormat};

    fn movie() -> Vec<u8> {
        let mut w = MovieWriter::new(Cursor::new(Vec::new()), 30).unwrap();
        for i in 0..3u8 {
            w.add_sample(&[i; 20], true).unwrap();
        }
        let format = VideoFormat {
            codec_tag: *b"png ",
            width: 4,
            height: 2,
            compressor_name: "PNG".into(),
            extensions: Vec::new(),
        };
        w.finish(&format).unwrap().into_inner()
    }

    /// Sets the 32-bit field `offset` bytes after the first `atom` tag to `value`.
    fn set_after(bytes: &mut [u8], atom: &[u8; 4], offset: usize, value: u32) {
        let at = bytes.windows(4).position(|w| w == atom).unwrap() + 4 + offset;
        bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
    }

    #[test]
    fn sample_tables_that_claim_billions_of_entries_are_refused_without_allocating_them() {
        // Offsets after each tag: version/flags (4), then the count (stsz: size, then count).
        for (atom, offset) in [(b"stsz", 8), (b"stco", 4), (b"stsc", 4), (b"stts", 4)] {
            let mut bytes = movie();
            set_after(&mut bytes, atom, offset, u32::MAX);
            let err = MovieIndex::read(&mut Cursor::new(bytes)).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(std::str::from_utf8(atom).unwrap()), "{text}");
        }
        // A uniform sample size with a huge count.
        let mut bytes = movie();
        set_after(&mut bytes, b"stsz", 4, 7);
        set_after(&mut bytes, b"stsz", 8, u32::MAX);
        assert!(MovieIndex::read(&mut Cursor::new(bytes)).is_err());
    }

    #[test]
    fn a_sample_past_the_end_of_the_file_is_an_error_not_a_huge_read() {
        let bytes = movie();
        let mut index = MovieIndex::read(&mut Cursor::new(&bytes)).unwrap();
        index.sample_sizes[1] = u32::MAX;
        let mut buf = Vec::new();
        let err = index
            .read_sample(&mut Cursor::new(&bytes), 1, &mut buf)
            .unwrap_err();
        assert!(err.to_string().contains("past the end"), "{err}");
        assert!(buf.capacity() < 1 << 20);
    }
}
