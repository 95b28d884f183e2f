// AddressSanitizer's defaults for the hvt binary, in a sanitizer build only
// (tests/fuzz/configure_sanitizer_build.sh; docs/robustness.md).
//
// intercept_tls_get_addr=0: with the interceptor on, the sanitizer records
// every dynamic TLS block __tls_get_addr hands out, and LeakSanitizer scans
// those records at exit. With clang 14's runtime and this glibc (2.36), a
// record for the code generator plugin's TLS can hold garbage ("DTLS 6 at
// 0x6bd-0x18000017bf" with LSAN_OPTIONS=verbosity=1), and the scan crashes:
// "Tracer caught signal 11", "LeakSanitizer has encountered a fatal error".
// It came about one hvt run in a thousand, then on every run of one
// compare_bpftrace program once the plugin's layout changed. Off, the
// dynamic TLS blocks are still scanned as ordinary heap blocks, reachable
// from the thread's DTV.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
extern "C" const char *__asan_default_options() {
  return "intercept_tls_get_addr=0";
}
#endif
#endif
