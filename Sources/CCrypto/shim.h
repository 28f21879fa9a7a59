// OpenSSL's libcrypto, for SHA-256 through the EVP digest API (docs/architecture.md).
#include <openssl/evp.h>
