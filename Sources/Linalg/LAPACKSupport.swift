import COpenBLAS

/// LAPACK's character arguments.
enum LAPACKFlag {
    static let upper = CChar(UInt8(ascii: "U"))
    static let lower = CChar(UInt8(ascii: "L"))
    static let vectors = CChar(UInt8(ascii: "V"))
    static let none = CChar(UInt8(ascii: "N"))
    static let all = CChar(UInt8(ascii: "A"))
    static let thin = CChar(UInt8(ascii: "S"))
    static let transpose = CChar(UInt8(ascii: "T"))
}

extension Matrix {
    /// Rejects the inputs LAPACK cannot take: empty, non-square (when required) or non-finite.
    func validateForFactorization(_ operation: String, requireSquare: Bool) throws {
        if requireSquare, !isSquare {
            throw LinalgError.notSquare(operation: operation, shape: shape)
        }
        guard !isEmpty else { throw LinalgError.empty(operation: operation) }
        try validateFinite(operation)
    }

    /// Throws ``LinalgError/nonFinite(operation:row:column:)`` at the first NaN or infinity.
    func validateFinite(_ operation: String) throws {
        if let (row, column) = firstNonFiniteIndex() {
            throw LinalgError.nonFinite(operation: operation, row: row, column: column)
        }
    }

    /// Copies the strict upper triangle onto the strict lower triangle (row-major view).
    mutating func mirrorUpperToLower() {
        let n = rows
        withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                for j in 0..<i { p[i * n + j] = p[j * n + i] }
            }
        }
    }

    /// Copies the strict lower triangle onto the strict upper triangle (row-major view).
    mutating func mirrorLowerToUpper() {
        let n = rows
        withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                for j in (i + 1)..<Swift.max(i + 1, n) { p[i * n + j] = p[j * n + i] }
            }
        }
    }
}

/// Converts a LAPACK `info < 0` (an illegal argument, a bug in the wrapper) into an error.
func checkArgumentInfo(_ info: Int32, routine: String) throws {
    if info < 0 { throw LinalgError.lapackFailure(routine: routine, info: Int(info)) }
}

/// Checks that a vector is finite, naming the first bad index as a row.
func validateFinite(_ vector: [Double], _ operation: String) throws {
    if let index = vector.firstIndex(where: { !$0.isFinite }) {
        throw LinalgError.nonFinite(operation: operation, row: index, column: 0)
    }
}
