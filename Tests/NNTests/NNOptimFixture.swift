import Autodiff
import Foundation
import Testing

/// `Fixtures/nn_optim.json`, written by Scripts/fixtures/nn_optim.py from PyTorch.
struct NNOptimFixture: Decodable {
    let torchVersion: String
    let optimizers: OptimizerSection
    let schedules: [ScheduleCase]
    let clipping: ClippingSection
    let losses: [LossCase]
    let transactionRemainder: RemainderCase

    enum CodingKeys: String, CodingKey {
        case torchVersion = "torch_version", optimizers, schedules, clipping, losses
        case transactionRemainder = "transaction_remainder"
    }

    /// Decoded once per test process.
    static let shared: Result<NNOptimFixture, any Error> = Result { try fixtures.load("nn_optim") }
    static func load() throws -> NNOptimFixture { try shared.get() }
}

/// A tensor as the script writes it: shape and row-major data.
struct TensorJSON: Decodable {
    let shape: [Int]
    let data: [Double]

    func tensor<S: TensorScalar>(_: S.Type = S.self) throws -> Tensor<S> {
        try Tensor(shape: shape, scalars: data.map { S($0) })
    }
}

/// A JSON option value: a number, a Boolean, a list of numbers or a string.
enum OptionValue: Decodable {
    case number(Double)
    case bool(Bool)
    case list([Double])
    case string(String)

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let x = try? c.decode(Double.self) { self = .number(x) }
        else if let l = try? c.decode([Double].self) { self = .list(l) }
        else { self = .string(try c.decode(String.self)) }
    }
}

extension [String: OptionValue] {
    func number(_ key: String, default value: Double) -> Double {
        if case .number(let x)? = self[key] { return x }
        return value
    }
    func flag(_ key: String) -> Bool {
        if case .bool(let b)? = self[key] { return b }
        return false
    }
    func list(_ key: String) -> [Double]? {
        if case .list(let l)? = self[key] { return l }
        return nil
    }
}

struct OptimizerSection: Decodable {
    let initial: [TensorJSON]
    let a: [TensorJSON]
    let c: [TensorJSON]
    let q: Double
    let steps: Int
    let cases: [OptimizerCase]
}

struct OptimizerCase: Decodable {
    let name: String
    let optimizer: String
    let options: [String: OptionValue]
    let afterStep1: [TensorJSON]
    let afterStep10: [TensorJSON]
    let afterStep10Float32: [TensorJSON]

    enum CodingKeys: String, CodingKey {
        case name, optimizer, options, afterStep1 = "after_step_1", afterStep10 = "after_step_10"
        case afterStep10Float32 = "after_step_10_float32"
    }
}

struct ScheduleCase: Decodable {
    let name: String
    let baseLR: Double
    let options: [String: OptionValue]
    let lrs: [Double]

    enum CodingKeys: String, CodingKey { case name, baseLR = "base_lr", options, lrs }
}

struct ClippingSection: Decodable {
    let gradients: [TensorJSON]
    let cases: [ClippingCase]
}

struct ClippingCase: Decodable {
    let kind: String
    let maxNorm: Double?
    let normType: OptionValue?
    let limit: Double?
    let dtype: String
    let totalNorm: Double?
    let clipped: [TensorJSON]

    enum CodingKeys: String, CodingKey {
        case kind, maxNorm = "max_norm", normType = "norm_type", limit, dtype, totalNorm = "total_norm", clipped
    }

    var normOrder: Double {
        switch normType {
        case .number(let p)?: p
        case .string("inf")?: .infinity
        default: 2
        }
    }
}

struct LossCase: Decodable {
    let name: String
    let options: [String: OptionValue]
    let inputs: [String: TensorJSON]
    let differentiable: [String]
    let results: [String: LossResult]
}

struct RemainderCase: Decodable {
    let purchaseRate: Double
    let saleRate: Double
    let previous: TensorJSON
    let new: TensorJSON
    let mu: [Double]

    enum CodingKeys: String, CodingKey {
        case purchaseRate = "purchase_rate", saleRate = "sale_rate", previous, new, mu
    }
}

struct LossResult: Decodable {
    let cotangent: TensorJSON
    let float64: LossOutput
    let float32: LossOutput?
}

struct LossOutput: Decodable {
    let output: TensorJSON
    let gradients: [String: TensorJSON]
}

/// `|a − b| ≤ tolerance·max(1, |b|)` for every element; records a failure naming `label` otherwise.
func expectClose(_ actual: [Double], _ expected: [Double], tolerance: Double, _ label: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(label): \(actual.count) values, expected \(expected.count)",
            sourceLocation: sourceLocation)
    var worst = 0.0
    for (a, b) in zip(actual, expected) {
        let error = Swift.abs(a - b) / Swift.max(1, Swift.abs(b))
        worst = Swift.max(worst, error.isNaN ? .infinity : error)
    }
    #expect(worst <= tolerance, "\(label): scaled error \(worst) > \(tolerance)", sourceLocation: sourceLocation)
}

extension Tensor {
    var doubles: [Double] { scalars.map { Double($0) } }
}
