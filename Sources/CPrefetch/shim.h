// A hint to the CPU to bring a cache line in ahead of its use: the error-log merge looks
// transactions and URIs up in tables larger than the cache, one after another, and asks for the
// slots a few transactions ahead (docs/benchmarks.md). It changes no result.
static inline void threat_prefetch(const void *p) { __builtin_prefetch(p, 1, 3); }
