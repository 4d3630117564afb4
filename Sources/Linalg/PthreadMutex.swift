#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value behind a `pthread_mutex_t`, with the `withLock` of `Synchronization.Mutex`.
///
/// ThreadSanitizer intercepts pthread mutexes but not the raw futex calls `Synchronization.Mutex`
/// makes on Linux, so under TSan every `Mutex` looks unsynchronized and its false reports would hide
/// real races. Builds for `make sanitize-thread` define `METAFOLIO_TSAN`, and the project's locks
/// then use this type instead of `Mutex` (normal builds keep `Mutex`, which stores its value inline).
package final class PthreadMutex<Value: ~Copyable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    /// A mutex guarding `value`.
    package init(_ value: consuming Value) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        self.value = value
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` on the value with the mutex held.
    package func withLock<Result: ~Copyable>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
