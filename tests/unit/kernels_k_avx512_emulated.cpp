// lib/kernels_k_avx512.cpp compiled a second time with SIMDe's portable implementations of the
// AVX-512 intrinsics in place of the instructions, as namespace cwm::kernels::avx512_emulated:
// the AVX-512 kernels' logic is then tested on every machine, including ones (like this
// project's CI machine) whose CPU lacks AVX-512. test_quant_k.cpp also runs the real build of
// the file when the CPU has AVX-512.
#include <cstddef>

#if __has_include(<simde/x86/avx512.h>)
// The real headers first, so the kernel file's own #include <immintrin.h> is a no-op and the
// SIMDe aliases below replace every intrinsic and vector type it names.
#include <immintrin.h>
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>

#define avx512 avx512_emulated
#include "../../lib/kernels_k_avx512.cpp"
#undef avx512

namespace cwm::kernels::avx512_emulated {
extern const bool available = true;
}
#else
namespace cwm::kernels::avx512_emulated {
extern const bool available = false;
float dot_q4_k_q8_k(const void*, const void*, size_t) { return 0; }
float dot_q6_k_q8_k(const void*, const void*, size_t) { return 0; }
}  // namespace cwm::kernels::avx512_emulated
#endif
