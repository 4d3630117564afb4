import Foundation

/// The keys of a JSON object as written, repeats included.
///
/// JSON decoders (`JSONDecoder`, `JSONSerialization`) keep one value of a repeated key and drop
/// the other silently; a file format or settings file that must reject repeats scans the keys here.
public enum JSONObjectKeys {
    /// The keys of the top-level object of `data`, in order, or `nil` when `data` does not start
    /// with an object or a string never closes. Values are skipped, however deeply nested.
    public static func topLevel(_ data: Data) -> [String]? {
        let bytes = [UInt8](data)
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        guard let first = bytes.firstIndex(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }),
              bytes[first] == UInt8(ascii: "{") else { return nil }
        var keys: [String] = []
        var depth = 0, expectKey = false, i = first
        while i < bytes.count {
            switch bytes[i] {
            case quote:
                let start = i
                i += 1
                while i < bytes.count, bytes[i] != quote { i += bytes[i] == backslash ? 2 : 1 }
                guard i < bytes.count else { return nil }
                if depth == 1, expectKey {
                    let literal = Data(bytes[start...i])
                    guard let key = (try? JSONSerialization.jsonObject(with: literal, options: .fragmentsAllowed)) as? String else {
                        return nil
                    }
                    keys.append(key)
                    expectKey = false
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if depth == 1 { expectKey = true }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            case UInt8(ascii: ","):
                if depth == 1 { expectKey = true }
            default:
                break
            }
            i += 1
        }
        return keys
    }
}
