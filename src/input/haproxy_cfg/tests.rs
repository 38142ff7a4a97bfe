//! Unit tests of the HAProxy configuration parser.

use super::lex::tokenize;
use super::*;
use super::{parse_files, ReadOptions};
use proptest::prelude::*;

fn pos(line: u32, column: u32) -> Pos {
    Pos { file: 0, line, column }
}

fn ok(text: &str) -> HaproxyConfig {
    match parse(text) {
        Ok(cfg) => cfg,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn err(text: &str) -> ParseError {
    match parse(text) {
        Ok(cfg) => panic!("expected an error, got {cfg:?}"),
        Err(e) => e,
    }
}

fn server<'a>(cfg: &'a HaproxyConfig, name: &str) -> &'a ServerCheck {
    match cfg.servers.iter().find(|s| s.server == name) {
        Some(s) => s,
        None => panic!("no server {name} in {cfg:?}"),
    }
}

fn us(v: &Option<Located<u64>>) -> Option<u64> {
    v.as_ref().map(|l| l.value)
}

fn n(v: &Option<Located<u32>>) -> Option<u32> {
    v.as_ref().map(|l| l.value)
}

fn http(s: &ServerCheck) -> Option<(&str, &str)> {
    s.http_check.as_ref().map(|h| (h.method.as_str(), h.path.as_str()))
}

const KUBEADM: &str = "\
# /etc/haproxy/haproxy.cfg
global
    log /dev/log local0
    log /dev/log local1 notice
    daemon

defaults
    mode                    http
    log                     global
    option                  httplog
    option                  dontlognull
    option http-server-close
    option forwardfor       except 127.0.0.0/8
    option                  redispatch
    retries                 1
    timeout http-request    10s
    timeout queue           20s
    timeout connect         5s
    timeout client          20s
    timeout server          20s
    timeout http-keep-alive 10s
    timeout check           10s

frontend apiserver
    bind *:6443
    mode tcp
    option tcplog
    default_backend apiserver

backend apiserver
    option httpchk GET /healthz
    http-check expect status 200
    mode tcp
    balance     roundrobin
    default-server inter 10s downinter 5s rise 2 fall 2 slowstart 60s maxconn 250 maxqueue 256 weight 100
    server cp1 10.0.0.11:6443 check check-ssl verify none
    server cp2 10.0.0.12:6443 check check-ssl verify none
    server cp3 10.0.0.13:6443 check check-ssl verify none
";

#[test]
fn kubeadm_apiserver() {
    let cfg = ok(KUBEADM);
    assert_eq!(cfg.spread_checks, None);
    assert_eq!(cfg.servers.len(), 3);
    let s = server(&cfg, "cp2");
    assert_eq!(s.section, "apiserver");
    assert_eq!(s.address, "10.0.0.12:6443");
    assert_eq!(s.pos, pos(37, 5));
    assert!(s.check);
    assert_eq!(us(&s.inter), Some(10_000_000));
    assert_eq!(s.inter.as_ref().map(|l| l.pos), Some(pos(35, 26)));
    assert_eq!(us(&s.downinter), Some(5_000_000));
    assert_eq!(us(&s.fastinter), None);
    assert_eq!(n(&s.rise), Some(2));
    assert_eq!(n(&s.fall), Some(2));
    assert_eq!(s.fall.as_ref().map(|l| l.pos), Some(pos(35, 55)));
    assert_eq!(us(&s.timeout_check), Some(10_000_000));
    assert_eq!(s.timeout_check.as_ref().map(|l| l.pos), Some(pos(22, 29)));
    assert_eq!(us(&s.timeout_connect), Some(5_000_000));
    assert_eq!(
        s.http_check,
        Some(HttpCheck {
            method: "GET".into(),
            path: "/healthz".into(),
            pos: pos(31, 24),
            expects: vec![Located {
                value: "status 200".into(),
                pos: pos(32, 23),
            }],
        })
    );
}

#[test]
fn check_position_and_tls() {
    let cfg = ok(KUBEADM);
    let s = server(&cfg, "cp2");
    assert_eq!(s.check_pos, Some(pos(37, 31)));
    assert!(s.check_ssl);
    let cfg = ok("\
backend a
    default-server check ssl
    server inherit 10.0.0.1:443
    server own_port 10.0.0.2:443 port 8080
    server no_check_ssl 10.0.0.3:443 no-check-ssl
    server forced 10.0.0.4:80 no-ssl check-ssl port 6443
    server plain 10.0.0.5:80 no-ssl
backend b
    option httpchk
    http-check connect ssl
    http-check send meth GET uri /readyz
    server s 10.0.0.6:6443 check
backend c
    option httpchk GET /readyz
    server s 10.0.0.7:6443 check
");
    let tls: Vec<_> = cfg.servers.iter().map(|s| (s.server.as_str(), s.check_ssl)).collect();
    assert_eq!(
        tls,
        vec![
            ("inherit", true),
            ("own_port", false),
            ("no_check_ssl", false),
            ("forced", true),
            ("plain", false),
            ("s", true),
            ("s", false),
        ]
    );
    assert_eq!(cfg.servers[0].check_pos, Some(pos(2, 20)));
}

#[test]
fn kubeadm_newer_http_check_send_form() {
    let cfg = ok("\
backend apiserverbackend
    option httpchk
    http-check connect ssl
    http-check send meth GET uri /healthz
    http-check expect status 200
    mode tcp
    server cp1 ${HOST1_ADDRESS}:${APISERVER_SRC_PORT} check verify none
");
    let s = &cfg.servers[0];
    assert_eq!(s.server, "cp1");
    assert_eq!(s.address, "${HOST1_ADDRESS}:${APISERVER_SRC_PORT}");
    assert_eq!(http(s), Some(("GET", "/healthz")));
    assert_eq!(s.http_check.as_ref().map(|h| h.pos), Some(pos(4, 34)));
}

#[test]
fn openshift_readyz() {
    let cfg = ok("\
global
  spread-checks 5
defaults
  timeout connect 10s
  timeout check 10s
listen api-server-6443
  bind *:6443
  mode tcp
  option httpchk GET /readyz HTTP/1.0
  option log-health-checks
  balance roundrobin
  server bootstrap 192.168.1.10:6443 verify none check check-ssl inter 1s fall 2 rise 3 backup
  server master-0 192.168.1.11:6443 verify none check check-ssl inter 1s fall 2 rise 3
");
    assert_eq!(
        cfg.spread_checks,
        Some(Located {
            value: 5,
            pos: pos(2, 17)
        })
    );
    assert_eq!(cfg.servers.len(), 2);
    for s in &cfg.servers {
        assert_eq!(s.section, "api-server-6443");
        assert!(s.check);
        assert_eq!(us(&s.inter), Some(1_000_000));
        assert_eq!(n(&s.fall), Some(2));
        assert_eq!(n(&s.rise), Some(3));
        assert_eq!(http(s), Some(("GET", "/readyz")));
    }
    assert_eq!(
        server(&cfg, "master-0").inter.as_ref().map(|l| l.pos),
        Some(pos(13, 71))
    );
}

#[test]
fn named_defaults_with_from() {
    let cfg = ok("\
defaults base
    option httpchk GET /healthz
    timeout check 2s
defaults other
    timeout check 7s
    default-server inter 3s
backend a from base
    server a1 10.0.0.1:80 check
backend b
    server b1 10.0.0.2:80 check
defaults derived from base
    timeout connect 1s
backend c from derived
    server c1 10.0.0.3:80 check
");
    let a1 = server(&cfg, "a1");
    assert_eq!(http(a1), Some(("GET", "/healthz")));
    assert_eq!(us(&a1.timeout_check), Some(2_000_000));
    assert_eq!(us(&a1.inter), None);
    // Without `from`, the latest defaults section (named or not) applies.
    let b1 = server(&cfg, "b1");
    assert_eq!(http(b1), None);
    assert_eq!(us(&b1.timeout_check), Some(7_000_000));
    assert_eq!(us(&b1.inter), Some(3_000_000));
    let c1 = server(&cfg, "c1");
    assert_eq!(http(c1), Some(("GET", "/healthz")));
    assert_eq!(us(&c1.timeout_check), Some(2_000_000));
    assert_eq!(us(&c1.timeout_connect), Some(1_000_000));
}

#[test]
fn defaults_from_unknown_or_ambiguous_is_an_error() {
    let e = err("backend a from nope\n");
    assert_eq!((e.line, e.column), (1, 16));
    let e = err("defaults x\ndefaults x\nbackend a from x\n");
    assert_eq!((e.line, e.column), (3, 16));
    let e = err("defaults x\nbackend a from x\ndefaults x\n");
    assert_eq!((e.line, e.column), (3, 10));
}

#[test]
fn http_check_send_overrides_option() {
    let cfg = ok("\
backend a
    option httpchk
    http-check send meth GET uri /readyz
    server s 10.0.0.1:6443 check
");
    assert_eq!(http(&cfg.servers[0]), Some(("GET", "/readyz")));
}

#[test]
fn option_after_send_overwrites_only_given_fields() {
    let cfg = ok("\
backend a
    http-check send meth GET uri /readyz
    option httpchk
    server s 10.0.0.1:80 check
backend b
    http-check send meth GET uri /readyz
    option httpchk /x
    server s 10.0.0.1:80 check
");
    assert_eq!(http(&cfg.servers[0]), Some(("GET", "/readyz")));
    assert_eq!(http(&cfg.servers[1]), Some(("GET", "/x")));
}

#[test]
fn option_httpchk_forms() {
    let cfg = ok("\
backend a
    option httpchk
    server s 1.1.1.1:80 check
backend b
    option httpchk /health
    server s 1.1.1.1:80 check
backend c
    option httpchk HEAD /h HTTP/1.1\\r\\nHost:\\ example.com
    server s 1.1.1.1:80 check
backend d
    option httpchk GET /h HTTP/1.1 example.com
    server s 1.1.1.1:80 check
");
    let got: Vec<_> = cfg.servers.iter().map(http).collect();
    assert_eq!(
        got,
        vec![
            Some(("OPTIONS", "/")),
            Some(("OPTIONS", "/health")),
            Some(("HEAD", "/h")),
            Some(("GET", "/h")),
        ]
    );
    assert_eq!(cfg.servers[0].http_check.as_ref().map(|h| h.pos), Some(pos(2, 5)));
    let e = err("backend a\n    option httpchk GET / HTTP/1.1 host extra\n");
    assert_eq!((e.line, e.column), (2, 40));
}

#[test]
fn http_check_send_without_option_is_unused() {
    let cfg = ok("\
backend a
    http-check send meth GET uri /readyz
    server s 10.0.0.1:80 check
");
    assert_eq!(http(&cfg.servers[0]), None);
}

#[test]
fn inherited_option_is_replaced_by_own_http_check_rules() {
    // HAProxy 2.2+: the backend's own http-check ruleset replaces the inherited one.
    let cfg = ok("\
defaults
    option httpchk GET /healthz
backend send_only
    http-check send uri /readyz
    server s 10.0.0.1:80 check
backend expect_only
    http-check expect status 200
    server s 10.0.0.1:80 check
backend inherit
    server s 10.0.0.1:80 check
");
    assert_eq!(http(&cfg.servers[0]), Some(("OPTIONS", "/readyz")));
    assert_eq!(http(&cfg.servers[1]), Some(("", "")));
    assert_eq!(cfg.servers[1].http_check.as_ref().map(|h| h.pos), Some(pos(7, 5)));
    assert_eq!(http(&cfg.servers[2]), Some(("GET", "/healthz")));
}

#[test]
fn other_check_options_disable_http() {
    let cfg = ok("\
defaults
    option httpchk GET /healthz
backend a
    option ssl-hello-chk
    server s 10.0.0.1:443 check
backend b
    option tcp-check
    http-check send uri /x
    server s 10.0.0.1:443 check
backend c
    option mysql-check user haproxy
    option httpchk /back
    server s 10.0.0.1:443 check
");
    assert_eq!(http(&cfg.servers[0]), None);
    assert_eq!(http(&cfg.servers[1]), None);
    assert_eq!(http(&cfg.servers[2]), Some(("OPTIONS", "/back")));
}

#[test]
fn no_option_httpchk_is_rejected_like_haproxy() {
    let e = err("backend a\n    no option httpchk\n");
    assert_eq!((e.line, e.column), (2, 15));
    assert!(e.message.contains("not supported"), "{e}");
    ok("defaults\n    no option redispatch\n    no log\n");
    let e = err("backend a\n  no timeout check\n");
    assert_eq!((e.line, e.column), (2, 3));
}

#[test]
fn default_server_applies_only_to_later_servers() {
    let cfg = ok("\
defaults
    default-server fall 5
backend a
    server early 10.0.0.1:80 check
    default-server inter 2s rise 4
    server late 10.0.0.2:80
    default-server check
    server later 10.0.0.3:80 no-check inter 3s
    server last 10.0.0.4:80
");
    let early = server(&cfg, "early");
    assert_eq!(
        (us(&early.inter), n(&early.rise), n(&early.fall)),
        (None, None, Some(5))
    );
    assert!(early.check);
    let late = server(&cfg, "late");
    assert_eq!(us(&late.inter), Some(2_000_000));
    assert_eq!(n(&late.rise), Some(4));
    assert_eq!(n(&late.fall), Some(5));
    assert_eq!(late.fall.as_ref().map(|l| l.pos), Some(pos(2, 25)));
    assert!(!late.check);
    let later = server(&cfg, "later");
    assert!(!later.check);
    assert_eq!(us(&later.inter), Some(3_000_000));
    assert!(server(&cfg, "last").check);
}

#[test]
fn proxy_settings_apply_regardless_of_order() {
    let cfg = ok("\
backend a
    server s 10.0.0.1:80 check
    timeout check 3s
    option httpchk GET /late
");
    assert_eq!(us(&cfg.servers[0].timeout_check), Some(3_000_000));
    assert_eq!(http(&cfg.servers[0]), Some(("GET", "/late")));
}

#[test]
fn server_argument_skipping() {
    let cfg = ok("\
backend a
    server s 10.0.0.1:80 cookie check weight 10 agent-inter 5s source 1.2.3.4 usesrc clientip maxconn 10 inter 4s set-proxy-v2-tlv-fmt(0x20) %[fc_pp_tlv(0x20)] fall 3
    server t 10.0.0.1:80 agent-send check
");
    let s = server(&cfg, "s");
    assert!(!s.check, "'check' was the cookie value");
    assert_eq!(us(&s.inter), Some(4_000_000));
    assert_eq!(n(&s.fall), Some(3));
    assert!(!server(&cfg, "t").check);
    assert!(ok("backend a\n    server s 10.0.0.1:80 check weight\n").servers[0].check);
    let e = err("backend a\n    server s 10.0.0.1:80 check fall\n");
    assert_eq!((e.line, e.column), (2, 32));
    // HAProxy: "unknown keyword 'unknown-flag'" (haproxy -c 2.6.12).
    let e = err("backend a\n    server s 10.0.0.1:80 check unknown-flag\n");
    assert_eq!((e.line, e.column), (2, 32));
}

#[test]
fn time_units() {
    let cases: &[(&str, u64)] = &[
        ("500", 500_000),
        ("500ms", 500_000),
        ("2s", 2_000_000),
        ("1m", 60_000_000),
        ("1h", 3_600_000_000),
        ("1d", 86_400_000_000),
        ("100us", 1_000),
        ("1500us", 2_000),
        ("2000us", 2_000),
        ("2147483647", 2_147_483_647_000),
        ("24d", 24 * 86_400_000_000),
    ];
    for (text, expected) in cases {
        let cfg = ok(&format!("backend a\n  server s 1.2.3.4:80 check inter {text}\n"));
        assert_eq!(us(&cfg.servers[0].inter), Some(*expected), "{text}");
    }
}

#[test]
fn invalid_times_point_at_the_token() {
    let text = "\
global
    daemon
defaults
    timeout check 5s
backend be
    option httpchk
    server s1 10.0.0.1:80 check inter 2sec
";
    let e = err(text);
    assert_eq!((e.line, e.column), (7, 39));
    assert!(e.message.contains("2sec"), "{e}");
    assert_eq!(e.to_string(), format!("line 7, column 39: {}", e.message));
    for bad in [
        "1.5s",
        "-1",
        "2sec",
        "s",
        "0",
        "0us",
        "2147483648",
        "25d",
        "99999999999999999999999",
        "1x",
    ] {
        let e = err(&format!("backend a\n  server s 1.2.3.4:80 fastinter {bad}\n"));
        assert_eq!((e.line, e.column), (2, 33), "{bad}: {e}");
    }
    let e = err("backend a\n  server s 1.2.3.4:80 inter\n");
    assert_eq!((e.line, e.column), (2, 23));
}

#[test]
fn timeouts_accept_zero_and_validate() {
    let cfg = ok("backend a\n  timeout check 0\n  timeout connect 100us\n  server s x:1\n");
    assert_eq!(us(&cfg.servers[0].timeout_check), Some(0));
    assert_eq!(us(&cfg.servers[0].timeout_connect), Some(1_000));
    let e = err("defaults\n\ttimeout connect 5 s\n");
    assert_eq!((e.line, e.column), (2, 20));
    let e = err("defaults\n\ttimeout\tcheck\t2q\n");
    assert_eq!((e.line, e.column), (2, 16));
    let e = err("defaults\n  contimeout 5000\n");
    assert_eq!((e.line, e.column), (2, 3));
}

#[test]
fn fall_and_rise_must_be_positive_integers() {
    for bad in ["0", "-1", "1.5", "x", "2x", "4294967296", "2147483648"] {
        let e = err(&format!("backend a\n  server s 1.2.3.4:80 rise {bad}\n"));
        assert_eq!((e.line, e.column), (2, 28), "{bad}");
    }
}

#[test]
fn spread_checks_range() {
    let e = err("global\n    spread-checks 60\n");
    assert_eq!((e.line, e.column), (2, 19));
    assert!(e.message.contains("0..50"), "{e}");
    err("global\n    spread-checks -1\n");
    err("global\n    spread-checks\n");
    err("global\n    spread-checks 5 6\n");
    let cfg = ok("global\n    spread-checks 50\n");
    assert_eq!(cfg.spread_checks.map(|s| s.value), Some(50));
    let cfg = ok("global\n    spread-checks 3\nglobal\n    spread-checks 60\n");
    assert_eq!(cfg.spread_checks.map(|s| s.value), Some(3));
}

#[test]
fn sections_and_out_of_section_keywords() {
    let e = err("# comment\n\n   server s 1.2.3.4:80\n");
    assert_eq!((e.line, e.column), (3, 4));
    let cfg = ok("\
userlist admins
    user admin password $6$xyz
peers mypeers
    server s1 10.0.0.1:1024
resolvers dns
    nameserver ns1 10.0.0.2:53
ring myring
    server r 127.0.0.1:514
cache c
    total-max-size 4
program p
    command /bin/true
http-errors e
log-forward lf
crt-store cs
traces
mailers m
    mailer smtp1 192.168.0.1:587
backend b
    server s 1.2.3.4:80 check
");
    assert_eq!(cfg.servers.len(), 1);
    assert_eq!(cfg.servers[0].section, "b");
    let e = err("frontend f\n    server s 1.2.3.4:80\n");
    assert_eq!((e.line, e.column), (2, 5));
    let e = err("defaults\n    server s 1.2.3.4:80\n");
    assert_eq!((e.line, e.column), (2, 5));
    let e = err("backend\n");
    assert_eq!((e.line, e.column), (1, 1));
    let e = err("backend a\nbackend a\n");
    assert_eq!((e.line, e.column), (2, 9));
    let e = err("backend a/b\n");
    assert_eq!((e.line, e.column), (1, 9));
    ok("frontend a\nbackend a\n");
}

#[test]
fn server_template_and_missing_address() {
    let cfg = ok("backend b\n  server-template web 1-3 web.svc.local:80 check inter 2s\n");
    let s = &cfg.servers[0];
    assert_eq!((s.server.as_str(), s.address.as_str()), ("web", "web.svc.local:80"));
    assert_eq!(us(&s.inter), Some(2_000_000));
    let e = err("backend b\n  server onlyname\n");
    assert_eq!((e.line, e.column), (2, 3));
    let e = err("backend b\n  server web/1 1.2.3.4:80\n");
    assert_eq!((e.line, e.column), (2, 10));
}

#[test]
fn tokenizer_quotes_escapes_comments_and_crlf() {
    let cfg = ok(
            "backend b\r\n\tserver \"my-srv\" 'a b:80' check inter \"2s\" # inter 9s\r\n  server x\\x79 1.2.3.4:80 cookie a\\x20fall#c\r\n",
        );
    let s = &cfg.servers[0];
    assert_eq!(s.server, "my-srv");
    assert_eq!(s.address, "a b:80");
    assert_eq!(us(&s.inter), Some(2_000_000));
    assert_eq!(s.inter.as_ref().map(|l| l.pos), Some(pos(2, 39)));
    let t = &cfg.servers[1];
    assert_eq!(t.server, "xy");
    assert!(!t.check);
    // "a\x20fall" is one word ("a fall"), the cookie value; "#c" starts the comment.
    assert_eq!(n(&t.fall), None);
    // An escaped blank inside a keyword makes an unknown keyword, as in HAProxy.
    let e = err("backend b\n  server x 1.2.3.4:80 fall\\x20 3\n");
    assert!(e.message.contains("unknown keyword 'fall '"), "{e}");

    let toks = tokenize(
        r#"a\#b "c\"d" 'e\f' "$HOME" "${NOPE-x}y" "$NOPE" \x41 g\q '$HOME'"#,
        1,
        0,
        &|n| (n == "HOME").then(|| "/root".to_string()),
    )
    .unwrap_or_default();
    let words: Vec<_> = toks.iter().map(|t| t.text.as_str()).collect();
    // "$NOPE" expands to nothing and the word disappears; single quotes do not expand.
    assert_eq!(words, vec!["a#b", "c\"d", "e\\f", "/root", "xy", "A", "g\\q", "$HOME"]);
    assert!(toks[3].env && !toks[7].env);
}

#[test]
fn tokenizer_errors() {
    let e = err("backend b\n  server s \"1.2.3.4:80 check\n");
    assert_eq!((e.line, e.column), (2, 12));
    let e = err("backend b\n  server s 1.2.3.4:80 \\xZZ\n");
    assert_eq!((e.line, e.column), (2, 23));
    let e = err("backend b\n  server s \"\" 1.2.3.4:80\n");
    assert_eq!((e.line, e.column), (2, 12));
    assert!(e.message.contains("empty"), "{e}");
    let long = format!("backend b\n  server s 1.2.3.4:80{}\n", " backup".repeat(62));
    let e = err(&long);
    assert_eq!(e.line, 2);
    ok(&format!("backend b\n  server s 1.2.3.4:80{}\n", " backup".repeat(61)));
}

#[test]
fn directives_and_scopes() {
    ok("[scope]\nglobal\n  .notice \"hello\"\n  .warning hi\n");
    let e = err("global\n  .if defined(FOO)\n");
    assert_eq!((e.line, e.column), (2, 3));
    let e = err(".alert \"stop here\"\n");
    assert!(e.message.contains("stop here"), "{e}");
    err(".bogus\n");
}

#[test]
fn http_check_rule_order_errors() {
    let e = err("backend b\n  option httpchk\n  http-check send uri /a\n  http-check send uri /b\n");
    assert_eq!((e.line, e.column), (4, 14));
    let e = err("backend b\n  option httpchk\n  http-check send uri /a\n  http-check send bogus\n");
    assert_eq!((e.line, e.column), (4, 19));
    let e = err("backend b\n  http-check frobnicate\n");
    assert_eq!((e.line, e.column), (2, 14));
    ok(
            "backend b\n  option httpchk\n  http-check send-state\n  http-check disable-on-404\n  http-check comment hi\n  http-check set-var(check.x) int(1)\n",
        );
}

#[test]
fn server_without_check_is_listed() {
    let cfg = ok("listen l\n  bind :80\n  server s 1.2.3.4:80\n");
    assert_eq!(cfg.servers.len(), 1);
    assert!(!cfg.servers[0].check);
    assert_eq!(cfg.servers[0].section, "l");
}

#[test]
fn odd_input_does_not_panic() {
    for text in [
        "",
        "\n",
        "\r",
        "\0",
        "#",
        "\"",
        "'",
        "\\",
        "\\x",
        "\\x4",
        "no",
        "default",
        "no option",
        "global\nspread-checks",
        "backend b\nserver",
        "backend b\ndefault-server from",
        "backend b\nhttp-check",
        "backend b\nhttp-check send hdr x",
        "\u{feff}global",
        "é\tü",
        "defaults from",
        "defaults a from",
        "backend b from",
    ] {
        let _ = parse(text);
    }
}

#[test]
fn huge_inputs() {
    let mut text = String::from("global\n    spread-checks 2\nbackend b\n");
    for i in 0..1_000_000 {
        if i % 100_000 == 0 {
            text.push_str("    server s 10.0.0.1:80 check inter 1s\n");
        } else if i % 2 == 0 {
            text.push_str("    timeout check 5s # comment\n");
        } else {
            text.push('\n');
        }
    }
    let cfg = ok(&text);
    assert_eq!(cfg.servers.len(), 10);
    let long_word = "x".repeat(2_000_000);
    let cfg = ok(&format!("backend b\n    server s {long_word} check\n"));
    assert_eq!(cfg.servers[0].address.len(), 2_000_000);
    let e = err(&format!("backend b\n    server s {long_word} inter 2sec\n"));
    assert_eq!(e.column, 2_000_000 + 21);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn config_alphabet_never_panics(
        text in "[ a-z0-9\\t\\n\\r#\"'\\\\$.:/()-]{0,600}",
    ) {
        let _ = parse(&text);
    }

    #[test]
    fn shuffled_lines_never_panic(
        lines in Just(KUBEADM.lines().collect::<Vec<_>>()).prop_shuffle(),
        keep in proptest::collection::vec(any::<bool>(), 40),
    ) {
        let all = lines.join("\n");
        let _ = parse(&all);
        let some: Vec<&str> = lines
            .iter()
            .zip(keep.iter().cycle())
            .filter(|(_, k)| **k)
            .map(|(l, _)| *l)
            .collect();
        let _ = parse(&some.join("\r\n"));
    }

    #[test]
    fn mutated_realistic_config_never_panics(
        idx in 0..KUBEADM.len(),
        insert in "[ -~\\t\\r\\n]{0,8}",
    ) {
        let mut text = KUBEADM.to_string();
        let mut at = idx;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.insert_str(at, &insert);
        let _ = parse(&text);
    }
}

#[test]
fn files_read_as_one_configuration_keep_their_index() {
    let defaults = "defaults\n  option httpchk GET /readyz\n  default-server inter 5s fall 2\n";
    let api = "backend api\n  server cp1 10.0.0.1:6443 check\n";
    let cfg = parse_files(&[defaults, api], &ReadOptions::default()).unwrap();
    let s = &cfg.servers[0];
    assert_eq!(s.http_check.as_ref().map(|h| h.path.as_str()), Some("/readyz"));
    assert_eq!(s.inter.as_ref().map(|l| l.pos.file), Some(0));
    assert_eq!(s.pos.file, 1);
    let e = parse_files(
        &[defaults, "backend b\n  server s 1.2.3.4:80 check intr 2s\n"],
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert_eq!((e.file, e.line, e.column), (1, 2, 29));
    // A block opened in one file must close in it.
    let e = parse_files(&[".if 1\n", ".endif\n"], &ReadOptions::default()).unwrap_err();
    assert_eq!((e.file, e.line), (0, 1));
}

#[test]
fn conditional_blocks_select_lines() {
    let mut opts = ReadOptions::default();
    opts.env.insert("FAST".to_string(), "1".to_string());
    let text = "backend b\n.if defined(FAST)\n  server s 1.2.3.4:80 check inter 1s\n.elif 1\n  server s 1.2.3.4:80 check inter 9s\n.else\n  server s 1.2.3.4:80 check inter 8s\n.endif\n.if 0\n  server t 1.2.3.4:81 check\n  .if nosuchpredicate(x)\n  .endif\n.endif\n";
    let cfg = parse_files(&[text], &opts).unwrap();
    assert_eq!(cfg.servers.len(), 1);
    assert_eq!(us(&cfg.servers[0].inter), Some(1_000_000));
    let cfg = ok(text);
    assert_eq!(us(&cfg.servers[0].inter), Some(9_000_000));
    for (bad, line) in [
        (".endif\n", 1),
        (".if 1\n.else\n.else\n.endif\n", 3),
        (".else\n", 1),
        (".if foo\n.endif\n", 1),
    ] {
        let e = err(bad);
        assert_eq!(e.line, line, "{bad:?}: {e}");
    }
}

#[test]
fn a_last_line_without_newline_is_refused_as_haproxy_refuses_it() {
    let e = err("backend b\n  server s 10.0.0.1:80");
    assert_eq!((e.line, e.column), (2, 23));
    assert!(
        e.message
            .starts_with("Missing LF on last line, file might have been truncated at position 23"),
        "{e}"
    );
    // Even a comment or blanks; an empty file or a final newline is fine.
    assert_eq!(err("backend b\n# end").line, 2);
    assert_eq!(err("backend b\n  ").column, 3);
    ok("");
    ok("backend b\n");
    // In a split configuration the error names the file.
    let e = parse_files(&["backend b\n", "backend c"], &ReadOptions::default()).unwrap_err();
    assert_eq!((e.file, e.line, e.column), (1, 1, 10));
}
