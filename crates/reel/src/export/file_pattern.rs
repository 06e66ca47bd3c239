//! printf-style numbered file names (`image-%04d.png`).

use crate::error::{ExportError, InvalidOption, PatternProblem};

/// A file name pattern with one `%d` or `%0Nd` placeholder for the frame number.
///
/// ```
/// let p = reel::FilePattern::parse("image-%04d.png").unwrap();
/// assert_eq!(p.name(7), "image-0007.png");
/// assert_eq!(p.name(12345), "image-12345.png");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePattern {
    prefix: String,
    width: usize,
    suffix: String,
}

impl FilePattern {
    /// Parses a pattern. `%%` stands for a literal `%`. The pattern must be a
    /// plain file name (no `/`) with exactly one number placeholder.
    pub fn parse(pattern: &str) -> Result<Self, ExportError> {
        let bad = |problem| {
            ExportError::from(InvalidOption::FilePattern {
                pattern: pattern.to_owned(),
                problem,
            })
        };
        if pattern.contains('/') || pattern.contains('\\') {
            return Err(bad(PatternProblem::NotAFileName));
        }
        let mut prefix = String::new();
        let mut suffix = String::new();
        let mut width = None;
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            let out = if width.is_some() {
                &mut suffix
            } else {
                &mut prefix
            };
            if c != '%' {
                out.push(c);
                continue;
            }
            if chars.peek() == Some(&'%') {
                chars.next();
                out.push('%');
                continue;
            }
            let mut digits = String::new();
            while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                digits.push(d);
                chars.next();
            }
            if chars.next() != Some('d') {
                return Err(bad(PatternProblem::UnsupportedPlaceholder));
            }
            if width.is_some() {
                return Err(bad(PatternProblem::TwoPlaceholders));
            }
            let w: usize = if digits.is_empty() {
                0
            } else {
                digits
                    .parse()
                    .map_err(|_| bad(PatternProblem::WidthTooLarge))?
            };
            if w > 20 {
                return Err(bad(PatternProblem::WidthOver20));
            }
            width = Some(w);
        }
        let width = width.ok_or_else(|| bad(PatternProblem::NoPlaceholder))?;
        if prefix.is_empty() && suffix.is_empty() && width == 0 {
            return Err(bad(PatternProblem::BareNumbers));
        }
        Ok(FilePattern {
            prefix,
            width,
            suffix,
        })
    }

    /// Whether `name` is a file this pattern names (for any number). A zero-padded width
    /// accepts that many digits or more, as [`name`](Self::name) writes them.
    pub fn matches(&self, name: &str) -> bool {
        self.number_of(name).is_some()
    }

    /// The number in `name`, if it is a file this pattern names.
    pub fn number_of(&self, name: &str) -> Option<u64> {
        name.strip_prefix(self.prefix.as_str())
            .and_then(|rest| rest.strip_suffix(self.suffix.as_str()))
            .filter(|digits| {
                !digits.is_empty()
                    && digits.len() >= self.width.max(1)
                    && digits.len() <= 20
                    && digits.bytes().all(|b| b.is_ascii_digit())
            })
            .and_then(|digits| digits.parse().ok())
    }

    /// The pattern as the user wrote it (`%` placeholders and escapes).
    pub fn as_text(&self) -> String {
        let escape = |s: &str| s.replace('%', "%%");
        let placeholder = if self.width == 0 {
            "%d".to_string()
        } else {
            format!("%0{}d", self.width)
        };
        format!(
            "{}{placeholder}{}",
            escape(&self.prefix),
            escape(&self.suffix)
        )
    }

    /// The file name of frame `index`.
    pub fn name(&self, index: u64) -> String {
        format!(
            "{}{:0width$}{}",
            self.prefix,
            index,
            self.suffix,
            width = self.width
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_percent_escapes_and_widths() {
        assert_eq!(FilePattern::parse("f%d.png").unwrap().name(3), "f3.png");
        assert_eq!(
            FilePattern::parse("100%%-%06d.png").unwrap().name(42),
            "100%-000042.png"
        );
    }

    #[test]
    fn a_pattern_matches_exactly_the_names_it_makes() {
        let p = FilePattern::parse("image-%04d.png").unwrap();
        for n in [0, 7, 9999, 123456] {
            assert!(p.matches(&p.name(n)), "{}", p.name(n));
        }
        for other in [
            "image-.png",
            "image-12.png",
            "image-0001.png.bak",
            "image-00a1.png",
            "x-0001.png",
        ] {
            assert!(!p.matches(other), "{other}");
        }
        assert_eq!(p.as_text(), "image-%04d.png");
        assert_eq!(
            FilePattern::parse("100%%-%d").unwrap().as_text(),
            "100%%-%d"
        );
    }

    #[test]
    fn bad_patterns_are_rejected_with_the_reason() {
        for (p, why) in [
            ("image.png", "no %d"),
            ("a%d-%d.png", "more than one"),
            ("a%s.png", "only %d"),
            ("dir/a%d.png", "file name"),
        ] {
            let e = FilePattern::parse(p).unwrap_err().to_string();
            assert!(e.contains(why), "{p}: {e}");
        }
    }
}
