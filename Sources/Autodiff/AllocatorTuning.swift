#if canImport(Glibc)
import Glibc
#endif

/// Opt-in, process-wide tuning of glibc's `malloc` for training loops that allocate and free
/// the same large tensors every step.
///
/// With glibc's defaults a freed block above the (dynamic) mmap threshold, or free memory of more
/// than twice that threshold at the top of the heap, goes back to the kernel; the next step's
/// allocation of the same size then page-faults it in again, one fault per 4 KiB page. For
/// 256 × 256 matrices this adds about 25 % to a matmul forward and backward (see the Autodiff
/// section of `Benchmarks/README.md`). ``retainFreedMemory(mmapThreshold:trimThreshold:)`` raises
/// both thresholds (`mallopt(M_MMAP_THRESHOLD)` and `mallopt(M_TRIM_THRESHOLD)`, which also fixes
/// the dynamic threshold), so the freed blocks are reused from the heap.
///
/// Tensor storage no longer depends on it: buffers of 32 KiB and more are recycled by
/// ``TensorMemory``'s own cache. It still helps a process whose other large allocations (Swift
/// arrays in user code, for example) churn the same way.
///
/// The library never calls it itself: the setting belongs to the whole process (the host
/// application's allocations included) and keeps up to `trimThreshold` bytes of freed memory
/// mapped, so it is the application's decision. The same effect without code:
/// `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456`.
public enum AllocatorTuning {
    /// Serves blocks below `mmapThreshold` bytes from the heap and returns free heap memory to the
    /// kernel only beyond `trimThreshold` bytes (defaults 32 MiB, glibc's maximum mmap threshold on
    /// 64-bit systems, and 256 MiB).
    ///
    /// Call it once, early (for example at the start of a training executable); it affects only
    /// later allocations.
    /// - Returns: `true` when glibc accepted both settings; `false` on other C libraries (nothing is
    ///   changed) or when a value is out of glibc's range.
    @discardableResult
    public static func retainFreedMemory(mmapThreshold: Int = 32 << 20, trimThreshold: Int = 256 << 20) -> Bool {
        #if canImport(Glibc)
        guard let mmap = Int32(exactly: mmapThreshold), let trim = Int32(exactly: trimThreshold), mmap > 0, trim > 0,
              // Swift's Glibc module does not include <malloc.h>: look the function up by name.
              let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        // <malloc.h>: M_TRIM_THRESHOLD is −1, M_MMAP_THRESHOLD is −3; mallopt returns 1 on success.
        return mallopt(-3, mmap) == 1 && mallopt(-1, trim) == 1
        #else
        return false
        #endif
    }
}
