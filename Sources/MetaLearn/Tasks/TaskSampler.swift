import Autodiff
import Linalg

/// A source of tasks for episodic meta-training: each meta-iteration draws a meta-batch of tasks.
///
/// Every draw takes the caller's seeded generator, so the same seed gives the same episodes.
public protocol TaskSampler<Scalar>: Sendable {
    /// The element type of the task tensors.
    associatedtype Scalar: TensorScalar

    /// Draws one task.
    func sampleTask(using generator: inout Xoshiro256StarStar) -> MetaTask<Scalar>

    /// Draws an episodic meta-batch of `size` tasks.
    ///
    /// - Throws: ``MetaLearnError/invalidWindow(name:value:requirement:)`` for `size < 1` (and, for
    ///   samplers over a fixed list, a size larger than the list).
    func metaBatch(size: Int, using generator: inout Xoshiro256StarStar) throws -> [MetaTask<Scalar>]
}

extension TaskSampler {
    /// `size` independent draws of ``sampleTask(using:)``.
    public func metaBatch(size: Int, using generator: inout Xoshiro256StarStar) throws -> [MetaTask<Scalar>] {
        guard size >= 1 else { throw MetaLearnError.invalidWindow(name: "meta-batch size", value: size, requirement: "must be ≥ 1") }
        return (0..<size).map { _ in sampleTask(using: &generator) }
    }
}

/// Samples uniformly from a fixed list of tasks (for instance the training tasks of ``PeriodTasks``).
public struct TaskPool<Scalar: TensorScalar>: TaskSampler {
    /// The tasks drawn from.
    public let tasks: [MetaTask<Scalar>]

    /// A pool of `tasks`.
    /// - Throws: ``MetaLearnError/noTasks(reason:)`` for an empty list.
    public init(_ tasks: [MetaTask<Scalar>]) throws {
        guard !tasks.isEmpty else { throw MetaLearnError.noTasks(reason: "the task pool is empty") }
        self.tasks = tasks
    }

    /// One task, uniformly at random.
    public func sampleTask(using generator: inout Xoshiro256StarStar) -> MetaTask<Scalar> {
        tasks[Int.random(in: 0..<tasks.count, using: &generator)]
    }

    /// `size` distinct tasks, uniformly without replacement (a random subset in random order).
    /// - Throws: ``MetaLearnError/invalidWindow(name:value:requirement:)`` unless `1 ≤ size ≤ tasks.count`.
    public func metaBatch(size: Int, using generator: inout Xoshiro256StarStar) throws -> [MetaTask<Scalar>] {
        guard size >= 1, size <= tasks.count else {
            throw MetaLearnError.invalidWindow(name: "meta-batch size", value: size,
                                               requirement: "must be in 1...\(tasks.count), the number of tasks in the pool")
        }
        var order = Array(tasks.indices)
        for i in 0..<size { order.swapAt(i, Int.random(in: i..<order.count, using: &generator)) }
        return order.prefix(size).map { tasks[$0] }
    }
}

// MARK: - Calendar periods

/// Tasks over consecutive calendar periods: support on `supportPeriods` periods, query on the
/// `queryPeriods` periods that follow (after `gapPeriods` skipped ones), for every possible start.
///
/// MetaLearn knows nothing about calendars: the caller (a higher layer that owns dates, such as
/// Market's time index or Regimes' segmentation) passes one period key per row (`"2021-03"`,
/// `"2021Q1"`) or the row range of each period. Rows must be in time order.
///
/// No overlap and no look-ahead: every query row comes strictly after every support row. When a
/// target looks ahead (a forward return over `h` rows), set `embargoRows = h` so the last `h` support
/// rows, whose targets reach into the query window, are dropped; the purging and embargo of López de
/// Prado, *Advances in Financial Machine Learning* (2018), ch. 7.
public struct PeriodTasks<Scalar: TensorScalar>: Sendable {
    /// One calendar period: its key and its rows.
    public struct Period: Sendable, Hashable {
        /// The caller's key, such as `"2021-03"`.
        public let key: String
        /// The rows of the data set in this period.
        public let rows: Range<Int>

        /// A period with its rows.
        public init(key: String, rows: Range<Int>) {
            self.key = key
            self.rows = rows
        }
    }

    /// The periods in time order.
    public let periods: [Period]
    /// Periods per support window (≥ 1).
    public let supportPeriods: Int
    /// Periods per query window (≥ 1).
    public let queryPeriods: Int
    /// Periods skipped between support and query (≥ 0).
    public let gapPeriods: Int
    /// Rows dropped from the end of each support window (≥ 0).
    public let embargoRows: Int
    /// All tasks in time order; task `i` has its support starting at period `i`.
    public let tasks: [MetaTask<Scalar>]
    /// For each task, the index of its first query period.
    public let queryStart: [Int]

    /// Tasks from one period key per row (rows of a period must be contiguous and in time order).
    ///
    /// - Parameters:
    ///   - data: all examples in time order.
    ///   - periodKeys: one key per row of `data`.
    ///   - supportPeriods: periods in each support window.
    ///   - queryPeriods: periods in each query window.
    ///   - gapPeriods: periods skipped between support and query.
    ///   - embargoRows: rows dropped from the end of each support window.
    /// - Throws: ``MetaLearnError/metadataCountMismatch(what:expected:found:)`` when the key count differs
    ///   from the row count, ``MetaLearnError/periodNotContiguous(key:row:)`` when a key reappears, and the
    ///   errors of ``init(data:periods:supportPeriods:queryPeriods:gapPeriods:embargoRows:)``.
    public init(data: TaskData<Scalar>, periodKeys: [String], supportPeriods: Int = 1, queryPeriods: Int = 1,
                gapPeriods: Int = 0, embargoRows: Int = 0) throws {
        guard periodKeys.count == data.count else {
            throw MetaLearnError.metadataCountMismatch(what: "period keys", expected: data.count, found: periodKeys.count)
        }
        var periods: [Period] = []
        var seen: Set<String> = []
        var start = 0
        for row in 1...periodKeys.count where row == periodKeys.count || periodKeys[row] != periodKeys[start] {
            let key = periodKeys[start]
            guard seen.insert(key).inserted else { throw MetaLearnError.periodNotContiguous(key: key, row: start) }
            periods.append(Period(key: key, rows: start..<row))
            start = row
        }
        try self.init(data: data, periods: periods, supportPeriods: supportPeriods, queryPeriods: queryPeriods,
                      gapPeriods: gapPeriods, embargoRows: embargoRows)
    }

    /// Tasks from explicit period row ranges (non-empty, increasing, non-overlapping, inside the data).
    ///
    /// Rows between periods are ignored, so a caller may leave out rows on purpose.
    /// - Throws: ``MetaLearnError/invalidPeriodRange(index:lower:upper:rowCount:)`` for a bad range,
    ///   ``MetaLearnError/invalidWindow(name:value:requirement:)`` for a bad window setting, and
    ///   ``MetaLearnError/noTasks(reason:)`` when there are too few periods for one task or the embargo
    ///   empties every support window.
    public init(data: TaskData<Scalar>, periods: [Period], supportPeriods: Int = 1, queryPeriods: Int = 1,
                gapPeriods: Int = 0, embargoRows: Int = 0) throws {
        var previousEnd = 0
        for (i, p) in periods.enumerated() {
            guard !p.rows.isEmpty, p.rows.lowerBound >= previousEnd, p.rows.upperBound <= data.count else {
                throw MetaLearnError.invalidPeriodRange(index: i, lower: p.rows.lowerBound, upper: p.rows.upperBound,
                                                        rowCount: data.count)
            }
            previousEnd = p.rows.upperBound
        }
        guard supportPeriods >= 1 else {
            throw MetaLearnError.invalidWindow(name: "supportPeriods", value: supportPeriods, requirement: "must be ≥ 1")
        }
        guard queryPeriods >= 1 else {
            throw MetaLearnError.invalidWindow(name: "queryPeriods", value: queryPeriods, requirement: "must be ≥ 1")
        }
        guard gapPeriods >= 0 else {
            throw MetaLearnError.invalidWindow(name: "gapPeriods", value: gapPeriods, requirement: "must be ≥ 0")
        }
        guard embargoRows >= 0 else {
            throw MetaLearnError.invalidWindow(name: "embargoRows", value: embargoRows, requirement: "must be ≥ 0")
        }
        let span = supportPeriods + gapPeriods + queryPeriods
        guard periods.count >= span else {
            throw MetaLearnError.noTasks(reason: "\(periods.count) periods, a task spans \(span)")
        }
        var tasks: [MetaTask<Scalar>] = []
        var queryStart: [Int] = []
        for first in 0...(periods.count - span) {
            let supportLower = periods[first].rows.lowerBound
            let supportUpper = periods[first + supportPeriods - 1].rows.upperBound - embargoRows
            let q = first + supportPeriods + gapPeriods
            let queryRows = periods[q].rows.lowerBound..<periods[q + queryPeriods - 1].rows.upperBound
            guard supportUpper > supportLower else { continue }
            let name = supportPeriods == 1 && queryPeriods == 1
                ? "\(periods[first].key)→\(periods[q].key)"
                : "\(periods[first].key)…\(periods[first + supportPeriods - 1].key)→\(periods[q].key)…\(periods[q + queryPeriods - 1].key)"
            tasks.append(MetaTask(support: data.slicing(supportLower..<supportUpper), query: data.slicing(queryRows),
                                  name: name))
            queryStart.append(q)
        }
        guard !tasks.isEmpty else {
            throw MetaLearnError.noTasks(reason: "an embargo of \(embargoRows) rows empties every support window")
        }
        self.periods = periods
        self.supportPeriods = supportPeriods
        self.queryPeriods = queryPeriods
        self.gapPeriods = gapPeriods
        self.embargoRows = embargoRows
        self.tasks = tasks
        self.queryStart = queryStart
    }

    /// Splits the tasks at period `index` for out-of-sample evaluation.
    ///
    /// Training tasks are those whose query window ends before period `index`, so training never sees
    /// a row from period `index` on. Held-out tasks are those whose query starts at or after `index`;
    /// their support may lie before `index` (adapt on the latest data, forecast the next period, as at
    /// deployment).
    /// - Throws: ``MetaLearnError/invalidWindow(name:value:requirement:)`` for an index outside the periods.
    public func split(heldOutFrom index: Int) throws -> (training: [MetaTask<Scalar>], heldOut: [MetaTask<Scalar>]) {
        guard index >= 0, index < periods.count else {
            throw MetaLearnError.invalidWindow(name: "heldOutFrom", value: index,
                                               requirement: "must be a period index in 0..<\(periods.count)")
        }
        var training: [MetaTask<Scalar>] = [], heldOut: [MetaTask<Scalar>] = []
        for (task, q) in zip(tasks, queryStart) {
            if q + queryPeriods <= index { training.append(task) } else if q >= index { heldOut.append(task) }
        }
        return (training, heldOut)
    }
}

// MARK: - Groups (labels, assets)

/// How a group's examples are divided into support and query.
public enum SupportQuerySplit: String, Sendable, Hashable, Codable {
    /// `K` support and `Q` query examples drawn at random without replacement (disjoint), each kept in row order.
    /// Only for exchangeable examples: on a time series it puts later rows in the support set.
    case random
    /// `K` consecutive examples (in row order) followed by the next `Q`: the query comes after the support in time.
    /// The default of every sampler, since tasks here come from time series.
    case chronological
}

/// Tasks drawn from groups of examples: one group per regime label, per asset, or any other key.
///
/// A task picks a group uniformly at random and takes `supportSize` support and `querySize` query
/// examples from it (see ``SupportQuerySplit``). Labels come from outside MetaLearn (Regimes' HMM or
/// GMM states, a volatility bucket), which keeps the layer order.
public struct GroupTaskSampler<Scalar: TensorScalar>: TaskSampler {
    /// One group: its name and its examples in time order.
    public struct Group: Sendable {
        /// Reported as the task name.
        public let name: String
        /// The group's examples.
        public let data: TaskData<Scalar>

        /// A group of examples.
        public init(name: String, data: TaskData<Scalar>) {
            self.name = name
            self.data = data
        }
    }

    /// The groups, in the order given (by label order for ``byLabel(_:labels:supportSize:querySize:split:)``).
    public let groups: [Group]
    /// `K`, support examples per task.
    public let supportSize: Int
    /// `Q`, query examples per task.
    public let querySize: Int
    /// How a group is divided.
    public let split: SupportQuerySplit

    /// A sampler over `groups`.
    /// - Throws: ``MetaLearnError/noTasks(reason:)`` for no groups,
    ///   ``MetaLearnError/invalidWindow(name:value:requirement:)`` for sizes below 1, and
    ///   ``MetaLearnError/tooFewExamples(group:required:available:)`` for a group with fewer than `K + Q` examples.
    public init(groups: [Group], supportSize: Int, querySize: Int, split: SupportQuerySplit = .chronological) throws {
        guard !groups.isEmpty else { throw MetaLearnError.noTasks(reason: "no groups") }
        guard supportSize >= 1 else {
            throw MetaLearnError.invalidWindow(name: "supportSize", value: supportSize, requirement: "must be ≥ 1")
        }
        guard querySize >= 1 else {
            throw MetaLearnError.invalidWindow(name: "querySize", value: querySize, requirement: "must be ≥ 1")
        }
        if let small = groups.first(where: { $0.data.count < supportSize + querySize }) {
            throw MetaLearnError.tooFewExamples(group: small.name, required: supportSize + querySize, available: small.data.count)
        }
        self.groups = groups
        self.supportSize = supportSize
        self.querySize = querySize
        self.split = split
    }

    /// One group per distinct label (in ascending label order), each with its rows in row order.
    ///
    /// - Parameters:
    ///   - data: all examples.
    ///   - labels: one label per row of `data`, such as a regime index from an HMM.
    ///   - supportSize: `K`, support examples per task.
    ///   - querySize: `Q`, query examples per task.
    ///   - split: how a group is divided into support and query.
    /// - Throws: ``MetaLearnError/metadataCountMismatch(what:expected:found:)`` when the label count differs
    ///   from the row count, and the errors of ``init(groups:supportSize:querySize:split:)``.
    public static func byLabel<Label: Hashable & Comparable & CustomStringConvertible>(
        _ data: TaskData<Scalar>, labels: [Label], supportSize: Int, querySize: Int,
        split: SupportQuerySplit = .chronological
    ) throws -> GroupTaskSampler {
        guard labels.count == data.count else {
            throw MetaLearnError.metadataCountMismatch(what: "labels", expected: data.count, found: labels.count)
        }
        let rowsByLabel = Dictionary(grouping: labels.indices, by: { labels[$0] })
        let groups = rowsByLabel.keys.sorted().map { label in
            Group(name: label.description, data: data.selecting(rowsByLabel[label]!))
        }
        return try GroupTaskSampler(groups: groups, supportSize: supportSize, querySize: querySize, split: split)
    }

    /// One group per asset (each asset's examples in time order), in the order given.
    /// - Throws: the errors of ``init(groups:supportSize:querySize:split:)``.
    public static func byAsset(_ assets: [(name: String, data: TaskData<Scalar>)], supportSize: Int, querySize: Int,
                               split: SupportQuerySplit = .chronological) throws -> GroupTaskSampler {
        try GroupTaskSampler(groups: assets.map { Group(name: $0.name, data: $0.data) }, supportSize: supportSize,
                             querySize: querySize, split: split)
    }

    /// A task from a uniformly drawn group.
    public func sampleTask(using generator: inout Xoshiro256StarStar) -> MetaTask<Scalar> {
        let group = groups[Int.random(in: 0..<groups.count, using: &generator)]
        let n = group.data.count, k = supportSize, q = querySize
        switch split {
        case .random:
            var rows = Array(0..<n)
            for i in 0..<(k + q) { rows.swapAt(i, Int.random(in: i..<n, using: &generator)) }
            return MetaTask(support: group.data.selecting(rows[0..<k].sorted()),
                            query: group.data.selecting(rows[k..<(k + q)].sorted()), name: group.name)
        case .chronological:
            let start = Int.random(in: 0...(n - k - q), using: &generator)
            return MetaTask(support: group.data.slicing(start..<(start + k)),
                            query: group.data.slicing((start + k)..<(start + k + q)), name: group.name)
        }
    }
}
