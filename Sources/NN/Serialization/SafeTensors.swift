import Autodiff
import Foundation

/// Element types of the safetensors format that this library reads and writes.
public enum SafeTensorsDType: String, Sendable, Hashable, CaseIterable {
    /// IEEE 754 binary64, little-endian.
    case float64 = "F64"
    /// IEEE 754 binary32, little-endian.
    case float32 = "F32"
    /// Two's-complement 64-bit integer, little-endian (PyTorch's `num_batches_tracked`).
    case int64 = "I64"

    /// Bytes per element.
    public var byteCount: Int { self == .float32 ? 4 : 8 }

    /// The floating-point dtype matching `Scalar`.
    public static func floating<Scalar: TensorScalar>(_: Scalar.Type) -> SafeTensorsDType {
        Scalar.self == Float.self ? .float32 : .float64
    }
}

/// A parsed safetensors file: a JSON header describing named tensors and the raw little-endian data.
///
/// Format (Hugging Face, `safetensors` crate documentation): an unsigned 64-bit little-endian header
/// length `N`, then `N` bytes of UTF-8 JSON mapping each tensor name to
/// `{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}` (byte offsets into the data that
/// follows the header) plus an optional `"__metadata__"` string-to-string map, then the data.
///
/// Parsing validates the whole file: header length against the file size, JSON syntax, every entry's
/// dtype, shape and offsets (inside the data section, `end − begin` equal to the element count times the
/// dtype size) and that no two tensors' bytes overlap. Gaps between tensors are allowed.
public struct SafeTensorsFile: Sendable {
    /// One tensor's header entry.
    public struct Record: Sendable, Hashable {
        /// The tensor's name (a state-dict key).
        public let name: String
        /// Its element type.
        public let dtype: SafeTensorsDType
        /// Its extents.
        public let shape: [Int]
        /// Its byte range within ``SafeTensorsFile/data``.
        public let byteRange: Range<Int>
    }

    /// The records in data order (ascending offsets).
    public let records: [Record]
    /// The `__metadata__` map (empty when absent).
    public let metadata: [String: String]
    /// The data section (everything after the header).
    public let data: [UInt8]

    /// Parses a file's bytes.
    /// - Throws: ``NNError/truncatedFile(needed:available:)``, ``NNError/invalidHeader(key:reason:)``,
    ///   ``NNError/unsupportedDtype(key:dtype:)``, ``NNError/invalidOffsets(key:begin:end:reason:)`` or
    ///   ``NNError/overlappingOffsets(key:other:)``.
    public init(bytes: [UInt8]) throws {
        guard bytes.count >= 8 else { throw NNError.truncatedFile(needed: 8, available: bytes.count) }
        var length: UInt64 = 0
        for i in (0..<8).reversed() { length = length << 8 | UInt64(bytes[i]) }
        guard length <= UInt64(bytes.count - 8) else {
            throw NNError.truncatedFile(needed: length > UInt64(Int.max / 2) ? Int.max : 8 + Int(length), available: bytes.count)
        }
        let headerEnd = 8 + Int(length)
        let headerBytes = Data(bytes[8..<headerEnd])
        let header = try Self.decodeHeader(headerBytes)
        // JSON decoders keep one of two equal keys silently; a repeated tensor name is an error.
        var seen = Set<String>()
        for key in JSONObjectKeys.topLevel(headerBytes) ?? [] where !seen.insert(key).inserted {
            throw NNError.invalidHeader(key: key, reason: "the name appears more than once")
        }
        data = Array(bytes[headerEnd...])
        var metadata: [String: String] = [:]
        var records: [Record] = []
        // In name order, so the first error reported is the same in every process.
        for (name, value) in header.sorted(by: { $0.key < $1.key }) {
            switch (name == "__metadata__", value) {
            case (true, .metadata(let map)): metadata = map
            case (false, .tensor(let dtype, let shape, let offsets)):
                records.append(try Self.record(name, dtype: dtype, shape: shape, offsets: offsets, dataCount: data.count))
            case (true, .tensor): throw NNError.invalidHeader(key: name, reason: "metadata is not a string-to-string object")
            case (false, .metadata): throw NNError.invalidHeader(key: name, reason: "dtype is missing")
            }
        }
        records.sort { ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name) < ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name) }
        for (a, b) in zip(records, records.dropFirst()) where b.byteRange.lowerBound < a.byteRange.upperBound {
            throw NNError.overlappingOffsets(key: b.name, other: a.name)
        }
        self.records = records
        self.metadata = metadata
    }

    /// Reads and parses the file at `url`.
    /// - Throws: ``NNError/fileAccess(path:reason:)`` when it cannot be read, else the errors of ``init(bytes:)``.
    public init(contentsOf url: URL) throws {
        let bytes: [UInt8]
        do { bytes = try [UInt8](Data(contentsOf: url)) } catch {
            throw NNError.fileAccess(path: url.path, reason: "cannot be read (\(error.localizedDescription))")
        }
        try self.init(bytes: bytes)
    }

    /// A header entry: a tensor description or the metadata map.
    private enum HeaderValue: Decodable {
        case tensor(dtype: String, shape: [Int], offsets: [Int])
        case metadata([String: String])

        enum Keys: String, CodingKey { case dtype, shape, dataOffsets = "data_offsets" }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            guard container.contains(.dtype) else {
                self = .metadata(try decoder.singleValueContainer().decode([String: String].self))
                return
            }
            self = .tensor(dtype: try container.decode(String.self, forKey: .dtype),
                           shape: try container.decode([Int].self, forKey: .shape),
                           offsets: try container.decode([Int].self, forKey: .dataOffsets))
        }
    }

    /// Decodes the JSON header strictly (integers must be integers), naming the entry of any error.
    private static func decodeHeader(_ json: Data) throws -> [String: HeaderValue] {
        guard (try? JSONSerialization.jsonObject(with: json)) != nil else {
            throw NNError.invalidHeader(key: nil, reason: "the header is not valid JSON")
        }
        do {
            return try JSONDecoder().decode([String: HeaderValue].self, from: json)
        } catch let error as DecodingError {
            var path: [any CodingKey]
            switch error {
            case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): path = c.codingPath
            case .keyNotFound(let key, let c): path = c.codingPath + [key]
            @unknown default: path = []
            }
            guard let key = path.first?.stringValue else {
                throw NNError.invalidHeader(key: nil, reason: "the header is not a JSON object")
            }
            let field = path.count > 1 ? path[1].stringValue : ""
            let reason = switch field {
            case "shape": "shape is not a list of non-negative integers"
            case "data_offsets": "data_offsets is not a pair of non-negative integers"
            case "dtype": "dtype is not a string"
            case "": "entry is not an object"
            default: key == "__metadata__" ? "metadata value of '\(field)' is not a string" : "malformed field '\(field)'"
            }
            throw NNError.invalidHeader(key: key, reason: reason)
        }
    }

    private static func record(_ name: String, dtype dtypeName: String, shape: [Int], offsets: [Int],
                               dataCount: Int) throws -> Record {
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else { throw NNError.unsupportedDtype(key: name, dtype: dtypeName) }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw NNError.invalidHeader(key: name, reason: "shape is not a list of non-negative integers")
        }
        guard offsets.count == 2, offsets[0] >= 0 else {
            throw NNError.invalidHeader(key: name, reason: "data_offsets is not a pair of non-negative integers")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end, end <= dataCount else {
            throw NNError.invalidOffsets(key: name, begin: begin, end: end, reason: "lie outside the data section of \(dataCount) bytes")
        }
        // Every non-zero extent counts, also beside a zero one: the tensor's strides multiply them.
        guard let count = TensorShape.elementCount(shape), count <= (end - begin) / dtype.byteCount,
              count * dtype.byteCount == end - begin else {
            throw NNError.invalidOffsets(key: name, begin: begin, end: end, reason: "do not hold a \(dtypeName) tensor of shape \(shape)")
        }
        return Record(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    /// The record named `name`, or `nil`.
    public func record(named name: String) -> Record? { records.first { $0.name == name } }

    /// The elements of a record converted to `Scalar` (integers and both float widths convert exactly
    /// where representable; F64 → Float rounds).
    public func values<Scalar: TensorScalar>(of record: Record, as _: Scalar.Type = Scalar.self) -> [Scalar] {
        let count = record.byteRange.count / record.dtype.byteCount
        return data.withUnsafeBytes { raw in
            let base = record.byteRange.lowerBound
            return (0..<count).map { i -> Scalar in
                let offset = base + i * record.dtype.byteCount
                switch record.dtype {
                case .float32: return Scalar(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))))
                case .float64: return Scalar(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))))
                case .int64: return Scalar(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
                }
            }
        }
    }

    /// The tensor named `name` as `Scalar`.
    /// - Throws: ``NNError/missingKey(_:)`` when absent.
    public func tensor<Scalar: TensorScalar>(named name: String, as _: Scalar.Type = Scalar.self) throws -> Tensor<Scalar> {
        guard let record = record(named: name) else { throw NNError.missingKey(name) }
        return try Tensor(shape: record.shape, scalars: values(of: record))
    }

    /// Serializes named tensors into safetensors bytes, in the given order with contiguous offsets.
    ///
    /// The header is padded with spaces to a multiple of 8 bytes, so every tensor's data starts aligned.
    /// - Parameters:
    ///   - tensors: names, values and the dtype to store each value as (F32 rounds Double values; I64
    ///     rounds toward zero and is meant for integer counters).
    ///   - metadata: the `__metadata__` map; omitted when empty.
    public static func serialize<Scalar: TensorScalar>(_ tensors: [(name: String, value: Tensor<Scalar>, dtype: SafeTensorsDType)],
                                                       metadata: [String: String] = [:]) -> [UInt8] {
        var header = "{"
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for t in tensors {
            let size = t.value.scalarCount * t.dtype.byteCount
            let shape = t.value.shape.dimensions.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        header += entries.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: headerBytes)
        for t in tensors {
            for x in t.value.scalars {
                switch t.dtype {
                case .float32: withUnsafeBytes(of: Float(x).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
                case .float64: withUnsafeBytes(of: Double(x).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
                case .int64: withUnsafeBytes(of: Int64(x).littleEndian) { bytes.append(contentsOf: $0) }
                }
            }
        }
        return bytes
    }

    /// A JSON string literal for `s` (quotes, backslashes and control characters escaped).
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

extension Module {
    /// This module's state dict as safetensors bytes: parameters and buffers in state-dict order with
    /// PyTorch's keys, floating entries as `dtype` (default: `Scalar`'s width) and integer buffers as I64.
    public func safetensorsBytes(dtype: SafeTensorsDType? = nil, metadata: [String: String] = [:]) -> [UInt8] {
        let floating = dtype ?? .floating(Scalar.self)
        return SafeTensorsFile.serialize(entries().map { entry in
            (entry.key, entry.value.detached(), entry.kind == .integerBuffer ? .int64 : floating)
        }, metadata: metadata)
    }

    /// Writes ``safetensorsBytes(dtype:metadata:)`` to `url` (atomically).
    /// - Throws: ``NNError/fileAccess(path:reason:)`` when the file cannot be written.
    public func saveSafetensors(to url: URL, dtype: SafeTensorsDType? = nil, metadata: [String: String] = [:]) throws {
        do { try Data(safetensorsBytes(dtype: dtype, metadata: metadata)).write(to: url, options: .atomic) } catch {
            throw NNError.fileAccess(path: url.path, reason: "cannot be written (\(error.localizedDescription))")
        }
    }

    /// Loads parameters and buffers from a parsed safetensors file with PyTorch-compatible keys.
    ///
    /// Everything is validated before anything is assigned: on error the module is unchanged.
    /// - Parameters:
    ///   - strict: when `true`, every key of the module must be in the file and the file may hold no other tensor.
    ///   - allowingConversion: when `false`, floating entries must be stored with `Scalar`'s width (F32 for
    ///     `Float`, F64 for `Double`); when `true` either width is accepted and converted.
    /// - Throws: ``NNError/missingKey(_:)``, ``NNError/unexpectedKey(_:)``,
    ///   ``NNError/shapeMismatch(key:expected:found:)`` or ``NNError/dtypeMismatch(key:expected:found:)``.
    public mutating func load(_ file: SafeTensorsFile, strict: Bool = true, allowingConversion: Bool = false) throws {
        let native = SafeTensorsDType.floating(Scalar.self)
        var values: [String: Tensor<Scalar>] = [:]
        let moduleEntries = Dictionary(entries().map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for record in file.records {
            guard let entry = moduleEntries[record.name] else {
                if strict { throw NNError.unexpectedKey(record.name) }
                continue
            }
            let expected: SafeTensorsDType = entry.kind == .integerBuffer ? .int64 : native
            let acceptable = record.dtype == expected
                || (allowingConversion && entry.kind != .integerBuffer && record.dtype != .int64)
            guard acceptable else {
                throw NNError.dtypeMismatch(key: record.name, expected: expected.rawValue, found: record.dtype.rawValue)
            }
            guard record.shape == entry.value.shape.dimensions else {
                throw NNError.shapeMismatch(key: record.name, expected: entry.value.shape.dimensions, found: record.shape)
            }
            values[record.name] = try Tensor(shape: record.shape, scalars: file.values(of: record))
        }
        try loadStateDict(values, strict: strict)
    }

    /// Reads a safetensors file and loads it (see ``load(_:strict:allowingConversion:)``).
    /// - Throws: the errors of ``SafeTensorsFile/init(contentsOf:)`` and of ``load(_:strict:allowingConversion:)``.
    public mutating func loadSafetensors(from url: URL, strict: Bool = true, allowingConversion: Bool = false) throws {
        try load(SafeTensorsFile(contentsOf: url), strict: strict, allowingConversion: allowingConversion)
    }
}
