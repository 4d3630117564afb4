// Broadcasting arithmetic, comparisons and the single un-broadcasting rule.

extension Tensor {
    /// The broadcast shape of two operands, trapping with the op name and both shapes when incompatible.
    @inline(__always)
    static func broadcastShape(_ op: StaticString, _ a: TensorShape, _ b: TensorShape) -> TensorShape {
        if a == b { return a }
        guard let s = TensorShape.broadcast(a, b) else {
            fatalError("\(op): shapes \(a) and \(b) cannot be broadcast together")
        }
        return s
    }

    /// Forward value of a broadcasting binary kernel.
    @inline(__always)
    static func applyBinary(_ op: BinaryOp, _ name: StaticString, _ a: Tensor, _ b: Tensor) -> (TensorShape, TensorStorage<Scalar>) {
        let shape = broadcastShape(name, a.shape, b.shape)
        return (shape, binaryKernel(op, a.storage, a.shape, b.storage, b.shape, shape))
    }

    /// Sums this gradient down to `shape`, undoing NumPy broadcasting.
    ///
    /// This is the only place where broadcasting is undone: every broadcasting
    /// operation's pullback calls it. It sums over the leading axes that
    /// broadcasting added and over axes where `shape` has extent 1, then
    /// reshapes. It is built from ``sum(alongAxes:keepingDimensions:)`` and
    /// ``reshaped(to:)``, so it is differentiable (its pullback is
    /// ``expanded(to:)``).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func unbroadcast(to target: TensorShape) -> Tensor {
        if shape == target { return self }
        let extra = shape.rank - target.rank
        precondition(extra >= 0, "unbroadcast: shape \(shape) cannot be reduced to \(target)")
        var axes: [Int] = Array(0..<extra)
        for i in 0..<target.rank {
            let d = target.dimensions[i], e = shape.dimensions[i + extra]
            if d == 1 && e != 1 { axes.append(i + extra) } else {
                precondition(d == e, "unbroadcast: shape \(shape) cannot be reduced to \(target)")
            }
        }
        return sum(alongAxes: axes, keepingDimensions: true).reshaped(to: target)
    }

    // MARK: Arithmetic

    /// Elementwise sum with NumPy broadcasting.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = applyBinary(.add, "+", a, b)
        guard let context = recording(a.node, b.node) else { return Tensor(shape: shape, storage: out) }
        let (sa, sb, needA, needB) = (a.shape, b.shape, a.node != nil, b.node != nil)
        return Tensor(shape: shape, storage: out, context: context, parents: (a.node, b.node)) { g, _ in
            (needA ? g.unbroadcast(to: sa) : nil, needB ? g.unbroadcast(to: sb) : nil)
        }
    }

    /// Elementwise difference with NumPy broadcasting.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = applyBinary(.sub, "-", a, b)
        guard let context = recording(a.node, b.node) else { return Tensor(shape: shape, storage: out) }
        let (sa, sb, needA, needB) = (a.shape, b.shape, a.node != nil, b.node != nil)
        return Tensor(shape: shape, storage: out, context: context, parents: (a.node, b.node)) { g, _ in
            (needA ? g.unbroadcast(to: sa) : nil, needB ? (-g).unbroadcast(to: sb) : nil)
        }
    }

    /// Elementwise product with NumPy broadcasting.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = applyBinary(.mul, "*", a, b)
        guard let context = recording(a.node, b.node) else { return Tensor(shape: shape, storage: out) }
        let (needA, needB) = (a.node != nil, b.node != nil)
        return Tensor(shape: shape, storage: out, context: context, parents: (a.node, b.node)) { g, _ in
            (needA ? (g * b).unbroadcast(to: a.shape) : nil, needB ? (g * a).unbroadcast(to: b.shape) : nil)
        }
    }

    /// Elementwise quotient with NumPy broadcasting.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let (shape, out) = applyBinary(.div, "/", a, b)
        guard let context = recording(a.node, b.node) else { return Tensor(shape: shape, storage: out) }
        let (needA, needB) = (a.node != nil, b.node != nil)
        return Tensor(shape: shape, storage: out, context: context, parents: (a.node, b.node)) { g, node in
            let ga = g / b
            let gb: Tensor? = needB ? (-(ga * Tensor(shape: shape, storage: out, node: node))).unbroadcast(to: b.shape) : nil
            return (needA ? ga.unbroadcast(to: a.shape) : nil, gb)
        }
    }

    /// Elementwise negation.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static prefix func - (x: Tensor) -> Tensor {
        let out = unaryKernel(.neg, x.storage)
        guard let context = recording(x.node) else { return Tensor(shape: x.shape, storage: out) }
        return Tensor(shape: x.shape, storage: out, context: context, parent: x.node!) { g, _ in -g }
    }

    /// `a + b` with a scalar `b`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func + (a: Tensor, b: Scalar) -> Tensor { a + Tensor(b) }
    /// `a + b` with a scalar `a`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func + (a: Scalar, b: Tensor) -> Tensor { Tensor(a) + b }
    /// `a − b` with a scalar `b`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func - (a: Tensor, b: Scalar) -> Tensor { a - Tensor(b) }
    /// `a − b` with a scalar `a`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func - (a: Scalar, b: Tensor) -> Tensor { Tensor(a) - b }
    /// `a × b` with a scalar `b`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func * (a: Tensor, b: Scalar) -> Tensor { a * Tensor(b) }
    /// `a × b` with a scalar `a`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func * (a: Scalar, b: Tensor) -> Tensor { Tensor(a) * b }
    /// `a ÷ b` with a scalar `b`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func / (a: Tensor, b: Scalar) -> Tensor { a / Tensor(b) }
    /// `a ÷ b` with a scalar `a`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func / (a: Scalar, b: Tensor) -> Tensor { Tensor(a) / b }

    /// `a = a + b` (a new value; other copies of `a` are unchanged).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    /// `a = a − b`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    /// `a = a × b`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    /// `a = a ÷ b`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }

    /// Elementwise power `selfᵉˣᵖᵒⁿᵉⁿᵗ` with broadcasting, as C `pow`.
    ///
    /// Gradients: `∂/∂self = e·selfᵉ⁻¹`, `∂/∂e = selfᵉ·log(self)` (NaN for a
    /// non-positive base, as in the real-valued definition; computed only when
    /// the exponent requires gradients).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pow(_ exponent: Tensor) -> Tensor {
        let (shape, out) = Tensor.applyBinary(.pow, "pow", self, exponent)
        guard let context = Tensor.recording(node, exponent.node) else { return Tensor(shape: shape, storage: out) }
        let base = self
        let (needA, needB) = (node != nil, exponent.node != nil)
        return Tensor(shape: shape, storage: out, context: context, parents: (node, exponent.node)) { g, node in
            let ga: Tensor? = needA ? (g * exponent * base.pow(exponent - 1)).unbroadcast(to: base.shape) : nil
            let gb: Tensor? = needB
                ? (g * Tensor(shape: shape, storage: out, node: node) * base.log()).unbroadcast(to: exponent.shape) : nil
            return (ga, gb)
        }
    }

    /// Elementwise power with a scalar exponent.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pow(_ exponent: Scalar) -> Tensor { pow(Tensor(exponent)) }

    /// Elementwise maximum with broadcasting; at ties each operand gets half the gradient (as PyTorch).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { extremum(a, b, max: true) }

    /// Elementwise minimum with broadcasting; at ties each operand gets half the gradient (as PyTorch).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { extremum(a, b, max: false) }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func extremum(_ a: Tensor, _ b: Tensor, max: Bool) -> Tensor {
        let (shape, out) = applyBinary(max ? .maximum : .minimum, max ? "maximum" : "minimum", a, b)
        guard let context = recording(a.node, b.node) else { return Tensor(shape: shape, storage: out) }
        let (needA, needB) = (a.node != nil, b.node != nil)
        return Tensor(shape: shape, storage: out, context: context, parents: (a.node, b.node)) { g, _ in
            let sharesShape = broadcastShape("maximum", a.shape, b.shape)
            let share = max
                ? Tensor(shape: sharesShape, storage: binaryKernel(.maxShare, a.storage, a.shape, b.storage, b.shape, sharesShape))
                : Tensor(shape: sharesShape, storage: binaryKernel(.maxShare, b.storage, b.shape, a.storage, a.shape, sharesShape))
            return (needA ? (g * share).unbroadcast(to: a.shape) : nil,
                    needB ? (g * (1 - share)).unbroadcast(to: b.shape) : nil)
        }
    }

    // MARK: Comparisons (constant masks)

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func compare(_ op: BinaryOp, _ name: StaticString, _ a: Tensor, _ b: Tensor) -> Tensor {
        let (shape, out) = applyBinary(op, name, a, b)
        return Tensor(shape: shape, storage: out)
    }

    /// `1` where `a < b`, else `0` (broadcasting). The mask is a constant.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func .< (a: Tensor, b: Tensor) -> Tensor { compare(.less, ".<", a, b) }
    /// `1` where `a ≤ b`, else `0`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { compare(.lessEqual, ".<=", a, b) }
    /// `1` where `a > b`, else `0`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func .> (a: Tensor, b: Tensor) -> Tensor { compare(.greater, ".>", a, b) }
    /// `1` where `a ≥ b`, else `0`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { compare(.greaterEqual, ".>=", a, b) }
    /// `1` where `a == b`, else `0`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func .== (a: Tensor, b: Tensor) -> Tensor { compare(.equal, ".==", a, b) }
    /// `1` where `a != b`, else `0`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { compare(.notEqual, ".!=", a, b) }
    /// `1` where `a < b`, else `0`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func .< (a: Tensor, b: Scalar) -> Tensor { a .< Tensor(b) }
    /// `1` where `a ≤ b`, else `0`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func .<= (a: Tensor, b: Scalar) -> Tensor { a .<= Tensor(b) }
    /// `1` where `a > b`, else `0`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func .> (a: Tensor, b: Scalar) -> Tensor { a .> Tensor(b) }
    /// `1` where `a ≥ b`, else `0`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func .>= (a: Tensor, b: Scalar) -> Tensor { a .>= Tensor(b) }
    /// `1` where `a == b`, else `0`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func .== (a: Tensor, b: Scalar) -> Tensor { a .== Tensor(b) }
    /// `1` where `a != b`, else `0`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func .!= (a: Tensor, b: Scalar) -> Tensor { a .!= Tensor(b) }

    /// Elements of `a` where `mask` is non-zero and of `b` elsewhere, all three broadcast together.
    ///
    /// The mask is not differentiated; the gradient flows to `a` where the mask is
    /// set and to `b` elsewhere.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func `where`(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = broadcastShape("where", broadcastShape("where", mask.shape, a.shape), b.shape)
        let m = mask.shape == shape ? mask.storage : mask.detached().expanded(to: shape).storage
        let av = a.shape == shape ? a.storage : a.detached().expanded(to: shape).storage
        let bv = b.shape == shape ? b.storage : b.detached().expanded(to: shape).storage
        let out = selectKernel(m, av, bv)
        guard let context = recording(a.node, b.node) else { return Tensor(shape: shape, storage: out) }
        let constantMask = Tensor(shape: shape, storage: m)
        let (needA, needB) = (a.node != nil, b.node != nil)
        return Tensor(shape: shape, storage: out, context: context, parents: (a.node, b.node)) { g, _ in
            let zero = Tensor(Scalar(0))
            return (needA ? Tensor.where(constantMask, g, zero).unbroadcast(to: a.shape) : nil,
                    needB ? Tensor.where(constantMask, zero, g).unbroadcast(to: b.shape) : nil)
        }
    }
}
