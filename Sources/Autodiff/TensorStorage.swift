import Linalg
import Synchronization

// Element storage of tensors, with a cache of large buffers.
//
// A training step allocates the same large buffers (activations, scores, gradients) every
// iteration and frees them at the end. With glibc's malloc a freed block above the mmap
// threshold, or a heap top grown beyond the trim threshold, goes back to the kernel, and the next
// step page-faults the same memory in again, 4 KiB at a time (measured at +25 % on a 256 × 256
// matmul forward and backward, and 15–20 % of a multi-head attention step). Blocks of at least
// `TensorMemory.minimumCachedBlockBytes` are therefore kept in a process-wide cache when their
// tensor dies and handed to the next tensor of the same size class. Smaller ones live inside
// their storage object, one allocation each, as a Swift array's elements do.

/// The location and size of a storage block's elements.
@usableFromInline
struct StorageBlockHeader {
    /// The first byte of the elements: inside the object for a small block, a cached buffer otherwise.
    @usableFromInline let base: UnsafeMutableRawPointer
    /// The usable bytes at `base` (the size class of a cached buffer, at least the requested bytes).
    @usableFromInline let capacity: Int
    /// `true` when `base` belongs to ``TensorMemory``'s cache and goes back to it.
    @usableFromInline let isCached: Bool
}

/// A reference-counted block of raw memory holding a tensor's elements.
///
/// Its only state is set at creation; the bytes are written only through a uniquely referenced
/// ``TensorStorage`` (copy-on-write), which is what makes sharing it across tasks safe.
@usableFromInline
final class StorageBlock: ManagedBuffer<StorageBlockHeader, SIMD4<Float>> {
    /// A block with room for at least `byteCount` bytes, 16-byte aligned.
    @usableFromInline
    static func make(byteCount: Int) -> StorageBlock {
        if byteCount >= TensorMemory.minimumCachedBlockBytes {
            let (base, capacity) = BufferCache.shared.acquire(byteCount: byteCount)
            return unsafeDowncast(create(minimumCapacity: 0) { _ in
                StorageBlockHeader(base: base, capacity: capacity, isCached: true)
            }, to: StorageBlock.self)
        }
        let lanes = (byteCount + MemoryLayout<SIMD4<Float>>.stride - 1) / MemoryLayout<SIMD4<Float>>.stride
        return unsafeDowncast(create(minimumCapacity: lanes) { block in
            // The elements of a heap object do not move, so their address stays valid for its lifetime.
            let base = block.withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) }
            return StorageBlockHeader(base: base, capacity: byteCount, isCached: false)
        }, to: StorageBlock.self)
    }

    deinit {
        let header = self.header
        if header.isCached { BufferCache.shared.release(header.base, capacity: header.capacity) }
    }
}

/// The elements of a tensor: a fixed-size, copy-on-write buffer of scalars.
///
/// It behaves like `[Scalar]` (random access, `withUnsafeBufferPointer`,
/// `withUnsafeMutableBufferPointer`, `map`, …) but large buffers are recycled through
/// ``TensorMemory``'s cache instead of being returned to the kernel and faulted in again. Custom
/// operations (see ``Tensor/customOperation(inputs:outputs:pullback:)``) use it for their scratch
/// and saved buffers and hand results to ``Tensor/init(shape:storage:)`` without a copy.
///
/// It is `Sendable` for the same reason `Array` is: a shared block is never written (a write
/// to shared storage copies it first).
public struct TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
    @usableFromInline var block: StorageBlock
    /// The number of elements.
    public let count: Int

    /// Storage for `count` elements whose values are not yet set.
    @inlinable
    init(uninitializedCount count: Int) {
        block = StorageBlock.make(byteCount: Swift.max(count, 0) * MemoryLayout<Scalar>.stride)
        self.count = count
        block.header.base.bindMemory(to: Scalar.self, capacity: count)
    }

    /// Storage whose `count` elements are set by `body`, which must set its second argument to
    /// `count` (the contract of `Array(unsafeUninitializedCapacity:initializingWith:)`).
    @inlinable
    public init(unsafeUninitializedCapacity count: Int,
         initializingWith body: (inout UnsafeMutableBufferPointer<Scalar>, inout Int) throws -> Void) rethrows {
        self.init(uninitializedCount: count)
        var buffer = UnsafeMutableBufferPointer(start: base, count: count)
        var initialized = 0
        try withExtendedLifetime(block) { try body(&buffer, &initialized) }
        precondition(initialized == count, "TensorStorage(unsafeUninitializedCapacity:): the body initialized \(initialized) of \(count) elements")
    }

    /// `count` copies of `value`.
    @inlinable
    public init(repeating value: Scalar, count: Int) {
        self.init(uninitializedCount: count)
        base.initialize(repeating: value, count: count)
    }

    /// A copy of `elements`.
    @inlinable
    public init(_ elements: [Scalar]) {
        self.init(uninitializedCount: elements.count)
        let base = self.base
        elements.withUnsafeBufferPointer { source in
            if let start = source.baseAddress { base.initialize(from: start, count: source.count) }
        }
    }

    /// The elements converted from another scalar type.
    @inlinable
    public init<T: TensorScalar>(converting other: TensorStorage<T>) {
        self.init(uninitializedCount: other.count)
        let base = self.base
        other.withUnsafeBufferPointer { source in
            for i in source.indices { (base + i).initialize(to: Scalar(source[i])) }
        }
    }

    /// The first element's address (valid while `block` is alive).
    @inlinable
    var base: UnsafeMutablePointer<Scalar> { block.header.base.assumingMemoryBound(to: Scalar.self) }

    /// Calls `body` with the elements.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try withExtendedLifetime(block) { try body(UnsafeBufferPointer(start: base, count: count)) }
    }

    /// Calls `body` with the elements for modification, copying them first if the block is shared.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        makeUnique()
        let start = base
        var buffer = UnsafeMutableBufferPointer(start: start, count: count)
        defer { precondition(buffer.baseAddress == start && buffer.count == count,
                             "TensorStorage.withUnsafeMutableBufferPointer: the buffer must not be replaced") }
        return try withExtendedLifetime(block) { try body(&buffer) }
    }

    /// Copies the elements into a block of their own unless this storage is the only reference to its block.
    @inlinable
    mutating func makeUnique() {
        if isKnownUniquelyReferenced(&block) { return }
        let source = self
        self = TensorStorage(unsafeUninitializedCapacity: count) { buffer, initialized in
            source.withUnsafeBufferPointer { if let start = $0.baseAddress { buffer.baseAddress!.initialize(from: start, count: $0.count) } }
            initialized = source.count
        }
    }

    /// The elements as an array.
    @inlinable
    public var array: [Scalar] { withUnsafeBufferPointer { Array($0) } }
}

extension TensorStorage: RandomAccessCollection, MutableCollection {
    /// Positions are element offsets `0..<count`.
    public typealias Index = Int
    /// The valid positions.
    public typealias Indices = Range<Int>

    /// Always 0.
    @inlinable public var startIndex: Int { 0 }
    /// ``count``.
    @inlinable public var endIndex: Int { count }

    /// The element at `position`; setting it copies a shared block first.
    ///
    /// - Precondition: `0 <= position < count`.
    @inlinable
    public subscript(position: Int) -> Scalar {
        get {
            precondition(position >= 0 && position < count, "TensorStorage: index \(position) out of range 0..<\(count)")
            return withExtendedLifetime(block) { base[position] }
        }
        set {
            precondition(position >= 0 && position < count, "TensorStorage: index \(position) out of range 0..<\(count)")
            makeUnique()
            withExtendedLifetime(block) { base[position] = newValue }
        }
    }

    /// Calls `body` with the elements (they are always contiguous).
    @inlinable
    public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R? {
        try withUnsafeBufferPointer(body)
    }
}

// MARK: - The cache of large buffers

/// Free lists, counters and the limit of the process-wide buffer cache, guarded by its mutex.
///
/// Each size class has an intrusive free list: a free buffer's first word holds the address of
/// the next free buffer of its class, so caching and reusing a buffer allocates nothing (a
/// dictionary of arrays here cost three heap allocations per reuse, in its accessor coroutines).
struct BufferCacheState: ~Copyable {
    /// The first free buffer of each size class (address bit pattern; 0 when the list is empty).
    var heads = [UInt](repeating: 0, count: BufferCache.classCount)
    var cachedBytes = 0
    var cachedBuffers = 0
    var limit = TensorMemory.defaultCacheLimit
    var reused = 0
    var allocated = 0
    var freedToSystem = 0

    /// Removes and returns the first buffer of size class `index`, or `nil` when there is none.
    mutating func pop(_ index: Int) -> UInt? {
        let head = heads[index]
        guard head != 0, let pointer = UnsafeMutableRawPointer(bitPattern: head) else { return nil }
        heads[index] = pointer.load(as: UInt.self)
        cachedBytes -= BufferCache.capacity(ofClass: index)
        cachedBuffers -= 1
        return head
    }

    /// Puts `address`, a free buffer of size class `index`, at the front of its list.
    mutating func push(_ address: UInt, _ index: Int) {
        UnsafeMutableRawPointer(bitPattern: address)!.storeBytes(of: heads[index], as: UInt.self)
        heads[index] = address
        cachedBytes += BufferCache.capacity(ofClass: index)
        cachedBuffers += 1
    }

    /// Takes buffers out of the lists, other classes than `keeping` first, until `bytes` more fit under `bound`.
    mutating func evict(toFit bytes: Int, under bound: Int, keeping: Int? = nil) -> [UInt] {
        var evicted: [UInt] = []
        var index = 0
        while cachedBytes + bytes > bound, index < heads.count {
            if index != keeping, let address = pop(index) { evicted.append(address) } else { index += 1 }
        }
        if let keeping {
            while cachedBytes + bytes > bound, let address = pop(keeping) { evicted.append(address) }
        }
        freedToSystem += evicted.count
        return evicted
    }
}

/// The process-wide cache of large tensor buffers behind ``TensorMemory``.
///
/// A buffer's size class rounds its byte count up to the next of four steps per power of two
/// (at most 25 % more), so tensors whose sizes differ slightly share buffers. The pages of the
/// rounded-up tail are never touched, so they cost address space, not memory.
final class BufferCache: Sendable {
    static let shared = BufferCache()
    /// Four classes per power of two up to 2⁶³ bytes.
    static let classCount = 256
#if METAFOLIO_TSAN
    let state = PthreadMutex(BufferCacheState())
#else
    let state = Mutex(BufferCacheState())
#endif

    /// The size class of a request of `byteCount ≥ 64` bytes: `(4 + q)·2^(k−2)` bytes, `q ∈ 0…3`,
    /// the smallest at least `byteCount`, as the index `4k + q`.
    static func classIndex(_ byteCount: Int) -> Int {
        let octave = Int.bitWidth - 1 - byteCount.leadingZeroBitCount
        let step = 1 << (octave - 2)
        let quarters = (byteCount + step - 1) / step // 4…8
        return quarters == 8 ? 4 * (octave + 1) : 4 * octave + quarters - 4
    }

    /// The bytes of a buffer of size class `index`.
    static func capacity(ofClass index: Int) -> Int { (4 + index % 4) << (index / 4 - 2) }

    /// The bytes of the size class of a request of `byteCount` bytes.
    static func sizeClass(_ byteCount: Int) -> Int { capacity(ofClass: classIndex(byteCount)) }

    /// A buffer of at least `byteCount` bytes, 64-byte aligned: a cached one of the same size class if any.
    func acquire(byteCount: Int) -> (UnsafeMutableRawPointer, Int) {
        let index = Self.classIndex(byteCount)
        let capacity = Self.capacity(ofClass: index)
        let reused: UInt? = state.withLock { state in
            guard let address = state.pop(index) else {
                state.allocated += 1
                return nil
            }
            state.reused += 1
            return address
        }
        if let reused, let pointer = UnsafeMutableRawPointer(bitPattern: reused) { return (pointer, capacity) }
        return (UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64), capacity)
    }

    /// Takes back a buffer from ``acquire(byteCount:)``: keeps it for reuse, making room by freeing
    /// buffers of other size classes when the cache is full, or frees it when it does not fit.
    func release(_ pointer: UnsafeMutableRawPointer, capacity: Int) {
        let index = Self.classIndex(capacity)
        let address = UInt(bitPattern: pointer)
        let toFree: [UInt] = state.withLock { state in
            var evicted = state.cachedBytes + capacity > state.limit
                ? state.evict(toFit: capacity, under: state.limit, keeping: index) : []
            if state.cachedBytes + capacity > state.limit {
                evicted.append(address)
                state.freedToSystem += 1
            } else {
                state.push(address, index)
            }
            return evicted
        }
        for address in toFree { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }

    /// Frees cached buffers until at most `limit` bytes are kept.
    func trim(to limit: Int) {
        let toFree = state.withLock { $0.evict(toFit: 0, under: limit) }
        for address in toFree { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }
}

/// The process-wide cache of large tensor buffers.
///
/// When a tensor of at least ``minimumCachedBlockBytes`` bytes dies, its buffer is kept and
/// handed to the next tensor of the same size class instead of going back to the C library,
/// which would return it to the kernel and page-fault it in again on the next training step.
/// The cache never holds more than ``cacheLimit`` bytes of free buffers (default
/// ``defaultCacheLimit``): when it is full it frees buffers of other size classes first, then the
/// incoming one. Buffers in use by live tensors do not count against the limit.
///
/// The cache is thread-safe (one mutex) and affects only `Tensor` storage, not the host
/// application's own allocations. Reused buffers carry stale bytes, never shown to a caller:
/// every tensor operation writes all elements of its result.
public enum TensorMemory {
    /// Buffers of at least this many bytes (32 KiB) are cached; smaller ones are part of their
    /// storage object and freed with it.
    public static let minimumCachedBlockBytes = 32 << 10

    /// The default bound on the bytes of free buffers kept: 512 MiB.
    public static let defaultCacheLimit = 512 << 20

    /// The most bytes of free buffers the cache keeps.
    public static var cacheLimit: Int { BufferCache.shared.state.withLock { $0.limit } }

    /// Sets ``cacheLimit``, freeing cached buffers beyond the new bound at once. `0` turns caching off.
    ///
    /// - Throws: ``TensorError/invalidCacheLimit(_:)`` for a negative value.
    public static func setCacheLimit(_ bytes: Int) throws {
        guard bytes >= 0 else { throw TensorError.invalidCacheLimit(bytes) }
        BufferCache.shared.state.withLock { $0.limit = bytes }
        BufferCache.shared.trim(to: bytes)
    }

    /// Frees every cached buffer (the limit is unchanged).
    public static func releaseCachedBuffers() { BufferCache.shared.trim(to: 0) }

    /// Counters of the cache since the process started.
    public struct Statistics: Sendable, Equatable {
        /// Requests served with a cached buffer.
        public var reusedBuffers: Int
        /// Requests that allocated a new buffer.
        public var allocatedBuffers: Int
        /// Buffers given back to the C library (cache full, lowered limit, or released).
        public var freedBuffers: Int
        /// Free buffers currently cached.
        public var cachedBuffers: Int
        /// Their bytes.
        public var cachedBytes: Int
    }

    /// A snapshot of the cache's counters.
    public static var statistics: Statistics {
        BufferCache.shared.state.withLock { state in
            Statistics(reusedBuffers: state.reused, allocatedBuffers: state.allocated, freedBuffers: state.freedToSystem,
                       cachedBuffers: state.cachedBuffers, cachedBytes: state.cachedBytes)
        }
    }
}
