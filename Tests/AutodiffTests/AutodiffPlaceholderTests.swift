import Testing
@testable import Autodiff

@Suite("Autodiff module")
struct AutodiffModuleTests {
    @Test("module links") func links() { #expect(Bool(true)) }
}
