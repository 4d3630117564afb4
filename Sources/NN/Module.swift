import Autodiff

/// A neural-network layer or model: a value that owns named parameters, buffers and child modules.
///
/// A conforming type stores its tensors as properties and presents them to a
/// ``ModuleVisitor`` in ``visitEntries(_:)``: first its own parameters, then
/// its own buffers, then its children, each under its PyTorch state-dict name
/// (`weight`, `weight_ih_l0_reverse`, `layers.0.conv.weight`). Everything
/// else — named traversal, state dicts, train/eval mode, freezing, the
/// functional form and safetensors I/O — is provided by this protocol's
/// extensions on top of that one method, in the style of mlx-swift's `Module`
/// (parameters discovered by name) with PyTorch's names and order
/// (`torch.nn.Module.state_dict`).
///
/// Modules are value types: a copy is an independent module whose tensors
/// share storage until changed. Applying a module is its `callAsFunction`.
///
/// ## Functional form
///
/// ``replacingParameters(_:)-(([String:Tensor<Scalar>]))`` returns a copy whose
/// parameters are the given tensors, which may carry gradient history (for
/// example `θ − α·∇θ` computed with `createGraph: true`); applying the copy
/// differentiates through them, which is what second-order MAML needs.
public protocol Module<Scalar>: Sendable {
    /// The element type of the parameters.
    associatedtype Scalar: TensorScalar

    /// This module's own training flag and frozen parameter names (children have their own).
    var settings: ModuleSettings { get set }

    /// Presents this module's own parameters, then its own buffers, then its child modules to `visitor`,
    /// in PyTorch's state-dict order. The visitor may replace any tensor it is shown.
    mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>)
}

/// A module's own mode flags.
public struct ModuleSettings: Sendable, Hashable {
    /// `true` in training mode (dropout active, batch statistics in batch normalization), `false` in eval mode.
    public var isTraining: Bool = true
    /// Local names (such as `weight`) of this module's parameters that are frozen: excluded from the
    /// trainable parameters. Gradients still flow through them to earlier layers.
    public var frozenParameters: Set<String> = []

    /// Training mode with nothing frozen, as a freshly constructed PyTorch module.
    public init() {}
}

/// What a state-dict entry is.
public enum ModuleEntryKind: Sendable, Hashable {
    /// A learnable parameter.
    case parameter
    /// A non-learnable tensor that is part of the state (running statistics).
    case buffer
    /// A buffer holding an integer count, stored as `I64` in safetensors (`num_batches_tracked`).
    case integerBuffer
}

/// One parameter or buffer as seen by a traversal: its full state-dict key and its value.
public struct ModuleEntry<Scalar: TensorScalar>: Sendable {
    /// The full state-dict key, such as `lstm.weight_hh_l1_reverse`.
    public let key: String
    /// Parameter, buffer or integer buffer.
    public let kind: ModuleEntryKind
    /// `true` for a parameter its module has frozen.
    public let isFrozen: Bool
    /// The tensor.
    public var value: Tensor<Scalar>
}

/// Walks a module tree, showing each parameter and buffer to a callback that may replace it.
///
/// Module authors call ``parameter(_:_:)-(_,Tensor<Scalar>)``, ``buffer(_:_:kind:)`` and
/// ``child(_:_:)-(_,M)`` from ``Module/visitEntries(_:)``; the traversal functions of
/// ``Module``'s extension create visitors.
public struct ModuleVisitor<Scalar: TensorScalar> {
    /// The key prefix of the module being visited (`""` at the root, else ending in `.`).
    private var prefix: String = ""
    /// The frozen local names of the module being visited.
    private var frozen: Set<String> = []
    private let onEntry: (inout ModuleEntry<Scalar>) -> Void
    private let onModule: ((String, inout ModuleSettings) -> Void)?

    init(onEntry: @escaping (inout ModuleEntry<Scalar>) -> Void,
         onModule: ((String, inout ModuleSettings) -> Void)? = nil) {
        self.onEntry = onEntry
        self.onModule = onModule
    }

    /// Presents the parameter `name` of the module being visited.
    public mutating func parameter(_ name: String, _ tensor: inout Tensor<Scalar>) {
        var entry = ModuleEntry(key: prefix + name, kind: .parameter, isFrozen: frozen.contains(name), value: tensor)
        onEntry(&entry)
        tensor = entry.value
    }

    /// Presents an optional parameter (such as a bias that was switched off); `nil` is skipped.
    public mutating func parameter(_ name: String, _ tensor: inout Tensor<Scalar>?) {
        guard var value = tensor else { return }
        parameter(name, &value)
        tensor = value
    }

    /// Presents the buffer `name` of the module being visited.
    public mutating func buffer(_ name: String, _ tensor: inout Tensor<Scalar>, kind: ModuleEntryKind = .buffer) {
        var entry = ModuleEntry(key: prefix + name, kind: kind == .parameter ? .buffer : kind, isFrozen: false, value: tensor)
        onEntry(&entry)
        tensor = entry.value
    }

    /// Visits the child module `name`; its keys are prefixed with `name.`.
    public mutating func child<M: Module>(_ name: String, _ module: inout M) where M.Scalar == Scalar {
        let saved = (prefix, frozen)
        prefix += name + "."
        enter(&module)
        (prefix, frozen) = saved
    }

    /// Visits an optional child module; `nil` is skipped.
    public mutating func child<M: Module>(_ name: String, _ module: inout M?) where M.Scalar == Scalar {
        guard var value = module else { return }
        child(name, &value)
        module = value
    }

    /// Visits an array of child modules as `name.0`, `name.1`, … (PyTorch's `ModuleList`).
    public mutating func children<M: Module>(_ name: String, _ modules: inout [M]) where M.Scalar == Scalar {
        for i in modules.indices { child("\(name).\(i)", &modules[i]) }
    }

    /// Visits `module` as the module at the current prefix.
    mutating func enter<M: Module>(_ module: inout M) where M.Scalar == Scalar {
        if let onModule { onModule(String(prefix.dropLast()), &module.settings) }
        frozen = module.settings.frozenParameters
        module.visitEntries(&self)
    }
}

extension Module {
    /// Calls `body` on every parameter and buffer in state-dict order; `body` may replace the value.
    public mutating func forEachEntry(_ body: (inout ModuleEntry<Scalar>) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            var visitor = ModuleVisitor<Scalar>(onEntry: escapable)
            visitor.enter(&self)
        }
    }

    /// All parameters and buffers in state-dict order.
    public func entries() -> [ModuleEntry<Scalar>] {
        var copy = self
        var result: [ModuleEntry<Scalar>] = []
        copy.forEachEntry { result.append($0) }
        return result
    }

    /// The parameters and buffers by key, in PyTorch's `state_dict()` order.
    public func stateDict() -> [(key: String, value: Tensor<Scalar>)] {
        entries().map { ($0.key, $0.value) }
    }

    /// All parameters (frozen ones included) with their state-dict keys, in state-dict order.
    public func namedParameters() -> [(key: String, value: Tensor<Scalar>)] {
        entries().filter { $0.kind == .parameter }.map { ($0.key, $0.value) }
    }

    /// The parameters that are not frozen, with their keys, in state-dict order.
    public func namedTrainableParameters() -> [(key: String, value: Tensor<Scalar>)] {
        entries().filter { $0.kind == .parameter && !$0.isFrozen }.map { ($0.key, $0.value) }
    }

    /// The parameters (all, or only trainable ones) in state-dict order, as an optimizer consumes them.
    public func parameters(trainableOnly: Bool = false) -> [Tensor<Scalar>] {
        (trainableOnly ? namedTrainableParameters() : namedParameters()).map(\.value)
    }

    /// The buffers (running statistics and counters) with their keys, in state-dict order.
    public func namedBuffers() -> [(key: String, value: Tensor<Scalar>)] {
        entries().filter { $0.kind != .parameter }.map { ($0.key, $0.value) }
    }

    /// A copy whose parameters named in `values` are replaced; the others are kept.
    ///
    /// The new tensors are used as given, so tensors that carry gradient history keep it (the
    /// functional form used by MAML).
    /// - Throws: ``NNError/unexpectedKey(_:)`` for a key that is not a parameter and
    ///   ``NNError/shapeMismatch(key:expected:found:)`` for a wrong shape; the module is not changed.
    public func replacingParameters(_ values: [String: Tensor<Scalar>]) throws -> Self {
        let current = Dictionary(namedParameters(), uniquingKeysWith: { a, _ in a })
        for (key, value) in values {
            guard let existing = current[key] else { throw NNError.unexpectedKey(key) }
            guard existing.shape == value.shape else {
                throw NNError.shapeMismatch(key: key, expected: existing.shape.dimensions, found: value.shape.dimensions)
            }
        }
        var copy = self
        copy.forEachEntry { entry in
            if entry.kind == .parameter, let value = values[entry.key] { entry.value = value }
        }
        return copy
    }

    /// A copy whose parameters (all, or only the trainable ones) are replaced in state-dict order.
    ///
    /// - Throws: ``NNError/parameterCountMismatch(expected:found:)`` and
    ///   ``NNError/shapeMismatch(key:expected:found:)``; the module is not changed.
    public func replacingParameters(_ values: [Tensor<Scalar>], trainableOnly: Bool = false) throws -> Self {
        let keys = (trainableOnly ? namedTrainableParameters() : namedParameters()).map(\.key)
        guard keys.count == values.count else {
            throw NNError.parameterCountMismatch(expected: keys.count, found: values.count)
        }
        return try replacingParameters(Dictionary(uniqueKeysWithValues: zip(keys, values)))
    }

    /// Applies `body` to a copy of this module carrying `values` as its parameters (the functional form).
    ///
    /// - Throws: the errors of ``replacingParameters(_:)-(([String:Tensor<Scalar>]))`` and of `body`.
    public func applying<R>(parameters values: [String: Tensor<Scalar>], _ body: (Self) throws -> R) throws -> R {
        try body(replacingParameters(values))
    }

    /// Replaces parameters and buffers from a state dict, as `torch.nn.Module.load_state_dict`.
    ///
    /// Every key and shape is checked before anything is assigned.
    /// - Parameter strict: when `true`, every key of the module must be present and no other key may be.
    /// - Throws: ``NNError/missingKey(_:)``, ``NNError/unexpectedKey(_:)`` or
    ///   ``NNError/shapeMismatch(key:expected:found:)``; the module is unchanged on error.
    public mutating func loadStateDict(_ values: [String: Tensor<Scalar>], strict: Bool = true) throws {
        let current = entries()
        let known = Set(current.map(\.key))
        if strict, let missing = current.first(where: { values[$0.key] == nil }) { throw NNError.missingKey(missing.key) }
        if let unexpected = values.keys.sorted().first(where: { !known.contains($0) }) {
            throw NNError.unexpectedKey(unexpected)
        }
        for entry in current {
            if let value = values[entry.key], value.shape != entry.value.shape {
                throw NNError.shapeMismatch(key: entry.key, expected: entry.value.shape.dimensions,
                                            found: value.shape.dimensions)
            }
        }
        forEachEntry { entry in
            if let value = values[entry.key] { entry.value = value.detached() }
        }
    }

    /// Calls `body` with the full prefix (`""` for the root) and the settings of every module in the tree.
    public mutating func forEachModule(_ body: (String, inout ModuleSettings) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            var visitor = ModuleVisitor<Scalar>(onEntry: { _ in }, onModule: escapable)
            visitor.enter(&self)
        }
    }

    /// `true` when this module (the root) is in training mode.
    public var isTraining: Bool { settings.isTraining }

    /// Puts this module and all its children into training (`true`) or eval (`false`) mode, as PyTorch's `train(mode)`.
    public mutating func setTraining(_ isTraining: Bool) {
        forEachModule { _, settings in settings.isTraining = isTraining }
    }

    /// A copy in eval mode (dropout off, running statistics in batch normalization), as PyTorch's `eval()`.
    public func inEvalMode() -> Self {
        var copy = self
        copy.setTraining(false)
        return copy
    }

    /// Freezes the parameters with the given full keys, or all parameters when `keys` is `nil`.
    ///
    /// A key may also name a child module's prefix (such as `layers.0`) to freeze all its parameters.
    /// - Throws: ``NNError/unexpectedKey(_:)`` for a key that matches no parameter; nothing is frozen then.
    public mutating func freeze(_ keys: [String]? = nil) throws { try setFrozen(true, keys) }

    /// Unfreezes the parameters with the given full keys or prefixes, or all when `keys` is `nil`.
    /// - Throws: ``NNError/unexpectedKey(_:)`` for a key that matches no parameter; nothing changes then.
    public mutating func unfreeze(_ keys: [String]? = nil) throws { try setFrozen(false, keys) }

    private mutating func setFrozen(_ frozen: Bool, _ keys: [String]?) throws {
        let parameterKeys = namedParameters().map(\.key)
        func matches(_ key: String, _ pattern: String) -> Bool { key == pattern || key.hasPrefix(pattern + ".") }
        if let keys, let unknown = keys.first(where: { k in !parameterKeys.contains { matches($0, k) } }) {
            throw NNError.unexpectedKey(unknown)
        }
        forEachModule { prefix, settings in
            let local = parameterKeys.filter { key in
                prefix.isEmpty ? !key.contains(".") : key.hasPrefix(prefix + ".") && !key.dropFirst(prefix.count + 1).contains(".")
            }
            for key in local where keys?.contains(where: { matches(key, $0) }) ?? true {
                let name = prefix.isEmpty ? key : String(key.dropFirst(prefix.count + 1))
                if frozen { settings.frozenParameters.insert(name) } else { settings.frozenParameters.remove(name) }
            }
        }
    }
}

/// A module mapping one tensor to one tensor, such as ``Linear`` or ``Conv1d``.
public protocol UnaryModule<Scalar>: Module {
    /// Applies the module to `input`.
    func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar>
}
