import Testing
@testable import Portfolio

// Replaced by the Portfolio test suite.
