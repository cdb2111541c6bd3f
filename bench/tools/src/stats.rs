//! Order statistics over samples in microseconds.

/// Summary of a sample: percentiles by nearest rank.
pub struct Summary {
    pub n: usize,
    pub min: f64,
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
            "\"{prefix}n\":{},\"{prefix}min\":{},\"{prefix}p50\":{},\"{prefix}p90\":{},\
             \"{prefix}p99\":{},\"{prefix}max\":{},\"{prefix}mean\":{}",
            self.n,
            r(self.min),
            r(self.p50),
            r(self.p90),
            r(self.p99),
            r(self.max),
            r(self.mean)
        )
    }
}
