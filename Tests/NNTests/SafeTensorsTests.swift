import Autodiff
import Foundation
import Linalg
import NN
import Testing

/// safetensors reading and writing: files PyTorch wrote (Scripts/fixtures/nn.py), our writer's bytes,
/// and every kind of corrupt or mismatched file (each must throw and leave the module unchanged).
@Suite struct SafeTensorsTests {
    func bytes(_ name: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: fixtures.url("nn_\(name)", withExtension: "safetensors")))
    }

    /// The little-endian header length in the first 8 bytes.
    func headerLength(of bytes: [UInt8]) -> Int {
        var n = 0
        for i in (0..<8).reversed() { n = n << 8 | Int(bytes[i]) }
        return n
    }

    /// A header-and-data file assembled by hand, for corrupt cases.
    func file(header: String, data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        return out + Array(header.utf8) + data
    }

    @Test func readsPyTorchFiles() throws {
        let parsed = try SafeTensorsFile(bytes: bytes("batchnorm1d_train"))
        #expect(Set(parsed.records.map(\.name)) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        #expect(parsed.record(named: "num_batches_tracked")?.dtype == .int64)
        #expect(parsed.record(named: "weight")?.dtype == .float64)
        let counter: Tensor<Double> = try parsed.tensor(named: "num_batches_tracked")
        #expect(counter.scalar == 7)
        var g = Xoshiro256StarStar(seed: 20)
        var lstm = try LSTM<Float>(inputSize: 3, hiddenSize: 4, layerCount: 2, bidirectional: true, using: &g)
        try lstm.loadSafetensors(from: fixtures.url("nn_lstm_stacked_bidirectional_f32", withExtension: "safetensors"))
        let f32 = try SafeTensorsFile(bytes: bytes("lstm_stacked_bidirectional_f32"))
        let expected: Tensor<Float> = try f32.tensor(named: "weight_hh_l1_reverse")
        #expect(lstm.stateDict().first { $0.key == "weight_hh_l1_reverse" }?.value.scalars == expected.scalars)
    }

    @Test func writerRoundTripsExactly() throws {
        var g = Xoshiro256StarStar(seed: 21)
        var bn = try BatchNorm1d<Double>(numFeatures: 3)
        try bn.load(SafeTensorsFile(bytes: bytes("batchnorm1d_train")))
        let written = bn.safetensorsBytes(metadata: ["format": "pt", "note": "quote \" and \\ backslash"])
        let reread = try SafeTensorsFile(bytes: written)
        #expect(reread.metadata == ["format": "pt", "note": "quote \" and \\ backslash"])
        #expect(reread.records.map(\.name) == bn.stateDict().map(\.key))
        #expect(reread.record(named: "num_batches_tracked")?.dtype == .int64)
        // Header length is a multiple of 8, so data is aligned.
        #expect(headerLength(of: written) % 8 == 0)
        var copy = try BatchNorm1d<Double>(numFeatures: 3)
        try copy.load(reread)
        for (a, b) in zip(copy.stateDict(), bn.stateDict()) { #expect(a.key == b.key && a.value.scalars == b.value.scalars) }
        #expect(copy.safetensorsBytes(metadata: ["format": "pt", "note": "quote \" and \\ backslash"]) == written)
        // Float model written as F32, read back bit for bit; through a file on disk.
        let gru = try GRU<Float>(inputSize: 2, hiddenSize: 3, bidirectional: true, using: &g)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nn-roundtrip-\(UInt32.random(in: 0...UInt32.max)).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try gru.saveSafetensors(to: url)
        var other = try GRU<Float>(inputSize: 2, hiddenSize: 3, bidirectional: true, using: &g)
        try other.loadSafetensors(from: url)
        #expect(other.parameters().map(\.scalars) == gru.parameters().map(\.scalars))
        // F64 file into a Float model only with conversion.
        let asDouble = gru.safetensorsBytes(dtype: .float64)
        #expect(throws: NNError.dtypeMismatch(key: "weight_ih_l0", expected: "F32", found: "F64")) {
            try other.load(SafeTensorsFile(bytes: asDouble))
        }
        try other.load(SafeTensorsFile(bytes: asDouble), allowingConversion: true)
        #expect(other.parameters().map(\.scalars) == gru.parameters().map(\.scalars))
    }

    @Test func mismatchedFilesThrowAndLoadNothing() throws {
        var g = Xoshiro256StarStar(seed: 22)
        var linear = try Linear<Double>(inFeatures: 3, outFeatures: 4, using: &g)
        let before = linear.parameters().map(\.scalars)
        func expectUnchanged() { #expect(linear.parameters().map(\.scalars) == before) }

        // Missing key: a file without a bias.
        let weightOnly = SafeTensorsFile.serialize([("weight", Tensor<Double>.zeros([4, 3]), .float64)])
        #expect(throws: NNError.missingKey("bias")) { try linear.load(SafeTensorsFile(bytes: weightOnly)) }
        expectUnchanged()
        // Wrong shape: a 5→2 weight for a 3→4 layer (the bias key would be missing too; shape is found first).
        var wide = try Linear<Double>(inFeatures: 5, outFeatures: 4, using: &g)
        #expect(throws: NNError.shapeMismatch(key: "weight", expected: [4, 5], found: [4, 3])) {
            try wide.load(SafeTensorsFile(bytes: bytes("linear")))
        }
        // Wrong dtype: an F32 file into a Double model.
        #expect(throws: NNError.dtypeMismatch(key: "bias", expected: "F64", found: "F32")) {
            try linear.load(SafeTensorsFile(bytes: bytes("linear_f32")))
        }
        expectUnchanged()
        // Unexpected key: an LSTM file into a Linear.
        #expect(throws: NNError.self) { try linear.load(SafeTensorsFile(bytes: bytes("lstm"))) }
        let extra = SafeTensorsFile.serialize([("weight", Tensor<Double>.zeros([4, 3]), .float64),
                                               ("bias", Tensor<Double>.zeros([4]), .float64),
                                               ("extra", Tensor<Double>.zeros([1]), .float64)])
        #expect(throws: NNError.unexpectedKey("extra")) { try linear.load(SafeTensorsFile(bytes: extra)) }
        expectUnchanged()
        try linear.load(SafeTensorsFile(bytes: extra), strict: false)
        #expect(linear.parameters().allSatisfy { $0.scalars.allSatisfy { $0 == 0 } })
        // Integer buffer stored as a float.
        var bn = try BatchNorm1d<Double>(numFeatures: 1)
        let badCounter = SafeTensorsFile.serialize([("weight", Tensor<Double>.ones([1]), .float64),
                                                    ("bias", Tensor<Double>.ones([1]), .float64),
                                                    ("running_mean", Tensor<Double>.ones([1]), .float64),
                                                    ("running_var", Tensor<Double>.ones([1]), .float64),
                                                    ("num_batches_tracked", Tensor<Double>(3), .float64)])
        #expect(throws: NNError.dtypeMismatch(key: "num_batches_tracked", expected: "I64", found: "F64")) {
            try bn.load(SafeTensorsFile(bytes: badCounter))
        }
        #expect(bn.namedBuffers().map(\.value.scalars) == [[0], [1], [0]])
    }

    @Test func corruptFilesThrow() throws {
        let good = try bytes("linear")
        #expect(throws: NNError.truncatedFile(needed: 8, available: 5)) { try SafeTensorsFile(bytes: Array(good.prefix(5))) }
        let headerLength = headerLength(of: good)
        #expect(throws: NNError.truncatedFile(needed: 8 + headerLength, available: 20)) {
            try SafeTensorsFile(bytes: Array(good.prefix(20)))
        }
        // Truncated data: the last tensor's offsets now point past the end.
        #expect(throws: NNError.self) { try SafeTensorsFile(bytes: Array(good.dropLast(8))) }
        #expect(throws: NNError.invalidHeader(key: nil, reason: "the header is not valid JSON")) {
            try SafeTensorsFile(bytes: file(header: "{\"a\": [", data: []))
        }
        #expect(throws: NNError.invalidHeader(key: nil, reason: "the header is not a JSON object")) {
            try SafeTensorsFile(bytes: file(header: "[1, 2]", data: []))
        }
        let data = [UInt8](repeating: 0, count: 32)
        #expect(throws: NNError.invalidOffsets(key: "w", begin: 0, end: 40, reason: "lie outside the data section of 32 bytes")) {
            try SafeTensorsFile(bytes: file(header: #"{"w":{"dtype":"F64","shape":[5],"data_offsets":[0,40]}}"#, data: data))
        }
        #expect(throws: NNError.invalidOffsets(key: "w", begin: 0, end: 16, reason: "do not hold a F64 tensor of shape [3]")) {
            try SafeTensorsFile(bytes: file(header: #"{"w":{"dtype":"F64","shape":[3],"data_offsets":[0,16]}}"#, data: data))
        }
        #expect(throws: NNError.overlappingOffsets(key: "b", other: "a")) {
            try SafeTensorsFile(bytes: file(header: #"{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"b":{"dtype":"F64","shape":[2],"data_offsets":[8,24]}}"#, data: data))
        }
        #expect(throws: NNError.unsupportedDtype(key: "w", dtype: "BF16")) {
            try SafeTensorsFile(bytes: file(header: #"{"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}"#, data: data))
        }
        #expect(throws: NNError.invalidHeader(key: "w", reason: "shape is not a list of non-negative integers")) {
            try SafeTensorsFile(bytes: file(header: #"{"w":{"dtype":"F64","shape":[-1],"data_offsets":[0,8]}}"#, data: data))
        }
        #expect(throws: NNError.invalidHeader(key: "w", reason: "data_offsets is not a pair of non-negative integers")) {
            try SafeTensorsFile(bytes: file(header: #"{"w":{"dtype":"F64","shape":[1],"data_offsets":[0]}}"#, data: data))
        }
        #expect(throws: NNError.invalidHeader(key: "__metadata__", reason: "metadata value of 'k' is not a string")) {
            try SafeTensorsFile(bytes: file(header: #"{"__metadata__":{"k":1}}"#, data: data))
        }
        let missing = URL(fileURLWithPath: "/nonexistent/model.safetensors")
        #expect(throws: NNError.self) { try SafeTensorsFile(contentsOf: missing) }
    }
}
