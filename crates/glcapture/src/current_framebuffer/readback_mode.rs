//! Which way the program's framebuffer is read: synchronously or through a ring.

use std::fmt;

use super::FramebufferReader;
use crate::is_software_rasterizer;

/// How [`FramebufferReader`] captures are read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadbackMode {
    /// [`ReadbackMode::Sync`] on Mesa's CPU rasterisers (llvmpipe, softpipe, swrast, from
    /// `GL_RENDERER`) and on contexts without a ring's functions, [`ReadbackMode::PboRing`]
    /// elsewhere.
    #[default]
    Auto,
    /// `glReadPixels` into memory: the frame is there when the call returns.
    Sync,
    /// `glReadPixels` into a ring of pixel-buffer objects ([`PboRing`](super::PboRing)): the
    /// read returns before the transfer completes, and the frame is delivered a capture later.
    PboRing,
}

impl ReadbackMode {
    /// The concrete mode for a context with `GL_RENDERER` `renderer` that has (`ring`) or lacks
    /// what a ring needs. Explicit modes are returned unchanged.
    ///
    /// ```
    /// use glcapture::current_framebuffer::ReadbackMode;
    /// let llvmpipe = "llvmpipe (LLVM 15.0.6, 256 bits)";
    /// assert_eq!(ReadbackMode::Auto.resolve(llvmpipe, true), ReadbackMode::Sync);
    /// assert_eq!(ReadbackMode::Auto.resolve("Mali-G78", true), ReadbackMode::PboRing);
    /// assert_eq!(ReadbackMode::Auto.resolve("Mali-G78", false), ReadbackMode::Sync);
    /// assert_eq!(ReadbackMode::PboRing.resolve(llvmpipe, true), ReadbackMode::PboRing);
    /// ```
    pub fn resolve(self, renderer: &str, ring: bool) -> ReadbackMode {
        match self {
            ReadbackMode::Auto if ring && !is_software_rasterizer(renderer) => {
                ReadbackMode::PboRing
            }
            ReadbackMode::Auto => ReadbackMode::Sync,
            explicit => explicit,
        }
    }

    /// [`resolve`](Self::resolve) for the context `reader` reads.
    pub fn resolve_for(self, reader: &FramebufferReader) -> ReadbackMode {
        self.resolve(reader.renderer(), reader.supports_ring())
    }
}

impl fmt::Display for ReadbackMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReadbackMode::Auto => "auto",
            ReadbackMode::Sync => "sync",
            ReadbackMode::PboRing => "pbo-ring",
        })
    }
}
