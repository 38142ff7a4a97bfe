//! Integer time: every instant and duration inside graceline is a whole number of microseconds.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub};

/// A signed count of microseconds; instants are measured from the start of the grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Micros(pub i64);

/// The largest duration any input may carry (30 days), so sums of a few inputs never overflow.
pub const MAX_INPUT: Micros = Micros(30 * 24 * 3600 * 1_000_000);

impl Micros {
    /// Zero microseconds.
    pub const ZERO: Micros = Micros(0);
    /// One microsecond, the simulator's time unit.
    pub const UNIT: Micros = Micros(1);

    /// Whole seconds.
    pub const fn from_secs(s: i64) -> Self {
        Micros(s * 1_000_000)
    }

    /// Whole milliseconds.
    pub const fn from_millis(ms: i64) -> Self {
        Micros(ms * 1_000)
    }

    /// Seconds as a float, for output only (never used inside the simulator).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// Parses a human duration such as `10s`, `500ms`, `1m30s` or `0s`.
    pub fn parse(text: &str) -> Result<Micros, String> {
        let t = text.trim();
        if t.starts_with('-') {
            return Err(format!("negative duration \"{text}\" is not allowed"));
        }
        if t.chars().all(|c| c.is_ascii_digit()) && !t.is_empty() {
            if t.bytes().all(|b| b == b'0') {
                return Ok(Micros::ZERO);
            }
            return Err(format!("duration \"{text}\" needs a unit, e.g. \"{t}s\""));
        }
        let d = humantime::parse_duration(t)
            .map_err(|e| format!("invalid duration \"{text}\": {e} (use e.g. \"10s\", \"500ms\", \"1m30s\")"))?;
        let us = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        if d.as_nanos() % 1_000 != 0 {
            return Err(format!("duration \"{text}\" is finer than a microsecond"));
        }
        let m = Micros(us);
        if m > MAX_INPUT {
            return Err(format!("duration \"{text}\" is absurdly large (the limit is 30 days)"));
        }
        Ok(m)
    }

    /// Checked addition, `None` on overflow.
    pub fn checked_add(self, o: Micros) -> Option<Micros> {
        self.0.checked_add(o.0).map(Micros)
    }

    /// Multiplies by a count.
    pub fn times(self, n: i64) -> Micros {
        Micros(self.0 * n)
    }
}

impl Add for Micros {
    type Output = Micros;
    fn add(self, o: Micros) -> Micros {
        Micros(self.0 + o.0)
    }
}

impl AddAssign for Micros {
    fn add_assign(&mut self, o: Micros) {
        self.0 += o.0;
    }
}

impl Sub for Micros {
    type Output = Micros;
    fn sub(self, o: Micros) -> Micros {
        Micros(self.0 - o.0)
    }
}

impl Neg for Micros {
    type Output = Micros;
    fn neg(self) -> Micros {
        Micros(-self.0)
    }
}

impl fmt::Display for Micros {
    /// Compact human form: `30s`, `1m30s`, `2.5s`, `750ms`, `-5s`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if us < 0 {
            write!(f, "-")?;
        }
        let us = us.unsigned_abs();
        if us == 0 {
            return write!(f, "0s");
        }
        if us < 1_000_000 {
            return if us.is_multiple_of(1_000) {
                write!(f, "{}ms", us / 1_000)
            } else {
                write!(f, "{us}us")
            };
        }
        let secs = us / 1_000_000;
        let frac = us % 1_000_000;
        let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if s > 0 || frac > 0 || (h == 0 && m == 0) {
            if frac == 0 {
                write!(f, "{s}s")?;
            } else {
                let mut digits = format!("{frac:06}");
                while digits.ends_with('0') {
                    digits.pop();
                }
                write!(f, "{s}.{digits}s")?;
            }
        }
        Ok(())
    }
}

impl Serialize for Micros {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Micros {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Micros;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a duration string such as \"10s\", \"500ms\" or \"1m30s\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Micros, E> {
                Micros::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_users_write() {
        assert_eq!(Micros::parse("10s").unwrap(), Micros::from_secs(10));
        assert_eq!(Micros::parse("500ms").unwrap(), Micros::from_millis(500));
        assert_eq!(Micros::parse("1m30s").unwrap(), Micros::from_secs(90));
        assert_eq!(Micros::parse("0s").unwrap(), Micros::ZERO);
        assert_eq!(Micros::parse("0").unwrap(), Micros::ZERO);
        assert_eq!(Micros::parse("250us").unwrap(), Micros(250));
    }

    #[test]
    fn rejects_bad_durations() {
        assert!(Micros::parse("-5s").unwrap_err().contains("negative"));
        assert!(Micros::parse("10").unwrap_err().contains("unit"));
        assert!(Micros::parse("ten seconds").is_err());
        assert!(Micros::parse("").is_err());
        assert!(Micros::parse("31days").unwrap_err().contains("absurdly"));
        assert!(Micros::parse("99999999999999999999s").is_err());
        assert!(Micros::parse("1ns").unwrap_err().contains("microsecond"));
    }

    #[test]
    fn displays_compactly() {
        assert_eq!(Micros::from_secs(30).to_string(), "30s");
        assert_eq!(Micros::from_secs(90).to_string(), "1m30s");
        assert_eq!(Micros::from_millis(2500).to_string(), "2.5s");
        assert_eq!(Micros::from_millis(750).to_string(), "750ms");
        assert_eq!(Micros(-5_000_000).to_string(), "-5s");
        assert_eq!(Micros(29_999_999).to_string(), "29.999999s");
        assert_eq!(Micros::from_secs(3600).to_string(), "1h");
    }
}
