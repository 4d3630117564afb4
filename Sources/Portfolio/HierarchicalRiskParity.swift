import Linalg

/// The distance between assets that hierarchical allocators cluster on, derived from the correlation
/// `ρᵢⱼ = Σᵢⱼ / √(ΣᵢᵢΣⱼⱼ)` of the covariance.
public enum CodependenceDistance: String, Sendable, Hashable, CaseIterable, Codable {
    /// `dᵢⱼ = √(clip((1 − ρᵢⱼ)/2, 0, 1))`, a metric in `[0, 1]` (López de Prado, 2016, eq. 1); what
    /// PyPortfolioOpt's `HRPOpt` and Riskfolio-Lib's `codependence='pearson'` cluster on.
    case correlation
    /// `d̃ᵢⱼ = ‖d·ᵢ − d·ⱼ‖₂`, the Euclidean distance between columns of the correlation distance
    /// matrix, as in López de Prado's original snippet (2016, Snippet 16.1 of *Advances in Financial
    /// Machine Learning*, 2018).
    case distanceOfDistances
}

/// Hierarchical Risk Parity (M. López de Prado, "Building Diversified Portfolios that Outperform
/// Out of Sample", *J. Portfolio Management* 42(4), 2016).
///
/// 1. Tree clustering: ``HierarchicalClustering`` of the ``CodependenceDistance`` with ``linkage``.
/// 2. Quasi-diagonalization: assets in the dendrogram's leaf order.
/// 3. Recursive bisection: the ordered list is split into halves `[0, ⌊m/2⌋)` and `[⌊m/2⌋, m)`,
///    each half's variance `Vₕ = wₕᵀΣₕwₕ` is taken with inverse-variance weights `wₕ ∝ 1/diag(Σₕ)`,
///    and the halves get `α = 1 − V_left/(V_left + V_right)` and `1 − α` of their parent's weight.
///
/// The result is long-only and fully invested, and matches PyPortfolioOpt `HRPOpt.optimize` and
/// Riskfolio-Lib `HCPortfolio.optimization(model='HRP', rm='MV', leaf_order=False)`. Weights do not
/// depend on the covariance's scale. Tie-breaking among equal distances (identical assets) follows
/// SciPy (see ``HierarchicalClustering``); assets that are exact copies get equal weights whatever the order.
/// With SciPy's child order two assets merged with each other are taken in input order, so listing the
/// assets differently can move a bisection boundary between them; ``LeafPairOrder/assetName`` removes
/// that dependence.
///
/// Cost: `O(n²)` for the distances and the clustering, `O(n² log n)` for the bisection.
public struct HierarchicalRiskParity: PortfolioOptimizer {
    /// The linkage of the tree clustering (default single, as in the paper).
    public var linkage: LinkageMethod
    /// The distance clustered on.
    public var distance: CodependenceDistance
    /// How two leaves merged with each other are ordered in the quasi-diagonal order.
    public var leafPairOrder: LeafPairOrder
    /// The annual risk-free rate used for the reported Sharpe ratio.
    public var riskFreeRate: Double

    /// The order of two assets merged directly with each other.
    ///
    /// Every other merge is ordered the same way under both choices: a leaf before a cluster, and of
    /// two clusters the one formed lower in the tree first. Only leaf pairs depend on the input order.
    public enum LeafPairOrder: String, Sendable, Hashable, CaseIterable, Codable {
        /// The asset listed first in the inputs comes first (SciPy, PyPortfolioOpt, Riskfolio-Lib).
        case inputOrder
        /// The asset whose name sorts first comes first, so the weights do not depend on the order in
        /// which the assets are listed (when merge heights are distinct).
        case assetName
    }

    /// Creates the allocator.
    public init(linkage: LinkageMethod = .single, distance: CodependenceDistance = .correlation,
                leafPairOrder: LeafPairOrder = .inputOrder, riskFreeRate: Double = 0) {
        self.linkage = linkage
        self.distance = distance
        self.leafPairOrder = leafPairOrder
        self.riskFreeRate = riskFreeRate
    }

    /// The quasi-diagonal order of the assets (indices into `inputs.assets`) under ``leafPairOrder``.
    func quasiDiagonalOrder(_ tree: Dendrogram, assets: [String]) -> [Int] {
        guard leafPairOrder == .assetName else { return tree.leafOrder }
        let n = tree.leafCount
        let merges = tree.merges.map { merge in
            merge.left < n && merge.right < n && assets[merge.right] < assets[merge.left]
                ? Dendrogram.Merge(left: merge.right, right: merge.left, height: merge.height, count: merge.count)
                : merge
        }
        return Dendrogram(leafCount: n, merges: merges).leafOrder
    }

    /// The dendrogram the allocation is built on (leaves are indices into `inputs.assets`).
    ///
    /// - Throws: ``PortfolioError/invalidArgument(operation:message:)`` naming an asset whose variance is not positive.
    public func dendrogram(_ inputs: OptimizationInputs) throws -> Dendrogram {
        try HierarchicalInputs(inputs, operation: "HierarchicalRiskParity", distance: distance).cluster(linkage)
    }

    /// The HRP weights.
    ///
    /// - Throws: ``PortfolioError/invalidArgument(operation:message:)`` naming an asset with zero variance;
    ///   ``PortfolioError/notPositiveSemidefinite(operation:minimumEigenvalue:)`` when a cluster's variance
    ///   is negative (an indefinite covariance).
    public func fit(_ inputs: OptimizationInputs) throws -> PortfolioAllocation {
        try validateRiskFreeRate(riskFreeRate, operation: "HierarchicalRiskParity")
        let data = try HierarchicalInputs(inputs, operation: "HierarchicalRiskParity", distance: distance)
        let order = quasiDiagonalOrder(try data.cluster(linkage), assets: inputs.assets)
        var weights = [Double](repeating: 1, count: inputs.count)
        var pending: [ArraySlice<Int>] = [order[...]]
        while let items = pending.popLast() {
            guard items.count > 1 else { continue }
            let middle = items.startIndex + items.count / 2
            let left = items[..<middle], right = items[middle...]
            let share = try data.leftShare(leftVariance: data.inverseVarianceVariance(left),
                                           rightVariance: data.inverseVarianceVariance(right))
            for i in left { weights[i] *= share }
            for i in right { weights[i] *= 1 - share }
            pending.append(left)
            pending.append(right)
        }
        return PortfolioAllocation(method: "hrp", weights: weights, inputs: inputs, riskFreeRate: riskFreeRate)
    }
}

/// Hierarchical Equal Risk Contribution (T. Raffinot, "Hierarchical Clustering-Based Asset
/// Allocation", *J. Portfolio Management* 44(2), 2017; "The Hierarchical Equal Risk Contribution
/// Portfolio", SSRN 3237540, 2018), with variance as the risk measure, as in Riskfolio-Lib
/// `HCPortfolio.optimization(model='HERC', rm='MV')`.
///
/// 1. Tree clustering as in ``HierarchicalRiskParity``; the tree is cut into `k` clusters by undoing
///    its top `k − 1` merges (``Dendrogram/clusterLabels(clusterCount:)``).
/// 2. Top-down, each of those `k − 1` merges splits its parent's weight between its two children in
///    inverse proportion to their risk `R = Σ_c V_c`, the sum over the clusters `c` below the child of
///    the variance of `c`'s inverse-variance portfolio: the left child gets `1 − R_left/(R_left + R_right)`.
/// 3. Within each cluster the weight is split by inverse variance.
///
/// Cost: `O(n²)` for the clustering plus `O(k·n²)` at most for the cluster variances.
public struct HierarchicalEqualRiskContribution: PortfolioOptimizer {
    /// How many clusters to cut the tree into.
    public enum ClusterCount: Sendable, Hashable {
        /// Exactly `k` clusters, `1 ≤ k ≤ n`.
        case fixed(Int)
        /// The two-difference gap statistic of Riskfolio-Lib (after Yue, Wang and Wei, 2008), evaluated
        /// for `k ≤ min(maximum, √n) + 2`: with `W_k` the sum over the `k` clusters of the population
        /// standard deviation of their pairwise distances (`W₁ = −∞`), the first `k` maximizing
        /// `W_{k+2} + W_k − 2W_{k+1}`. Needs `n ≥ 3`.
        case twoDifferenceGap(maximum: Int)
    }

    /// The linkage of the tree clustering (default single, as Riskfolio-Lib).
    public var linkage: LinkageMethod
    /// The number of clusters (default: the two-difference gap statistic with maximum 10, as Riskfolio-Lib).
    public var clusterCount: ClusterCount
    /// The distance clustered on.
    public var distance: CodependenceDistance
    /// The annual risk-free rate used for the reported Sharpe ratio.
    public var riskFreeRate: Double

    /// Creates the allocator.
    public init(linkage: LinkageMethod = .single, clusterCount: ClusterCount = .twoDifferenceGap(maximum: 10),
                distance: CodependenceDistance = .correlation, riskFreeRate: Double = 0) {
        self.linkage = linkage
        self.clusterCount = clusterCount
        self.distance = distance
        self.riskFreeRate = riskFreeRate
    }

    /// The number of clusters ``clusterCount`` selects for `inputs`.
    ///
    /// - Throws: ``PortfolioError/invalidArgument(operation:message:)`` for a fixed count outside `1...n`,
    ///   a gap maximum below 1, fewer than 3 assets for the gap statistic, or an asset with zero variance.
    public func selectedClusterCount(_ inputs: OptimizationInputs) throws -> Int {
        let data = try HierarchicalInputs(inputs, operation: "HierarchicalEqualRiskContribution", distance: distance)
        return try selectClusterCount(data, data.cluster(linkage))
    }

    /// The HERC weights.
    ///
    /// - Throws: as ``selectedClusterCount(_:)``, and
    ///   ``PortfolioError/notPositiveSemidefinite(operation:minimumEigenvalue:)`` when a cluster's variance
    ///   is negative.
    public func fit(_ inputs: OptimizationInputs) throws -> PortfolioAllocation {
        try validateRiskFreeRate(riskFreeRate, operation: "HierarchicalEqualRiskContribution")
        let data = try HierarchicalInputs(inputs, operation: "HierarchicalEqualRiskContribution", distance: distance)
        let tree = try data.cluster(linkage)
        let k = try selectClusterCount(data, tree)
        let n = inputs.count
        let labels = try tree.clusterLabels(clusterCount: k)
        var members = [[Int]](repeating: [], count: k)
        for (asset, label) in labels.enumerated() { members[label].append(asset) }
        let clusterVariance = try members.map { try data.inverseVarianceVariance($0[...]) }
        var weights = [Double](repeating: 1, count: n)
        for merge in tree.merges.suffix(k - 1) {
            let left = tree.leaves(under: merge.left), right = tree.leaves(under: merge.right)
            func risk(_ leaves: [Int]) -> Double {
                Set(leaves.map { labels[$0] }).reduce(0) { $0 + clusterVariance[$1] }
            }
            let share = try data.leftShare(leftVariance: risk(left), rightVariance: risk(right))
            for i in left { weights[i] *= share }
            for i in right { weights[i] *= 1 - share }
        }
        for cluster in members {
            let inverse = cluster.map { 1 / data.variances[$0] }
            let total = inverse.reduce(0, +)
            for (i, v) in zip(cluster, inverse) { weights[i] *= v / total }
        }
        return PortfolioAllocation(method: "herc", weights: weights, inputs: inputs, riskFreeRate: riskFreeRate)
    }

    private func selectClusterCount(_ data: HierarchicalInputs, _ tree: Dendrogram) throws -> Int {
        let n = data.inputs.count
        switch clusterCount {
        case let .fixed(k):
            guard k >= 1, k <= n else {
                throw PortfolioError.invalidArgument(operation: data.operation, message: "cluster count \(k) must be in 1...\(n)")
            }
            return k
        case let .twoDifferenceGap(maximum):
            guard maximum >= 1 else {
                throw PortfolioError.invalidArgument(operation: data.operation, message: "gap statistic maximum \(maximum) must be ≥ 1")
            }
            guard n >= 3 else {
                throw PortfolioError.invalidArgument(operation: data.operation,
                                                     message: "the two-difference gap statistic needs at least 3 assets, got \(n); give a fixed cluster count")
            }
            let limit = Swift.min(Double(maximum), Double(n).squareRoot()) + 2
            var dispersion: [Double] = [-.infinity]
            var k = 2
            while k <= n && Double(k) <= limit {
                let labels = try tree.clusterLabels(clusterCount: k)
                var members = [[Int]](repeating: [], count: k)
                for (asset, label) in labels.enumerated() { members[label].append(asset) }
                dispersion.append(members.reduce(0) { $0 + data.distanceSpread($1) })
                k += 1
            }
            var best = 0
            var bestGap = -Double.infinity
            for i in 0..<Swift.max(dispersion.count - 2, 0) {
                let gap = dispersion[i + 2] + dispersion[i] - 2 * dispersion[i + 1]
                if i == 0 { bestGap = gap } else if gap > bestGap { best = i; bestGap = gap }
            }
            return best + 1
        }
    }
}

/// Validated covariance, variances and clustering distance shared by the hierarchical allocators.
struct HierarchicalInputs {
    let inputs: OptimizationInputs
    let operation: String
    let variances: [Double]
    let distances: Matrix

    init(_ inputs: OptimizationInputs, operation: String, distance: CodependenceDistance) throws {
        self.inputs = inputs
        self.operation = operation
        let n = inputs.count
        let sigma = inputs.covariance
        variances = sigma.diagonalElements
        if let k = variances.firstIndex(where: { !($0 > 0) }) {
            throw PortfolioError.invalidArgument(operation: operation,
                                                 message: "asset \(inputs.assets[k]) has variance \(variances[k]); its correlation is undefined")
        }
        let scale = variances.map { $0.squareRoot() }
        var d = Matrix(rows: n, columns: n)
        for i in 0..<n {
            for j in (i + 1)..<Swift.max(i + 1, n) {
                let rho = sigma[i, j] / (scale[i] * scale[j])
                let value = Swift.min(Swift.max((1 - rho) / 2, 0), 1).squareRoot()
                d[i, j] = value
                d[j, i] = value
            }
        }
        if distance == .distanceOfDistances {
            let columns = d
            for i in 0..<n {
                for j in (i + 1)..<Swift.max(i + 1, n) {
                    var sum = 0.0
                    for k in 0..<n {
                        let delta = columns[k, i] - columns[k, j]
                        sum += delta * delta
                    }
                    d[i, j] = sum.squareRoot()
                    d[j, i] = d[i, j]
                }
            }
        }
        distances = d
    }

    func cluster(_ linkage: LinkageMethod) throws -> Dendrogram {
        try HierarchicalClustering(linkage: linkage).fit(distances: distances, labels: inputs.assets)
    }

    /// `wᵀΣw` of the inverse-variance portfolio `w ∝ 1/Σᵢᵢ` of the given assets.
    func inverseVarianceVariance(_ assets: ArraySlice<Int>) throws -> Double {
        let inverse = assets.map { 1 / variances[$0] }
        let total = inverse.reduce(0, +)
        let sigma = inputs.covariance
        var variance = 0.0
        for (a, i) in assets.enumerated() {
            var row = 0.0
            for (b, j) in assets.enumerated() { row += sigma[i, j] * inverse[b] }
            variance += inverse[a] * row
        }
        variance /= total * total
        guard variance >= 0 else {
            let smallest = try inputs.covariance.symmetricEigenvalues().first ?? 0
            throw PortfolioError.notPositiveSemidefinite(operation: operation, minimumEigenvalue: smallest)
        }
        return variance
    }

    /// The left part's share `1 − V_left/(V_left + V_right)` of a bisection.
    func leftShare(leftVariance: Double, rightVariance: Double) throws -> Double {
        let total = leftVariance + rightVariance
        guard total > 0 else {
            throw PortfolioError.invalidArgument(operation: operation,
                                                 message: "two sibling clusters both have zero variance; their split is undefined")
        }
        return 1 - leftVariance / total
    }

    /// The population standard deviation of the pairwise distances within a cluster (0 for fewer than 2 pairs).
    func distanceSpread(_ members: [Int]) -> Double {
        guard members.count > 1 else { return 0 }
        var values: [Double] = []
        for (a, i) in members.enumerated() {
            for j in members[(a + 1)...] { values.append(distances[i, j]) }
        }
        let mean = values.reduce(0, +) / Double(values.count)
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (squares / Double(values.count)).squareRoot()
    }
}
