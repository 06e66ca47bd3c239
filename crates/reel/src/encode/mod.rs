//! Per-frame encoders: each implements [`FrameStage`](crate::stage::FrameStage)
//! for its parallel part; sequential encoders (H.264) also give the
//! in-order step their sink calls.

mod adler32;
pub mod h264;
pub mod jpeg;
mod jpeg_baseline;
mod jpeg_dct;
mod jpeg_huffman;
pub mod png;
mod png_deflate;
mod png_filter;
mod png_huffman;
mod png_repeat_deflate;
pub mod ycbcr;
