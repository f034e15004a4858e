#include "cpu.hpp"

namespace cwm::kernels {

bool cpu_has_avx512() {
    static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("f16c");
    return yes;
}

bool cpu_has_avx512_vnni() {
    static const bool yes = cpu_has_avx512() && __builtin_cpu_supports("avx512vnni");
    return yes;
}

bool cpu_has_avx2() {
    static const bool yes =
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    return yes;
}

}  // namespace cwm::kernels
