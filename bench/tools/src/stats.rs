//! Order statistics over samples (microseconds, milliseconds).

/// Summary of a sample: percentiles by nearest rank.
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

/// The nearest-rank percentile `p` (0-100) of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Summarises samples (any order).
pub fn summarize(samples: &[f64]) -> Summary {
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let mean = if s.is_empty() {
        f64::NAN
    } else {
        s.iter().sum::<f64>() / s.len() as f64
    };
    Summary {
        n: s.len(),
        min: s.first().copied().unwrap_or(f64::NAN),
        p10: percentile(&s, 10.0),
        p50: percentile(&s, 50.0),
        p90: percentile(&s, 90.0),
        p99: percentile(&s, 99.0),
        max: s.last().copied().unwrap_or(f64::NAN),
        mean,
    }
}

impl Summary {
    /// The summary as JSON fields (no braces), values rounded to 0.1.
    pub fn json_fields(&self, prefix: &str) -> String {
        let r = |v: f64| (v * 10.0).round() / 10.0;
        format!(
            "\"{prefix}n\":{},\"{prefix}min\":{},\"{prefix}p10\":{},\"{prefix}p50\":{},\
             \"{prefix}p90\":{},\"{prefix}p99\":{},\"{prefix}max\":{},\"{prefix}mean\":{}",
            self.n,
            r(self.min),
            r(self.p10),
            r(self.p50),
            r(self.p90),
            r(self.p99),
            r(self.max),
            r(self.mean)
        )
    }
}

/// Rounds to one decimal, as every JSON figure of the tools is written.
pub fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A sample as the A/B comparison reports it (the statistics of Python's
/// `statistics` module, which the first version of the comparison used):
/// the median (the mean of the middle two for an even count), the mean,
/// the 10th and 90th percentiles of `statistics.quantiles(n=10)`
/// (exclusive method) and the sorted samples.
#[derive(Clone)]
pub struct Spread {
    pub median: f64,
    pub mean: f64,
    pub p10: f64,
    pub p90: f64,
    pub samples: Vec<f64>,
}

impl Spread {
    /// The spread of a non-empty sample.
    pub fn of(samples: &[f64]) -> Spread {
        let mut s = samples.to_vec();
        s.sort_by(|a, b| a.total_cmp(b));
        let n = s.len();
        let median = if n % 2 == 1 {
            s[n / 2]
        } else {
            (s[n / 2 - 1] + s[n / 2]) / 2.0
        };
        let (p10, p90) = if n < 2 {
            (s[0], s[0])
        } else {
            (exclusive_decile(&s, 1), exclusive_decile(&s, 9))
        };
        Spread {
            median,
            mean: s.iter().sum::<f64>() / n as f64,
            p10,
            p90,
            samples: s,
        }
    }

    /// `{"median":..,"mean":..,"p10":..,"p90":..,"samples":[..]}`, rounded.
    pub fn json(&self) -> String {
        let samples: Vec<String> = self
            .samples
            .iter()
            .map(|x| round1(*x).to_string())
            .collect();
        format!(
            "{{\"median\":{},\"mean\":{},\"p10\":{},\"p90\":{},\"samples\":[{}]}}",
            round1(self.median),
            round1(self.mean),
            round1(self.p10),
            round1(self.p90),
            samples.join(",")
        )
    }
}

/// The `i`th decile (1-9) of at least two sorted samples, interpolated as
/// `statistics.quantiles(data, n=10, method="exclusive")` does.
fn exclusive_decile(sorted: &[f64], i: usize) -> f64 {
    let (n, m) = (10, sorted.len() + 1);
    let j = (i * m / n).clamp(1, sorted.len() - 1);
    let delta = (i * m) as f64 - (j * n) as f64;
    (sorted[j - 1] * (n as f64 - delta) + sorted[j] * delta) / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_matches_pythons_statistics() {
        // statistics.median / mean / quantiles(n=10) of these in Python:
        // 4.5, 4.5, and deciles extrapolated past the ends: 0.9 and 8.1.
        let s = Spread::of(&[8.0, 1.0, 5.0, 4.0, 2.0, 7.0, 3.0, 6.0]);
        assert_eq!((s.median, s.mean), (4.5, 4.5));
        assert_eq!((round1(s.p10), round1(s.p90)), (0.9, 8.1));
        // [10, 20, ..., 110]: quantiles(n=10) gives 12.0 and 108.0.
        let xs: Vec<f64> = (1..=11).map(|x| x as f64 * 10.0).collect();
        let s = Spread::of(&xs);
        assert_eq!((s.median, s.p10, s.p90), (60.0, 12.0, 108.0));
        let one = Spread::of(&[3.0]);
        assert_eq!((one.median, one.p10, one.p90), (3.0, 3.0, 3.0));
    }

    #[test]
    fn nearest_rank_percentiles() {
        let s = summarize(&[5.0, 1.0, 4.0, 2.0, 3.0]);
        assert_eq!((s.min, s.p10, s.p50, s.max), (1.0, 1.0, 3.0, 5.0));
    }
}
