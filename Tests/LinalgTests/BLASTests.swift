import Testing
@testable import Linalg

// Every matrix here has small integer entries and every scalar is a power of two, so each
// product and sum is exact in binary floating point: comparisons are exact (tolerance 0),
// against a triple loop written out in the test or against values derived by hand.

/// `alpha·A·B + beta·C` by the textbook triple loop, the oracle for gemm.
private func textbookProduct(_ a: Matrix, _ b: Matrix, alpha: Double = 1, beta: Double = 0, c: Matrix? = nil) -> Matrix {
    Matrix(rows: a.rows, columns: b.columns) { i, j in
        var sum = 0.0
        for p in 0..<a.columns { sum += a[i, p] * b[p, j] }
        return alpha * sum + (beta == 0 ? 0 : beta * (c?[i, j] ?? 0))
    }
}

/// A deterministic integer-valued matrix so that results are exact.
private func integerMatrix(_ rows: Int, _ columns: Int, seed: Int) -> Matrix {
    Matrix(rows: rows, columns: columns) { i, j in Double((i * 7 + j * 3 + seed * 5) % 11 - 5) }
}

@Suite("BLAS wrappers")
struct BLASTests {
    @Test("gemm: all four transpose combinations with alpha and beta, into existing storage",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemmTransposes(transposeA: Bool, transposeB: Bool) throws {
        // Tolerance: none (exact integer arithmetic, see the top of the file).
        let opA = integerMatrix(3, 4, seed: 1), opB = integerMatrix(4, 2, seed: 2)
        let storedA = transposeA ? opA.transposed() : opA
        let storedB = transposeB ? opB.transposed() : opB
        let initialC = integerMatrix(3, 2, seed: 3)
        var c = initialC
        let sharedCopy = c // shares storage with c until gemm writes
        try BLAS.gemm(storedA, storedB, transposeA: transposeA, transposeB: transposeB, alpha: 2, beta: 0.5, into: &c)
        #expect(c == textbookProduct(opA, opB, alpha: 2, beta: 0.5, c: initialC))
        #expect(sharedCopy == initialC, "copy-on-write: writing into c must not touch a copy of it")
    }

    @Test("gemm with beta = 0 ignores NaN already in C (BLAS semantics)")
    func gemmBetaZeroIgnoresNaN() throws {
        // Tolerance: none — exact integer arithmetic (see the top of the file).
        let a = integerMatrix(2, 3, seed: 4), b = integerMatrix(3, 2, seed: 5)
        var c = Matrix(rows: 2, columns: 2, repeating: .nan)
        try BLAS.gemm(a, b, into: &c)
        #expect(c == textbookProduct(a, b))
    }

    @Test("gemm with an empty inner dimension scales C by beta")
    func gemmEmptyInnerDimension() throws {
        // Tolerance: none — exact integer arithmetic (see the top of the file).
        // A·B is the 2×3 zero matrix when the inner dimension is 0, so C ← beta·C.
        var c = Matrix(rows: 2, columns: 3, repeating: 4)
        try BLAS.gemm(Matrix(rows: 2, columns: 0), Matrix(rows: 0, columns: 3), alpha: 3, beta: 0.5, into: &c)
        #expect(c == Matrix(rows: 2, columns: 3, repeating: 2))
        try BLAS.gemm(Matrix(rows: 2, columns: 0), Matrix(rows: 0, columns: 3), into: &c)
        #expect(c == Matrix(rows: 2, columns: 3))
    }

    @Test("1×1 gemm, gemv and syrk by hand")
    func oneByOne() throws {
        // Tolerance: none — exact integer arithmetic (see the top of the file).
        // 2·(3·(−4)) + 0.5·10 = −19; 3·(−4) = −12 for gemv; syrk: 2·3² + 0.5·10 = 23.
        let a = try Matrix([[3]]), b = try Matrix([[-4]])
        var c = try Matrix([[10]])
        try BLAS.gemm(a, b, alpha: 2, beta: 0.5, into: &c)
        #expect(c == (try Matrix([[-19]])))
        var y = [7.0]
        try BLAS.gemv(a, [-4], into: &y)
        #expect(y == [-12])
        var s = try Matrix([[10]])
        try BLAS.syrk(a, alpha: 2, beta: 0.5, into: &s)
        #expect(s == (try Matrix([[23]])))
    }

    @Test("gemm reports both operand shapes (after transposition) on a mismatch")
    func gemmErrors() throws {
        // Tolerance: none — typed errors are compared exactly, payload included.
        var c = Matrix(rows: 2, columns: 2)
        #expect(throws: LinalgError.dimensionMismatch(operation: "gemm", lhs: Shape(2, 3), rhs: Shape(2, 3))) {
            try BLAS.gemm(Matrix(rows: 2, columns: 3), Matrix(rows: 2, columns: 3), into: &c)
        }
        // op(A) = (3×2)ᵀ = 2×3 against op(B) = 2×2.
        #expect(throws: LinalgError.dimensionMismatch(operation: "gemm", lhs: Shape(2, 3), rhs: Shape(2, 2))) {
            try BLAS.gemm(Matrix(rows: 3, columns: 2), Matrix(rows: 2, columns: 2), transposeA: true, into: &c)
        }
        var wrongOutput = Matrix(rows: 3, columns: 3, repeating: 9)
        #expect(throws: LinalgError.dimensionMismatch(operation: "gemm (output)", lhs: Shape(2, 4), rhs: Shape(3, 3))) {
            try BLAS.gemm(Matrix(rows: 2, columns: 3), Matrix(rows: 4, columns: 3), transposeB: true, into: &wrongOutput)
        }
        #expect(wrongOutput == Matrix(rows: 3, columns: 3, repeating: 9), "a rejected call leaves the output untouched")
        #expect(throws: LinalgError.dimensionMismatch(operation: "gemm", lhs: Shape(2, 3), rhs: Shape(2, 3))) {
            try Matrix(rows: 2, columns: 3).multiplied(by: Matrix(rows: 2, columns: 3))
        }
    }

    @Test("gemv with and without transpose, alpha and beta", arguments: [false, true])
    func gemv(transpose: Bool) throws {
        // Tolerance: none — exact integer arithmetic (see the top of the file).
        let a = integerMatrix(3, 4, seed: 6)
        let op = transpose ? a.transposed() : a
        let x = (0..<op.columns).map { Double($0 * 2 - 3) }
        let initialY = (0..<op.rows).map { Double(10 - $0) }
        var y = initialY
        try BLAS.gemv(a, x, transpose: transpose, alpha: -2, beta: 0.25, into: &y)
        let expected = textbookProduct(op, try columnMatrix(x), alpha: -2, beta: 0.25, c: try columnMatrix(initialY))
        #expect(y == expected.elements)
        #expect(try a.multiplied(by: (0..<4).map(Double.init)) == textbookProduct(a, try columnMatrix((0..<4).map(Double.init))).elements)
    }

    @Test("gemv reports the operand shapes on a mismatch")
    func gemvErrors() throws {
        // Tolerance: none — typed errors are compared exactly, payload included.
        let a = Matrix(rows: 2, columns: 3)
        var y = [0.0, 0.0]
        #expect(throws: LinalgError.dimensionMismatch(operation: "gemv", lhs: Shape(2, 3), rhs: Shape(2, 1))) {
            try BLAS.gemv(a, [1, 2], into: &y)
        }
        #expect(throws: LinalgError.dimensionMismatch(operation: "gemv", lhs: Shape(3, 2), rhs: Shape(3, 1))) {
            try BLAS.gemv(a, [1, 2, 3], transpose: true, into: &y)
        }
        #expect(throws: LinalgError.dimensionMismatch(operation: "gemv (output)", lhs: Shape(2, 1), rhs: Shape(3, 1))) {
            var long = [0.0, 0, 0]
            try BLAS.gemv(a, [1, 2, 3], into: &long)
        }
    }

    @Test("syrk fills both triangles by default, for A·Aᵀ and Aᵀ·A", arguments: [false, true])
    func syrkBothTriangles(transpose: Bool) throws {
        let a = integerMatrix(3, 5, seed: 7)
        let product = transpose ? textbookProduct(a.transposed(), a) : textbookProduct(a, a.transposed())
        let n = product.rows
        let initialC = Matrix(rows: n, columns: n) { i, j in Double(i + j) } // symmetric, so beta·C is too
        var c = initialC
        try BLAS.syrk(a, transpose: transpose, alpha: 2, beta: -1, into: &c)
        #expect(c == Matrix(rows: n, columns: n) { i, j in 2 * product[i, j] - initialC[i, j] })
        #expect(c.isSymmetric(tolerance: 0))
        #expect(a.gram() == textbookProduct(a.transposed(), a))
    }

    @Test("syrk with fillBothTriangles: false writes only the upper triangle")
    func syrkUpperOnly() throws {
        // Tolerance: none — exact integer arithmetic (see the top of the file).
        let a = integerMatrix(4, 3, seed: 8)
        let product = textbookProduct(a, a.transposed())
        let sentinel = -77.0
        var c = Matrix(rows: 4, columns: 4, repeating: sentinel)
        try BLAS.syrk(a, into: &c, fillBothTriangles: false)
        for i in 0..<4 {
            for j in 0..<4 { #expect(c[i, j] == (j >= i ? product[i, j] : sentinel), "(\(i), \(j))") }
        }
    }

    @Test("syrk reports the required and the given output shape")
    func syrkErrors() throws {
        // Tolerance: none — typed errors are compared exactly, payload included.
        var c = Matrix(rows: 3, columns: 3)
        #expect(throws: LinalgError.dimensionMismatch(operation: "syrk (output)", lhs: Shape(2, 2), rhs: Shape(3, 3))) {
            try BLAS.syrk(Matrix(rows: 2, columns: 5), into: &c)
        }
        #expect(throws: LinalgError.dimensionMismatch(operation: "syrk (output)", lhs: Shape(5, 5), rhs: Shape(3, 3))) {
            try BLAS.syrk(Matrix(rows: 2, columns: 5), transpose: true, into: &c)
        }
    }

    @Test("dimensions beyond 32-bit BLAS integers are rejected, not truncated")
    func thirtyTwoBitLimit() throws {
        // Tolerance: none — typed errors are compared exactly, payload included.
        // Empty matrices make a 2³¹ inner dimension possible without allocating anything.
        let huge = Int(Int32.max) + 1
        var empty = Matrix(rows: 0, columns: 0)
        let message = "dimension \(huge) exceeds the 32-bit BLAS integer range"
        #expect(throws: LinalgError.invalidArgument(operation: "gemm", message: message)) {
            try BLAS.gemm(Matrix(rows: 0, columns: huge), Matrix(rows: huge, columns: 0), into: &empty)
        }
        #expect(throws: LinalgError.invalidArgument(operation: "syrk", message: message)) {
            try BLAS.syrk(Matrix(rows: 0, columns: huge), into: &empty)
        }
    }

    @Test("dot, axpy, scal and nrm2 by hand")
    func level1() throws {
        // 1·4 + 2·(−5) + 3·6 = 12.
        #expect(try BLAS.dot([1, 2, 3], [4, -5, 6]) == 12)
        #expect(try BLAS.dot([], []) == 0)
        // y ← 3·x + y = (3 + 1, −6 + 1, 9 + 1).
        var y = [1.0, 1, 1]
        try BLAS.axpy(3, [1, -2, 3], &y)
        #expect(y == [4, -5, 10])
        var x = [1.0, -2, 0.5]
        BLAS.scal(-4, &x)
        #expect(x == [-4, 8, -2])
        // ‖(3, 4)‖ = 5; ‖(1e200, 1e200)‖ = √2·1e200 would overflow if squared naively.
        let tolerance = 2 * eps // relative; dnrm2 scales, so a couple of roundings
        expectWithin(relativeError(BLAS.nrm2([3, 4]), 5), tolerance, "‖(3,4)‖")
        expectWithin(relativeError(BLAS.nrm2([1e200, 1e200]), 2.0.squareRoot() * 1e200), tolerance, "no overflow")
        #expect(BLAS.nrm2([]) == 0)
    }

    @Test("dot and axpy report both lengths on a mismatch")
    func level1Errors() throws {
        // Tolerance: none — typed errors are compared exactly, payload included.
        #expect(throws: LinalgError.dimensionMismatch(operation: "dot", lhs: Shape(3, 1), rhs: Shape(2, 1))) {
            try BLAS.dot([1, 2, 3], [1, 2])
        }
        var y = [1.0, 2, 3, 4]
        #expect(throws: LinalgError.dimensionMismatch(operation: "axpy", lhs: Shape(2, 1), rhs: Shape(4, 1))) {
            try BLAS.axpy(1, [1, 2], &y)
        }
        #expect(y == [1, 2, 3, 4], "a rejected axpy leaves y untouched")
    }
}
