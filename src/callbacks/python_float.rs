//! Python's `repr` of a float, which Keras' callback messages print.

/// `value` as Python's `repr(float)`: the shortest digits that round-trip, in fixed notation
/// (with `.0` for whole numbers) when the decimal exponent is in [−4, 16), in scientific
/// notation with a signed two-digit exponent (`1e-05`) otherwise.
pub(super) fn python_repr(value: f64) -> String {
    if value.is_nan() {
        return "nan".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let scientific = format!("{value:e}");
    let Some((mantissa, exponent)) = scientific.split_once('e') else { return scientific };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if value != 0.0 && !(-4..16).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let fixed = format!("{value}");
    if fixed.contains('.') {
        fixed
    } else {
        format!("{fixed}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::python_repr;

    #[test]
    fn matches_python() {
        let cases = [
            (0.1f64, "0.1"),
            (f64::from(0.1f32) * 0.1, "0.010000000149011612"),
            (9.999999310821295e-05, "9.999999310821295e-05"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1.0, "1.0"),
            (0.0, "0.0"),
            (123456.0, "123456.0"),
            (1e16, "1e+16"),
            (2.5e-7, "2.5e-07"),
        ];
        for (value, text) in cases {
            assert_eq!(python_repr(value), text);
        }
    }
}
