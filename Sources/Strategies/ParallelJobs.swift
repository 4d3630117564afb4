import Foundation
import Linalg
import Synchronization

/// Runs `count` independent jobs on the available cores and returns their results in job order,
/// so the output does not depend on which job finishes first; throws the first error in job order.
func runInParallel<T: Sendable>(_ count: Int, _ job: @Sendable (Int) throws -> T) throws -> [T] {
#if METAFOLIO_TSAN
    let outcomes = PthreadMutex<[Result<T, any Error>?]>(Array(repeating: nil, count: count))
#else
    let outcomes = Mutex<[Result<T, any Error>?]>(Array(repeating: nil, count: count))
#endif
    DispatchQueue.concurrentPerform(iterations: count) { index in
        let outcome = Result { try job(index) }
        outcomes.withLock { $0[index] = outcome }
    }
    return try outcomes.withLock { $0 }.map { try $0!.get() }
}

/// The mean and the sample standard deviation (0 for one value, `NaN` for none).
func meanAndSpread(_ values: [Double]) -> (mean: Double, standardDeviation: Double) {
    guard !values.isEmpty else { return (.nan, .nan) }
    let mean = values.reduce(0, +) / Double(values.count)
    guard values.count > 1 else { return (mean, 0) }
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    return (mean, variance.squareRoot())
}
