#include <zlib.h>

/* inflateInit2 is a macro in zlib.h and cannot be called from Swift. windowBits 15 + 32 accepts
   gzip and zlib streams (automatic header detection). */
static inline int tr_inflate_init_auto(z_stream *stream) {
    return inflateInit2(stream, 15 + 32);
}

/* The same, for callers that read gzip files (automatic detection includes gzip). */
static inline int tr_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 15 + 32);
}

/* deflateInit2 is a macro as well: a zlib stream (windowBits 15) at `level` with `strategy`. */
static inline int tr_deflate_init_zlib(z_stream *stream, int level, int strategy) {
    return deflateInit2(stream, level, Z_DEFLATED, 15, 8, strategy);
}
