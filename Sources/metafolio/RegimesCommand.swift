import ArgumentParser
import Foundation
import MetaFolio

/// `metafolio regimes`: fits k-means, a Gaussian mixture or a Gaussian HMM to one series.
struct RegimesCommand: FailureReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "regimes",
        abstract: "Fit k-means, a Gaussian mixture or a Gaussian HMM to one series; print the fit, the states sorted by mean and the state sequence."
    )

    enum Model: String, ExpressibleByArgument, CaseIterable {
        case kmeans, gmm, hmm
    }

    @Option(name: .long, help: "Model: kmeans, gmm or hmm.")
    var model: Model = .hmm

    @Option(name: .long, help: "Number of states (clusters, components) K ≥ 1.")
    var states: Int = 2

    @OptionGroup var source: PriceSource

    @Option(name: .long, help: "Asset column to use (default: the first).")
    var column: String?

    @Flag(name: .long, help: "Model the log returns ln(Pₜ/Pₜ₋₁) instead of the levels.")
    var logReturns = false

    @Option(name: .long, help: "Seed of the initializations.")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    struct Report: Encodable {
        let model: String, column: String, source: String
        let observations: Int, droppedMissing: Int, states: Int
        let logLikelihood: Double?, inertia: Double?, bic: Double?, aic: Double?
        let iterations: Int, converged: Bool
        let weights: [Double], means: [Double], standardDeviations: [Double]
        let transition: [[Double]]?
        let sequence: [Int]
        let labels: [String]
    }

    func validate() throws {
        guard (1...RegimesLimits.maximumStates).contains(states) else {
            throw ValidationError("--states must be in 1…\(RegimesLimits.maximumStates), got \(states)")
        }
    }

    func execute() throws {
        let input = try loadSeries(dataset: source.dataset, file: source.prices, column: column, optionName: "--prices")
        var values = input.values, labels = input.labels
        if logReturns {
            if let bad = values.firstIndex(where: { $0 <= 0 }) {
                throw CommandFailure(description: "--log-returns needs positive prices; \(input.column) is \(values[bad]) at \(labels[bad])")
            }
            values = (1..<values.count).map { log(values[$0] / values[$0 - 1]) }
            labels.removeFirst()
        }
        guard values.count > states else {
            throw CommandFailure(description: "\(values.count) observations are too few for \(states) states")
        }
        // The models' own limit, checked here to name the date rather than a 0-based row.
        if let bad = values.firstIndex(where: { abs($0) > RegimesLimits.maximumMagnitude }) {
            throw CommandFailure(description: "\(input.source): \(input.column)\(logReturns ? " log return" : "") at \(labels[bad]) is \(values[bad]), "
                                 + "beyond ±\(RegimesLimits.maximumMagnitude) where the models' squared distances overflow; rescale the series")
        }
        let data = try Matrix(rows: values.count, columns: 1, elements: values)
        let report: Report
        switch model {
        case .kmeans:
            let fit = try KMeans(clusters: states).fit(data, seed: seed)
            let sequence = fit.labels
            let sd = (0..<states).map { s -> Double in
                let members = zip(values, sequence).filter { $0.1 == s }.map(\.0)
                let mean = fit.centers[s, 0]
                return (members.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(Swift.max(members.count, 1))).squareRoot()
            }
            let weights = (0..<states).map { s in Double(sequence.filter { $0 == s }.count) / Double(values.count) }
            report = Report(model: "kmeans", column: input.column, source: input.source, observations: values.count,
                            droppedMissing: input.dropped, states: states, logLikelihood: nil, inertia: fit.inertia, bic: nil, aic: nil,
                            iterations: fit.iterations, converged: fit.converged, weights: weights, means: fit.centers.column(0),
                            standardDeviations: sd, transition: nil, sequence: sequence, labels: labels)
        case .gmm:
            let fit = try GaussianMixtureEstimator(components: states, restarts: 3).fit(data, seed: seed)
            report = Report(model: "gmm", column: input.column, source: input.source, observations: values.count,
                            droppedMissing: input.dropped, states: states, logLikelihood: fit.logLikelihood, inertia: nil, bic: fit.bic,
                            aic: fit.aic, iterations: fit.iterations, converged: fit.converged, weights: fit.model.weights,
                            means: fit.model.means.column(0), standardDeviations: fit.model.covariances.map { $0[0, 0].squareRoot() },
                            transition: nil, sequence: try fit.model.predict(data), labels: labels)
        case .hmm:
            let fit = try BaumWelch(states: states).fit(data, seed: seed)
            let m = fit.model
            report = Report(model: "hmm", column: input.column, source: input.source, observations: values.count,
                            droppedMissing: input.dropped, states: states, logLikelihood: fit.logLikelihood, inertia: nil, bic: fit.bic,
                            aic: fit.aic, iterations: fit.iterations, converged: fit.converged, weights: m.startProbabilities,
                            means: m.means.column(0), standardDeviations: m.covariances.map { $0[0, 0].squareRoot() },
                            transition: (0..<states).map { m.transition.row($0) }, sequence: try m.viterbi(data).states, labels: labels)
        }
        if json { try printJSON(report); return }
        print("model \(report.model), \(states) states, \(report.observations) observations of \(report.column)\(logReturns ? " log returns" : "") from \(report.source)"
              + (report.droppedMissing > 0 ? " (\(report.droppedMissing) missing dropped)" : ""))
        if let l = report.logLikelihood { print("log-likelihood \(formatted(l, 10))   BIC \(formatted(report.bic ?? .nan, 10))   AIC \(formatted(report.aic ?? .nan, 10))") }
        if let inertia = report.inertia { print("inertia \(formatted(inertia, 10))") }
        print("iterations \(report.iterations), converged \(report.converged)")
        print("state  \(model == .hmm ? "start" : "weight")        mean            sd")
        for s in 0..<states {
            func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: Swift.max(1, width - text.count)) }
            print(pad(String(repeating: " ", count: Swift.max(0, 5 - "\(s)".count)) + "\(s)", 7) + pad(formatted(report.weights[s]), 13)
                  + pad(formatted(report.means[s]), 16) + formatted(report.standardDeviations[s]))
        }
        if let transition = report.transition {
            print("transition (row = from)")
            for row in transition { print("  " + row.map { formatted($0, 4) }.joined(separator: "  ")) }
        }
        print("state sequence (states sorted by mean, 0 = lowest):")
        print(report.sequence.map(String.init).joined(separator: states <= 10 ? "" : " "))
    }
}
