#include "quantize.hpp"

#include <vector>

#include "error.hpp"
#include "gguf.hpp"
#include "kernels.hpp"
#include "quant.hpp"
#include "thread_pool.hpp"

namespace cwm {

namespace {

// llama.cpp's `general.file_type` values for "mostly" these types.
uint32_t file_type_of(DType type) { return type == DType::q8_0 ? 7 : 2; }

bool quantizable(const TensorView& t) {
    const bool matrix = t.ne.size() == 2 && t.name.size() > 7 && t.name.ends_with(".weight");
    const bool float_type = t.type == DType::f32 || t.type == DType::f16 || t.type == DType::bf16;
    return matrix && float_type && t.ne[0] % quant::kBlock == 0;
}

// Quantizes the rows of `t` into `dst` (ggml's block layout, rows one after another).
void quantize_rows(const TensorView& t, DType type, uint8_t* dst, ThreadPool& pool) {
    const size_t cols = t.ne[0], rows = t.ne[1];
    const size_t src_row = kernels::row_bytes(t.type, cols), dst_row = kernels::row_bytes(type, cols);
    pool.parallel_for(rows, [&](size_t begin, size_t end, int) {
        std::vector<float> row(cols);
        for (size_t r = begin; r < end; ++r) {
            kernels::row_to_f32(t.type, t.data + r * src_row, cols, row.data());
            uint8_t* out = dst + r * dst_row;
            if (type == DType::q8_0)
                quant::quantize_q8_0(row.data(), cols, reinterpret_cast<quant::BlockQ8_0*>(out));
            else
                quant::quantize_q4_0(row.data(), cols, reinterpret_cast<quant::BlockQ4_0*>(out));
        }
    });
}

}  // namespace

void quantize_model(const std::string& input, const std::string& output, const QuantizeOptions& options) {
    if (options.type != DType::q8_0 && options.type != DType::q4_0)
        fail(Status::invalid_argument, "quantize: the target type must be q8_0 or q4_0");
    const GgufFile source(input);
    ThreadPool pool(options.n_threads > 0 ? options.n_threads : ThreadPool::default_threads());
    GgufWriter writer(source.alignment());
    for (const auto& [key, value] : source.metadata()) writer.set(key, value);
    writer.set("general.file_type", GgufValue::from_uint(GgufType::u32, file_type_of(options.type)));
    for (const TensorView& t : source.tensors()) {
        if (!quantizable(t)) {
            writer.add_tensor(t.name, t.type, t.ne, t.data);
            continue;
        }
        writer.add_tensor(t.name, options.type, t.ne,
                          [&t, &options, &pool](uint8_t* dst) { quantize_rows(t, options.type, dst, pool); });
    }
    size_t done = 0;
    const size_t count = source.tensors().size();
    writer.write(output, [&](uint64_t bytes, uint64_t total) {
        if (options.progress && !options.progress(++done, count, bytes, total))
            fail(Status::cancelled, "quantization cancelled");
    });
}

}  // namespace cwm
