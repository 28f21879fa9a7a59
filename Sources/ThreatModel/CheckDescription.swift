/// What one check is, said once: the analysis type that emits its findings carries it, and every
/// catalogue is built from the list of those types (SARIF `rules[]`, JUnit test cases, Code
/// Quality check names, docs/checks.md). A value type here so both the analysis and the renderers
/// can read it without knowing each other.
public struct CheckDescription: Sendable, Equatable {
    /// The finding id, e.g. `waf.anomalous_ratio`: `<section>.<name>`.
    public var id: String
    /// A PascalCase name (SARIF `rule.name`).
    public var name: String
    /// One line: what the finding says.
    public var shortDescription: String
    /// When it fires, with the thresholds that decide its level.
    public var fullDescription: String
    /// What to do about it, in the style of the findings' guidance (each finding's guidance is
    /// this advice fitted to the figures and the input read).
    public var help: String
    /// The report section the check reads (`waf`, `flows`, `policies`, `input`): its status decides
    /// whether the check ran.
    public var section: String
    /// The level a finding usually has (SARIF `defaultConfiguration.level`).
    public var defaultSeverity: Severity
    /// Every level a finding of this check can have (e.g. a ratio capped at info below its volume
    /// guard); the default is among them.
    public var severities: [Severity]

    public init(id: String, name: String, shortDescription: String, fullDescription: String, help: String,
                section: String, defaultSeverity: Severity, severities: [Severity]? = nil) {
        self.id = id
        self.name = name
        self.shortDescription = shortDescription
        self.fullDescription = fullDescription
        self.help = help
        self.section = section
        self.defaultSeverity = defaultSeverity
        self.severities = severities ?? [defaultSeverity]
    }
}
