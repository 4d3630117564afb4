import FuzzTargets

/// libFuzzer's entry point: one input to `FuzzTargets.reportFormat`.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzTargets.reportFormat(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
