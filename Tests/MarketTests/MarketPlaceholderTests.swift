import Testing
@testable import Market

// Replaced by the Market test suite (issue 6).
