//! Unit tests of the nginx configuration reader.

use super::*;
use std::path::PathBuf;

fn cfg(text: &str) -> NginxConfig {
    parse_str("nginx.conf", text, Path::new("/nonexistent")).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> ParseError {
    match parse_str("nginx.conf", text, Path::new("/nonexistent")) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e,
    }
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inputs/nginx")
        .join(rel)
}

fn stream(body: &str) -> String {
    format!("events {{}}\nstream {{\n{body}\n}}\n")
}

fn at(e: &ParseError) -> (u32, u32) {
    (e.line, e.column)
}

#[test]
fn kubespray_node_local_proxy() {
    let c = parse_file(&fixture("kubespray/nginx.conf")).unwrap();
    assert_eq!(c.version, "1.22.1");
    assert_eq!(c.worker_processes.value, Workers::Count(2));
    assert_eq!(c.upstreams.len(), 1);
    let u = &c.upstreams[0];
    assert_eq!((u.module, u.name.as_str()), (Module::Stream, "kube_apiserver"));
    assert_eq!(u.balancer.value, Balancer::LeastConn);
    assert!(u.zone.is_none() && u.keepalive.is_none());
    assert_eq!(u.servers.len(), 3);
    for (s, ip) in u.servers.iter().zip(["10.0.0.11", "10.0.0.12", "10.0.0.13"]) {
        assert_eq!(s.address.value, format!("{ip}:6443"));
        assert_eq!(s.port, Some(6443));
        // No max_fails/fail_timeout written: nginx's defaults, said as such.
        assert_eq!((s.max_fails.value, s.max_fails.pos), (1, None));
        assert_eq!(
            (s.fail_timeout.value, s.fail_timeout.pos),
            (Micros::from_secs(10), None)
        );
    }
    assert_eq!(c.proxies.len(), 1);
    let p = &c.proxies[0];
    assert_eq!(p.upstream, Some(0));
    assert_eq!(p.listen.iter().map(|l| l.value).collect::<Vec<_>>(), [6443]);
    assert_eq!(p.connect_timeout.value, Micros::from_secs(1));
    let ct = p.connect_timeout.pos.unwrap();
    assert_eq!((ct.line, ct.column), (32, 27));
    assert_eq!(p.timeout.value, Micros::from_secs(600));
    assert_eq!(
        p.next_upstream,
        Setting::default_of(NextUpstream::On(vec![Condition::Error, Condition::Timeout]))
    );
    assert_eq!(p.next_upstream_tries, Setting::default_of(0));
    assert!(p.http_version.is_none());
    // Selection by the server's port.
    assert_eq!(c.upstreams_with_port(6443), vec![0]);
    assert!(c.upstreams_with_port(8081).is_empty());
    assert_eq!(c.proxies_of(0).count(), 1);
}

#[test]
fn http_upstream_with_an_include_glob() {
    let c = parse_file(&fixture("http-upstream/nginx.conf")).unwrap();
    // The dot file in conf.d is not read (glob(3) needs a literal leading dot).
    assert_eq!(c.files.len(), 2);
    assert!(c.files[1].path.ends_with("conf.d/app.conf"), "{:?}", c.files);
    let u = &c.upstreams[0];
    assert_eq!(u.name, "app");
    assert_eq!(u.keepalive.as_ref().map(|k| k.value), Some(16));
    assert_eq!(u.zone.as_ref().map(|z| z.value.as_str()), Some("app"));
    assert_eq!(u.servers.len(), 4);
    assert_eq!(u.servers[0].max_fails.value, 3);
    assert_eq!(u.servers[0].fail_timeout.value, Micros::from_secs(5));
    let pos = u.servers[0].fail_timeout.pos.unwrap();
    assert_eq!(
        (c.file_of(pos).ends_with("app.conf"), pos.line, pos.column),
        (true, 3, 37)
    );
    assert!(u.servers[3].backup.is_some());
    assert_eq!(u.servers[3].max_fails.pos, None);
    assert_eq!(c.proxies.len(), 2);
    let root = &c.proxies[0];
    assert_eq!(root.location.as_ref().unwrap().value, "/");
    assert_eq!(root.listen[0].value, 8080);
    assert_eq!(root.connect_timeout.value, Micros::from_secs(2));
    assert_eq!(root.timeout.value, Micros::from_secs(30));
    assert_eq!(
        root.next_upstream.value,
        NextUpstream::On(vec![Condition::Error, Condition::Timeout, Condition::Http503])
    );
    assert_eq!(root.next_upstream_tries.value, 3);
    assert_eq!(root.http_version.as_ref().unwrap().value, "1.1");
    let upload = &c.proxies[1];
    assert_eq!(upload.next_upstream.value, NextUpstream::Off);
    assert_eq!(
        upload.http_version.as_ref().unwrap(),
        &Setting::default_of("1.0".to_string())
    );
    assert_eq!(upload.connect_timeout, Setting::default_of(Micros::from_secs(60)));
    assert_eq!(c.upstreams_with_port(8080), vec![0]);
}

#[test]
fn an_nginx_t_dump_is_read_from_its_sections() {
    let main = std::fs::read_to_string(fixture("http-upstream/nginx.conf")).unwrap();
    let app = std::fs::read_to_string(fixture("http-upstream/conf.d/app.conf")).unwrap();
    let dump = format!(
        "# configuration file /etc/nginx/nginx.conf:\n{main}\n# configuration file /etc/nginx/conf.d/app.conf:\n{app}\n"
    );
    let c = parse_str("dump.txt", &dump, Path::new("/nonexistent")).unwrap();
    let from_disk = parse_file(&fixture("http-upstream/nginx.conf")).unwrap();
    assert_eq!(c.upstreams.len(), from_disk.upstreams.len());
    assert_eq!(c.proxies.len(), from_disk.proxies.len());
    // Positions point into the dump.
    let p = c.upstreams[0].servers[0].fail_timeout.pos.unwrap();
    let dump_line = main.lines().count() as u32 + 3 + 3;
    assert_eq!((c.file_of(p), p.line), ("dump.txt", dump_line));
    assert_eq!(c.files[1].path, "/etc/nginx/conf.d/app.conf");
    // An error in an included section names the dump, the dump's line and the original file.
    let bad = dump.replace(
        "max_fails=3 fail_timeout=5s;\n  server 10.0.1.22",
        "max_fails=x;\n  server 10.0.1.22",
    );
    let e = parse_str("dump.txt", &bad, Path::new("/nonexistent")).unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("dump.txt", dump_line));
    assert!(e.message.contains("(in /etc/nginx/conf.d/app.conf)"), "{e}");
    // A plain include missing from the dump is refused.
    let cut = "# configuration file /etc/nginx/nginx.conf:\nevents {}\ninclude other.conf;\n";
    let e = parse_str("dump.txt", cut, Path::new("/nonexistent")).unwrap_err();
    assert!(e.message.contains("not in this 'nginx -T' output"), "{e}");
}

#[test]
fn defaults_and_inheritance() {
    let c = cfg(&stream(
        "  proxy_connect_timeout 5s;\n  proxy_next_upstream off;\n  upstream u { server 10.0.0.1:6443; server 10.0.0.2:6443 backup; }\n  server { listen 6443; proxy_pass u; }\n  server { listen 6444; proxy_pass u; proxy_next_upstream on; proxy_next_upstream_tries 2; proxy_next_upstream_timeout 3s; }",
    ));
    let (a, b) = (&c.proxies[0], &c.proxies[1]);
    assert_eq!(a.connect_timeout.value, Micros::from_secs(5));
    assert_eq!(a.connect_timeout.pos.map(|p| p.line), Some(3));
    assert_eq!(a.next_upstream.value, NextUpstream::Off);
    assert_eq!(b.connect_timeout.value, Micros::from_secs(5));
    assert!(b.next_upstream.value.passes(Condition::Timeout));
    assert_eq!(b.next_upstream_tries.value, 2);
    assert_eq!(b.next_upstream_timeout.value, Micros::from_secs(3));
    // http: http -> server -> location -> nested location; `off` anywhere wins; lists add up.
    let c = cfg("events {}\nhttp {\n  proxy_read_timeout 5s;\n  upstream app { server 10.0.0.1; }\n  server {\n    proxy_next_upstream error;\n    location / {\n      proxy_pass http://app;\n      location /api { proxy_pass http://app/api; proxy_next_upstream timeout; proxy_next_upstream http_500; }\n      location /x { proxy_pass http://app; proxy_next_upstream error off; }\n    }\n  }\n}\n");
    assert_eq!(c.upstreams[0].servers[0].port, Some(80));
    let [root, api, x] = [&c.proxies[0], &c.proxies[1], &c.proxies[2]];
    assert_eq!(root.next_upstream.value, NextUpstream::On(vec![Condition::Error]));
    assert_eq!(root.timeout.value, Micros::from_secs(5));
    assert_eq!(root.listen, vec![Setting::default_of(80)]);
    assert_eq!(
        api.next_upstream.value,
        NextUpstream::On(vec![Condition::Timeout, Condition::Http500])
    );
    assert_eq!(api.location.as_ref().unwrap().value, "/api");
    assert_eq!(x.next_upstream.value, NextUpstream::Off);
    // Defaults for http: error timeout, 60 s connect, tries 0.
    let c = cfg("events {}\nhttp { server { listen 80; location / { proxy_pass http://127.0.0.1:8080; } } }\n");
    let p = &c.proxies[0];
    assert_eq!(
        p.next_upstream,
        Setting::default_of(NextUpstream::On(vec![Condition::Error, Condition::Timeout]))
    );
    assert_eq!(p.connect_timeout.value, Micros::from_secs(60));
    let u = &c.upstreams[p.upstream.unwrap()];
    assert!(u.pos.is_none());
    assert_eq!((u.servers.len(), u.servers[0].port), (1, Some(8080)));
}

#[test]
fn balancers_and_server_parameters() {
    let c = cfg(&stream(
        "  upstream a { hash $remote_addr consistent; server 10.0.0.1:1 weight=5 max_fails=0 fail_timeout=1m down; server 10.0.0.2:1; }\n  upstream b { random two least_conn; server [::1]:2; }\n  upstream c { server unix:/run/x.sock; }\n  server { listen 1; proxy_pass a; }",
    ));
    let a = &c.upstreams[0];
    assert_eq!(
        a.balancer.value,
        Balancer::Hash {
            key: "$remote_addr".into(),
            consistent: true
        }
    );
    let s = &a.servers[0];
    assert_eq!((s.weight.value, s.max_fails.value), (5, 0));
    assert_eq!(s.fail_timeout.value, Micros::from_secs(60));
    assert!(s.down.is_some());
    // A down server is not selected by its port.
    assert_eq!(c.upstreams_with_port(1), vec![0]);
    assert_eq!(
        c.upstreams[1].balancer.value,
        Balancer::Random {
            two: Some("least_conn".into())
        }
    );
    assert_eq!(c.upstreams[1].servers[0].port, Some(2));
    assert_eq!(c.upstreams[2].servers[0].port, None);
    // Variables: resolved per request, no upstream.
    let c = cfg(&stream("  server { listen 1; proxy_pass $upstream; }"));
    assert_eq!(c.proxies[0].upstream, None);
    // A dotted host name is an implicit upstream nginx resolves at start.
    let c = cfg("events {}\nhttp { server { location / { proxy_pass https://api.example.com; } } }\n");
    let u = &c.upstreams[0];
    assert!(u.unresolved && u.pos.is_none());
    assert_eq!(u.servers[0].port, Some(443));
}

#[test]
fn bad_values_are_refused_as_nginx_t_refuses_them() {
    let cases: &[(&str, (u32, u32), &str)] = &[
        (
            "  upstream u { server 10.0.0.1:1 max_fails=x; }\n  server { listen 1; proxy_pass u; }",
            (3, 34),
            "invalid parameter \"max_fails=x\"",
        ),
        (
            "  upstream u { server 10.0.0.1:1 weight=0; }\n  server { listen 1; proxy_pass u; }",
            (3, 34),
            "invalid parameter \"weight=0\"",
        ),
        (
            "  upstream u { server 10.0.0.1:1 slow_start=30s; }\n  server { listen 1; proxy_pass u; }",
            (3, 34),
            "an NGINX Plus parameter",
        ),
        (
            "  upstream u { hash $x; server 10.0.0.1:1 backup; }\n  server { listen 1; proxy_pass u; }",
            (3, 43),
            "balancing method does not support parameter \"backup\"",
        ),
        (
            "  upstream u { server 10.0.0.1; }\n  server { listen 1; proxy_pass u; }",
            (3, 23),
            "no port in upstream \"10.0.0.1\"",
        ),
        (
            "  upstream u { server 10.0.0.1:0; }\n  server { listen 1; proxy_pass u; }",
            (3, 23),
            "invalid port in upstream",
        ),
        (
            "  upstream u { server 10.0.0.1:1; }\n  server { listen 1; proxy_pass u; proxy_next_upstream_tries two; }",
            (4, 62),
            "\"proxy_next_upstream_tries\" directive invalid number",
        ),
        (
            "  upstream u { server 10.0.0.1:1; }\n  server { listen 1; proxy_pass u; proxy_next_upstream maybe; }",
            (4, 56),
            "it must be \"on\" or \"off\"",
        ),
        (
            "  upstream u { server 10.0.0.1:1; }\n  server { listen 1; proxy_pass u; proxy_timeout 1s; proxy_timeout 2s; }",
            (4, 54),
            "\"proxy_timeout\" directive is duplicate",
        ),
        (
            "  upstream u { server 10.0.0.1:1; }\n  server { listen 1; proxy_pass u; proxy_pass u; }",
            (4, 36),
            "\"proxy_pass\" directive is duplicate",
        ),
        (
            "  upstream u { server 10.0.0.1:1; }\n  server { proxy_pass u; }",
            (4, 3),
            "no \"listen\" is defined for server",
        ),
        (
            "  upstream u { server 10.0.0.1:1; }\n  upstream u { server 10.0.0.2:1; }\n  server { listen 1; proxy_pass u; }",
            (4, 12),
            "duplicate upstream \"u\"",
        ),
        (
            "  upstream kube { server 10.0.0.1:1; }\n  server { listen 1; proxy_pass kub; }",
            (4, 33),
            "did you mean \"kube\"?",
        ),
        (
            "  upstream u { least_con; server 10.0.0.1:1; }",
            (3, 16),
            "unknown directive \"least_con\"; did you mean \"least_conn\"?",
        ),
        (
            "  upstream u { ip_hash; server 10.0.0.1:1; }",
            (3, 16),
            "\"ip_hash\" directive is not allowed here (it belongs in: http upstream)",
        ),
        (
            "  upstream u { server 10.0.0.1:1; }\n  server { listen 1 proxy_pass u; }",
            (4, 21),
            "the invalid \"proxy_pass\" parameter",
        ),
        (
            "  upstream u { server 10.0.0.1:1 }\n  server { listen 1; proxy_pass u; }",
            (3, 34),
            "unexpected \"}\"",
        ),
        (
            "  upstream u { server 10.0.0.1:1 { } }\n  server { listen 1; proxy_pass u; }",
            (3, 16),
            "directive \"server\" is not terminated by \";\"",
        ),
        (
            "  upstream u { server 10.0.0.1:1; }\n  server { listen 1; proxy_pass u; }\n  server;",
            (5, 3),
            "directive \"server\" has no opening \"{\"",
        ),
        ("  upstream u { server 10.0.0.1:1; }\n  server { listen 1; proxy_pass u;", (6, 1), "unexpected end of file, expecting \"}\" (the block opened at line 2 is not closed)"),
    ];
    for (body, pos, msg) in cases {
        let e = err(&stream(body));
        assert!(e.message.contains(msg), "{body}: {e}");
        assert_eq!(at(&e), *pos, "{body}: {e}");
    }
    // Main level.
    let e = err("stream { }\n");
    assert!(e.message.contains("no \"events\" section"), "{e}");
    let e = err("events {}\nevents {}\n");
    assert_eq!(
        (at(&e), e.message.as_str()),
        ((2, 1), "\"events\" directive is duplicate")
    );
    let e = err("events {}\nworker_processes lots;\n");
    assert_eq!(at(&e), (2, 18));
    let e = err("events {}\nhttp { server { location / { proxy_pass ftp://x; } } }\n");
    assert!(e.message.contains("invalid URL prefix in \"ftp://x\""), "{e}");
    let e = err(
        "events {}\nhttp { upstream app { server 10.0.0.1; } server { location / { proxy_pass http://app:8080; } } }\n",
    );
    assert!(e.message.contains("upstream \"app\" may not have port 8080"), "{e}");
    let e =
        err("events {}\nhttp { upstream app { server 10.0.0.1; } server { location / { proxy_pass http://ap; } } }\n");
    assert!(e.message.contains("host not found in upstream \"ap\""), "{e}");
    assert!(e.message.contains("did you mean \"app\""), "{e}");
    let e = err("events {}\nhttp { upstream app { server 10.0.0.1; keepalive 0; } }\n");
    assert!(
        e.message.contains("invalid value \"0\" in \"keepalive\" directive"),
        "{e}"
    );
    let e = err("events {}\nhttp { server { location / { proxy_pass http://127.0.0.1; proxy_next_upstream error http_5xx; } } }\n");
    assert!(e.message.contains("invalid value \"http_5xx\""), "{e}");
    let e = err("events {}\nhttp { server { location / { proxy_http_version 2; } } }\n");
    assert!(e.message.contains("invalid value \"2\""), "{e}");
    let e = err("events {}\nhttp { server { location / { health_check; } } }\n");
    assert!(e.message.contains("unknown directive \"health_check\""), "{e}");
    let e = err("events {}\nhttp { server { listen 80 } }\n");
    assert!(e.message.contains("unexpected \"}\""), "{e}");
}

#[test]
fn includes_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("u")).unwrap();
    std::fs::write(d.join("u/b.conf"), "server 10.0.0.2:1;\n").unwrap();
    std::fs::write(d.join("u/a.conf"), "server 10.0.0.1:1;\n").unwrap();
    std::fs::write(d.join("s.conf"), "server { listen 1; proxy_pass up; }\n").unwrap();
    let main =
        "events {}\nstream {\n  upstream up { include u/*.conf; }\n  include s.conf;\n  include none/*.conf;\n}\n";
    std::fs::write(d.join("nginx.conf"), main).unwrap();
    let c = parse_file(&d.join("nginx.conf")).unwrap();
    // Sorted, as glob(3) returns them; a glob matching nothing is accepted, as nginx accepts it.
    let addrs: Vec<_> = c.upstreams[0]
        .servers
        .iter()
        .map(|s| s.address.value.as_str())
        .collect();
    assert_eq!(addrs, ["10.0.0.1:1", "10.0.0.2:1"]);
    assert_eq!(c.proxies.len(), 1);
    // An error inside an included file names that file and its line.
    std::fs::write(d.join("u/b.conf"), "\nserver 10.0.0.2:1 max_fails=-1;\n").unwrap();
    let e = parse_file(&d.join("nginx.conf")).unwrap_err();
    assert!(e.file.ends_with("u/b.conf"), "{e}");
    assert_eq!(at(&e), (2, 19));
    // A plain include that does not exist: nginx's open() message.
    std::fs::write(d.join("nginx.conf"), "events {}\ninclude missing.conf;\n").unwrap();
    let e = parse_file(&d.join("nginx.conf")).unwrap_err();
    assert!(
        e.message.starts_with("open() \"")
            && e.message
                .contains("missing.conf\" failed (2: No such file or directory)"),
        "{e}"
    );
    assert_eq!(at(&e), (2, 9));
    // A file including itself is stopped.
    std::fs::write(d.join("nginx.conf"), "events {}\ninclude nginx.conf;\n").unwrap();
    let e = parse_file(&d.join("nginx.conf")).unwrap_err();
    assert!(e.message.contains("include itself"), "{e}");
    // A `}` in an included file closes nothing: nginx refuses it.
    std::fs::write(d.join("s.conf"), "}\n").unwrap();
    std::fs::write(d.join("nginx.conf"), "events {}\nstream { include s.conf; }\n").unwrap();
    let e = parse_file(&d.join("nginx.conf")).unwrap_err();
    assert_eq!(e.message, "unexpected \"}\"");
}

#[test]
fn custom_blocks_are_not_checked_as_directives() {
    let c = cfg("events {}\nhttp {\n  types { text/html html htm; }\n  map $host $b { default 0; x.example 1; }\n  upstream a { server 10.0.0.1; }\n  server { location / { if ($b) { proxy_pass http://a; } } }\n}\n");
    assert_eq!(c.proxies.len(), 1);
    assert_eq!(c.proxies[0].upstream, Some(0));
}

#[test]
fn every_bad_fixture_is_refused_at_its_line() {
    let cases = [
        (
            "proxy-conect-timeout.conf",
            10,
            "did you mean \"proxy_connect_timeout\"",
        ),
        (
            "no-servers.conf",
            6,
            "no servers are inside upstream \"kube_apiserver\"",
        ),
        (
            "undefined-upstream-stream.conf",
            9,
            "no port in upstream \"kube_apiservers\"",
        ),
        ("undefined-upstream-http.conf", 10, "host not found in upstream \"ap\""),
        ("fail-timeout-ms.conf", 5, "invalid parameter \"fail_timeout=500ms\""),
        (
            "connect-timeout-unit.conf",
            10,
            "\"proxy_connect_timeout\" directive invalid value",
        ),
        (
            "arity.conf",
            10,
            "invalid number of arguments in \"proxy_timeout\" directive",
        ),
        (
            "include-missing.conf",
            4,
            "upstreams.conf\" failed (2: No such file or directory)",
        ),
        (
            "keepalive-in-stream.conf",
            6,
            "\"keepalive\" directive is not allowed here",
        ),
        ("template.conf", 6, "render it first"),
        ("next-upstream-value.conf", 11, "invalid value \"http_5xx\""),
        ("plus-health-check.conf", 12, "unknown directive \"health_check\""),
    ];
    for (f, line, msg) in cases {
        let e = parse_file(&fixture(&format!("bad/{f}"))).unwrap_err();
        assert!(e.message.contains(msg) && e.line == line, "{f}: {e}");
        assert!(e.file.ends_with(f), "{f}: {e}");
    }
    // The list above covers the directory.
    let n = std::fs::read_dir(fixture("bad")).unwrap().count();
    assert_eq!(n, cases.len());
}

#[test]
fn a_loaded_mail_module_s_block_is_skipped_and_an_unloaded_one_refused() {
    let mail = "events {}\nmail { server { listen 25; protocol smtp; } }\n";
    let e = err(mail);
    assert!(e.message.contains("unknown directive \"mail\""), "{e}");
    let loaded = format!("load_module modules/ngx_mail_module.so;\n{mail}");
    assert!(cfg(&loaded).proxies.is_empty());
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        let _ = parse_str("nginx.conf", &text, Path::new("/nonexistent"));
    }

    #[test]
    fn nginx_shaped_text_never_panics(
        words in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::strategy::Just("upstream u {".to_string()),
                proptest::strategy::Just("server 10.0.0.1:1 max_fails=2;".to_string()),
                proptest::strategy::Just("server {".to_string()),
                proptest::strategy::Just("listen 1;".to_string()),
                proptest::strategy::Just("proxy_pass u;".to_string()),
                proptest::strategy::Just("location / {".to_string()),
                proptest::strategy::Just("proxy_pass http://u;".to_string()),
                proptest::strategy::Just("stream {".to_string()),
                proptest::strategy::Just("http {".to_string()),
                proptest::strategy::Just("events {}".to_string()),
                proptest::strategy::Just("}".to_string()),
                proptest::strategy::Just("\"a;{\" '}'".to_string()),
                proptest::strategy::Just("# c {".to_string()),
                proptest::strategy::Just("include x*.conf;".to_string()),
                proptest::strategy::Just("proxy_next_upstream error timeout;".to_string()),
                "[a-z_]{1,12}( [a-z0-9=:.]{1,8}){0,3};",
            ],
            0..40,
        )
    ) {
        let _ = parse_str("nginx.conf", &words.join("\n"), Path::new("/nonexistent"));
    }
}
