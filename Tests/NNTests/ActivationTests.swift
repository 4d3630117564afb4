import Autodiff
import Foundation
import NN
import Testing

@Suite struct ActivationTests {
    /// Each case against its closed form in scalar Double arithmetic, to 1e-15 absolute.
    @Test func everyCaseMatchesItsClosedForm() {
        let inputs: [Double] = [-3, -0.5, 0, 0.25, 2]
        let closedForms: [Activation: (Double) -> Double] = [
            .identity: { $0 },
            .relu: { max($0, 0) },
            .leakyRelu: { $0 >= 0 ? $0 : 0.01 * $0 },
            .gelu: { $0 * 0.5 * (1 + erf($0 / 2.0.squareRoot())) },
            .tanh: { Foundation.tanh($0) },
            .sigmoid: { 1 / (1 + exp(-$0)) },
            .softplus: { log1p(exp($0)) },
        ]
        #expect(closedForms.count == Activation.allCases.count)
        for activation in Activation.allCases {
            let output = activation(Tensor(inputs)).scalars
            let expected = inputs.map(closedForms[activation]!)
            for (value, reference) in zip(output, expected) {
                #expect(abs(value - reference) <= 1e-15, "\(activation) at \(value) vs \(reference)")
            }
        }
    }

    /// The activation keeps the gradient tape: the derivative of relu at positive and negative inputs.
    @Test func gradientFlowsThroughTheActivation() {
        let x = Tensor<Double>([-1, 2]).requiringGradient()
        let gradient = Autodiff.gradient(of: Activation.relu(x).sum(), wrt: [x])[0]
        #expect(gradient.scalars == [0, 1])
    }
}
