import Testing
@testable import Portfolio
