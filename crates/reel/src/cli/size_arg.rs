//! Parsing `WxH` frame sizes on the command line.

/// Parses `1280x720` into `(1280, 720)`.
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("size {s:?} is not WIDTHxHEIGHT (e.g. 1280x720)"))?;
    let side = |v: &str| {
        v.parse::<u32>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("size {s:?}: {v:?} is not a positive whole number"))
    };
    Ok((side(w)?, side(h)?))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_and_bad_ones_say_why() {
        assert_eq!(parse_size("1280x720"), Ok((1280, 720)));
        assert_eq!(parse_size("4X2"), Ok((4, 2)));
        assert!(parse_size("1280").unwrap_err().contains("WIDTHxHEIGHT"));
        assert!(parse_size("0x5").unwrap_err().contains("positive"));
        assert!(parse_size("ax5").unwrap_err().contains("\"a\""));
    }
}
