//! Where captured frames go.

use crate::error::SinkError;

/// Receives captured frames in capture order, one call per frame.
///
/// `rgba_bottom_up` is exactly what `glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE)`
/// returns: `width * height * 4` bytes, rows tightly packed, **first row = bottom of the
/// image**. The slice is only valid during the call (it may be a mapped pixel buffer), so
/// copy what you keep.
///
/// Closures `FnMut(u64, &[u8]) -> Result<(), E>` are sinks (capture functions take
/// sinks by `&mut`, so the caller keeps them):
///
/// ```
/// use glcapture::FrameSink;
/// let mut sizes = Vec::new();
/// let mut sink = |index: u64, rgba: &[u8]| -> Result<(), std::io::Error> {
///     sizes.push((index, rgba.len()));
///     Ok(())
/// };
/// sink.write_frame(0, &[0; 16]).unwrap();
/// assert_eq!(sizes, [(0, 16)]);
/// ```
pub trait FrameSink {
    /// The sink's error; it is boxed into [`GlError::Sink`](crate::GlError::Sink).
    type Error: Into<SinkError>;

    /// Takes frame number `index` (0 for the first frame captured).
    fn write_frame(&mut self, index: u64, rgba_bottom_up: &[u8]) -> Result<(), Self::Error>;
}

impl<F, E> FrameSink for F
where
    F: FnMut(u64, &[u8]) -> Result<(), E>,
    E: Into<SinkError>,
{
    type Error = E;

    fn write_frame(&mut self, index: u64, rgba_bottom_up: &[u8]) -> Result<(), E> {
        self(index, rgba_bottom_up)
    }
}

/// A sink that keeps a copy of every frame in memory; for tests and small captures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CollectFrames {
    /// `(index, bottom-up RGBA bytes)` in the order received.
    pub frames: Vec<(u64, Vec<u8>)>,
}

impl FrameSink for CollectFrames {
    type Error = std::convert::Infallible;

    fn write_frame(&mut self, index: u64, rgba_bottom_up: &[u8]) -> Result<(), Self::Error> {
        self.frames.push((index, rgba_bottom_up.to_vec()));
        Ok(())
    }
}
