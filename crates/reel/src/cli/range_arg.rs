//! The `--range A..B` argument: recorded frame numbers, half-open.

use std::ops::Range;

/// Parses `A..B`, `A..` or `..B` (frame numbers, `B` excluded).
///
/// ```text
/// 10..20  frames 10 to 19      10..  frame 10 to the end      ..20  frames 0 to 19
/// ```
pub fn parse_range(text: &str) -> Result<Range<u64>, String> {
    let (a, b) = text.split_once("..").ok_or_else(|| {
        format!("{text:?} is not a range: write A..B (frame A up to, not including, B), A.. or ..B")
    })?;
    let number = |s: &str, default: u64| -> Result<u64, String> {
        if s.is_empty() {
            return Ok(default);
        }
        s.parse()
            .map_err(|_| format!("{s:?} in {text:?} is not a frame number"))
    };
    let (start, end) = (number(a, 0)?, number(b, u64::MAX)?);
    if start >= end {
        return Err(format!(
            "range {text:?} is empty: its start must be below its end"
        ));
    }
    Ok(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_half_open_with_either_end_left_out() {
        assert_eq!(parse_range("10..20").unwrap(), 10..20);
        assert_eq!(parse_range("10..").unwrap(), 10..u64::MAX);
        assert_eq!(parse_range("..20").unwrap(), 0..20);
        for bad in ["10", "20..10", "5..5", "a..3", "1..b", "1...3"] {
            let e = parse_range(bad).unwrap_err();
            assert!(e.contains(bad) || e.contains('"'), "{bad}: {e}");
        }
    }
}
