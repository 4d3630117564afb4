import Foundation
import Testing

/// `metafolio forecast --denoise unet` and `--compress vae`: the quick run scores with each, reports its
/// pipeline, repeats its numbers, and rejects bad values.
@Suite struct ForecastFeatureOptionsTests {
    static let quick = ["forecast", "--quick", "--seeds", "1", "--horizons", "1", "--models", "tcn", "--json", "--no-report",
                        "--no-slope-classifier"]

    @Test func denoiserAndCompressionRunOnRequest() throws {
        let mse = { (object: [String: Any], name: String) in
            ((object["horizons"] as? [[String: Any]])?.first?["scores"] as? [[String: Any]])?.first { $0["name"] as? String == name }?["mse"] as? Double
        }
        let plain = try jsonObject(Self.quick)
        #expect(plain["featurePipeline"] as? String == "standardize, clip ±8")
        let cases: [([String], String)] = [
            (["--denoise", "unet"], "standardize, clip ±8, unet-denoise(length 8)"),
            (["--compress", "vae", "--latent", "3"], "standardize, clip ±8, vae(latent 3)"),
            (["--denoise", "unet", "--compress", "vae"], "standardize, clip ±8, unet-denoise(length 8), vae(latent 4)"),
        ]
        for (options, pipeline) in cases {
            let first = try jsonObject(Self.quick + options)
            #expect(first["featurePipeline"] as? String == pipeline)
            let model = try #require(mse(first, "tcn"))
            #expect(model.isFinite && model > 0)
            #expect(model != mse(plain, "tcn"), "\(options) left the model unchanged")
            #expect(mse(first, "zero") == mse(plain, "zero"))
            #expect(mse(try jsonObject(Self.quick + options), "tcn") == model)
        }
    }

    @Test func badValuesExitWithAMessage() throws {
        let cases: [([String], Int32, String)] = [
            (["forecast", "--quick", "--denoise", "wavelet"], 2, "--denoise"),
            (["forecast", "--quick", "--compress", "pca"], 2, "--compress"),
            (["forecast", "--quick", "--compress", "vae", "--latent", "0"], 2, "--latent"),
            (["forecast", "--quick", "--compress", "vae", "--latent", "65"], 2, "--latent"),
            (["forecast", "--quick", "--no-report", "--no-slope-classifier", "--compress", "vae", "--latent", "40"], 1, "latentSize"),
        ]
        for (arguments, status, fragment) in cases {
            let result = try runMetafolio(arguments)
            #expect(result.status == status, "\(arguments): \(result.error)")
            #expect(result.error.contains(fragment), "\(arguments): \(result.error)")
            #expect(result.output.isEmpty)
        }
    }
}
