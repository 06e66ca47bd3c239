//! Reading frames back from a cache file, recovering what a crash left.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::format::{FrameHeader, FrameLayout, Header, FRAME_HEADER_LEN, HEADER_LEN};
use super::stored_frame::StoredFrame;
use crate::error::CacheError;

/// How a cache's records ended, once a [`CacheReader`] has read them all.
///
/// Damaged records in the middle do not end reading (see [`DamagedRun`]); this says only whether the
/// file ended where it should.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadEnd {
    /// Every frame the header promised has a record (or, for an open cache, the file ended
    /// exactly at a record boundary).
    Complete,
    /// A finished cache whose header counts more frames than the file has records for.
    Truncated {
        /// Frames the header promised.
        expected: u64,
        /// Records present.
        found: u64,
    },
    /// The file ends inside a record (the recorder was killed mid-write).
    TornFrame {
        /// Index of the torn frame.
        index: u64,
        /// Byte offset of its record.
        offset: u64,
        /// Bytes of the record present.
        present: u64,
        /// Bytes a whole record has.
        expected: u64,
    },
    /// A finished cache has bytes after its last counted frame.
    TrailingData {
        /// Byte offset where the extra bytes start.
        offset: u64,
        /// How many extra bytes.
        bytes: u64,
    },
}

impl ReadEnd {
    /// Whether the file ended where it should.
    pub fn is_complete(&self) -> bool {
        matches!(self, ReadEnd::Complete)
    }
}

impl std::fmt::Display for ReadEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadEnd::Complete => f.write_str("complete"),
            ReadEnd::Truncated { expected, found } => write!(
                f,
                "truncated: header counts {expected} frames but the file holds only {found}"
            ),
            ReadEnd::TornFrame {
                index,
                offset,
                present,
                expected,
            } => write!(
                f,
                "torn frame {index} at byte offset {offset}: {present} of {expected} bytes present"
            ),
            ReadEnd::TrailingData { offset, bytes } => write!(
                f,
                "{bytes} unexpected bytes after the last frame, at byte offset {offset}"
            ),
        }
    }
}

/// What was wrong with a frame that could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DamageKind {
    /// The record does not start with the frame marker.
    BadMarker,
    /// The record carries another frame's index.
    BadIndex {
        /// The index it carries.
        found: u32,
    },
    /// The record carries a wrong payload length.
    BadLength {
        /// The length it carries.
        found: u32,
    },
    /// The pixels do not match the record's checksum.
    BadChecksum,
    /// The file ends inside the record.
    Torn,
    /// A finished cache counts the frame, but the file ends before its record.
    Missing,
}

impl std::fmt::Display for DamageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DamageKind::BadMarker => f.write_str("no frame marker"),
            DamageKind::BadIndex { found } => write!(f, "record carries index {found}"),
            DamageKind::BadLength { found } => write!(f, "record carries length {found}"),
            DamageKind::BadChecksum => f.write_str("checksum mismatch (damaged pixels)"),
            DamageKind::Torn => f.write_str("torn (the file ends inside it)"),
            DamageKind::Missing => f.write_str("missing (the file ends before it)"),
        }
    }
}

/// A run of consecutive frames lost to the same kind of damage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DamagedRun {
    /// The first frame of the run (recorded index).
    pub first: u64,
    /// The last frame of the run (inclusive).
    pub last: u64,
    /// Byte offset of the first frame's record.
    pub offset: u64,
    /// What was wrong.
    pub kind: DamageKind,
}

impl DamagedRun {
    /// Frames in the run.
    pub fn frames(&self) -> u64 {
        self.last - self.first + 1
    }
}

impl std::fmt::Display for DamagedRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == self.last {
            write!(f, "frame {}", self.first)?;
        } else {
            write!(f, "frames {}-{}", self.first, self.last)?;
        }
        write!(f, " at byte offset {}: {}", self.offset, self.kind)
    }
}

/// Frame ranges as people read them: `5, 7-9, 12`.
pub fn describe_ranges(damage: &[DamagedRun]) -> String {
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for d in damage {
        match merged.last_mut() {
            Some((_, last)) if *last + 1 == d.first => *last = d.last,
            _ => merged.push((d.first, d.last)),
        }
    }
    merged
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads the frames of a cache one at a time into a caller's reused buffer.
///
/// Records have a fixed length, so every record is found at its own offset whatever happened to
/// the ones before it: a damaged, torn or unreadable record costs that frame alone, and reading
/// goes on with the next. [`damage`](CacheReader::damage) lists the frames lost, and
/// [`end`](CacheReader::end) how the file ended. The reader never memory-maps the file (touched
/// pages of a mapping would count toward the process's resident memory).
pub struct CacheReader {
    /// Shared with the [`StoredFrame`]s handed out.
    file: Arc<File>,
    path: Arc<Path>,
    header: Header,
    header_damaged: bool,
    file_len: u64,
    /// Where the file is positioned (to skip a seek when reading on in order).
    position: u64,
    /// The index of the next record to read.
    next: u64,
    /// The index of the frame returned last.
    last_index: Option<u64>,
    frames_read: u64,
    damage: Vec<DamagedRun>,
    end: Option<ReadEnd>,
    /// While following a cache that is still being recorded.
    follow: Option<Following>,
    /// How long the file had not grown when following gave up on it.
    stopped_growing: Option<Duration>,
    /// Frames from this one on are not read ([`restrict_to`](CacheReader::restrict_to)).
    range_end: Option<u64>,
    /// The first frame of the range asked for.
    range_start: u64,
}

/// How to read a cache that is still being recorded ([`CacheReader::open_following`]).
#[derive(Clone)]
pub struct Follow {
    /// End with what there is once the file has not grown for this long without being finished.
    pub idle_timeout: Duration,
    /// Polled while waiting for new records: `true` ends the wait (an abort).
    pub should_stop: Arc<dyn Fn() -> bool + Send + Sync>,
}

impl std::fmt::Debug for Follow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follow")
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

struct Following {
    options: Follow,
    last_growth: Instant,
}

/// How often a follower looks for new records.
const FOLLOW_POLL: Duration = Duration::from_millis(20);

impl CacheReader {
    /// Opens `path` and validates its header.
    ///
    /// A header that fails its checksum is still used when its fields are sane and the first
    /// record confirms its frame size (the frames carry their own checksums); the frame count
    /// is then not trusted, and [`header_damaged`](Self::header_damaged) says so.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CacheError> {
        let path: Arc<Path> = Arc::from(path.as_ref());
        let mut file = File::open(&path).map_err(CacheError::io(&*path))?;
        let file_len = file.metadata().map_err(CacheError::io(&*path))?.len();
        let mut head = Vec::with_capacity(HEADER_LEN);
        (&mut file)
            .take(HEADER_LEN as u64)
            .read_to_end(&mut head)
            .map_err(CacheError::io(&*path))?;
        let (header, header_damaged) = match Header::decode(&head) {
            Ok(header) => (header, false),
            Err(CacheError::HeaderChecksum) => {
                let header = recover_header(&mut file, &head).map_err(CacheError::io(&*path))?;
                (header.ok_or(CacheError::HeaderChecksum)?, true)
            }
            Err(e) => return Err(e),
        };
        file.seek(SeekFrom::Start(HEADER_LEN as u64))
            .map_err(CacheError::io(&*path))?;
        Ok(CacheReader {
            file: Arc::new(file),
            path,
            header,
            header_damaged,
            file_len,
            position: HEADER_LEN as u64,
            next: 0,
            last_index: None,
            frames_read: 0,
            damage: Vec::new(),
            end: None,
            follow: None,
            stopped_growing: None,
            range_end: None,
            range_start: 0,
        })
    }

    /// Opens a cache that may still be being recorded (by `reel record`, `reel capture`, the C
    /// library, or any writer of the format): reading waits for new records until the recorder
    /// finishes the cache (writes its frame count), and ends with what there is if the file
    /// stops growing for `follow.idle_timeout` first ([`stopped_growing`](Self::stopped_growing)
    /// then says so). A record being written is waited for, not taken as torn.
    pub fn open_following(path: impl AsRef<Path>, follow: Follow) -> Result<Self, CacheError> {
        let mut reader = CacheReader::open(path)?;
        if reader.header.frame_count.is_none() && !reader.header_damaged {
            reader.follow = Some(Following {
                options: follow,
                last_growth: Instant::now(),
            });
        }
        Ok(reader)
    }

    /// Whether the reader is waiting for a recorder that has not finished the cache yet (the
    /// number of frames is then not known).
    pub fn is_following(&self) -> bool {
        self.follow.is_some()
    }

    /// How long the file had not grown when a follow ended without the cache being finished.
    pub fn stopped_growing(&self) -> Option<Duration> {
        self.stopped_growing
    }

    /// The frame layout from the header.
    pub fn layout(&self) -> FrameLayout {
        self.header.layout
    }

    /// The header as used (for a damaged header, with its count taken as open).
    pub fn header(&self) -> Header {
        self.header
    }

    /// Whether the header failed its checksum and was recovered from the records.
    pub fn header_damaged(&self) -> bool {
        self.header_damaged
    }

    /// The file's length in bytes when it was opened.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// How many records a full read visits: the header's count, or for an open cache every
    /// record the file's length holds, a torn last one included.
    pub fn expected_frames(&self) -> u64 {
        match self.header.frame_count {
            Some(count) => count,
            None => self.records_in_file(),
        }
    }

    fn records_in_file(&self) -> u64 {
        self.file_len
            .saturating_sub(HEADER_LEN as u64)
            .div_ceil(self.layout().record_len())
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records visited so far, intact or not: the recorded number reading has got to.
    pub fn frames_visited(&self) -> u64 {
        self.next
    }

    /// Reads only the frames recorded as numbers `range` from now on (frames outside it are
    /// neither read nor counted as damaged). Call before reading.
    pub fn restrict_to(&mut self, range: std::ops::Range<u64>) {
        self.range_start = range.start;
        self.next = self.next.max(range.start);
        self.range_end = Some(range.end.max(range.start));
    }

    /// The range asked for with [`restrict_to`](Self::restrict_to), if any.
    pub fn range(&self) -> Option<std::ops::Range<u64>> {
        self.range_end.map(|end| self.range_start..end)
    }

    /// The frame number reading stops before: the recorded count (or, while following, the
    /// records so far), or the end of the range asked for if that comes first.
    fn limit(&self) -> u64 {
        self.expected_frames()
            .min(self.range_end.unwrap_or(u64::MAX))
    }

    /// Intact frames returned so far.
    pub fn frames_read(&self) -> u64 {
        self.frames_read
    }

    /// The recorded index of the frame returned last.
    pub fn last_index(&self) -> Option<u64> {
        self.last_index
    }

    /// The frames lost so far, in runs, in order.
    pub fn damage(&self) -> &[DamagedRun] {
        &self.damage
    }

    /// How the file ended, once [`read_frame`](Self::read_frame) has returned `false`.
    pub fn end(&self) -> Option<&ReadEnd> {
        self.end.as_ref()
    }

    /// Reads the next intact frame's pixels into `pixels` (exactly `layout().frame_len()`
    /// bytes), skipping damaged ones. Returns `false` when no frame is left.
    pub fn read_frame(&mut self, pixels: &mut [u8]) -> Result<bool, CacheError> {
        self.layout().check_frame_len(pixels.len())?;
        self.read_frame_in_chunks(pixels, |_, _| {})
    }

    /// Reads the next intact frame through `chunk`: `each(offset, bytes)` gets the frame's
    /// pixels in order, `chunk.len()` bytes at a time (the last piece may be shorter), `offset`
    /// counting from the frame's first byte. Damaged frames are skipped, but the checksum is
    /// verified only after the last piece: `each` may see pieces of a damaged frame before
    /// the intact one, and must let a later frame's pieces replace them (every intact frame
    /// covers every offset). Returns `false` when no frame is left.
    ///
    /// With a chunk of a few rows, a frame never has to be in memory whole.
    pub fn read_frame_in_chunks(
        &mut self,
        chunk: &mut [u8],
        mut each: impl FnMut(usize, &[u8]),
    ) -> Result<bool, CacheError> {
        if chunk.is_empty() {
            return Err(CacheError::WrongFrameLen {
                got: 0,
                expected: self.layout().frame_len(),
            });
        }
        let read = self.next_record(|reader, index| reader.read_record(index, chunk, &mut each))?;
        Ok(read.is_some())
    }

    /// The next frame whose record header is intact, left in the file for whoever encodes it
    /// to read (see [`StoredFrame`]); `None` when no frame is left. Its pixels are not read
    /// here: their checksum is checked by [`StoredFrame::verify`] as they are read, and a frame
    /// that fails it is reported back with [`note_lost`](Self::note_lost).
    pub fn next_stored_frame(&mut self) -> Result<Option<StoredFrame>, CacheError> {
        self.next_record(|reader, index| reader.locate_record(index))
    }

    /// Counts frame `index`, handed out by [`next_stored_frame`](Self::next_stored_frame), as
    /// damaged (its pixels failed their checksum when they were read): it joins
    /// [`damage`](Self::damage) in order, and is not among the frames read.
    pub fn note_lost(&mut self, index: u64) {
        let kind = DamageKind::BadChecksum;
        self.frames_read = self.frames_read.saturating_sub(1);
        let at = self.damage.partition_point(|run| run.last < index);
        let joins_before = at > 0 && {
            let run = &self.damage[at - 1];
            run.kind == kind && run.last + 1 == index
        };
        let joins_after = self
            .damage
            .get(at)
            .is_some_and(|run| run.kind == kind && run.first == index + 1);
        match (joins_before, joins_after) {
            (true, true) => {
                let after = self.damage.remove(at);
                self.damage[at - 1].last = after.last;
            }
            (true, false) => self.damage[at - 1].last = index,
            (false, true) => {
                let offset = self.record_offset(index);
                let run = &mut self.damage[at];
                run.first = index;
                run.offset = offset;
            }
            (false, false) => {
                let offset = self.record_offset(index);
                self.damage.insert(
                    at,
                    DamagedRun {
                        first: index,
                        last: index,
                        offset,
                        kind,
                    },
                );
            }
        }
    }

    /// Takes records in order with `take`, skipping (and noting) damaged ones, until one is
    /// intact or none is left.
    fn next_record<T>(
        &mut self,
        mut take: impl FnMut(&mut Self, u64) -> Result<Result<T, DamageKind>, CacheError>,
    ) -> Result<Option<T>, CacheError> {
        while self.end.is_none() {
            if self.range_end.is_some_and(|end| self.next >= end) {
                self.follow = None;
                self.end = Some(ReadEnd::Complete);
                break;
            }
            if self.follow.is_some() {
                self.wait_for_record(self.next)?;
            }
            if self.next >= self.limit() {
                self.finish();
                break;
            }
            let index = self.next;
            if self.record_offset(index) >= self.file_len {
                // Every frame from here on is missing: one run, not one step per frame (a
                // damaged count could promise billions).
                let last = self.limit() - 1;
                self.note_damage(index, DamageKind::Missing);
                if let Some(run) = self.damage.last_mut() {
                    run.last = last;
                }
                self.next = last + 1;
                continue;
            }
            self.next += 1;
            match take(self, index)? {
                Ok(taken) => {
                    self.frames_read += 1;
                    self.last_index = Some(index);
                    return Ok(Some(taken));
                }
                Err(kind) => self.note_damage(index, kind),
            }
        }
        Ok(None)
    }

    /// While following: waits until record `index` is whole in the file, the recorder finishes
    /// the cache, the file stops growing for the idle timeout, or the caller asks to stop; in
    /// the last three cases following ends and reading goes on as for a closed file.
    fn wait_for_record(&mut self, index: u64) -> Result<(), CacheError> {
        let record_len = self.layout().record_len();
        loop {
            let len = self
                .file
                .metadata()
                .map_err(CacheError::io(&*self.path))?
                .len();
            let Some(following) = self.follow.as_mut() else {
                return Ok(());
            };
            if len != self.file_len {
                self.file_len = len;
                following.last_growth = Instant::now();
            }
            if let Some(count) = self.read_finished_count()? {
                self.header.frame_count = Some(count);
                self.follow = None;
                return Ok(());
            }
            if self.record_offset(index).saturating_add(record_len) <= self.file_len {
                return Ok(());
            }
            let Some(following) = self.follow.as_mut() else {
                return Ok(());
            };
            let idle = following.last_growth.elapsed();
            if (following.options.should_stop)() {
                self.follow = None;
                return Ok(());
            }
            if idle >= following.options.idle_timeout {
                self.stopped_growing = Some(idle);
                self.follow = None;
                return Ok(());
            }
            std::thread::sleep(FOLLOW_POLL);
        }
    }

    /// The frame count, if the recorder has finished the cache since it was opened. A header
    /// caught half-rewritten fails its checksum and counts as not finished yet.
    fn read_finished_count(&self) -> Result<Option<u64>, CacheError> {
        let mut head = [0u8; HEADER_LEN];
        let got = self
            .file
            .read_at(&mut head, 0)
            .map_err(CacheError::io(&*self.path))?;
        if got < HEADER_LEN {
            return Ok(None);
        }
        Ok(Header::decode(&head).ok().and_then(|h| h.frame_count))
    }

    fn record_offset(&self, index: u64) -> u64 {
        // Saturating: a damaged count can name indices whose offsets overflow.
        (HEADER_LEN as u64).saturating_add(index.saturating_mul(self.layout().record_len()))
    }

    /// Reads record `index`; `Ok(Err(kind))` when it is damaged.
    fn read_record(
        &mut self,
        index: u64,
        chunk: &mut [u8],
        each: &mut impl FnMut(usize, &[u8]),
    ) -> Result<Result<(), DamageKind>, CacheError> {
        let offset = self.record_offset(index);
        if offset + self.layout().record_len() > self.file_len {
            return Ok(Err(DamageKind::Torn));
        }
        if self.position != offset {
            (&*self.file)
                .seek(SeekFrom::Start(offset))
                .map_err(CacheError::io(&*self.path))?;
            self.position = offset;
        }
        let mut head = [0u8; FRAME_HEADER_LEN];
        self.read_exact_counted(&mut head)?;
        let fh = match self.check_record_header(index, &head) {
            Ok(fh) => fh,
            Err(kind) => return Ok(Err(kind)),
        };
        let frame_len = self.layout().frame_len();
        let mut crc = crc32fast::Hasher::new();
        crc.update(&fh.index.to_le_bytes());
        crc.update(&fh.len.to_le_bytes());
        let mut done = 0;
        while done < frame_len {
            let len = (frame_len - done).min(chunk.len());
            let piece = &mut chunk[..len];
            self.read_exact_counted(piece)?;
            crc.update(piece);
            each(done, piece);
            done += len;
        }
        Ok(if crc.finalize() == fh.crc {
            Ok(())
        } else {
            Err(DamageKind::BadChecksum)
        })
    }

    /// Reads only record `index`'s header; `Ok(Err(kind))` when it is damaged.
    fn locate_record(&mut self, index: u64) -> Result<Result<StoredFrame, DamageKind>, CacheError> {
        let offset = self.record_offset(index);
        if offset + self.layout().record_len() > self.file_len {
            return Ok(Err(DamageKind::Torn));
        }
        let mut head = [0u8; FRAME_HEADER_LEN];
        self.file
            .read_exact_at(&mut head, offset)
            .map_err(|source| CacheError::FrameRead {
                path: self.path.to_path_buf(),
                frame: index,
                offset,
                source,
            })?;
        Ok(self.check_record_header(index, &head).map(|fh| {
            StoredFrame::new(
                Arc::clone(&self.file),
                Arc::clone(&self.path),
                offset + FRAME_HEADER_LEN as u64,
                index,
                self.layout(),
            )
            .with_record(fh)
        }))
    }

    /// Record `index`'s header, if its marker, index and length are right.
    fn check_record_header(
        &self,
        index: u64,
        head: &[u8; FRAME_HEADER_LEN],
    ) -> Result<FrameHeader, DamageKind> {
        let fh = FrameHeader::decode(head);
        if !fh.marker_ok {
            Err(DamageKind::BadMarker)
        } else if u64::from(fh.index) != index {
            Err(DamageKind::BadIndex { found: fh.index })
        } else if fh.len as usize != self.layout().frame_len() {
            Err(DamageKind::BadLength { found: fh.len })
        } else {
            Ok(fh)
        }
    }

    /// Reads exactly `buf.len()` bytes (the file's length was checked to hold them; a file
    /// that shrank since is an I/O error).
    fn read_exact_counted(&mut self, buf: &mut [u8]) -> Result<(), CacheError> {
        let got = read_full(&self.file, buf).map_err(CacheError::io(&*self.path))?;
        self.position += got as u64;
        if got < buf.len() {
            return Err(CacheError::io(&*self.path)(std::io::Error::new(
                ErrorKind::UnexpectedEof,
                "the cache file shrank while it was read",
            )));
        }
        Ok(())
    }

    fn note_damage(&mut self, index: u64, kind: DamageKind) {
        if let Some(run) = self.damage.last_mut() {
            if run.kind == kind && run.last + 1 == index {
                run.last = index;
                return;
            }
        }
        let offset = self.record_offset(index);
        self.damage.push(DamagedRun {
            first: index,
            last: index,
            offset,
            kind,
        });
    }

    /// Decides how the file ended, after the last record.
    fn finish(&mut self) {
        let records = self.records_in_file();
        let record_len = self.layout().record_len();
        let whole = self.file_len.saturating_sub(HEADER_LEN as u64) / record_len;
        let end_of_records = self.record_offset(self.next);
        let counted = self.header.frame_count;
        self.end = Some(if records > whole && counted.is_none_or(|n| whole < n) {
            ReadEnd::TornFrame {
                index: whole,
                offset: self.record_offset(whole),
                present: self.file_len - self.record_offset(whole),
                expected: record_len,
            }
        } else {
            match counted {
                Some(expected) if whole < expected => ReadEnd::Truncated {
                    expected,
                    found: whole,
                },
                Some(_) if self.file_len > end_of_records => ReadEnd::TrailingData {
                    offset: end_of_records,
                    bytes: self.file_len - end_of_records,
                },
                _ => ReadEnd::Complete,
            }
        });
    }
}

/// A header that failed its checksum, used anyway when its fields are sane and the first record
/// (marker and length) agrees with its frame size; its frame count is not trusted.
fn recover_header(file: &mut File, head: &[u8]) -> std::io::Result<Option<Header>> {
    let Ok(mut header) = Header::decode_unchecked(head) else {
        return Ok(None);
    };
    header.frame_count = None;
    let mut first = [0u8; FRAME_HEADER_LEN];
    file.seek(SeekFrom::Start(HEADER_LEN as u64))?;
    if read_full(file, &mut first)? < FRAME_HEADER_LEN {
        return Ok(None);
    }
    let fh = FrameHeader::decode(&first);
    let confirmed = fh.marker_ok && fh.len as usize == header.layout.frame_len();
    Ok(confirmed.then_some(header))
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(mut file: &File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// What a full scan of a cache found (for `reel info`).
#[derive(Debug, Clone)]
pub struct CacheScan {
    /// The header (for a damaged header, as recovered).
    pub header: Header,
    /// Whether the header failed its checksum and was recovered from the records.
    pub header_damaged: bool,
    /// File length in bytes.
    pub file_len: u64,
    /// Intact frames.
    pub frames: u64,
    /// Frames lost, in runs.
    pub damage: Vec<DamagedRun>,
    /// How the file ended.
    pub end: ReadEnd,
}

impl CacheScan {
    /// Frames lost to damage or missing from the file.
    pub fn lost_frames(&self) -> u64 {
        self.damage.iter().map(DamagedRun::frames).sum()
    }

    /// Whether every frame is intact and the file ends where it should.
    pub fn is_whole(&self) -> bool {
        self.damage.is_empty() && self.end.is_complete() && !self.header_damaged
    }
}

/// Reads every frame of a cache, verifying checksums, with one frame of memory.
pub fn scan_cache(path: impl AsRef<Path>) -> Result<CacheScan, CacheError> {
    let mut reader = CacheReader::open(path)?;
    let mut buf = vec![0; reader.layout().frame_len()];
    while reader.read_frame(&mut buf)? {}
    Ok(CacheScan {
        header: reader.header(),
        header_damaged: reader.header_damaged(),
        file_len: reader.file_len(),
        frames: reader.frames_read(),
        damage: reader.damage().to_vec(),
        end: reader.end().cloned().unwrap_or(ReadEnd::Complete),
    })
}
