import Testing
@testable import Linalg

@Suite("Matrix basics")
struct MatrixBasicsTests {
    @Test("ragged rows are rejected with the offending row")
    func raggedRows() {
        #expect(throws: LinalgError.invalidArgument(operation: "Matrix.init", message: "row 1 has 1 elements, expected 2")) {
            try Matrix([[1, 2], [3]])
        }
    }

    @Test("gemm matches a hand-computed product")
    func gemmSmall() throws {
        let a = try Matrix([[1, 2, 3], [4, 5, 6]])
        let b = try Matrix([[7, 8], [9, 10], [11, 12]])
        #expect(try a.multiplied(by: b) == Matrix([[58, 64], [139, 154]]))
    }
}
