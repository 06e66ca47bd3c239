//! Reading back the index of a QuickTime movie: codec, size, and where each
//! sample is. Used to verify movies (tests, `reel info`) without ffmpeg.

use std::io::{Read, Seek, SeekFrom};

/// What went wrong parsing a movie.
#[derive(Debug, thiserror::Error)]
pub enum MovieParseError {
    /// Reading failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The structure is not what a QuickTime movie should have.
    #[error("malformed movie: {0}")]
    Malformed(String),
}

fn malformed(s: impl Into<String>) -> MovieParseError {
    MovieParseError::Malformed(s.into())
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
        // Bytes too few for an atom header, or junk after the index, end the scan (players
        // ignore trailing bytes too); junk before the index is damage.
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
            if (size < header_len || at + size > len) && moov.is_some() && brand.is_some() {
                break;
            }
            if size < header_len || at + size > len {
                return Err(malformed(format!(
                    "atom '{}' at offset {at} has size {size} past the end of the file ({len} bytes)",
                    String::from_utf8_lossy(&kind)
                )));
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
        let brand = brand.ok_or_else(|| malformed("no ftyp atom"))?;
        let moov = moov.ok_or_else(|| malformed("no moov atom (the movie was not finished)"))?;
        Self::parse_moov(brand, &moov, len)
    }

    fn parse_moov(brand: [u8; 4], moov: &[u8], file_len: u64) -> Result<Self, MovieParseError> {
        let stbl = find_path(moov, &[b"trak", b"mdia", b"minf", b"stbl"])
            .ok_or_else(|| malformed("no trak/mdia/minf/stbl"))?;
        let mdhd =
            find_path(moov, &[b"trak", b"mdia", b"mdhd"]).ok_or_else(|| malformed("no mdhd"))?;
        // Version 1 has 64-bit times before the timescale.
        let timescale_at = if mdhd.first() == Some(&1) { 20 } else { 12 };
        let timescale = be32(mdhd, timescale_at)?;

        let stsd = child(stbl, b"stsd").ok_or_else(|| malformed("no stsd"))?;
        let entry = stsd.get(8..).ok_or_else(|| malformed("short stsd"))?;
        let entry_size = be32(entry, 0)? as usize;
        let entry = entry
            .get(..entry_size)
            .filter(|e| e.len() >= 8)
            .ok_or_else(|| malformed("short stsd entry"))?;
        let codec_tag: [u8; 4] = entry[4..8].try_into().unwrap();
        // Fixed fields of a video sample entry end at byte 86 (8 header + 78).
        let width = be16(entry, 32)?;
        let height = be16(entry, 34)?;
        let extensions = entry.get(86..).unwrap_or_default().to_vec();

        let stsz = child(stbl, b"stsz").ok_or_else(|| malformed("no stsz"))?;
        let uniform = be32(stsz, 4)?;
        let count = be32(stsz, 8)? as usize;
        let sample_sizes = if uniform != 0 {
            // Every sample has bytes in the file: more samples than bytes is damage.
            if count as u64 > file_len {
                return Err(malformed(format!(
                    "stsz lists {count} samples in a {file_len}-byte file"
                )));
            }
            vec![uniform; count]
        } else {
            table(stsz, 8, 4, "stsz")?;
            (0..count)
                .map(|i| be32(stsz, 12 + 4 * i))
                .collect::<Result<_, _>>()?
        };

        let (chunk_offsets, co64) = if let Some(stco) = child(stbl, b"stco") {
            let n = table(stco, 4, 4, "stco")?;
            let v = (0..n)
                .map(|i| be32(stco, 8 + 4 * i).map(u64::from))
                .collect::<Result<Vec<_>, _>>()?;
            (v, false)
        } else if let Some(co64) = child(stbl, b"co64") {
            let n = table(co64, 4, 8, "co64")?;
            let v = (0..n)
                .map(|i| be64(co64, 8 + 8 * i))
                .collect::<Result<Vec<_>, _>>()?;
            (v, true)
        } else {
            return Err(malformed("no stco or co64"));
        };

        let stsc = child(stbl, b"stsc").ok_or_else(|| malformed("no stsc"))?;
        let runs = (0..table(stsc, 4, 12, "stsc")?)
            .map(|i| Ok((be32(stsc, 8 + 12 * i)?, be32(stsc, 12 + 12 * i)?)))
            .collect::<Result<Vec<(u32, u32)>, MovieParseError>>()?;
        let mut sample_offsets = Vec::with_capacity(count);
        for (chunk_index, &chunk_offset) in chunk_offsets.iter().enumerate() {
            let chunk_number = chunk_index as u32 + 1;
            let per_chunk = runs
                .iter()
                .rev()
                .find(|(first, _)| *first <= chunk_number)
                .map(|r| r.1)
                .ok_or_else(|| malformed("stsc does not cover chunk 1"))?;
            let mut offset = chunk_offset;
            for _ in 0..per_chunk {
                let n = sample_offsets.len();
                let size = *sample_sizes
                    .get(n)
                    .ok_or_else(|| malformed("chunks hold more samples than stsz lists"))?;
                sample_offsets.push(offset);
                offset += u64::from(size);
            }
        }
        if sample_offsets.len() != count {
            return Err(malformed(format!(
                "stsz lists {count} samples but chunks hold {}",
                sample_offsets.len()
            )));
        }

        let stts = child(stbl, b"stts").ok_or_else(|| malformed("no stts"))?;
        let mut sample_durations = Vec::with_capacity(count);
        for i in 0..table(stts, 4, 8, "stts")? {
            let (n, delta) = (be32(stts, 8 + 8 * i)?, be32(stts, 12 + 8 * i)?);
            if sample_durations.len() + n as usize > count {
                return Err(malformed(format!(
                    "stts covers more than the {count} samples"
                )));
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

/// The entry count of a sample table whose `entry_len`-byte entries follow the count at
/// `count_at`, checked against the atom's size (so damage cannot ask for billions of entries).
fn table(
    atom: &[u8],
    count_at: usize,
    entry_len: usize,
    name: &str,
) -> Result<usize, MovieParseError> {
    let count = be32(atom, count_at)? as usize;
    let room = atom.len().saturating_sub(count_at + 4) / entry_len;
    if count > room {
        return Err(malformed(format!(
            "{name} lists {count} entries but has room for {room}"
        )));
    }
    Ok(count)
}

fn be16(b: &[u8], at: usize) -> Result<u16, MovieParseError> {
    b.get(at..at + 2)
        .map(|s| u16::from_be_bytes(s.try_into().unwrap()))
        .ok_or_else(|| malformed("atom too short"))
}

fn be32(b: &[u8], at: usize) -> Result<u32, MovieParseError> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes(s.try_into().unwrap()))
        .ok_or_else(|| malformed("atom too short"))
}

fn be64(b: &[u8], at: usize) -> Result<u64, MovieParseError> {
    b.get(at..at + 8)
        .map(|s| u64::from_be_bytes(s.try_into().unwrap()))
        .ok_or_else(|| malformed("atom too short"))
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
