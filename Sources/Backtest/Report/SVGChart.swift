/// The drawing style of one line: colour and optional SVG dash pattern.
package struct LineStyle: Hashable {
    /// CSS colour.
    package let color: String
    /// SVG dash pattern, `nil` for a solid line.
    package let dash: String?

    /// A style.
    package init(color: String, dash: String?) {
        self.color = color
        self.dash = dash
    }
}

/// One line of a chart: dated values, `nil` where the value is undefined (a gap).
package struct PlotLine {
    /// Legend name.
    package let name: String
    /// Colour and dash.
    package let style: LineStyle
    /// Days since the epoch of each value.
    package let days: [Int]
    /// The values, `nil` for a gap.
    package let values: [Double?]

    /// A line.
    package init(name: String, style: LineStyle, days: [Int], values: [Double?]) {
        self.name = name
        self.style = style
        self.days = days
        self.values = values
    }
}

/// A highlighted point (for example a drawdown trough) with a tooltip.
struct PlotMarker {
    let day: Int
    let value: Double
    let color: String
    let tooltip: String
}

/// One inline SVG chart with a date x-axis: frame, grid, ticks and content, written as
/// well-formed XML (every element closed, every attribute quoted and escaped) so the
/// page also parses as XHTML. All coordinates are clamped into the viewBox.
package struct SVGChart {
    let id: String
    let kind: String
    let label: String
    let width: Double
    let height: Double
    let dateAxis: DateAxis
    let valueAxis: ValueAxis
    private(set) var content = ""
    /// Whether any data (line, band, bars) was drawn; an empty chart says so in `data-empty`.
    private(set) var drawsData = false

    let marginLeft = 58.0, marginRight = 14.0, marginTop = 12.0, marginBottom = 26.0
    var plotLeft: Double { marginLeft }
    var plotRight: Double { width - marginRight }
    var plotTop: Double { marginTop }
    var plotBottom: Double { height - marginBottom }

    package init(id: String, kind: String, label: String, width: Double, height: Double, dateAxis: DateAxis, valueAxis: ValueAxis) {
        self.id = id
        self.kind = kind
        self.label = label
        self.width = width
        self.height = height
        self.dateAxis = dateAxis
        self.valueAxis = valueAxis
    }

    func x(_ day: Int) -> Double { dateAxis.position(day, left: plotLeft, right: plotRight) }
    func y(_ value: Double) -> Double { valueAxis.position(value, top: plotTop, bottom: plotBottom) }

    /// `x,y` of a data point, rounded.
    func point(_ day: Int, _ value: Double) -> String {
        ReportFormat.coordinate(x(day)) + "," + ReportFormat.coordinate(y(value))
    }

    /// A horizontal reference line at `value` (for example 0 or 100 %).
    package mutating func addReferenceLine(at value: Double, cssClass: String) {
        let yValue = ReportFormat.coordinate(y(value))
        content += "<path class=\"\(cssClass)\" d=\"M\(ReportFormat.coordinate(plotLeft)),\(yValue)L\(ReportFormat.coordinate(plotRight)),\(yValue)\"/>\n"
    }

    /// Lines, each a single `<path>`; a `nil` value breaks the line.
    package mutating func addLines(_ lines: [PlotLine]) {
        for line in lines {
            // Runs of defined values become subpaths; a run of one point draws nothing.
            var d = "", run: [String] = []
            func flush() {
                if run.count >= 2 { d += "M" + run[0] + "L" + run.dropFirst().joined(separator: " ") }
                run.removeAll(keepingCapacity: true)
            }
            for (day, value) in zip(line.days, line.values) {
                if let value { run.append(point(day, value)) } else { flush() }
            }
            flush()
            guard !d.isEmpty else { continue }
            drawsData = true
            let dash = line.style.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
            content += "<path class=\"line\" data-series=\"\(ReportFormat.escaped(line.name))\" stroke=\"\(line.style.color)\"\(dash) d=\"\(d)\">"
                + "<title>\(ReportFormat.escaped(line.name))</title></path>\n"
        }
    }

    /// Small circles at notable points, with tooltips.
    mutating func addMarkers(_ markers: [PlotMarker]) {
        for marker in markers {
            content += "<circle class=\"marker\" cx=\"\(ReportFormat.coordinate(x(marker.day)))\" cy=\"\(ReportFormat.coordinate(y(marker.value)))\" r=\"3.5\" fill=\"\(marker.color)\">"
                + "<title>\(ReportFormat.escaped(marker.tooltip))</title></circle>\n"
        }
    }

    /// A filled band between `lower` and `upper` (same dates) as one closed path.
    package mutating func addBand(name: String, color: String, days: [Int], lower: [Double], upper: [Double]) {
        guard !days.isEmpty else { return }
        var d = "M"
        for k in days.indices { d += (k == 0 ? "" : " ") + point(days[k], upper[k]) + (k == 0 ? "L" : "") }
        for k in days.indices.reversed() { d += " " + point(days[k], lower[k]) }
        d += "Z"
        drawsData = true
        content += "<path class=\"band\" data-series=\"\(ReportFormat.escaped(name))\" fill=\"\(color)\" d=\"\(d)\">"
            + "<title>\(ReportFormat.escaped(name))</title></path>\n"
    }

    /// Vertical bars from zero to each value, drawn as one stroked path.
    mutating func addBars(name: String, color: String, days: [Int], values: [Double]) {
        let barWidth = Swift.min(8, Swift.max(1, 0.7 * (plotRight - plotLeft) / Double(Swift.max(1, values.count))))
        var d = ""
        let base = ReportFormat.coordinate(y(0))
        for (day, value) in zip(days, values) where value > 0 {
            let xValue = ReportFormat.coordinate(x(day))
            d += "M\(xValue),\(base)L\(xValue),\(ReportFormat.coordinate(y(value)))"
        }
        guard !d.isEmpty else { return }
        drawsData = true
        content += "<path class=\"bars\" data-series=\"\(ReportFormat.escaped(name))\" stroke=\"\(color)\" stroke-width=\"\(ReportFormat.coordinate(barWidth))\" d=\"\(d)\">"
            + "<title>\(ReportFormat.escaped(name))</title></path>\n"
    }

    /// The complete `<svg>` element: grid, axes, content and frame.
    package var svg: String {
        let left = ReportFormat.coordinate(plotLeft), right = ReportFormat.coordinate(plotRight)
        let bottom = ReportFormat.coordinate(plotBottom)
        var grid = "", labels = ""
        for tick in valueAxis.ticks {
            let yValue = ReportFormat.coordinate(y(tick.value))
            grid += "M\(left),\(yValue)L\(right),\(yValue)"
            labels += "<text x=\"\(ReportFormat.coordinate(plotLeft - 6))\" y=\"\(yValue)\" dy=\"0.32em\" text-anchor=\"end\">\(ReportFormat.escaped(tick.label))</text>"
        }
        var xTicks = ""
        for tick in dateAxis.ticks {
            let xValue = ReportFormat.coordinate(x(tick.day))
            xTicks += "M\(xValue),\(bottom)L\(xValue),\(ReportFormat.coordinate(plotBottom + 4))"
            labels += "<text x=\"\(xValue)\" y=\"\(ReportFormat.coordinate(plotBottom + 17))\" text-anchor=\"middle\">\(ReportFormat.escaped(tick.label))</text>"
        }
        let viewBox = "0 0 \(ReportFormat.coordinate(width)) \(ReportFormat.coordinate(height))"
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"\(id)\" class=\"chart \(kind)\" viewBox=\"\(viewBox)\" "
            + "preserveAspectRatio=\"xMidYMid meet\"\(drawsData ? "" : " data-empty=\"true\"") role=\"img\" aria-label=\"\(ReportFormat.escaped(label))\">\n"
            + "<title>\(ReportFormat.escaped(label))</title>\n"
            + (grid.isEmpty ? "" : "<path class=\"grid\" d=\"\(grid)\"/>\n")
            + content
            + "<path class=\"frame\" d=\"M\(left),\(bottom)L\(right),\(bottom)\(xTicks)\"/>\n"
            + "<g class=\"tick-labels\">\(labels)</g>\n"
            + "</svg>"
    }
}
