import Foundation

/// Writes files that belong together (a report's HTML and JSON) so that a reader sees either
/// the old set or the new one, never a mix: everything is staged in temporary files first.
package enum ReportFilePair {
    /// Writes every `(data, url)` (all in `directory`), or nothing.
    ///
    /// - Throws: ``ReportError/writeFailed(path:reason:)`` naming the path that failed.
    package static func write(_ items: [(data: Data, url: URL)], into directory: URL) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: directory.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ReportError.writeFailed(path: directory.path, reason: "exists and is not a directory")
        }
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            // Foundation's error hides errno here; mkdir(2) on the same path says it plainly.
            var failure = reason(error)
            if mkdir(directory.path, 0o755) != 0 { failure = String(cString: strerror(errno)) } else { rmdir(directory.path) }
            throw ReportError.writeFailed(path: directory.path, reason: failure)
        }
        // A directory in a target's place would make its rename fail after the other one succeeded.
        for item in items where manager.fileExists(atPath: item.url.path, isDirectory: &isDirectory) && isDirectory.boolValue {
            throw ReportError.writeFailed(path: item.url.path, reason: "is a directory")
        }
        let token = UUID().uuidString
        func staging(_ url: URL, _ kind: String) -> URL {
            directory.appendingPathComponent(".\(url.lastPathComponent).\(kind)-\(token)")
        }
        var staged: [URL] = []
        defer { for url in staged { try? manager.removeItem(at: url) } }
        for item in items {
            let temporary = staging(item.url, "new")
            staged.append(temporary)
            do {
                try item.data.write(to: temporary)
            } catch {
                throw ReportError.writeFailed(path: item.url.path, reason: reason(error))
            }
        }
        // Old files move aside first, so a failed rename can restore them.
        var done: [(url: URL, backup: URL?)] = []
        for (item, temporary) in zip(items, staged) {
            let backup = staging(item.url, "old")
            let hadOld = rename(item.url.path, backup.path) == 0
            if rename(temporary.path, item.url.path) != 0 {
                let failure = String(cString: strerror(errno))
                if hadOld { _ = rename(backup.path, item.url.path) }
                for entry in done.reversed() {
                    if let old = entry.backup { _ = rename(old.path, entry.url.path) } else { unlink(entry.url.path) }
                }
                throw ReportError.writeFailed(path: item.url.path, reason: failure)
            }
            done.append((item.url, hadOld ? backup : nil))
        }
        for entry in done { if let old = entry.backup { unlink(old.path) } }
    }

    /// The system's reason without Foundation's wrapping text.
    private static func reason(_ error: any Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let code = underlying?.code, underlying?.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(code))) }
        return error.localizedDescription
    }
}
