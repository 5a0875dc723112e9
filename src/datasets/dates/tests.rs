//! The dataset against a reader of human dates that is not told the format, and against a
//! weekday rule (Zeller's congruence) that shares no code with [`Date`].

use super::*;

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] =
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
/// The ordinals of the days of a month, written out.
const ORDINALS: [&str; 31] = [
    "1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th", "11th", "12th", "13th",
    "14th", "15th", "16th", "17th", "18th", "19th", "20th", "21st", "22nd", "23rd", "24th", "25th",
    "26th", "27th", "28th", "29th", "30th", "31st",
];

/// A number as written: its value and how many digits it took.
#[derive(Clone, Copy, Debug)]
struct Number {
    value: u32,
    digits: usize,
}

/// The year, month, day and (when written) weekday a human date names, whatever its format;
/// `None` for text it cannot read.
fn read_human(text: &str) -> Option<(i32, u32, u32, Option<usize>)> {
    let lower = text.to_lowercase();
    let (mut month, mut weekday, mut ordinal) = (None, None, None);
    let mut numbers: Vec<Number> = Vec::new();
    let mut separators: Vec<char> = Vec::new();
    for word in lower.split([' ', ',']).filter(|w| !w.is_empty()) {
        separators.extend(word.chars().filter(|c| ['/', '.', '-'].contains(c)));
        for part in word.split(['/', '.', '-']) {
            let name = |names: &[&str]| {
                names.iter().position(|n| *n == part || (part.len() == 3 && n.starts_with(part)))
            };
            if part.chars().all(|c| c.is_ascii_digit()) {
                numbers.push(Number { value: part.parse().ok()?, digits: part.len() });
            } else if let Some(day) = ORDINALS.iter().position(|o| *o == part) {
                ordinal = Some(day as u32 + 1);
            } else if let Some(m) = name(&MONTHS) {
                month = Some(m as u32 + 1);
            } else if let Some(w) = name(&WEEKDAYS) {
                weekday = Some(w);
            } else if part != "the" && part != "of" {
                return None;
            }
        }
    }
    let year = |n: Number| -> i32 {
        match n.digits {
            2 if n.value < 50 => 2000 + n.value as i32,
            2 => 1900 + n.value as i32,
            _ => n.value as i32,
        }
    };
    let (y, m, d) = match (month, ordinal, numbers.as_slice()) {
        (Some(m), Some(d), [y]) => (year(*y), m, d),
        (Some(m), None, [d, y]) => (year(*y), m, d.value),
        (None, None, [n]) if n.digits == 8 => {
            (n.value as i32 / 10_000, n.value / 100 % 100, n.value % 100)
        }
        (None, None, [a, b, c]) if a.digits == 4 => (year(*a), b.value, c.value),
        (None, None, [a, b, c]) if separators.iter().all(|&s| s == '.') => {
            (year(*c), b.value, a.value)
        }
        (None, None, [a, b, c]) if separators.iter().all(|&s| s == '/') => {
            (year(*c), a.value, b.value)
        }
        _ => return None,
    };
    Some((y, m, d, weekday))
}

/// The weekday of a date, 0 for Monday, by Zeller's congruence.
fn zeller(year: i32, month: u32, day: u32) -> usize {
    let (y, m) = if month < 3 { (year - 1, month + 12) } else { (year, month) };
    let (k, j) = (y.rem_euclid(100), y.div_euclid(100));
    let h = (day as i32 + 13 * (m as i32 + 1) / 5 + k + k / 4 + j / 4 + 5 * j).rem_euclid(7);
    // h: 0 = Saturday, 1 = Sunday, 2 = Monday, ...
    (h + 5).rem_euclid(7) as usize
}

#[test]
fn every_iso_target_names_the_date_its_human_form_names() {
    let pairs = generate(20_000, 1);
    for pair in &pairs {
        let (y, m, d, weekday) =
            read_human(&pair.human).unwrap_or_else(|| panic!("cannot read {:?}", pair.human));
        let iso = Date::parse_iso(&pair.iso).unwrap();
        assert_eq!(
            (iso.year(), iso.month(), iso.day()),
            (y, m, d),
            "{} → {}",
            pair.human,
            pair.iso
        );
        assert_eq!(iso, pair.date);
        if let Some(weekday) = weekday {
            assert_eq!(weekday, zeller(y, m, d), "{} is not a {}", pair.iso, WEEKDAYS[weekday]);
        }
    }
    for format in DateFormat::ALL {
        assert!(pairs.iter().any(|p| p.format == format), "{format:?} never drawn");
    }
}

#[test]
fn weekdays_agree_with_zellers_congruence_over_the_range() {
    let (first, last) = (first_day().days_since_epoch(), last_day().days_since_epoch());
    for days in first..=last {
        let date = Date::from_days_since_epoch(days).unwrap();
        assert_eq!(date.weekday() as usize, zeller(date.year(), date.month(), date.day()));
    }
}

#[test]
fn human_forms_fit_the_encoder_and_the_longest_fills_it() {
    let (first, last) = (first_day().days_since_epoch(), last_day().days_since_epoch());
    let mut longest = 0;
    let vocabulary = human_vocabulary();
    for days in first..=last {
        for format in DateFormat::ALL {
            let text = format.render(Date::from_days_since_epoch(days).unwrap());
            assert!(vocabulary.encode(&text).is_ok(), "{text:?}");
            longest = longest.max(text.chars().count());
        }
    }
    assert_eq!(longest, HUMAN_LENGTH);
}

#[test]
fn the_seed_decides_the_sample_and_dates_cover_the_range() {
    let pairs = generate(3_000, 5);
    assert_eq!(pairs, generate(3_000, 5));
    assert_ne!(pairs, generate(3_000, 6));
    let years: Vec<i32> = pairs.iter().map(|p| p.date.year()).collect();
    assert!(years.iter().all(|y| (FIRST_YEAR..=LAST_YEAR).contains(y)));
    assert!(*years.iter().min().unwrap() <= FIRST_YEAR + 1, "{:?}", years.iter().min());
    assert!(*years.iter().max().unwrap() >= LAST_YEAR - 1, "{:?}", years.iter().max());
    assert!(generate(0, 1).is_empty());
}

#[test]
fn encoded_arrays_hold_the_texts_and_the_decoder_input_is_the_target_shifted() {
    let pairs = generate(200, 3);
    let (human, iso) = (human_vocabulary(), iso_vocabulary());
    let ids = |row: ndarray::ArrayView1<f32>| row.iter().map(|&v| v as u32).collect::<Vec<u32>>();
    for padding in [Padding::Pre, Padding::Post] {
        let data = encode(&pairs, padding).unwrap();
        assert_eq!(data.encoder_input.dim(), (200, HUMAN_LENGTH));
        assert_eq!(data.decoder_input.dim(), (200, ISO_LENGTH));
        assert_eq!(data.decoder_target.dim(), (200, ISO_LENGTH));
        for (i, pair) in pairs.iter().enumerate() {
            let source = ids(data.encoder_input.row(i));
            assert_eq!(human.decode(source.iter().copied()), pair.human);
            let padded = HUMAN_LENGTH - pair.human.len();
            let zeros = match padding {
                Padding::Pre => &source[..padded],
                Padding::Post => &source[HUMAN_LENGTH - padded..],
            };
            assert!(zeros.iter().all(|&id| id == 0), "{padding:?}: {source:?}");
            let target = ids(data.decoder_target.row(i));
            assert_eq!(iso.decode(target.iter().copied()), pair.iso);
            let input = ids(data.decoder_input.row(i));
            assert_eq!(iso.char(input[0]), Some(START));
            assert_eq!(input[1..], target[..ISO_LENGTH - 1]);
        }
    }
    assert_eq!(encode(&[], Padding::Pre).unwrap().encoder_input.dim(), (0, HUMAN_LENGTH));
}

#[test]
fn pairs_edited_outside_the_task_are_refused() {
    let pair = generate(1, 0).remove(0);
    let cases = [
        (DatePair { human: "3 mars 2021 à midi".into(), ..pair.clone() }, "'à'"),
        (DatePair { human: "x".repeat(HUMAN_LENGTH + 1), ..pair.clone() }, "at most 30"),
        (DatePair { iso: "2021-3-3".into(), ..pair.clone() }, "10 characters"),
        (DatePair { iso: "2021/03/03".into(), ..pair }, "'/'"),
    ];
    for (pair, expected) in cases {
        let message = encode(&[pair], Padding::Pre).unwrap_err().to_string();
        assert!(message.contains(expected), "{message}");
    }
}
