//! Terraform plans and states as `terraform show -json` prints them: `aws_lb_target_group`
//! (`health_check`, `target_health_state`), `google_compute_health_check` and
//! `google_compute_region_health_check`, the legacy `google_compute_http(s)_health_check`, and
//! `azurerm_lb_probe`; every value located at its attribute in the JSON.
//!
//! Positions: `serde_json` with the `raw_value` feature parses each object into borrowed
//! `&RawValue` slices of the input, and a slice's address minus the input's address is its byte
//! offset. This needs no extra crate (the span-keeping JSON crates are unmaintained) and only
//! walks the paths graceline reads, so a large plan costs a few linear passes.
//!
//! A plan holds the values as they will be after apply (`planned_values`); a state holds them in
//! `values`. Attributes the provider only knows after apply are absent: graceline then applies
//! the provider's documented default, located at the enclosing block:
//! - `aws_lb_target_group.health_check` (hashicorp/terraform-provider-aws
//!   website/docs/r/lb_target_group.html.markdown): interval 30, thresholds 3/3, protocol HTTP,
//!   path `/`, `matcher` read as ELBv2 success codes; the timeout is AWS's protocol default from
//!   the profile (NLB 6 s HTTP, 10 s TCP/HTTPS; ALB 5 s). Without a `health_check` block the
//!   provider sends no settings (`resourceTargetGroupCreate`) and every value is AWS's default for
//!   the target group's protocol, from the profile. Target-group protocol TCP/TLS/UDP/TCP_UDP (or target type `alb`) means an NLB,
//!   HTTP/HTTPS an ALB; GENEVE (Gateway LB) and lambda target groups are not modeled and skipped.
//! - `google_compute_*health_check` (terraform-provider-google compute_health_check.html.markdown,
//!   compute_http_health_check.html.markdown): interval 5, timeout 5, thresholds 2/2, path `/`.
//! - `azurerm_lb_probe` (terraform-provider-azurerm lb_probe_resource.go): protocol Tcp,
//!   interval 15, probe_threshold 1; `number_of_probes` is ignored by the platform
//!   (openshift/installer#9111).

use super::yaml::Text;
use crate::error::{InputError, Loc};
use crate::provider::{aws, azure, gcp, LbSettings, Located, Protocol};
use crate::scenario::LbInput;
use crate::time::Micros;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// True when a JSON document looks like `terraform show -json` output.
pub fn looks_like(text: &str) -> bool {
    match serde_json::from_str::<BTreeMap<String, &RawValue>>(text) {
        Ok(m) => {
            m.contains_key("format_version")
                && ["planned_values", "values", "terraform_version"]
                    .iter()
                    .any(|k| m.contains_key(*k))
        }
        Err(_) => false,
    }
}

/// A JSON object whose members remember where they are.
struct Obj<'a> {
    members: BTreeMap<String, &'a RawValue>,
    at: usize,
}

struct Reader<'t, 'a> {
    t: &'t Text<'a>,
}

#[derive(Deserialize)]
struct Resource<'a> {
    address: Option<String>,
    mode: Option<String>,
    #[serde(rename = "type")]
    ty: Option<String>,
    #[serde(borrow)]
    values: Option<&'a RawValue>,
}

impl<'a> Reader<'_, 'a> {
    fn offset(&self, raw: &RawValue) -> usize {
        (raw.get().as_ptr() as usize).saturating_sub(self.t.text.as_ptr() as usize)
    }

    fn loc(&self, offset: usize) -> Loc {
        self.t.loc_of_offset(offset)
    }

    fn json_error(&self, base: usize, e: &serde_json::Error, what: &str) -> InputError {
        // serde_json counts lines and columns within the slice it parsed.
        let base_loc = self.loc(base);
        let mut loc = self.loc(base);
        if e.line() > 1 {
            loc.line = base_loc.line + u32::try_from(e.line() - 1).unwrap_or(0);
            loc.column = u32::try_from(e.column().max(1)).unwrap_or(1);
        } else {
            loc.column = base_loc.column + u32::try_from(e.column().saturating_sub(1)).unwrap_or(0);
        }
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg);
        InputError::new(
            loc,
            "",
            format!("malformed JSON ({what}): {}", crate::scenario::words::json_syntax(msg)),
        )
    }

    fn obj(&self, raw: &'a RawValue, what: &str) -> Result<Obj<'a>, InputError> {
        let at = self.offset(raw);
        let members = serde_json::from_str::<BTreeMap<String, &'a RawValue>>(raw.get())
            .map_err(|e| self.json_error(at, &e, what))?;
        Ok(Obj { members, at })
    }

    fn list(&self, raw: &'a RawValue, what: &str) -> Result<Vec<&'a RawValue>, InputError> {
        let at = self.offset(raw);
        if raw.get() == "null" {
            return Ok(Vec::new());
        }
        serde_json::from_str::<Vec<&'a RawValue>>(raw.get()).map_err(|e| self.json_error(at, &e, what))
    }

    fn member(&self, o: &Obj<'a>, key: &str) -> Option<&'a RawValue> {
        o.members.get(key).copied().filter(|r| r.get() != "null")
    }

    /// A `port` attribute (number or numeric string) as the selection's traffic port; anything
    /// else (`traffic-port`, absent) gives no port.
    fn port(&self, o: &Obj<'a>) -> Vec<u16> {
        self.port_named(o, "port")
    }

    /// Like [`Self::port`] for another attribute name.
    fn port_named(&self, o: &Obj<'a>, key: &str) -> Vec<u16> {
        let Some(raw) = self.member(o, key) else {
            return Vec::new();
        };
        let text = raw.get().trim_matches('"');
        text.parse::<u16>().ok().filter(|p| *p > 0).into_iter().collect()
    }

    /// The first object of a nested block (`health_check = [{...}]`), if any.
    fn block(&self, o: &Obj<'a>, key: &str) -> Result<Option<Obj<'a>>, InputError> {
        let Some(raw) = self.member(o, key) else {
            return Ok(None);
        };
        match self.list(raw, key)?.first() {
            Some(first) => Ok(Some(self.obj(first, key)?)),
            None => Ok(None),
        }
    }

    fn located<T>(&self, value: T, raw: &RawValue) -> Located<T> {
        Located {
            value,
            loc: self.loc(self.offset(raw)),
            from_profile: false,
        }
    }

    fn default<T>(&self, value: T, at: usize) -> Option<Located<T>> {
        Some(Located {
            value,
            loc: self.loc(at),
            from_profile: true,
        })
    }

    fn err(&self, raw: &RawValue, field: &str, message: impl Into<String>) -> InputError {
        InputError::new(self.loc(self.offset(raw)), field, message)
    }

    fn string(&self, o: &Obj<'a>, key: &str, field: &str) -> Result<Option<(String, &'a RawValue)>, InputError> {
        let Some(raw) = self.member(o, key) else {
            return Ok(None);
        };
        match serde_json::from_str::<String>(raw.get()) {
            Ok(s) => Ok(Some((s, raw))),
            Err(_) => Err(self.err(raw, field, format!("expected a string, got {}", raw.get()))),
        }
    }

    fn count(&self, o: &Obj<'a>, key: &str, field: &str) -> Result<Option<Located<u32>>, InputError> {
        let Some(raw) = self.member(o, key) else {
            return Ok(None);
        };
        match serde_json::from_str::<u32>(raw.get()) {
            Ok(n) => Ok(Some(self.located(n, raw))),
            Err(_) => Err(self.err(raw, field, format!("expected a whole number, got {}", raw.get()))),
        }
    }

    fn seconds(&self, o: &Obj<'a>, key: &str, field: &str) -> Result<Option<Located<Micros>>, InputError> {
        Ok(self.count(o, key, field)?.map(|n| Located {
            value: Micros::from_secs(i64::from(n.value)),
            loc: n.loc,
            from_profile: false,
        }))
    }

    fn boolean(&self, o: &Obj<'a>, key: &str, field: &str) -> Result<Option<Located<bool>>, InputError> {
        let Some(raw) = self.member(o, key) else {
            return Ok(None);
        };
        match serde_json::from_str::<bool>(raw.get()) {
            Ok(b) => Ok(Some(self.located(b, raw))),
            Err(_) => Err(self.err(raw, field, format!("expected true or false, got {}", raw.get()))),
        }
    }

    fn path(&self, o: &Obj<'a>, key: &str, field: &str) -> Result<Option<Located<String>>, InputError> {
        match self.string(o, key, field)? {
            Some((p, _)) if p.is_empty() => Ok(None),
            Some((p, raw)) if !p.starts_with('/') => Err(self.err(raw, field, format!("\"{p}\" must start with /"))),
            Some((p, raw)) => Ok(Some(self.located(p, raw))),
            None => Ok(None),
        }
    }
}

/// The settings a reader filled with a provider default (marked `from_profile`), as
/// (field, value, why) for the output: every value assumed rather than read is named.
fn assumed_of(s: &LbSettings, why: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut time = |name: &str, v: &Option<Located<Micros>>| {
        if let Some(v) = v.as_ref().filter(|v| v.from_profile) {
            out.push((name.to_string(), v.value.to_string(), why.to_string()));
        }
    };
    time("interval", &s.interval);
    time("timeout", &s.timeout);
    time("check_interval", &s.duration("check_interval"));
    for (name, v) in [
        ("healthy_threshold", &s.healthy_threshold),
        ("unhealthy_threshold", &s.unhealthy_threshold),
        ("probe_threshold", &s.count("probe_threshold")),
    ] {
        if let Some(v) = v.as_ref().filter(|v| v.from_profile) {
            out.push((name.to_string(), v.value.to_string(), why.to_string()));
        }
    }
    if let Some(p) = s.protocol.as_ref().filter(|v| v.from_profile) {
        out.push((
            "protocol".to_string(),
            format!("{:?}", p.value).to_lowercase(),
            why.to_string(),
        ));
    }
    if let Some(p) = s.path.as_ref().filter(|v| v.from_profile) {
        out.push(("path".to_string(), p.value.clone(), why.to_string()));
    }
    out
}

/// Reads every health check a plan or state describes.
pub fn lbs(t: &Text) -> Result<Vec<LbInput>, InputError> {
    let r = Reader { t };
    let top: BTreeMap<String, &RawValue> =
        serde_json::from_str(t.text).map_err(|e| r.json_error(0, &e, "terraform show -json output"))?;
    if !top.contains_key("format_version") {
        return Err(InputError::new(
            r.loc(0),
            "format_version",
            "JSON without format_version: not the output of `terraform show -json`",
        ));
    }
    let Some(values) = top
        .get("planned_values")
        .or_else(|| top.get("values"))
        .copied()
        .filter(|v| v.get() != "null")
    else {
        return Ok(Vec::new());
    };
    let values = r.obj(values, "values")?;
    let mut modules: Vec<&RawValue> = r.member(&values, "root_module").into_iter().collect();
    let mut out = Vec::new();
    while let Some(m) = modules.pop() {
        let m = r.obj(m, "module")?;
        if let Some(children) = r.member(&m, "child_modules") {
            let mut c = r.list(children, "child_modules")?;
            c.reverse();
            modules.extend(c);
        }
        let Some(resources) = r.member(&m, "resources") else {
            continue;
        };
        for raw in r.list(resources, "resources")? {
            let at = r.offset(raw);
            let res: Resource = serde_json::from_str(raw.get()).map_err(|e| r.json_error(at, &e, "resource"))?;
            if res.mode.as_deref().is_some_and(|m| m != "managed") {
                continue;
            }
            let (Some(ty), Some(values)) = (res.ty.as_deref(), res.values) else {
                continue;
            };
            let address = res.address.clone().unwrap_or_else(|| ty.to_string());
            let lb = match ty {
                "aws_lb_target_group" | "aws_alb_target_group" => aws_target_group(&r, &address, values)?,
                "google_compute_health_check" | "google_compute_region_health_check" => {
                    gcp_health_check(&r, &address, values, false)?
                }
                "google_compute_http_health_check" | "google_compute_https_health_check" => {
                    gcp_health_check(&r, &address, values, true)?.map(|mut lb| {
                        let p = if ty.contains("https") {
                            Protocol::Https
                        } else {
                            Protocol::Http
                        };
                        lb.settings.protocol = r.default(p, r.offset(values));
                        lb
                    })
                }
                "azurerm_lb_probe" => Some(azure_probe(&r, &address, values)?),
                "aws_elb" => Some(aws_elb(&r, &address, values)?),
                _ => None,
            };
            out.extend(lb);
        }
    }
    Ok(out)
}

fn aws_target_group(r: &Reader, address: &str, values: &RawValue) -> Result<Option<LbInput>, InputError> {
    let v = r.obj(values, address)?;
    let f = |k: &str| format!("{address}.{k}");
    let target_type = r.string(&v, "target_type", &f("target_type"))?.map(|(s, _)| s);
    if target_type.as_deref() == Some("lambda") {
        return Ok(None);
    }
    let profile = match r.string(&v, "protocol", &f("protocol"))? {
        _ if target_type.as_deref() == Some("alb") => "aws-nlb",
        Some((p, raw)) => match p.as_str() {
            "TCP" | "TLS" | "UDP" | "TCP_UDP" => "aws-nlb",
            "HTTP" | "HTTPS" => "aws-alb",
            "GENEVE" => return Ok(None),
            other => {
                return Err(r.err(
                    raw,
                    &f("protocol"),
                    format!("unknown target-group protocol \"{other}\""),
                ))
            }
        },
        None => return Ok(None),
    };
    let hc = r.block(&v, "health_check")?;
    let mut s = LbSettings::default();
    let block_at = hc.as_ref().map_or(v.at, |h| h.at);
    if let Some(h) = &hc {
        let hf = |k: &str| format!("{address}.health_check.{k}");
        if let Some(en) = r.boolean(h, "enabled", &hf("enabled"))? {
            if !en.value {
                return Err(InputError::new(
                    en.loc,
                    hf("enabled"),
                    "health checks are off: the load balancer never takes a target out (AWS allows this only for lambda targets)",
                ));
            }
        }
        s.interval = r.seconds(h, "interval", &hf("interval"))?;
        s.timeout = r.seconds(h, "timeout", &hf("timeout"))?;
        s.healthy_threshold = r.count(h, "healthy_threshold", &hf("healthy_threshold"))?;
        s.unhealthy_threshold = r.count(h, "unhealthy_threshold", &hf("unhealthy_threshold"))?;
        if let Some((p, raw)) = r.string(h, "protocol", &hf("protocol"))? {
            let proto = match p.to_ascii_uppercase().as_str() {
                "TCP" => Protocol::Tcp,
                "HTTP" => Protocol::Http,
                "HTTPS" => Protocol::Https,
                _ => {
                    return Err(r.err(
                        raw,
                        &hf("protocol"),
                        format!("unknown health-check protocol \"{p}\"; accepted: TCP, HTTP, HTTPS"),
                    ))
                }
            };
            s.protocol = Some(r.located(proto, raw));
        }
        if s.protocol.as_ref().is_some_and(|p| p.value != Protocol::Tcp) {
            s.path = r.path(h, "path", &hf("path"))?;
        }
        if let Some((m, raw)) = r.string(h, "matcher", &hf("matcher"))? {
            if !m.is_empty() {
                let parsed =
                    crate::provider::matcher::Matcher::parse_codes(&m).map_err(|e| r.err(raw, &hf("matcher"), e))?;
                s.matcher = Some(r.located(parsed, raw));
            }
        }
        if let Some((p, raw)) = r.string(h, "port", &hf("port"))? {
            if p != "traffic-port" {
                let port = p.parse::<u16>().map_err(|_| {
                    r.err(
                        raw,
                        &hf("port"),
                        format!("\"{p}\" is not a port number or traffic-port"),
                    )
                })?;
                s.port = Some(r.located(port, raw));
            }
        }
    }
    // Without a health_check block Terraform sends nothing and AWS's own defaults for the target
    // group's protocol apply: they come from the profile (settings_for), marked as assumed. With a
    // block, the provider's schema defaults fill what the plan leaves out; the timeout is never
    // sent by the provider when unset, so it is AWS's protocol default from the profile too.
    if hc.is_some() {
        if s.protocol.is_none() {
            s.protocol = r.default(Protocol::Http, block_at);
        }
        let protocol = s.protocol.as_ref().map_or(Protocol::Http, |p| p.value);
        if protocol != Protocol::Tcp && s.path.is_none() {
            s.path = r.default("/".to_string(), block_at);
        }
        if s.interval.is_none() {
            s.interval = r.default(Micros::from_secs(30), block_at);
        }
        if s.healthy_threshold.is_none() {
            s.healthy_threshold = r.default(3, block_at);
        }
        if s.unhealthy_threshold.is_none() {
            s.unhealthy_threshold = r.default(3, block_at);
        }
    }
    if profile == "aws-nlb" {
        if let Some(ths) = r.block(&v, "target_health_state")? {
            aws::Knobs {
                connection_termination: r.boolean(
                    &ths,
                    "enable_unhealthy_connection_termination",
                    &format!("{address}.target_health_state.enable_unhealthy_connection_termination"),
                )?,
                ..Default::default()
            }
            .put(&mut s);
        }
    }
    let ports = r.port(&v);
    let why = if hc.is_none() {
        "no health_check block: the provider's default"
    } else {
        "not set in health_check: the provider's default"
    };
    let mut assumed = assumed_of(&s, why);
    if hc.is_none() {
        // Every health-check value then comes from the profile's defaults for the protocol;
        // the analysis lists each one, this says why.
        assumed.push((
            "health_check".to_string(),
            "(no block)".to_string(),
            "no health_check block: Terraform sends no settings, so AWS's defaults for the target group's protocol apply".to_string(),
        ));
    }
    Ok(Some(LbInput {
        name: address.to_string(),
        profile: profile.to_string(),
        settings: s,
        loc: r.loc(v.at),
        field_prefix: format!("{address}."),
        ports,
        refused: None,
        assumed,
        service: None,
        check: crate::scenario::k8s::CheckTarget::Server,
    }))
}

/// `aws_elb` (Classic ELB, which kops used for the API): `health_check.target` is
/// `PROTOCOL:PORT[/PATH]` with TCP, SSL, HTTP or HTTPS; the numbers default as AWS documents
/// (docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-healthchecks.html: interval 30 s,
/// timeout 5 s, unhealthy 2, healthy 10, target TCP on the instance port), each default named in
/// the output. The listeners' `instance_port`s are the traffic ports for the selection.
fn aws_elb(r: &Reader, address: &str, values: &RawValue) -> Result<LbInput, InputError> {
    let v = r.obj(values, address)?;
    let hc = r.block(&v, "health_check")?;
    let at = hc.as_ref().map_or(v.at, |h| h.at);
    let mut s = LbSettings::default();
    if let Some(h) = &hc {
        let hf = |k: &str| format!("{address}.health_check.{k}");
        s.interval = r.seconds(h, "interval", &hf("interval"))?;
        s.timeout = r.seconds(h, "timeout", &hf("timeout"))?;
        s.healthy_threshold = r.count(h, "healthy_threshold", &hf("healthy_threshold"))?;
        s.unhealthy_threshold = r.count(h, "unhealthy_threshold", &hf("unhealthy_threshold"))?;
        if let Some((target, raw)) = r.string(h, "target", &hf("target"))? {
            let bad = |m: &str| r.err(raw, &hf("target"), format!("\"{target}\": {m}"));
            let (proto, rest) = target
                .split_once(':')
                .ok_or_else(|| bad("expected PROTOCOL:PORT[/PATH], e.g. HTTPS:6443/readyz"))?;
            let (port, path) = match rest.split_once('/') {
                Some((p, path)) => (p, Some(format!("/{path}"))),
                None => (rest, None),
            };
            let port: u16 = port
                .parse()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| bad("the port must be 1..65535"))?;
            let protocol = match proto.to_ascii_uppercase().as_str() {
                "TCP" | "SSL" => Protocol::Tcp,
                "HTTP" => Protocol::Http,
                "HTTPS" => Protocol::Https,
                _ => return Err(bad("the protocol must be TCP, SSL, HTTP or HTTPS")),
            };
            match (&path, protocol) {
                (None, Protocol::Http | Protocol::Https) => return Err(bad("an HTTP(S) target needs a path")),
                (Some(_), Protocol::Tcp) => return Err(bad("a TCP or SSL target takes no path")),
                _ => {}
            }
            s.protocol = Some(r.located(protocol, raw));
            s.path = path.map(|p| r.located(p, raw));
            s.port = Some(r.located(port, raw));
        }
    }
    let why = if hc.is_none() {
        "no health_check block: the Classic ELB default"
    } else {
        "not set in health_check: the Classic ELB default"
    };
    s.interval = s.interval.or_else(|| r.default(Micros::from_secs(30), at));
    s.timeout = s.timeout.or_else(|| r.default(Micros::from_secs(5), at));
    s.unhealthy_threshold = s.unhealthy_threshold.or_else(|| r.default(2, at));
    s.healthy_threshold = s.healthy_threshold.or_else(|| r.default(10, at));
    s.protocol = s.protocol.or_else(|| r.default(Protocol::Tcp, at));
    let assumed = assumed_of(&s, why);
    let mut ports = Vec::new();
    if let Some(listeners) = r.member(&v, "listener") {
        for l in r.list(listeners, &format!("{address}.listener"))? {
            let l = r.obj(l, &format!("{address}.listener"))?;
            ports.extend(r.port_named(&l, "instance_port"));
        }
    }
    Ok(LbInput {
        name: address.to_string(),
        profile: "aws-clb".to_string(),
        settings: s,
        loc: r.loc(v.at),
        field_prefix: format!("{address}."),
        ports,
        refused: None,
        assumed,
        service: None,
        check: crate::scenario::k8s::CheckTarget::Server,
    })
}

fn gcp_health_check(r: &Reader, address: &str, values: &RawValue, legacy: bool) -> Result<Option<LbInput>, InputError> {
    let v = r.obj(values, address)?;
    let f = |k: &str| format!("{address}.{k}");
    let mut block_ports = Vec::new();
    let mut k = gcp::Knobs {
        check_interval: r.seconds(&v, "check_interval_sec", &f("check_interval_sec"))?,
    };
    let mut s = LbSettings {
        timeout: r.seconds(&v, "timeout_sec", &f("timeout_sec"))?,
        healthy_threshold: r.count(&v, "healthy_threshold", &f("healthy_threshold"))?,
        unhealthy_threshold: r.count(&v, "unhealthy_threshold", &f("unhealthy_threshold"))?,
        ..LbSettings::default()
    };
    if legacy {
        s.path = r.path(&v, "request_path", &f("request_path"))?;
    } else {
        let blocks = [
            ("http_health_check", Protocol::Http),
            ("https_health_check", Protocol::Https),
            ("http2_health_check", Protocol::Https),
            ("tcp_health_check", Protocol::Tcp),
            ("ssl_health_check", Protocol::Tcp),
            ("grpc_health_check", Protocol::Tcp),
        ];
        for (key, proto) in blocks {
            let Some(b) = r.block(&v, key)? else { continue };
            block_ports = r.port(&b);
            s.protocol = r.default(proto, b.at).map(|mut p| {
                p.from_profile = false;
                p
            });
            if proto != Protocol::Tcp {
                s.path = r
                    .path(&b, "request_path", &format!("{address}.{key}.request_path"))?
                    .or_else(|| r.default("/".to_string(), b.at));
            }
            break;
        }
        if s.protocol.is_none() {
            return Err(InputError::new(
                r.loc(v.at),
                address,
                "no http_health_check, https_health_check, http2_health_check, tcp_health_check, ssl_health_check or grpc_health_check block",
            ));
        }
    }
    let at = v.at;
    k.check_interval = k.check_interval.or_else(|| r.default(Micros::from_secs(5), at));
    s.timeout = s.timeout.or_else(|| r.default(Micros::from_secs(5), at));
    s.healthy_threshold = s.healthy_threshold.or_else(|| r.default(2, at));
    s.unhealthy_threshold = s.unhealthy_threshold.or_else(|| r.default(2, at));
    if legacy && s.path.is_none() {
        s.path = r.default("/".to_string(), at);
    }
    // A GCP health check names the port it probes, which need not be the traffic port
    // (OpenShift's GCP installer probes an apiserver-watcher proxy on 6080): not used for selection.
    let _probe_port = if legacy { r.port(&v) } else { block_ports };
    let ports = Vec::new();
    let s = k.onto(s);
    let assumed = assumed_of(&s, "not set in the health check: Google's default");
    Ok(Some(LbInput {
        name: address.to_string(),
        profile: "gcp".to_string(),
        settings: s,
        loc: r.loc(at),
        field_prefix: format!("{address}."),
        ports,
        refused: None,
        assumed,
        service: None,
        check: crate::scenario::k8s::CheckTarget::Server,
    }))
}

fn azure_probe(r: &Reader, address: &str, values: &RawValue) -> Result<LbInput, InputError> {
    let v = r.obj(values, address)?;
    let f = |k: &str| format!("{address}.{k}");
    let mut k = azure::Knobs {
        probe_threshold: r.count(&v, "probe_threshold", &f("probe_threshold"))?,
    };
    let mut s = LbSettings {
        interval: r.seconds(&v, "interval_in_seconds", &f("interval_in_seconds"))?,
        ..LbSettings::default()
    };
    s.protocol = match r.string(&v, "protocol", &f("protocol"))? {
        Some((p, raw)) => Some(r.located(
            match p.as_str() {
                "Tcp" => Protocol::Tcp,
                "Http" => Protocol::Http,
                "Https" => Protocol::Https,
                _ => {
                    return Err(r.err(
                        raw,
                        &f("protocol"),
                        format!("unknown probe protocol \"{p}\"; accepted: Tcp, Http, Https"),
                    ))
                }
            },
            raw,
        )),
        None => r.default(Protocol::Tcp, v.at),
    };
    if s.protocol.as_ref().is_some_and(|p| p.value != Protocol::Tcp) {
        s.path = r.path(&v, "request_path", &f("request_path"))?;
        if s.path.is_none() {
            return Err(InputError::new(
                r.loc(v.at),
                f("request_path"),
                "an Http/Https probe needs request_path (Azure has no default)",
            ));
        }
    }
    s.interval = s.interval.or_else(|| r.default(Micros::from_secs(15), v.at));
    k.probe_threshold = k.probe_threshold.or_else(|| r.default(1, v.at));
    let s = k.onto(s);
    let ports = r.port(&v);
    let assumed = assumed_of(&s, "not set in the probe: Azure's default");
    Ok(LbInput {
        name: address.to_string(),
        profile: "azure-lb".to_string(),
        settings: s,
        loc: r.loc(v.at),
        field_prefix: format!("{address}."),
        ports,
        refused: None,
        assumed,
        service: None,
        check: crate::scenario::k8s::CheckTarget::Server,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(src: &str) -> Result<Vec<LbInput>, InputError> {
        lbs(&Text::new("plan.json", src))
    }

    const PLAN: &str = r#"{
  "format_version": "1.2",
  "terraform_version": "1.9.0",
  "planned_values": {
    "root_module": {
      "resources": [
        {
          "address": "aws_lb_target_group.api",
          "mode": "managed",
          "type": "aws_lb_target_group",
          "name": "api",
          "values": {
            "protocol": "TCP",
            "health_check": [
              {
                "enabled": true,
                "interval": 10,
                "healthy_threshold": 2,
                "unhealthy_threshold": 2,
                "protocol": "HTTPS",
                "path": "/readyz",
                "port": "6443"
              }
            ],
            "target_health_state": [ { "enable_unhealthy_connection_termination": false } ]
          }
        }
      ],
      "child_modules": [
        {
          "resources": [
            {
              "address": "module.gcp.google_compute_region_health_check.api",
              "mode": "managed",
              "type": "google_compute_region_health_check",
              "values": { "check_interval_sec": 2, "timeout_sec": 2, "healthy_threshold": 3,
                          "unhealthy_threshold": 3, "https_health_check": [ { "request_path": "/readyz", "port": 6443 } ] }
            },
            {
              "address": "module.az.azurerm_lb_probe.api",
              "mode": "managed",
              "type": "azurerm_lb_probe",
              "values": { "protocol": "Https", "request_path": "/readyz", "interval_in_seconds": 5, "number_of_probes": 2 }
            },
            { "address": "data.x.y", "mode": "data", "type": "aws_lb_target_group", "values": {} }
          ]
        }
      ]
    }
  }
}"#;

    #[test]
    fn reads_each_provider_with_attribute_locations() {
        let lbs = read(PLAN).unwrap();
        let names: Vec<_> = lbs.iter().map(|l| (l.name.as_str(), l.profile.as_str())).collect();
        assert_eq!(
            names,
            vec![
                ("aws_lb_target_group.api", "aws-nlb"),
                ("module.gcp.google_compute_region_health_check.api", "gcp"),
                ("module.az.azurerm_lb_probe.api", "azure-lb")
            ]
        );
        let aws = &lbs[0].settings;
        let i = aws.interval.as_ref().unwrap();
        assert_eq!((i.value, i.loc.line, i.loc.column), (Micros::from_secs(10), 17, 29));
        // No timeout in the plan: AWS's default for the HTTPS check (10 s) comes from the profile.
        assert!(aws.timeout.is_none());
        let (server, _) = crate::scenario::server_from_profile("kube-apiserver", &lbs[0].loc).unwrap();
        let built = crate::scenario::build_lb(&lbs[0], &server).unwrap();
        let t = built.settings.timeout.as_ref().unwrap();
        assert_eq!((t.value, t.from_profile), (Micros::from_secs(10), true));
        assert!(!aws::Knobs::of(aws).connection_termination.unwrap().value);
        assert_eq!(aws.port.as_ref().unwrap().value, 6443);
        let g = &lbs[1].settings;
        assert_eq!(g.protocol.as_ref().unwrap().value, Protocol::Https);
        assert_eq!(g.path.as_ref().unwrap().value, "/readyz");
        let a = &lbs[2].settings;
        assert_eq!(azure::Knobs::of(a).probe_threshold.unwrap().value, 1);
        assert!(azure::Knobs::of(a).probe_threshold.unwrap().from_profile);
    }

    #[test]
    fn bad_values_and_malformed_json_are_located() {
        let e = read(&PLAN.replace("\"interval\": 10", "\"interval\": \"10\"")).unwrap_err();
        assert_eq!((e.loc.line, e.loc.column), (17, 29));
        assert_eq!(e.field, "aws_lb_target_group.api.health_check.interval");
        let e = read(&PLAN.replace("\"Https\"", "\"Grpc\"")).unwrap_err();
        assert!(e.message.contains("unknown probe protocol"), "{e}");
        let e = read(&PLAN.replace("\"port\": \"6443\"\n", "\"port\": \"6443\",\n")).unwrap_err();
        assert!(e.message.contains("malformed JSON"), "{e}");
        assert_eq!(e.loc.line, 23);
        let e = read("{\"a\": 1}").unwrap_err();
        assert!(e.message.contains("terraform show -json"), "{e}");
        let e = read("{\"format_version\": 1,").unwrap_err();
        assert_eq!(e.loc.line, 1);
        assert!(read(r#"{"format_version":"1.0","values":null}"#).unwrap().is_empty());
    }
}
