//! `input_scale`: reading and judging a large haproxy.cfg (issue 9, case 13): `input::load` plus
//! `analyze_all` on 1 000, 10 000 and 50 000 server pairs (ten servers per backend). The time per
//! pair must stay flat (linear scaling); target: 50 000 pairs under 3 s and 300 MB on one core
//! (memory measured with `/usr/bin/time -v graceline check`, see the README limits table).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use graceline::analysis::outcome::run;
use graceline::input::{load, Options};
use std::hint::black_box;
use std::path::PathBuf;

/// An haproxy.cfg with `pairs` checked servers, ten per backend, sharing one defaults section.
fn config(pairs: usize) -> String {
    let mut s = String::from(
        "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n  option httpchk GET /readyz\n  default-server inter 2s fall 3 check-ssl verify none\n",
    );
    for b in 0..pairs.div_ceil(10) {
        s.push_str(&format!("backend api{b}\n"));
        for i in 0..10.min(pairs - b * 10) {
            s.push_str(&format!(
                "  server s{i} 10.{}.{}.{}:6443 check\n",
                b / 250 % 250,
                b % 250,
                i + 1
            ));
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut g = c.benchmark_group("input_scale");
    g.sample_size(10);
    for pairs in [1_000usize, 10_000, 50_000] {
        let path: PathBuf = dir.path().join(format!("scale-{pairs}.cfg"));
        std::fs::write(&path, config(pairs)).expect("a writable temporary file");
        let opts = Options {
            server: Some("kube-apiserver".to_string()),
            ..Options::default()
        };
        g.throughput(Throughput::Elements(pairs as u64));
        g.bench_with_input(BenchmarkId::new("load_and_analyze", pairs), &path, |b, p| {
            b.iter(|| {
                let groups = load(std::slice::from_ref(p), &opts).expect("the generated config reads");
                black_box(run(groups))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
