//! Writing a QuickTime movie under a temporary name, renamed when finished.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use openh264::formats::YUVBuffer;

use super::pipeline::FrameSink;
use crate::encode::h264::OpenH264Encoder;
use crate::encode::x264::{I420Frame, X264Encoder};
use crate::error::ExportError;
use crate::movie::{MovieWriter, VideoFormat};

/// The codec of a movie's samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovieCodec {
    /// Lossless PNG frames (`png `).
    Png,
    /// Motion JPEG (`jpeg`).
    Mjpeg,
    /// H.264 (`avc1`) through x264 or OpenH264 (see
    /// [`H264Backend`](crate::encode::h264::H264Backend)).
    H264,
}

impl MovieCodec {
    /// The QuickTime sample description tag.
    pub fn tag(self) -> [u8; 4] {
        match self {
            MovieCodec::Png => *b"png ",
            MovieCodec::Mjpeg => *b"jpeg",
            MovieCodec::H264 => *b"avc1",
        }
    }

    /// The name shown in the sample description.
    pub fn compressor_name(self) -> &'static str {
        match self {
            MovieCodec::Png => "PNG",
            MovieCodec::Mjpeg => "Photo - JPEG",
            MovieCodec::H264 => "H.264",
        }
    }
}

impl std::str::FromStr for MovieCodec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "png" => Ok(MovieCodec::Png),
            "mjpeg" | "jpeg" => Ok(MovieCodec::Mjpeg),
            "h264" | "avc" => Ok(MovieCodec::H264),
            other => Err(format!(
                "unknown codec {other:?} (expected png, mjpeg or h264)"
            )),
        }
    }
}

/// A movie being written to a hidden temporary file next to its final
/// path. [`finish`](MovieFile::finish) renames it into place; dropping it
/// unfinished (or after a failed `finish`) deletes the temporary file, so
/// no partial movie is left.
pub struct MovieFile {
    writer: Option<MovieWriter<BufWriter<File>>>,
    tmp: PathBuf,
    path: PathBuf,
    /// Set once the temporary file has been renamed into place.
    renamed: bool,
}

impl MovieFile {
    /// Starts a movie that will end up at `path`.
    pub fn create(path: &Path, fps: u32) -> Result<Self, ExportError> {
        if !(1..=1000).contains(&fps) {
            return Err(ExportError::Unsupported(format!(
                "fps must be 1 to 1000, got {fps}"
            )));
        }
        let name = path.file_name().ok_or_else(|| {
            ExportError::Unsupported(format!("{} is not a file path", path.display()))
        })?;
        let tmp = path.with_file_name(format!(".{}.reel-tmp", name.to_string_lossy()));
        let file = File::create(&tmp).map_err(ExportError::output(&tmp))?;
        let writer = MovieWriter::new(BufWriter::with_capacity(256 << 10, file), fps);
        let mut movie = MovieFile {
            writer: None,
            tmp: tmp.clone(),
            path: path.to_path_buf(),
            renamed: false,
        };
        movie.writer = Some(writer.map_err(ExportError::output(&tmp))?);
        Ok(movie)
    }

    /// Samples written so far.
    pub fn samples(&self) -> usize {
        self.writer.as_ref().map_or(0, |w| w.samples())
    }

    /// Appends one encoded frame.
    pub fn add_sample(&mut self, data: &[u8], sync: bool) -> Result<(), ExportError> {
        let writer = self.writer.as_mut().expect("movie not finished");
        writer
            .add_sample(data, sync)
            .map_err(ExportError::output(&self.tmp))
    }

    /// Writes the index, flushes and renames the movie into place; returns its size.
    pub fn finish(mut self, format: &VideoFormat) -> Result<u64, ExportError> {
        let writer = self.writer.take().expect("movie not finished");
        let io = ExportError::output(&self.tmp);
        let file = (|| {
            let file = writer
                .finish(format)?
                .into_inner()
                .map_err(|e| e.into_error())?;
            file.sync_all()?;
            Ok(file)
        })()
        .map_err(io)?;
        let size = file
            .metadata()
            .map_err(ExportError::output(&self.tmp))?
            .len();
        drop(file);
        fs::rename(&self.tmp, &self.path).map_err(ExportError::output(&self.path))?;
        self.renamed = true;
        Ok(size)
    }
}

impl Drop for MovieFile {
    fn drop(&mut self) {
        if !self.renamed {
            // Close before removing; a failed finish() lands here too.
            self.writer = None;
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The sink for PNG and JPEG frames: each is one sync sample.
pub struct ImageSampleSink {
    /// The movie being written.
    pub movie: MovieFile,
}

impl FrameSink for ImageSampleSink {
    type Input = Vec<u8>;
    fn write(&mut self, _index: u64, item: Vec<u8>) -> Result<(), ExportError> {
        self.movie.add_sample(&item, true)
    }
}

/// The sink for H.264 through OpenH264: encodes converted frames in order,
/// then stores them.
pub struct H264Sink {
    /// The movie being written.
    pub movie: MovieFile,
    /// The encoder (sequential: each frame may refer to the previous).
    pub encoder: OpenH264Encoder,
}

impl FrameSink for H264Sink {
    type Input = YUVBuffer;
    fn write(&mut self, _index: u64, yuv: YUVBuffer) -> Result<(), ExportError> {
        let unit = self.encoder.encode(&yuv)?;
        self.movie.add_sample(&unit.data, unit.sync)
    }
}

/// The sink for H.264 through x264: hands I420 frames to the encoder in
/// order and stores what comes out. x264 holds a few frames back (its frame
/// threads); [`finish_stream`](X264Sink::finish_stream) drains them.
pub struct X264Sink {
    /// The movie being written.
    pub movie: MovieFile,
    /// The encoder.
    pub encoder: X264Encoder<'static>,
}

impl X264Sink {
    /// Writes the frames x264 still holds; afterwards the movie has one
    /// sample per frame handed to [`write`](FrameSink::write).
    pub fn finish_stream(&mut self) -> Result<(), ExportError> {
        while let Some(frame) = self.encoder.flush()? {
            self.movie.add_sample(&frame.data, frame.sync)?;
        }
        Ok(())
    }
}

impl FrameSink for X264Sink {
    type Input = I420Frame;
    fn write(&mut self, _index: u64, frame: I420Frame) -> Result<(), ExportError> {
        let encoded = self.encoder.encode(frame.bytes())?;
        // x264 has copied the input: its buffer goes back for the next frame.
        drop(frame);
        if let Some(out) = encoded {
            self.movie.add_sample(&out.data, out.sync)?;
        }
        Ok(())
    }
}
