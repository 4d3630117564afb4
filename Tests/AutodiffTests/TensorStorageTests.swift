import Linalg
import Testing
@testable import Autodiff

/// Storage semantics and the buffer cache. Other suites run in parallel in the same process and
/// share the cache, so these tests use size classes no other test allocates (tens of MiB) and
/// assert only what concurrent allocations cannot change.
@Suite("Tensor storage: copy-on-write and the buffer cache", .serialized)
struct TensorStorageTests {
    /// Elements of a size class that only this suite uses: 5 Mi Doubles (40 MiB).
    static let uniqueCount = 5 << 20

    @Test("a copy is independent: writing to one tensor's storage leaves the other unchanged")
    func copyOnWrite() {
        let original = Tensor<Double>(shape: [3], repeating: 1)
        var copy = original
        copy.withUnsafeMutableScalars { $0[1] = 7 }
        #expect(original.scalars == [1, 1, 1])
        #expect(copy.scalars == [1, 7, 1])

        let large = Tensor<Float>.arange(0, 20_000)
        var largeCopy = large
        largeCopy.withUnsafeMutableScalars { $0[19_999] = -1 }
        #expect(large.scalars[19_999] == 19_999)
        #expect(largeCopy.scalars[19_999] == -1)

        var storage = TensorStorage<Double>([1, 2, 3])
        let shared = storage
        storage[0] = 10
        #expect(Array(shared) == [1, 2, 3])
        #expect(Array(storage) == [10, 2, 3])
    }

    @Test("a tensor made from storage shares it; a count that does not fit the shape throws")
    func tensorFromStorage() throws {
        let storage = TensorStorage<Float>(repeating: 2.5, count: 6)
        let tensor = try Tensor(shape: [2, 3], storage: storage)
        #expect(tensor.shape == [2, 3] && tensor.scalars == [Float](repeating: 2.5, count: 6))
        #expect(tensor.storage.withUnsafeBufferPointer { $0.baseAddress } == storage.withUnsafeBufferPointer { $0.baseAddress })
        #expect(throws: TensorError.scalarCountMismatch(shape: [4], count: 6)) { try Tensor(shape: [4], storage: storage) }
        #expect(throws: TensorError.negativeExtent([-1, -6])) { try Tensor(shape: [-1, -6], storage: storage) }
        #expect(Tensor(storage).shape == [6])
    }

    @Test("a dropped large buffer is handed to the next tensor of its size class, with every element rewritten")
    func reuse() {
        let before = TensorMemory.statistics
        var firstAddress: UnsafeRawPointer?
        do {
            let first = Tensor<Double>(shape: [Self.uniqueCount], repeating: 3)
            firstAddress = first.storage.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
        }
        // Same size class (40 MiB rounds to 40 MiB; 40 MiB − 8 B to the same class).
        let second = Tensor<Double>(shape: [Self.uniqueCount - 1], repeating: -1)
        let secondAddress = second.storage.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
        #expect(secondAddress == firstAddress)
        #expect(second.scalars.allSatisfy { $0 == -1 })
        #expect(TensorMemory.statistics.reusedBuffers > before.reusedBuffers)
        // A Float tensor may take a block a Double tensor used: the bytes are reinterpreted, then overwritten.
        let bytes = Self.uniqueCount * 8
        _ = consume second
        let floats = Tensor<Float>(shape: [bytes / 4], repeating: 0.5)
        #expect(floats.storage.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } == firstAddress)
        #expect(floats.sum().scalar == Float(bytes / 4) * 0.5)
    }

    @Test("small buffers are not cached; the size classes round up by at most 25 %")
    func sizeClasses() {
        #expect(TensorMemory.minimumCachedBlockBytes == 32 << 10)
        for bytes in [32 << 10, 40_000, 65_536, 65_537, 100_000, 1 << 20, (1 << 20) + 1, 41_943_040] {
            let size = BufferCache.sizeClass(bytes)
            #expect(size >= bytes && Double(size) <= 1.25 * Double(bytes), "class \(size) for \(bytes) bytes")
            #expect(size % 64 == 0)
        }
        #expect(BufferCache.sizeClass(65_536) == 65_536)
        #expect(BufferCache.sizeClass(65_537) == 81_920)
    }

    @Test("the cache limit bounds the free bytes kept; a negative limit throws")
    func limit() throws {
        #expect(throws: TensorError.invalidCacheLimit(-1)) { try TensorMemory.setCacheLimit(-1) }
        let saved = TensorMemory.cacheLimit
        defer { try? TensorMemory.setCacheLimit(saved) }
        try TensorMemory.setCacheLimit(1 << 20)
        #expect(TensorMemory.cacheLimit == 1 << 20)
        #expect(TensorMemory.statistics.cachedBytes <= 1 << 20)
        let freedBefore = TensorMemory.statistics.freedBuffers
        do { _ = Tensor<Double>(shape: [Self.uniqueCount + 1], repeating: 1) } // 40 MiB > limit: freed, not kept
        #expect(TensorMemory.statistics.freedBuffers > freedBefore)
        #expect(TensorMemory.statistics.cachedBytes <= 1 << 20)
    }

    @Test("concurrent tasks allocating and dropping large tensors get correct results")
    func concurrentReuse() async {
        let results = await withTaskGroup(of: Bool.self) { group in
            for task in 0..<4 {
                group.addTask {
                    var ok = true
                    for step in 0..<40 {
                        let value = Double(task * 100 + step)
                        let a = Tensor<Double>(shape: [64, 128], repeating: value).requiringGradient()
                        let loss = (a * a).sum()
                        let g = gradient(of: loss, wrt: a)
                        ok = ok && loss.scalar == value * value * 8192 && g.scalars.allSatisfy { $0 == 2 * value }
                    }
                    return ok
                }
            }
            var all: [Bool] = []
            for await ok in group { all.append(ok) }
            return all
        }
        #expect(results == [true, true, true, true])
    }
}
