/// Errors of the `NN` module's layers, parameter handling and safetensors I/O.
///
/// Every case names what was wrong and where: the state-dict key, the file
/// offset, or the position in a parameter list. Loading validates the whole
/// file against the module before anything is assigned, so a thrown error
/// leaves the module unchanged.
public enum NNError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A key that the module needs is not in the given state dict or file.
    case missingKey(String)
    /// A key in the given state dict or file names no parameter or buffer of the module.
    case unexpectedKey(String)
    /// The tensor for `key` has another shape than the module's entry.
    case shapeMismatch(key: String, expected: [Int], found: [Int])
    /// The tensor for `key` is stored with another element type than the module uses.
    case dtypeMismatch(key: String, expected: String, found: String)
    /// The safetensors element type of `key` is not one this library reads (F32, F64, I64).
    case unsupportedDtype(key: String, dtype: String)
    /// A parameter list has another length than the module's parameters.
    case parameterCountMismatch(expected: Int, found: Int)
    /// The file is shorter than its header says (`needed` bytes, `available` present).
    case truncatedFile(needed: Int, available: Int)
    /// The safetensors header is not valid: bad JSON or a malformed entry (`key` is `nil` for the header as a whole).
    case invalidHeader(key: String?, reason: String)
    /// The data offsets of `key` fall outside the data section or do not match its dtype and shape.
    case invalidOffsets(key: String, begin: Int, end: Int, reason: String)
    /// The byte ranges of two tensors overlap.
    case overlappingOffsets(key: String, other: String)
    /// A file could not be read or written.
    case fileAccess(path: String, reason: String)
    /// A layer hyperparameter is out of range (for example a negative size or a probability above 1).
    case invalidConfiguration(layer: String, reason: String)
    /// A training loss cannot be differentiated: not a scalar, not finite, or not connected to any parameter.
    case invalidLoss(reason: String)

    /// A one-line explanation naming what is wrong and where.
    public var description: String {
        switch self {
        case let .missingKey(key): "missing key '\(key)'"
        case let .unexpectedKey(key): "unexpected key '\(key)'"
        case let .shapeMismatch(key, expected, found): "'\(key)': shape \(found) differs from the expected \(expected)"
        case let .dtypeMismatch(key, expected, found): "'\(key)': dtype \(found) differs from the expected \(expected)"
        case let .unsupportedDtype(key, dtype): "'\(key)': unsupported dtype \(dtype) (F32, F64 and I64 are read)"
        case let .parameterCountMismatch(expected, found): "\(found) parameters given, the module has \(expected)"
        case let .truncatedFile(needed, available): "file truncated: \(needed) bytes needed, \(available) present"
        case let .invalidHeader(key, reason): "invalid safetensors header\(key.map { " at '\($0)'" } ?? ""): \(reason)"
        case let .invalidOffsets(key, begin, end, reason): "'\(key)': data offsets [\(begin), \(end)] \(reason)"
        case let .overlappingOffsets(key, other): "'\(key)': data overlaps the data of '\(other)'"
        case let .fileAccess(path, reason): "\(path): \(reason)"
        case let .invalidConfiguration(layer, reason): "\(layer): \(reason)"
        case let .invalidLoss(reason): "training loss \(reason)"
        }
    }
}
