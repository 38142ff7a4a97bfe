//! `worst_case`: the exact analysis of one scenario × LB pair (target: well under 10 µs).

use criterion::{criterion_group, criterion_main, Criterion};
use graceline::analysis::{analyze, exact::extremes};
use graceline::scenario::load_str;
use std::hint::black_box;

const SEED: &str = include_str!("../tests/fixtures/seed-openshift-aws.toml");
const HAPROXY: &str = "[server]\nshutdown_delay = \"5s\"\nreadyz_failure = \"timeout\"\n[[lb]]\nprofile = \"haproxy\"\ninter = \"2s\"\nfastinter = \"500ms\"\nfall = 5\nspread_checks = 5\nprotocol = \"http\"\npath = \"/readyz\"\n";

fn bench(c: &mut Criterion) {
    let seed = load_str("seed.toml", SEED).unwrap();
    let hap = load_str("haproxy.toml", HAPROXY).unwrap();
    c.bench_function("worst_case/aws_seed_extremes", |b| {
        b.iter(|| extremes(black_box(&seed.server), black_box(&seed.lbs[0].model)))
    });
    c.bench_function("worst_case/haproxy_jitter_crossing_e3_extremes", |b| {
        b.iter(|| extremes(black_box(&hap.server), black_box(&hap.lbs[0].model)))
    });
    c.bench_function("worst_case/aws_seed_full_check", |b| {
        b.iter(|| analyze(black_box(&seed), black_box(&seed.lbs[0])))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
