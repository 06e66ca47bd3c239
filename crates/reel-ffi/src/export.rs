//! Exporting a cache from C, on a thread of its own.

use std::ffi::{c_char, c_double, c_int};
use std::path::{Path, PathBuf};

use reel::{
    ExportJob, ExportTarget, FilePattern, FrameInput, FrameRate, H264Backend, MovieCodec,
    PipelineConfig,
};

use crate::message::{guard, set_error, str_arg};

/// `reel_export_options` in C.
#[repr(C)]
pub struct ReelExportOptions {
    /// Directory for a PNG sequence, or NULL.
    pub png_dir: *const c_char,
    /// Movie path, or NULL.
    pub movie_path: *const c_char,
    /// "png" (or NULL), "mjpeg" or "h264".
    pub codec: *const c_char,
    /// Frames per second; 0 means 30.
    pub fps: c_double,
    /// MJPEG quality 1-100; 0 means 90.
    pub quality: c_int,
    /// Encoder threads; 0 means one per core.
    pub threads: c_int,
}

/// An export running on its own thread (`reel_export` in C): the library's [`ExportJob`].
pub struct ReelExport {
    job: ExportJob,
}

/// The largest thread count accepted: more only costs memory (each thread holds frames).
const MAX_THREADS: c_int = 64;

/// `reel_export *reel_export_start(const char *cache_path, const reel_export_options *options, char **error)`
///
/// # Safety
/// `cache_path` is NULL or a NUL-terminated string; `options` is NULL or points at options whose
/// strings are NULL or NUL-terminated; `error` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn reel_export_start(
    cache_path: *const c_char,
    options: *const ReelExportOptions,
    error: *mut *mut c_char,
) -> *mut ReelExport {
    let result = guard("reel_export_start", || {
        // SAFETY: per this function's contract.
        let input_path = unsafe { str_arg(cache_path, "cache_path") }?;
        // SAFETY: per this function's contract.
        let options = unsafe { options.as_ref() }.ok_or("options is NULL")?;
        // SAFETY: per this function's contract.
        let (target, threads) = unsafe { target_from(options) }?;
        let input = FrameInput::open(input_path, None).map_err(|e| format!("{input_path}: {e}"))?;
        Ok(Box::new(start(input, target, threads)?))
    });
    // SAFETY: per this function's contract.
    unsafe { set_error(error, result.as_ref().err().map(String::as_str)) };
    result.map_or(std::ptr::null_mut(), Box::into_raw)
}

/// The export target and thread count the options ask for, checked.
///
/// # Safety
/// The options' strings are NULL or NUL-terminated.
unsafe fn target_from(o: &ReelExportOptions) -> Result<(ExportTarget, usize), String> {
    // SAFETY: per this function's contract.
    let optional = |s: *const c_char, what: &str| unsafe {
        (!s.is_null()).then(|| str_arg(s, what)).transpose()
    };
    let png_dir = optional(o.png_dir, "png_dir")?;
    let movie_path = optional(o.movie_path, "movie_path")?;
    let codec = optional(o.codec, "codec")?;
    if !(0..=MAX_THREADS).contains(&o.threads) {
        return Err(format!(
            "threads {} is out of range: 0 (one per core) to {MAX_THREADS}",
            o.threads
        ));
    }
    let threads = match o.threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n as usize,
    };
    let target = match (png_dir, movie_path) {
        (Some(_), Some(_)) => return Err("give png_dir or movie_path, not both".into()),
        (None, None) => return Err("no target: give png_dir or movie_path".into()),
        (Some(dir), None) => {
            if codec.is_some() || o.fps != 0.0 || o.quality != 0 {
                return Err("codec, fps and quality apply to movies, not to a PNG sequence".into());
            }
            ExportTarget::PngSequence {
                dir: PathBuf::from(dir),
                pattern: FilePattern::parse("image-%04d.png").map_err(|e| e.to_string())?,
                start_number: None,
                compression: reel::PngCompression::default(),
                overwrite: false,
            }
        }
        (None, Some(path)) => movie_target(path, codec, o.fps, o.quality)?,
    };
    Ok((target, threads))
}

fn movie_target(
    path: &str,
    codec: Option<&str>,
    fps: f64,
    quality: c_int,
) -> Result<ExportTarget, String> {
    let rate = frame_rate(if fps == 0.0 { 30.0 } else { fps })?;
    if !(0..=100).contains(&quality) {
        return Err(format!(
            "quality {quality} is out of range: 1 to 100, or 0 for the default"
        ));
    }
    let codec = match codec.unwrap_or("png") {
        "png" => MovieCodec::Png,
        "mjpeg" => MovieCodec::Mjpeg {
            quality: if quality == 0 { 90 } else { quality as u8 },
        },
        "h264" => MovieCodec::H264 {
            encoder: H264Backend::Auto,
        },
        other => {
            return Err(format!(
                "unknown codec {other:?} (expected png, mjpeg or h264)"
            ))
        }
    };
    if quality != 0 && !matches!(codec, MovieCodec::Mjpeg { .. }) {
        return Err("quality applies to the mjpeg codec only".into());
    }
    let path = PathBuf::from(path);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!(
            "{}: the movie's directory {} does not exist",
            path.display(),
            dir.display()
        ));
    }
    Ok(ExportTarget::Movie {
        path,
        codec,
        rate,
        overwrite: false,
    })
}

/// The exact rate a `double` stands for: as written in decimal (12.5, or an NTSC rate such as
/// 29.97 meaning 30000/1001), or n/1001 when it is one computed as such.
fn frame_rate(fps: f64) -> Result<FrameRate, String> {
    let refused = || format!("fps {fps} is not a frame rate: above 0 and at most 1000");
    if !fps.is_finite() || fps <= 0.0 {
        return Err(refused());
    }
    let ntsc = (fps * 1001.0).round();
    let text = if (ntsc / 1001.0 - fps).abs() < 1e-9 && ntsc.fract() == 0.0 && fps.fract() != 0.0 {
        format!("{ntsc}/1001")
    } else {
        format!("{fps}")
    };
    text.parse()
        .map_err(|e: reel::FrameRateError| format!("fps: {e}"))
}

fn start(input: FrameInput, target: ExportTarget, threads: usize) -> Result<ReelExport, String> {
    let expected = input.expected_frames();
    let job = ExportJob::start(input, target, PipelineConfig::with_threads(threads))
        .map_err(|e| format!("cannot start the export thread: {e}"))?;
    // Known before the thread reads the input, so the first poll already sees it.
    job.progress().set_total(expected);
    Ok(ReelExport { job })
}

/// `void reel_export_progress(const reel_export *exp, uint64_t *done, uint64_t *total)`
///
/// # Safety
/// `exp` is NULL or a live export; `done` and `total` are NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn reel_export_progress(
    exp: *const ReelExport,
    done: *mut u64,
    total: *mut u64,
) {
    // SAFETY: per this function's contract.
    let (d, t) = unsafe { exp.as_ref() }.map_or((0, 0), |e| {
        let p = e.job.progress();
        (p.done(), p.total())
    });
    // SAFETY: per this function's contract: each is NULL or writable.
    unsafe {
        if let Some(done) = done.as_mut() {
            *done = d;
        }
        if let Some(total) = total.as_mut() {
            *total = t;
        }
    }
}

/// `int reel_export_finished(const reel_export *exp)`
///
/// # Safety
/// `exp` is NULL or a live export.
#[no_mangle]
pub unsafe extern "C" fn reel_export_finished(exp: *const ReelExport) -> c_int {
    // SAFETY: per this function's contract (only atomics are read: any thread may call it).
    unsafe { exp.as_ref() }.map_or(0, |e| c_int::from(e.job.is_finished()))
}

/// `void reel_export_abort(reel_export *exp)`
///
/// # Safety
/// `exp` is NULL or a live export.
#[no_mangle]
pub unsafe extern "C" fn reel_export_abort(exp: *mut ReelExport) {
    // SAFETY: per this function's contract (only atomics are touched: any thread may call it).
    if let Some(exp) = unsafe { exp.as_ref() } {
        exp.job.abort();
    }
}

/// `int reel_export_wait(reel_export *exp, char **error)`
///
/// # Safety
/// `exp` is NULL or a live export, not used again; `error` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn reel_export_wait(exp: *mut ReelExport, error: *mut *mut c_char) -> c_int {
    let result = guard("reel_export_wait", || {
        if exp.is_null() {
            return Err("exp is NULL".into());
        }
        // SAFETY: a live export made by `reel_export_start`, given up by the caller.
        let exp = unsafe { Box::from_raw(exp) };
        match exp.job.wait() {
            Ok(report) => Ok(report.aborted),
            Err(failure) => Err(failure.to_string()),
        }
    });
    // SAFETY: per this function's contract.
    unsafe { set_error(error, result.as_ref().err().map(String::as_str)) };
    match result {
        Ok(false) => 0,
        Ok(true) => 1,
        Err(_) => -1,
    }
}
