import Foundation
import ThreatAnalysis
import ThreatModel
import ThreatSources

/// Reads the previous run's `report.json` from the output folder for the policy drift comparison
/// (docs/policies.md, "Policy drift"). The file is untrusted: the folder and the file are opened
/// relative to descriptors without following a symbolic link (as the output writer does), only a
/// regular file of at most `limit` bytes is read, and anything wrong with it (a link, a FIFO, a
/// folder, too large, not JSON, a field of the wrong type) is a `.unreadable` state naming the file
/// and the cause: a clear warning in the report, never a crash and never a silent "no change".
public enum PreviousReportReader {
    /// report.json keeps every manifest: 64 MiB is far beyond a real policy set.
    public static let limit = 64 << 20

    public static func read(outputDirectory: String, limit: Int = PreviousReportReader.limit,
                            deadline: RunDeadline = .none) -> PreviousPolicySnapshot.State {
        let target = outputDirectory.count > 1 && outputDirectory.hasSuffix("/") ? String(outputDirectory.dropLast()) : outputDirectory
        let cwd = FileManager.default.currentDirectoryPath
        let absolute = OutputWriter.lexicalPath(target.hasPrefix("/") ? target : cwd + "/" + target)
        let parent = absolute == "/" ? "/" : (absolute as NSString).deletingLastPathComponent
        let name = absolute == "/" ? "." : (absolute as NSString).lastPathComponent
        let shown = outputDirectory + "/report.json"
        let parentFD = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parentFD >= 0 else { return errno == ENOENT ? .absent : .unreadable("\(parent): \(OutputTree.errno_())") }
        defer { close(parentFD) }
        switch OutputTree.kind(parentFD, name) {
        case nil: return .absent
        case S_IFLNK: return .unreadable("\(outputDirectory) is a symbolic link; the report never reads or writes through one")
        case S_IFDIR: break
        default: return .unreadable("\(outputDirectory) is not a folder")
        }
        let folder = openat(parentFD, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard folder >= 0 else { return .unreadable("\(outputDirectory): \(OutputTree.errno_())") }
        defer { close(folder) }
        switch OutputTree.kind(folder, "report.json") {
        case nil: return .absent
        case S_IFLNK: return .unreadable("\(shown) is a symbolic link; it is not followed")
        case S_IFREG: break
        default: return .unreadable("\(shown) is not a regular file")
        }
        let fd = openat(folder, "report.json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return .unreadable("\(shown): \(OutputTree.errno_())") }
        defer { close(fd) }
        var st = stat()
        // The type again on the open descriptor: the name may have been swapped since it was checked.
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return .unreadable("\(shown) is not a regular file") }
        guard Int(st.st_size) <= limit else {
            return .unreadable("\(shown) is larger than \(InputLimits.describe(bytes: limit)) (\(st.st_size) bytes)")
        }
        let bytes: [UInt8]
        do {
            bytes = try readDescriptor(fd, name: shown, limit: limit, deadline: deadline, regular: true)
        } catch {
            return .unreadable(error.description)
        }
        do {
            return .read(try PreviousPolicySnapshot.parse(bytes, file: shown))
        } catch {
            return .unreadable(error.description)
        }
    }
}
