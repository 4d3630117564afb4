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

    func forEachParent(_ body: (Node<Scalar>) -> Void) {
        switch self {
        case .unary(let p, _): body(p)
        case .binary(let a, let b, _):
            if let a { body(a) }
            if let b { body(b) }
        case .nary(let ps, _):
            for case let p? in ps { body(p) }
        }
    }
}

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
    let rule: Mutex<Backward<Scalar>?>

    init(shape: TensorShape, rule: Backward<Scalar>?, tracker: NodeTracker?) {
        self.shape = shape
        self.isLeaf = rule == nil
        self.tracker = tracker
        self.rule = Mutex(rule)
        tracker?.didCreate()
    }

    /// Releases the chain of uniquely owned ancestors iteratively, so dropping a
    /// very deep graph (an RNN unrolled over many steps) cannot overflow the stack.
    deinit {
        tracker?.didDestroy()
        var pending: [Node] = []
        do {
            // Fast path: a node already freed by backward (or a leaf) owns nothing. The rule must
            // be destroyed before the loop below (hence the scope): while it lives, the parents are
            // not uniquely referenced and would be released recursively at the end of `deinit`.
            guard let first = rule.withLock({ r -> Backward<Scalar>? in let old = r; r = nil; return old }) else { return }
            first.forEachParent { pending.append($0) }
        }
        while var node = pending.popLast() {
            if isKnownUniquelyReferenced(&node) {
                if let r = node.rule.withLock({ r -> Backward<Scalar>? in let old = r; r = nil; return old }) {
                    r.forEachParent { pending.append($0) }
                }
            }
        }
    }

    func takeRule() -> Backward<Scalar>? { rule.withLock { r in r } }
    func freeRule() { rule.withLock { $0 = nil } }
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
    init(shape: TensorShape, storage: [Scalar], context: GradientContext, parent: Node<Scalar>,
         pullback: @escaping @Sendable (Tensor, Node<Scalar>) -> Tensor) {
        self.init(shape: shape, storage: storage,
                  node: Node(shape: shape, rule: .unary(parent, pullback), tracker: context.tracker))
    }

    /// A result of a binary operation; a `nil` parent is a constant input.
    @inline(__always)
    init(shape: TensorShape, storage: [Scalar], context: GradientContext, parents: (Node<Scalar>?, Node<Scalar>?),
         pullback: @escaping @Sendable (Tensor, Node<Scalar>) -> (Tensor?, Tensor?)) {
        self.init(shape: shape, storage: storage,
                  node: Node(shape: shape, rule: .binary(parents.0, parents.1, pullback), tracker: context.tracker))
    }

    /// A result of an n-ary operation; the pullback returns one gradient per parent.
    init(shape: TensorShape, storage: [Scalar], context: GradientContext, parents: [Node<Scalar>?],
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
/// to `output`, plus an O(nodes) topological sort.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func gradient<Scalar>(of output: Tensor<Scalar>, wrt inputs: [Tensor<Scalar>], seed: Tensor<Scalar>? = nil,
                             createGraph: Bool = false, retainGraph: Bool? = nil) -> [Tensor<Scalar>] {
    let retain = retainGraph ?? createGraph
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

    // Topological order by iterative depth-first search (parents before children).
    // Each node's rule is read once, under its lock, when the node is first reached.
    // `index` maps a node to its position in `entries`, or -1 while it is on the stack.
    var entries: [BackwardEntry<Scalar>] = []
    var index: [ObjectIdentifier: Int] = [:]
    index.reserveCapacity(16)
    var stack: [BackwardEntry<Scalar>] = [BackwardEntry(node: root, rule: nil)]
    while var top = stack.popLast() {
        if top.expanded {
            index[ObjectIdentifier(top.node)] = entries.count
            entries.append(top)
            continue
        }
        let id = ObjectIdentifier(top.node)
        if index[id] != nil { continue }
        index[id] = -1
        top.rule = top.node.takeRule()
        if top.rule == nil && !top.node.isLeaf {
            fatalError("gradient(of:wrt:): the graph was freed by an earlier backward pass; pass retainGraph: true to the first call to differentiate it again")
        }
        top.expanded = true
        let rule = top.rule
        stack.append(top)
        rule?.forEachParent { parent in
            if index[ObjectIdentifier(parent)] == nil { stack.append(BackwardEntry(node: parent, rule: nil)) }
        }
    }

    // Nodes that lie on a path from some input: only their pullbacks are needed.
    for x in inputs {
        if let i = index[ObjectIdentifier(x.node!)] { entries[i].needed = true; entries[i].isInput = true }
    }
    for i in entries.indices where !entries[i].needed {
        var any = false
        entries[i].rule?.forEachParent { p in if entries[index[ObjectIdentifier(p)]!].needed { any = true } }
        entries[i].needed = any
    }

    entries[entries.count - 1].gradient = seedTensor
    var context = GradientContext.current
    context.isRecording = createGraph
    GradientContext.$current.withValue(context) {
        func accumulate(_ parent: Node<Scalar>?, _ g: Tensor<Scalar>?) {
            guard let parent, let g else { return }
            let i = index[ObjectIdentifier(parent)]!
            guard entries[i].needed else { return }
            precondition(g.shape == parent.shape,
                         "internal error: gradient of shape \(g.shape) for a node of shape \(parent.shape)")
            if let existing = entries[i].gradient { entries[i].gradient = existing + g } else { entries[i].gradient = g }
        }
        for i in stride(from: entries.count - 1, through: 0, by: -1) {
            let node = entries[i].node
            let rule = entries[i].rule
            if !retain { entries[i].rule = nil; node.freeRule() }
            guard entries[i].needed, let g = entries[i].gradient, let rule else { continue }
            // Intermediate gradients are not needed after their pullback ran.
            if !entries[i].isInput { entries[i].gradient = nil }
            switch rule {
            case .unary(let p, let pullback):
                accumulate(p, pullback(g, node))
            case .binary(let a, let b, let pullback):
                let (ga, gb) = pullback(g, node)
                accumulate(a, ga)
                accumulate(b, gb)
            case .nary(let ps, let pullback):
                let gs = pullback(g, node)
                for (p, gp) in zip(ps, gs) { accumulate(p, gp) }
            }
        }
    }
    return inputs.map { x in
        if let i = index[ObjectIdentifier(x.node!)], let g = entries[i].gradient { return g }
        return Tensor.zeros(x.shape)
    }
}

/// Per-node scratch state of one backward pass (never stored on the node, so passes are independent).
struct BackwardEntry<Scalar: TensorScalar> {
    let node: Node<Scalar>
    var rule: Backward<Scalar>?
    var expanded = false
    var needed = false
    var isInput = false
    var gradient: Tensor<Scalar>? = nil

    init(node: Node<Scalar>, rule: Backward<Scalar>?) {
        self.node = node
        self.rule = rule
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
