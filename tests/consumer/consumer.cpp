// A C++ program using only <cwm/cwm.hpp>: the same as consumer.c through the C++ API, plus a
// few greedy tokens (exercising contexts and generation across the library boundary).
#include <cwm/cwm.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s MODEL.gguf\n", argv[0]);
        return 2;
    }
    try {
        const std::string text = "def f(x):\n    return x + 1";
        std::printf("cwm %s abi %u (header abi %d)\n", cwm_version(), cwm_abi_version(), CWM_ABI_VERSION);
        cwm::model model(argv[1]);
        auto info = model.info();
        std::printf("model %s n_vocab %u n_layer %u\n", info.arch, info.n_vocab, info.n_layer);
        auto ids = model.tokenize(text);
        std::printf("tokens %zu:", ids.size());
        for (auto id : ids) std::printf(" %d", id);
        std::printf("\n");
        std::printf("round trip %s\n", model.detokenize(ids) == text ? "ok" : "FAILED");

        auto params = cwm::context::default_params();
        params.n_ctx = 64;
        params.n_threads = 1;
        cwm::context ctx(model, params);
        std::string generated;
        ctx.generate(ids, 4, nullptr, [&](std::string_view, cwm::token t) {
            generated += " " + std::to_string(t);
            return true;
        });
        std::printf("greedy:%s\n", generated.c_str());
        // Errors cross the boundary as statuses and come back as cwm::error.
        try {
            cwm::model missing("/nonexistent/model.gguf");
        } catch (const cwm::error& e) {
            std::printf("error %s\n", cwm_status_name(e.status()));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
