/* Load a model, generate text from a prompt and stream it: the C ABI in plain C99.
 *
 *   generate MODEL.gguf "PROMPT" [MAX_TOKENS]
 *
 * Every call returns a status; on failure cwm_last_error() says what went wrong. */
#include <cwm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char* what, cwm_status status) {
    fprintf(stderr, "generate: %s: %s: %s\n", what, cwm_status_name(status), cwm_last_error());
    return 1;
}

static int show_progress(float fraction, void* user_data) {
    (void)user_data;
    fprintf(stderr, "\rloading %3.0f%%", fraction * 100.0f);
    if (fraction >= 1.0f) fputc('\n', stderr);
    return 0; /* nonzero would cancel the load */
}

/* Receives whole UTF-8 characters as they are generated. */
static int print_text(const char* text, size_t len, cwm_token token, void* user_data) {
    size_t* count = (size_t*)user_data;
    (void)token;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    ++*count;
    return 0; /* nonzero would stop generation */
}

int main(int argc, char** argv) {
    cwm_model_params model_params;
    cwm_context_params context_params;
    cwm_sampler_params sampler_params;
    cwm_model* model = NULL;
    cwm_context* ctx = NULL;
    cwm_sampler* sampler = NULL;
    cwm_token* prompt = NULL;
    size_t n_prompt = 0, streamed = 0;
    size_t max_tokens = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 32;
    cwm_status status;
    int rc = 1;

    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.gguf PROMPT [MAX_TOKENS]\n", argv[0]);
        return 2;
    }
    printf("libcwm %s (ABI %u)\n", cwm_version(), (unsigned)cwm_abi_version());

    cwm_model_default_params(&model_params);
    model_params.progress = show_progress;
    if ((status = cwm_model_load(argv[1], &model_params, &model)) != CWM_OK) return fail("load", status);

    /* Ask for the needed size first (the buffer contract of cwm.h), then tokenize. */
    status = cwm_tokenize(model, argv[2], strlen(argv[2]), 1, 0, NULL, 0, &n_prompt);
    if (status != CWM_OK && status != CWM_ERR_BUFFER_TOO_SMALL) {
        rc = fail("tokenize", status);
        goto done;
    }
    prompt = (cwm_token*)malloc((n_prompt ? n_prompt : 1) * sizeof *prompt);
    if (!prompt || (status = cwm_tokenize(model, argv[2], strlen(argv[2]), 1, 0, prompt, n_prompt, &n_prompt)) != CWM_OK) {
        rc = prompt ? fail("tokenize", status) : 1;
        goto done;
    }

    cwm_context_default_params(&context_params);
    context_params.n_ctx = 2048;
    if ((status = cwm_context_new(model, &context_params, &ctx)) != CWM_OK) {
        rc = fail("context", status);
        goto done;
    }
    cwm_sampler_default_params(&sampler_params);
    sampler_params.temperature = 0.7f;
    sampler_params.top_p = 0.95f;
    sampler_params.seed = 42;
    if ((status = cwm_sampler_new(&sampler_params, &sampler)) != CWM_OK) {
        rc = fail("sampler", status);
        goto done;
    }

    fputs(argv[2], stdout);
    status = cwm_generate(ctx, sampler, prompt, n_prompt, max_tokens, print_text, &streamed);
    printf("\n");
    if (status != CWM_OK) {
        rc = fail("generate", status);
        goto done;
    }
    fprintf(stderr, "prompt %zu tokens, %zu pieces streamed, context now %u tokens\n", n_prompt, streamed,
            (unsigned)cwm_context_n_past(ctx));
    rc = 0;
done:
    free(prompt);
    cwm_sampler_free(sampler);
    cwm_context_free(ctx);
    cwm_model_free(model);
    return rc;
}
