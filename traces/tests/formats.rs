//! Trace formats: each parses its documented example (tests/data, also shown in
//! docs/scenarios.md), malformed rows are located by file, line and column, empty traces and
//! empty windows are refused, and replays offer what the trace says, scaled as asked, the same
//! for the same seed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sim_core::workload::Arrival;
use sim_core::{Span, Streams, Time};
use traces::{
    ArrivalProcess, ClientsBy, Interpolation, ReplayConfig, Trace, TraceError, parse_diablo, parse_nasdaq,
    parse_rate_series, parse_transactions, preset,
};

fn data(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn config(trace: Trace) -> ReplayConfig {
    ReplayConfig {
        trace,
        start: Span::ZERO,
        window: None,
        time_scale: 1.0,
        rate_scale: 1.0,
        process: ArrivalProcess::Poisson,
        until: Time::from_secs_f64(1e6),
        n_clients: 4,
        clients_by: ClientsBy::RoundRobin,
        accounts: 1000,
        zipf_s: 0.0,
        tx_size_bytes: 256,
    }
}

fn drain_seeded(cfg: &ReplayConfig, seed: u64) -> Vec<Arrival> {
    let mut w = cfg.workload(Streams::new(seed).stream("workload"));
    let arrivals: Vec<Arrival> = std::iter::from_fn(|| w.next_arrival()).collect();
    assert!(arrivals.windows(2).all(|p| p[0].at <= p[1].at), "arrivals go back in time");
    assert!(arrivals.iter().all(|a| a.client_idx < cfg.n_clients && a.at < cfg.until));
    arrivals
}

fn drain(cfg: &ReplayConfig) -> Vec<Arrival> {
    drain_seeded(cfg, 7)
}

fn secs(s: f64) -> Span {
    Span::from_secs_f64(s)
}

/// The printed errors, one per line (help lines included).
fn printed(errors: &[TraceError]) -> String {
    errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")
}

fn assert_errors(result: Result<impl std::fmt::Debug, Vec<TraceError>>, needles: &[&str]) {
    let errors = result.expect_err("expected errors");
    let text = printed(&errors);
    for needle in needles {
        assert!(text.contains(needle), "lacks {needle:?}:\n{text}");
    }
}

fn transactions_example() -> Trace {
    let trace = parse_transactions("transactions.csv", &data("transactions.csv")).unwrap_or_else(|e| panic!("{e:?}"));
    Trace::Transactions(Arc::new(trace))
}

fn rates_example(interpolation: Interpolation) -> Trace {
    let curve = parse_rate_series("rates.csv", &data("rates.csv"), interpolation).unwrap_or_else(|e| panic!("{e:?}"));
    Trace::Rates(Arc::new(curve))
}

fn nasdaq_example() -> Trace {
    Trace::Nasdaq(Arc::new(parse_nasdaq("nasdaq.csv", &data("nasdaq.csv")).unwrap_or_else(|e| panic!("{e:?}"))))
}

// ---------------------------------------------------------------------------------------------
// Documented examples
// ---------------------------------------------------------------------------------------------

#[test]
fn transactions_example_replays_row_by_row() {
    let trace = transactions_example();
    let Trace::Transactions(t) = &trace else { unreachable!() };
    assert_eq!((t.rows.len(), t.n_accounts, t.resorted), (5, 4, false));
    let a = drain(&config(trace.clone()));
    let at_ms: Vec<u64> = a.iter().map(|x| x.at.as_nanos() / 1_000_000).collect();
    assert_eq!(at_ms, [0, 250, 1000, 1500, 2000], "times relative to the first row");
    // 0xa11ce = 0, 0xb0b = 1, 0xca401 = 2, 0xd00d = 3, in order of first appearance.
    let transfers: Vec<(u32, u32, u64, u32)> = a.iter().map(|x| (x.from.0, x.to.0, x.amount, x.size_bytes)).collect();
    assert_eq!(transfers, [(0, 1, 500, 180), (1, 2, 20, 250), (0, 2, 7, 180), (3, 0, 1000, 320), (2, 3, 42, 180)]);
    assert_eq!(a.iter().map(|x| x.client_idx).collect::<Vec<_>>(), [0, 1, 2, 3, 0], "round robin");
}

#[test]
fn transactions_are_sorted_by_time_and_sizes_default() {
    let text = "timestamp_s,sender,receiver,amount\n5,x,y,1\n3,y,z,2\n5,z,x,3\n4,x,z,4\n";
    let t = parse_transactions("t.csv", text).unwrap();
    assert!(t.resorted);
    let order: Vec<(u64, u64)> = t.rows.iter().map(|r| (r.at_ns / 1_000_000_000, r.amount)).collect();
    assert_eq!(order, [(0, 2), (1, 4), (2, 1), (2, 3)], "stable: equal times keep the file's order");
    // Accounts numbered in time order: y (first row after sorting) = 0, z = 1, x = 2.
    assert_eq!((t.rows[0].sender, t.rows[0].receiver, t.rows[1].sender), (0, 1, 2));
    let a = drain(&config(Trace::Transactions(Arc::new(t))));
    assert!(a.iter().all(|x| x.size_bytes == 256), "no size_bytes column: the configured size");
}

#[test]
fn rate_series_example_is_a_step_or_linear_curve() {
    let Trace::Rates(step) = rates_example(Interpolation::Step) else { unreachable!() };
    assert_eq!(step.points.len(), 4);
    assert_eq!(step.span_ns(), 60_000_000_000);
    assert!((step.integral(0, step.span_ns()) - 90_000.0).abs() < 1e-6);
    let Trace::Rates(linear) = rates_example(Interpolation::Linear) else { unreachable!() };
    assert!((linear.integral(0, linear.span_ns()) - 80_000.0).abs() < 1e-6);
}

#[test]
fn diablo_example_selects_one_workload_with_its_convention() {
    let uber = parse_diablo("diablo.csv", &data("diablo.csv"), "smart-uber", None).unwrap();
    assert_eq!(uber.interpolation, Interpolation::Step, "ended by a rate-0 row: a step function");
    assert_eq!(uber.points.len(), 6);
    let expected = 40.0 * 810.0 + 35.0 * 840.0 + 15.0 * 885.0 + 30.0 * 900.0 + 850.0;
    assert!((uber.integral(0, uber.span_ns()) - expected).abs() < 1e-6);
    let twitter = parse_diablo("diablo.csv", &data("diablo.csv"), "v1-twitter-castle-in-the-sky", None).unwrap();
    assert_eq!(twitter.interpolation, Interpolation::Linear, "no closing 0: interpolated");
    // 90 s at 5,700 plus the spike's triangle of base 2 s and height 137,499.
    assert!((twitter.integral(0, twitter.span_ns()) - (90.0 * 5700.0 + 137_499.0)).abs() < 1e-3);
    let forced = parse_diablo("diablo.csv", &data("diablo.csv"), "smart-uber", Some(Interpolation::Linear)).unwrap();
    assert_eq!(forced.interpolation, Interpolation::Linear);
}

#[test]
fn nasdaq_example_spreads_each_second_s_trades_over_it() {
    let trace = nasdaq_example();
    let Trace::Nasdaq(n) = &trace else { unreachable!() };
    assert_eq!(n.symbols, ["AAPL", "TSLA"]);
    assert_eq!((n.seconds.len(), n.total()), (4, 43));
    let a = drain(&config(trace.clone()));
    assert_eq!(a.len(), 43, "every trade, once");
    let in_second = |s: u64| a.iter().filter(|x| x.at.as_nanos() / 1_000_000_000 == s).collect::<Vec<_>>();
    assert_eq!([0, 1, 2, 3].map(|s| in_second(s).len()), [30, 5, 0, 8]);
    let touches = |x: &Arrival, stock: u32| x.from.0 == stock || x.to.0 == stock;
    assert_eq!(in_second(0).iter().filter(|x| touches(x, 0)).count(), 10, "AAPL's trades touch account 0");
    assert_eq!(in_second(0).iter().filter(|x| touches(x, 1)).count(), 20, "TSLA's touch account 1");
    assert!(in_second(3).iter().all(|x| touches(x, 0)));
    // Each trade: one stock and one trader (accounts 2..1000).
    assert!(a.iter().all(|x| (x.from.0 < 2) != (x.to.0 < 2) && x.from.0.max(x.to.0) < 1000));
    let first = in_second(0);
    let spread = first.last().unwrap().at.as_nanos() - first[0].at.as_nanos();
    assert!(spread > 500_000_000, "30 trades spread over the second, not bunched: {spread} ns");
}

#[test]
fn presets_need_no_file() {
    let dota = preset("dota2", None).unwrap();
    let cfg = ReplayConfig { window: Some(secs(10.0)), ..config(Trace::Rates(Arc::new(dota))) };
    let n = drain(&cfg).len() as f64;
    assert!((n / 132_960.0 - 1.0).abs() < 0.01, "10 s at 13,296 tx/s: {n}");
    assert!(preset("dota3", None).is_none());
}

// ---------------------------------------------------------------------------------------------
// Problems
// ---------------------------------------------------------------------------------------------

#[test]
fn malformed_transaction_rows_name_file_line_and_column() {
    let text = "timestamp_s,sender,receiver,amount\n1.0,a,b,5\n2.0,a,b,ten\nx,b,a,3\n3.0,a,,4\n4.0,a,b\n5,a,b,-2\n";
    let errors = parse_transactions("bad.csv", text).unwrap_err();
    let lines: Vec<String> = errors.iter().map(|e| e.to_string().lines().next().unwrap().to_string()).collect();
    assert_eq!(
        lines,
        [
            "bad.csv:3:9: amount: `ten` is not an integer",
            "bad.csv:4:1: timestamp_s: `x` is not a number of seconds",
            "bad.csv:5:7: receiver: is empty",
            "bad.csv:6:8: row: the row has 3 fields; the header has 4",
            "bad.csv:7:7: amount: -2 is negative; expected an integer >= 0",
        ]
    );
    // Windows line endings give the same places.
    let crlf = parse_transactions("bad.csv", &text.replace('\n', "\r\n")).unwrap_err();
    assert_eq!(errors, crlf);
}

#[test]
fn malformed_rows_of_every_format_are_located() {
    let series = "t_s,rate_tps\n0,100\n10,200\n5,100\n20,-5\n";
    assert_errors(
        parse_rate_series("r.csv", series, Interpolation::Step),
        &["r.csv:4:1: t_s: 5 s is not after the previous point (10 s)", "r.csv:5:4: rate_tps: `-5` must be"],
    );
    let nasdaq = "t_s,AAPL_trades,TSLA_trades\n0,1,2\n1,-3,2\n1,1,1\n2,1.5,0\n";
    assert_errors(
        parse_nasdaq("n.csv", nasdaq),
        &[
            "n.csv:3:3: AAPL_trades: -3 is negative",
            "n.csv:4:1: t_s: second 1 is not after the previous row's (1)",
            "n.csv:5:3: AAPL_trades: `1.5` is not an integer",
        ],
    );
    assert_errors(
        parse_nasdaq("n.csv", "t_s,trades_total\n0,5\n"),
        &["n.csv:1: header: the header has no `<SYMBOL>_trades`"],
    );
    assert_errors(
        parse_diablo("d.csv", &data("diablo.csv"), "smart-ubr", None),
        &[
            "d.csv: workload_id: no curve has workload_id \"smart-ubr\"; did you mean \"smart-uber\"?",
            "help: the workload ids are: smart-uber, v1-twitter",
        ],
    );
    assert_errors(
        parse_transactions("t.csv", "time,sender,receiver,amount\n1,a,b,2\n"),
        &["t.csv:1: header: the header has no column `timestamp_s`; it has: time, sender, receiver, amount"],
    );
    let many: String =
        std::iter::once("t_s,rate_tps\n".to_string()).chain((0..30).map(|i| format!("{i},x\n"))).collect();
    let errors = parse_rate_series("m.csv", &many, Interpolation::Step).unwrap_err();
    assert_eq!(errors.len(), traces::MAX_PROBLEMS + 1);
    assert!(errors.last().unwrap().message.contains("20 more problem(s) not shown"));
}

#[test]
fn empty_traces_are_errors() {
    let header = "timestamp_s,sender,receiver,amount\n";
    assert_errors(parse_transactions("t.csv", header), &["t.csv: the trace has no transaction"]);
    assert_errors(parse_transactions("t.csv", ""), &["t.csv: the file is empty"]);
    assert_errors(parse_transactions("t.csv", "# only a comment\n\n"), &["the file is empty"]);
    assert_errors(parse_rate_series("r.csv", "t_s,rate_tps\n0,5\n", Interpolation::Step), &["needs at least two"]);
    assert_errors(parse_nasdaq("n.csv", "t_s,A_trades\n0,0\n1,0\n"), &["the trace is empty"]);
    assert_errors(parse_diablo("d.csv", DIABLO_HEADER_ONLY, "x", None), &["the file holds no curve"]);
}

const DIABLO_HEADER_ONLY: &str = "workload_id,contract_function,t_start_s,rate_tps,description\n";

#[test]
fn empty_windows_are_errors() {
    let rates = config(rates_example(Interpolation::Step));
    assert_eq!(rates.check("rates.csv").map(|e| e.round()), Ok(90_000.0));
    let past = ReplayConfig { start: secs(60.0), ..rates.clone() };
    let e = past.check("rates.csv").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("start_s"));
    assert!(e.message.contains("at or after the end of the trace (60 s)"), "{e}");
    let sliver = ReplayConfig { start: secs(59.0), window: Some(secs(1e-5)), ..rates.clone() };
    let e = sliver.check("rates.csv").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("window_s"));
    assert!(e.message.contains("offers 0.005 transactions"), "{e}");
    // Between two rows of a per-transaction trace.
    let tx = ReplayConfig { start: secs(0.3), window: Some(secs(0.5)), ..config(transactions_example()) };
    assert!(tx.check("transactions.csv").unwrap_err().message.contains("offers 0.000 transactions"));
    let nasdaq = ReplayConfig { start: secs(2.0), window: Some(secs(1.0)), ..config(nasdaq_example()) };
    assert!(nasdaq.check("nasdaq.csv").is_err(), "second 2 holds no trade");
    let few_accounts = ReplayConfig { accounts: 2, ..config(nasdaq_example()) };
    assert_eq!(few_accounts.check("nasdaq.csv").unwrap_err().field.as_deref(), Some("accounts"));
}

// ---------------------------------------------------------------------------------------------
// Replays
// ---------------------------------------------------------------------------------------------

#[test]
fn a_rate_series_over_60_s_offers_its_integral_within_one_percent() {
    for (interpolation, integral) in [(Interpolation::Step, 90_000.0), (Interpolation::Linear, 80_000.0)] {
        for process in [ArrivalProcess::Poisson, ArrivalProcess::Constant] {
            let cfg = ReplayConfig { process, ..config(rates_example(interpolation)) };
            let a = drain(&cfg);
            let error = a.len() as f64 / integral - 1.0;
            assert!(error.abs() < 0.01, "{interpolation:?} {process:?}: {} arrivals, {error:+.4}", a.len());
            if process == ArrivalProcess::Constant {
                assert!(error.abs() < 1e-4, "constant gaps offer the integral to one transaction");
            }
            assert!(a.last().unwrap().at < Time::from_secs_f64(60.0));
            if interpolation == Interpolation::Step {
                // Each 20 s step offers its own share.
                let count =
                    |from: f64, to: f64| a.iter().filter(|x| (from..to).contains(&x.at.as_secs_f64())).count() as f64;
                for (from, expected) in [(0.0, 20_000.0), (20.0, 60_000.0), (40.0, 10_000.0)] {
                    let got = count(from, from + 20.0);
                    assert!((got / expected - 1.0).abs() < 0.03, "[{from}, +20) s: {got} for {expected}");
                }
            }
        }
    }
}

#[test]
fn time_scaling_compresses_and_rate_scaling_thins() {
    let base = ReplayConfig { process: ArrivalProcess::Constant, ..config(rates_example(Interpolation::Step)) };
    let normal = drain(&base);
    let fast = drain(&ReplayConfig { time_scale: 5.0, ..base.clone() });
    assert_eq!(fast.len(), normal.len(), "the same transactions, five times faster");
    assert!(fast.last().unwrap().at < Time::from_secs_f64(12.0));
    assert!(fast.last().unwrap().at > Time::from_secs_f64(11.9));
    let tenth = drain(&ReplayConfig { rate_scale: 0.1, ..base.clone() });
    assert!((tenth.len() as i64 - 9_000).abs() <= 1, "{}", tenth.len());
    let window = drain(&ReplayConfig { start: secs(20.0), window: Some(secs(20.0)), ..base.clone() });
    assert!((window.len() as i64 - 60_000).abs() <= 1, "[20, 40) s at 3000 tx/s: {}", window.len());
    assert!(window[0].at < Time::from_secs_f64(0.001), "the window starts at simulated 0");
    let short_run = drain(&ReplayConfig { until: Time::from_secs_f64(10.0), ..base.clone() });
    assert!((short_run.len() as i64 - 10_000).abs() <= 1, "the run's end cuts the replay");
    assert!((base.mean_rate_tps() - 1500.0).abs() < 1e-6);
    assert!((ReplayConfig { time_scale: 5.0, ..base }.mean_rate_tps() - 7500.0).abs() < 1e-6);
}

/// 10,000 rows, 10 ms apart, 37 senders.
fn many_rows() -> Trace {
    let mut text = String::from("timestamp_s,sender,receiver,amount\n");
    for i in 0..10_000 {
        text.push_str(&format!("{}.{:02},s{},r{},{}\n", i / 100, i % 100, i % 37, i % 11, i));
    }
    Trace::Transactions(Arc::new(parse_transactions("many.csv", &text).unwrap()))
}

#[test]
fn transactions_scale_in_time_and_thin_by_rate() {
    let base = config(many_rows());
    let all = drain(&base);
    assert_eq!(all.len(), 10_000);
    let fast = drain(&ReplayConfig { time_scale: 2.0, ..base.clone() });
    assert_eq!(fast[1000].at, Time::from_secs_f64(5.0), "row at 10 s replays at 5 s");
    let half = drain(&ReplayConfig { rate_scale: 0.5, ..base.clone() });
    assert!((4_850..5_150).contains(&half.len()), "{}", half.len());
    assert!(half.iter().all(|x| all.iter().any(|y| y.amount == x.amount && y.at == x.at)), "a subset of the rows");
    let window = drain(&ReplayConfig { start: secs(10.0), window: Some(secs(5.0)), ..base.clone() });
    assert_eq!(window.len(), 500);
    assert_eq!((window[0].amount, window[0].at), (1000, Time::ZERO));
    let capped = drain(&ReplayConfig { accounts: 5, ..base.clone() });
    assert!(capped.iter().all(|x| x.from.0 < 5 && x.to.0 < 5), "accounts modulo the cap");
}

#[test]
fn clients_by_sender_keeps_a_sender_on_one_client() {
    let cfg = ReplayConfig { clients_by: ClientsBy::Sender, n_clients: 5, ..config(many_rows()) };
    let a = drain(&cfg);
    let mut client_of = std::collections::BTreeMap::new();
    for x in &a {
        assert_eq!(*client_of.entry(x.from.0).or_insert(x.client_idx), x.client_idx, "sender {}", x.from.0);
    }
    let used: std::collections::BTreeSet<u32> = client_of.values().copied().collect();
    assert!(used.len() >= 4, "37 senders spread over the clients: {used:?}");
    let rates =
        ReplayConfig { clients_by: ClientsBy::Sender, n_clients: 5, ..config(rates_example(Interpolation::Step)) };
    let mut client_of = std::collections::BTreeMap::new();
    for x in drain(&rates) {
        assert_eq!(*client_of.entry(x.from.0).or_insert(x.client_idx), x.client_idx, "sender {}", x.from.0);
    }
}

#[test]
fn nasdaq_window_and_scales() {
    let base = config(nasdaq_example());
    let late = drain(&ReplayConfig { start: secs(1.0), ..base.clone() });
    assert_eq!(late.len(), 13, "seconds 1 to 3");
    let fast = drain(&ReplayConfig { time_scale: 2.0, ..base.clone() });
    assert_eq!(fast.len(), 43);
    assert!(fast.last().unwrap().at < Time::from_secs_f64(2.0));
    let double = drain(&ReplayConfig { rate_scale: 2.0, ..base.clone() });
    assert_eq!(double.len(), 86, "whole counts scale exactly");
    let third: usize =
        (0..200).map(|seed| drain_seeded(&ReplayConfig { rate_scale: 1.0 / 3.0, ..base.clone() }, seed).len()).sum();
    assert!((2_767..2_967).contains(&third), "43 / 3 per replay on average, 2867 over 200: {third}");
}

#[test]
fn the_same_seed_gives_the_same_arrivals() {
    let thinned = ReplayConfig { rate_scale: 0.5, ..config(many_rows()) };
    for cfg in [config(rates_example(Interpolation::Linear)), config(nasdaq_example()), thinned] {
        assert_eq!(drain_seeded(&cfg, 3), drain_seeded(&cfg, 3));
        assert_ne!(drain_seeded(&cfg, 3), drain_seeded(&cfg, 4), "{:?}", cfg.trace);
    }
}

// ---------------------------------------------------------------------------------------------
// The real files of ../shared (skipped when absent)
// ---------------------------------------------------------------------------------------------

fn shared(name: &str) -> Option<(PathBuf, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/traces").join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some((path, text)),
        Err(_) => {
            eprintln!("skipped: {} is absent", path.display());
            None
        }
    }
}

#[test]
fn the_real_nasdaq_file_replays_every_trade() {
    let Some((_, text)) = shared("diablo_nasdaq_top10_2021-01-11_per_second.csv") else { return };
    let n = parse_nasdaq("nasdaq", &text).unwrap_or_else(|e| panic!("{}", printed(&e)));
    assert_eq!((n.symbols.len(), n.seconds.len(), n.total()), (10, 1800, 133_460));
    assert_eq!(n.row(0).iter().sum::<u32>(), 34_762);
    let cfg = config(Trace::Nasdaq(Arc::new(n)));
    assert_eq!(cfg.expected_tx(), 133_460.0);
    let opening = drain(&ReplayConfig { window: Some(secs(1.0)), ..cfg.clone() });
    assert_eq!(opening.len(), 34_762);
    assert_eq!(drain(&cfg).len(), 133_460);
}

#[test]
fn the_real_diablo_file_holds_every_preset_curve() {
    let Some((_, text)) = shared("diablo_eurosys23_dapp_rate_curves.csv") else { return };
    for (id, name) in [
        ("smart-dota", "dota2"),
        ("smart-football", "fifa1998"),
        ("smart-uber", "uber"),
        ("smart-youtube", "youtube"),
        ("smart-gafam", "nasdaq_gafam"),
        ("v1-twitter-castle-in-the-sky", "twitter_spike"),
    ] {
        let curve = parse_diablo("diablo", &text, id, None).unwrap_or_else(|e| panic!("{id}: {}", printed(&e)));
        assert_eq!(curve, preset(name, None).unwrap(), "preset {name} is {id}, point for point");
    }
}

#[test]
fn the_nasdaq_open_preset_is_the_real_opening() {
    let Some((_, text)) = shared("diablo_nasdaq_top10_2021-01-11_per_second.csv") else { return };
    let n = parse_nasdaq("nasdaq", &text).unwrap();
    let open = preset("nasdaq_open", None).unwrap();
    for second in [0u64, 1, 2, 30, 59] {
        let trades: u32 = n.row(second as usize).iter().sum();
        assert_eq!(open.integral(second * 1_000_000_000, (second + 1) * 1_000_000_000), f64::from(trades));
    }
    let first_five_minutes: u32 = (0..300).map(|r| n.row(r).iter().sum::<u32>()).sum();
    assert!((open.integral(0, open.span_ns()) - f64::from(first_five_minutes)).abs() < 1.0);
}
