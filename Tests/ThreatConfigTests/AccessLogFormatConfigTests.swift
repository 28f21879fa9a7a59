import Foundation
import Testing
@testable import ThreatConfig

/// `waf: files: access_log_format:` in the configuration: presets, log_format strings compiled at
/// load time (an error names the file, line and column), and the other environments' hosts.
@Suite("access_log_format configuration")
struct AccessLogFormatConfigTests {
    func config(_ format: String, second: Bool = false) -> String {
        """
        version: 1
        environments:
          - name: production
            namespace: shop-production
            hosts: [shop.example.com]
            waf:
              files:
                access_log: /var/log/nginx/access.log
                access_log_format: \(format)
        \(second ? "  - name: staging\n    namespace: shop-staging\n    hosts: [staging.example.com]\n    waf: { files: { access_log: /x.log } }\n" : "")
        """
    }

    func files(_ c: ReportConfig, _ k: Int = 0) -> WAFFileSettings? {
        if case let .files(s)? = c.environments[k].waf { return s }
        return nil
    }

    @Test("Presets by name, and a log_format string with NGINX quoting, are read")
    func accepted() throws {
        #expect(files(try loadConfig(config("main")))?.accessLogFormat == .preset(.main))
        #expect(files(try loadConfig(config("ingress-nginx")))?.accessLogFormat == .preset(.ingressNginx))
        let s = try #require(files(try loadConfig(config(#"'''$remote_addr [$time_local] "$request" $status'''"#))))
        guard case let .logFormat(f)? = s.accessLogFormat else { Issue.record("not a log_format"); return }
        #expect(f.text == #"$remote_addr [$time_local] "$request" $status"#)
    }

    @Test("An unknown preset and a log_format without time are errors at the key's place, naming the presets")
    func refused() {
        do {
            _ = try loadConfig(config("apache"))
            Issue.record("accepted an unknown preset")
        } catch {
            #expect("\(error)".contains(":9:") && "\(error)".contains("access_log_format") && "\(error)".contains("ingress-nginx, combined, main, json, envoy, envoy-json, istio, haproxy, traefik-json"), "\(error)")
        }
        do {
            _ = try loadConfig(config("'$remote_addr $status'"))
            Issue.record("accepted a format without time")
        } catch {
            #expect("\(error)".contains("needs $time_local, $time_iso8601 or $msec"), "\(error)")
        }
    }

    @Test("Each files source learns the other environments' hosts")
    func otherHosts() throws {
        let c = try loadConfig(config("main", second: true))
        #expect(files(c, 0)?.otherEnvironmentHosts == ["staging.example.com"])
        #expect(files(c, 1)?.otherEnvironmentHosts == ["shop.example.com"])
    }
}
