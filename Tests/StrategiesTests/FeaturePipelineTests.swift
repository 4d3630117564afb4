import Autodiff
import Foundation
import Linalg
@testable import Strategies
import Testing

/// Features of a 380-day synthetic series (window 6, 2-level MRA over 16 days, horizons 1 and 3).
private func pipelineFeatures(_ prices: [Double]) throws -> ForecastFeatures {
    try ForecastFeatures(prices: prices, configuration: ForecastFeatureConfiguration(window: 6, horizons: [1, 3], waveletLevels: 2,
                                                                                     waveletWindow: 16))
}

/// Tiny learned stages: a denoising window of 8, one epoch of U-Net training, three of VAE training, latent 3.
private let tinyDenoiser = WaveletDenoiserConfiguration(length: 8, baseChannels: 2, epochs: 1, batchSize: 32)
private let tinyCompression = VariationalCompressionConfiguration(latentSize: 3, hiddenSizes: [6], epochs: 3, batchSize: 32)

/// The pipelines with learned stages: denoising, compression and both.
private func learnedPipelines() throws -> [ForecastFeaturePipeline] {
    [try .standard(denoiser: tinyDenoiser), try .standard(compression: tinyCompression),
     try .standard(denoiser: tinyDenoiser, compression: tinyCompression)]
}

/// Expects `body` to throw ``StrategiesError/invalidArgument(component:parameter:message:)`` naming `parameter`.
private func expectInvalidArgument(_ parameter: String, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("no error for \(parameter)")
    } catch let StrategiesError.invalidArgument(_, named, _) {
        #expect(named == parameter)
    } catch {
        Issue.record("\(parameter): unexpected \(error)")
    }
}

/// Expects `body` to throw ``StrategiesError/invalidData(component:message:)``.
private func expectInvalidData(_ body: () throws -> Void) {
    #expect { try body() } throws: { error in
        if case StrategiesError.invalidData = error { return true }
        return false
    }
}

@Suite struct FeaturePipelineTests {
    /// The standard pipeline reproduces `ForecastFeatures.windows(at:scaler:)` bit for bit.
    @Test func standardPipelineEqualsTheScalerPath() throws {
        // A 30 % crash on day 200 puts scaled values beyond ±8, so the clipping is exercised.
        let features = try pipelineFeatures(syntheticPrices(380, seed: 4).enumerated().map { $0 >= 200 ? 0.7 * $1 : $1 })
        let fitRows = 100..<250
        var pipeline = ForecastFeaturePipeline.standard
        try pipeline.fit(features, rows: fitRows, seed: 1)
        let scaler = try features.scaler(fittedOn: fitRows)
        for origins in [Array(features.firstOrigin..<380), [300, 120, 379], [features.firstOrigin]] {
            let old = try features.windows(at: origins, scaler: scaler), new = try pipeline.windows(features, at: origins)
            #expect(old.shape == new.shape)
            #expect(old.scalars.map(\.bitPattern) == new.scalars.map(\.bitPattern))
        }
        #expect(try pipeline.windows(features, at: [205]).scalars.contains(-8))
        // The walk-forward with the explicit standard pipeline equals the default one.
        let prices = syntheticPrices(380, seed: 11)
        let implicit = try tinyEvaluation(prices, pipeline: nil), explicit = try tinyEvaluation(prices, pipeline: .standard)
        #expect(implicit.forecasts == explicit.forecasts && implicit.variances == explicit.variances)
    }

    /// Scrambling the prices after day 330 leaves every transformed row up to day 330 bit-identical for each
    /// learned stage, fitted on rows before the cut, and changes later rows.
    @Test func scramblingTheFutureLeavesEarlierRowsBitIdentical() throws {
        let prices = syntheticPrices(380, seed: 11), cut = 330
        var scrambled = prices
        var g = Xoshiro256StarStar(seed: 99)
        for t in (cut + 1)..<prices.count { scrambled[t] = prices[t] * Foundation.exp(0.05 * g.nextNormal()) }
        let original = try pipelineFeatures(prices), changed = try pipelineFeatures(scrambled)
        for blank in try learnedPipelines() {
            var fitted = blank
            try fitted.fit(original, rows: 150..<(cut + 1), seed: 5)
            let rows = (fitted.firstOrigin(of: original) - 5)...379
            let before = try fitted.transform(original, rows: rows), after = try fitted.transform(changed, rows: rows)
            let upToCut = cut - rows.lowerBound
            for i in 0...upToCut { #expect(before[i].map(\.bitPattern) == after[i].map(\.bitPattern), "\(fitted.summary) row \(i)") }
            #expect((upToCut + 1..<before.count).contains { before[$0] != after[$0] }, "\(fitted.summary) ignores later rows")
        }
    }

    /// The walk-forward look-ahead test with the denoiser and the compression on (one model).
    @Test func walkForwardWithLearnedStagesHasNoLookAhead() throws {
        try expectNoLookAhead { try tinyEvaluation($0, pipeline: try .standard(denoiser: tinyDenoiser, compression: tinyCompression)) }
    }

    /// Exact: the learned stages and regime-probability inputs together (the regime columns pass through
    /// the denoiser untouched and into the compression) still leave every forecast up to day 330 bit-identical.
    @Test func learnedStagesWithRegimeInputsHaveNoLookAhead() throws {
        try expectNoLookAhead { prices in
            try ForecastEvaluation.run(
                features: try pipelineFeatures(prices), models: [.tcn],
                forecaster: ForecasterConfiguration(hiddenSize: 4, headCount: 2, epochs: 2, batchSize: 32, ensembleSize: 1, seed: 3),
                walkForward: WalkForwardConfiguration(firstTestOrigin: 300, testBlockLength: 40, trainingLength: 150),
                pipeline: try .standard(denoiser: tinyDenoiser, compression: tinyCompression),
                regimeFeatures: RegimeFeatureConfiguration(kind: .hmm, states: 2, restarts: 2, seed: 6))
        }
    }

    /// A fitted pipeline saved as JSON and loaded again transforms bit-identically and encodes to the same bytes.
    @Test func saveAndLoadRoundTrip() throws {
        let features = try pipelineFeatures(syntheticPrices(380, seed: 4))
        for blank in try learnedPipelines() + [.standard] {
            var fitted = blank
            try fitted.fit(features, rows: 120..<300, seed: 2)
            let data = try fitted.jsonData()
            let loaded = try ForecastFeaturePipeline(jsonData: data)
            let origins = Array(fitted.firstOrigin(of: features)..<380)
            #expect(try fitted.windows(features, at: origins).scalars.map(\.bitPattern)
                    == loaded.windows(features, at: origins).scalars.map(\.bitPattern))
            #expect(try loaded.jsonData() == data)
            #expect(loaded.summary == fitted.summary)
        }
    }

    /// The same seed gives the same bits; another seed other weights and other compressed rows.
    @Test func sameSeedSameBits() throws {
        let features = try pipelineFeatures(syntheticPrices(380, seed: 4))
        let blank = try ForecastFeaturePipeline.standard(denoiser: tinyDenoiser, compression: tinyCompression)
        func windows(_ seed: UInt64) throws -> [UInt64] {
            var fitted = blank
            try fitted.fit(features, rows: 120..<300, seed: seed)
            return try fitted.windows(features, at: [300, 340, 379]).scalars.map(\.bitPattern)
        }
        let first = try windows(7)
        #expect(try windows(7) == first)
        #expect(try windows(8) != first)
        // The compressed windows have the latent size as their feature count.
        var fitted = blank
        try fitted.fit(features, rows: 120..<300, seed: 7)
        #expect(try fitted.windows(features, at: [300]).shape.dimensions == [1, 6, 3])
        #expect(fitted.outputColumns(features.names) == ["z1", "z2", "z3"])
    }

    /// Bad settings throw `invalidArgument` naming the parameter; misuse throws `invalidData`.
    @Test func badSettingsThrowTypedErrors() throws {
        expectInvalidArgument("length") { _ = try WaveletDenoisingStage(WaveletDenoiserConfiguration(length: 3, depth: 2)) }
        expectInvalidArgument("depth") { _ = try WaveletDenoisingStage(WaveletDenoiserConfiguration(depth: 0)) }
        expectInvalidArgument("noise") { _ = try WaveletDenoisingStage(WaveletDenoiserConfiguration(noise: -1)) }
        expectInvalidArgument("epochs") { _ = try WaveletDenoisingStage(WaveletDenoiserConfiguration(epochs: 0)) }
        expectInvalidArgument("columnPrefix") { _ = try WaveletDenoisingStage(WaveletDenoiserConfiguration(columnPrefix: "")) }
        expectInvalidArgument("latentSize") { _ = try VariationalCompressionStage(VariationalCompressionConfiguration(latentSize: 0)) }
        expectInvalidArgument("hiddenSizes") { _ = try VariationalCompressionStage(VariationalCompressionConfiguration(hiddenSizes: [0])) }
        expectInvalidArgument("klWeight") { _ = try VariationalCompressionStage(VariationalCompressionConfiguration(klWeight: .nan)) }
        expectInvalidArgument("learningRate") { _ = try VariationalCompressionStage(VariationalCompressionConfiguration(learningRate: 0)) }
        expectInvalidArgument("bound") { _ = try ClippingStage(bound: 0) }
        let features = try pipelineFeatures(syntheticPrices(380, seed: 4))
        // More latent dimensions than feature columns.
        expectInvalidArgument("latentSize") {
            var pipeline = try ForecastFeaturePipeline.standard(compression: VariationalCompressionConfiguration(latentSize: 99))
            try pipeline.fit(features, rows: 120..<300, seed: 1)
        }
        // No column with the prefix.
        expectInvalidData {
            var pipeline = try ForecastFeaturePipeline.standard(denoiser: WaveletDenoiserConfiguration(columnPrefix: "nope", length: 8))
            try pipeline.fit(features, rows: 120..<300, seed: 1)
        }
        let unfitted = try ForecastFeaturePipeline.standard(denoiser: tinyDenoiser)
        expectInvalidData { _ = try unfitted.windows(features, at: [300]) }
        var fitted = unfitted
        // Rows before the first complete row plus the lookback.
        expectInvalidData { try fitted.fit(features, rows: features.firstCompleteRow..<300, seed: 1) }
        try fitted.fit(features, rows: 120..<300, seed: 1)
        expectInvalidData { _ = try fitted.windows(features, at: [fitted.firstOrigin(of: features) - 1]) }
        expectInvalidData { _ = try fitted.windows(features, at: []) }
        // Features with other columns than the fitted ones.
        let other = try ForecastFeatures(prices: syntheticPrices(380, seed: 4), configuration: ForecastFeatureConfiguration(
            window: 6, horizons: [1, 3], waveletLevels: 3, waveletWindow: 16))
        expectInvalidData { _ = try fitted.windows(other, at: [300]) }
        expectInvalidData { _ = try ForecastFeaturePipeline(jsonData: Data("{\"stages\": 3}".utf8)) }
        // Weights that do not fit the decoded settings.
        var json = try #require(String(data: try fitted.jsonData(), encoding: .utf8))
        json = json.replacingOccurrences(of: "\"baseChannels\":2", with: "\"baseChannels\":3")
        expectInvalidData { _ = try ForecastFeaturePipeline(jsonData: Data(json.utf8)) }
        expectInvalidArgument("combination") {
            _ = try ForecastEvaluation.run(features: features, models: [.tcn], forecaster: ForecasterConfiguration(),
                                           walkForward: WalkForwardConfiguration(firstTestOrigin: 300, combination: .stacked),
                                           pipeline: try .standard(compression: tinyCompression))
        }
    }
}

/// A two-fold walk-forward of the TCN alone (one member, 2 epochs) on `prices`; `pipeline` `nil` uses the default.
private func tinyEvaluation(_ prices: [Double], pipeline: ForecastFeaturePipeline?) throws -> ForecastEvaluation {
    let features = try pipelineFeatures(prices)
    let configuration = ForecasterConfiguration(hiddenSize: 4, headCount: 2, epochs: 2, batchSize: 32, ensembleSize: 1, seed: 3,
                                                validationFraction: 0.2)
    let walkForward = WalkForwardConfiguration(firstTestOrigin: 300, testBlockLength: 40, trainingLength: 150)
    guard let pipeline else {
        return try ForecastEvaluation.run(features: features, models: [.tcn], forecaster: configuration, walkForward: walkForward)
    }
    return try ForecastEvaluation.run(features: features, models: [.tcn], forecaster: configuration, walkForward: walkForward,
                                      pipeline: pipeline)
}
