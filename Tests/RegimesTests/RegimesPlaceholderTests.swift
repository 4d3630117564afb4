import Testing
@testable import Regimes

// Replaced by the Regimes test suite.
