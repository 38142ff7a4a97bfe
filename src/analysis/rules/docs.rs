//! What `graceline rules ID` says about a rule beyond its row of the rule table: why it matters,
//! an input that raises it (a test runs every example through `check`), and where its semantics
//! come from.

use crate::analysis::findings::Rule;
use crate::provider::nginx;

/// An input file that raises the rule, embedded from `src/analysis/rules/examples/`.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    /// The file's name; its extension says which reader takes it.
    pub file: &'static str,
    /// Its text.
    pub text: &'static str,
    /// Files the example reads beside it (a project file's inputs), written next to it.
    pub beside: &'static [Example],
}

/// The explanation of one rule.
#[derive(Debug, Clone, Copy)]
pub struct RuleDoc {
    /// Why the rule matters to the people running the service.
    pub why: &'static str,
    /// An input that raises it.
    pub example: Example,
    /// Documentation pages and code paths its semantics come from.
    pub sources: &'static [&'static str],
}

macro_rules! example {
    ($file:literal) => {
        example!($file, beside [])
    };
    ($file:literal, beside [$($b:literal),*]) => {
        Example {
            file: $file,
            text: include_str!(concat!("examples/", $file)),
            beside: &[$(Example {
                file: $b,
                text: include_str!(concat!("examples/", $b)),
                beside: &[],
            }),*],
        }
    };
}

const K8S_TERMINATION: &str = "https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination";
const APISERVER_FLAGS: &str = "https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/";
const INSTALLER_HC: &str = "https://github.com/openshift/installer/blob/master/docs/dev/kube-apiserver-health-check.md";
const NLB_HC: &str = "https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html";
const ENDPOINTSLICE: &str = "https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/";
const KEP_1669: &str =
    "https://github.com/kubernetes/enhancements/tree/master/keps/sig-network/1669-proxy-terminating-endpoints";
const PATH_FIGURES: &str = "graceline profiles kubernetes-paths (every stage with its source)";

/// The explanation of `rule`.
pub fn doc(rule: Rule) -> RuleDoc {
    match rule {
        Rule::GL001 => RuleDoc {
            why: "Every request the load balancer routes after the server stops listening is refused or reset: clients see errors during every rollout, node drain and upgrade, although the server shut down 'gracefully'.",
            example: example!("GL001.toml"),
            sources: &[APISERVER_FLAGS, INSTALLER_HC, NLB_HC],
        },
        Rule::GL002 => RuleDoc {
            why: "A margin of a second or two is eaten by a slow health check response, control-plane lag or a clock step; the configuration passes on paper and fails on a bad day.",
            example: example!("GL002.toml"),
            sources: &[INSTALLER_HC],
        },
        Rule::GL003 => RuleDoc {
            why: "A check that cannot see /readyz failing removes the server only once the port closes, which is exactly when removal is too late: every shutdown routes new requests to a closed port.",
            example: example!("GL003.toml"),
            sources: &[
                "https://kubernetes.io/docs/reference/using-api/health-checks/",
                "https://docs.haproxy.org/2.6/configuration.html#4-option%20httpchk",
                NLB_HC,
            ],
        },
        Rule::GL004 => RuleDoc {
            why: "The kubelet sends SIGKILL when terminationGracePeriodSeconds runs out, whatever the process is doing: requests still in flight are cut and a shutdown delay longer than the grace period never ends.",
            example: example!("GL004.toml"),
            sources: &[K8S_TERMINATION, APISERVER_FLAGS],
        },
        Rule::GL005 => RuleDoc {
            why: "The provider rejects the value when the configuration is applied (or silently uses another): the analysis of a value that cannot run says nothing about the load balancer that will.",
            example: example!("GL005.toml"),
            sources: &[
                NLB_HC,
                "https://cloud.google.com/load-balancing/docs/health-check-concepts",
                "https://learn.microsoft.com/en-us/azure/load-balancer/load-balancer-custom-probe-overview",
            ],
        },
        Rule::GL006 => RuleDoc {
            why: "The server's request grace exists to finish what is in flight; an NLB that resets connections when the target turns unhealthy ends those requests before the server would have.",
            example: example!("GL006.toml"),
            sources: &[
                NLB_HC,
                "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html",
                "https://github.com/kubernetes-sigs/cluster-api-provider-aws/pull/5589",
            ],
        },
        Rule::GL007 => RuleDoc {
            why: "The time from 'marked down' to 'no new requests' adds to the detection time; where nobody has published or measured it, a verdict that assumes 0 can pass a configuration that fails.",
            example: example!("GL007.toml"),
            sources: &[
                "https://learn.microsoft.com/en-us/azure/load-balancer/load-balancer-custom-probe-overview",
                "graceline calibrate (measure it behind your own load balancer)",
            ],
        },
        Rule::GL008 => RuleDoc {
            why: "HAProxy routes to a server without `check` for as long as it is configured: every shutdown sends new connections to a closed port until the server is back.",
            example: example!("GL008.cfg"),
            sources: &["https://docs.haproxy.org/2.6/configuration.html#5.2-check"],
        },
        Rule::GL010 => RuleDoc {
            why: "A load balancer that checks the node (kube-proxy's healthCheckNodePort, a NodePort) or deregisters ip targets learns of one pod's shutdown only through Kubernetes: its own probe settings do not decide the verdict, the path does.",
            example: example!("GL010.yaml"),
            sources: &[
                "https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/#preserving-the-client-source-ip",
                KEP_1669,
                PATH_FIGURES,
            ],
        },
        Rule::GL015 => RuleDoc {
            why: "An ELBv2 target group whose targets are all unhealthy routes to all of them (fail open): with one target, taking it out puts it right back in.",
            example: example!("GL015.toml"),
            sources: &[NLB_HC],
        },
        Rule::GL016 => RuleDoc {
            why: "With cross-zone load balancing off each zone fails open on its own: the usual three control-plane nodes in three zones leave every zone with a single target that is never taken out.",
            example: example!("GL016.toml"),
            sources: &[
                NLB_HC,
                "https://docs.aws.amazon.com/elasticloadbalancing/latest/network/network-load-balancers.html#cross-zone-load-balancing",
            ],
        },
        Rule::GL017 => RuleDoc {
            why: "A rollout that takes the next replica down before the load balancer routes to the previous one again runs with fewer replicas than planned, and each wave stacks on the last.",
            example: example!("GL017.toml"),
            sources: &[NLB_HC, "https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#min-ready-seconds"],
        },
        Rule::GL018 => RuleDoc {
            why: "When the overlap covers every replica, every target is unhealthy at once and the target group fails open: requests go to servers that are shutting down or closed.",
            example: example!("GL018.toml"),
            sources: &[NLB_HC, "https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#min-ready-seconds"],
        },
        Rule::GL019 => RuleDoc {
            why: "Whether a request routed too late fails depends on the proxy's retries; and keep-alive connections keep carrying requests after the load balancer stops opening new ones, until the app or the load balancer closes them.",
            example: example!("GL019.cfg"),
            sources: &[
                "https://docs.haproxy.org/2.6/configuration.html#4-option%20redispatch",
                "https://docs.haproxy.org/2.6/configuration.html#4-retries",
                NLB_HC,
            ],
        },
        Rule::GL020 => RuleDoc {
            why: "The typical propagation decides the verdict so that a rare observation does not fail every configuration; the tail is what a bad day may bring, and a team that cannot afford one refused request needs to know the delay that covers it and what that figure rests on.",
            example: example!("GL020.toml"),
            sources: &[
                NLB_HC,
                "https://github.com/openshift/cluster-kube-apiserver-operator/blob/master/pkg/operator/configobservation/apiserver/observe_termination_duration.go",
                "https://github.com/openshift/cluster-kube-apiserver-operator/pull/2267",
                "https://github.com/aws/containers-roadmap/issues/470",
                "graceline profiles aws-nlb ([propagation] tiers, each with its source)",
            ],
        },
        Rule::GL021 => RuleDoc {
            why: "nginx open source learns that a server is gone only from failed connections: it never stops routing before the server stops listening. Whether clients notice depends on its passive settings: a refused connection passed to the next server costs a round trip, one that is not passed on is an error.",
            example: example!("GL021.conf"),
            sources: &[
                nginx::sources::MAX_FAILS_DOC,
                nginx::sources::HEALTH_CHECK_DOC,
                nginx::sources::ROUND_ROBIN_SRC,
            ],
        },
        Rule::GL022 => RuleDoc {
            why: "Without passing a failed connection on, every connection nginx sends to a stopped server after E3 is an error for a client, at every restart of every server behind it.",
            example: example!("GL022.conf"),
            sources: &[nginx::sources::STREAM_NEXT_DOC, nginx::sources::HTTP_NEXT_DOC, nginx::sources::NEXT_SRC],
        },
        Rule::GL023 => RuleDoc {
            why: "A host that reboots or loses power answers nothing: each new connection sent to it waits the whole connect timeout before nginx tries another server, so a 60 s default turns a reboot into minute-long stalls for the clients picked for it.",
            example: example!("GL023.conf"),
            sources: &[
                nginx::sources::CONNECT_TIMEOUT_DOC,
                nginx::sources::MAX_FAILS_DOC,
                nginx::sources::ROUND_ROBIN_SRC,
            ],
        },
        Rule::GL024 => RuleDoc {
            why: "Connections nginx opened to the server before E3 are not moved when the server stops listening: requests on them reach the stopping server until it closes them.",
            example: example!("GL024.conf"),
            sources: &[
                nginx::sources::KEEPALIVE_DOC,
                nginx::sources::KEEPALIVE_SRC,
                nginx::sources::PROXY_TIMEOUT_DOC,
            ],
        },
        Rule::GL030 => RuleDoc {
            why: "kube-proxy, the load balancer controller or the ingress controller learns of the pod's deletion through the API watch; until each has acted, they send new connections to a pod whose app already stopped listening.",
            example: example!("GL030.yaml"),
            sources: &[K8S_TERMINATION, ENDPOINTSLICE, PATH_FIGURES],
        },
        Rule::GL031 => RuleDoc {
            why: "The last consumer stops sending only just before the app stops listening: a busy API server, a slow kube-proxy sync or a long iptables restore turns that into refused connections.",
            example: example!("GL031.yaml"),
            sources: &[ENDPOINTSLICE, PATH_FIGURES],
        },
        Rule::GL032 => RuleDoc {
            why: "In-cluster clients reach kube-apiserver through the `kubernetes` Service; an endpoint that is never removed sends a share of them to a dead server.",
            example: example!("GL032.yaml"),
            sources: &[APISERVER_FLAGS, "kubernetes/kubernetes pkg/controlplane/reconcilers/instancecount.go"],
        },
        Rule::GL033 => RuleDoc {
            why: "A Service or Ingress that graceline cannot connect to a workload, a port or a cloud is not judged; saying so keeps a silent gap from reading as a pass.",
            example: example!("GL033.yaml"),
            sources: &["https://kubernetes.io/docs/concepts/services-networking/service/"],
        },
        Rule::GL034 => RuleDoc {
            why: "The preStop hook is the time the app keeps listening after the endpoints start changing; a script's duration cannot be read from the manifest, so the verdict rests on what graceline assumed.",
            example: example!("GL034.yaml"),
            sources: &[
                K8S_TERMINATION,
                "https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#lifecycle",
            ],
        },
        Rule::GL035 => RuleDoc {
            why: "A crash skips the shutdown hook that removes kube-apiserver from the `kubernetes` endpoints; until its lease expires and a peer reconciles, in-cluster clients are sent to it.",
            example: example!("GL035.yaml"),
            sources: &[APISERVER_FLAGS, "kubernetes/kubernetes pkg/controlplane/reconcilers/lease.go"],
        },
        Rule::GL036 => RuleDoc {
            why: "Evictions, node shutdowns, liveness restarts and OOM kills do not delete the pod: nothing removes its endpoint until readiness fails, and the kubelet's grace period (not terminationGracePeriodSeconds) may leave the preStop hook no time at all.",
            example: example!("GL036.toml", beside ["GL036-pods.yaml"]),
            sources: &[
                "https://kubernetes.io/docs/concepts/scheduling-eviction/node-pressure-eviction/",
                "https://kubernetes.io/docs/concepts/cluster-administration/node-shutdown/",
                "kubernetes/kubernetes pkg/kubelet/kuberuntime/kuberuntime_container.go (killContainer)",
                PATH_FIGURES,
            ],
        },
        Rule::GL037 => RuleDoc {
            why: "With a regular istio-proxy container every inbound connection goes through the sidecar: when it exits after terminationDrainDuration the pod stops accepting, whatever the app's preStop and drain say.",
            example: example!("GL037.yaml"),
            sources: &[
                "https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#ProxyConfig",
                "istio/istio pkg/envoy/agent.go (terminate)",
                "https://istio.io/latest/blog/2023/native-sidecars/",
            ],
        },
        Rule::GL040 => RuleDoc {
            why: "Typical figures pass, but field reports show a stage (a slow hook, a stale informer, a batched update) taking far longer now and then; the warning says which stage, its source, and the setting that covers it.",
            example: example!("GL040.yaml"),
            sources: &[PATH_FIGURES],
        },
        Rule::GL041 => RuleDoc {
            why: "Some paths never withdraw a terminating pod (publishNotReadyAddresses, a TCP check of the healthCheckNodePort, a last endpoint without a readiness probe): no preStop sleep is long enough, only removing the cause is.",
            example: example!("GL041.yaml"),
            sources: &[ENDPOINTSLICE, KEP_1669, "kubernetes/kubernetes staging/src/k8s.io/endpointslice/utils.go"],
        },
        Rule::GL042 => RuleDoc {
            why: "When no other endpoint is left, kube-proxy keeps sending to a terminating one that still serves; a drained single replica keeps receiving connections until its readiness probe fails.",
            example: example!("GL042.yaml"),
            sources: &[KEP_1669, "https://kubernetes.io/docs/tasks/run-application/configure-pdb/"],
        },
    }
}
