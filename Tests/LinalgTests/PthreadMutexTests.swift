import Foundation
import Testing
@testable import Linalg

@Suite("PthreadMutex")
struct PthreadMutexTests {
    private struct Refused: Error {}

    @Test("increments from concurrent jobs are none of them lost")
    func concurrentIncrements() {
        let counter = PthreadMutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<10_000 { counter.withLock { $0 += 1 } }
        }
        #expect(counter.withLock { $0 } == 80_000)
    }

    @Test("a throwing body leaves the value as it set it and the mutex free")
    func throwingBody() {
        let value = PthreadMutex([1, 2])
        #expect(throws: Refused.self) {
            try value.withLock { array in
                array.append(3)
                throw Refused()
            }
        }
        // A mutex still held would block here forever.
        #expect(value.withLock { $0 } == [1, 2, 3])
    }
}

/// A value that cannot be copied, like the tensor buffer cache's state.
private struct UniqueCounter: ~Copyable {
    var count = 0
}

@Suite("PthreadMutex of a noncopyable value")
struct PthreadMutexNoncopyableTests {
    @Test("guards a value that cannot be copied")
    func noncopyableValue() {
        let counter = PthreadMutex(UniqueCounter())
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<1_000 { counter.withLock { $0.count += 1 } }
        }
        #expect(counter.withLock { $0.count } == 4_000)
    }
}
