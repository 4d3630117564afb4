/// A calendar date (proleptic Gregorian, no time of day, no time zone).
///
/// Stored as the number of days since 1970-01-01, so comparison, hashing and
/// day arithmetic are integer operations; `year`, `month` and `day` are computed
/// with the era-based civil-calendar conversion (400-year cycles of 146 097 days),
/// which is exact for every date representable in `Int`.
///
/// Market data carries dates, not instants: a close on 2022-12-28 is the same
/// observation in every time zone, so `MarketDate` deliberately avoids
/// `Foundation.Date` and its time-zone arithmetic.
public struct MarketDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Days since 1970-01-01 (negative before).
    public let daysSinceEpoch: Int

    /// The date `daysSinceEpoch` days after 1970-01-01.
    public init(daysSinceEpoch: Int) {
        self.daysSinceEpoch = daysSinceEpoch
    }

    /// The date `year`-`month`-`day`.
    ///
    /// - Throws: ``MarketError/invalidArgument(operation:message:)`` when the month is
    ///   not in 1…12 or the day does not exist in that month.
    public init(year: Int, month: Int, day: Int) throws {
        guard let date = MarketDate(validYear: year, month: month, day: day) else {
            throw MarketError.invalidArgument(operation: "MarketDate", message: "\(year)-\(month)-\(day) is not a calendar date")
        }
        self = date
    }

    /// The date, or `nil` when `month`/`day` do not name a calendar day.
    init?(validYear year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= MarketDate.daysIn(year: year, month: month) else { return nil }
        self.daysSinceEpoch = MarketDate.days(year: year, month: month, day: day)
    }

    /// Days from 1970-01-01 to a valid civil date.
    static func days(year: Int, month: Int, day: Int) -> Int {
        // Shift the year to start on March 1 so the leap day is the last day of the year.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400                                   // 0…399
        let shiftedMonth = month > 2 ? month - 3 : month + 9            // March = 0
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1          // 0…365
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468                       // 719 468 = days from 0000-03-01 to 1970-01-01
    }

    /// `(year, month, day)` of this date.
    public var components: (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097                                 // 0…146 096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// The calendar year.
    public var year: Int { components.year }
    /// The month, 1…12.
    public var month: Int { components.month }
    /// The day of the month, 1…31.
    public var day: Int { components.day }

    /// The day of the week.
    public var weekday: Weekday {
        // 1970-01-01 was a Thursday; Weekday's raw values start at Monday = 0.
        Weekday(rawValue: ((daysSinceEpoch + 3) % 7 + 7) % 7)!
    }

    /// `true` for years divisible by 4, except centuries not divisible by 400.
    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// The number of days in `month` (1…12) of `year`.
    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// The date `days` days later (earlier for negative `days`).
    public func adding(days: Int) -> MarketDate { MarketDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// The last calendar day of this date's month.
    public var endOfMonth: MarketDate {
        let (y, m, _) = components
        return MarketDate(daysSinceEpoch: MarketDate.days(year: y, month: m, day: MarketDate.daysIn(year: y, month: m)))
    }

    /// ISO 8601 `YYYY-MM-DD`.
    public var description: String {
        let (y, m, d) = components
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(Swift.abs(value))
            return (value < 0 ? "-" : "") + String(repeating: "0", count: Swift.max(0, width - digits.count)) + digits
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// Orders dates chronologically.
    public static func < (lhs: MarketDate, rhs: MarketDate) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }
}

/// Days of the week, Monday first (ISO 8601).
public enum Weekday: Int, Sendable, Hashable, CaseIterable, Codable {
    /// Monday.
    case monday = 0
    /// Tuesday.
    case tuesday
    /// Wednesday.
    case wednesday
    /// Thursday.
    case thursday
    /// Friday.
    case friday
    /// Saturday.
    case saturday
    /// Sunday.
    case sunday
}

/// The textual date formats `Market` reads.
public enum DateFormat: String, Sendable, Hashable, CaseIterable, Codable {
    /// `YYYY-MM-DD` (ISO 8601 calendar date; one-digit month or day accepted).
    case iso
    /// `M/D/YYYY` (US order, one- or two-digit month and day, four-digit year).
    case monthDayYear
    /// `YYYYMM` (a month, read as its first day, as `pandas.to_datetime(format="%Y%m")` does).
    case yearMonth
    /// `YYYYMMDD`.
    case compact

    /// The format a date text is written in, guessed from its shape
    /// (`-` → ISO, `/` → M/D/YYYY, six digits → YYYYMM, eight digits → YYYYMMDD), or `nil`.
    public static func detect(_ text: String) -> DateFormat? {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { detect(UnsafeBufferPointer($0), 0, $0.count) }
    }

    static func detect(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> DateFormat? {
        let (s, e) = trimmed(bytes, start, end)
        var digits = 0
        for k in s..<e {
            switch bytes[k] {
            case UInt8(ascii: "-"): return .iso
            case UInt8(ascii: "/"): return .monthDayYear
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            default: return nil
            }
        }
        switch digits {
        case 6: return .yearMonth
        case 8: return .compact
        default: return nil
        }
    }
}

extension MarketDate {
    /// Parses `text` written in `format`, or returns `nil`. Surrounding spaces are ignored.
    public init?(_ text: String, format: DateFormat) {
        var bytes = Array(text.utf8)
        guard let date = bytes.withUnsafeMutableBufferPointer({
            MarketDate.parse(UnsafeBufferPointer($0), 0, $0.count, format: format)
        }) else { return nil }
        self = date
    }

    /// Parses an ISO `YYYY-MM-DD` text, or returns `nil`.
    public init?(iso text: String) { self.init(text, format: .iso) }

    /// Parses the bytes `start..<end` of `bytes` in `format` without allocating.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, format: DateFormat) -> MarketDate? {
        let (s, e) = trimmed(bytes, start, end)
        var position = s
        // Reads 1…maxDigits decimal digits (exactly `exact` when given).
        func number(min minDigits: Int, max maxDigits: Int) -> Int? {
            var value = 0, count = 0
            while position < e, count < maxDigits, bytes[position] >= 48, bytes[position] <= 57 {
                value = value * 10 + Int(bytes[position] - 48)
                position += 1
                count += 1
            }
            return count >= minDigits ? value : nil
        }
        func expect(_ byte: UInt8) -> Bool {
            guard position < e, bytes[position] == byte else { return false }
            position += 1
            return true
        }
        let y: Int, m: Int, d: Int
        switch format {
        case .iso:
            guard let yy = number(min: 4, max: 4), expect(UInt8(ascii: "-")),
                  let mm = number(min: 1, max: 2), expect(UInt8(ascii: "-")),
                  let dd = number(min: 1, max: 2) else { return nil }
            (y, m, d) = (yy, mm, dd)
        case .monthDayYear:
            guard let mm = number(min: 1, max: 2), expect(UInt8(ascii: "/")),
                  let dd = number(min: 1, max: 2), expect(UInt8(ascii: "/")),
                  let yy = number(min: 4, max: 4) else { return nil }
            (y, m, d) = (yy, mm, dd)
        case .yearMonth:
            guard let yy = number(min: 4, max: 4), let mm = number(min: 2, max: 2) else { return nil }
            (y, m, d) = (yy, mm, 1)
        case .compact:
            guard let yy = number(min: 4, max: 4), let mm = number(min: 2, max: 2),
                  let dd = number(min: 2, max: 2) else { return nil }
            (y, m, d) = (yy, mm, dd)
        }
        guard position == e else { return nil }
        return MarketDate(validYear: y, month: m, day: d)
    }
}

/// `start..<end` without leading and trailing ASCII spaces and tabs.
@inline(__always)
func trimmed(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (Int, Int) {
    var s = start, e = end
    while s < e, bytes[s] == 32 || bytes[s] == 9 { s += 1 }
    while e > s, bytes[e - 1] == 32 || bytes[e - 1] == 9 { e -= 1 }
    return (s, e)
}

extension MarketDate {
    /// Decodes an ISO `YYYY-MM-DD` string.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the string is not an ISO date.
    public init(from decoder: any Decoder) throws {
        self = try decodeText(decoder, expected: "a YYYY-MM-DD date") { MarketDate(iso: $0) }
    }

    /// Encodes the date as an ISO `YYYY-MM-DD` string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Decodes a value written as one string, parsed by `parse`.
///
/// - Throws: `DecodingError.dataCorrupted` saying the text is not `expected`.
func decodeText<T>(_ decoder: any Decoder, expected: String, _ parse: (String) -> T?) throws -> T {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    guard let value = parse(text) else {
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not \(expected)")
    }
    return value
}

extension MarketDate {
    /// Fast path for the commonest date cell: exactly `YYYY-MM-DD` in the ten bytes at `p`
    /// (the caller guarantees they are readable). `nil` when the bytes have another shape or
    /// name no calendar day; the caller then uses ``parse(_:_:_:format:)``, which accepts
    /// everything this does (with the same result) and more.
    @inline(__always)
    static func parseFixedISO(_ p: UnsafePointer<UInt8>) -> MarketDate? {
        guard p[4] == UInt8(ascii: "-"), p[7] == UInt8(ascii: "-") else { return nil }
        let y0 = p[0] &- 48, y1 = p[1] &- 48, y2 = p[2] &- 48, y3 = p[3] &- 48
        let m0 = p[5] &- 48, m1 = p[6] &- 48, d0 = p[8] &- 48, d1 = p[9] &- 48
        guard y0 < 10, y1 < 10, y2 < 10, y3 < 10, m0 < 10, m1 < 10, d0 < 10, d1 < 10 else { return nil }
        let year = Int(y0) * 1000 + Int(y1) * 100 + Int(y2) * 10 + Int(y3)
        return MarketDate(validYear: year, month: Int(m0) * 10 + Int(m1), day: Int(d0) * 10 + Int(d1))
    }
}
