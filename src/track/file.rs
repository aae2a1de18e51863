//! `track_file`: a number in a file moves the priority of the instances tracking it
//! (keepalived 2.2.7 trackers/track_file.c). Pure: the daemon reads the file when inotify says
//! it changed and hands the bytes here.

use crate::config::Weight;

/// The number in a track file as keepalived reads it: C's `strtol(buf, NULL, 0)` over the
/// first 127 bytes (leading blanks, a sign, `0x` hex or `0` octal, digits up to the first
/// other character; no digits is 0). `None` when it does not fit keepalived's range
/// (`INT32_MIN..=INT32_MAX + 1`): keepalived then ignores the change.
pub fn parse_value(bytes: &[u8]) -> Option<i64> {
    let b = &bytes[..bytes.len().min(127)];
    let mut i = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    let negative = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let (radix, start) = match (b.get(i), b.get(i + 1)) {
        (Some(b'0'), Some(b'x' | b'X')) if b.get(i + 2).is_some_and(u8::is_ascii_hexdigit) => {
            (16, i + 2)
        }
        (Some(b'0'), _) => (8, i),
        _ => (10, i),
    };
    let mut value: i64 = 0;
    for &c in &b[start..] {
        let Some(d) = (c as char).to_digit(radix) else {
            break;
        };
        value = value
            .checked_mul(i64::from(radix))?
            .checked_add(i64::from(d))?;
        if value > i64::from(i32::MAX) + 1 {
            return None;
        }
    }
    Some(if negative { -value } else { value })
}

/// What a file's value does to an instance tracking it with `w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Fault,
    /// Added to the priority (in -253..=253).
    Priority(i32),
}

/// keepalived: with weight 0 a non-zero value is FAULT (`reverse`: a zero value); otherwise
/// value x weight, where -254 or less is FAULT and more than 253 counts as 253.
pub fn effect(w: Weight, value: i64) -> Effect {
    if w.weight == 0 {
        return if (value != 0) != w.reverse {
            Effect::Fault
        } else {
            Effect::Priority(0)
        };
    }
    let mult = if w.reverse { -1 } else { 1 };
    let v = value.saturating_mul(i64::from(w.weight) * mult);
    if v <= -254 {
        Effect::Fault
    } else {
        Effect::Priority(v.min(253) as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_strtol_does() {
        assert_eq!(parse_value(b"42\n"), Some(42));
        assert_eq!(parse_value(b"  -7 trailing"), Some(-7));
        assert_eq!(parse_value(b"0x1f"), Some(31));
        assert_eq!(parse_value(b"010"), Some(8));
        assert_eq!(parse_value(b"0x"), Some(0));
        assert_eq!(parse_value(b""), Some(0));
        assert_eq!(parse_value(b"abc"), Some(0));
        assert_eq!(parse_value(b"+5"), Some(5));
        assert_eq!(parse_value(b"2147483648"), Some(2_147_483_648));
        assert_eq!(parse_value(b"2147483649"), None);
        assert_eq!(parse_value(b"99999999999999999999999"), None);
    }

    #[test]
    fn effects_follow_keepalived() {
        let w = |weight, reverse| Weight { weight, reverse };
        assert_eq!(effect(w(0, false), 0), Effect::Priority(0));
        assert_eq!(effect(w(0, false), 3), Effect::Fault);
        assert_eq!(effect(w(0, true), 0), Effect::Fault);
        assert_eq!(effect(w(1, false), 20), Effect::Priority(20));
        assert_eq!(effect(w(1, false), -20), Effect::Priority(-20));
        assert_eq!(effect(w(2, true), 10), Effect::Priority(-20));
        assert_eq!(effect(w(1, false), 300), Effect::Priority(253));
        assert_eq!(effect(w(1, false), -254), Effect::Fault);
        assert_eq!(effect(w(-10, false), 30), Effect::Fault);
        assert_eq!(effect(w(1, false), i64::MAX), Effect::Priority(253));
    }
}
