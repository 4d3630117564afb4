import Linalg

/// How agglomerative clustering measures the distance between two clusters (Lance–Williams updates).
///
/// With `x` and `y` merged into `z` and `i` any other cluster (sizes `nₓ`, `n_y`, `nᵢ`):
/// - ``single``: `d(z, i) = min(d(x, i), d(y, i))`;
/// - ``complete``: `d(z, i) = max(d(x, i), d(y, i))`;
/// - ``average`` (UPGMA): `d(z, i) = (nₓ·d(x, i) + n_y·d(y, i)) / (nₓ + n_y)`;
/// - ``ward``: `d(z, i)² = ((nᵢ + nₓ)·d(x, i)² + (nᵢ + n_y)·d(y, i)² − nᵢ·d(x, y)²) / (nₓ + n_y + nᵢ)`.
///
/// Reference: G. N. Lance and W. T. Williams, *Comput. J.* 9 (1967); J. H. Ward, *J. Amer. Statist.
/// Assoc.* 58 (1963). The names match `scipy.cluster.hierarchy.linkage(method:)`.
public enum LinkageMethod: String, Sendable, Hashable, CaseIterable, Codable {
    /// Nearest member (minimum spanning tree).
    case single
    /// Farthest member.
    case complete
    /// Size-weighted mean distance (UPGMA).
    case average
    /// Ward's minimum increase of within-cluster variance.
    case ward
}

/// The result of agglomerative clustering of `n` leaves: `n − 1` merges in order of height.
///
/// Node ids follow SciPy: leaves are `0..<n`, the cluster formed by merge `k` is `n + k`. The merges
/// are sorted by height (stably, in the order the algorithm found them), and each merge lists its
/// smaller child id first, so ``linkageMatrix`` equals `scipy.cluster.hierarchy.linkage` and
/// ``leafOrder`` equals `leaves_list` (both up to rounding of the heights).
public struct Dendrogram: Sendable, Hashable {
    /// One merge of two clusters.
    public struct Merge: Sendable, Hashable {
        /// The smaller child node id.
        public let left: Int
        /// The larger child node id.
        public let right: Int
        /// The linkage distance between the two children.
        public let height: Double
        /// The number of leaves in the merged cluster.
        public let count: Int
    }

    /// Number of leaves `n`.
    public let leafCount: Int
    /// The `n − 1` merges, by non-decreasing height for the linkages of ``LinkageMethod``.
    public let merges: [Merge]
    /// Leaves in dendrogram order: a pre-order walk from the root visiting the left child first
    /// (the quasi-diagonal order of HRP; `scipy.cluster.hierarchy.leaves_list`).
    public let leafOrder: [Int]

    init(leafCount: Int, merges: [Merge]) {
        self.leafCount = leafCount
        self.merges = merges
        leafOrder = leafCount == 0 ? [] : Self.preOrder(root: 2 * leafCount - 2, leafCount: leafCount, merges: merges)
    }

    /// The SciPy linkage matrix `Z`, `(n − 1) × 4`: left id, right id, height, leaf count.
    public var linkageMatrix: [[Double]] {
        merges.map { [Double($0.left), Double($0.right), $0.height, Double($0.count)] }
    }

    /// The root's node id (`2n − 2`; `0` for a single leaf).
    public var root: Int { Swift.max(2 * leafCount - 2, 0) }

    /// The leaves under `node`, left child first (a leaf id gives itself).
    ///
    /// - Precondition: `0 ≤ node ≤ 2n − 2`.
    public func leaves(under node: Int) -> [Int] {
        precondition(node >= 0 && node <= root, "Dendrogram.leaves(under:): node \(node) outside 0...\(root)")
        return Self.preOrder(root: node, leafCount: leafCount, merges: merges)
    }

    /// The flat clustering into `clusterCount` clusters obtained by undoing the last `clusterCount − 1`
    /// merges: a label in `0..<clusterCount` per leaf, clusters numbered in order of their smallest leaf.
    ///
    /// For distinct merge heights this is `scipy.cluster.hierarchy.fcluster(Z, k, 'maxclust')` and
    /// `cut_tree(Z, n_clusters=k)` up to the numbering of the labels. With tied heights SciPy's
    /// `fcluster` may return fewer clusters; here ties are cut in merge order, so exactly `k` come back.
    ///
    /// - Throws: ``PortfolioError/invalidArgument(operation:message:)`` unless `1 ≤ clusterCount ≤ n`.
    public func clusterLabels(clusterCount: Int) throws -> [Int] {
        guard clusterCount >= 1, clusterCount <= leafCount else {
            throw PortfolioError.invalidArgument(operation: "Dendrogram.clusterLabels",
                                                 message: "cluster count \(clusterCount) must be in 1...\(leafCount)")
        }
        var parent = Array(0..<(2 * leafCount))
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        for (k, merge) in merges.prefix(leafCount - clusterCount).enumerated() {
            let node = leafCount + k
            parent[find(merge.left)] = node
            parent[find(merge.right)] = node
        }
        var labelOfRoot: [Int: Int] = [:]
        return (0..<leafCount).map { leaf in
            let r = find(leaf)
            if let label = labelOfRoot[r] { return label }
            let label = labelOfRoot.count
            labelOfRoot[r] = label
            return label
        }
    }

    private static func preOrder(root: Int, leafCount n: Int, merges: [Merge]) -> [Int] {
        var order: [Int] = []
        var stack = [root]
        while let node = stack.popLast() {
            if node < n {
                order.append(node)
            } else {
                let merge = merges[node - n]
                stack.append(merge.right)
                stack.append(merge.left)
            }
        }
        return order
    }
}

/// Agglomerative hierarchical clustering of a distance matrix.
///
/// The algorithms are those of SciPy, so ties are broken the same way: single linkage by Prim's
/// minimum spanning tree grown from leaf 0 (the first strictly nearest leaf wins), the other
/// linkages by the nearest-neighbour chain (Murtagh, *Multidimensional Clustering Algorithms*, 1985;
/// Müllner, arXiv:1109.2378, 2011), which prefers the previous chain element and otherwise the lowest
/// index on equal distances. The merges are then sorted stably by height and relabelled by union–find.
///
/// Cost: `O(n²)` time and memory for every linkage.
public struct HierarchicalClustering: Sendable, Hashable {
    /// The linkage criterion.
    public var linkage: LinkageMethod

    /// Creates the clusterer.
    public init(linkage: LinkageMethod = .single) {
        self.linkage = linkage
    }

    /// Clusters the `n` items of a symmetric `n × n` distance matrix.
    ///
    /// One item gives a dendrogram with no merges (SciPy requires two).
    ///
    /// - Parameters:
    ///   - distances: Non-negative, finite, symmetric distances with a zero diagonal.
    ///   - labels: Names used in error messages (default: the indices).
    /// - Throws: ``PortfolioError/invalidArgument(operation:message:)`` for an empty or non-square
    ///   matrix, a negative distance or a non-zero diagonal (naming the items);
    ///   ``PortfolioError/nonFinite(operation:what:asset:observation:)`` naming the item of a NaN or
    ///   infinity; ``PortfolioError/notSymmetric(operation:row:column:)``;
    ///   ``PortfolioError/dimensionMismatch(operation:lhs:lhsCount:rhs:rhsCount:)`` for wrong labels.
    public func fit(distances: Matrix, labels: [String]? = nil) throws -> Dendrogram {
        let operation = "HierarchicalClustering(\(linkage.rawValue))"
        let n = distances.rows
        guard n > 0, distances.columns == n else {
            throw PortfolioError.invalidArgument(operation: operation,
                                                 message: "distance matrix must be square and non-empty, got \(distances.rows)×\(distances.columns)")
        }
        if let labels, labels.count != n {
            throw PortfolioError.dimensionMismatch(operation: operation, lhs: "distance rows", lhsCount: n,
                                                   rhs: "labels", rhsCount: labels.count)
        }
        let name = { (i: Int) in labels?[i] ?? String(i) }
        var d = distances.elements
        for i in 0..<n {
            guard d[i * n + i] == 0 else {
                if !d[i * n + i].isFinite {
                    throw PortfolioError.nonFinite(operation: operation, what: "distance", asset: name(i), observation: nil)
                }
                throw PortfolioError.invalidArgument(operation: operation,
                                                     message: "distance of \(name(i)) to itself is \(d[i * n + i]), not 0")
            }
            for j in (i + 1)..<Swift.max(i + 1, n) {
                let a = d[i * n + j], b = d[j * n + i]
                guard a.isFinite, b.isFinite else {
                    throw PortfolioError.nonFinite(operation: operation, what: "distance to \(name(a.isFinite ? i : j))",
                                                   asset: name(a.isFinite ? j : i), observation: nil)
                }
                guard a == b else { throw PortfolioError.notSymmetric(operation: operation, row: name(i), column: name(j)) }
                guard a >= 0 else {
                    throw PortfolioError.invalidArgument(operation: operation,
                                                         message: "negative distance \(a) between \(name(i)) and \(name(j))")
                }
            }
        }
        if n == 1 { return Dendrogram(leafCount: 1, merges: []) }
        let raw = linkage == .single ? Self.minimumSpanningTree(d, n) : Self.nearestNeighborChain(&d, n, linkage)
        return Dendrogram(leafCount: n, merges: Self.relabel(raw, n))
    }

    typealias RawMerge = (x: Int, y: Int, height: Double)

    /// Prim's algorithm on the complete graph: each step joins the nearest unjoined leaf.
    static func minimumSpanningTree(_ d: [Double], _ n: Int) -> [RawMerge] {
        var joined = [Bool](repeating: false, count: n)
        var nearest = [Double](repeating: .infinity, count: n)
        var result: [RawMerge] = []
        result.reserveCapacity(n - 1)
        var x = 0
        for _ in 0..<(n - 1) {
            joined[x] = true
            var y = 0
            var best = Double.infinity
            for i in 0..<n where !joined[i] {
                let dist = d[x * n + i]
                if nearest[i] > dist { nearest[i] = dist }
                if nearest[i] < best { best = nearest[i]; y = i }
            }
            result.append((x, y, best))
            x = y
        }
        return result
    }

    /// The nearest-neighbour chain: follow nearest neighbours until two are mutual, merge them into
    /// the slot of the larger index, update distances by the Lance–Williams formula.
    static func nearestNeighborChain(_ d: inout [Double], _ n: Int, _ method: LinkageMethod) -> [RawMerge] {
        var size = [Int](repeating: 1, count: n)
        var chain: [Int] = []
        chain.reserveCapacity(n)
        var result: [RawMerge] = []
        result.reserveCapacity(n - 1)
        for _ in 0..<(n - 1) {
            if chain.isEmpty, let first = size.firstIndex(where: { $0 > 0 }) { chain.append(first) }
            var x = 0, y = 0
            var current = Double.infinity
            while true {
                x = chain[chain.count - 1]
                if chain.count > 1 {
                    y = chain[chain.count - 2]
                    current = d[x * n + y]
                } else {
                    current = .infinity
                }
                for i in 0..<n where size[i] > 0 && i != x {
                    let dist = d[x * n + i]
                    if dist < current { current = dist; y = i }
                }
                if chain.count > 1 && y == chain[chain.count - 2] { break }
                chain.append(y)
            }
            chain.removeLast(2)
            if x > y { swap(&x, &y) }
            let nx = size[x], ny = size[y]
            result.append((x, y, current))
            size[x] = 0
            size[y] = nx + ny
            for i in 0..<n where size[i] > 0 && i != y {
                let dxi = d[i * n + x], dyi = d[i * n + y]
                let updated: Double
                switch method {
                case .single: updated = Swift.min(dxi, dyi)
                case .complete: updated = Swift.max(dxi, dyi)
                case .average: updated = (Double(nx) * dxi + Double(ny) * dyi) / Double(nx + ny)
                case .ward:
                    let ni = size[i]
                    let t = 1.0 / Double(nx + ny + ni)
                    let squared = Double(ni + nx) * t * dxi * dxi + Double(ni + ny) * t * dyi * dyi
                        - Double(ni) * t * current * current
                    updated = squared.squareRoot()
                }
                d[i * n + y] = updated
                d[y * n + i] = updated
            }
        }
        return result
    }

    /// Sorts raw merges stably by height and renames their members to cluster ids (`n + k`).
    static func relabel(_ raw: [RawMerge], _ n: Int) -> [Dendrogram.Merge] {
        let sorted = raw.indices.sorted { a, b in
            raw[a].height < raw[b].height || (raw[a].height == raw[b].height && a < b)
        }.map { raw[$0] }
        var parent = Array(0..<(2 * n - 1))
        var count = [Int](repeating: 1, count: 2 * n - 1)
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        var merges: [Dendrogram.Merge] = []
        merges.reserveCapacity(n - 1)
        for (k, m) in sorted.enumerated() {
            let a = find(m.x), b = find(m.y)
            let node = n + k
            count[node] = count[a] + count[b]
            parent[a] = node
            parent[b] = node
            merges.append(Dendrogram.Merge(left: Swift.min(a, b), right: Swift.max(a, b), height: m.height, count: count[node]))
        }
        return merges
    }
}
