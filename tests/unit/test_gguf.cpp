// GGUF reader/writer round trips, hostile-file rejection, and the dtype helpers.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>

#include "error.hpp"
#include "test_files.hpp"
#include "gguf.hpp"

using namespace cwm;
namespace fs = std::filesystem;

namespace {

using cwm_test::write_bytes;

struct TempDir : cwm_test::TempDir {
    TempDir() : cwm_test::TempDir("cwm_gguf_test") {}
};

std::string read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Little-endian builder for hand-made (often deliberately broken) files.
struct Raw {
    std::string b;
    Raw& u8(uint8_t v) { return put(v); }
    Raw& u32(uint32_t v) { return put(v); }
    Raw& u64(uint64_t v) { return put(v); }
    Raw& str(std::string_view s) {
        u64(s.size());
        b += s;
        return *this;
    }
    Raw& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(uint32_t(GgufType::u32)).u32(v); }
    Raw& tensor(std::string_view name, const std::vector<uint64_t>& ne, uint32_t type, uint64_t offset) {
        str(name).u32(uint32_t(ne.size()));
        for (uint64_t d : ne) u64(d);
        return u32(type).u64(offset);
    }
    Raw& pad(size_t alignment) {
        b.resize((b.size() + alignment - 1) / alignment * alignment, '\0');
        return *this;
    }
    Raw& zeros(size_t n) {
        b.append(n, '\0');
        return *this;
    }
    template <class T>
    Raw& put(T v) {
        b.append(reinterpret_cast<const char*>(&v), sizeof v);
        return *this;
    }
};

Raw header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    Raw r;
    r.b = "GGUF";
    return r.u32(version).u64(n_tensors).u64(n_kv);
}

// Opening `path` must fail; returns the error.
Error open_error(const std::string& path) {
    try {
        GgufFile f(path);
    } catch (const Error& e) {
        return e;
    }
    FAIL("opening " << path << " unexpectedly succeeded");
    return Error(Status::ok, "");
}

// Writes `bytes` and checks the reader rejects them as invalid_file with a message naming
// the file and containing `needle`.
void expect_invalid(const std::string& bytes, const std::string& needle) {
    TempDir dir;
    const std::string path = dir.file("hostile.gguf");
    write_bytes(path, bytes);
    const Error e = open_error(path);
    CHECK(e.status() == Status::invalid_file);
    const std::string msg = e.what();
    CHECK_MESSAGE(msg.find(path) != std::string::npos, msg);
    CHECK_MESSAGE(msg.find(needle) != std::string::npos, "expected '" << needle << "' in: " << msg);
}

// A small valid file: one u32 key and one f32 tensor of 4 elements at offset 0.
Raw one_tensor_file(const std::vector<uint64_t>& ne = {4}, uint32_t type = 0, uint64_t offset = 0) {
    return header(1, 1).kv_u32("a", 1).tensor("t", ne, type, offset).pad(32).zeros(16);
}

uint16_t f16_of(float f) { return f32_to_f16(f); }

}  // namespace

TEST_CASE("dtype_info matches ggml's block layout") {
    struct Expect { DType t; const char* name; uint32_t elems, bytes; };
    const Expect expected[] = {
        {DType::f32, "f32", 1, 4},      {DType::f16, "f16", 1, 2},       {DType::bf16, "bf16", 1, 2},
        {DType::q4_0, "q4_0", 32, 18},  {DType::q4_1, "q4_1", 32, 20},   {DType::q5_0, "q5_0", 32, 22},
        {DType::q5_1, "q5_1", 32, 24},  {DType::q8_0, "q8_0", 32, 34},   {DType::q8_1, "q8_1", 32, 36},
        {DType::q2_k, "q2_k", 256, 84}, {DType::q3_k, "q3_k", 256, 110}, {DType::q4_k, "q4_k", 256, 144},
        {DType::q5_k, "q5_k", 256, 176}, {DType::q6_k, "q6_k", 256, 210}, {DType::q8_k, "q8_k", 256, 292},
        {DType::i8, "i8", 1, 1},        {DType::i16, "i16", 1, 2},       {DType::i32, "i32", 1, 4},
        {DType::i64, "i64", 1, 8},      {DType::f64, "f64", 1, 8},
    };
    for (const Expect& e : expected) {
        const DTypeInfo* info = dtype_info(uint32_t(e.t));
        REQUIRE(info != nullptr);
        CHECK(std::string(info->name) == e.name);
        CHECK(info->block_elems == e.elems);
        CHECK(info->block_bytes == e.bytes);
    }
    for (uint32_t unknown : {4u, 5u, 16u, 23u, 29u, 31u, 39u, 1000u, 0xffffffffu}) CHECK(dtype_info(unknown) == nullptr);
}

TEST_CASE("f16 conversion of known values") {
    CHECK(f16_of(1.0f) == 0x3c00);
    CHECK(f16_of(-2.0f) == 0xc000);
    CHECK(f16_of(65504.0f) == 0x7bff);
    CHECK(f16_of(0.0f) == 0x0000);
    CHECK(f16_of(-0.0f) == 0x8000);
    CHECK(f16_of(0x1p-24f) == 0x0001);  // smallest subnormal
    CHECK(f16_of(0x1p-14f) == 0x0400);  // smallest normal
    CHECK(f16_of(INFINITY) == 0x7c00);
    CHECK(f16_of(-INFINITY) == 0xfc00);
    CHECK(f16_of(1e6f) == 0x7c00);  // overflow
    CHECK(f16_to_f32(0x3c00) == 1.0f);
    CHECK(f16_to_f32(0xc000) == -2.0f);
    CHECK(f16_to_f32(0x7bff) == 65504.0f);
    CHECK(f16_to_f32(0x0001) == 0x1p-24f);
    CHECK(f16_to_f32(0x0001) == doctest::Approx(5.96e-8).epsilon(1e-3));
    CHECK(f16_to_f32(0x8000) == 0.0f);
    CHECK(std::signbit(f16_to_f32(0x8000)));
    CHECK(f16_to_f32(0x7c00) == INFINITY);
    CHECK(f16_to_f32(0xfc00) == -INFINITY);
    CHECK(std::isnan(f16_to_f32(0x7e00)));
    CHECK(std::isnan(f16_to_f32(0x7c01)));  // signalling payload stays a NaN

    // NaN stays NaN even when its payload lives only in bits f16 drops.
    const uint16_t nan = f16_of(std::bit_cast<float>(0x7f800001u));
    CHECK((nan & 0x7c00) == 0x7c00);
    CHECK((nan & 0x03ff) != 0);
}

TEST_CASE("f16 rounding ties go to even") {
    CHECK(f16_of(1.0f + 0x1p-11f) == 0x3c00);      // halfway 0x3c00 / 0x3c01 -> even 0x3c00
    CHECK(f16_of(1.0f + 3 * 0x1p-11f) == 0x3c02);  // halfway 0x3c01 / 0x3c02 -> even 0x3c02
    CHECK(f16_of(std::nextafter(1.0f + 0x1p-11f, 2.0f)) == 0x3c01);  // just above the tie
    CHECK(f16_of(65519.0f) == 0x7bff);
    CHECK(f16_of(65520.0f) == 0x7c00);  // halfway 65504 / 2^16 -> even, i.e. infinity
    CHECK(f16_of(0x1p-25f) == 0x0000);  // halfway 0 / smallest subnormal -> 0
    CHECK(f16_of(std::nextafter(0x1p-25f, 1.0f)) == 0x0001);
    CHECK(f16_of(3 * 0x1p-25f) == 0x0002);                // halfway 1 / 2 subnormal units
    CHECK(f16_of((1023 + 0.5f) * 0x1p-24f) == 0x0400);    // largest subnormal rounds up into normals
    CHECK(f16_of(-(1.0f + 0x1p-11f)) == 0xbc00);
}

TEST_CASE("f16 -> f32 -> f16 is the identity for every non-NaN half") {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const float f = f16_to_f32(uint16_t(h));
        if (std::isnan(f)) {
            REQUIRE(((h >> 10) & 0x1f) == 0x1f);
            const uint16_t back = f32_to_f16(f);
            REQUIRE(((back & 0x7c00) == 0x7c00 && (back & 0x3ff) != 0));
            continue;
        }
        REQUIRE_MESSAGE(f32_to_f16(f) == h, "half 0x" << std::hex << h);
    }
}

TEST_CASE("f32 -> f16 picks the nearest half, ties to even, over a sweep of floats") {
    // Magnitude of half bits `m` as a double; 0x7c00 stands for 2^16, the rounding boundary.
    auto value = [](uint32_t m) { return m >= 0x7c00 ? 65536.0 : double(f16_to_f32(uint16_t(m))); };
    for (uint64_t bits = 0; bits < 0x7f800000u; bits += 4099) {
        const double x = std::bit_cast<float>(uint32_t(bits));
        const uint32_t h = f32_to_f16(float(x));
        REQUIRE((h & 0x8000) == 0);
        const double d = std::fabs(value(h) - x);
        if (h < 0x7c00) REQUIRE_MESSAGE(d <= std::fabs(value(h + 1) - x), x);
        if (h > 0) REQUIRE_MESSAGE(d <= std::fabs(value(h - 1) - x), x);
        if (h > 0 && h < 0x7c00 && (d == std::fabs(value(h + 1) - x) || d == std::fabs(value(h - 1) - x)))
            REQUIRE_MESSAGE((h & 1) == 0, x);
    }
}

TEST_CASE("every metadata type round-trips") {
    TempDir dir;
    const std::string path = dir.file("meta.gguf");
    const std::string utf8 = "h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80";
    auto i32 = [](int64_t v) { return GgufValue::from_int(GgufType::i32, v); };
    auto str = [](std::string s) { return GgufValue::from_string(std::move(s)); };

    GgufWriter w;
    w.set("t.u8", GgufValue::from_uint(GgufType::u8, 255));
    w.set("t.i8", GgufValue::from_int(GgufType::i8, -128));
    w.set("t.u16", GgufValue::from_uint(GgufType::u16, 65535));
    w.set("t.i16", GgufValue::from_int(GgufType::i16, -32768));
    w.set("t.u32", GgufValue::from_uint(GgufType::u32, 4000000000u));
    w.set("t.i32", i32(-2000000000));
    w.set("t.f32", GgufValue::from_float(GgufType::f32, 0.1));
    w.set("t.bool", GgufValue::from_bool(true));
    w.set("t.string", str(utf8));
    w.set("t.empty_string", str(""));
    w.set("t.u64", GgufValue::from_uint(GgufType::u64, std::numeric_limits<uint64_t>::max()));
    w.set("t.i64", GgufValue::from_int(GgufType::i64, std::numeric_limits<int64_t>::min()));
    w.set("t.f64", GgufValue::from_float(GgufType::f64, -1.0 / 3.0));
    w.set("t.strings", GgufValue::from_array(GgufType::string, {str("a"), str(""), str(utf8)}));
    w.set("t.empty_array", GgufValue::from_array(GgufType::u8, {}));
    w.set("t.nested", GgufValue::from_array(GgufType::array, {
        GgufValue::from_array(GgufType::i32, {i32(1), i32(-2)}),
        GgufValue::from_array(GgufType::i32, {}),
        GgufValue::from_array(GgufType::array, {GgufValue::from_array(GgufType::boolean, {})}),
    }));
    w.set("t.u8", GgufValue::from_uint(GgufType::u8, 7));  // replaced in place
    w.write(path);

    const GgufFile f(path);
    CHECK(f.version() == 3);
    CHECK(f.alignment() == 32);
    CHECK(f.find("general.alignment") == nullptr);
    REQUIRE(f.metadata().size() == 16);
    CHECK(f.metadata()[0].first == "t.u8");
    CHECK(f.metadata()[15].first == "t.nested");
    CHECK(f.get("t.u8").type() == GgufType::u8);
    CHECK(f.get("t.u8").as_uint() == 7);
    CHECK(f.get("t.i8").as_int() == -128);
    CHECK(f.get("t.i8").type() == GgufType::i8);
    CHECK(f.get("t.u16").as_uint() == 65535);
    CHECK(f.get("t.i16").as_int() == -32768);
    CHECK(f.get("t.u32").as_uint() == 4000000000u);
    CHECK(f.get("t.i32").as_int() == -2000000000);
    CHECK(f.get("t.f32").type() == GgufType::f32);
    CHECK(f.get("t.f32").as_float() == double(0.1f));
    CHECK(f.get("t.bool").as_bool() == true);
    CHECK(f.get("t.string").as_string() == utf8);
    CHECK(f.get("t.empty_string").as_string().empty());
    CHECK(f.get("t.u64").as_uint() == std::numeric_limits<uint64_t>::max());
    CHECK(f.get("t.i64").as_int() == std::numeric_limits<int64_t>::min());
    CHECK(f.get("t.f64").as_float() == -1.0 / 3.0);
    const auto& strings = f.get("t.strings").as_array();
    CHECK(strings.elem_type == GgufType::string);
    REQUIRE(strings.items.size() == 3);
    CHECK(strings.items[2].as_string() == utf8);
    CHECK(f.get("t.empty_array").as_array().elem_type == GgufType::u8);
    CHECK(f.get("t.empty_array").as_array().items.empty());
    const auto& nested = f.get("t.nested").as_array();
    REQUIRE(nested.items.size() == 3);
    CHECK(nested.items[0].as_array().items[1].as_int() == -2);
    CHECK(nested.items[1].as_array().items.empty());
    CHECK(nested.items[2].as_array().items[0].as_array().elem_type == GgufType::boolean);
    CHECK(f.tensors().empty());
}

namespace {

// Runs `f`, which must throw cwm::Error; returns it.
template <class F>
Error error_of(F f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    FAIL("no cwm::Error thrown");
    return Error(Status::ok, "");
}

bool contains(const Error& e, const std::string& needle) { return std::string(e.what()).find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("GgufValue conversions accept compatible types and name both types otherwise") {
    const auto neg = GgufValue::from_int(GgufType::i32, -5);
    Error e = error_of([&] { (void)neg.as_uint(); });
    CHECK(e.status() == Status::invalid_file);
    CHECK_MESSAGE((contains(e, "i32") && contains(e, "-5") && contains(e, "non-negative")), e.what());
    CHECK(GgufValue::from_int(GgufType::i8, 5).as_uint() == 5);
    CHECK(GgufValue::from_uint(GgufType::u8, 3).as_int() == 3);
    CHECK(GgufValue::from_uint(GgufType::u16, 3).as_float() == 3.0);
    CHECK(GgufValue::from_int(GgufType::i16, -3).as_float() == -3.0);
    e = error_of([] { (void)GgufValue::from_uint(GgufType::u64, std::numeric_limits<uint64_t>::max()).as_int(); });
    CHECK_MESSAGE(contains(e, "u64"), e.what());
    e = error_of([] { (void)GgufValue::from_string("x").as_uint(); });
    CHECK_MESSAGE(contains(e, "string"), e.what());
    e = error_of([] { (void)GgufValue::from_uint(GgufType::u8, 1).as_bool(); });
    CHECK_MESSAGE((contains(e, "bool") && contains(e, "u8")), e.what());
    e = error_of([] { (void)GgufValue::from_uint(GgufType::u32, 1).as_string(); });
    CHECK_MESSAGE((contains(e, "string") && contains(e, "u32")), e.what());
    e = error_of([] { (void)GgufValue::from_bool(true).as_float(); });
    CHECK_MESSAGE((contains(e, "number") && contains(e, "bool")), e.what());
    e = error_of([] { (void)GgufValue::from_float(GgufType::f64, 1).as_array(); });
    CHECK_MESSAGE((contains(e, "array") && contains(e, "f64")), e.what());
    CHECK(GgufValue::from_int(GgufType::i64, 1).is_integer());
    CHECK_FALSE(GgufValue::from_float(GgufType::f32, 1).is_integer());
    CHECK(GgufValue::from_float(GgufType::f32, 1).is_number());
    CHECK_FALSE(GgufValue::from_bool(true).is_number());
    CHECK(std::string(gguf_type_name(GgufType::boolean)) == "bool");
    CHECK(std::string(gguf_type_name(GgufType::f64)) == "f64");

    // Building a value that cannot be encoded is the caller's mistake.
    CHECK(error_of([] { GgufValue::from_uint(GgufType::u8, 256); }).status() == Status::invalid_argument);
    CHECK(error_of([] { GgufValue::from_uint(GgufType::i8, 1); }).status() == Status::invalid_argument);
    CHECK(error_of([] { GgufValue::from_int(GgufType::i8, 128); }).status() == Status::invalid_argument);
    CHECK(error_of([] { GgufValue::from_float(GgufType::u32, 1); }).status() == Status::invalid_argument);
    CHECK(error_of([] {
              GgufValue::from_array(GgufType::u8, {GgufValue::from_int(GgufType::i32, 1)});
          }).status() == Status::invalid_argument);
}

TEST_CASE("tensors round-trip byte for byte with a custom alignment") {
    TempDir dir;
    const std::string path = dir.file("tensors.gguf");
    struct Spec {
        std::string name;
        DType type;
        std::vector<uint64_t> ne;
        bool use_fill;
    };
    const std::vector<Spec> specs = {
        {"a.f32", DType::f32, {3, 5}, false},  {"b.f16", DType::f16, {7}, true},
        {"c.bf16", DType::bf16, {4, 2, 3}, false}, {"d.q8_0", DType::q8_0, {64, 2}, true},
        {"e.i8", DType::i8, {5, 1, 1, 2}, false}, {"f.q4_k", DType::q4_k, {256}, true},
    };
    std::mt19937 rng(42);
    std::vector<std::vector<uint8_t>> data;
    for (const Spec& s : specs) {
        std::vector<uint8_t> bytes(tensor_bytes(s.type, s.ne));
        for (uint8_t& b : bytes) b = uint8_t(rng());
        data.push_back(std::move(bytes));
    }

    GgufWriter w(64);
    w.set("general.architecture", GgufValue::from_string("llama"));
    for (size_t i = 0; i < specs.size(); ++i) {
        const std::vector<uint8_t>& bytes = data[i];
        if (specs[i].use_fill)
            w.add_tensor(specs[i].name, specs[i].type, specs[i].ne,
                         [&bytes](uint8_t* dst) { std::memcpy(dst, bytes.data(), bytes.size()); });
        else
            w.add_tensor(specs[i].name, specs[i].type, specs[i].ne, bytes.data());
    }
    std::vector<std::pair<uint64_t, uint64_t>> progress;
    w.write(path, [&](uint64_t done, uint64_t total) { progress.emplace_back(done, total); });

    uint64_t total = 0;
    for (const auto& d : data) total += d.size();
    REQUIRE(progress.size() == specs.size());
    CHECK(progress.back() == std::make_pair(total, total));
    for (size_t i = 1; i < progress.size(); ++i) CHECK(progress[i].first > progress[i - 1].first);

    const GgufFile f(path);
    CHECK(f.alignment() == 64);
    REQUIRE(f.metadata().size() == 2);
    CHECK(f.metadata()[0].first == "general.alignment");  // added automatically, first
    CHECK(f.metadata()[0].second.type() == GgufType::u32);
    CHECK(f.metadata()[0].second.as_uint() == 64);
    CHECK(f.data_offset() % 64 == 0);
    REQUIRE(f.tensors().size() == specs.size());
    uint64_t end = 0;
    for (size_t i = 0; i < specs.size(); ++i) {
        const TensorView& t = f.tensors()[i];
        CAPTURE(t.name);
        CHECK(t.name == specs[i].name);
        CHECK(t.type == specs[i].type);
        CHECK(t.ne == specs[i].ne);
        CHECK(t.n_bytes == data[i].size());
        CHECK(t.offset % 64 == 0);
        CHECK(reinterpret_cast<uintptr_t>(t.data) % 64 == 0);
        CHECK(std::memcmp(t.data, data[i].data(), data[i].size()) == 0);
        end = t.offset + (t.n_bytes + 63) / 64 * 64;
    }
    CHECK(f.file_size() == f.data_offset() + end);  // the last tensor is padded too, as gguf-py does
    CHECK(f.find_tensor("d.q8_0") == &f.tensors()[3]);
    CHECK(f.find_tensor("nope") == nullptr);
    CHECK(f.tensors()[2].n_elements() == 24);
}

TEST_CASE("an explicitly set alignment key keeps its position; a conflicting one is refused") {
    TempDir dir;
    GgufWriter w(64);
    w.set("first", GgufValue::from_bool(false));
    w.set("general.alignment", GgufValue::from_uint(GgufType::u32, 64));
    w.write(dir.file("a.gguf"));
    const GgufFile f(dir.file("a.gguf"));
    REQUIRE(f.metadata().size() == 2);
    CHECK(f.metadata()[1].first == "general.alignment");
    CHECK(f.alignment() == 64);

    CHECK(error_of([&] { w.set("general.alignment", GgufValue::from_uint(GgufType::u32, 128)); }).status() ==
          Status::invalid_argument);
    CHECK(error_of([&] { w.set("general.alignment", GgufValue::from_uint(GgufType::u64, 64)); }).status() ==
          Status::invalid_argument);
    w.remove("general.alignment");  // still written automatically
    w.remove("first");
    w.write(dir.file("b.gguf"));
    const GgufFile g(dir.file("b.gguf"));
    REQUIRE(g.metadata().size() == 1);
    CHECK(g.alignment() == 64);
}

TEST_CASE("writer rejects bad arguments") {
    for (uint64_t bad : {uint64_t(0), uint64_t(48), uint64_t(1) << 33})
        CHECK(error_of([&] { GgufWriter w(bad); }).status() == Status::invalid_argument);
    GgufWriter w;
    const float data[64] = {};
    w.add_tensor("t", DType::f32, {4}, data);
    auto add = [&](const std::string& name, DType type, std::vector<uint64_t> ne) {
        return error_of([&] { w.add_tensor(name, type, ne, data); });
    };
    Error e = add("t", DType::f32, {4});
    CHECK(e.status() == Status::invalid_argument);
    CHECK_MESSAGE(contains(e, "duplicate tensor 't'"), e.what());
    CHECK_MESSAGE(contains(add("q", DType::q8_0, {33}), "block size 32"), "");
    CHECK_MESSAGE(contains(add("q", DType::f32, {}), "n_dims is 0"), "");
    CHECK_MESSAGE(contains(add("q", DType::f32, {1, 1, 1, 1, 1}), "n_dims is 5"), "");
    CHECK_MESSAGE(contains(add("q", DType::f32, {4, 0}), "zero dimension"), "");
    CHECK_MESSAGE(contains(add("q", DType(99), {4}), "unknown tensor type 99"), "");
    CHECK_MESSAGE(contains(add("", DType::f32, {4}), "empty tensor name"), "");
    CHECK(error_of([&] { w.add_tensor("n", DType::f32, {4}, static_cast<const void*>(nullptr)); }).status() ==
          Status::invalid_argument);
    CHECK(error_of([&] { w.set("", GgufValue()); }).status() == Status::invalid_argument);

    TempDir dir;
    e = error_of([&] { w.write(dir.file("missing/dir/x.gguf")); });
    CHECK(e.status() == Status::io_error);
    CHECK_MESSAGE(contains(e, "No such file"), e.what());
}

TEST_CASE("tensor_bytes checks block size and overflow") {
    CHECK(tensor_bytes(DType::f32, {3, 5}) == 60);
    CHECK(tensor_bytes(DType::q4_k, {256, 3}) == 432);
    CHECK(tensor_bytes(DType::q8_0, {64, 2, 2}) == 272);
    Error e = error_of([] { tensor_bytes(DType::q8_0, {33}); });
    CHECK(e.status() == Status::invalid_file);
    CHECK_MESSAGE(contains(e, "block size"), e.what());
    e = error_of([] { tensor_bytes(DType::f32, {uint64_t(1) << 32, uint64_t(1) << 32}); });
    CHECK_MESSAGE(contains(e, "2^63-1 elements"), e.what());
    e = error_of([] { tensor_bytes(DType::f32, {uint64_t(1) << 62}); });
    CHECK_MESSAGE(contains(e, "overflows"), e.what());
}

TEST_CASE("a throwing TensorFill leaves no output and no temporary file") {
    TempDir dir;
    const std::string path = dir.file("out.gguf");
    const float data[4] = {1, 2, 3, 4};
    GgufWriter w;
    w.add_tensor("ok", DType::f32, {4}, data);
    w.add_tensor("bad", DType::f32, {4}, [](uint8_t*) { throw Error(Status::cancelled, "stop here"); });

    Error e = error_of([&] { w.write(path); });
    CHECK(e.status() == Status::cancelled);
    CHECK(fs::is_empty(dir.path));

    // An existing file at the destination survives a failed write untouched.
    GgufWriter good;
    good.add_tensor("ok", DType::f32, {4}, data);
    good.write(path);
    const std::string before = read_bytes(path);
    e = error_of([&] { w.write(path); });
    CHECK(e.status() == Status::cancelled);
    CHECK(read_bytes(path) == before);
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("missing files and keys") {
    TempDir dir;
    Error e = open_error(dir.file("absent.gguf"));
    CHECK(e.status() == Status::io_error);
    CHECK_MESSAGE(contains(e, "No such file"), e.what());
    e = open_error(dir.path.string());
    CHECK(e.status() == Status::io_error);
    CHECK_MESSAGE(contains(e, "not a regular file"), e.what());

    write_bytes(dir.file("ok.gguf"), one_tensor_file().b);
    const GgufFile f(dir.file("ok.gguf"));
    CHECK(f.get("a").as_uint() == 1);
    e = error_of([&] { f.get("no.such.key"); });
    CHECK(e.status() == Status::invalid_file);
    CHECK_MESSAGE((contains(e, "no.such.key") && contains(e, dir.file("ok.gguf"))), e.what());
}

TEST_CASE("hand-made minimal files parse, including version 2") {
    TempDir dir;
    write_bytes(dir.file("v3.gguf"), one_tensor_file().b);
    Raw v2 = header(0, 1, 2).kv_u32("k", 5).pad(32);
    write_bytes(dir.file("v2.gguf"), v2.b);
    const GgufFile f3(dir.file("v3.gguf"));
    CHECK(f3.tensors().size() == 1);
    CHECK(f3.data_offset() == 96);  // 24 header + 17 kv + 33 tensor info, padded to 32
    const GgufFile f2(dir.file("v2.gguf"));
    CHECK(f2.version() == 2);
    CHECK(f2.get("k").as_uint() == 5);
}

TEST_CASE("every truncation of a valid file is rejected cleanly") {
    TempDir dir;
    const std::string path = dir.file("full.gguf");
    GgufWriter w;
    w.set("general.name", GgufValue::from_string("tiny"));
    w.set("list", GgufValue::from_array(GgufType::string, {GgufValue::from_string("x"),
                                                           GgufValue::from_string("yz")}));
    w.set("n", GgufValue::from_uint(GgufType::u32, 7));
    const uint16_t halves[5] = {1, 2, 3, 4, 5};
    const float floats[4] = {1, 2, 3, 4};
    w.add_tensor("f", DType::f32, {4}, floats);
    w.add_tensor("h", DType::f16, {5}, halves);  // 10 bytes, then 22 bytes of padding
    w.write(path);
    const std::string full = read_bytes(path);
    uint64_t data_end = 0;
    {
        const GgufFile f(path);
        const TensorView& last = f.tensors().back();
        data_end = f.data_offset() + last.offset + last.n_bytes;
    }
    REQUIRE(data_end < full.size());

    const std::string cut = dir.file("cut.gguf");
    const char* expected[] = {"empty", "too small", "truncated", "exceeds", "impossible", "cannot fit",
                              "past the end"};
    for (size_t len = 0; len < full.size(); ++len) {
        CAPTURE(len);
        write_bytes(cut, full.substr(0, len));
        if (len >= data_end) {  // only trailing padding is missing, which llama.cpp accepts too
            CHECK_NOTHROW(GgufFile{cut});
            continue;
        }
        const Error e = open_error(cut);
        CHECK(e.status() == Status::invalid_file);
        CHECK_MESSAGE(std::any_of(std::begin(expected), std::end(expected), [&](const char* s) { return contains(e, s); }),
                      e.what());
    }
}

TEST_CASE("randomly corrupted files either load or fail with invalid_file") {
    TempDir dir;
    const std::string path = dir.file("full.gguf");
    GgufWriter w;
    w.set("s", GgufValue::from_string("text"));
    w.set("a", GgufValue::from_array(GgufType::array, {GgufValue::from_array(GgufType::u16, {
                                                           GgufValue::from_uint(GgufType::u16, 9)})}));
    const float floats[8] = {};
    w.add_tensor("f", DType::f32, {4, 2}, floats);
    w.add_tensor("g", DType::f32, {2}, floats);
    w.write(path);
    const std::string full = read_bytes(path);
    const std::string bad = dir.file("bad.gguf");
    std::mt19937 rng(7);
    for (int iter = 0; iter < 2000; ++iter) {
        std::string bytes = full;
        for (int k = 0; k < 1 + iter % 4; ++k) bytes[rng() % bytes.size()] = char(rng());
        write_bytes(bad, bytes);
        try {
            GgufFile f(bad);
        } catch (const Error& e) {
            REQUIRE_MESSAGE(e.status() == Status::invalid_file, e.what());
        }
    }
}

TEST_CASE("hostile headers") {
    expect_invalid("", "file is empty");
    expect_invalid("GG", "too small");
    expect_invalid("GGUF\x03", "too small");
    expect_invalid("GGML" + header(0, 0).b.substr(4), "not a GGUF file (magic 'GGML'");
    expect_invalid(std::string("\x7f" "ELF") + std::string(30, '\0'), "magic '\\x7fELF'");
    expect_invalid(header(0, 0, 1).b, "unsupported GGUF version 1");
    expect_invalid(header(0, 0, 4).b, "unsupported GGUF version 4");
    expect_invalid(header(0, 0, 0x03000000).b, "big-endian");
    expect_invalid(header(uint64_t(1) << 62, 0).zeros(64).b, "tensor count 4611686018427387904 is impossible");
    expect_invalid(header(0, uint64_t(1) << 62).zeros(64).b, "kv count 4611686018427387904 is impossible");
    expect_invalid(header(1, 0).tensor("t", {4}, 0, 0).b, "data section would start at offset 64");
}

TEST_CASE("hostile metadata") {
    const uint64_t huge = uint64_t(1) << 62;
    expect_invalid(header(0, 1).u64(huge).zeros(16).b, "key #0: string length 4611686018427387904 exceeds");
    expect_invalid(header(0, 1).str("k").u32(8).u64(huge).zeros(8).b, "key 'k': string length");
    expect_invalid(header(0, 1).str("k").u32(9).u32(0).u64(huge).zeros(8).b, "key 'k': array count");
    expect_invalid(header(0, 1).str("k").u32(9).u32(8).u64(huge / 4).zeros(64).b, "array count");
    expect_invalid(header(0, 1).str("k").u32(13).u32(0).b, "key 'k': unknown value type 13");
    expect_invalid(header(0, 1).str("k").u32(0xffffffff).u32(0).b, "unknown value type 4294967295");
    expect_invalid(header(0, 1).str("k").u32(9).u32(77).u64(0).b, "unknown element type 77");
    expect_invalid(header(0, 1).str("k").u32(7).u8(2).zeros(8).b, "bool value 2");
    expect_invalid(header(0, 1).str("").u32(4).u32(1).b, "key #0 is an empty string");
    expect_invalid(header(0, 2).kv_u32("k", 1).kv_u32("k", 2).pad(32).b, "duplicate key 'k'");
    expect_invalid(header(0, 1).kv_u32("general.alignment", 0).pad(32).b, "must be a non-zero power of two");
    expect_invalid(header(0, 1).kv_u32("general.alignment", 48).pad(32).b, "'general.alignment' is 48");
    expect_invalid(header(0, 1).str("general.alignment").u32(10).u64(32).pad(32).b,
                   "'general.alignment' has type u64 (must be u32)");
    expect_invalid(header(0, 1).str("general.alignment").u32(8).str("32").pad(32).b, "has type string");

    // Arrays may nest 8 deep; a 9th level is refused before it is read.
    auto nested = [](int levels) {
        Raw r = header(0, 1).str("k").u32(9);
        for (int i = 0; i < levels - 1; ++i) r.u32(9).u64(1);
        return r.u32(0).u64(0).pad(32);
    };
    TempDir dir;
    write_bytes(dir.file("deep8.gguf"), nested(8).b);
    CHECK_NOTHROW(GgufFile{dir.file("deep8.gguf")});
    expect_invalid(nested(9).b, "nested more than 8 levels");
}

TEST_CASE("hostile tensor infos") {
    const uint64_t big = uint64_t(1) << 32;
    expect_invalid(header(1, 0).u64(uint64_t(1) << 62).zeros(32).b, "tensor #0 name: string length");
    expect_invalid(header(1, 0).tensor("", {4}, 0, 0).pad(32).zeros(16).b, "tensor #0 has an empty name");
    expect_invalid(one_tensor_file({4}, 99).b, "tensor 't': unknown tensor type 99");
    expect_invalid(one_tensor_file({4}, 4).b, "unknown tensor type 4");
    expect_invalid(header(1, 0).tensor("t", {}, 0, 0).pad(32).zeros(16).b, "tensor 't': n_dims is 0 (must be 1..4)");
    expect_invalid(header(1, 0).tensor("t", {1, 1, 1, 1, 4}, 0, 0).pad(32).zeros(16).b, "n_dims is 5");
    expect_invalid(one_tensor_file({4, 0}).b, "has a zero dimension");
    expect_invalid(one_tensor_file({big, big}).b, "more than 2^63-1 elements");
    expect_invalid(one_tensor_file({uint64_t(1) << 63}).b, "more than 2^63-1 elements");
    expect_invalid(one_tensor_file({uint64_t(1) << 62}).b, "overflows 64 bits");
    expect_invalid(one_tensor_file({33}, uint32_t(DType::q8_0)).b, "not a multiple of the q8_0 block size 32");
    expect_invalid(one_tensor_file({4}, 0, 4).b, "tensor 't': data offset 4 is not a multiple of the alignment 32");
    expect_invalid(one_tensor_file({4}, 0, 32).b, "tensor 't' data [offset 32, 16 bytes] runs past the end of the file");
    expect_invalid(one_tensor_file({1 << 20}).b, "[offset 0, 4194304 bytes] runs past the end");
    expect_invalid(one_tensor_file({4}, 0, uint64_t(-32)).b, "runs past the end");
    expect_invalid(header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {8}, 0, 32).pad(32).zeros(96).b,
                   "tensors 'a' [offset 0, 64 bytes] and 'b' [offset 32, 32 bytes] overlap");
    expect_invalid(header(2, 0).tensor("t", {4}, 0, 0).tensor("t", {4}, 0, 32).pad(32).zeros(64).b,
                   "duplicate tensor name 't'");
    expect_invalid(header(1, 1).kv_u32("general.alignment", 64).tensor("t", {4}, 0, 32).pad(64).zeros(128).b,
                   "not a multiple of the alignment 64");
}
