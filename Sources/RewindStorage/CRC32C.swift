/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of a spill file's header.
///
/// Why not XXH32: lz4's `xxhash.h` is not installed with liblz4-dev, and the header is a few
/// hundred bytes, so a table-driven CRC costs nothing measurable. CRC-32C detects every error burst
/// of up to 32 bits, so any single changed byte in a header is always caught.
/// Check value: `checksum("123456789") == 0xE3069283`. Cost: O(n), one table lookup per byte.
enum _CRC32C {
    static let table: [UInt32] = (0..<256).map { index -> UInt32 in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        table.withUnsafeBufferPointer { table in
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
            return crc ^ 0xFFFF_FFFF
        }
    }
}
