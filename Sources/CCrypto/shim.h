// OpenSSL's libcrypto, for SHA-256 (docs/architecture.md). The low-level SHA256_* functions run
// the same code as the EVP API without OpenSSL 3's library context, configuration and provider
// loading (about 2 MB of resident memory); they are deprecated in 3.0 but kept.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
