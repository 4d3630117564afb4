import Autodiff
import Linalg
import MetaLearn
import Testing

/// Task construction and sampling: windows, time order, embargo, splits, seeds and typed errors.
@Suite struct TaskSamplerTests {
    /// Rows 0..<n where input and target both hold the row number, so every task shows which rows it took.
    static func rows(_ n: Int) throws -> TaskData<Double> {
        let r = (0..<n).map(Double.init)
        return try TaskData(inputs: Tensor(shape: [n, 1], scalars: r), targets: Tensor(shape: [n, 1], scalars: r))
    }

    static func rowNumbers(_ data: TaskData<Double>) -> [Int] { data.inputs.scalars.map { Int($0) } }

    /// Months of 3, 2, 4 and 3 rows.
    static let keys = ["2021-01", "2021-01", "2021-01", "2021-02", "2021-02",
                       "2021-03", "2021-03", "2021-03", "2021-03", "2021-04", "2021-04", "2021-04"]

    @Test func periodTasksFollowInTimeWithoutOverlap() throws {
        let tasks = try PeriodTasks(data: Self.rows(12), periodKeys: Self.keys)
        #expect(tasks.periods.map(\.key) == ["2021-01", "2021-02", "2021-03", "2021-04"])
        #expect(tasks.tasks.map(\.name) == ["2021-01→2021-02", "2021-02→2021-03", "2021-03→2021-04"])
        #expect(Self.rowNumbers(tasks.tasks[0].support) == [0, 1, 2])
        #expect(Self.rowNumbers(tasks.tasks[0].query) == [3, 4])
        #expect(Self.rowNumbers(tasks.tasks[2].support) == [5, 6, 7, 8])
        #expect(Self.rowNumbers(tasks.tasks[2].query) == [9, 10, 11])
        for task in tasks.tasks {
            #expect(Self.rowNumbers(task.support).max()! < Self.rowNumbers(task.query).min()!)
        }
    }

    @Test func windowsGapAndEmbargo() throws {
        let tasks = try PeriodTasks(data: Self.rows(12), periodKeys: Self.keys, supportPeriods: 2, queryPeriods: 1,
                                    gapPeriods: 1, embargoRows: 1)
        // Support months 1–2 minus the last row, skip month 3, query month 4.
        #expect(tasks.tasks.count == 1)
        #expect(Self.rowNumbers(tasks.tasks[0].support) == [0, 1, 2, 3])
        #expect(Self.rowNumbers(tasks.tasks[0].query) == [9, 10, 11])
        #expect(tasks.tasks[0].name == "2021-01…2021-02→2021-04…2021-04")
    }

    @Test func heldOutSplitNeverTrainsOnLaterPeriods() throws {
        let tasks = try PeriodTasks(data: Self.rows(12), periodKeys: Self.keys)
        let (training, heldOut) = try tasks.split(heldOutFrom: 2)
        #expect(training.map(\.name) == ["2021-01→2021-02"])
        #expect(heldOut.map(\.name) == ["2021-02→2021-03", "2021-03→2021-04"])
        let firstHeldOutRow = tasks.periods[2].rows.lowerBound
        for task in training {
            #expect((Self.rowNumbers(task.support) + Self.rowNumbers(task.query)).allSatisfy { $0 < firstHeldOutRow })
        }
        #expect(throws: MetaLearnError.invalidWindow(name: "heldOutFrom", value: 9,
                                                     requirement: "must be a period index in 0..<4")) {
            try tasks.split(heldOutFrom: 9)
        }
    }

    @Test func periodErrorsNameTheProblem() throws {
        let data = try Self.rows(12)
        #expect(throws: MetaLearnError.metadataCountMismatch(what: "period keys", expected: 12, found: 3)) {
            try PeriodTasks(data: data, periodKeys: ["a", "b", "c"])
        }
        var shuffled = Self.keys
        shuffled[11] = "2021-01"
        #expect(throws: MetaLearnError.periodNotContiguous(key: "2021-01", row: 11)) {
            try PeriodTasks(data: data, periodKeys: shuffled)
        }
        #expect(throws: MetaLearnError.noTasks(reason: "4 periods, a task spans 5")) {
            try PeriodTasks(data: data, periodKeys: Self.keys, supportPeriods: 3, queryPeriods: 2)
        }
        #expect(throws: MetaLearnError.invalidWindow(name: "queryPeriods", value: 0, requirement: "must be ≥ 1")) {
            try PeriodTasks(data: data, periodKeys: Self.keys, queryPeriods: 0)
        }
        #expect(throws: MetaLearnError.invalidPeriodRange(index: 1, lower: 2, upper: 5, rowCount: 12)) {
            try PeriodTasks(data: data, periods: [.init(key: "a", rows: 0..<3), .init(key: "b", rows: 2..<5)])
        }
        #expect(throws: MetaLearnError.noTasks(reason: "an embargo of 5 rows empties every support window")) {
            try PeriodTasks(data: data, periodKeys: Self.keys, embargoRows: 5)
        }
        #expect(throws: MetaLearnError.exampleCountMismatch(what: "data", inputs: 2, targets: 3)) {
            try TaskData(inputs: Tensor<Double>.zeros([2, 1]), targets: Tensor<Double>.zeros([3, 1]))
        }
    }

    @Test func labelTasksStayWithinOneLabelAndAreDisjoint() throws {
        let labels = (0..<30).map { $0 % 3 }
        let sampler = try GroupTaskSampler.byLabel(Self.rows(30), labels: labels, supportSize: 3, querySize: 4)
        #expect(sampler.groups.map(\.name) == ["0", "1", "2"])
        var g = Xoshiro256StarStar(seed: 1)
        for task in try sampler.metaBatch(size: 20, using: &g) {
            let support = Self.rowNumbers(task.support), query = Self.rowNumbers(task.query)
            #expect(support.count == 3 && query.count == 4)
            #expect(Set(support).isDisjoint(with: query))
            #expect(Set((support + query).map { labels[$0] }) == [Int(task.name)!])
        }
        #expect(throws: MetaLearnError.tooFewExamples(group: "0", required: 20, available: 10)) {
            try GroupTaskSampler.byLabel(Self.rows(30), labels: labels, supportSize: 10, querySize: 10)
        }
        #expect(throws: MetaLearnError.metadataCountMismatch(what: "labels", expected: 30, found: 2)) {
            try GroupTaskSampler.byLabel(Self.rows(30), labels: [0, 1], supportSize: 1, querySize: 1)
        }
    }

    @Test func chronologicalLabelTasksPutTheQueryLater() throws {
        let labels = (0..<40).map { $0 < 20 ? "calm" : "stress" }
        // Time-series tasks split chronologically unless asked otherwise: a random split would put later rows in the support.
        let sampler = try GroupTaskSampler.byLabel(Self.rows(40), labels: labels, supportSize: 5, querySize: 3)
        #expect(sampler.split == .chronological)
        var g = Xoshiro256StarStar(seed: 2)
        for task in try sampler.metaBatch(size: 10, using: &g) {
            let support = Self.rowNumbers(task.support), query = Self.rowNumbers(task.query)
            #expect(query.first! == support.last! + 1)
            #expect(Set((support + query).map { labels[$0] }) == [task.name])
        }
    }

    @Test func assetTasksAndSeeds() throws {
        let assets: [(name: String, data: TaskData<Double>)] = [("AAA", try Self.rows(12)), ("BBB", try Self.rows(8))]
        let sampler = try GroupTaskSampler.byAsset(assets, supportSize: 4, querySize: 2)
        var g1 = Xoshiro256StarStar(seed: 9), g2 = Xoshiro256StarStar(seed: 9)
        let a = try sampler.metaBatch(size: 6, using: &g1), b = try sampler.metaBatch(size: 6, using: &g2)
        #expect(a.map(\.name) == b.map(\.name))
        #expect(a.map { Self.rowNumbers($0.support) } == b.map { Self.rowNumbers($0.support) })
        #expect(Set(a.map(\.name)).isSubset(of: ["AAA", "BBB"]))
        #expect(throws: MetaLearnError.invalidWindow(name: "meta-batch size", value: 0, requirement: "must be ≥ 1")) {
            try sampler.metaBatch(size: 0, using: &g1)
        }
    }

    @Test func poolBatchesAreDistinctAndSinusoidsAreSeeded() throws {
        let pool = try TaskPool(PeriodTasks(data: Self.rows(12), periodKeys: Self.keys).tasks)
        var g = Xoshiro256StarStar(seed: 3)
        let batch = try pool.metaBatch(size: 3, using: &g)
        #expect(Set(batch.map(\.name)).count == 3)
        #expect(throws: MetaLearnError.invalidWindow(name: "meta-batch size", value: 4,
                                                     requirement: "must be in 1...3, the number of tasks in the pool")) {
            try pool.metaBatch(size: 4, using: &g)
        }
        let family = try SinusoidTasks<Double>(supportSize: 10, querySize: 7)
        var s1 = Xoshiro256StarStar(seed: 4), s2 = Xoshiro256StarStar(seed: 4)
        let t1 = family.sampleTask(using: &s1), t2 = family.sampleTask(using: &s2)
        #expect(t1.support.inputs.scalars == t2.support.inputs.scalars && t1.query.targets.scalars == t2.query.targets.scalars)
        #expect(t1.support.inputs.shape.dimensions == [10, 1] && t1.query.inputs.shape.dimensions == [7, 1])
        #expect(t1.support.inputs.scalars.allSatisfy { (-5...5).contains($0) })
        #expect(t1.support.targets.scalars.allSatisfy { abs($0) <= 5 })
    }
}
