import Foundation
import Testing
@_exported import FixtureSupport

/// This target's `Fixtures/` (peer outputs written by `Scripts/fixtures/`).
let fixtures = FixtureBundle(.module)

