//! Medians and percentiles over durations in whole seconds, computed here
//! rather than in SQL so every backend reports the same figure.

/// The median of `values` (any order): the middle value, or for an even
/// count the mean of the two middle values rounded down. `None` when empty.
pub fn median(values: &[i64]) -> Option<i64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => v.get(n / 2).copied(),
        _ => {
            let a = *v.get(n / 2 - 1)?;
            let b = *v.get(n / 2)?;
            Some(a + (b - a).div_euclid(2))
        }
    }
}

/// The `p`-th percentile (0 < p ≤ 100) by the nearest-rank method: the
/// smallest value with at least `p` % of the values at or below it.
/// `None` when empty or `p` is out of range.
pub fn percentile(values: &[i64], p: u8) -> Option<i64> {
    if values.is_empty() || p == 0 || p > 100 {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let rank = (usize::from(p) * v.len()).div_ceil(100);
    v.get(rank.saturating_sub(1)).copied()
}

/// `part` of `whole` as a percentage with one decimal; `None` for an empty
/// whole.
pub fn percent(part: u64, whole: u64) -> Option<f64> {
    if whole == 0 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let p = part as f64 * 100.0 / whole as f64;
    Some((p * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_odd_count_is_the_middle_value() {
        assert_eq!(median(&[30, 10, 20]), Some(20));
        assert_eq!(median(&[7]), Some(7));
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two_rounded_down() {
        assert_eq!(median(&[40, 10, 20, 30]), Some(25));
        assert_eq!(median(&[1, 2]), Some(1));
        assert_eq!(median(&[-3, -2]), Some(-3));
    }

    #[test]
    fn nothing_has_no_median_or_percentile() {
        assert_eq!(median(&[]), None);
        assert_eq!(percentile(&[], 90), None);
        assert_eq!(percent(1, 0), None);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 100), Some(10));
        assert_eq!(percentile(&v, 1), Some(1));
        assert_eq!(percentile(&[5, 1, 3], 90), Some(5));
        assert_eq!(percentile(&v, 0), None);
        assert_eq!(percentile(&v, 101), None);
    }

    #[test]
    fn percentages_keep_one_decimal() {
        assert_eq!(percent(2, 3), Some(66.7));
        assert_eq!(percent(3, 3), Some(100.0));
        assert_eq!(percent(0, 4), Some(0.0));
    }
}
