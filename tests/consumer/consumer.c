/* A C program using only <cwm.h>: prints the library version, loads the model given as the
 * first argument, tokenizes a string and turns the tokens back into text. */
#include <cwm.h>

#include <stdio.h>
#include <string.h>

static int fail(const char* what, cwm_status status) {
    fprintf(stderr, "%s: %s: %s\n", what, cwm_status_name(status), cwm_last_error());
    return 1;
}

int main(int argc, char** argv) {
    const char* text = "def f(x):\n    return x + 1";
    cwm_model* model = NULL;
    cwm_model_info info;
    cwm_token tokens[256];
    char back[512];
    size_t n_tokens = 0, n_back = 0, i;
    cwm_status st;

    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL.gguf\n", argv[0]);
        return 2;
    }
    printf("cwm %s abi %u (header abi %d)\n", cwm_version(), (unsigned)cwm_abi_version(), CWM_ABI_VERSION);
    st = cwm_model_load(argv[1], NULL, &model);
    if (st != CWM_OK) return fail("cwm_model_load", st);
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    st = cwm_model_get_info(model, &info);
    if (st != CWM_OK) return fail("cwm_model_get_info", st);
    printf("model %s n_vocab %u n_layer %u\n", info.arch, (unsigned)info.n_vocab, (unsigned)info.n_layer);
    st = cwm_tokenize(model, text, strlen(text), 1, 0, tokens, sizeof tokens / sizeof tokens[0], &n_tokens);
    if (st != CWM_OK) return fail("cwm_tokenize", st);
    printf("tokens %u:", (unsigned)n_tokens);
    for (i = 0; i < n_tokens; ++i) printf(" %d", (int)tokens[i]);
    printf("\n");
    st = cwm_detokenize(model, tokens, n_tokens, 0, back, sizeof back, &n_back);
    if (st != CWM_OK) return fail("cwm_detokenize", st);
    printf("round trip %s\n", n_back == strlen(text) && memcmp(back, text, n_back) == 0 ? "ok" : "FAILED");
    cwm_model_free(model);
    return 0;
}
