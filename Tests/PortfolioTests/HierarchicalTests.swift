import Foundation
import Linalg
import Market
import Testing
@testable import Portfolio

/// `Fixtures/portfolio_hierarchical.json`, written by `Scripts/fixtures/portfolio_hierarchical.py`
/// (SciPy 1.17 linkage, PyPortfolioOpt 1.6 `HRPOpt`, Riskfolio-Lib 7.4 `HCPortfolio` with
/// `leaf_order=False`, cvxpy 1.9 with Clarabel).
struct HierarchicalFixture: Decodable {
    struct Linkage: Decodable {
        let linkage: [[Double]]
        let leaves: [Int]
        let riskfolioHRP: [Double]
        let riskfolioHERC4: [Double]
        let riskfolioHERCGap: [Double]
        let gapClusters: Int
        let pypfoptHRP: [Double]
    }

    /// One value per linkage, decoded from the keys `single`, `complete`, `average` and `ward`.
    struct ByLinkage<Value: Decodable>: Decodable {
        let single: Value
        let complete: Value
        let average: Value
        let ward: Value

        subscript(_ method: LinkageMethod) -> Value {
            switch method {
            case .single: return single
            case .complete: return complete
            case .average: return average
            case .ward: return ward
            }
        }
    }

    struct SP500: Decodable {
        struct DistanceOfDistances: Decodable {
            let linkage: [[Double]]
            let pypfoptHRP: [Double]
        }

        private enum CodingKeys: String, CodingKey { case assets, distanceOfDistancesSingle }

        let assets: [String]
        let linkages: ByLinkage<Linkage>
        let distanceOfDistancesSingle: DistanceOfDistances

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            assets = try container.decode([String].self, forKey: .assets)
            distanceOfDistancesSingle = try container.decode(DistanceOfDistances.self, forKey: .distanceOfDistancesSingle)
            linkages = try ByLinkage(from: decoder)
        }
    }

    struct Tree: Decodable {
        let linkage: [[Double]]
        let leaves: [Int]
    }

    struct Ties: Decodable {
        private enum CodingKeys: String, CodingKey { case distances }

        let distances: [[Double]]
        let trees: ByLinkage<Tree>

        init(from decoder: Decoder) throws {
            distances = try decoder.container(keyedBy: CodingKeys.self).decode([[Double]].self, forKey: .distances)
            trees = try ByLinkage(from: decoder)
        }
    }

    struct Duplicates: Decodable {
        let returns: [[Double]]
        let single: [Double]
        let ward: [Double]
    }

    struct RiskBudgeting: Decodable {
        let equalBudgets: [Double]
        let rampBudgets: [Double]
        let ramp: [Double]
        let riskfolioEqual: [Double]
    }

    let sp500: SP500
    let ties: Ties
    let duplicates: Duplicates
    let riskBudgeting: RiskBudgeting
}

/// HRP weights are closed-form given the tree: they differ from the peers' only by rounding of the
/// correlations (pandas vs ours), so 1e-10 absolute is a strict bound.
let hrpTolerance = 1e-10
/// HERC adds nothing iterative either; 1e-8 is the brief's bound (observed ≈1e-16).
let hercTolerance = 1e-8
/// Merge heights from our correlations vs pandas' `corr()`: both within a few ulps of the same value.
let heightTolerance = 1e-12

/// Checks a dendrogram against a SciPy linkage matrix: ids and counts exactly, heights to `heightTolerance`.
func expectLinkage(_ tree: Dendrogram, _ expected: [[Double]], _ what: String,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    let actual = tree.linkageMatrix
    #expect(actual.count == expected.count, "\(what): merge count", sourceLocation: sourceLocation)
    for (a, e) in zip(actual, expected) {
        #expect(a[0] == e[0] && a[1] == e[1] && a[3] == e[3], "\(what): merge \(a) vs SciPy \(e)", sourceLocation: sourceLocation)
        #expect(abs(a[2] - e[2]) <= heightTolerance, "\(what): height \(a[2]) vs \(e[2])", sourceLocation: sourceLocation)
    }
}

func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) }
}

@Suite("Hierarchical clustering, HRP and HERC")
struct HierarchicalTests {
    let fixture: HierarchicalFixture
    let inputs: OptimizationInputs

    init() throws {
        fixture = try fixtures.load("portfolio_hierarchical")
        inputs = try sp500Inputs()
    }

    @Test("S&P 500 dendrograms equal SciPy's linkage and leaves_list", arguments: LinkageMethod.allCases)
    func sp500Dendrogram(_ method: LinkageMethod) throws {
        #expect(inputs.assets == fixture.sp500.assets)
        let expected = fixture.sp500.linkages[method]
        let tree = try HierarchicalRiskParity(linkage: method).dendrogram(inputs)
        expectLinkage(tree, expected.linkage, method.rawValue)
        #expect(tree.leafOrder == expected.leaves)
    }

    @Test("HRP matches Riskfolio-Lib and PyPortfolioOpt to 1e-10", arguments: LinkageMethod.allCases)
    func hrpParity(_ method: LinkageMethod) throws {
        let allocation = try HierarchicalRiskParity(linkage: method).fit(inputs)
        let expected = fixture.sp500.linkages[method]
        #expect(allocation.method == "hrp")
        #expect(maxAbsDifference(allocation.weights, expected.riskfolioHRP) <= hrpTolerance)
        #expect(maxAbsDifference(allocation.weights, expected.pypfoptHRP) <= hrpTolerance)
        #expect(abs(allocation.weights.reduce(0, +) - 1) <= 1e-14)
        #expect(allocation.weights.allSatisfy { $0 > 0 })
    }

    @Test("HRP on López de Prado's distance of distances matches SciPy + PyPortfolioOpt to 1e-10")
    func distanceOfDistances() throws {
        let hrp = HierarchicalRiskParity(linkage: .single, distance: .distanceOfDistances)
        let expected = fixture.sp500.distanceOfDistancesSingle
        expectLinkage(try hrp.dendrogram(inputs), expected.linkage, "distance of distances")
        #expect(maxAbsDifference(try hrp.fit(inputs).weights, expected.pypfoptHRP) <= hrpTolerance)
    }

    @Test("HERC with 4 clusters matches Riskfolio-Lib to 1e-8", arguments: LinkageMethod.allCases)
    func hercFixed(_ method: LinkageMethod) throws {
        let allocation = try HierarchicalEqualRiskContribution(linkage: method, clusterCount: .fixed(4)).fit(inputs)
        #expect(allocation.method == "herc")
        #expect(maxAbsDifference(allocation.weights, fixture.sp500.linkages[method].riskfolioHERC4) <= hercTolerance)
        #expect(abs(allocation.weights.reduce(0, +) - 1) <= 1e-14)
    }

    @Test("HERC's two-difference gap picks Riskfolio-Lib's k and weights (1e-8)", arguments: LinkageMethod.allCases)
    func hercGap(_ method: LinkageMethod) throws {
        let herc = HierarchicalEqualRiskContribution(linkage: method)
        let expected = fixture.sp500.linkages[method]
        #expect(try herc.selectedClusterCount(inputs) == expected.gapClusters)
        #expect(maxAbsDifference(try herc.fit(inputs).weights, expected.riskfolioHERCGap) <= hercTolerance)
    }

    @Test("Exact ties break as in SciPy", arguments: LinkageMethod.allCases)
    func ties(_ method: LinkageMethod) throws {
        let distances = try Matrix(fixture.ties.distances)
        let tree = try HierarchicalClustering(linkage: method).fit(distances: distances)
        let expected = fixture.ties.trees[method]
        expectLinkage(tree, expected.linkage, "ties \(method.rawValue)")
        #expect(tree.leafOrder == expected.leaves)
    }

    @Test("Identical assets: HRP matches PyPortfolioOpt (1e-10) and gives the copies equal weight")
    func identicalAssets() throws {
        let returns = try ReturnObservations(assets: (0..<5).map { "A\($0)" }, values: Matrix(fixture.duplicates.returns))
        let duplicated = try OptimizationInputs(expectedReturns: nil, covariance: CovarianceEstimator().fit(returns))
        for (method, expected) in [(LinkageMethod.single, fixture.duplicates.single), (.ward, fixture.duplicates.ward)] {
            let weights = try HierarchicalRiskParity(linkage: method).fit(duplicated).weights
            #expect(maxAbsDifference(weights, expected) <= hrpTolerance, "\(method)")
            #expect(weights[1] == weights[3], "\(method)")
        }
    }

    @Test("One asset gets everything; two assets split by inverse variance (1e-15)")
    func smallUniverses() throws {
        let one = try OptimizationInputs(assets: ["X"], covariance: Matrix([[0.04]]))
        #expect(try HierarchicalRiskParity().fit(one).weights == [1])
        #expect(try HierarchicalEqualRiskContribution(clusterCount: .fixed(1)).fit(one).weights == [1])
        #expect(try HierarchicalClustering().fit(distances: Matrix([[0]])).leafOrder == [0])
        let two = try OptimizationInputs(assets: ["X", "Y"], covariance: Matrix([[0.04, 0.006], [0.006, 0.09]]))
        let expected = [0.09 / 0.13, 0.04 / 0.13]
        for method in LinkageMethod.allCases {
            #expect(maxAbsDifference(try HierarchicalRiskParity(linkage: method).fit(two).weights, expected) <= 1e-15)
        }
        for k in 1...2 {
            #expect(maxAbsDifference(try HierarchicalEqualRiskContribution(clusterCount: .fixed(k)).fit(two).weights,
                                     expected) <= 1e-15)
        }
    }

    @Test("HRP (leaf pairs by name) and HERC weights are invariant to reversing the universe (1e-14)")
    func permutationInvariance() throws {
        let order = Array(inputs.assets.indices.reversed())
        let reversed = try OptimizationInputs(assets: order.map { inputs.assets[$0] },
                                              covariance: Matrix(rows: order.count, columns: order.count) {
                                                  inputs.covariance[order[$0], order[$1]]
                                              })
        func agree(_ a: [String: Double], _ b: [String: Double]) -> Bool {
            inputs.assets.allSatisfy { abs(a[$0]! - b[$0]!) <= 1e-14 }
        }
        for method in LinkageMethod.allCases {
            let hrp = HierarchicalRiskParity(linkage: method, leafPairOrder: .assetName)
            #expect(agree(try hrp.fit(inputs).weightsByAsset, try hrp.fit(reversed).weightsByAsset), "HRP \(method)")
            let herc = HierarchicalEqualRiskContribution(linkage: method, clusterCount: .fixed(4))
            #expect(agree(try herc.fit(inputs).weightsByAsset, try herc.fit(reversed).weightsByAsset), "HERC \(method)")
        }
        // In input order (the peers' convention) a leaf pair straddling a bisection boundary swaps sides.
        let peerOrder = HierarchicalRiskParity(linkage: .single)
        #expect(!agree(try peerOrder.fit(inputs).weightsByAsset, try peerOrder.fit(reversed).weightsByAsset))
    }

    @Test("Bad inputs throw typed errors naming the asset")
    func errors() throws {
        let zero = try OptimizationInputs(assets: ["X", "Flat"], covariance: Matrix([[0.04, 0], [0, 0]]))
        #expect { try HierarchicalRiskParity().fit(zero) } throws: { error in
            guard case let PortfolioError.invalidArgument(_, message) = error else { return false }
            return message.contains("Flat")
        }
        #expect { try HierarchicalEqualRiskContribution(clusterCount: .fixed(1)).fit(zero) } throws: { error in
            guard case let PortfolioError.invalidArgument(_, message) = error else { return false }
            return message.contains("Flat")
        }
        #expect(throws: PortfolioError.nonFinite(operation: "OptimizationInputs", what: "covariance", asset: "Y", observation: nil)) {
            try OptimizationInputs(assets: ["X", "Y"], covariance: Matrix([[0.04, 0], [0, .nan]]))
        }
        let clustering = HierarchicalClustering(linkage: .ward)
        #expect { try clustering.fit(distances: Matrix([[0, .nan], [.nan, 0]]), labels: ["P", "Q"]) } throws: { error in
            guard case let PortfolioError.nonFinite(_, what, asset, _) = error else { return false }
            return asset == "P" && what == "distance to Q"
        }
        #expect(throws: PortfolioError.notSymmetric(operation: "HierarchicalClustering(ward)", row: "P", column: "Q")) {
            try clustering.fit(distances: Matrix([[0, 1], [2, 0]]), labels: ["P", "Q"])
        }
        #expect { try clustering.fit(distances: Matrix([[0, -1], [-1, 0]])) } throws: { error in
            guard case PortfolioError.invalidArgument = error else { return false }
            return true
        }
        #expect { try clustering.fit(distances: Matrix(rows: 2, columns: 3)) } throws: { error in
            guard case PortfolioError.invalidArgument = error else { return false }
            return true
        }
        #expect { try HierarchicalEqualRiskContribution(clusterCount: .fixed(21)).fit(inputs) } throws: { error in
            guard case PortfolioError.invalidArgument = error else { return false }
            return true
        }
        let two = try OptimizationInputs(assets: ["X", "Y"], covariance: Matrix([[0.04, 0.006], [0.006, 0.09]]))
        #expect { try HierarchicalEqualRiskContribution().fit(two) } throws: { error in
            guard case PortfolioError.invalidArgument = error else { return false }
            return true
        }
        #expect(throws: PortfolioError.self) { try Dendrogram(leafCount: 1, merges: []).clusterLabels(clusterCount: 2) }
    }

    @Test("An indefinite covariance with a negative cluster variance is reported as not PSD")
    func indefinite() throws {
        // Six assets with pairwise correlation −0.6: each half of three has variance 3 − 3.6 < 0.
        let bad = try OptimizationInputs(assets: (0..<6).map { "A\($0)" },
                                         covariance: Matrix(rows: 6, columns: 6) { $0 == $1 ? 1 : -0.6 })
        #expect { try HierarchicalRiskParity().fit(bad) } throws: { error in
            guard case let PortfolioError.notPositiveSemidefinite(_, smallest) = error else { return false }
            return smallest < 0
        }
    }
}
