// Safetensors reader and model directories: files written byte by byte here (independently of
// the reader), read back; hostile and inconsistent files and indexes refused with a message.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "error.hpp"
#include "test_files.hpp"
#include "safetensors.hpp"

using namespace cwm;
namespace fs = std::filesystem;

namespace {

using cwm_test::write_bytes;

struct TempDir : cwm_test::TempDir {
    TempDir() : cwm_test::TempDir("cwm_safetensors_test") {}
};

std::string le64(uint64_t v) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[size_t(i)] = char(v >> (8 * i));
    return s;
}

// The file as the format lays it out: length, header padded with spaces to 8 bytes, data.
std::string framed(std::string header, const std::string& data) {
    header.resize((header.size() + 7) / 8 * 8, ' ');
    return le64(header.size()) + header + data;
}

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape, uint64_t begin,
                  uint64_t end) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
           std::to_string(begin) + "," + std::to_string(end) + "]}";
}

// A header object of the given "name":{...} members.
std::string obj(const std::vector<std::string>& members) {
    std::string s = "{";
    for (const std::string& m : members) s += (s.size() > 1 ? "," : "") + m;
    return s + "}";
}

// Bytes 0, 1, 2, ... (mod 251, so that neighbouring tensors differ) starting from `first`.
std::string pattern(size_t n, uint8_t first = 0) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = char((first + i) % 251);
    return s;
}

// A file of U8 tensors of the given sizes, back to back, named in order.
std::string u8_file(const std::vector<std::pair<std::string, size_t>>& tensors) {
    std::vector<std::string> members;
    std::string data;
    for (const auto& [name, n] : tensors) {
        const std::string count = std::to_string(n);
        members.push_back(entry(name, "U8", "[" + count + "]", data.size(), data.size() + n));
        data += pattern(n, uint8_t(data.size()));
    }
    return framed(obj(members), data);
}

// Running `open` must throw Error(status) whose message contains every needle.
template <class Open>
void expect_error(Open open, Status status, const std::vector<std::string>& needles) {
    try {
        open();
    } catch (const Error& e) {
        const std::string message = e.what();
        CHECK_MESSAGE(e.status() == status, message);
        for (const std::string& needle : needles)
            CHECK_MESSAGE(message.find(needle) != std::string::npos, "expected '" << needle << "' in: " << message);
        return;
    }
    FAIL("no error; expected one containing '" << needles.front() << "'");
}

// Writes `bytes` as a file and checks that opening it fails naming the file and `needle`.
void expect_file_error(const std::string& bytes, const std::string& needle, Status status = Status::invalid_file) {
    TempDir dir;
    const std::string path = dir.file("bad.safetensors");
    write_bytes(path, bytes);
    expect_error([&] { SafetensorsFile f(path); }, status, {path, needle});
}

std::string bytes_of(const SafetensorsTensor& t) { return {reinterpret_cast<const char*>(t.data), t.n_bytes}; }

// Resident kB of the mapping that contains `p`, from /proc/self/smaps.
uint64_t mapping_rss_kb(const void* p) {
    const auto addr = reinterpret_cast<uintptr_t>(p);
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool inside = false;
    while (std::getline(smaps, line)) {
        uintptr_t begin = 0, end = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx ", &begin, &end) == 2) inside = begin <= addr && addr < end;
        unsigned long kb = 0;
        if (inside && std::sscanf(line.c_str(), "Rss: %lu kB", &kb) == 1) return kb;
    }
    FAIL("no mapping holds " << p);
    return 0;
}

}  // namespace

TEST_CASE("safetensors: a valid file reads back dtype, shape, bytes and metadata") {
    // Deliberately out of offset order in the header, with a scalar, an empty tensor, a
    // misaligned F32 and trailing header spaces.
    const std::string header =
        obj({"\"__metadata__\":{\"format\":\"pt\",\"note\":\"x\"}", entry("w", "BF16", "[2,3]", 3, 15),
             entry("b", "U8", "[3]", 0, 3), entry("s", "F16", "[]", 15, 17), entry("e", "I64", "[0,5]", 17, 17),
             entry("f", "F32", "[2]", 17, 25)}) +
        "    ";
    const std::string data = pattern(25);
    TempDir dir;
    const std::string path = dir.file("model.safetensors");
    write_bytes(path, framed(header, data));

    const SafetensorsFile f(path);
    CHECK(f.path() == path);
    CHECK(f.data_offset() == 8 + (header.size() + 7) / 8 * 8);
    CHECK(f.file_size() == f.data_offset() + 25);
    CHECK(f.metadata() == std::map<std::string, std::string>{{"format", "pt"}, {"note", "x"}});
    REQUIRE(f.tensors().size() == 5);
    std::vector<std::string> order;
    for (const SafetensorsTensor& t : f.tensors()) order.push_back(t.name);
    CHECK(order == std::vector<std::string>{"b", "w", "s", "e", "f"});  // by offset, the empty one first

    const SafetensorsTensor* w = f.find_tensor("w");
    REQUIRE(w != nullptr);
    CHECK(w->dtype == SafetensorsDType::bf16);
    CHECK(std::string(safetensors_dtype_name(w->dtype)) == "BF16");
    CHECK(safetensors_dtype_size(w->dtype) == 2);
    CHECK(w->shape == std::vector<uint64_t>{2, 3});
    CHECK(w->n_elements() == 6);
    CHECK(w->offset == 3);
    CHECK(bytes_of(*w) == data.substr(3, 12));
    const SafetensorsTensor* s = f.find_tensor("s");
    REQUIRE(s != nullptr);
    CHECK(s->shape.empty());
    CHECK(s->n_elements() == 1);
    CHECK(bytes_of(*s) == data.substr(15, 2));
    const SafetensorsTensor* e = f.find_tensor("e");
    REQUIRE(e != nullptr);
    CHECK(e->dtype == SafetensorsDType::i64);
    CHECK(e->n_bytes == 0);
    CHECK(e->n_elements() == 0);
    const SafetensorsTensor* f32 = f.find_tensor("f");
    REQUIRE(f32 != nullptr);
    float v[2];
    std::memcpy(v, f32->data, sizeof v);  // at an odd offset: the format does not align
    CHECK(std::memcmp(v, data.data() + 17, 8) == 0);
    CHECK(f.find_tensor("missing") == nullptr);
}

TEST_CASE("safetensors: a header with no tensors and no data is valid, and null metadata is none") {
    TempDir dir;
    for (const char* header : {"{}", "{\"__metadata__\":null}"}) {
        write_bytes(dir.file("empty.safetensors"), framed(header, ""));
        const SafetensorsFile f(dir.file("empty.safetensors"));
        CHECK(f.tensors().empty());
        CHECK(f.metadata().empty());
    }
}

TEST_CASE("safetensors: file and header length problems") {
    const std::string good = u8_file({{"a", 16}, {"b", 16}});
    expect_file_error("", "too short for the 8-byte header length");
    expect_file_error(good.substr(0, 5), "too short for the 8-byte header length");
    expect_file_error(le64(0) + "{}", "header length is 0");
    expect_file_error(le64(100'000'001) + "{}", "exceeds the format's limit");
    expect_file_error(le64(1000) + "{}      ", "truncated: the header length is 1000 bytes but only 8");
    expect_file_error(good.substr(0, 20), "truncated: the header length");         // cut in the header
    expect_file_error(good.substr(0, good.size() - 1), "run past the end of the data section");  // cut in the data
}

TEST_CASE("safetensors: malformed headers") {
    expect_file_error(framed("{not json", ""), "header is not valid JSON");
    expect_file_error(framed("{\"a\":1} x", ""), "header is not valid JSON");
    expect_file_error(framed("[1, 2]", ""), "header does not start with '{'");
    expect_file_error(framed("{\"a\":\"\xff\"}", ""), "header is not valid JSON");  // not UTF-8
    expect_file_error(framed("{\"a\":5}", ""), "tensor 'a': entry is not an object (found 5)");
    expect_file_error(framed("{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}", "x"), "tensor 'a': missing \"dtype\"");
    expect_file_error(framed("{\"a\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", "x"), "missing \"shape\"");
    expect_file_error(framed("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", "x"), "missing \"data_offsets\"");
    expect_file_error(framed(obj({entry("a", "U8", "[1]", 0, 1), "\"__metadata__\":{\"k\":1}"}), "x"),
                      "\"__metadata__\" value of 'k' is not a string (found 1)");
    expect_file_error(framed("{\"__metadata__\":[]}", ""), "\"__metadata__\" is not an object");
    expect_file_error(framed("{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,1]}}", "x"),
                      "\"dtype\" is not a string (found 7)");
    expect_file_error(framed("{\"a\":{\"dtype\":\"U8\",\"shape\":\"1\",\"data_offsets\":[0,1]}}", "x"),
                      "\"shape\" is not an array (found string)");
    expect_file_error(framed("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", "x"),
                      "\"data_offsets\" has 3 numbers");
    expect_file_error(framed(obj({entry("a", "U8", "[1]", 0, 1), "\"b\":{\"x\":[[1]]}"}), "x"),
                      "nested more than 3 levels deep");
}

TEST_CASE("safetensors: duplicate keys are refused, not silently collapsed") {
    const std::string a = entry("a", "U8", "[1]", 0, 1);
    expect_file_error(framed(obj({a, a}), "x"), "header: duplicate key 'a'");
    expect_file_error(framed("{\"a\":{\"dtype\":\"U8\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1]}}", "x"),
                      "duplicate key 'dtype' in 'a'");
}

TEST_CASE("safetensors: bad dtypes and shapes") {
    expect_file_error(framed(obj({entry("a", "Q4", "[2]", 0, 1)}), "x"), "tensor 'a': dtype 'Q4' is not supported",
                      Status::unsupported);
    expect_file_error(framed(obj({entry("a", "U8", "[-1]", 0, 1)}), "x"),
                      "\"shape\" holds -1, not an integer in [0, 2^64)");
    expect_file_error(framed(obj({entry("a", "U8", "[2.0]", 0, 2)}), "xx"), "\"shape\" holds 2.0");
    expect_file_error(framed(obj({entry("a", "U8", "[18446744073709551616]", 0, 1)}), "x"), "\"shape\" holds");
    expect_file_error(framed(obj({entry("a", "U8", "[4294967296,4294967296]", 0, 1)}), "x"),
                      "shape [4294967296, 4294967296] of U8 exceeds 2^64 bytes");
    expect_file_error(framed(obj({entry("a", "BF16", "[2147483648,4294967296]", 0, 1)}), "x"),
                      "exceeds 2^64 bytes");  // the element count fits, the byte count does not
    expect_file_error(framed(obj({entry("a", "F32", "[2,3]", 0, 20)}), pattern(20)),
                      "tensor 'a': shape [2, 3] of F32 takes 24 bytes but data_offsets [0, 20] hold 20");
}

TEST_CASE("safetensors: offsets must tile the data section") {
    const std::string data = pattern(16);
    expect_file_error(framed(obj({entry("a", "U8", "[0]", 9, 8)}), data), "data_offsets [9, 8] begin after");
    expect_file_error(framed(obj({entry("a", "U8", "[20]", 0, 20)}), data),
                      "tensor 'a': data_offsets [0, 20] run past the end of the data section (16 bytes)");
    expect_file_error(framed(obj({entry("a", "U8", "[10]", 0, 10), entry("b", "U8", "[10]", 6, 16)}), data),
                      "tensors 'a' [0, 10) and 'b' [6, 16) overlap");
    expect_file_error(framed(obj({entry("a", "U8", "[8]", 0, 8), entry("b", "U8", "[8]", 0, 8)}), data.substr(8)),
                      "overlap");
    expect_file_error(framed(obj({entry("a", "U8", "[6]", 0, 6), entry("b", "U8", "[8]", 8, 16)}), data),
                      "bytes [6, 8) of the data section belong to no tensor");
    expect_file_error(framed(obj({entry("a", "U8", "[8]", 4, 12)}), data.substr(0, 12)), "bytes [0, 4) of the data");
    expect_file_error(framed(obj({entry("a", "U8", "[8]", 0, 8)}), data), "bytes [8, 16) at the end of the data");
    expect_file_error(framed("{}", "x"), "bytes [0, 1) at the end of the data section");
}

TEST_CASE("safetensors: release() drops pages and keeps the data readable") {
    const size_t page = size_t(::sysconf(_SC_PAGESIZE));
    TempDir dir;
    const std::string path = dir.file("big.safetensors");
    const std::string file = u8_file({{"head", 100}, {"big", 16 * page + 17}, {"tail", 5}});
    write_bytes(path, file);
    const SafetensorsFile f(path);
    std::vector<std::string> before;
    for (const SafetensorsTensor& t : f.tensors()) before.push_back(bytes_of(t));  // every page now resident
    const SafetensorsTensor& big = *f.find_tensor("big");
    const uint64_t rss_before = mapping_rss_kb(big.data);
    f.release(big);
    CHECK(rss_before - mapping_rss_kb(big.data) >= 15 * page / 1024);  // at least 15 whole pages lie inside
    for (const SafetensorsTensor& t : f.tensors()) f.release(t);
    for (size_t i = 0; i < f.tensors().size(); ++i) CHECK(bytes_of(f.tensors()[i]) == before[i]);
    CHECK(bytes_of(big) == file.substr(f.data_offset() + 100, 16 * page + 17));

    SafetensorsTensor foreign = *f.find_tensor("big");
    std::string heap(16, 'x');
    foreign.data = reinterpret_cast<const uint8_t*>(heap.data());
    expect_error([&] { f.release(foreign); }, Status::invalid_argument, {"is not inside this file"});
    foreign = *f.find_tensor("tail");
    foreign.n_bytes += 1;  // one byte past the mapping
    expect_error([&] { f.release(foreign); }, Status::invalid_argument, {"is not inside this file"});
}

TEST_CASE("safetensors checkpoint: a single model.safetensors") {
    TempDir dir;
    write_bytes(dir.file("model.safetensors"), u8_file({{"x", 4}, {"y", 2}}));
    const SafetensorsCheckpoint c(dir.path.string());
    CHECK(c.tensor_names() == std::vector<std::string>{"x", "y"});
    const SafetensorsCheckpoint::Entry* y = c.find("y");
    REQUIRE(y != nullptr);
    CHECK(y->file->path() == dir.file("model.safetensors"));
    CHECK(bytes_of(*y->tensor) == pattern(2, 4));
    CHECK(c.find("z") == nullptr);
    c.release("y");
    CHECK(bytes_of(*y->tensor) == pattern(2, 4));
    expect_error([&] { c.release("z"); }, Status::not_found, {"no tensor 'z'"});

    TempDir empty;
    expect_error([&] { SafetensorsCheckpoint bad(empty.path.string()); }, Status::io_error,
                 {"neither model.safetensors.index.json nor model.safetensors exists"});
}

namespace {

// Two shards: s1 holds a, b; s2 holds c. `weight_map` is the JSON object body.
struct Sharded {
    TempDir dir;
    Sharded() {
        write_bytes(dir.file("s1.safetensors"), u8_file({{"b", 3}, {"a", 5}}));
        write_bytes(dir.file("s2.safetensors"), u8_file({{"c", 7}}));
    }
    void index(const std::string& weight_map) const {
        write_bytes(dir.file("model.safetensors.index.json"),
                    "{\"metadata\":{\"total_size\":15},\"weight_map\":{" + weight_map + "}}");
    }
    std::string index_path() const { return dir.file("model.safetensors.index.json"); }
    void expect(Status status, const std::vector<std::string>& needles) const {
        expect_error([&] { SafetensorsCheckpoint c(dir.path.string()); }, status, needles);
    }
};

const std::string kGoodMap = R"("a":"s1.safetensors","b":"s1.safetensors","c":"s2.safetensors")";

}  // namespace

TEST_CASE("safetensors checkpoint: shards named by the index") {
    const Sharded s;
    s.index(kGoodMap);
    write_bytes(s.dir.file("model.safetensors"), u8_file({{"ignored", 1}}));  // the index wins
    const SafetensorsCheckpoint c(s.dir.path.string());
    CHECK(c.directory() == s.dir.path.string());
    CHECK(c.tensor_names() == std::vector<std::string>{"b", "a", "c"});  // shard, then offset order
    const SafetensorsCheckpoint::Entry* a = c.find("a");
    const SafetensorsCheckpoint::Entry* cc = c.find("c");
    REQUIRE((a != nullptr && cc != nullptr));
    CHECK(a->file->path() == s.dir.file("s1.safetensors"));
    CHECK(cc->file->path() == s.dir.file("s2.safetensors"));
    CHECK(bytes_of(*a->tensor) == pattern(5, 3));
    CHECK(bytes_of(*cc->tensor) == pattern(7, 0));
    CHECK(c.find("ignored") == nullptr);
    for (const std::string& name : c.tensor_names()) c.release(name);
    CHECK(bytes_of(*a->tensor) == pattern(5, 3));
}

TEST_CASE("safetensors checkpoint: an index that disagrees with its shards is refused") {
    const Sharded s;
    s.index(kGoodMap + R"(,"d":"s3.safetensors")");
    s.expect(Status::io_error, {s.dir.file("s3.safetensors"), "cannot open"});

    s.index(kGoodMap + R"(,"d":"s2.safetensors")");
    s.expect(Status::invalid_file,
             {s.index_path(), "tensor 'd' listed in the index for shard 's2.safetensors' is not in it"});

    s.index(R"("a":"s1.safetensors","c":"s2.safetensors")");
    s.expect(Status::invalid_file, {"tensor 'b' of shard 's1.safetensors' is not listed in the index"});

    write_bytes(s.dir.file("s2.safetensors"), u8_file({{"c", 7}, {"a", 5}}));  // a in both shards
    s.index(kGoodMap);
    s.expect(Status::invalid_file,
             {s.index_path(), "tensor 'a' is in two shards, 's1.safetensors' (where the index puts it) and "
                              "'s2.safetensors'"});
    s.index(R"("a":"s2.safetensors","b":"s1.safetensors","c":"s2.safetensors")");
    s.expect(Status::invalid_file,
             {"tensor 'a' is in two shards, 's2.safetensors' (where the index puts it) and 's1.safetensors'"});
    s.index(kGoodMap + R"(,"a":"s2.safetensors")");  // JSON would otherwise keep only the last
    s.expect(Status::invalid_file, {s.index_path(), "duplicate key 'a' in 'weight_map'"});
}

TEST_CASE("safetensors checkpoint: shard names must stay inside the directory") {
    const Sharded s;
    for (const std::string shard : {"../x", "/etc/passwd", "sub/s1.safetensors", "..", ".", ""}) {
        s.index(kGoodMap + ",\"d\":\"" + shard + "\"");
        s.expect(Status::invalid_file, {"tensor 'd' is in shard \"" + shard + "\", which is not a plain file name"});
    }
    s.index(kGoodMap + R"(,"d":"s1\u0000")");
    s.expect(Status::invalid_file, {R"(shard "s1\u0000", which is not a plain file name)"});
}

TEST_CASE("safetensors checkpoint: malformed indexes") {
    const Sharded s;
    write_bytes(s.index_path(), "{\"weight_map\":");
    s.expect(Status::invalid_file, {s.index_path(), "is not valid JSON"});
    write_bytes(s.index_path(), "{\"metadata\":{}}");
    s.expect(Status::invalid_file, {"no \"weight_map\" object"});
    write_bytes(s.index_path(), "[1]");
    s.expect(Status::invalid_file, {"no \"weight_map\" object"});
    s.index(R"("a":1)");
    s.expect(Status::invalid_file, {"weight_map entry of tensor 'a' is not a string (found number)"});
}
