/// A calendar date and a time of day to the minute (no time zone), the label of an intraday bar.
///
/// Like ``MarketDate`` it carries no time zone: a bar labelled `2019-10-17 09:00` in a file
/// whose timestamps are UTC stays that label everywhere. Stored as minutes since
/// 1970-01-01 00:00, so comparison, hashing and arithmetic are integer operations.
/// Bars are labelled by their opening time, as CryptoDataDownload and pandas do.
public struct MarketTimestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Minutes in a day.
    public static let minutesPerDay = 1440

    /// Minutes since 1970-01-01 00:00 (negative before).
    public let minutesSinceEpoch: Int

    /// The timestamp `minutesSinceEpoch` minutes after 1970-01-01 00:00.
    public init(minutesSinceEpoch: Int) {
        self.minutesSinceEpoch = minutesSinceEpoch
    }

    /// `hour`:`minute` on `date`.
    ///
    /// - Throws: ``MarketError/invalidArgument(operation:message:)`` when `hour` is not in 0…23
    ///   or `minute` not in 0…59.
    public init(date: MarketDate, hour: Int = 0, minute: Int = 0) throws {
        guard (0..<24).contains(hour), (0..<60).contains(minute) else {
            throw MarketError.invalidArgument(operation: "MarketTimestamp", message: "\(hour):\(minute) is not a time of day")
        }
        self.init(minutesSinceEpoch: date.daysSinceEpoch * Self.minutesPerDay + hour * 60 + minute)
    }

    /// The calendar day of the timestamp.
    public var date: MarketDate {
        MarketDate(daysSinceEpoch: minutesSinceEpoch.floorDivided(by: Self.minutesPerDay))
    }

    /// Minutes since midnight, 0…1439.
    public var minuteOfDay: Int { minutesSinceEpoch - date.daysSinceEpoch * Self.minutesPerDay }
    /// The hour, 0…23.
    public var hour: Int { minuteOfDay / 60 }
    /// The minute of the hour, 0…59.
    public var minute: Int { minuteOfDay % 60 }

    /// The timestamp `minutes` minutes later (earlier for negative `minutes`).
    public func adding(minutes: Int) -> MarketTimestamp { MarketTimestamp(minutesSinceEpoch: minutesSinceEpoch + minutes) }

    /// `YYYY-MM-DD HH:MM`.
    public var description: String {
        let m = minuteOfDay
        return "\(date) \(m / 600)\(m / 60 % 10):\(m % 60 / 10)\(m % 10)"
    }

    /// Orders timestamps chronologically.
    public static func < (lhs: MarketTimestamp, rhs: MarketTimestamp) -> Bool { lhs.minutesSinceEpoch < rhs.minutesSinceEpoch }

    /// Parses `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS` (seconds must be `00`: the resolution is a
    /// minute), either with `T` instead of the space, a plain `YYYY-MM-DD` (midnight), or
    /// CryptoDataDownload's `YYYY-MM-DD HH-AM` / `HH-PM` (12-AM is midnight, 12-PM noon).
    /// Returns `nil` for anything else. Surrounding spaces are ignored.
    public init?(_ text: String) {
        var bytes = Array(text.utf8)
        guard let value = bytes.withUnsafeMutableBufferPointer({
            MarketTimestamp.parse(UnsafeBufferPointer($0), 0, $0.count)
        }) else { return nil }
        self = value
    }

    /// Parses the bytes `start..<end` in one of the forms of ``init(_:)``.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> MarketTimestamp? {
        let (s, e) = trimmed(bytes, start, end)
        // The date part ends at the first space or `T`.
        var split = s
        while split < e, bytes[split] != 32, bytes[split] != UInt8(ascii: "T") { split += 1 }
        guard let date = MarketDate.parse(bytes, s, split, format: .iso) else { return nil }
        guard split < e else { return MarketTimestamp(minutesSinceEpoch: date.daysSinceEpoch * minutesPerDay) }
        var position = split + 1
        func twoDigits() -> Int? {
            guard position + 2 <= e else { return nil }
            let d0 = bytes[position] &- 48, d1 = bytes[position + 1] &- 48
            guard d0 < 10, d1 < 10 else { return nil }
            position += 2
            return Int(d0) * 10 + Int(d1)
        }
        func expect(_ byte: UInt8) -> Bool {
            guard position < e, bytes[position] == byte else { return false }
            position += 1
            return true
        }
        guard let hour = twoDigits() else { return nil }
        let minute: Int
        if expect(UInt8(ascii: "-")) {
            // `HH-AM` / `HH-PM`: a 12-hour clock, hour 1…12.
            guard position + 2 == e, (1...12).contains(hour), bytes[position + 1] == UInt8(ascii: "M") else { return nil }
            let pm: Bool
            switch bytes[position] {
            case UInt8(ascii: "A"): pm = false
            case UInt8(ascii: "P"): pm = true
            default: return nil
            }
            return try? MarketTimestamp(date: date, hour: hour % 12 + (pm ? 12 : 0))
        }
        guard expect(UInt8(ascii: ":")), let mm = twoDigits() else { return nil }
        minute = mm
        if expect(UInt8(ascii: ":")) {
            guard twoDigits() == 0 else { return nil }
        }
        guard position == e else { return nil }
        return try? MarketTimestamp(date: date, hour: hour, minute: minute)
    }

    /// Decodes a `YYYY-MM-DD HH:MM` string (any form ``init(_:)`` accepts).
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the string is not a timestamp.
    public init(from decoder: any Decoder) throws {
        self = try decodeText(decoder, expected: "a YYYY-MM-DD HH:MM timestamp") { MarketTimestamp($0) }
    }

    /// Encodes the timestamp as a `YYYY-MM-DD HH:MM` string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Int {
    /// Division rounding toward negative infinity (days before 1970 stay on the right day).
    func floorDivided(by divisor: Int) -> Int {
        let q = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? q - 1 : q
    }
}
