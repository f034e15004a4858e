// Which instruction sets this CPU offers, for the runtime dispatch of kernels.
#pragma once

namespace cwm::kernels {

// AVX-512 F/BW/VL with F16C: the float kernels in *_avx512.cpp.
bool cpu_has_avx512();
// The above plus AVX-512 VNNI: the int8 kernels in *_avx512.cpp.
bool cpu_has_avx512_vnni();
// AVX2 with FMA and F16C: the kernels in *_avx2.cpp.
bool cpu_has_avx2();

}  // namespace cwm::kernels
