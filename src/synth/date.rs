//! Calendar arithmetic on Arrow Date32 values (days since 1970-01-01), without allocation:
//! civil-from-days and days-from-civil after Howard Hinnant's public-domain algorithms.

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub const fn days(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i32 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The calendar year of a Date32 value.
pub const fn year(days: i32) -> i32 {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + if m <= 2 { 1 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(days(1970, 1, 1), 0);
        // 2021-06-01: 51 years incl. 13 leap days (1972..2020) = 18,628 days to 2021-01-01,
        // plus 31+28+31+30+31 = 151 days.
        assert_eq!(days(2021, 6, 1), 18_779);
        assert_eq!(days(2026, 1, 15) - days(2025, 12, 31), 15);
        assert_eq!(year(days(2024, 12, 31)), 2024);
        assert_eq!(year(days(2025, 1, 1)), 2025);
        assert_eq!(year(days(2024, 2, 29)), 2024);
    }
}
