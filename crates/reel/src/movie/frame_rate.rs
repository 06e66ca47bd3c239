//! Frame rates as exact fractions, so NTSC's 30000/1001 is not rounded to 29.97.

use std::fmt;
use std::str::FromStr;

/// A frame rate of `num / den` frames per second, in lowest terms, above 0 and at most 1000.
///
/// Parsed from an integer (`30`), a fraction (`30000/1001`) or a decimal (`12.5`). The NTSC
/// decimals `23.976`, `29.97`, `47.952`, `59.94` and `119.88` mean their exact rates
/// (`24000/1001`, ...), as they do in ffmpeg and every editor.
///
/// ```
/// use reel::movie::FrameRate;
/// let ntsc: FrameRate = "29.97".parse().unwrap();
/// assert_eq!((ntsc.num(), ntsc.den()), (30000, 1001));
/// assert_eq!("30000/1001".parse::<FrameRate>().unwrap(), ntsc);
/// assert_eq!("12.5".parse::<FrameRate>().unwrap().to_string(), "25/2");
/// assert!("0".parse::<FrameRate>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameRate {
    num: u32,
    den: u32,
}

/// Why a frame rate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameRateError {
    /// Not a number, fraction or decimal.
    #[error("{text:?} is not a frame rate: give frames per second as 30, 29.97 or 30000/1001")]
    Syntax {
        /// What was given.
        text: String,
    },
    /// Zero, or above the largest rate a movie here can carry.
    #[error(
        "frame rate {text} is out of range: it must be above 0 and at most {max} frames per second"
    )]
    OutOfRange {
        /// What was given.
        text: String,
        /// The largest rate.
        max: u32,
    },
}

/// NTSC decimals and the exact rates they stand for.
const NTSC: [(&str, u32); 5] = [
    ("23.976", 24000),
    ("29.97", 30000),
    ("47.952", 48000),
    ("59.94", 60000),
    ("119.88", 120000),
];

impl FrameRate {
    /// The highest rate: 1000 frames per second.
    pub const MAX_FPS: u32 = 1000;

    /// Largest numerator or denominator accepted (keeps timescales within 32 bits).
    const MAX_TERM: u64 = 1_000_000;

    /// `fps` whole frames per second (1 to 1000).
    pub fn integer(fps: u32) -> Result<FrameRate, FrameRateError> {
        FrameRate::fraction(u64::from(fps), 1, &fps.to_string())
    }

    /// Frames per second as a fraction: the numerator.
    pub fn num(self) -> u32 {
        self.num
    }

    /// Frames per second as a fraction: the denominator.
    pub fn den(self) -> u32 {
        self.den
    }

    /// Frames per second, rounded to the nearest `f64`.
    pub fn as_f64(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// The whole frames per second, when the rate is a whole number.
    pub fn as_integer(self) -> Option<u32> {
        (self.den == 1).then_some(self.num)
    }

    fn fraction(num: u64, den: u64, text: &str) -> Result<FrameRate, FrameRateError> {
        let out_of_range = || FrameRateError::OutOfRange {
            text: text.to_string(),
            max: FrameRate::MAX_FPS,
        };
        if num == 0 || den == 0 || num > u64::from(FrameRate::MAX_FPS) * den {
            return Err(out_of_range());
        }
        let g = gcd(num, den);
        let (num, den) = (num / g, den / g);
        if num > FrameRate::MAX_TERM || den > FrameRate::MAX_TERM {
            return Err(out_of_range());
        }
        Ok(FrameRate {
            num: num as u32,
            den: den as u32,
        })
    }
}

impl FromStr for FrameRate {
    type Err = FrameRateError;

    fn from_str(text: &str) -> Result<FrameRate, FrameRateError> {
        let t = text.trim();
        let syntax = || FrameRateError::Syntax {
            text: text.to_string(),
        };
        let digits = |s: &str| -> Result<u64, FrameRateError> {
            if s.is_empty() || s.len() > 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(syntax());
            }
            s.parse().map_err(|_| syntax())
        };
        if let Some(&(_, num)) = NTSC.iter().find(|(decimal, _)| *decimal == t) {
            return FrameRate::fraction(u64::from(num), 1001, t);
        }
        if let Some((n, d)) = t.split_once('/') {
            return FrameRate::fraction(digits(n)?, digits(d)?, t);
        }
        if let Some((whole, frac)) = t.split_once('.') {
            let scale = 10u64.pow(frac.len() as u32);
            if frac.len() > 6 {
                return Err(syntax());
            }
            let whole = if whole.is_empty() { 0 } else { digits(whole)? };
            return FrameRate::fraction(whole * scale + digits(frac)?, scale, t);
        }
        FrameRate::fraction(digits(t)?, 1, t)
    }
}

impl fmt::Display for FrameRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_integer() {
            Some(fps) => write!(f, "{fps}"),
            None => write!(f, "{}/{}", self.num, self.den),
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(s: &str) -> (u32, u32) {
        let r: FrameRate = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
        (r.num(), r.den())
    }

    #[test]
    fn integers_fractions_and_decimals_parse_to_exact_fractions_in_lowest_terms() {
        assert_eq!(rate("30"), (30, 1));
        assert_eq!(rate("1000"), (1000, 1));
        assert_eq!(rate("30000/1001"), (30000, 1001));
        assert_eq!(rate("60/2"), (30, 1));
        assert_eq!(rate("12.5"), (25, 2));
        assert_eq!(rate("0.5"), (1, 2));
        assert_eq!(rate(".5"), (1, 2));
        assert_eq!(rate("25.000"), (25, 1));
    }

    #[test]
    fn ntsc_decimals_mean_their_exact_thousand_and_one_rates() {
        assert_eq!(rate("29.97"), (30000, 1001));
        assert_eq!(rate("23.976"), (24000, 1001));
        assert_eq!(rate("59.94"), (60000, 1001));
        assert_eq!(rate("119.88"), (120000, 1001));
    }

    #[test]
    fn zero_too_fast_and_malformed_rates_are_refused_with_what_was_given() {
        for bad in ["0", "0/1", "1/0", "1001", "2000/1", "0.0000001"] {
            let e = bad.parse::<FrameRate>().unwrap_err();
            assert!(e.to_string().contains(bad), "{bad}: {e}");
        }
        for bad in ["", "abc", "30fps", "-30", "1/2/3", "1e3", "29,97", "30/"] {
            let e = bad.parse::<FrameRate>().unwrap_err();
            assert!(matches!(e, FrameRateError::Syntax { .. }), "{bad}: {e}");
        }
    }
}
