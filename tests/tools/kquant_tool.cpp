// Exposes lib/quant_k.hpp and lib/kernels_k.hpp to tests/integration/test_kquant_llama_cpp.py,
// which compares them with llama.cpp's own functions. Rows are raw binary files.
//
//   kquant_tool quantize   q4_k|q6_k|q8_k N IN.f32 OUT.bin    quantize rows of N floats
//   kquant_tool dequantize q4_k|q6_k      N IN.bin OUT.f32
//   kquant_tool dot ref|avx2|avx512 q4_k|q6_k N W.bin A.bin OUT.f32
//                                          row i of W (weights) . row i of A (Q8_K): one float each
//   kquant_tool quantize q8_0_act N IN.f32 OUT.bin   activations as packed_quant.hpp quantizes
//                                          them, written as ggml Q8_0 blocks
//   kquant_tool dot packed q4_0|q8_0 N W.bin A.f32 OUT.f32
//                                          row i of W (plain ggml rows, packed here) times row i
//                                          of A (floats, quantized here) through matmul_packed
// `dot` exits with 3 when the CPU lacks the instruction set asked for.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels_k.hpp"
#include "packed_quant.hpp"
#include "quant.hpp"
#include "quant_k.hpp"

using namespace cwm;

namespace {

std::vector<char> read_file(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(std::string("cannot read ") + path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const char* path, const void* data, size_t bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(static_cast<const char*>(data), std::streamsize(bytes));
    if (!out) throw std::runtime_error(std::string("cannot write ") + path);
}

size_t row_bytes(const std::string& type, size_t n) {
    const size_t blocks = n / quant::kSuperBlock;
    if (type == "q4_k") return blocks * sizeof(quant::BlockQ4_K);
    if (type == "q6_k") return blocks * sizeof(quant::BlockQ6_K);
    if (type == "q8_k") return blocks * sizeof(quant::BlockQ8_K);
    throw std::runtime_error("unknown type " + type);
}

void quantize_row(const std::string& type, const float* x, size_t n, void* out) {
    if (type == "q4_k") return quant::quantize_q4_k(x, n, static_cast<quant::BlockQ4_K*>(out));
    if (type == "q6_k") return quant::quantize_q6_k(x, n, static_cast<quant::BlockQ6_K*>(out));
    quant::quantize_row_q8_k(x, n, out);
}

using DotFn = float (*)(const void*, const void*, size_t);

DotFn dot_function(const std::string& impl, const std::string& type) {
    const bool q4 = type == "q4_k";
    if (impl == "ref") return q4 ? quant::dot_q4_k_q8_k_ref : quant::dot_q6_k_q8_k_ref;
    if (impl == "avx2") return kernels::cpu_has_avx2() ? (q4 ? kernels::avx2::dot_q4_k_q8_k : kernels::avx2::dot_q6_k_q8_k) : nullptr;
    if (impl == "avx512")
        return kernels::cpu_has_avx512_vnni() ? (q4 ? kernels::avx512::dot_q4_k_q8_k : kernels::avx512::dot_q6_k_q8_k) : nullptr;
    throw std::runtime_error("unknown implementation " + impl);
}

// Our activation quantizer's output in ggml's Q8_0 block layout, for a byte comparison.
std::vector<char> activations_as_q8_0(const float* x, size_t rows, size_t n) {
    std::vector<char> out(rows * n / quant::kBlock * sizeof(quant::BlockQ8_0));
    std::vector<uint8_t> act(kernels::activation_row_bytes(n));
    auto* blocks = reinterpret_cast<quant::BlockQ8_0*>(out.data());
    for (size_t r = 0; r < rows; ++r) {
        kernels::quantize_activation_row(x + r * n, n, act.data());
        const kernels::ActivationRow a = kernels::activation_row(act.data(), n);
        for (size_t b = 0; b < n / quant::kBlock; ++b, ++blocks) {
            blocks->d = f32_to_f16(a.d[b]);
            std::memcpy(blocks->q, a.q + b * quant::kBlock, quant::kBlock);
        }
    }
    return out;
}

// y_i = W_i . A_i for every row i, through the packed layout and the dispatched kernels.
std::vector<float> packed_row_dots(DType type, const std::vector<char>& w, const float* x, size_t n) {
    const size_t rows = w.size() / (n / quant::kBlock * (type == DType::q4_0 ? sizeof(quant::BlockQ4_0) : sizeof(quant::BlockQ8_0)));
    const size_t act_size = kernels::activation_row_bytes(n);
    std::vector<char> packed(w.size());
    kernels::pack_groups(type, w.data(), rows, n, packed.data(), 0, kernels::group_count(rows));
    std::vector<uint8_t> acts(rows * act_size);
    for (size_t r = 0; r < rows; ++r) kernels::quantize_activation_row(x + r * n, n, acts.data() + r * act_size);
    std::vector<float> all(rows * rows), out(rows);
    kernels::matmul_packed(type, packed.data(), rows, n, acts.data(), rows, all.data(), rows, 0,
                           kernels::work_unit_count(rows));
    for (size_t r = 0; r < rows; ++r) out[r] = all[r * rows + r];
    return out;
}

int run(int argc, char** argv) {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "quantize" && argc == 6 && std::string(argv[2]) == "q8_0_act") {
        const size_t n = std::stoul(argv[3]);
        const std::vector<char> in = read_file(argv[4]);
        const auto out = activations_as_q8_0(reinterpret_cast<const float*>(in.data()), in.size() / (n * sizeof(float)), n);
        write_file(argv[5], out.data(), out.size());
        return 0;
    }
    if (cmd == "dot" && argc == 8 && std::string(argv[2]) == "packed") {
        const DType type = std::string(argv[3]) == "q4_0" ? DType::q4_0 : DType::q8_0;
        const size_t n = std::stoul(argv[4]);
        const std::vector<char> w = read_file(argv[5]), a = read_file(argv[6]);
        const auto out = packed_row_dots(type, w, reinterpret_cast<const float*>(a.data()), n);
        write_file(argv[7], out.data(), out.size() * sizeof(float));
        return 0;
    }
    if (cmd == "quantize" && argc == 6) {
        const std::string type = argv[2];
        const size_t n = std::stoul(argv[3]);
        const std::vector<char> in = read_file(argv[4]);
        const size_t rows = in.size() / (n * sizeof(float));
        std::vector<char> out(rows * row_bytes(type, n));
        for (size_t r = 0; r < rows; ++r)
            quantize_row(type, reinterpret_cast<const float*>(in.data()) + r * n, n, out.data() + r * row_bytes(type, n));
        write_file(argv[5], out.data(), out.size());
        return 0;
    }
    if (cmd == "dequantize" && argc == 6) {
        const std::string type = argv[2];
        const size_t n = std::stoul(argv[3]);
        const std::vector<char> in = read_file(argv[4]);
        std::vector<float> out(in.size() / row_bytes(type, n) * n);
        if (type == "q4_k") quant::dequantize_q4_k(reinterpret_cast<const quant::BlockQ4_K*>(in.data()), out.size(), out.data());
        else quant::dequantize_q6_k(reinterpret_cast<const quant::BlockQ6_K*>(in.data()), out.size(), out.data());
        write_file(argv[5], out.data(), out.size() * sizeof(float));
        return 0;
    }
    if (cmd == "dot" && argc == 8) {
        const std::string impl = argv[2], type = argv[3];
        const size_t n = std::stoul(argv[4]);
        const DotFn dot = dot_function(impl, type);
        if (!dot) return 3;
        const std::vector<char> w = read_file(argv[5]), a = read_file(argv[6]);
        const size_t rows = w.size() / row_bytes(type, n);
        std::vector<float> out(rows);
        for (size_t r = 0; r < rows; ++r)
            out[r] = dot(w.data() + r * row_bytes(type, n), a.data() + r * row_bytes("q8_k", n), n);
        write_file(argv[7], out.data(), out.size() * sizeof(float));
        return 0;
    }
    std::fprintf(stderr, "usage: see the comment at the top of tests/tools/kquant_tool.cpp\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kquant_tool: %s\n", e.what());
        return 1;
    }
}
