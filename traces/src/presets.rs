//! Built-in rate curves of real workloads, so that a scenario can replay a real-shaped load on
//! a fresh clone, with no data file.
//!
//! Source: the request-rate curves of the Diablo benchmark's real-world decentralized
//! applications, from the workload files of its artifact: V. Gramoli, R. Guerraoui, A. Lebedev,
//! C. Natoli, G. Voron, "Diablo: A Benchmark Suite for Blockchains", EuroSys 2023 (Dota 2,
//! FIFA 1998 web logs, Uber, YouTube, NASDAQ GAFAM, and Diablo v1's Twitter spike). Each table
//! holds every point of its curve, as published (`t_s`, `rate_tps`). `nasdaq_open` is coarser:
//! the total NASDAQ trades per second of ten stocks (AAPL, AMD, AMZN, CSCO, FB, JD, MSFT, NVDA,
//! TSLA, ZNGA) at the market's opening on 2021-01-11, aggregated from the same artifact's
//! `workloads/DBW-NASDAQ/raw_data/results_second.json` (Diablo @ 823ad60): each of the first
//! 60 seconds, then 10-second means up to 300 s.

use crate::rates::{Interpolation, RateCurve};

type Table = &'static [(f64, f64)];

/// (name, interpolation, points, what it is).
const PRESETS: &[(&str, Interpolation, Table, &str)] = &[
    ("dota2", Interpolation::Step, DOTA2, "Dota 2 players' updates if all Steam players played it (276 s)"),
    (
        "fifa1998",
        Interpolation::Step,
        FIFA1998,
        "web requests on the day of the 1998 World Cup's biggest match (177 s)",
    ),
    ("uber", Interpolation::Step, UBER, "Uber ride requests with distance computations (121 s)"),
    ("youtube", Interpolation::Step, YOUTUBE, "YouTube uploads (101 s)"),
    ("nasdaq_gafam", Interpolation::Step, NASDAQ_GAFAM, "GAFAM trades when the NASDAQ opens (181 s)"),
    ("nasdaq_open", Interpolation::Step, NASDAQ_OPEN, "trades of ten NASDAQ stocks at the opening, 2021-01-11 (300 s)"),
    (
        "twitter_spike",
        Interpolation::Linear,
        TWITTER_SPIKE,
        "Twitter's Castle in the Sky spike: 143,199 tps at 50 s (90 s)",
    ),
];

const DOTA2: Table =
    &[(0.0, 13296.0), (50.0, 13313.0), (120.0, 13334.0), (200.0, 13358.0), (275.0, 13425.0), (276.0, 0.0)];

const FIFA1998: Table = &[
    (0.0, 3406.0),
    (11.0, 3485.0),
    (27.0, 2787.0),
    (40.0, 3374.0),
    (56.0, 1416.0),
    (61.0, 3817.0),
    (74.0, 3482.0),
    (87.0, 3414.0),
    (104.0, 4097.0),
    (112.0, 3357.0),
    (121.0, 3378.0),
    (129.0, 4487.0),
    (147.0, 3373.0),
    (159.0, 3882.0),
    (176.0, 5305.0),
    (177.0, 0.0),
];

const UBER: Table = &[(0.0, 810.0), (40.0, 840.0), (75.0, 885.0), (90.0, 900.0), (120.0, 850.0), (121.0, 0.0)];

const YOUTUBE: Table =
    &[(0.0, 38020.0), (40.0, 38545.0), (75.0, 38761.0), (90.0, 39437.0), (100.0, 38472.0), (101.0, 0.0)];

const NASDAQ_GAFAM: Table = &[
    (0.0, 19800.0),
    (1.0, 115.0),
    (15.0, 140.0),
    (30.0, 100.0),
    (45.0, 55.0),
    (60.0, 60.0),
    (75.0, 40.0),
    (90.0, 35.0),
    (105.0, 30.0),
    (120.0, 25.0),
    (135.0, 45.0),
    (150.0, 30.0),
    (165.0, 32.0),
    (180.0, 37.0),
    (181.0, 0.0),
];

const TWITTER_SPIKE: Table = &[(0.0, 5700.0), (49.0, 5700.0), (50.0, 143199.0), (51.0, 5700.0), (90.0, 5700.0)];

#[rustfmt::skip]
const NASDAQ_OPEN: Table = &[
    (0.0, 34762.0), (1.0, 2957.0), (2.0, 8508.0), (3.0, 178.0), (4.0, 179.0), (5.0, 201.0), (6.0, 143.0),
    (7.0, 96.0), (8.0, 79.0), (9.0, 81.0), (10.0, 125.0), (11.0, 83.0), (12.0, 121.0), (13.0, 61.0),
    (14.0, 92.0), (15.0, 101.0), (16.0, 114.0), (17.0, 92.0), (18.0, 91.0), (19.0, 110.0), (20.0, 114.0),
    (21.0, 98.0), (22.0, 140.0), (23.0, 146.0), (24.0, 159.0), (25.0, 179.0), (26.0, 99.0), (27.0, 47.0),
    (28.0, 82.0), (29.0, 79.0), (30.0, 81.0), (31.0, 83.0), (32.0, 64.0), (33.0, 199.0), (34.0, 52.0),
    (35.0, 62.0), (36.0, 146.0), (37.0, 87.0), (38.0, 75.0), (39.0, 34.0), (40.0, 91.0), (41.0, 102.0),
    (42.0, 63.0), (43.0, 44.0), (44.0, 66.0), (45.0, 80.0), (46.0, 75.0), (47.0, 105.0), (48.0, 43.0),
    (49.0, 131.0), (50.0, 113.0), (51.0, 95.0), (52.0, 56.0), (53.0, 73.0), (54.0, 57.0), (55.0, 69.0),
    (56.0, 67.0), (57.0, 34.0), (58.0, 64.0), (59.0, 37.0),
    (60.0, 77.9), (70.0, 63.3), (80.0, 65.2), (90.0, 66.2), (100.0, 52.3), (110.0, 54.4), (120.0, 75.6),
    (130.0, 73.6), (140.0, 93.8), (150.0, 63.2), (160.0, 51.9), (170.0, 64.5), (180.0, 84.9), (190.0, 61.6),
    (200.0, 52.6), (210.0, 58.1), (220.0, 57.5), (230.0, 47.6), (240.0, 68.6), (250.0, 65.7), (260.0, 71.7),
    (270.0, 59.0), (280.0, 43.5), (290.0, 47.2), (300.0, 0.0),
];

/// The names of the built-in curves.
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.0).collect()
}

/// One line per preset: its name and what it is, for help texts.
pub fn preset_descriptions() -> Vec<(&'static str, &'static str)> {
    PRESETS.iter().map(|p| (p.0, p.3)).collect()
}

/// The built-in curve `name`, with its own interpolation unless `interpolation` overrides it.
pub fn preset(name: &str, interpolation: Option<Interpolation>) -> Option<RateCurve> {
    let &(_, own, points, _) = PRESETS.iter().find(|p| p.0 == name)?;
    Some(RateCurve::from_secs(points, interpolation.unwrap_or(own)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_a_valid_curve_with_its_published_volume() {
        for name in preset_names() {
            let curve = preset(name, None).expect("listed");
            assert!(curve.integral(0, curve.span_ns()) > 1000.0, "{name}");
        }
        // Dota 2: 50 s at 13,296 + 70 at 13,313 + 80 at 13,334 + 75 at 13,358 + 1 at 13,425.
        let dota = preset("dota2", None).unwrap();
        let expected = 50.0 * 13296.0 + 70.0 * 13313.0 + 80.0 * 13334.0 + 75.0 * 13358.0 + 13425.0;
        assert!((dota.integral(0, dota.span_ns()) - expected).abs() < 1e-6);
        // The first minute of nasdaq_open holds the per-second file's trades of that minute.
        let open = preset("nasdaq_open", None).unwrap();
        assert!((open.integral(0, 60_000_000_000) - 51_665.0).abs() < 1e-6);
    }
}
