import ThreatAnalysis
import ThreatModel
import ThreatRender

/// The checks the analysis runs, for `threat-report checks`: docs/checks.md as Markdown.
public enum CheckListing {
    public static var descriptions: [CheckDescription] { Checks.descriptions }
    public static var markdown: String { CheckCatalog.markdown(Checks.descriptions) }
}
