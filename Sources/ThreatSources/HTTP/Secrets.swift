import Foundation
import ThreatConfig
import ThreatModel

/// Reads a secret named in the config (`*_env` or `*_file`). Errors name the variable or file,
/// never the value; values are trimmed of the trailing newline that `echo > file` leaves. Every
/// value read is registered with the run's redactor before it is returned.
public enum SecretReader {
    public static func read(env: String?, file: String?, what: String, redactor: SecretRedactor,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(SourceError) -> String? {
        let v = try readValue(env: env, file: file, what: what, environment: environment)
        if let v { redactor.register(v) }
        return v
    }

    static func readValue(env: String?, file: String?, what: String, environment: [String: String]) throws(SourceError) -> String? {
        if let env {
            guard let v = environment[env], !v.isEmpty else {
                throw .unsupported("\(what): the environment variable \(env) is not set or empty")
            }
            return v.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let file {
            let data = try readFileBytes(file, limit: 1 << 20, allowStreams: true)
            let v = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !v.isEmpty else { throw .unreadable(path: file, reason: "the \(what) file is empty") }
            return v
        }
        return nil
    }

    /// Elasticsearch's `ApiKey` credential is `base64(id:api_key)` (reference, "Create API key":
    /// the `encoded` field of the answer). The pair `id:api_key` as the create API returns it
    /// separately is encoded here; an already encoded value (base64 has no `:`) is sent as is.
    public static func apiKeyCredential(_ key: String) -> String {
        key.contains(":") ? Data(key.utf8).base64EncodedString() : key
    }

    /// The `Authorization` header value for the configured scheme, or nil for none. The values read,
    /// the user:password pair and the header's credential are registered with `redactor`.
    public static func authorization(_ a: HTTPAuthSettings, redactor: SecretRedactor,
                                     environment: [String: String] = ProcessInfo.processInfo.environment) throws(SourceError) -> String? {
        let header = try header(a, redactor: redactor, environment: environment)
        if let header, let space = header.firstIndex(of: " ") { redactor.register(String(header[header.index(after: space)...])) }
        return header
    }

    static func header(_ a: HTTPAuthSettings, redactor: SecretRedactor, environment: [String: String]) throws(SourceError) -> String? {
        if let key = try read(env: a.apiKeyEnv, file: a.apiKeyFile, what: "API key", redactor: redactor, environment: environment) {
            return "ApiKey " + apiKeyCredential(key)
        }
        if let token = try read(env: a.bearerTokenEnv, file: a.bearerTokenFile, what: "bearer token", redactor: redactor, environment: environment) {
            return "Bearer " + token
        }
        if let user = a.username {
            let password = try read(env: a.passwordEnv, file: a.passwordFile, what: "password", redactor: redactor, environment: environment) ?? ""
            redactor.register("\(user):\(password)")
            return "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        }
        return nil
    }
}
