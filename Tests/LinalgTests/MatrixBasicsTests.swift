import Testing
@testable import Linalg

@Suite("Matrix basics")
struct MatrixBasicsTests {
    @Test("ragged rows are rejected with the offending row")
    func raggedRows() {
        // Tolerance: none — typed errors are compared exactly, payload included.
        #expect(throws: LinalgError.invalidArgument(operation: "Matrix.init", message: "row 1 has 1 elements, expected 2")) {
            try Matrix([[1, 2], [3]])
        }
    }

    @Test("gemm matches a hand-computed product")
    func gemmSmall() throws {
        // Tolerance: none — small integers, every product and sum is exact. [1,2,3]·[7,9,11] = 58 etc.
        let a = try Matrix([[1, 2, 3], [4, 5, 6]])
        let b = try Matrix([[7, 8], [9, 10], [11, 12]])
        #expect(try a.multiplied(by: b) == Matrix([[58, 64], [139, 154]]))
    }

    @Test("initializers reject inconsistent shapes with a message naming them")
    func initializerErrors() {
        // Tolerance: none — typed errors are compared exactly, payload included.
        #expect(throws: LinalgError.invalidArgument(operation: "Matrix.init", message: "5 elements cannot fill a 2×3 matrix")) {
            try Matrix(rows: 2, columns: 3, elements: [1, 2, 3, 4, 5])
        }
        #expect(throws: LinalgError.invalidArgument(operation: "Matrix.init", message: "negative shape -1×3")) {
            try Matrix(rows: -1, columns: 3, elements: [])
        }
        #expect(throws: LinalgError.invalidArgument(operation: "Matrix.init", message: "6 elements cannot fill a 4×2 matrix")) {
            try Matrix(rows: 2, columns: 3, elements: [1, 2, 3, 4, 5, 6]).reshaped(rows: 4, columns: 2)
        }
        // Built from columns, the message must name the column, not a row of some intermediate.
        #expect(throws: LinalgError.invalidArgument(operation: "Matrix.init", message: "column 2 has 1 elements, expected 2")) {
            try Matrix(columnArrays: [[1, 2], [3, 4], [5]])
        }
    }

    @Test("row-major layout, rows, columns, submatrices and the transpose, by hand")
    func layout() throws {
        // Tolerance: none; nothing here does arithmetic.
        let a = try Matrix([[1, 2, 3], [4, 5, 6]])
        #expect(a.elements == [1, 2, 3, 4, 5, 6])
        #expect(a.shape == Shape(2, 3) && a.count == 6 && !a.isSquare && !a.isEmpty)
        #expect(a.row(1) == [4, 5, 6] && a.column(2) == [3, 6])
        #expect(a.transposed() == (try Matrix([[1, 4], [2, 5], [3, 6]])))
        #expect(a.transposed().transposed() == a)
        #expect(try Matrix(columnArrays: [[1, 4], [2, 5], [3, 6]]) == a)
        #expect(a.submatrix(rows: 0..<2, columns: 1..<3) == (try Matrix([[2, 3], [5, 6]])))
        #expect(a.rows(1..<2) == (try Matrix([[4, 5, 6]])))
        #expect(a.diagonalElements == [1, 5] && a.trace == 6)
        #expect(try a.reshaped(rows: 3, columns: 2) == Matrix([[1, 2], [3, 4], [5, 6]]))
        #expect(Matrix(rows: 0, columns: 4).transposed().shape == Shape(4, 0))
        #expect(Matrix.identity(3) == Matrix.diagonal([1, 1, 1]))
        #expect(a.maxAbs == 6)
    }

    @Test("isApproximatelyEqual follows NumPy's allclose rule |a − b| ≤ atol + rtol·|b|")
    func approximateEquality() throws {
        // Tolerance: the API's own parameters; values chosen a factor 2 inside or outside the bound.
        let reference = try Matrix([[1000, 0]])
        // |1000.0005 − 1000| = 5e-4 ≤ 0 + 1e-6·1000 = 1e-3, but not ≤ 1e-4.
        let near = try Matrix([[1000.0005, 0]])
        #expect(near.isApproximatelyEqual(to: reference, absoluteTolerance: 0, relativeTolerance: 1e-6))
        #expect(!near.isApproximatelyEqual(to: reference, absoluteTolerance: 0, relativeTolerance: 1e-7))
        // At a zero reference only the absolute part counts: 5e-13 ≤ 1e-12 (the default).
        let tiny = try Matrix([[1000, 5e-13]])
        #expect(tiny.isApproximatelyEqual(to: reference))
        #expect(!tiny.isApproximatelyEqual(to: reference, absoluteTolerance: 2.5e-13))
        #expect(!reference.isApproximatelyEqual(to: Matrix(rows: 2, columns: 1)), "shapes differ")
        #expect(!(try Matrix([[.nan, 0]])).isApproximatelyEqual(to: reference), "NaN is never close")
    }

    @Test("firstNonFiniteIndex and isSymmetric")
    func predicates() throws {
        // Tolerance: none — predicates on stored values; `tolerance:` below is the API's own parameter.
        var a = Matrix(rows: 3, columns: 4)
        #expect(a.firstNonFiniteIndex() == nil)
        a[2, 1] = .infinity
        a[2, 3] = .nan
        #expect(a.firstNonFiniteIndex().map { [$0.row, $0.column] } == [2, 1], "the first in row-major order")
        var s = try Matrix([[2, 1], [1, 3]])
        #expect(s.isSymmetric())
        s[0, 1] = 1 + 1e-10
        #expect(!s.isSymmetric() && s.isSymmetric(tolerance: 1e-9))
        #expect(!Matrix(rows: 2, columns: 3).isSymmetric(tolerance: 1))
    }

    @Test("copy-on-write: mutating a copy never changes the original")
    func copyOnWrite() throws {
        // Tolerance: none — only small integers are stored or computed, all exact.
        let original = try Matrix([[1, 2], [3, 4]])
        func expectOriginalIntact(_ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(original.elements == [1, 2, 3, 4], "\(label)", sourceLocation: sourceLocation)
        }
        var copy = original
        copy[0, 0] = 100
        expectOriginalIntact("subscript set")
        #expect(copy[0, 0] == 100)

        copy = original
        copy.withUnsafeMutableBufferPointer { $0[3] = -1 }
        expectOriginalIntact("withUnsafeMutableBufferPointer")

        copy = original
        try copy.setRow(1, to: [9, 9])
        try copy.setColumn(0, to: [8, 8])
        expectOriginalIntact("setRow / setColumn")

        copy = original
        copy *= 3
        copy.symmetrize()
        expectOriginalIntact("*= and symmetrize")

        copy = original
        try BLAS.gemm(original, original, beta: 1, into: &copy)
        expectOriginalIntact("gemm into a copy of an operand")
        #expect(copy == (try Matrix([[8, 12], [18, 26]])), "A·A + A by hand: [[7,10],[15,22]] + A")

        copy = original
        var elements = copy.elements
        elements[0] = 42
        expectOriginalIntact("the elements array is a copy too")
        #expect(copy == original)
    }

    @Test("operators trap on a shape mismatch (a programmer error), like an array index out of range")
    func operatorsTrap() async {
        // Tolerance: none — only whether the process stops. Runs in a child process (exit test).
        // The message is not checked: -O builds do not reliably print precondition messages.
        await #expect(processExitsWith: .failure) {
            _ = Matrix.identity(2) + Matrix.identity(3)
        }
        await #expect(processExitsWith: .failure) {
            _ = Matrix(rows: 2, columns: 3) * Matrix(rows: 2, columns: 3)
        }
    }

    @Test("elementwise operators and their throwing forms")
    func arithmetic() throws {
        // Tolerance: none; small integers and halves are exact.
        let a = try Matrix([[1, 2], [3, 4]]), b = try Matrix([[4, 3], [2, 1]])
        #expect(a + b == Matrix(rows: 2, columns: 2, repeating: 5))
        #expect(a - b == (try Matrix([[-3, -1], [1, 3]])))
        #expect(try a.elementwiseProduct(b) == Matrix([[4, 6], [6, 4]]))
        #expect(try a.elementwiseQuotient(b) == Matrix([[0.25, 2.0 / 3], [1.5, 4]]))
        #expect(try 2 * a == a * 2 && a / 2 == Matrix([[0.5, 1], [1.5, 2]]) && -a == a * -1)
        #expect(a * [1, -1] == [-1, -1])
        #expect(throws: LinalgError.dimensionMismatch(operation: "add", lhs: Shape(2, 2), rhs: Shape(2, 3))) {
            try a.adding(Matrix(rows: 2, columns: 3))
        }
        #expect(throws: LinalgError.dimensionMismatch(operation: "subtract", lhs: Shape(2, 2), rhs: Shape(3, 2))) {
            try a.subtracting(Matrix(rows: 3, columns: 2))
        }
        #expect(throws: LinalgError.dimensionMismatch(operation: "Matrix.setRow", lhs: Shape(1, 2), rhs: Shape(1, 3))) {
            var copy = a
            try copy.setRow(0, to: [1, 2, 3])
        }
    }
}
