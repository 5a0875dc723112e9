//! [`DateFormat`]: the human ways of writing a date that the dataset draws from.

use super::calendar::Date;

/// How a date is written by a person. Numeric forms are unambiguous by their separator:
/// `/` is the American month/day/year, `.` the European day.month.year, and a four-digit first
/// number the year. Two-digit years stand for 1950–2049 (`21` is 2021, `87` is 1987).
///
/// The example of each variant is 3 March 2021.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DateFormat {
    /// `3 March 2021`
    DayMonthYear,
    /// `03/03/21`
    UsShort,
    /// `3/3/2021`
    UsNumeric,
    /// `Wed, Mar 3, 2021`
    WeekdayAbbreviated,
    /// `march 3rd 2021`
    LowercaseOrdinal,
    /// `March 3, 2021`
    MonthDayYear,
    /// `03.03.2021`
    European,
    /// `Wednesday, 3 March 2021`
    WeekdayLong,
    /// `3 Mar 21`
    DayAbbreviatedShortYear,
    /// `MAR 3 2021`
    Uppercase,
    /// `the 3rd of march, 2021`
    Spoken,
    /// `20210303`
    Compact,
    /// `2021/03/03`
    YearFirst,
    /// `Wednesday March 3rd, 2021`
    WeekdayOrdinal,
    /// `3-Mar-2021`
    Dashed,
    /// `Mar 03, 21`
    AbbreviatedShortYear,
}

impl DateFormat {
    /// Every format, in the order of the variants.
    pub const ALL: [DateFormat; 16] = [
        DateFormat::DayMonthYear,
        DateFormat::UsShort,
        DateFormat::UsNumeric,
        DateFormat::WeekdayAbbreviated,
        DateFormat::LowercaseOrdinal,
        DateFormat::MonthDayYear,
        DateFormat::European,
        DateFormat::WeekdayLong,
        DateFormat::DayAbbreviatedShortYear,
        DateFormat::Uppercase,
        DateFormat::Spoken,
        DateFormat::Compact,
        DateFormat::YearFirst,
        DateFormat::WeekdayOrdinal,
        DateFormat::Dashed,
        DateFormat::AbbreviatedShortYear,
    ];

    /// `date` written in this format.
    ///
    /// ```
    /// use rnnkit::datasets::dates::{Date, DateFormat};
    /// # fn main() -> rnnkit::Result<()> {
    /// let date = Date::new(2021, 3, 3)?;
    /// assert_eq!(DateFormat::WeekdayAbbreviated.render(date), "Wed, Mar 3, 2021");
    /// assert_eq!(DateFormat::Spoken.render(date), "the 3rd of march, 2021");
    /// # Ok(())
    /// # }
    /// ```
    pub fn render(self, date: Date) -> String {
        let (y, m, d) = (date.year(), date.month(), date.day());
        let yy = y.rem_euclid(100);
        let month = date.month_name();
        let mon = &month[..3];
        let weekday = date.weekday_name();
        let wd = &weekday[..3];
        let nth = ordinal(d);
        match self {
            DateFormat::DayMonthYear => format!("{d} {month} {y}"),
            DateFormat::UsShort => format!("{m:02}/{d:02}/{yy:02}"),
            DateFormat::UsNumeric => format!("{m}/{d}/{y}"),
            DateFormat::WeekdayAbbreviated => format!("{wd}, {mon} {d}, {y}"),
            DateFormat::LowercaseOrdinal => format!("{} {nth} {y}", month.to_lowercase()),
            DateFormat::MonthDayYear => format!("{month} {d}, {y}"),
            DateFormat::European => format!("{d:02}.{m:02}.{y}"),
            DateFormat::WeekdayLong => format!("{weekday}, {d} {month} {y}"),
            DateFormat::DayAbbreviatedShortYear => format!("{d} {mon} {yy:02}"),
            DateFormat::Uppercase => format!("{} {d} {y}", mon.to_uppercase()),
            DateFormat::Spoken => format!("the {nth} of {}, {y}", month.to_lowercase()),
            DateFormat::Compact => format!("{y:04}{m:02}{d:02}"),
            DateFormat::YearFirst => format!("{y:04}/{m:02}/{d:02}"),
            DateFormat::WeekdayOrdinal => format!("{weekday} {month} {nth}, {y}"),
            DateFormat::Dashed => format!("{d}-{mon}-{y}"),
            DateFormat::AbbreviatedShortYear => format!("{mon} {d:02}, {yy:02}"),
        }
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, ..., `11th`, `12th`, `13th`, `21st`, ...
fn ordinal(day: u32) -> String {
    let suffix = match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{day}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_writes_the_example_of_its_doc() {
        let date = Date::new(2021, 3, 3).unwrap();
        let written: Vec<String> = DateFormat::ALL.iter().map(|f| f.render(date)).collect();
        assert_eq!(
            written,
            [
                "3 March 2021",
                "03/03/21",
                "3/3/2021",
                "Wed, Mar 3, 2021",
                "march 3rd 2021",
                "March 3, 2021",
                "03.03.2021",
                "Wednesday, 3 March 2021",
                "3 Mar 21",
                "MAR 3 2021",
                "the 3rd of march, 2021",
                "20210303",
                "2021/03/03",
                "Wednesday March 3rd, 2021",
                "3-Mar-2021",
                "Mar 03, 21",
            ]
        );
    }

    #[test]
    fn ordinals() {
        let days = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 30, 31];
        let written: Vec<String> = days.iter().map(|&d| ordinal(d)).collect();
        assert_eq!(
            written,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "30th",
                "31st"
            ]
        );
    }
}
