//! `simulate_throughput`: Monte Carlo trials per second (target: at least 5 million per second on
//! two cores) for the 2-threshold AWS seed scenario (3 probers, interval = timeout = 10 s), for an
//! HAProxy check with spread-checks jitter and log-normal latency, and for the kernel alone.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use graceline::analysis::montecarlo::{sample, Kernel, SimulateOptions};
use graceline::scenario::load_str;
use graceline::time::Micros;
use std::hint::black_box;

const SEED: &str = include_str!("../tests/fixtures/seed-openshift-aws.toml");
const HAPROXY: &str = "[server]\nshutdown_delay = \"10s\"\nreadyz_failure = \"either\"\nreadyz_timeout_probability = 0.3\n[[lb]]\nprofile = \"haproxy\"\ninter = \"2s\"\nfastinter = \"500ms\"\nfall = 3\nspread_checks = 20\nprotocol = \"https\"\npath = \"/readyz\"\n[lb.latency]\ndistribution = \"lognormal\"\nmedian = \"5ms\"\np99 = \"50ms\"\n";

fn bench(c: &mut Criterion) {
    let seed = load_str("seed.toml", SEED).unwrap();
    let hap = load_str("haproxy.toml", HAPROXY).unwrap();
    let trials = 1_000_000u64;
    let mut g = c.benchmark_group("simulate_throughput");
    g.throughput(Throughput::Elements(trials));
    g.sample_size(10);
    g.bench_function("aws_seed_2_threshold_1M_trials", |b| {
        b.iter(|| sample(black_box(&seed), 0, &SimulateOptions { trials, seed: 1 }, &|_| {}))
    });
    g.bench_function("haproxy_spread_lognormal_either_1M_trials", |b| {
        b.iter(|| sample(black_box(&hap), 0, &SimulateOptions { trials, seed: 1 }, &|_| {}))
    });
    g.finish();
    let lb = &seed.lbs[0];
    let kernel = Kernel::new(&seed.server, &lb.model);
    let starts = [Micros(-3_000_000), Micros(-7_000_000), Micros(-1)];
    let mut g = c.benchmark_group("kernel");
    g.throughput(Throughput::Elements(1));
    g.bench_function("aws_seed_3_probers_one_trial", |b| {
        b.iter(|| kernel.removal(black_box(&starts), &mut |_, _| Micros::ZERO, &mut |_, _| Micros::ZERO))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
