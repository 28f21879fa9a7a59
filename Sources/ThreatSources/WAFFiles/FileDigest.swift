import ThreatModel

/// SHA-256 of the log files for the evidence appendix, fed by the reader as it reads (see
/// `BlockReader`): the one `SHA256Digest` (OpenSSL's EVP), the same as every other digest.
enum FileDigest {
    typealias Hasher256 = SHA256Digest
}
