//! Values with units, as scenario files write them.
//!
//! * durations: a number and one of `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`, `d`:
//!   `"40ms"`, `"1.5s"`, `"10m"`. A bare `"0"` is zero.
//! * sizes: a whole or decimal number and one of `B`, `KB`, `MB`, `GB`, `TB` (binary, as in
//!   Redis configuration: 1 MB = 1,048,576 bytes; `KiB`, `MiB`, `GiB`, `TiB` mean the same),
//!   rounded down to whole bytes: `"250MB"`, `"1.5GB"`, `"300B"`.
//! * bandwidths: bits per second with SI prefixes, as networks are sold: `"2Mbit/s"` =
//!   2,000,000 bit/s (`bit/s`, `kbit/s`, `Mbit/s`, `Gbit/s`, `Tbit/s`); or bytes per second
//!   with the size units above: `"10MB/s"` = 10,485,760 bytes/s.
//! * rates: events per second with an optional SI prefix `k` or `M`: `"5k/s"`, `"250/s"`,
//!   `"1.5M/s"`.
//!
//! Units are case-sensitive where case carries meaning (`m` is minutes, `M` mega;
//! `b`/`B` are not interchangeable), so a typo is an error rather than a silent 8× mistake.

use crate::engine::SimDuration;

/// Splits `"12.5ms"` into `(12.5, "ms")`. The number is non-negative decimal.
fn split_number(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(end);
    let num: String = num.chars().filter(|c| *c != '_').collect();
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') {
        return None;
    }
    let x: f64 = num.parse().ok()?;
    x.is_finite().then_some((x, unit.trim()))
}

pub(crate) const DURATION_HELP: &str =
    "a duration: a number and a unit ns, us, ms, s, m, h or d (e.g. \"40ms\", \"1.5s\", \"10m\")";
pub(crate) const SIZE_HELP: &str =
    "a size: a number and a unit B, KB, MB, GB or TB (binary: 1MB = 1048576 bytes; e.g. \"250MB\")";
pub(crate) const BANDWIDTH_HELP: &str = "a bandwidth: a number and bit/s, kbit/s, Mbit/s, Gbit/s (SI) or B/s, KB/s, MB/s, GB/s (binary) (e.g. \"2Mbit/s\")";
pub(crate) const RATE_HELP: &str =
    "a rate: a number, an optional k or M, and /s (e.g. \"5k/s\", \"250/s\")";

/// Parses a duration; `None` if malformed or out of range.
pub(crate) fn parse_duration(s: &str) -> Option<SimDuration> {
    let (x, unit) = split_number(s)?;
    let ns_per = match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        "d" => 86_400e9,
        "" if x == 0.0 => 0.0,
        _ => return None,
    };
    let ns = (x * ns_per).round();
    (ns < u64::MAX as f64 / 2.0).then_some(SimDuration(ns as u64))
}

fn size_multiplier(unit: &str) -> Option<f64> {
    Some(match unit {
        "B" => 1.0,
        "KB" | "KiB" => 1024.0,
        "MB" | "MiB" => 1024.0 * 1024.0,
        "GB" | "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TB" | "TiB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    })
}

/// Parses a size in bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let (x, unit) = split_number(s)?;
    let b = (x * size_multiplier(unit)?).floor();
    (b < 2f64.powi(62)).then_some(b as u64)
}

/// Parses a bandwidth into bits per second.
pub(crate) fn parse_bandwidth(s: &str) -> Option<u64> {
    let (x, unit) = split_number(s)?;
    let bps = match unit {
        "bit/s" => x,
        "kbit/s" => x * 1e3,
        "Mbit/s" => x * 1e6,
        "Gbit/s" => x * 1e9,
        "Tbit/s" => x * 1e12,
        other => {
            let bytes_unit = other.strip_suffix("/s")?;
            x * size_multiplier(bytes_unit)? * 8.0
        }
    };
    let bps = bps.round();
    (bps < 2f64.powi(62)).then_some(bps as u64)
}

/// Parses a rate into events per second.
pub(crate) fn parse_rate(s: &str) -> Option<f64> {
    let (x, unit) = split_number(s)?;
    let per = unit.strip_suffix("/s")?;
    let m = match per {
        "" => 1.0,
        "k" => 1e3,
        "M" => 1e6,
        _ => return None,
    };
    Some(x * m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("40ms"), Some(SimDuration::from_millis(40)));
        assert_eq!(parse_duration("1.5s"), Some(SimDuration::from_millis(1500)));
        assert_eq!(parse_duration("10m"), Some(SimDuration::from_secs(600)));
        assert_eq!(parse_duration("2h"), Some(SimDuration::from_secs(7200)));
        assert_eq!(parse_duration("250us"), Some(SimDuration::from_micros(250)));
        assert_eq!(parse_duration("0"), Some(SimDuration::ZERO));
        assert_eq!(parse_duration("40"), None);
        assert_eq!(parse_duration("40 parsecs"), None);
        assert_eq!(parse_duration("-5s"), None);
        assert_eq!(parse_duration(".5s"), None);
        assert_eq!(parse_duration("1e400s"), None);
    }

    #[test]
    fn sizes_are_binary_like_redis() {
        assert_eq!(parse_size("1MB"), Some(1_048_576));
        assert_eq!(parse_size("250MB"), Some(250 * 1_048_576));
        assert_eq!(parse_size("1.5KB"), Some(1536));
        assert_eq!(parse_size("300B"), Some(300));
        assert_eq!(parse_size("4MiB"), Some(4 * 1_048_576));
        assert_eq!(parse_size("1mb"), None);
        assert_eq!(parse_size("12"), None);
    }

    #[test]
    fn bandwidths() {
        assert_eq!(parse_bandwidth("2Mbit/s"), Some(2_000_000));
        assert_eq!(parse_bandwidth("1Gbit/s"), Some(1_000_000_000));
        assert_eq!(parse_bandwidth("1MB/s"), Some(8 * 1_048_576));
        assert_eq!(parse_bandwidth("2Mbps"), None);
        assert_eq!(parse_bandwidth("2mbit/s"), None);
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("5k/s"), Some(5000.0));
        assert_eq!(parse_rate("250/s"), Some(250.0));
        assert_eq!(parse_rate("1.5M/s"), Some(1_500_000.0));
        assert_eq!(parse_rate("5k"), None);
        assert_eq!(parse_rate("5K/s"), None);
    }
}
