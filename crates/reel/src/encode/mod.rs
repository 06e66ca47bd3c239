//! Per-frame encoders, each a [`FrameStage`](crate::export::pipeline::FrameStage).

pub mod h264;
pub mod jpeg;
pub mod png;
pub mod png_deflate;
pub mod png_filter;
pub mod x264;
pub mod ycbcr;
