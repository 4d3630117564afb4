import Linalg
import Synchronization

// MARK: - Recording context

/// Per-task settings that control graph recording. Stored in a task-local, never in a global.
@usableFromInline
struct GradientContext: Sendable {
    /// Whether operations on tensors that require gradients record graph nodes.
    var isRecording: Bool = true
    /// An optional live-node counter that new nodes register with (diagnostics and leak tests).
    var tracker: NodeTracker? = nil

    @TaskLocal static var current = GradientContext()
}

/// Runs `body` with graph recording switched off for the current task and its child tasks.
///
/// Inside the scope every operation returns a constant tensor (no graph node),
/// even when its inputs require gradients. Use it for optimizer updates,
/// evaluation and metrics. The setting is task-local: other tasks are unaffected.
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    var context = GradientContext.current
    context.isRecording = false
    return try GradientContext.$current.withValue(context, operation: body)
}

/// Runs the asynchronous `body` with graph recording switched off (see ``withoutGradients(_:)``).
public func withoutGradients<R>(isolation: isolated (any Actor)? = #isolation,
                                _ body: () async throws -> R) async rethrows -> R {
    var context = GradientContext.current
    context.isRecording = false
    return try await GradientContext.$current.withValue(context, operation: body)
}

/// `true` unless the current task is inside ``withoutGradients(_:)``.
public var isRecordingGradients: Bool { GradientContext.current.isRecording }

/// Counts the graph nodes created inside ``track(_:)`` that are still alive.
///
/// A diagnostic for memory tests: `tracker.track { … }` makes every node
/// created by the current task inside the closure register with the tracker;
/// a node deregisters in its `deinit`. After the graph has been dropped,
/// ``liveNodes`` must return to 0.
public final class NodeTracker: Sendable {
    private let live = Atomic<Int>(0)
    private let created = Atomic<Int>(0)

    /// Creates a tracker with zero counts.
    public init() {}

    /// Nodes created inside ``track(_:)`` that have not been deinitialized.
    public var liveNodes: Int { live.load(ordering: .acquiring) }
    /// All nodes ever created inside ``track(_:)``.
    public var createdNodes: Int { created.load(ordering: .acquiring) }

    /// Runs `body` with this tracker installed for the current task.
    public func track<R>(_ body: () throws -> R) rethrows -> R {
        var context = GradientContext.current
        context.tracker = self
        return try GradientContext.$current.withValue(context, operation: body)
    }

    func didCreate() {
        live.add(1, ordering: .relaxed)
        created.add(1, ordering: .relaxed)
    }

    func didDestroy() { live.subtract(1, ordering: .releasing) }
}

// MARK: - Nodes

/// The backward rule of one recorded operation: its parent nodes and its pullback.
///
/// A pullback receives the gradient flowing into the operation's output and
/// the output's own node (so a rule that needs the output value can rebuild it
/// as a tensor *with* that node, which keeps higher-order gradients exact
/// without a reference cycle). It returns one gradient per parent, or `nil`
/// for a parent that needs none. Pullbacks are written in `Tensor` operations,
/// so running them while recording builds the graph of the gradient itself.
@usableFromInline
enum Backward<Scalar: TensorScalar>: Sendable {
    case unary(Node<Scalar>, @Sendable (Tensor<Scalar>, Node<Scalar>) -> Tensor<Scalar>)
    case binary(Node<Scalar>?, Node<Scalar>?, @Sendable (Tensor<Scalar>, Node<Scalar>) -> (Tensor<Scalar>?, Tensor<Scalar>?))
    case nary([Node<Scalar>?], @Sendable (Tensor<Scalar>, Node<Scalar>) -> [Tensor<Scalar>?])
    /// The node's value is the block `layout` of its parent's elements (a slice, or one output of a
    /// multi-output operation). Its gradient is added into that block of the parent's gradient by
    /// the backward pass itself, so `k` slices of one tensor cost `O(Σ slice sizes)`, not
    /// `O(k · parent size)` as zero-padded gradients would.
    case part(Node<Scalar>, PartLayout)
    /// A multi-output operation (``Tensor/customOperation(inputs:outputs:pullback:)``): each output
    /// is a ``part(_:_:)`` of this node, the flat block `ends[k]..<ends[k + 1]`. The backward pass
    /// hands the pullback each output's gradient (`nil` for an output that received none) without
    /// assembling them into one tensor.
    case outputs([Node<Scalar>?], ends: [Int], @Sendable ([Tensor<Scalar>?], Node<Scalar>) -> [Tensor<Scalar>?])

    @inline(__always)
    func forEachParent(_ body: (Node<Scalar>) -> Void) {
        switch self {
        case .unary(let p, _), .part(let p, _): body(p)
        case .binary(let a, let b, _):
            if let a { body(a) }
            if let b { body(b) }
        case .nary(let ps, _), .outputs(let ps, _, _):
            for case let p? in ps { body(p) }
        }
    }
}

/// Where a ``Backward/part(_:_:)`` node's elements sit in its parent: the parent viewed as
/// `[outer, n, inner]` (row-major), positions `[o, start..<end, j]`, in row-major order.
@usableFromInline
struct PartLayout: Sendable, Hashable {
    let outer: Int, n: Int, inner: Int, start: Int, end: Int
    /// Elements in the block.
    var count: Int { outer * (end - start) * inner }
}

/// An immutable holder of one node's ``Backward`` rule (see ``Node/rule``).
@usableFromInline
final class RuleBox<Scalar: TensorScalar>: Sendable {
    let backward: Backward<Scalar>
    init(_ backward: Backward<Scalar>) { self.backward = backward }
}

/// The source of ``Node/sequence``: a counter that orders nodes by creation; no result depends
/// on its values, only on their order.
private let nodeSequence = Atomic<UInt64>(0)

/// A vertex of the implicit computation graph.
///
/// Ownership: a tensor that requires gradients holds a strong reference to its
/// node; a node holds strong references to its parents (through ``Backward``)
/// and its pullback holds the saved input tensors. References only point from
/// newer to older nodes, so the graph is acyclic and ARC frees it as soon as
/// the last tensor referring to it goes away. A backward pass that does not
/// retain the graph additionally clears each visited node's rule, which
/// releases saved tensors and intermediate nodes even while the output
/// tensor is still alive.
///
/// Sendable: all stored properties are immutable except the rule, which sits
/// in a `Mutex`, so the class is `Sendable` without `@unchecked`. A node is
/// never mutated except to free its rule.
@usableFromInline
final class Node<Scalar: TensorScalar>: Sendable {
    /// Shape of the tensor this node produced.
    let shape: TensorShape
    /// `true` for a variable created by ``Tensor/requiringGradient()``.
    let isLeaf: Bool
    let tracker: NodeTracker?
    /// 0 for a leaf, else one more than the largest generation among the parents: every node's
    /// generation exceeds its ancestors', which gives the backward pass its order for free.
    let generation: Int
    /// Creation order, process-wide: breaks ties between nodes of one generation in the backward
    /// pass, so gradients that several paths feed are summed in the same order in every run (an
    /// order by address would change with the allocator's choices from one run to the next).
    let sequence: UInt64
    /// The backward rule: a ``RuleBox`` stored as `AnyObject`, so the field's type is not generic
    /// and the (unspecialized) deinitializer destroys it without a generic metadata lookup on
    /// every release. Only ``box(_:)`` reads it back, with the type it was stored with.
#if METAFOLIO_TSAN
    let rule: PthreadMutex<AnyObject?>
#else
    let rule: Mutex<AnyObject?>
#endif

    init(shape: TensorShape, rule: Backward<Scalar>?, tracker: NodeTracker?) {
        self.shape = shape
        self.isLeaf = rule == nil
        self.tracker = tracker
        var generation = 0
        switch rule {
        case .unary(let p, _)?, .part(let p, _)?: generation = p.generation + 1
        case .binary(let a, let b, _)?: generation = Swift.max(a?.generation ?? 0, b?.generation ?? 0) + 1
        case .nary(let ps, _)?, .outputs(let ps, _, _)?:
            for case let p? in ps { generation = Swift.max(generation, p.generation + 1) }
        case nil: break
        }
        self.generation = generation
        self.sequence = nodeSequence.add(1, ordering: .relaxed).newValue
#if METAFOLIO_TSAN
        self.rule = PthreadMutex(rule.map { RuleBox($0) as AnyObject })
#else
        self.rule = Mutex(rule.map { RuleBox($0) as AnyObject })
#endif
        tracker?.didCreate()
    }

    /// Releases the chain of uniquely owned ancestors iteratively, so dropping a
    /// very deep graph (an RNN unrolled over many steps) cannot overflow the stack.
    deinit {
        tracker?.didDestroy()
        Node.releaseRule(of: self)
    }

    /// Drops `node`'s rule and then, iteratively, the rules of the ancestors it owned uniquely.
    ///
    /// Called from `deinit`, whose body is unspecialized generic code: doing the work in a
    /// function pre-specialized for `Float` and `Double` avoids looking up the generic metadata of
    /// the rule's type on every node release.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func releaseRule(of node: Node) {
        // Fast path: a node already freed by backward (or a leaf) owns nothing. The rule must be
        // destroyed before the loop below (hence the scope): while it lives, the parents are not
        // uniquely referenced and would be released recursively at the end of `deinit`.
        var pending: [Node] = []
        do {
            guard let first = node.rule.withLock({ r in box(r.take()) }) else { return }
            first.backward.forEachParent { pending.append($0) }
        }
        while var next = pending.popLast() {
            if isKnownUniquelyReferenced(&next) {
                if let r = next.rule.withLock({ r in box(r.take()) }) {
                    r.backward.forEachParent { pending.append($0) }
                }
            }
        }
    }

    /// A copy of the backward rule (the graph is retained).
    func readRule() -> RuleBox<Scalar>? { rule.withLock { r in Node.box(r) } }
    /// Removes and returns the backward rule (the graph is freed once the caller drops it).
    func removeRule() -> RuleBox<Scalar>? { rule.withLock { r in Node.box(r.take()) } }

    /// The stored rule with its static type (``rule`` only ever holds a `RuleBox<Scalar>`).
    @inline(__always)
    static func box(_ object: AnyObject?) -> RuleBox<Scalar>? {
        object.map { unsafeDowncast($0, to: RuleBox<Scalar>.self) }
    }
}

// MARK: - Recording helpers

extension Tensor {
    /// The recording context when an operation on inputs with these nodes must record, else `nil`.
    @inline(__always)
    static func recording(_ a: Node<Scalar>?, _ b: Node<Scalar>? = nil) -> GradientContext? {
        guard a != nil || b != nil else { return nil }
        let context = GradientContext.current
        return context.isRecording ? context : nil
    }

    /// The recording context when any of `inputs` requires gradients and recording is on.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func recording(_ inputs: [Tensor]) -> GradientContext? {
        guard inputs.contains(where: { $0.node != nil }) else { return nil }
        let context = GradientContext.current
        return context.isRecording ? context : nil
    }

    /// A result of a unary operation whose input is `input`.
    @inline(__always)
    init(shape: TensorShape, storage: TensorStorage<Scalar>, context: GradientContext, parent: Node<Scalar>,
         pullback: @escaping @Sendable (Tensor, Node<Scalar>) -> Tensor) {
        self.init(shape: shape, storage: storage,
                  node: Node(shape: shape, rule: .unary(parent, pullback), tracker: context.tracker))
    }

    /// A result of a binary operation; a `nil` parent is a constant input.
    @inline(__always)
    init(shape: TensorShape, storage: TensorStorage<Scalar>, context: GradientContext, parents: (Node<Scalar>?, Node<Scalar>?),
         pullback: @escaping @Sendable (Tensor, Node<Scalar>) -> (Tensor?, Tensor?)) {
        self.init(shape: shape, storage: storage,
                  node: Node(shape: shape, rule: .binary(parents.0, parents.1, pullback), tracker: context.tracker))
    }

    /// A result of an n-ary operation; the pullback returns one gradient per parent.
    init(shape: TensorShape, storage: TensorStorage<Scalar>, context: GradientContext, parents: [Node<Scalar>?],
         pullback: @escaping @Sendable (Tensor, Node<Scalar>) -> [Tensor?]) {
        self.init(shape: shape, storage: storage,
                  node: Node(shape: shape, rule: .nary(parents, pullback), tracker: context.tracker))
    }

    /// This tensor's value re-attached to `node` (used by pullbacks that need their own output).
    @inline(__always)
    func attached(to node: Node<Scalar>) -> Tensor {
        Tensor(shape: shape, storage: storage, node: node)
    }
}

// MARK: - Reverse mode

/// Gradients of `output` with respect to each tensor in `inputs`, by reverse-mode differentiation.
///
/// - Parameters:
///   - output: the tensor to differentiate. Without `seed` it must have exactly
///     one element (a loss); with `seed` the result is the vector–Jacobian
///     product `seedᵀ·∂output/∂input`.
///   - inputs: tensors that require gradients (made by ``Tensor/requiringGradient()``
///     or results of operations on such tensors). They are identified by
///     graph node, so any copy of a variable names the same variable.
///   - seed: the cotangent of `output`, of `output`'s shape. Defaults to ones.
///   - createGraph: when `true` the backward pass is itself recorded, so the
///     returned gradients require gradients and can be differentiated again
///     (Hessian–vector products, second-order MAML).
///   - retainGraph: keep the graph of `output` usable for another backward
///     pass. Defaults to `createGraph`. When `false`, every node visited is
///     freed: its saved tensors and pullback are released, and a later
///     backward pass through it traps.
/// - Returns: one gradient per input, with the input's shape. An input that
///   `output` does not depend on gets zeros.
///
/// Accumulation: within one call, contributions reaching a tensor along
/// different paths are summed. Nothing is stored on the tensors, so separate
/// calls never accumulate into each other: to accumulate over micro-batches,
/// add the returned gradients yourself. Calls are independent of each other
/// and of other tasks.
///
/// Complexity: one pullback per graph node that lies on a path from an input
/// to `output`, plus an O(edges · log nodes) ordering of the reachable nodes.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func gradient<Scalar>(of output: Tensor<Scalar>, wrt inputs: [Tensor<Scalar>], seed: Tensor<Scalar>? = nil,
                             createGraph: Bool = false, retainGraph: Bool? = nil) -> [Tensor<Scalar>] {
    reverseMode(of: output, wrt: inputs, seed: seed, createGraph: createGraph, retain: retainGraph ?? createGraph,
                stopAtInputs: false)
}

/// ``gradient(of:wrt:seed:createGraph:retainGraph:)``; with `stopAtInputs` the pass does not
/// descend below the inputs, so what it returns are the partial derivatives with respect to the
/// inputs taken as independent variables (paths from one input through another are not followed).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func reverseMode<Scalar>(of output: Tensor<Scalar>, wrt inputs: [Tensor<Scalar>], seed: Tensor<Scalar>?,
                         createGraph: Bool, retain: Bool, stopAtInputs: Bool) -> [Tensor<Scalar>] {
    if let seed {
        precondition(seed.shape == output.shape,
                     "gradient(of:wrt:seed:): seed shape \(seed.shape) differs from output shape \(output.shape)")
    } else {
        precondition(output.scalarCount == 1,
                     "gradient(of:wrt:): output of shape \(output.shape) is not a scalar; pass a seed")
    }
    for (i, x) in inputs.enumerated() where x.node == nil {
        fatalError("gradient(of:wrt:): input \(i) of shape \(x.shape) does not require gradients; call requiringGradient() on it before using it")
    }
    guard let root = output.node else {
        return inputs.map { Tensor.zeros($0.shape) }
    }
    let seedTensor = seed ?? Tensor(shape: output.shape, repeating: 1)

    var pass = BackwardPass(root: root, retain: retain, boundary: stopAtInputs ? inputs.map { $0.node! } : [])
    pass.markNeeded(inputs)
    if GradientContext.current.isRecording == createGraph {
        pass.run(seed: seedTensor, retain: retain)
    } else {
        var context = GradientContext.current
        context.isRecording = createGraph
        GradientContext.$current.withValue(context) { pass.run(seed: seedTensor, retain: retain) }
    }
    return pass.gradients(for: inputs)
}

/// The scratch state of one backward pass, in parallel arrays indexed by a node's position in
/// reverse topological order. Nothing is stored on the nodes, so passes are independent.
///
/// Order: node `k` is reached before its parents because every node's ``Node/generation`` exceeds
/// its parents'. The pass pops nodes from a max-heap keyed by `(generation, creation order)`; a node
/// reached along several paths pops several times in a row and is expanded once. Positions are
/// therefore sorted by descending key, and a node's position is found by binary search: no
/// hashing, no visited set.
@usableFromInline
struct BackwardPass<Scalar: TensorScalar> {
    /// Reachable nodes, newest (the output) first.
    var nodes: [Node<Scalar>] = []
    /// Each node's backward rule, read (or, without `retain`, removed) once under its lock.
    var rules: [RuleBox<Scalar>?] = []
    /// Bit 0: the node lies on a path from an input (its pullback must run). Bit 1: it is an input.
    var flags: [UInt8] = []
    /// Gradients flowing into each node, accumulated until its pullback runs.
    var gradients: [Tensor<Scalar>?] = []
    /// Gradients of ``Backward/part(_:_:)`` children not yet added into their parent's gradient,
    /// per node; empty until the first part gradient arrives.
    var parts: [[(PartLayout, Tensor<Scalar>)]] = []

    @inline(__always)
    static func precedes(_ a: Node<Scalar>, _ b: Node<Scalar>) -> Bool {
        a.generation != b.generation ? a.generation > b.generation : a.sequence > b.sequence
    }

    /// Collects the nodes reachable from `root` in descending key order, not descending below the
    /// nodes in `boundary` (used for the partial derivatives of one operation, see
    /// ``vectorJacobianProducts(of:at:cotangents:)``).
    init(root: Node<Scalar>, retain: Bool, boundary: [Node<Scalar>] = []) {
        var heap: [Node<Scalar>] = [root]
        heap.reserveCapacity(8)
        nodes.reserveCapacity(8)
        rules.reserveCapacity(8)
        while let node = Self.pop(&heap) {
            if let last = nodes.last, last === node { continue }
            nodes.append(node)
            // A boundary node is treated as a leaf: its rule is neither read nor freed.
            if !boundary.isEmpty && boundary.contains(where: { $0 === node }) {
                rules.append(nil)
                continue
            }
            let rule = retain ? node.readRule() : node.removeRule()
            if rule == nil && !node.isLeaf {
                fatalError("gradient(of:wrt:): the graph was freed by an earlier backward pass; pass retainGraph: true to the first call to differentiate it again")
            }
            rule?.backward.forEachParent { Self.push($0, &heap) }
            rules.append(rule)
        }
        flags = filledArray(repeating: 0, count: nodes.count)
        gradients = filledArray(repeating: nil, count: nodes.count)
    }

    @inline(__always)
    static func push(_ node: Node<Scalar>, _ heap: inout [Node<Scalar>]) {
        heap.append(node)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    @inline(__always)
    static func pop(_ heap: inout [Node<Scalar>]) -> Node<Scalar>? {
        guard heap.count > 1 else { return heap.popLast() }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        let count = heap.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { break }
            var best = left
            if left + 1 < count && precedes(heap[left + 1], heap[left]) { best = left + 1 }
            guard precedes(heap[best], heap[parent]) else { break }
            heap.swapAt(best, parent)
            parent = best
        }
        return top
    }

    /// The position of `node`, or `nil` when it is not reachable from the output.
    @inline(__always)
    func position(of node: Node<Scalar>) -> Int? {
        var low = 0, high = nodes.count
        while low < high {
            let mid = (low &+ high) >> 1
            let candidate = nodes[mid]
            if candidate === node { return mid }
            if Self.precedes(candidate, node) { low = mid + 1 } else { high = mid }
        }
        return nil
    }

    /// Marks the inputs and every node that lies on a path from one of them.
    mutating func markNeeded(_ inputs: [Tensor<Scalar>]) {
        for x in inputs {
            if let i = position(of: x.node!) { flags[i] = 3 }
        }
        // Oldest first: a node's parents (older) are decided before it.
        var i = nodes.count
        while i > 0 {
            i -= 1
            guard flags[i] == 0 else { continue }
            var any = false
            switch rules[i]?.backward {
            case .unary(let p, _)?, .part(let p, _)?: any = flags[position(of: p)!] & 1 != 0
            case .binary(let a, let b, _)?:
                if let a, flags[position(of: a)!] & 1 != 0 { any = true }
                if let b, flags[position(of: b)!] & 1 != 0 { any = true }
            case .nary(let ps, _)?, .outputs(let ps, _, _)?:
                for case let p? in ps where flags[position(of: p)!] & 1 != 0 { any = true }
            case nil: break
            }
            if any { flags[i] = 1 }
        }
    }

    @inline(__always)
    mutating func accumulate(_ parent: Node<Scalar>?, _ g: Tensor<Scalar>?) {
        guard let parent, let g else { return }
        let i = position(of: parent)!
        guard flags[i] & 1 != 0 else { return }
        precondition(g.shape == parent.shape,
                     "internal error: gradient of shape \(g.shape) for a node of shape \(parent.shape)")
        if let existing = gradients[i] { gradients[i] = existing + g } else { gradients[i] = g }
    }

    /// Keeps the gradient of a part of `parent` until the parent's turn (see ``assembleParts(_:)``).
    @inline(__always)
    mutating func accumulatePart(_ parent: Node<Scalar>, _ layout: PartLayout, _ g: Tensor<Scalar>) {
        let i = position(of: parent)!
        guard flags[i] & 1 != 0 else { return }
        precondition(g.scalarCount == layout.count,
                     "internal error: part gradient of shape \(g.shape) for a block of \(layout.count) elements")
        if parts.isEmpty { parts = [[(PartLayout, Tensor<Scalar>)]](repeating: [], count: nodes.count) }
        parts[i].append((layout, g))
    }

    /// Adds the pending part gradients of node `i` into its gradient: one zero-filled buffer with
    /// each part added into its block (recorded as one differentiable node under `createGraph`).
    mutating func assembleParts(_ i: Int) {
        guard !parts.isEmpty, !parts[i].isEmpty else { return }
        let pending = parts[i]
        parts[i] = []
        let assembled = Tensor<Scalar>.assembling(pending, shape: nodes[i].shape)
        if let existing = gradients[i] { gradients[i] = existing + assembled } else { gradients[i] = assembled }
    }

    /// Runs the pullback of the multi-output node `i` with the gradients of its outputs (its parts).
    mutating func runOutputs(_ i: Int, _ parents: [Node<Scalar>?], _ ends: [Int],
                             _ pullback: @Sendable ([Tensor<Scalar>?], Node<Scalar>) -> [Tensor<Scalar>?]) {
        guard !parts.isEmpty, !parts[i].isEmpty else { return }
        var cotangents = [Tensor<Scalar>?](repeating: nil, count: ends.count - 1)
        for (layout, g) in parts[i] {
            // Each output is one part node, whose gradient arrives once; sum all the same.
            let k = ends.firstIndex(of: layout.start)!
            cotangents[k] = cotangents[k].map { $0 + g } ?? g
        }
        parts[i] = []
        for (p, gp) in zip(parents, pullback(cotangents, nodes[i])) { accumulate(p, gp) }
    }

    /// Runs the pullbacks newest first, starting from `seed` at the output.
    mutating func run(seed: Tensor<Scalar>, retain: Bool) {
        gradients[0] = seed
        for i in 0..<nodes.count {
            // Without `retain`, the rule leaves the pass here and is released after its pullback.
            let rule = retain ? rules[i] : rules[i].take()
            guard flags[i] & 1 != 0 else { continue }
            if case .outputs(let ps, let ends, let pullback)? = rule?.backward {
                runOutputs(i, ps, ends, pullback)
                continue
            }
            assembleParts(i)
            guard let rule else { continue }
            // Intermediate gradients are not needed after their pullback ran.
            guard let g = flags[i] & 2 != 0 ? gradients[i] : gradients[i].take() else { continue }
            let node = nodes[i]
            switch rule.backward {
            case .unary(let p, let pullback):
                accumulate(p, pullback(g, node))
            case .binary(let a, let b, let pullback):
                let (ga, gb) = pullback(g, node)
                accumulate(a, ga)
                accumulate(b, gb)
            case .nary(let ps, let pullback):
                let gs = pullback(g, node)
                for (p, gp) in zip(ps, gs) { accumulate(p, gp) }
            case .part(let p, let layout):
                accumulatePart(p, layout, g)
            case .outputs:
                break // handled above
            }
        }
    }

    /// One gradient per input: the accumulated one, or zeros for an input the output does not reach.
    func gradients(for inputs: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
        var result: [Tensor<Scalar>] = []
        result.reserveCapacity(inputs.count)
        for x in inputs {
            if let i = position(of: x.node!), let g = gradients[i] { result.append(g) } else { result.append(Tensor.zeros(x.shape)) }
        }
        return result
    }
}

/// The gradient of a scalar `output` with respect to one tensor (see ``gradient(of:wrt:seed:createGraph:retainGraph:)``).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func gradient<Scalar>(of output: Tensor<Scalar>, wrt input: Tensor<Scalar>,
                             createGraph: Bool = false, retainGraph: Bool? = nil) -> Tensor<Scalar> {
    gradient(of: output, wrt: [input], createGraph: createGraph, retainGraph: retainGraph)[0]
}

/// The value of `body(x)` and its gradient at `x`, for a function with a scalar result.
///
/// `x` is made a fresh variable inside, so the caller need not mark it.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func valueWithGradient<Scalar>(at x: Tensor<Scalar>, createGraph: Bool = false,
                                      in body: (Tensor<Scalar>) throws -> Tensor<Scalar>) rethrows
    -> (value: Tensor<Scalar>, gradient: Tensor<Scalar>) {
    let variable = x.requiringGradient()
    let y = try body(variable)
    return (y, gradient(of: y, wrt: [variable], createGraph: createGraph)[0])
}

/// The value of `body(xs)` and its gradients with respect to each of `xs`, for a scalar result.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func valueWithGradient<Scalar>(at xs: [Tensor<Scalar>], createGraph: Bool = false,
                                      in body: ([Tensor<Scalar>]) throws -> Tensor<Scalar>) rethrows
    -> (value: Tensor<Scalar>, gradients: [Tensor<Scalar>]) {
    let variables = xs.map { $0.requiringGradient() }
    let y = try body(variables)
    return (y, gradient(of: y, wrt: variables, createGraph: createGraph))
}

/// The Hessian–vector product `∇²f(x)·v` of a scalar function, by differentiating `∇f(x)·v` again.
///
/// Costs about two backward passes. `v` must have `x`'s shape.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func hessianVectorProduct<Scalar>(at x: Tensor<Scalar>, direction v: Tensor<Scalar>,
                                         of f: (Tensor<Scalar>) -> Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(v.shape == x.shape, "hessianVectorProduct: direction shape \(v.shape) differs from point shape \(x.shape)")
    let variable = x.requiringGradient()
    let y = f(variable)
    let g = gradient(of: y, wrt: [variable], createGraph: true)[0]
    let gv = (g * v.detached()).sum()
    return gradient(of: gv, wrt: [variable])[0]
}
