import Autodiff
import Foundation
import NN
import Testing

/// safetensors headers that used to slip through: repeated names, zero extents beside huge ones.
@Suite("safetensors header limits")
struct SafeTensorsReliabilityTests {
    /// A header-and-data file assembled by hand.
    func file(header: String, data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        return out + Array(header.utf8) + data
    }

    @Test("a tensor name given twice throws naming it")
    func duplicateNames() {
        let header = #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        #expect(throws: NNError.invalidHeader(key: "w", reason: "the name appears more than once")) {
            try SafeTensorsFile(bytes: file(header: header, data: Array(repeating: 0, count: 8)))
        }
        #expect(JSONObjectKeys.topLevel(Data(#" {"a":{"a":1,"b":[{"c":2}]},"b\"c":"x,y","a":3}"#.utf8)) == ["a", "b\"c", "a"])
    }

    @Test("a zero extent beside extents whose product overflows throws instead of passing with zero bytes")
    func zeroExtentOverflow() {
        let huge = Int.max / 2
        let header = #"{"w":{"dtype":"F32","shape":[0,\#(huge),4],"data_offsets":[0,0]}}"#
        #expect(throws: NNError.self) { try SafeTensorsFile(bytes: file(header: header, data: [])) }
        let empty = #"{"w":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]}}"#
        #expect((try? SafeTensorsFile(bytes: file(header: empty, data: []))) != nil)
    }

    @Test("TensorShape.elementCount reports overflow and negative extents as nil")
    func elementCount() {
        #expect(TensorShape.elementCount([2, 3, 4]) == 24)
        #expect(TensorShape.elementCount([0, 5]) == 0)
        #expect(TensorShape.elementCount([]) == 1)
        #expect(TensorShape.elementCount([Int.max / 2, 3]) == nil)
        #expect(TensorShape.elementCount([0, Int.max / 2, 3]) == nil)
        #expect(TensorShape.elementCount([-1]) == nil)
    }
}
