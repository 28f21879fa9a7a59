import Foundation
import ThreatSources

extension OutputWriter {
    /// Writes one file (`waf tune --output FILE`) the way the report's files are written: into a
    /// new hidden file beside it (created with O_EXCL and O_NOFOLLOW, relative to the open parent
    /// folder, flushed), then renamed over the old one, so a reader sees the old file or the new
    /// one. A symbolic link or a folder at the path is refused, never written through.
    public static func writeSingleFile(_ path: String, bytes: [UInt8]) throws(OutputError) -> String {
        guard !path.isEmpty, !path.hasSuffix("/") else { throw OutputError(path: path, reason: "it names a folder, not a file") }
        let cwd = FileManager.default.currentDirectoryPath
        let absolute = lexicalPath(path.hasPrefix("/") ? path : cwd + "/" + path)
        let parent = (absolute as NSString).deletingLastPathComponent
        let name = (absolute as NSString).lastPathComponent
        guard !name.isEmpty, name != "/" else { throw OutputError(path: path, reason: "it names a folder, not a file") }
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw OutputError(path: path, reason: "cannot create the folder \(parent) (\((error as NSError).localizedDescription))")
        }
        let parentFD = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parentFD >= 0 else { throw OutputError(path: path, reason: "cannot open the folder \(parent): \(OutputTree.errno_())") }
        defer { close(parentFD) }
        switch OutputTree.kind(parentFD, name) {
        case S_IFLNK?: throw OutputTree.linkRefused(path)
        case S_IFDIR?: throw OutputError(path: path, reason: "it is a folder")
        case let k? where k != S_IFREG: throw OutputError(path: path, reason: "it exists and is not a regular file (a FIFO or device)")
        default: break
        }
        let temporary = "." + name + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try OutputTree.writeFile(parentFD, temporary, bytes: bytes, shown: { _ in parent + "/" + temporary })
        guard renameat(parentFD, temporary, parentFD, name) == 0 else {
            let reason = OutputTree.errno_()
            unlinkat(parentFD, temporary, 0)
            throw OutputError(path: path, reason: reason)
        }
        fsync(parentFD)
        return path
    }
}
