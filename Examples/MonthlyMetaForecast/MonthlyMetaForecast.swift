// Monthly tasks from daily stock returns: an LSTM-attention forecaster meta-trained with MAML against
// the same network trained conventionally, both scored after one adaptation step on held-out later months.
//
// Data: Market's embedded `sp500-stocks` (adjusted closes of 20 S&P 500 stocks, daily 1990–2022).
// Example: stock i on day t; input the last 10 daily log returns (in percent) of stock i, target its
// forward 5-day log return (in percent). A task is a month: support = all examples of month m,
// query = all examples of month m + 1, with the last 5 days of month m dropped from the support (their
// targets reach into month m + 1: the embargo). Training tasks have their query before 2019-01;
// held-out tasks are the months from 2019-01 to the end, adapted on the month before.
//
// Models (same architecture and initialization): LSTM(1 → 8) → 2-head self-attention → linear head
// on the last step. MAML: second order, 1 inner SGD step with lr 0.1 (--inner-lr), Adam meta lr 0.001, meta-batch 4.
// Conventional: Adam lr 0.001 on all examples of the same training tasks, same number of updates.
// Both are then adapted with one SGD step (the same lr) on each held-out task's support set.
//
// Metrics on the query month: MSE (percent²), direction accuracy (sign of the forecast vs sign of the
// realized return) and accuracy on the 4-class slope labels of Signals (`Labels.slope`, horizon 5,
// strong threshold 0.2% per day), the forecast classified with the same thresholds.
//
//     swift run -c release MonthlyMetaForecast [--iterations N] [--seed S] [--inner-lr RATE]
import ArgumentParser
import Autodiff
import Foundation
import Linalg
import Market
import MetaLearn
import NN
import Signals

struct ExampleError: Error, CustomStringConvertible {
    let description: String
}

let lookback = 10, horizon = 5, strongPerDay = 0.002
/// Progress goes to standard error (unbuffered), results to standard output.
func progress(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

@main
struct MonthlyMetaForecast: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "MAML against conventional training for monthly stock-return tasks (LSTM-attention forecaster).")

    @Option(help: "Meta-training iterations (and conventional updates).")
    var iterations = 300
    @Option(help: "Seed of the networks and the task draws.")
    var seed: UInt64 = 5
    @Option(name: .customLong("inner-lr"), help: "Inner (adaptation) SGD step size.")
    var innerRate = 0.1

    func validate() throws {
        guard iterations >= 1 else { throw ValidationError("--iterations needs a positive integer, not \(iterations)") }
        guard innerRate > 0, innerRate.isFinite else { throw ValidationError("--inner-lr needs a positive number, not \(innerRate)") }
    }

    func run() throws {
    let panel = try Dataset.sp500Stocks.load()
    guard let dates = panel.index.dates else { throw ExampleError(description: "sp500-stocks has no dates") }
    let closes = try panel.assets.map { try panel.series($0) }
    // Rows ordered by day, then stock: a month's rows are contiguous, as PeriodTasks requires.
    var inputs: [Double] = [], targets: [Double] = [], keys: [String] = []
    var slopeLabels: [SlopeLabel] = []
    let labelsByStock = try closes.map { try Labels.slope($0, horizon: horizon, strong: strongPerDay) }
    for t in lookback..<(dates.count - horizon) {
        for (s, close) in closes.enumerated() {
            let window = close[(t - lookback)...(t + horizon)]
            guard window.allSatisfy({ $0.isFinite && $0 > 0 }), let label = labelsByStock[s][t] else { continue }
            for k in (t - lookback + 1)...t { inputs.append(100 * log(close[k] / close[k - 1])) }
            targets.append(100 * log(close[t + horizon] / close[t]))
            keys.append(String(format: "%04d-%02d", dates[t].year, dates[t].month))
            slopeLabels.append(label)
        }
    }
    let count = targets.count
    // Input and target columns: [N, lookback, 1] and [N, 2] (the return, then the slope class for scoring).
    let data = try TaskData(inputs: Tensor(shape: [count, lookback, 1], scalars: inputs),
                            targets: Tensor(shape: [count, 2], scalars: zip(targets, slopeLabels).flatMap { [$0, Double($1.rawValue)] }),
                            name: "sp500-stocks examples")
    let periods = try PeriodTasks(data: data, periodKeys: keys, embargoRows: horizon * closes.count)
    guard let heldOutStart = periods.periods.firstIndex(where: { $0.key >= "2019-01" }) else {
        throw ExampleError(description: "no months from 2019 on")
    }
    let (training, heldOut) = try periods.split(heldOutFrom: heldOutStart)
    print("\(count) examples, \(periods.periods.count) months; \(training.count) training tasks, \(heldOut.count) held-out (from \(periods.periods[heldOutStart].key))")

    func returnColumn(_ d: TaskData<Double>) -> Tensor<Double> { d.targets.sliced(alongAxis: 1, from: 0, to: 1) }
    func mse(_ m: RecurrentAttentionRegressor<Double>, _ d: TaskData<Double>) throws -> Tensor<Double> {
        try meanSquaredErrorLoss(m(d.inputs), returnColumn(d))
    }

    var generator = Xoshiro256StarStar(seed: seed)
    let initial = try RecurrentAttentionRegressor<Double>(inputSize: 1, hiddenSize: 8, headCount: 2, using: &generator)
    var maml = try MAML(initial, innerLearningRate: innerRate, innerSteps: 1)
    var conventional = JointTraining(initial)
    var metaAdam = try Adam<Double>(learningRate: 1e-3), adam = try Adam<Double>(learningRate: 1e-3)
    let pool = try TaskPool(training)
    let start = Date()
    for iteration in 1...iterations {
        let batch = try pool.metaBatch(size: 4, using: &generator)
        let report = try maml.metaStep(on: batch, optimizer: &metaAdam, loss: mse)
        let jointLoss = try conventional.step(on: batch, optimizer: &adam, loss: mse)
        if iteration % max(1, iterations / 10) == 0 {
            progress(String(format: "  iteration %4d  MAML query MSE %.3f  conventional MSE %.3f  (%.0f s)", iteration,
                         report.queryLossAfterAdaptation, jointLoss, Date().timeIntervalSince(start)))
        }
    }

    /// Forecast metrics of `model` on `data` after `steps` SGD steps on `support`.
    func score(_ model: RecurrentAttentionRegressor<Double>, steps: Int) throws -> (mse: Double, direction: Double, slope: Double) {
        var squared = 0.0, direction = 0, slope = 0, n = 0
        for task in heldOut {
            let adapted = try MAML(model, innerLearningRate: innerRate).adapted(to: task.support, steps: steps, loss: mse)
            let forecast = withoutGradients { adapted(task.query.inputs) }.scalars
            let realized = returnColumn(task.query).scalars
            let classes = task.query.targets.sliced(alongAxis: 1, from: 1, to: 2).scalars
            for (i, f) in forecast.enumerated() {
                squared += (f - realized[i]) * (f - realized[i])
                if (f >= 0) == (realized[i] >= 0) { direction += 1 }
                // The same classification as Labels.slope, applied to the forecast (percent log return over h days).
                let perDay = (exp(f / 100) - 1) / Double(horizon)
                let predicted: SlopeLabel = perDay >= strongPerDay ? .upStrong : perDay >= 0 ? .up
                    : perDay > -strongPerDay ? .down : .downStrong
                if predicted.rawValue == Int(classes[i]) { slope += 1 }
                n += 1
            }
        }
        return (squared / Double(n), Double(direction) / Double(n), Double(slope) / Double(n))
    }
    let realizedAll = heldOut.flatMap { returnColumn($0.query).scalars }
    let zeroMSE = realizedAll.reduce(0) { $0 + $1 * $1 } / Double(realizedAll.count)
    let upShare = Double(realizedAll.filter { $0 >= 0 }.count) / Double(realizedAll.count)
    print("\nHeld-out months \(heldOut.first!.name) … \(heldOut.last!.name), \(realizedAll.count) forecasts")
    print("| model | adaptation steps | MSE (%²) | direction accuracy | slope-label accuracy |")
    print("|---|---|---|---|---|")
    for (name, model) in [("MAML", maml.model), ("conventional", conventional.model)] {
        for steps in [0, 1] {
            let s = try score(model, steps: steps)
            print("| \(name) | \(steps) | " + String(format: "%.3f | %.3f | %.3f |", s.mse, s.direction, s.slope))
        }
    }
    let heldOutClasses = heldOut.flatMap { $0.query.targets.sliced(alongAxis: 1, from: 1, to: 2).scalars }
    let majority = Dictionary(grouping: heldOutClasses, by: { $0 }).values.map(\.count).max()!
    print(String(format: "| always 0 / always up / majority class | – | %.3f | %.3f | %.3f |", zeroMSE, upShare,
                 Double(majority) / Double(heldOutClasses.count)))
    }
}
