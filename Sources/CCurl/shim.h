#include <curl/curl.h>

/* curl_easy_setopt is variadic and cannot be called from Swift: one typed wrapper per argument kind. */
static inline CURLcode tr_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode tr_curl_setopt_ptr(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode tr_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*tr_curl_write_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode tr_curl_setopt_write(CURL *handle, CURLoption option, tr_curl_write_cb cb) {
    return curl_easy_setopt(handle, option, cb);
}
static inline CURLcode tr_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode tr_curl_getinfo_ptr(CURL *handle, CURLINFO info, char **value) {
    return curl_easy_getinfo(handle, info, value);
}
