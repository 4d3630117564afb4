import Linalg

/// The constraints of a weight problem in lifted, linear form, shared by the optimizers.
///
/// Variables are `w` (n), then `t` (n) with `tᵢ ≥ |wᵢ − w⁰ᵢ|` when turnover or costs are used,
/// then `s` (n) with `sᵢ ≥ |wᵢ|` when gross leverage is limited and shorts are allowed.
struct ConstraintModel {
    struct Row {
        var coefficients: [Double]
        var lower: Double
        var upper: Double
        var label: String
    }

    let n: Int
    let assets: [String]
    let variableCount: Int
    let turnoverOffset: Int?
    let grossOffset: Int?
    let lower: [Double]
    let upper: [Double]
    let budget: Double?
    let current: [Double]?
    let transactionCost: Double
    let l2: Double
    var rows: [Row] = []

    init(inputs: OptimizationInputs, constraints c: PortfolioConstraints, operation: String) throws {
        let n = inputs.count
        self.n = n
        assets = inputs.assets
        let names = Set(inputs.assets)
        func check(_ name: String) throws {
            guard names.contains(name) else { throw PortfolioError.unknownAsset(operation: operation, asset: name) }
        }
        func finiteParameter(_ value: Double, _ what: String, allowInfinite: Bool = false) throws {
            guard !value.isNaN, allowInfinite || value.isFinite else {
                throw PortfolioError.invalidArgument(operation: operation, message: "\(what) must be a number, got \(value)")
            }
        }
        try finiteParameter(c.minimumWeight, "minimum weight", allowInfinite: true)
        try finiteParameter(c.maximumWeight, "maximum weight", allowInfinite: true)
        var lower = [Double](repeating: c.minimumWeight, count: n)
        var upper = [Double](repeating: c.maximumWeight, count: n)
        for (name, value) in c.assetLowerBounds {
            try check(name)
            try finiteParameter(value, "lower bound of \(name)", allowInfinite: true)
            lower[inputs.assets.firstIndex(of: name)!] = value
        }
        for (name, value) in c.assetUpperBounds {
            try check(name)
            try finiteParameter(value, "upper bound of \(name)", allowInfinite: true)
            upper[inputs.assets.firstIndex(of: name)!] = value
        }
        for i in 0..<n where lower[i] > upper[i] {
            throw PortfolioError.infeasible(operation: operation,
                                            conflicting: ["w[\(assets[i])] ≥ \(lower[i])", "w[\(assets[i])] ≤ \(upper[i])"],
                                            detail: "the lower bound of \(assets[i]) exceeds its upper bound")
        }
        self.lower = lower
        self.upper = upper
        budget = c.budget
        if let b = c.budget { try finiteParameter(b, "budget") }
        // Bound sums against the budget: the most common infeasibility, named precisely.
        if let b = c.budget {
            let top = upper.reduce(0, +), bottom = lower.reduce(0, +)
            if top < b {
                throw PortfolioError.infeasible(operation: operation, conflicting: ["budget Σw = \(b)", "upper bounds (sum \(top))"],
                                                detail: "the upper bounds sum to \(top) < budget \(b)")
            }
            if bottom > b {
                throw PortfolioError.infeasible(operation: operation, conflicting: ["budget Σw = \(b)", "lower bounds (sum \(bottom))"],
                                                detail: "the lower bounds sum to \(bottom) > budget \(b)")
            }
        }
        let needsTurnover = c.turnoverLimit != nil || c.transactionCost != 0
        var currentVector: [Double]? = nil
        if let weights = c.currentWeights {
            for (name, value) in weights {
                try check(name)
                guard value.isFinite else {
                    throw PortfolioError.nonFinite(operation: operation, what: "current weight", asset: name, observation: nil)
                }
            }
            currentVector = inputs.assets.map { weights[$0] ?? 0 }
        } else if needsTurnover {
            throw PortfolioError.invalidArgument(operation: operation,
                                                 message: "a turnover limit or transaction cost needs currentWeights")
        }
        current = currentVector
        try finiteParameter(c.transactionCost, "transaction cost")
        try finiteParameter(c.l2Regularization, "L2 regularization")
        guard c.transactionCost >= 0, c.l2Regularization >= 0 else {
            throw PortfolioError.invalidArgument(operation: operation, message: "transaction cost and L2 regularization must be ≥ 0")
        }
        transactionCost = c.transactionCost
        l2 = c.l2Regularization
        let allLong = lower.allSatisfy { $0 >= 0 }
        let needsGross = c.grossLeverage != nil && !allLong
        var count = n
        turnoverOffset = needsTurnover ? count : nil
        if needsTurnover { count += n }
        grossOffset = needsGross ? count : nil
        if needsGross { count += n }
        variableCount = count

        func row(_ entries: [(Int, Double)], lower: Double = -.infinity, upper: Double = .infinity, _ label: String) -> Row {
            var coefficients = [Double](repeating: 0, count: count)
            for (k, v) in entries { coefficients[k] += v }
            return Row(coefficients: coefficients, lower: lower, upper: upper, label: label)
        }
        for group in c.groups {
            let members: [Int]
            switch group.members {
            case let .assets(list):
                for name in list { try check(name) }
                members = list.map { inputs.assets.firstIndex(of: $0)! }
            case let .assetClass(assetClass):
                members = inputs.assetClasses.indices.filter { inputs.assetClasses[$0] == assetClass }
            }
            guard !members.isEmpty else {
                throw PortfolioError.invalidArgument(operation: operation, message: "group \(group.name) has no members")
            }
            guard !group.lower.isNaN, !group.upper.isNaN, group.lower <= group.upper else {
                throw PortfolioError.infeasible(operation: operation,
                                                conflicting: ["group \(group.name) ≥ \(group.lower)", "group \(group.name) ≤ \(group.upper)"],
                                                detail: "the group's lower bound exceeds its upper bound")
            }
            rows.append(row(members.map { ($0, 1.0) }, lower: group.lower, upper: group.upper,
                            "group \(group.name) in [\(group.lower), \(group.upper)]"))
        }
        if let offset = turnoverOffset, let w0 = currentVector {
            for i in 0..<n {
                rows.append(row([(offset + i, 1), (i, -1)], lower: -w0[i], "turnover split t[\(assets[i])] ≥ w − w0"))
                rows.append(row([(offset + i, 1), (i, 1)], lower: w0[i], "turnover split t[\(assets[i])] ≥ w0 − w"))
            }
            if let tau = c.turnoverLimit {
                guard tau >= 0, tau.isFinite else {
                    throw PortfolioError.invalidArgument(operation: operation, message: "turnover limit \(tau) must be finite and ≥ 0")
                }
                rows.append(row((0..<n).map { (offset + $0, 1.0) }, upper: tau, "turnover Σ|w − w0| ≤ \(tau)"))
            }
        }
        if let leverage = c.grossLeverage {
            guard leverage >= 0, leverage.isFinite else {
                throw PortfolioError.invalidArgument(operation: operation, message: "gross leverage \(leverage) must be finite and ≥ 0")
            }
            if let offset = grossOffset {
                for i in 0..<n {
                    rows.append(row([(offset + i, 1), (i, -1)], lower: 0, "gross split s[\(assets[i])] ≥ w"))
                    rows.append(row([(offset + i, 1), (i, 1)], lower: 0, "gross split s[\(assets[i])] ≥ −w"))
                }
                rows.append(row((0..<n).map { (offset + $0, 1.0) }, upper: leverage, "gross leverage Σ|w| ≤ \(leverage)"))
            } else {
                rows.append(row((0..<n).map { ($0, 1.0) }, upper: leverage, "gross leverage Σ|w| ≤ \(leverage)"))
            }
        }
    }

    var variableNames: [String] {
        var names = assets.map { "w[\($0)]" }
        if turnoverOffset != nil { names += assets.map { "t[\($0)]" } }
        if grossOffset != nil { names += assets.map { "s[\($0)]" } }
        return names
    }

    /// The QP `min ½wᵀ(Q + 2γI)w + cᵀw + cost·Σt` under the constraints.
    func program(quadratic: Matrix, linear: [Double], extraRows: [Row] = []) -> QuadraticProgram {
        let m = variableCount
        var p = Matrix(rows: m, columns: m)
        for i in 0..<n {
            for j in 0..<n { p[i, j] = quadratic[i, j] }
            p[i, i] += 2 * l2
        }
        var q = [Double](repeating: 0, count: m)
        for i in 0..<n { q[i] = linear[i] }
        if let offset = turnoverOffset { for i in 0..<n { q[offset + i] = transactionCost } }
        var program = QuadraticProgram(hessian: p, linear: q, variableNames: variableNames)
        if let b = budget {
            var ones = [Double](repeating: 0, count: m)
            for i in 0..<n { ones[i] = 1 }
            program.addEquality(ones, b, label: "budget Σw = \(b)")
        }
        for i in 0..<n {
            program.lowerBounds[i] = lower[i]
            program.upperBounds[i] = upper[i]
        }
        for k in n..<m { program.lowerBounds[k] = 0 }
        // Assembled in one pass: appending row by row would copy the matrix each time.
        let all = rows + extraRows
        program.inequalityMatrix = try! Matrix(rows: all.count, columns: m, elements: all.flatMap(\.coefficients))
        program.inequalityLower = all.map(\.lower)
        program.inequalityUpper = all.map(\.upper)
        program.inequalityLabels = all.map(\.label)
        return program
    }

    /// The homogenized program of the maximum Sharpe ratio: variables `y = κw` (and lifted `κt`, `κs`),
    /// `κ = Σy / B`, `min ½yᵀQy` subject to `excessᵀy = 1` and every constraint with its constants
    /// multiplied by `κ`.
    func homogeneousProgram(quadratic: Matrix, excess: [Double], budget b: Double) -> QuadraticProgram {
        let m = variableCount
        var p = Matrix(rows: m, columns: m)
        for i in 0..<n {
            for j in 0..<n { p[i, j] = quadratic[i, j] }
            p[i, i] += 2 * l2
        }
        var program = QuadraticProgram(hessian: p, linear: [Double](repeating: 0, count: m), variableNames: variableNames)
        var normalization = [Double](repeating: 0, count: m)
        for i in 0..<n { normalization[i] = excess[i] }
        program.addEquality(normalization, 1, label: "excess-return normalization (μ − r_f)ᵀy = 1")
        // κ·constant as a row over y.
        func homogenized(_ coefficients: [Double], constant: Double) -> [Double] {
            var result = coefficients
            for i in 0..<n { result[i] -= constant / b }
            return result
        }
        var kappa = [Double](repeating: 0, count: m)
        for i in 0..<n { kappa[i] = 1 / b }
        program.addInequality(kappa, lower: 0, label: "budget scale κ = Σy/B ≥ 0")
        for i in 0..<n {
            var unit = [Double](repeating: 0, count: m)
            unit[i] = 1
            let (lo, hi) = (lower[i], upper[i])
            if lo == 0 { program.lowerBounds[i] = 0 } else if lo.isFinite {
                program.addInequality(homogenized(unit, constant: lo), lower: 0, label: "w[\(assets[i])] ≥ \(lo)")
            }
            if hi == 0 { program.upperBounds[i] = 0 } else if hi.isFinite {
                program.addInequality(homogenized(unit, constant: hi), upper: 0, label: "w[\(assets[i])] ≤ \(hi)")
            }
        }
        for k in n..<m { program.lowerBounds[k] = 0 }
        for row in rows {
            if row.lower == row.upper {
                program.addInequality(homogenized(row.coefficients, constant: row.lower), lower: 0, upper: 0, label: row.label)
                continue
            }
            if row.lower.isFinite {
                program.addInequality(homogenized(row.coefficients, constant: row.lower), lower: 0, label: row.label + " (lower)")
            }
            if row.upper.isFinite {
                program.addInequality(homogenized(row.coefficients, constant: row.upper), upper: 0, label: row.label + " (upper)")
            }
        }
        return program
    }
}
