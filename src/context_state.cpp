// State format, version 1 (little-endian, as the machines libcwm runs on):
//   char[8]  "CWMSTATE"
//   u32      version (1)
//   u64      model fingerprint (Model::fingerprint)
//   u64      layout hash: n_layer, n_head_kv, head_dim, n_vocab, window and which layers are local
//   u32      n_past;  i32 tokens[n_past]
//   u32      rows of logits kept (0 or 1: the last row of the last decode); f32 logits[rows * n_vocab]
//   per layer: u32 count; f16 keys[count][row]; f16 values[count][row], for positions
//            n_past - count .. n_past - 1 (count = what the layer's cache holds, at most n_past)
//   u64      FNV-1a of every byte before it
#include "context_state.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "error.hpp"
#include "hash.hpp"
#include "output_file.hpp"

namespace cwm {

namespace {

constexpr char kMagic[8] = {'C', 'W', 'M', 'S', 'T', 'A', 'T', 'E'};
constexpr uint32_t kVersion = 1;

uint64_t layout_hash(const ModelConfig& c) {
    Fnv1a h;
    for (uint32_t v : {c.n_layer, c.n_head_kv, c.head_dim, c.n_vocab, c.window}) h.add_value(v);
    for (bool local : c.layer_is_local) h.add_value(uint8_t(local));
    return h.value();
}

uint32_t rows_held(const Context& context, uint32_t layer) {
    return std::min(context.n_past(), context.cache().capacity(layer));
}

// Serializes through put(bytes, n), hashing as it goes.
template <class Put>
void write_state(const Context& context, Put&& put) {
    Fnv1a h;
    auto emit = [&](const void* p, size_t n) {
        h.add(p, n);
        put(p, n);
    };
    auto emit_u32 = [&](uint32_t v) { emit(&v, sizeof v); };
    const Model& model = context.model();
    emit(kMagic, sizeof kMagic);
    emit_u32(kVersion);
    const uint64_t ids[2] = {model.fingerprint(), layout_hash(model.config())};
    emit(ids, sizeof ids);
    emit_u32(context.n_past());
    emit(context.tokens().data(), context.tokens().size_bytes());
    const size_t n_vocab = model.config().n_vocab;
    const bool has_logits = context.logits().size() >= n_vocab;
    emit_u32(has_logits ? 1 : 0);
    if (has_logits) emit(context.logits().data() + context.logits().size() - n_vocab, n_vocab * sizeof(float));
    const KvCache& cache = context.cache();
    const size_t row_bytes = cache.row_size() * sizeof(uint16_t);
    for (uint32_t layer = 0; layer < cache.n_layer(); ++layer) {
        const uint32_t count = rows_held(context, layer);
        emit_u32(count);
        for (bool keys : {true, false})
            for (uint32_t pos = context.n_past() - count; pos < context.n_past(); ++pos)
                emit(keys ? cache.key(layer, pos) : cache.value(layer, pos), row_bytes);
    }
    const uint64_t sum = h.value();
    put(&sum, sizeof sum);
}

// Bounds-checked reading of a state; every failure is a damaged state.
class Reader {
public:
    explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

    const uint8_t* take(size_t n, const char* what) {
        if (n > bytes_.size() - pos_) damaged(std::string("it ends inside ") + what);
        const uint8_t* p = bytes_.data() + pos_;
        pos_ += n;
        return p;
    }
    template <class T>
    T value(const char* what) {
        T v;
        std::memcpy(&v, take(sizeof v, what), sizeof v);
        return v;
    }
    size_t pos() const { return pos_; }
    size_t remaining() const { return bytes_.size() - pos_; }

    [[noreturn]] static void damaged(const std::string& why) {
        fail(Status::invalid_file, "context state is damaged or not a libcwm state: " + why);
    }

private:
    std::span<const uint8_t> bytes_;
    size_t pos_ = 0;
};

struct LayerRows {
    uint32_t count;
    const uint8_t* keys;
    const uint8_t* values;
};

// An upper bound on a state loadable into `context`, so that a hostile file's size is not
// allocated before it is checked: every layer holding every position it could.
uint64_t max_state_size(const Context& context) {
    const ModelConfig& c = context.model().config();
    const uint64_t row_bytes = context.cache().row_size() * sizeof(uint16_t);
    return 64 + uint64_t(context.n_ctx()) * (sizeof(Token) + 2 * row_bytes * c.n_layer) + 4ull * c.n_layer +
           uint64_t(c.n_vocab) * sizeof(float);
}

}  // namespace

size_t state_size(const Context& context) {
    size_t n = 0;
    write_state(context, [&](const void*, size_t bytes) { n += bytes; });
    return n;
}

void save_state(const Context& context, std::span<uint8_t> out) {
    if (out.size() != state_size(context)) fail(Status::internal, "save_state: output span of the wrong size");
    size_t at = 0;
    write_state(context, [&](const void* p, size_t n) {
        std::memcpy(out.data() + at, p, n);
        at += n;
    });
}

void load_state(Context& context, std::span<const uint8_t> bytes) {
    const Model& model = context.model();
    const ModelConfig& c = model.config();
    if (bytes.size() < sizeof kMagic + sizeof(uint64_t)) Reader::damaged("it is only " + std::to_string(bytes.size()) + " bytes");
    uint64_t stored_sum;
    std::memcpy(&stored_sum, bytes.data() + bytes.size() - sizeof stored_sum, sizeof stored_sum);
    Reader r(bytes.first(bytes.size() - sizeof stored_sum));
    if (std::memcmp(r.take(sizeof kMagic, "the magic"), kMagic, sizeof kMagic) != 0) Reader::damaged("bad magic");
    const uint32_t version = r.value<uint32_t>("the version");
    if (version != kVersion)
        fail(Status::invalid_file, "context state has format version " + std::to_string(version) +
                                       "; this libcwm reads version " + std::to_string(kVersion));
    Fnv1a h;
    h.add(bytes.data(), bytes.size() - sizeof stored_sum);
    if (h.value() != stored_sum) Reader::damaged("checksum mismatch");
    if (r.value<uint64_t>("the model fingerprint") != model.fingerprint())
        fail(Status::invalid_argument, "context state was saved with another model");
    if (r.value<uint64_t>("the layout hash") != layout_hash(c))
        fail(Status::invalid_argument, "context state was saved with another attention layout of this model");
    const uint32_t n_past = r.value<uint32_t>("the token count");
    if (n_past > context.n_ctx())
        fail(Status::context_full, "context state holds " + std::to_string(n_past) + " tokens; this context holds " +
                                       std::to_string(context.n_ctx()));
    std::vector<Token> tokens(n_past);
    std::memcpy(tokens.data(), r.take(size_t(n_past) * sizeof(Token), "the tokens"), tokens.size() * sizeof(Token));
    for (Token t : tokens)
        if (t < 0 || uint32_t(t) >= c.n_vocab) Reader::damaged("token id " + std::to_string(t) + " outside the vocabulary");
    const uint32_t logit_rows = r.value<uint32_t>("the logits count");
    if (logit_rows > 1) Reader::damaged("logits count " + std::to_string(logit_rows));
    std::vector<float> logits(size_t(logit_rows) * c.n_vocab);
    std::memcpy(logits.data(), r.take(logits.size() * sizeof(float), "the logits"), logits.size() * sizeof(float));

    KvCache& cache = context.cache();
    const size_t row_bytes = cache.row_size() * sizeof(uint16_t);
    std::vector<LayerRows> layers(c.n_layer);
    for (uint32_t layer = 0; layer < c.n_layer; ++layer) {
        LayerRows& l = layers[layer];
        l.count = r.value<uint32_t>("a layer's row count");
        const uint32_t needed = c.layer_is_local[layer] ? std::min(n_past, c.window - 1) : n_past;
        if (l.count > n_past || l.count < needed)
            Reader::damaged("layer " + std::to_string(layer) + " holds " + std::to_string(l.count) + " rows of " +
                            std::to_string(n_past) + " tokens");
        l.keys = r.take(size_t(l.count) * row_bytes, "the keys");
        l.values = r.take(size_t(l.count) * row_bytes, "the values");
    }
    if (r.remaining() != 0) Reader::damaged(std::to_string(r.remaining()) + " bytes after the last layer");

    // Everything is checked: from here on nothing can fail.
    for (uint32_t layer = 0; layer < c.n_layer; ++layer) {
        const LayerRows& l = layers[layer];
        const uint32_t keep = std::min(l.count, cache.capacity(layer));
        for (uint32_t i = l.count - keep; i < l.count; ++i) {
            const uint32_t pos = n_past - l.count + i;
            std::memcpy(cache.key(layer, pos), l.keys + size_t(i) * row_bytes, row_bytes);
            std::memcpy(cache.value(layer, pos), l.values + size_t(i) * row_bytes, row_bytes);
        }
    }
    context.set_tokens(std::move(tokens), std::move(logits));
}

void save_state_file(const Context& context, const std::string& path) {
    OutputFile out(path);
    write_state(context, [&](const void* p, size_t n) { out.write(static_cast<const uint8_t*>(p), n); });
    out.commit();
}

void load_state_file(Context& context, const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail_io(path, "cannot open");
    std::vector<uint8_t> bytes;
    try {
        struct stat st {};
        if (::fstat(fd, &st) != 0) fail_io(path, "cannot stat");
        if (uint64_t(st.st_size) > max_state_size(context))
            fail(Status::invalid_file, path + ": " + std::to_string(st.st_size) +
                                           " bytes is more than any state of this model and context can hold");
        bytes.resize(size_t(st.st_size));
        size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) fail_io(path, "read failed");
            if (n == 0) fail(Status::io_error, path + ": the file shrank while being read");
            done += size_t(n);
        }
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    load_state(context, bytes);
}

}  // namespace cwm
