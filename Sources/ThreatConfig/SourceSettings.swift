import Foundation

/// How to authenticate to an HTTP engine. Secrets are only ever named (`*_env`, `*_file`), never
/// written in the config, and never printed.
public struct HTTPAuthSettings: Sendable, Equatable {
    public var apiKeyEnv: String?
    public var apiKeyFile: String?
    public var bearerTokenEnv: String?
    public var bearerTokenFile: String?
    public var username: String?
    public var passwordEnv: String?
    public var passwordFile: String?
    public init() {}

    static let keys = ["api_key_env", "api_key_file", "bearer_token_env", "bearer_token_file",
                       "username", "password_env", "password_file"]
}

/// TLS and transport settings shared by every HTTP source.
public struct HTTPTransportSettings: Sendable, Equatable {
    public var url: String
    public var caFile: String?
    public var clientCertFile: String?
    public var clientKeyFile: String?
    public var insecureSkipVerify = false
    /// Seconds for one request, connection included.
    public var timeout: Double = 30
    public var retries = 3
    public var auth = HTTPAuthSettings()
    public init(url: String) { self.url = url }

    static let keys = ["url", "ca_file", "client_cert_file", "client_key_file", "insecure_skip_verify",
                       "timeout", "retries"] + HTTPAuthSettings.keys
}

/// `waf: elasticsearch:` — ingress access logs and ModSecurity/Coraza audit logs in Elasticsearch
/// (7.10+, 8.x) or OpenSearch (1, 2). Defaults are GitLab's (Filebeat, ingress-nginx); every field
/// name is in `fields` (docs/waf.md, "Elasticsearch and OpenSearch").
public struct ElasticsearchSettings: Sendable, Equatable {
    public var transport: HTTPTransportSettings
    public var index = "filebeat-*"
    public var ingressNamespace = "gitlab-managed-apps"
    public var accessContainers = ["nginx-ingress-controller", "controller"]
    public var auditContainer = "modsecurity-log"
    public var fields = ElasticsearchFields()
    /// The cluster's `search.max_buckets`: 65,535 on 7.9+ and 8.x, 10,000 on 7.0–7.8 and on some
    /// managed services. Checked before sending.
    public var maxBuckets = 65_535
    public init(transport: HTTPTransportSettings) { self.transport = transport }

    // The field names of the first releases, kept as shorthands for `fields:`.
    public var ruleIDField: String { get { fields.ruleID } set { fields.ruleID = newValue } }
    public var ruleMessageField: String { get { fields.message } set { fields.message = newValue } }
    public var clientIPField: String { get { fields.clientIP } set { fields.clientIP = newValue } }
    public var uriField: String { get { fields.uri } set { fields.uri = newValue } }

    static let keys = HTTPTransportSettings.keys + ["cloud_id", "index", "ingress_namespace", "access_containers", "audit_container",
                                                    "rule_id_field", "rule_message_field", "client_ip_field", "uri_field",
                                                    "fields", "max_buckets"]
}

/// `waf: files:` — raw ModSecurity audit logs (JSON or native) and NGINX access logs (paths or globs).
public struct WAFFileSettings: Sendable, Equatable {
    public var auditLogs: [String]
    public var accessLogs: [String]
    /// Zone of `time_stamp` fields, which ModSecurity writes without one.
    public var auditLogTimezone = "UTC"
    /// `access_log_format`: a preset or an NGINX `log_format` string; nil detects per line.
    public var accessLogFormat: AccessLogFormatSetting?
    /// `access_log_fields`: JSON field names of the access log (docs/waf.md).
    public var accessLogFields = AccessLogFields()
    /// Zone of access-log times written without one (HAProxy's accept date).
    public var accessLogTimezone = "UTC"
    /// `error_log`: ModSecurity / Coraza error-log lines (paths or globs).
    public var errorLogs: [String] = []
    /// `tuning_id_range`: ids of the exclusion rules in `waf-tuning/<environment>.conf` (nil: the
    /// default 10000–10999); within 1–899999, so never the CRS's 900000–999999.
    public var tuningIDRange: ClosedRange<Int>?
    /// The other environments' hosts (filled when the configuration is read, not a key): an entry
    /// with one of them is another environment's, not an unattributed one.
    public var otherEnvironmentHosts: [String] = []
    public init(auditLogs: [String], accessLogs: [String]) {
        self.auditLogs = auditLogs
        self.accessLogs = accessLogs
    }
    static let keys = ["audit_log", "access_log", "audit_log_timezone", "access_log_format", "access_log_fields",
                       "access_log_timezone", "error_log", "tuning_id_range"]
}

/// `flows: prometheus:` — Hubble metrics in Prometheus (or Thanos/Mimir with a path prefix).
public struct PrometheusSettings: Sendable, Equatable {
    public var transport: HTTPTransportSettings
    public var metric = "hubble_flows_processed_total"
    public var dropMetric = "hubble_drop_total"
    public var sourceLabel = "source"
    public var destinationLabel = "destination"
    public var verdictLabel = "verdict"
    /// `workload_label`: the pod label assumed to hold the workload's name in the selectors of
    /// policies suggested from workload contexts (docs/policies.md).
    public var workloadLabel = "app.kubernetes.io/name"
    public init(transport: HTTPTransportSettings) { self.transport = transport }
    static let keys = HTTPTransportSettings.keys + ["metric", "drop_metric", "source_label", "destination_label", "verdict_label", "workload_label"]
}

/// `flows: hubble:` — files written by `hubble observe -o json`.
public struct HubbleSettings: Sendable, Equatable {
    public var flowLogs: [String]
    public init(flowLogs: [String]) { self.flowLogs = flowLogs }
    static let keys = ["flows"]
}

/// `policies: kubernetes:` — the Kubernetes API, by kubeconfig or in-cluster service account.
public struct KubernetesSettings: Sendable, Equatable {
    public var kubeconfig: String?
    public var context: String?
    public var inCluster = false
    public var timeout: Double = 30
    /// Also list the namespace's pods, for policy coverage (`GET /api/v1/namespaces/{ns}/pods`).
    public var pods = true
    public init() {}
    static let keys = ["kubeconfig", "context", "in_cluster", "timeout", "pods"]
}

public enum WAFSourceConfig: Sendable, Equatable {
    case elasticsearch(ElasticsearchSettings)
    case files(WAFFileSettings)
    /// A folder of recorded engine answers.
    case replay(String)
}

public enum FlowSourceConfig: Sendable, Equatable {
    case prometheus(PrometheusSettings)
    case hubble(HubbleSettings)
    case replay(String)
}

public enum PolicySourceConfig: Sendable, Equatable {
    case kubernetes(KubernetesSettings)
    /// Manifests under a folder (or a file), or `-` for stdin.
    case directory(String)
    case replay(String)
}
