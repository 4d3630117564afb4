/// A growable buffer of doubles appended through a pointer: no copy-on-write uniqueness check
/// and no capacity check per value in the hot loop (``reserve(_:)`` once per record).
/// The owner calls ``deallocate()``.
struct DoubleAccumulator {
    private(set) var base: UnsafeMutablePointer<Double>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    /// Makes room for `extra` more values.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    @inline(never)
    private mutating func grow(to needed: Int) {
        let newCapacity = Swift.max(needed, 2 * capacity)
        let newBase = UnsafeMutablePointer<Double>.allocate(capacity: newCapacity)
        newBase.moveInitialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// Appends after a ``reserve(_:)`` that left room.
    @inline(__always)
    mutating func appendReserved(_ value: Double) {
        (base + count).initialize(to: value)
        count += 1
    }

    /// Appends, growing if needed.
    mutating func append(_ value: Double) {
        reserve(1)
        appendReserved(value)
    }

    /// Counts `written` values stored through `base + count` after a ``reserve(_:)``.
    @inline(__always)
    mutating func commit(_ written: Int) { count += written }

    /// The values as an array (one copy).
    var array: [Double] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// Frees the storage.
    func deallocate() { base.deallocate() }
}

/// The in-place fast path of the wide layout: parses complete, ordinary records straight out
/// of the tokenizer's chunk, fusing field splitting with number and date parsing (one pass over
/// the bytes, no per-record copy).
///
/// It handles only the happy case: unquoted fields; numbers `[-]digits[.digits]` of at most 19
/// digits (others, missing tokens and surrounding spaces go through ``parseDecimal`` on the
/// field in place); dates in the detected format, increasing; the right number of fields. At
/// anything else (a quoted field, a blank line, a record crossing the chunk end, any bad cell)
/// it undoes the record and returns, and the tokenizer plus the general per-record code read
/// that record, so every error, message and position is exactly the general path's.
struct WideFastPath {
    let width: Int
    /// The date column, or −1.
    let dateIndex: Int
    let delimiter: UInt8
    /// Whether values must be positive (``PricePanel/Kind/prices``).
    let positive: Bool
    let tokens: [[UInt8]]
    let tables: DecimalTables

    /// `nil` when the delimiter could be part of a number or date, where the fused scan would split differently.
    init?(width: Int, dateIndex: Int?, delimiter: UInt8, positive: Bool, tokens: [[UInt8]]) {
        switch delimiter {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "\""), 10, 13:
            return nil
        default:
            break
        }
        self.width = width
        self.dateIndex = dateIndex ?? -1
        self.delimiter = delimiter
        self.positive = positive
        self.tokens = tokens
        self.tables = .shared
    }

    /// A generic cell read in place: the value (`NaN` when missing), or `nil` when the general path must report an error.
    private func genericCell(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
        let (s, e) = trimmed(buffer, start, end)
        if s == e { return .nan }
        if let value = parseDecimal(buffer, s, e, tables: tables) {
            return positive && !(value >= PanelCSVReader.smallestPrice) ? nil : value
        }
        let text = UnsafeBufferPointer(rebasing: buffer[s..<e])
        for token in tokens where token.count == text.count && token.elementsEqual(text) { return .nan }
        return nil
    }

    /// Parses records of `buffer` from `position` while they are ordinary; see the type's documentation.
    func records(_ buffer: UnsafeBufferPointer<UInt8>, _ position: inout Int, _ line: inout Int,
                 values: inout DoubleAccumulator, dates: inout [MarketDate], rowCount: inout Int, sawMissing: inout Bool,
                 format: DateFormat?) {
        guard let base = buffer.baseAddress, buffer.count - position >= 2 else { return }
        // The last line end with a byte after it: every scan stops at a line end, so none that
        // starts at or before `limit` runs past it (no bounds checks in the loops), and a CR at
        // or before it can look at the next byte for its LF.
        var limit = buffer.count - 2
        while limit >= position, base[limit] != 10, base[limit] != 13 { limit -= 1 }
        let count = buffer.count
        let delimiter = self.delimiter, last = width - 1, dateIndex = self.dateIndex, positive = self.positive
        var pos = position, rows = rowCount
        var previousDate = dates.last
        defer {
            line += rows - rowCount
            position = pos
            rowCount = rows
        }
        // Where the record in progress started in `dates`, for undoing it.
        var dateMark = dates.count
        record: while pos <= limit {
            guard base[pos] != 10, base[pos] != 13 else { break }   // a blank line: the tokenizer skips it
            // Values go straight to storage and are counted only when the record is complete.
            values.reserve(width)
            let out = values.base + values.count
            var written = 0
            var i = pos
            var k = 0
            while true {
                var end: Int
                if k == dateIndex {
                    var date: MarketDate?
                    end = i + 10
                    if format == .iso, end <= limit { date = MarketDate.parseFixedISO(base + i) }
                    if date == nil {
                        guard let format, base[i] != 34 else { break record }
                        end = i
                        while base[end] != delimiter, base[end] != 10, base[end] != 13 { end += 1 }
                        date = MarketDate.parse(buffer, i, end, format: format)
                    }
                    guard let date, previousDate.map({ date > $0 }) ?? true else { break record }
                    dates.append(date)
                    previousDate = date
                } else {
                    var j = i
                    let negative = base[j] == UInt8(ascii: "-")
                    if negative { j += 1 }
                    var mantissa: UInt64 = 0
                    let digitsStart = j
                    var digit = base[j] &- 48
                    while digit < 10 {
                        mantissa = mantissa &* 10 &+ UInt64(digit)
                        j += 1
                        digit = base[j] &- 48
                    }
                    var digits = j - digitsStart, fraction = 0
                    if base[j] == UInt8(ascii: ".") {
                        j += 1
                        let fractionStart = j
                        digit = base[j] &- 48
                        while digit < 10 {
                            mantissa = mantissa &* 10 &+ UInt64(digit)
                            j += 1
                            // A long fraction (17-digit prices): the rest eight digits at a time.
                            // Only then, so short fractions do not pay for a failed 8-byte test.
                            if j - fractionStart == 4 {
                                while j + 8 <= count, let eight = eightDigits(base + j) {
                                    mantissa = mantissa &* 100_000_000 &+ eight
                                    j += 8
                                }
                            }
                            digit = base[j] &- 48
                        }
                        fraction = j - fractionStart
                        digits += fraction
                    }
                    let terminator = base[j]
                    let terminated = terminator == delimiter || terminator == 10 || terminator == 13
                    if terminated, digits > 0, digits <= 19,
                       let magnitude = tables.value(mantissa: mantissa, exponent: -fraction) {
                        // A zero mantissa is the only way to a zero magnitude (no exponent here).
                        if positive && (negative || mantissa == 0) { break record }
                        let value = negative ? -magnitude : magnitude
                        (out + written).initialize(to: value)
                        written += 1
                        end = j
                    } else if terminated, j == i {
                        (out + written).initialize(to: .nan)
                        written += 1
                        sawMissing = true
                        end = j
                    } else {
                        guard base[i] != 34 else { break record }
                        end = j
                        while base[end] != delimiter, base[end] != 10, base[end] != 13 { end += 1 }
                        guard let value = genericCell(buffer, i, end) else { break record }
                        (out + written).initialize(to: value)
                        written += 1
                        if value.isNaN { sawMissing = true }
                    }
                }
                let terminator = base[end]
                if k == last {
                    guard terminator == 10 || terminator == 13 else { break record }
                    pos = terminator == 13 && base[end + 1] == 10 ? end + 2 : end + 1
                    break
                }
                guard terminator == delimiter else { break record }
                i = end + 1
                k += 1
            }
            values.commit(written)
            rows += 1
            dateMark = dates.count
        }
        // Undo a record abandoned half-way (a no-op after a complete one); `pos` is still its start.
        dates.removeLast(dates.count - dateMark)
    }
}

/// The value of the eight ASCII digits at `p`, or `nil` when any of the eight bytes is not a digit
/// (all eight bytes must be readable). SWAR: one 64-bit load, a digit test on all bytes at once and
/// three multiplications, after D. Lemire, "Number parsing at a gigabyte per second" (2021), §6.
@inline(__always)
func eightDigits(_ p: UnsafePointer<UInt8>) -> UInt64? {
    #if _endian(little)
    let word = UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)
    // Every byte is 0x30…0x39 iff its high nibble is 3 and adding 6 keeps it 3.
    let high = word & 0xF0F0_F0F0_F0F0_F0F0
    let shifted = (word &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0
    guard high | shifted >> 4 == 0x3333_3333_3333_3333 else { return nil }
    var x = word &- 0x3030_3030_3030_3030
    x = x &* 10 &+ x >> 8                                   // pairs of digits in every other byte
    let pairs = x & 0x0000_00FF_0000_00FF, nextPairs = (x >> 16) & 0x0000_00FF_0000_00FF
    return (pairs &* (100 &+ 1_000_000 << 32) &+ nextPairs &* (1 &+ 10_000 << 32)) >> 32
    #else
    return nil
    #endif
}
