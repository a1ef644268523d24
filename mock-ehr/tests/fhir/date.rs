//! FHIR date parsing into ranges, and the instant / HTTP-date formats.

use mock_ehr::fhir::date::{DateRange, element_range, format_instant, http_date, parse};
use serde_json::json;

const DAY: i64 = 86_400_000;
/// 2023-03-26T00:00:00Z in milliseconds.
const MAR26: i64 = 1_679_788_800_000;

fn range(start: i64, end: i64) -> Option<DateRange> {
    Some(DateRange { start, end })
}

#[test]
fn precision_decides_the_span() {
    assert_eq!(parse("2023-03-26"), range(MAR26, MAR26 + DAY));
    assert_eq!(parse("2023"), range(1_672_531_200_000, 1_704_067_200_000));
    // February of a leap year has 29 days.
    assert_eq!(
        parse("2024-02"),
        range(1_706_745_600_000, 1_706_745_600_000 + 29 * DAY)
    );
    let eleven = MAR26 + 11 * 3_600_000;
    assert_eq!(parse("2023-03-26T11:00"), range(eleven, eleven + 60_000));
    assert_eq!(parse("2023-03-26T11:00:00Z"), range(eleven, eleven + 1000));
    assert_eq!(
        parse("2023-03-26T11:00:00.5Z"),
        range(eleven + 500, eleven + 501)
    );
    assert_eq!(
        parse("2023-03-26T11:00:00.123456Z"),
        range(eleven + 123, eleven + 124)
    );
}

#[test]
fn zones_shift_to_utc() {
    let eleven = MAR26 + 11 * 3_600_000;
    assert_eq!(
        parse("2023-03-26T12:00:00+01:00"),
        range(eleven, eleven + 1000)
    );
    assert_eq!(
        parse("2023-03-26T06:30:00-04:30"),
        range(eleven, eleven + 1000)
    );
    assert_eq!(parse("2023-03-26T11:00:00"), range(eleven, eleven + 1000));
}

#[test]
fn malformed_dates_are_refused() {
    for bad in [
        "",
        "23",
        "0000",
        "2023-",
        "2023-13",
        "2023-00",
        "2023-02-29",
        "2023-04-31",
        "2023-03-26T24:00:00Z",
        "2023-03-26T11:60:00Z",
        "2023-03-26T11",
        "2023-03-26 11:00",
        "2023-03-26T11:00:00+15:00",
        "2023-03-26T11:00:00.Z",
        "2023-03-26Z",
        "2023-03-26T11:00:00Zx",
        "２０２３",
        "2023-3-26",
    ] {
        assert_eq!(parse(bad), None, "{bad:?}");
    }
}

#[test]
fn periods_and_open_ends() {
    let p = element_range(&json!({ "start": "2023-03-26", "end": "2023-03-27" })).unwrap();
    assert_eq!((p.start, p.end), (MAR26, MAR26 + 2 * DAY));
    let open = element_range(&json!({ "start": "2023-03-26" })).unwrap();
    assert_eq!((open.start, open.end), (MAR26, i64::MAX));
    assert_eq!(element_range(&json!({})), None);
    assert_eq!(element_range(&json!(42)), None);
}

#[test]
fn instants_format_in_utc() {
    assert_eq!(format_instant(0), "1970-01-01T00:00:00Z");
    assert_eq!(format_instant(1_717_200_000), "2024-06-01T00:00:00Z");
    assert_eq!(format_instant(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(format_instant(-1), "1969-12-31T23:59:59Z");
}

/// RFC 9110 section 5.6.7: "Sun, 06 Nov 1994 08:49:37 GMT".
#[test]
fn rfc9110_imf_fixdate_example() {
    assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    assert_eq!(http_date(1_717_200_000), "Sat, 01 Jun 2024 00:00:00 GMT");
}
