import COpenBLAS

/// The number of threads OpenBLAS uses for one call (a process-wide setting of the library).
///
/// OpenBLAS starts with one thread per core (or `OPENBLAS_NUM_THREADS`). A program that runs
/// independent small computations on several cores at once, such as several agents trained
/// side by side, is faster with one BLAS thread each: small products gain nothing from threads,
/// and idle BLAS threads spinning and yielding compete with the other computations for the cores.
public enum BLASThreading {
    /// The current thread count.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Sets the thread count for every later BLAS and LAPACK call in the process.
    ///
    /// - Throws: ``LinalgError/invalidArgument(operation:message:)`` for a count below 1.
    public static func setThreadCount(_ count: Int) throws {
        guard count >= 1, count <= Int(Int32.max) else {
            throw LinalgError.invalidArgument(operation: "BLASThreading.setThreadCount", message: "\(count) threads; at least 1 is needed")
        }
        openblas_set_num_threads(Int32(count))
    }
}
