//! `sweep_grid`: `recommend`'s search of the full AWS NLB grid (every whole-second interval 5-300 s,
//! timeout 2-120 s with timeout <= interval, unhealthy threshold 2-10; target: under a second) and
//! of the HAProxy grid (inter x fastinter in 100 ms steps up to 10 s, fall 1-10).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use graceline::analysis::recommend::{grid, recommend_on};
use graceline::scenario::load_str;
use std::hint::black_box;

const SEED: &str = include_str!("../tests/fixtures/seed-openshift-aws.toml");
const HAPROXY: &str = "[server]\nshutdown_delay = \"10s\"\nreadyz_failure = \"timeout\"\n[[lb]]\nprofile = \"haproxy\"\ninter = \"2s\"\nfall = 3\nspread_checks = 5\nprotocol = \"https\"\npath = \"/readyz\"\n";

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("sweep_grid");
    g.sample_size(10);
    for (name, text) in [("aws_nlb_full_grid", SEED), ("haproxy_grid", HAPROXY)] {
        let sc = load_str("grid.toml", text).unwrap();
        let lb = &sc.lbs[0];
        let gr = grid(lb);
        g.throughput(Throughput::Elements(gr.settings.len() as u64));
        g.bench_function(name, |b| b.iter(|| recommend_on(black_box(&sc), black_box(lb), &gr)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
