//! [`Date`]: a day of the proleptic Gregorian calendar, its weekday and its ISO 8601 form.

use crate::{Error, Result};
use std::fmt;

/// English month names, January first.
pub(super) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// English weekday names, Monday first (ISO 8601's order).
pub(super) const WEEKDAYS: [&str; 7] =
    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// A calendar date (proleptic Gregorian).
///
/// # Examples
/// ```
/// use rnnkit::datasets::dates::Date;
/// # fn main() -> rnnkit::Result<()> {
/// let date = Date::new(2021, 3, 3)?;
/// assert_eq!(date.to_string(), "2021-03-03");
/// assert_eq!(date.weekday_name(), "Wednesday");
/// assert_eq!(Date::parse_iso("2021-03-03")?, date);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u32,
    day: u32,
}

impl Date {
    /// The date `year`-`month`-`day`, months and days counted from 1.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a year outside 1..=9999, a month outside 1..=12, or a day
    /// that month does not have (February 29 outside leap years).
    pub fn new(year: i32, month: u32, day: u32) -> Result<Date> {
        if !(1..=9999).contains(&year) {
            return Err(Error::invalid("year", "1..=9999", year));
        }
        if !(1..=12).contains(&month) {
            return Err(Error::invalid("month", "1..=12", month));
        }
        let last = days_in_month(year, month);
        if !(1..=last).contains(&day) {
            return Err(Error::invalid("day", format!("1..={last} in {year}-{month:02}"), day));
        }
        Ok(Date { year, month, day })
    }

    /// A date known to exist (a constant of the dataset).
    pub(super) const fn known(year: i32, month: u32, day: u32) -> Date {
        Date { year, month, day }
    }

    /// Parses `YYYY-MM-DD` (ISO 8601's calendar date, as [`Display`](fmt::Display) writes it).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for text of another form or a date that does not exist.
    pub fn parse_iso(text: &str) -> Result<Date> {
        let bad = || Error::invalid("date", "YYYY-MM-DD", format!("{text:?}"));
        let bytes = text.as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Result<u32> {
            let part = bytes.get(range).ok_or_else(bad)?;
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            Ok(part.iter().fold(0, |value, &digit| value * 10 + u32::from(digit - b'0')))
        };
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(bad());
        }
        Date::new(digits(0..4)? as i32, digits(5..7)?, digits(8..10)?)
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(&self) -> u32 {
        self.month
    }

    /// The day of the month, from 1.
    pub fn day(&self) -> u32 {
        self.day
    }

    /// The month's English name (`"March"`).
    pub fn month_name(&self) -> &'static str {
        MONTHS[self.month as usize - 1]
    }

    /// The weekday, 0 for Monday to 6 for Sunday.
    pub fn weekday(&self) -> u32 {
        // Day 0 of the count, 1970-01-01, was a Thursday (3 days after a Monday).
        (self.days_since_epoch() + 3).rem_euclid(7) as u32
    }

    /// The weekday's English name (`"Wednesday"`).
    pub fn weekday_name(&self) -> &'static str {
        WEEKDAYS[self.weekday() as usize]
    }

    /// Days from 1970-01-01 (negative before it).
    pub fn days_since_epoch(&self) -> i64 {
        // Howard Hinnant's `days_from_civil`: years start in March, so that the leap day is the
        // last day of the year; eras are 400-year cycles of 146,097 days.
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let month = i64::from(self.month);
        let day_of_year =
            (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The date `days` days after 1970-01-01 (before it if negative).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when that date falls outside the years 1..=9999.
    pub fn from_days_since_epoch(days: i64) -> Result<Date> {
        // Hinnant's `civil_from_days`, the inverse of `days_since_epoch`.
        let shifted = days + 719_468;
        let era = shifted.div_euclid(146_097);
        let day_of_era = shifted - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_from_march = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
        let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        let year =
            i32::try_from(year).map_err(|_| Error::invalid("days", "a year in 1..=9999", days))?;
        Date::new(year, month as u32, day as u32)
    }
}

impl fmt::Display for Date {
    /// ISO 8601: `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_counts_and_dates_are_inverse_and_consecutive() {
        let start = Date::new(1899, 12, 25).unwrap().days_since_epoch();
        let mut previous = Date::from_days_since_epoch(start - 1).unwrap();
        for days in start..start + 200 * 366 {
            let date = Date::from_days_since_epoch(days).unwrap();
            assert_eq!(date.days_since_epoch(), days);
            // The next day: the day after, or the first of the next month or year.
            let next_day = Date::new(previous.year, previous.month, previous.day + 1);
            let expected = next_day
                .or_else(|_| Date::new(previous.year, previous.month + 1, 1))
                .or_else(|_| Date::new(previous.year + 1, 1, 1))
                .unwrap();
            assert_eq!(date, expected);
            previous = date;
        }
    }

    #[test]
    fn known_days() {
        assert_eq!(Date::new(1970, 1, 1).unwrap().days_since_epoch(), 0);
        assert_eq!(Date::new(2000, 3, 1).unwrap().days_since_epoch(), 11_017);
        assert_eq!(Date::new(2021, 3, 3).unwrap().weekday_name(), "Wednesday");
        assert_eq!(Date::new(1969, 7, 20).unwrap().weekday_name(), "Sunday");
        assert_eq!(Date::new(2000, 2, 29).unwrap().weekday_name(), "Tuesday");
    }

    #[test]
    fn invalid_dates_and_iso_text_are_refused() {
        assert!(Date::new(2021, 2, 29).is_err());
        assert!(Date::new(1900, 2, 29).is_err());
        assert!(Date::new(2000, 2, 29).is_ok());
        assert!(Date::new(2021, 13, 1).is_err());
        assert!(Date::new(2021, 4, 31).is_err());
        assert!(Date::new(0, 1, 1).is_err());
        for text in ["2021-3-03", "2021/03/03", "2021-03-0a", "2021-02-30", "", "+021-03-03"] {
            let message = Date::parse_iso(text).unwrap_err().to_string();
            assert!(message.contains("date") || message.contains("day"), "{message}");
        }
        assert_eq!(Date::parse_iso("0999-12-31").unwrap(), Date::new(999, 12, 31).unwrap());
    }
}
