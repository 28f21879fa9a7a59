import Foundation

extension ErrorLogPart {
    /// The workers' parts as one: their fragments taken in file order (file, block, fragment)
    /// and joined by key into transactions, as one worker reading the whole log in order would
    /// have grouped them. Strings are numbered again in that order, so ids, caps and the grouping
    /// key of lines without `unique_id` (which holds the client and URI ids) are the same
    /// whatever the number of workers.
    static func merged(_ parts: consuming [ErrorLogPart], zone: TimeZone, key: HashKey) -> ErrorLogPart {
        var parts = parts
        var out = ErrorLogPart(zone: zone, key: key)
        out.transactions.reserveCapacity(parts.reduce(0) { $0 + $1.transactions.count })
        out.byKey = KeyedIndex(capacity: out.transactions.capacity)
        var maps = parts.map { IDMaps($0.audit) }
        // Most URIs are a transaction's own: room for all of them at once.
        out.audit.uris.reserve(parts.reduce(0) { $0 + $1.audit.uris.count }, bytes: parts.reduce(0) { $0 + $1.audit.uris.bytes })
        for part in parts {
            out.matchLines += part.matchLines
            out.otherLines += part.otherLines
            for k in out.engines.indices { out.engines[k] += part.engines[k] }
            let versions = out.versionTable.absorb(part.versionTable)
            for (old, n) in part.versionCounts.enumerated() where Int(old) < versions.count {
                let v = versions[old]
                guard v != Interner.overflow else { continue }
                if Int(v) >= out.versionCounts.count { out.versionCounts += [Int](repeating: 0, count: Int(v) + 1 - out.versionCounts.count) }
                out.versionCounts[Int(v)] += n
            }
        }
        // Each part's fragments are in file order already: take the smallest head each time.
        var heads = [Int](repeating: 0, count: parts.count)
        while true {
            var pick = -1
            for p in parts.indices where heads[p] < parts[p].transactions.count {
                if pick < 0 || parts[p].transactions[heads[p]].order < parts[pick].transactions[heads[pick]].order { pick = p }
            }
            guard pick >= 0 else { break }
            // The index slot and URI slot of this part's fragment a few ahead, asked for now: both
            // tables are larger than the cache, and the merge otherwise waits on each lookup.
            let ahead = heads[pick] + 8
            if ahead < parts[pick].transactions.count {
                if parts[pick].transactions[ahead].hasID { out.byKey.prefetch(parts[pick].transactions[ahead].idHash) }
                if let h = maps[pick].uriHash(parts[pick].transactions[ahead].uri) { out.audit.uris.prefetch(hash: h) }
            }
            // Moved out, so that its arrays are this fragment's alone and are renumbered in place.
            let f = ErrorTransaction.take(&parts[pick].transactions[heads[pick]])
            heads[pick] += 1
            out.join(f, maps: &maps[pick], key: key)
        }
        return out
    }

    /// Adds one fragment: a transaction of its own, or the rest of the one with its key.
    private mutating func join(_ f: consuming ErrorTransaction, maps: inout IDMaps, key: HashKey) {
        let existing: Int?
        var client = Interner.overflow, uri = Interner.overflow
        let k: UInt64
        // Found, or set to the position the fragment takes when it is a transaction of its own.
        if f.hasID {
            k = f.idHash
            existing = byKey.valueOrInsert(k, transactions.count)
        } else {
            client = maps.client(f.client, &audit.clients)
            uri = maps.uri(f.uri, &audit.uris)
            k = Self.keyWithoutID(client: client, uri: uri, time: f.time, file: f.file, key: key)
            existing = byKey.valueOrInsert(k, transactions.count)
        }
        guard let t = existing else {
            if f.hasID {
                client = maps.client(f.client, &audit.clients)
                uri = maps.uri(f.uri, &audit.uris)
            }
            // A transaction of its own: its lines are distinct already (distinct strings keep
            // distinct ids), renumbered where they are.
            f.client = client
            f.uri = uri
            for i in f.lines.indices { maps.renumber(&f.lines[i].ref, &audit) }
            transactions.append(f)
            return
        }
        if f.blocked { transactions[t].blocked = true }
        if transactions[t].host.isEmpty, !f.host.isEmpty { transactions[t].host = f.host }
        for var line in f.lines {
            line.ref.rule = maps.rule(line.ref.rule, &audit.rules)
            let rule = line.ref.rule
            guard rule == Interner.overflow || !transactions[t].lines.contains(where: { $0.ref.rule == rule }) else { continue }
            maps.renumber(&line.ref, &audit, rule: false)
            transactions[t].lines.append(line)
        }
    }
}

/// A worker's string ids to the merged part's, filled as the merge first meets each, with the
/// worker's tables they come from.
struct IDMaps {
    static let unset = UInt32.max - 2
    private let from: AuditPart
    private var clients: [UInt32], uris: [UInt32], rules: [UInt32], messages: [UInt32], targets: [UInt32]

    init(_ a: AuditPart) {
        from = a
        clients = [UInt32](repeating: Self.unset, count: a.clients.count)
        uris = [UInt32](repeating: Self.unset, count: a.uris.count)
        rules = [UInt32](repeating: Self.unset, count: a.rules.count)
        messages = [UInt32](repeating: Self.unset, count: a.messages.count)
        targets = [UInt32](repeating: Self.unset, count: a.targets.count)
    }

    mutating func client(_ id: UInt32, _ into: inout Interner) -> UInt32 { Self.map(&clients, id, from.clients, &into) }
    mutating func uri(_ id: UInt32, _ into: inout Interner) -> UInt32 { Self.map(&uris, id, from.uris, &into) }
    mutating func rule(_ id: UInt32, _ into: inout Interner) -> UInt32 { Self.map(&rules, id, from.rules, &into) }

    /// The hash of worker URI `id` when it is not numbered in the merged table yet (for a prefetch).
    func uriHash(_ id: UInt32) -> UInt64? {
        guard Int(id) < uris.count, uris[Int(id)] == Self.unset else { return nil }
        return from.uris.storedHash(id)
    }

    /// A rule reference's ids in the merged tables (its rule too unless `rule` is false).
    mutating func renumber(_ ref: inout RuleRef, _ into: inout AuditPart, rule: Bool = true) {
        if rule { ref.rule = Self.map(&rules, ref.rule, from.rules, &into.rules) }
        ref.message = Self.map(&messages, ref.message, from.messages, &into.messages)
        ref.target = Self.map(&targets, ref.target, from.targets, &into.targets)
    }

    /// The merged id of worker id `id` (overflow and no-target stay what they are).
    private static func map(_ table: inout [UInt32], _ id: UInt32, _ from: Interner, _ into: inout Interner) -> UInt32 {
        guard Int(id) < table.count else { return id }
        if table[Int(id)] == unset { table[Int(id)] = into.id(of: id, in: from) ?? Interner.overflow }
        return table[Int(id)]
    }
}
