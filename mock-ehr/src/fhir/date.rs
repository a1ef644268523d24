//! FHIR R4 `date`, `dateTime` and `instant` values as time ranges, and the two output
//! formats the server needs: FHIR `instant` (for `meta.lastUpdated`) and the HTTP date
//! of `Last-Modified` ([RFC 9110 section 5.6.7]).
//!
//! A value stands for the whole span its precision covers ([R4 search, dates]):
//! `2023` is all of 2023, `2023-03-14` that day, `2023-03-14T09:30:00Z` that second.
//! A time without a zone is read as UTC. Times are milliseconds since the Unix epoch.
//!
//! [RFC 9110 section 5.6.7]: https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7
//! [R4 search, dates]: https://hl7.org/fhir/R4/search.html#date

use serde_json::Value;

const MS_PER_SECOND: i64 = 1_000;
const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
const MS_PER_DAY: i64 = 86_400 * MS_PER_SECOND;

/// A half-open span of time `[start, end)` in milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    /// First millisecond inside the span (`i64::MIN` when open at the start).
    pub start: i64,
    /// First millisecond after the span (`i64::MAX` when open at the end).
    pub end: i64,
}

/// Parses a FHIR `date`, `dateTime` or `instant` into the span it covers.
///
/// Accepts `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, and `YYYY-MM-DDThh:mm[:ss[.fff...]]` with an
/// optional zone (`Z` or `+hh:mm` / `-hh:mm`). Refuses (`None`) anything else: year
/// `0000`, month or day out of range (`2023-02-30`), hours past 23, zones past 14:00.
pub fn parse(text: &str) -> Option<DateRange> {
    let b = text.as_bytes();
    let year = digits(b, 0, 4)?;
    if year == 0 {
        return None;
    }
    if b.len() == 4 {
        let start = days_from_civil(year, 1, 1) * MS_PER_DAY;
        return Some(span(start, days_from_civil(year + 1, 1, 1) * MS_PER_DAY));
    }
    expect(b, 4, b'-')?;
    let month = digits(b, 5, 2)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    if b.len() == 7 {
        let (ny, nm) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        let start = days_from_civil(year, month, 1) * MS_PER_DAY;
        return Some(span(start, days_from_civil(ny, nm, 1) * MS_PER_DAY));
    }
    expect(b, 7, b'-')?;
    let day = digits(b, 8, 2)?;
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let midnight = days_from_civil(year, month, day) * MS_PER_DAY;
    if b.len() == 10 {
        return Some(span(midnight, midnight + MS_PER_DAY));
    }
    expect(b, 10, b'T')?;
    let hour = digits(b, 11, 2)?;
    expect(b, 13, b':')?;
    let minute = digits(b, 14, 2)?;
    if hour > 23 || minute > 59 {
        return None;
    }
    let mut at = 16;
    let mut offset = midnight + hour * 3_600_000 + minute * MS_PER_MINUTE;
    let mut width = MS_PER_MINUTE;
    if b.get(at) == Some(&b':') {
        let second = digits(b, at + 1, 2)?;
        if second > 60 {
            return None;
        }
        offset += second * MS_PER_SECOND;
        width = MS_PER_SECOND;
        at += 3;
        if b.get(at) == Some(&b'.') {
            let frac: Vec<u8> = b
                .get(at + 1..)?
                .iter()
                .copied()
                .take_while(u8::is_ascii_digit)
                .collect();
            if frac.is_empty() {
                return None;
            }
            let mut ms = 0;
            for i in 0..3 {
                ms = ms * 10 + frac.get(i).map_or(0, |d| i64::from(d - b'0'));
            }
            offset += ms;
            width = 1;
            at += 1 + frac.len();
        }
    }
    let zone = match b.get(at) {
        None => 0,
        Some(&b'Z') if b.len() == at + 1 => 0,
        Some(&sign @ (b'+' | b'-')) if b.len() == at + 6 => {
            let zh = digits(b, at + 1, 2)?;
            expect(b, at + 3, b':')?;
            let zm = digits(b, at + 4, 2)?;
            if zh > 14 || zm > 59 {
                return None;
            }
            let z = zh * 3_600_000 + zm * MS_PER_MINUTE;
            if sign == b'+' { z } else { -z }
        }
        _ => return None,
    };
    Some(span(offset - zone, offset - zone + width))
}

/// The span a date-valued element covers: a `date`/`dateTime`/`instant` string, or a
/// `Period` object (an absent `start` or `end` leaves that side open). `None` for
/// anything else or an unparsable value.
pub fn element_range(element: &Value) -> Option<DateRange> {
    match element {
        Value::String(s) => parse(s),
        Value::Object(period) => {
            let start = match period.get("start") {
                None => i64::MIN,
                Some(v) => parse(v.as_str()?)?.start,
            };
            let end = match period.get("end") {
                None => i64::MAX,
                Some(v) => parse(v.as_str()?)?.end,
            };
            (period.contains_key("start") || period.contains_key("end")).then_some(span(start, end))
        }
        _ => None,
    }
}

/// Formats `secs` (seconds since the Unix epoch) as a FHIR `instant` in UTC,
/// `YYYY-MM-DDThh:mm:ssZ`. Meant for years 0001 to 9999.
pub fn format_instant(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Formats `secs` (seconds since the Unix epoch) as an HTTP date (IMF-fixdate,
/// `Tue, 14 Mar 2023 09:30:00 GMT`), the form `Last-Modified` takes.
pub fn http_date(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let weekday = DAYS
        .get(usize::try_from(days.rem_euclid(7)).unwrap_or(0))
        .unwrap_or(&"Thu");
    let month = MONTHS
        .get(usize::try_from(m - 1).unwrap_or(0))
        .unwrap_or(&"Jan");
    format!(
        "{weekday}, {d:02} {month} {y:04} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn span(start: i64, end: i64) -> DateRange {
    DateRange { start, end }
}

fn expect(b: &[u8], at: usize, c: u8) -> Option<()> {
    (b.get(at) == Some(&c)).then_some(())
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let part = b.get(at..at + n)?;
    part.iter().try_fold(0i64, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
    })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
