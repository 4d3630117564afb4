import Testing
@testable import Signals

// Replaced by the Signals test suite.
