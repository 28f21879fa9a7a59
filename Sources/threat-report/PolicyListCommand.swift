import ArgumentParser
import Foundation
import ThreatConfig
import ThreatModel
import ThreatPolicy
import ThreatRender
import ThreatReportKit
import ThreatSources

/// `threat-report policy list`: the policies of the configured environments.
struct PolicyListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the network policies of the config's environments, with GitLab's predefined policies not deployed.",
        discussion: """
        Reads each environment's configured policy source (directory, replay or kubernetes) as the report does. \
        GitLab's predefined policies (drop-outbound, allow-inbound-http) are listed disabled, as "not deployed", \
        unless a deployed policy has the same name. Exit codes: 0 listed; 2 configuration error; 3 a source could \
        not be read (the others are listed).
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, yaml
    }

    @Option(name: .long, help: ArgumentHelp("Configuration file.", valueName: "file"))
    var config = "threat-report.yml"

    @Option(name: .long, help: ArgumentHelp("Only this environment (repeatable).", valueName: "name"))
    var environment: [String] = []

    @Option(name: .long, help: ArgumentHelp("Output format: table, json or yaml.", valueName: "format"))
    var output: Format = .table

    func run() throws {
        guard FileManager.default.fileExists(atPath: config) else {
            throw PolicyInput.fail("--config: \(config) does not exist. Pass --config FILE, or try the bundled sample: threat-report policy list --config samples/threat-report.yml")
        }
        let request: ReportRequest
        do {
            let loaded = try ConfigLoader.load(path: config)
            var overrides = RequestOverrides()
            overrides.environments = environment
            request = try ReportRequest.resolve(config: loaded, overrides: overrides, now: Date())
        } catch let e as LocatedError {
            throw PolicyInput.fail(e.description)
        } catch {
            throw PolicyInput.fail("\(error)")
        }
        var listing = PolicyListing()
        // The policy sources' credentials: registered as they are loaded, kept out of the listing.
        let redactor = SecretRedactor()
        for env in request.environments {
            let section: Section<PolicySet>
            if var source = env.policies {
                // The listing shows policies: the pod list (coverage) is the report's business.
                if case var .kubernetes(k) = source {
                    k.pods = false
                    source = .kubernetes(k)
                }
                do {
                    let out = try SourceFactory.policies(source).fetch(SourceContext(window: request.window, environment: env, redactor: redactor))
                    section = .ok(out.value, warnings: out.warnings.map(redactor.redact))
                } catch {
                    section = .unavailable(redactor.redact(error.description))
                }
            } else {
                section = .notConfigured
            }
            for w in section.warnings { PolicyInput.note("\(env.name) policies: \(w)") }
            if let e = section.error { PolicyInput.note("\(env.name) policies unavailable: \(e)") }
            if section.status == .notConfigured { PolicyInput.note("\(env.name): no policy source is configured") }
            listing.add(name: env.name, namespace: env.namespace, section: section)
        }
        switch output {
        case .table: PolicyInput.write(listing.table { Sanitize.text($0, max: 120) })
        case .json: PolicyInput.write(listing.json.serialized(pretty: true) + "\n")
        case .yaml: PolicyInput.write(listing.yaml)
        }
        if listing.hasUnavailable { throw ExitCode(3) }
    }
}
