import CCairo
import CZlib

/// Writes a cairo ARGB32 image surface as an 8-bit PNG: RGB when every pixel is opaque (charts
/// paint an opaque background), else RGBA — the same choice cairo's own writer makes.
///
/// cairo's own `cairo_surface_write_to_png_stream` goes through libpng with adaptive row filters
/// and zlib's default level: about 30 ms for an 800 × 280 chart, more than drawing it. Charts are
/// large flat areas with thin lines, which deflate compresses well without row filters, so this
/// writes every row unfiltered at zlib level 3 (a few ms, ~15% larger files). The pixels are
/// exactly cairo's: premultiplied colour is converted back the way cairo does it
/// (`(c × 255 + a / 2) / a`, fully transparent pixels as 0,0,0,0).
enum PNGEncoder {
    static let compressionLevel: Int32 = 3

    static func encode(surface: OpaquePointer) throws(ChartError) -> [UInt8] {
        cairo_surface_flush(surface)
        let width = Int(cairo_image_surface_get_width(surface))
        let height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        guard cairo_image_surface_get_format(surface) == CAIRO_FORMAT_ARGB32, width > 0, height > 0,
              let data = cairo_image_surface_get_data(surface)
        else { throw .cairo(operation: "PNG encoding", status: "not an ARGB32 image surface") }

        // An image without any translucent pixel is written as RGB, as cairo does (a quarter fewer
        // bytes to compress); otherwise RGBA.
        var opaque = true
        for y in 0..<height where opaque {
            let row = UnsafeRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<width where row[x] >> 24 != 255 {
                opaque = false
                break
            }
        }
        let channels = opaque ? 3 : 4
        // Scanlines: a filter byte (0 = none), then the row as RGB or RGBA.
        let rowBytes = 1 + width * channels
        var raw = [UInt8](repeating: 0, count: rowBytes * height)
        raw.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                let row = UnsafeRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
                var o = y * rowBytes + 1
                if opaque {
                    for x in 0..<width {
                        let v = row[x]
                        out[o] = UInt8(truncatingIfNeeded: v >> 16)
                        out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                        out[o + 2] = UInt8(truncatingIfNeeded: v)
                        o += 3
                    }
                    continue
                }
                for x in 0..<width {
                    let v = row[x]
                    let a = v >> 24
                    if a == 255 {
                        out[o] = UInt8(truncatingIfNeeded: v >> 16)
                        out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                        out[o + 2] = UInt8(truncatingIfNeeded: v)
                        out[o + 3] = 255
                    } else if a != 0 {
                        out[o] = UInt8(truncatingIfNeeded: (((v >> 16) & 0xFF) * 255 + a / 2) / a)
                        out[o + 1] = UInt8(truncatingIfNeeded: (((v >> 8) & 0xFF) * 255 + a / 2) / a)
                        out[o + 2] = UInt8(truncatingIfNeeded: ((v & 0xFF) * 255 + a / 2) / a)
                        out[o + 3] = UInt8(truncatingIfNeeded: a)
                    }  // a == 0: stays 0,0,0,0
                    o += 4
                }
            }
        }

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header: [UInt8] = []
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        // 8 bits, RGB (2) or RGBA (6), deflate, adaptive filtering method, no interlace.
        header += [8, opaque ? 2 : 6, 0, 0, 0]
        png.appendChunk("IHDR", header)
        png.appendChunk("IDAT", try deflate(raw))
        png.appendChunk("IEND", [])
        return png
    }

    private static func deflate(_ input: [UInt8]) throws(ChartError) -> [UInt8] {
        var stream = z_stream()
        guard tr_deflate_init_zlib(&stream, compressionLevel, Z_DEFAULT_STRATEGY) == Z_OK else {
            throw .cairo(operation: "PNG encoding", status: "zlib could not start")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var out = [UInt8](repeating: 0, count: bound)
        let rc: Int32 = input.withUnsafeBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o in
                stream.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
                stream.avail_in = uInt(inp.count)
                stream.next_out = o.baseAddress
                stream.avail_out = uInt(o.count)
                return CZlib.deflate(&stream, Z_FINISH)
            }
        }
        guard rc == Z_STREAM_END else { throw .cairo(operation: "PNG encoding", status: "zlib error \(rc)") }
        out.removeSubrange(Int(stream.total_out)...)
        return out
    }
}

private extension [UInt8] {
    mutating func appendBigEndian(_ v: UInt32) {
        append(contentsOf: [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8),
                            UInt8(truncatingIfNeeded: v)])
    }

    mutating func appendChunk(_ type: String, _ data: [UInt8]) {
        appendBigEndian(UInt32(data.count))
        let typeBytes = Array(type.utf8)
        var crc = crc32(0, typeBytes, uInt(typeBytes.count))
        crc = data.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, uInt($0.count)) }
        append(contentsOf: typeBytes)
        append(contentsOf: data)
        appendBigEndian(UInt32(truncatingIfNeeded: crc))
    }
}
