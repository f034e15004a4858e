/* libcwm: CPU inference for CWM-family (Code World Model) language models.
 *
 * The C ABI. Conventions, for every function below unless its comment says otherwise:
 *   - The return value is a cwm_status; CWM_OK (0) means success. On failure a message
 *     describing the problem is available from cwm_last_error() on the same thread, and
 *     output parameters are left untouched.
 *   - Handles are opaque; the object behind a handle is owned by the caller once a *_new /
 *     *_load call returned it, and released with the matching *_free (which accepts NULL).
 *   - Parameter structs carry their own `size` (set by cwm_*_default_params) so that fields
 *     can be appended in later versions without breaking callers compiled against older ones.
 *   - Strings are UTF-8. Nothing here prints, aborts or lets a C++ exception escape.
 *
 * Thread safety: a cwm_model is immutable after loading and may be shared by any number of
 * threads and contexts: each thread may load, query, tokenize with and create contexts on the
 * same model at once. A cwm_context or cwm_sampler must be used by one thread at a time; the one
 * exception is cwm_context_cancel, which any thread may call at any time. Different contexts
 * are independent and may run at once (each has its own threads). cwm_last_error is per thread.
 */
#ifndef CWM_H
#define CWM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CWM_API __attribute__((visibility("default")))
#else
#define CWM_API
#endif

/* Bumped whenever a change breaks binary compatibility. */
#define CWM_ABI_VERSION 1

typedef enum cwm_status {
    CWM_OK = 0,
    CWM_ERR_INVALID_ARGUMENT = 1, /* a bad handle, id, option or NULL pointer */
    CWM_ERR_IO = 2,               /* a file could not be opened, read or written */
    CWM_ERR_INVALID_FILE = 3,     /* a model/tokenizer file is malformed, truncated or hostile */
    CWM_ERR_UNSUPPORTED = 4,      /* well-formed, but not supported (architecture, tensor type) */
    CWM_ERR_OUT_OF_MEMORY = 5,
    CWM_ERR_CONTEXT_FULL = 6,     /* more tokens than the context holds */
    CWM_ERR_CANCELLED = 7,        /* a callback asked to stop */
    CWM_ERR_INTERNAL = 8,         /* a bug in libcwm */
    CWM_ERR_BUFFER_TOO_SMALL = 9, /* an output buffer is too small; the needed size is reported */
    CWM_ERR_NOT_FOUND = 10        /* a looked-up name (metadata key, token text) does not exist */
} cwm_status;

typedef int32_t cwm_token;
typedef struct cwm_model cwm_model;
typedef struct cwm_context cwm_context;
typedef struct cwm_sampler cwm_sampler;
typedef struct cwm_tokenizer cwm_tokenizer;

/* The message of the last failed call on this thread ("" if none). Valid until the next
 * libcwm call on this thread. */
CWM_API const char* cwm_last_error(void);
/* A static string naming a status, e.g. "CWM_ERR_IO". */
CWM_API const char* cwm_status_name(cwm_status status);
/* Library version "MAJOR.MINOR.PATCH" (static string) and CWM_ABI_VERSION of the library. */
CWM_API const char* cwm_version(void);
CWM_API uint32_t cwm_abi_version(void);

/* ---- models ------------------------------------------------------------------------ */

/* Progress callback: `fraction` in [0, 1]. Return nonzero to cancel (CWM_ERR_CANCELLED). */
typedef int (*cwm_progress_fn)(float fraction, void* user_data);

typedef enum cwm_log_level { CWM_LOG_DEBUG = 0, CWM_LOG_INFO = 1, CWM_LOG_WARN = 2 } cwm_log_level;
/* Receives what the library would otherwise print (it never prints): one line without a
 * trailing newline, valid only during the call. Called on the thread doing the work. */
typedef void (*cwm_log_fn)(cwm_log_level level, const char* message, void* user_data);

/* The local/global attention layout a model runs with. CWM alternates sliding-window ("local")
 * and full-context ("global") layers; a `cwm` GGUF file states the layout, a `llama` one cannot
 * (every layer global), and community GGUF files of CWM exist under `llama`. Run such a file
 * with CWM_ATTENTION_CWM, or rewrite it once with cwm_convert_gguf. */
typedef enum cwm_attention_layout {
    CWM_ATTENTION_FROM_FILE = 0, /* what the file says: a `cwm` file's pattern key (CWM's rule
                                    without one) and window; a `llama` file: every layer global */
    CWM_ATTENTION_CWM = 1,       /* CWM's documented layout whatever the file says: layer i is
                                    global when i % 4 == 0, and the last layer is global; all
                                    others are local with `sliding_window`. On a `cwm` file this
                                    replaces the file's pattern and window the same way. */
    CWM_ATTENTION_GLOBAL = 2     /* every layer global (a `cwm` file run as plain Llama) */
} cwm_attention_layout;

typedef struct cwm_model_params {
    size_t size; /* sizeof(cwm_model_params) */
    cwm_progress_fn progress;
    void* progress_user_data;
    /* Since ABI 1 as well: where loading this model and creating its contexts report what
     * they did (file, layout, kernels chosen, memory). NULL: nothing is reported. */
    cwm_log_fn log;
    void* log_user_data;
    /* Since ABI 1 as well (read only when `size` covers them; an older caller's struct loads
     * the file's layout): the attention layout to run with (default CWM_ATTENTION_FROM_FILE)
     * and, with CWM_ATTENTION_CWM only, the window of its local layers (0: CWM's 8192). A
     * value outside the enum, a nonzero window with another layout or a window longer than the
     * model's context give CWM_ERR_INVALID_ARGUMENT. cwm_model_get_info (n_local_layers,
     * window; `arch` stays the file's), cwm_model_layer_is_local, contexts and saved states then
     * follow the applied layout; the metadata functions still show the file's keys, and the log
     * says which layout was applied and what the file said. */
    cwm_attention_layout attention;
    uint32_t sliding_window;
} cwm_model_params;

CWM_API void cwm_model_default_params(cwm_model_params* params);
/* Loads a GGUF model (mapped, not copied). `params` may be NULL for defaults. */
CWM_API cwm_status cwm_model_load(const char* path, const cwm_model_params* params, cwm_model** out_model);
CWM_API void cwm_model_free(cwm_model* model);

typedef struct cwm_model_info {
    size_t size;         /* set by the caller to sizeof(cwm_model_info) */
    const char* arch;    /* "llama" or "cwm"; valid while the model lives */
    uint32_t n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff;
    uint32_t n_local_layers, window; /* sliding-window layers and their window (0 if none) */
    uint64_t file_bytes, weight_bytes;
    cwm_token bos, eos;  /* -1 when the vocabulary has none */
} cwm_model_info;

CWM_API cwm_status cwm_model_get_info(const cwm_model* model, cwm_model_info* info);
/* Whether layer `layer` uses sliding-window (local) attention. */
CWM_API cwm_status cwm_model_layer_is_local(const cwm_model* model, uint32_t layer, int* out_local);

/* Metadata: keys in file order; values rendered as text (arrays abbreviated after
 * `max_items` items, 0 = all). String outputs follow the buffer contract below. */
CWM_API size_t cwm_model_meta_count(const cwm_model* model);
CWM_API cwm_status cwm_model_meta_key(const cwm_model* model, size_t index, const char** out_key);
CWM_API cwm_status cwm_model_meta_value(const cwm_model* model, const char* key, size_t max_items, char* buf,
                                        size_t buf_size, size_t* out_len);

typedef struct cwm_tensor_info {
    size_t size; /* set by the caller to sizeof(cwm_tensor_info) */
    const char* name; /* valid while the model lives */
    const char* type; /* e.g. "f16" */
    uint32_t n_dims;
    uint64_t ne[4];   /* ggml order: ne[0] is the contiguous dimension */
    uint64_t offset, n_bytes;
} cwm_tensor_info;

CWM_API size_t cwm_model_tensor_count(const cwm_model* model);
CWM_API cwm_status cwm_model_tensor_info(const cwm_model* model, size_t index, cwm_tensor_info* info);

/* The file's own chat template (metadata `tokenizer.chat_template`, usually Jinja) under the
 * buffer contract below; "" when the file has none. CWM's chat format is also rendered
 * natively by cwm_chat_render. */
CWM_API cwm_status cwm_model_chat_template(const cwm_model* model, char* buf, size_t buf_size, size_t* out_len);

/* ---- tokens ------------------------------------------------------------------------ */

/* Buffer contract for every function that writes into a caller's buffer: `*out_len` (never
 * NULL) receives the full length needed (tokens, or bytes without a terminating NUL). If
 * the buffer is too small the call returns CWM_ERR_BUFFER_TOO_SMALL and writes nothing
 * else; call again with a buffer of at least `*out_len`. Text outputs are NUL-terminated
 * when buf_size > *out_len. */

/* A tokenizer on its own, without weights: from a GGUF file (its tokenizer.* keys), a Hugging
 * Face tokenizer.json, a tiktoken tokenizer.model or a SentencePiece .model (chosen by
 * content). Free with cwm_tokenizer_free. Thread safety as a model's: immutable, shareable. */
CWM_API cwm_status cwm_tokenizer_load(const char* path, cwm_tokenizer** out_tokenizer);
/* Frees a tokenizer from cwm_tokenizer_load; a model's own (cwm_model_get_tokenizer) is left
 * to cwm_model_free and ignored here, as is NULL. */
CWM_API void cwm_tokenizer_free(cwm_tokenizer* tokenizer);
/* The model's tokenizer, valid while the model lives (NULL for a NULL model). */
CWM_API const cwm_tokenizer* cwm_model_get_tokenizer(const cwm_model* model);
/* Vocabulary size, BOS and EOS (-1 when the vocabulary has none); 0 / -1 for NULL. */
CWM_API size_t cwm_tokenizer_n_vocab(const cwm_tokenizer* tokenizer);
CWM_API cwm_token cwm_tokenizer_bos(const cwm_tokenizer* tokenizer);
CWM_API cwm_token cwm_tokenizer_eos(const cwm_tokenizer* tokenizer);
/* The id of the token whose vocabulary text is exactly `text` (NUL-terminated), e.g.
 * "<|frame_sep|>": special tokens are found by name, never by a fixed id.
 * CWM_ERR_NOT_FOUND when there is none. */
CWM_API cwm_status cwm_tokenizer_find(const cwm_tokenizer* tokenizer, const char* text, cwm_token* out_token);
/* Encodes UTF-8 text (`len` bytes; need not be NUL-terminated). `add_bos` prepends BOS when
 * the vocabulary asks for it; `parse_special` turns special-token texts such as
 * "<|eot_id|>" into their ids. Invalid UTF-8 gives CWM_ERR_INVALID_ARGUMENT. */
CWM_API cwm_status cwm_tokenizer_encode(const cwm_tokenizer* tokenizer, const char* text, size_t len, int add_bos,
                                        int parse_special, cwm_token* tokens, size_t max_tokens, size_t* out_len);
/* The bytes of one token, which may be part of a UTF-8 character (use cwm_tokenizer_decode
 * or a generation stream to get whole characters). Special tokens give their text only when
 * `render_special`. */
CWM_API cwm_status cwm_tokenizer_token_to_bytes(const cwm_tokenizer* tokenizer, cwm_token token, int render_special,
                                                char* buf, size_t buf_size, size_t* out_len);
/* Whole text of a token sequence; incomplete or invalid UTF-8 becomes U+FFFD. */
CWM_API cwm_status cwm_tokenizer_decode(const cwm_tokenizer* tokenizer, const cwm_token* tokens, size_t n_tokens,
                                        int render_special, char* buf, size_t buf_size, size_t* out_len);
/* Whether `token` ends generation (end of text, end of turn, ...). */
CWM_API int cwm_tokenizer_is_stop(const cwm_tokenizer* tokenizer, cwm_token token);

/* The same four through a model's own tokenizer. */
CWM_API cwm_status cwm_tokenize(const cwm_model* model, const char* text, size_t len, int add_bos, int parse_special,
                                cwm_token* tokens, size_t max_tokens, size_t* out_len);
CWM_API cwm_status cwm_token_to_bytes(const cwm_model* model, cwm_token token, int render_special, char* buf,
                                      size_t buf_size, size_t* out_len);
CWM_API cwm_status cwm_detokenize(const cwm_model* model, const cwm_token* tokens, size_t n_tokens,
                                  int render_special, char* buf, size_t buf_size, size_t* out_len);
CWM_API int cwm_token_is_stop(const cwm_model* model, cwm_token token);

/* ---- chat -------------------------------------------------------------------------- */

typedef struct cwm_chat_message {
    const char* role;    /* "system", "user", "assistant" or "tool: NAME" (NUL-terminated UTF-8) */
    const char* content; /* NUL-terminated UTF-8 */
} cwm_chat_message;

typedef struct cwm_chat_params {
    size_t size;               /* sizeof(cwm_chat_params) */
    int reasoning;             /* CWM's reasoning mode: its <think> system instruction and prompt */
    int add_generation_prompt; /* end with the assistant header (default 1) */
} cwm_chat_params;

CWM_API void cwm_chat_default_params(cwm_chat_params* params);
/* Renders messages in CWM's chat format (docs/api.md, "Chat"): <|begin_of_text|>, then per message
 * <|start_header_id|>ROLE<|end_header_id|>\n\nBODY<|eot_id|>, bodies stripped except tool
 * results; CWM's system prompt is added when the first message is not a system one (in
 * reasoning mode a caller's system text follows the reasoning instruction). Tokenize the
 * result with parse_special. Output under the buffer contract. CWM_ERR_INVALID_ARGUMENT names
 * the message with an unknown role, a late system message, invalid UTF-8 or a header token
 * inside a body. `params` may be NULL for defaults. */
CWM_API cwm_status cwm_chat_render(const cwm_chat_message* messages, size_t n_messages, const cwm_chat_params* params,
                                   char* buf, size_t buf_size, size_t* out_len);

/* ---- contexts ---------------------------------------------------------------------- */

typedef struct cwm_context_params {
    size_t size;       /* sizeof(cwm_context_params) */
    uint32_t n_ctx;    /* 0: the model's training context */
    int32_t n_threads; /* 0: one per physical core */
    uint32_t n_batch;  /* tokens per forward pass (default 512) */
} cwm_context_params;

CWM_API void cwm_context_default_params(cwm_context_params* params);
CWM_API cwm_status cwm_context_new(const cwm_model* model, const cwm_context_params* params, cwm_context** out_ctx);
CWM_API void cwm_context_free(cwm_context* ctx);
/* Forgets every evaluated token. */
CWM_API void cwm_context_clear(cwm_context* ctx);
/* Keeps only the first `n_past` evaluated tokens (to re-evaluate a changed tail, or step back).
 * Sliding-window layers keep only n_batch positions beyond their window, so a model with them
 * can go back at most cwm_context_max_rewind() tokens: more gives CWM_ERR_INVALID_ARGUMENT
 * (save and restore a state instead). The logits of the last decode are dropped. */
CWM_API cwm_status cwm_context_truncate(cwm_context* ctx, uint32_t n_past);
/* How many tokens cwm_context_truncate can take back now (at least n_batch, or all). */
CWM_API uint32_t cwm_context_max_rewind(const cwm_context* ctx);
CWM_API uint32_t cwm_context_n_past(const cwm_context* ctx);
CWM_API uint32_t cwm_context_n_ctx(const cwm_context* ctx);
/* Threads the context computes with (its own pool, including the calling thread). */
CWM_API int32_t cwm_context_n_threads(const cwm_context* ctx);
/* The evaluated tokens, under the buffer contract below. */
CWM_API cwm_status cwm_context_tokens(const cwm_context* ctx, cwm_token* tokens, size_t max_tokens, size_t* out_len);

/* Cancels the cwm_decode or cwm_generate running on `ctx` in another thread: it returns
 * CWM_ERR_CANCELLED within one layer's computation. Tokens of the batches a decode already
 * finished (n_batch each) stay evaluated; a generation keeps every token it streamed. Safe to
 * call from any thread at any time, also when nothing runs (then it has no effect: each
 * cwm_decode / cwm_generate call starts uncancelled). NULL is ignored. */
CWM_API void cwm_context_cancel(cwm_context* ctx);

/* ---- context state: save and restore (prompt caching) ------------------------------- */

/* A context's state is its evaluated tokens, their KV-cache rows and the last logits row: a
 * versioned, checksummed blob that names the model it belongs to. Restoring it into a context
 * on the same model (any n_ctx large enough, any n_batch or n_threads) continues exactly as the
 * saved context would; a long prompt prefix is then evaluated once and restored per request.
 * Its size grows with the tokens: n_layer * 2 * n_head_kv * head_dim * 2 bytes per token (less
 * on sliding-window layers), plus 4 * n_vocab for the logits. */

/* Bytes cwm_context_state_save needs now. */
CWM_API cwm_status cwm_context_state_size(const cwm_context* ctx, size_t* out_size);
/* Writes the state into `buf` under the buffer contract below (`*out_len` = bytes). */
CWM_API cwm_status cwm_context_state_save(const cwm_context* ctx, void* buf, size_t buf_size, size_t* out_len);
/* Replaces the context's tokens, KV cache and logits with a saved state. On failure the
 * context is unchanged: CWM_ERR_INVALID_FILE for a damaged state (magic, version, length,
 * checksum), CWM_ERR_INVALID_ARGUMENT for a state of another model or layer layout,
 * CWM_ERR_CONTEXT_FULL when it holds more tokens than this context's n_ctx. */
CWM_API cwm_status cwm_context_state_load(cwm_context* ctx, const void* data, size_t len);
/* The same through a file; the file appears only when completely written (no partial file).
 * CWM_ERR_IO when it cannot be written or read. */
CWM_API cwm_status cwm_context_state_save_file(const cwm_context* ctx, const char* path);
CWM_API cwm_status cwm_context_state_load_file(cwm_context* ctx, const char* path);

/* Evaluates `n_tokens` tokens after those already in the context and makes the logits of
 * the last `n_logits` of them available through cwm_get_logits (n_logits <= n_tokens).
 * CWM_ERR_CONTEXT_FULL if they do not fit and CWM_ERR_INVALID_ARGUMENT for an id outside the
 * vocabulary: the evaluated tokens are then unchanged, but the previous logits are no longer
 * available. */
CWM_API cwm_status cwm_decode(cwm_context* ctx, const cwm_token* tokens, size_t n_tokens, size_t n_logits);
/* Logits of the i-th of the last decode's n_logits rows (n_vocab floats), valid until the
 * next cwm_decode or cwm_context_free. */
CWM_API cwm_status cwm_get_logits(const cwm_context* ctx, size_t i, const float** out_logits);

/* ---- sampling and generation ------------------------------------------------------- */

/* A sampler is a chain of stages applied in this order (llama.cpp's default chain), each off at
 * its neutral value: repetition penalty (over the last repeat_last_n accepted tokens) -> greedy
 * argmax when temperature <= 0 -> top-k -> top-p -> min-p (both at temperature 1) -> a seeded
 * draw from softmax(logit / temperature). The same seed, parameters and accepted tokens always
 * give the same choices. */
typedef struct cwm_sampler_params {
    size_t size;          /* sizeof(cwm_sampler_params) */
    float temperature;    /* <= 0: greedy */
    int32_t top_k;        /* 0: off */
    float top_p;          /* 1: off */
    float min_p;          /* 0: off */
    float repeat_penalty; /* 1: off */
    int32_t repeat_last_n;
    uint64_t seed;
} cwm_sampler_params;

CWM_API void cwm_sampler_default_params(cwm_sampler_params* params);
CWM_API cwm_status cwm_sampler_new(const cwm_sampler_params* params, cwm_sampler** out_sampler);
CWM_API void cwm_sampler_free(cwm_sampler* sampler);
CWM_API cwm_status cwm_sampler_sample(cwm_sampler* sampler, const float* logits, size_t n_vocab, cwm_token* out_token);
/* Adds a token to the sampler's history (for the repetition penalty). */
CWM_API cwm_status cwm_sampler_accept(cwm_sampler* sampler, cwm_token token);

/* Receives generated text in whole UTF-8 characters (`len` bytes, not NUL-terminated; may
 * be 0 when a token completes no character yet) and the token that produced it. Return
 * nonzero to stop generation (cwm_generate then returns CWM_OK). A last call with token -1
 * may follow the final token: it flushes an incomplete UTF-8 tail as U+FFFD, and its return
 * value is ignored. */
typedef int (*cwm_stream_fn)(const char* text, size_t len, cwm_token token, void* user_data);

/* Evaluates `prompt` (may be empty to continue from the last logits), then samples up to
 * `max_tokens` tokens, stopping early at a stop token (which is not streamed nor evaluated).
 * `sampler` may be NULL for greedy. The context then holds the prompt and every streamed token
 * with the logits after the last, ready to continue with an empty prompt; except when on_text
 * stopped generation or it was cancelled (cwm_context_cancel, from another thread: returns
 * CWM_ERR_CANCELLED), when the last streamed token may not be evaluated (cwm_context_tokens
 * tells). */
CWM_API cwm_status cwm_generate(cwm_context* ctx, cwm_sampler* sampler, const cwm_token* prompt, size_t n_prompt,
                                size_t max_tokens, cwm_stream_fn on_text, void* user_data);

/* ---- execution traces ------------------------------------------------------------- */

/* CWM predicts how a Python program runs as a trace of frames (docs/traces.md; the format is
 * ../shared/docs/trace-format.md). A trace session asks a model for that prediction one frame
 * at a time, like a step debugger, on one context whose KV cache every step extends: a step
 * costs only its own new tokens. The model's vocabulary must have the trace tokens
 * (<|frame_sep|>, <|call_sep|>, ...), found by name. Everything a session returns (frame
 * strings, issues) stays valid until the session's next move / force / prediction / evaluation
 * or its free. */
typedef struct cwm_trace_session cwm_trace_session;

typedef enum cwm_trace_event {
    CWM_TRACE_CALL = 0,
    CWM_TRACE_LINE = 1,
    CWM_TRACE_RETURN = 2,
    CWM_TRACE_EXCEPTION = 3
} cwm_trace_event;

typedef struct cwm_trace_params {
    size_t size;               /* sizeof(cwm_trace_params) */
    const char* entry;         /* function to trace; NULL: the one marked "# << START_OF_TRACE" */
    uint32_t max_frame_tokens; /* a frame not ended after this many tokens is malformed (default 2048) */
} cwm_trace_params;

CWM_API void cwm_trace_default_params(cwm_trace_params* params);

/* The prompt that asks for a trace of `source` (`len` bytes of UTF-8), under the buffer
 * contract: "<|begin_of_text|><|trace_context_start|>SOURCE<|frame_sep|>" with the marker
 * added to `entry`'s def line when `entry` is not NULL. CWM_ERR_INVALID_ARGUMENT when no
 * function is marked and none named, or `entry` is not defined. */
CWM_API cwm_status cwm_trace_prompt(const char* source, size_t len, const char* entry, char* buf, size_t buf_size,
                                    size_t* out_len);

/* Starts a session: clears `ctx` and evaluates the trace prompt. `sampler` NULL: greedy. The
 * context and sampler must outlive the session and not be used by anything else meanwhile. */
CWM_API cwm_status cwm_trace_session_new(cwm_context* ctx, cwm_sampler* sampler, const char* source, size_t len,
                                         const cwm_trace_params* params, cwm_trace_session** out_session);
CWM_API void cwm_trace_session_free(cwm_trace_session* session);

/* A trace read from text (`text`, `text_len` bytes with literal special tokens, e.g. the
 * tracer's output) for the program `source`, in a handle whose frames, locals, issues, text and
 * ended flag read like a session's; it has no model, so moves, forcing, predictions and
 * evaluation give CWM_ERR_INVALID_ARGUMENT and the token counters 0. Malformed text is not an
 * error: it shows as issues. Free with cwm_trace_session_free. */
CWM_API cwm_status cwm_trace_parse(const char* source, size_t source_len, const char* text, size_t text_len,
                                   cwm_trace_session** out_trace);

typedef enum cwm_trace_move {
    CWM_TRACE_STEP = 0, /* the model's next frame, stepping into calls */
    CWM_TRACE_NEXT = 1, /* the next frame of this function: a call is stepped over by writing
                           <|return_sep|> after it (the model predicts the return value directly) */
    CWM_TRACE_OUT = 2,  /* frames until this function returns or raises */
    CWM_TRACE_BACK = 3, /* take back the last frame (truncating the KV cache; never re-reading the prompt) */
    CWM_TRACE_RESET = 4 /* back to just after the prompt */
} cwm_trace_move;

/* Moves the session. `*out_moved` (may be NULL) is 1 when a frame was produced or taken back,
 * 0 when the trace had ended, the model wrote no complete frame (an issue says why) or there
 * was nothing to take back. Malformed model output is never an error: it becomes an issue. */
CWM_API cwm_status cwm_trace_move_to(cwm_trace_session* session, cwm_trace_move move, int* out_moved);
/* Teacher forcing: evaluates one frame written out with literal special tokens (e.g. the real
 * trace's next frame) as if the model had written it. */
CWM_API cwm_status cwm_trace_force(cwm_trace_session* session, const char* frame_text, size_t len);
/* Steps until the trace ends or `max_frames` more frames were produced. */
CWM_API cwm_status cwm_trace_predict(cwm_trace_session* session, size_t max_frames);

/* Output prediction: the entry's return value without its body. Resets the session, takes the
 * entry's call frame (`call_frame`, `len` bytes with literal special tokens, forced when not
 * NULL, e.g. the actual trace's first frame; else the model's), then writes <|return_sep|>,
 * the steering that skips a callee's body. `*out_found` is 1 when the model wrote a return
 * frame: it is then the session's last frame and its value the prediction; 0 when it did not
 * (an issue says why). An entry that raises cannot be predicted so: the steering asks for a
 * return. */
CWM_API cwm_status cwm_trace_predict_result(cwm_trace_session* session, const char* call_frame, size_t len,
                                            int* out_found);

/* What cwm_trace_evaluate measures; OR-ed together. */
typedef enum cwm_trace_measure {
    CWM_TRACE_MEASURE_FREE_RUNNING = 1, /* the whole trace predicted greedily from the prompt */
    CWM_TRACE_MEASURE_NEXT_FRAME = 2,   /* each frame predicted after the actual ones before it */
    CWM_TRACE_MEASURE_RESULT = 4,       /* output prediction from the actual call frame */
    CWM_TRACE_MEASURE_ALL = 7
} cwm_trace_measure;

/* Measures the session's model against `actual` (`len` bytes), the program's real trace as
 * text (the tracer's output), as `measures` asks (a cwm_trace_measure mask; 0 means all). The
 * result is kept in the session for cwm_trace_evaluation; the session is left holding the
 * free-running prediction when one was made. CWM_ERR_INVALID_ARGUMENT names the problem when
 * `actual` is not a well-formed trace of the session's program. */
CWM_API cwm_status cwm_trace_evaluate(cwm_trace_session* session, const char* actual, size_t len, int measures);
/* The last cwm_trace_evaluate's result as a JSON object (docs/traces.md) under the buffer
 * contract; CWM_ERR_NOT_FOUND when the session has evaluated nothing. */
CWM_API cwm_status cwm_trace_evaluation(const cwm_trace_session* session, char* buf, size_t buf_size, size_t* out_len);

CWM_API size_t cwm_trace_frame_count(const cwm_trace_session* session);
CWM_API int cwm_trace_ended(const cwm_trace_session* session);
/* Tokens evaluated by the session, its prompt included, and the prompt's alone. */
CWM_API size_t cwm_trace_tokens_evaluated(const cwm_trace_session* session);
CWM_API size_t cwm_trace_prompt_tokens(const cwm_trace_session* session);

typedef struct cwm_trace_frame {
    size_t size;               /* set by the caller to sizeof(cwm_trace_frame) */
    cwm_trace_event event;
    const char* line;          /* the source line, indentation and newline included */
    int32_t line_number;       /* 1-based line of the source; 0 when it matches none */
    size_t n_locals;
    const char* value;         /* return / exception frames: repr of the value; else NULL */
} cwm_trace_frame;

CWM_API cwm_status cwm_trace_frame_get(const cwm_trace_session* session, size_t index, cwm_trace_frame* frame);
/* Local `i` of frame `index`: its name and repr, as written (`resolved` 0: ".." when
 * unchanged) or with ".." replaced by the value it stands for (`resolved` nonzero). */
CWM_API cwm_status cwm_trace_frame_local(const cwm_trace_session* session, size_t index, size_t i, int resolved,
                                         const char** out_name, const char** out_repr);
/* Problems in the model's output so far (malformed frames, unknown lines...). */
CWM_API size_t cwm_trace_issue_count(const cwm_trace_session* session);
CWM_API cwm_status cwm_trace_issue(const cwm_trace_session* session, size_t index, size_t* out_frame,
                                   const char** out_message);

/* The trace text written after the prompt so far (special tokens spelled out), under the
 * buffer contract: what cwm_trace_compare takes as the prediction. */
CWM_API cwm_status cwm_trace_text(const cwm_trace_session* session, char* buf, size_t buf_size, size_t* out_len);

/* Compares a predicted trace with the actual one, both as text with literal special tokens
 * (e.g. the tracer's output), for the program `source`: a JSON object under the buffer
 * contract with frame, event, line and per-variable agreement, the first divergence and
 * whether the entry's result matches (docs/traces.md). */
CWM_API cwm_status cwm_trace_compare(const char* source, size_t source_len, const char* predicted, size_t predicted_len,
                                     const char* actual, size_t actual_len, char* buf, size_t buf_size,
                                     size_t* out_len);

/* ---- quantization ------------------------------------------------------------------ */

/* Weight types a model can be quantized to, numbered as ggml numbers them. */
typedef enum cwm_weight_type {
    CWM_WEIGHT_F32 = 0,    /* unquantized: for cwm_convert_hf only */
    CWM_WEIGHT_F16 = 1,
    CWM_WEIGHT_BF16 = 30,  /* as CWM's weights are released */
    CWM_WEIGHT_Q4_0 = 2,   /* blocks of 32: f16 scale + 4-bit values (4.5 bits per weight) */
    CWM_WEIGHT_Q8_0 = 8,   /* blocks of 32: f16 scale + 8-bit values (8.5 bits per weight) */
    CWM_WEIGHT_Q4_K_M = 12 /* llama.cpp's Q4_K_M mix: mostly Q4_K (type 12; 4.5 bits per weight),
                              Q6_K for output and some attn_v / ffn_down (docs/quantization.md) */
} cwm_weight_type;

/* Called after each tensor; return nonzero to cancel (CWM_ERR_CANCELLED, no output file). */
typedef int (*cwm_quantize_progress_fn)(size_t tensors_done, size_t n_tensors, uint64_t bytes_done,
                                        uint64_t bytes_total, void* user_data);

typedef struct cwm_quantize_params {
    size_t size;            /* sizeof(cwm_quantize_params) */
    cwm_weight_type type;   /* default CWM_WEIGHT_Q8_0 */
    int32_t n_threads;      /* 0: one per physical core */
    cwm_quantize_progress_fn progress;
    void* progress_user_data;
} cwm_quantize_params;

CWM_API void cwm_quantize_default_params(cwm_quantize_params* params);
/* Writes a copy of the GGUF model `input` to `output` with every 2-D weight matrix stored as
 * f32/f16/bf16 quantized to `params->type` (norms and other small tensors are copied). Works
 * one tensor at a time: memory stays bounded by the largest tensor. The output appears only
 * when complete (written to a temporary file, then renamed); on any failure or cancellation
 * no file is left. `params` may be NULL for defaults. */
CWM_API cwm_status cwm_quantize(const char* input, const char* output, const cwm_quantize_params* params);

/* Called as output bytes are produced; return nonzero to cancel (CWM_ERR_CANCELLED, no
 * output file). */
typedef int (*cwm_convert_progress_fn)(uint64_t bytes_done, uint64_t bytes_total, void* user_data);

typedef struct cwm_convert_params {
    size_t size;           /* sizeof(cwm_convert_params) */
    cwm_weight_type type;  /* weight matrices; default CWM_WEIGHT_BF16; any cwm_weight_type */
    int32_t n_threads;     /* 0: one per physical core */
    cwm_convert_progress_fn progress;
    void* progress_user_data;
    /* Receives, at CWM_LOG_INFO, one line per assumption the conversion made or thing it could
     * not carry over (a config key absent and CWM's documented value used, a padded
     * vocabulary, a stop token GGUF cannot express). NULL: not reported. */
    cwm_log_fn log;
    void* log_user_data;
} cwm_convert_params;

CWM_API void cwm_convert_default_params(cwm_convert_params* params);
/* Converts a Hugging Face checkpoint directory `hf_dir` (config.json of model type "cwm" or
 * "llama"; model.safetensors.index.json with its shards, or one model.safetensors; BF16, F16 or
 * F32 tensors; tokenizer.json, and tokenizer_config.json / generation_config.json when present)
 * into one self-contained GGUF `output` of the `cwm` architecture: layer pattern, window, RoPE
 * scaling, tokenizer, stop tokens and chat template included (docs/real-cwm.md). q/k weights
 * are permuted to the interleaved RoPE layout, as llama.cpp's converter does.
 * Works one tensor at a time and drops each source tensor's pages once converted: peak memory
 * is about one source tensor plus its converted form plus the tokenizer, whatever the model
 * size. The output appears only when complete (temporary file, then rename); on any failure
 * or cancellation no file is left.
 * Errors: CWM_ERR_IO (a missing config, shard or tokenizer; unwritable output),
 * CWM_ERR_INVALID_FILE (malformed JSON or safetensors, a missing tensor, a wrong shape),
 * CWM_ERR_UNSUPPORTED (another model type, a dtype other than BF16/F16/F32, an unexpected
 * tensor), CWM_ERR_CANCELLED, CWM_ERR_INVALID_ARGUMENT (NULL paths, bad params). */
CWM_API cwm_status cwm_convert_hf(const char* hf_dir, const char* output, const cwm_convert_params* params);

/* ---- attention layout conversion ----------------------------------------------------- */

typedef struct cwm_convert_gguf_params {
    size_t size;                    /* sizeof(cwm_convert_gguf_params) */
    cwm_attention_layout attention; /* CWM_ATTENTION_CWM (default) or CWM_ATTENTION_GLOBAL */
    uint32_t sliding_window;        /* with CWM_ATTENTION_CWM: the local layers' window (0: 8192) */
    cwm_quantize_progress_fn progress; /* as cwm_quantize's: after each tensor; nonzero cancels */
    void* progress_user_data;
} cwm_convert_gguf_params;

CWM_API void cwm_convert_gguf_default_params(cwm_convert_gguf_params* params);
/* Writes a copy of the GGUF model `input` to `output` that states an attention layout in its
 * metadata, so it loads that way with CWM_ATTENTION_FROM_FILE (docs/gguf-format.md,
 * "Community files"). CWM_ATTENTION_CWM writes general.architecture "cwm", renames every
 * `llama.*` key to `cwm.*` and writes cwm.attention.sliding_window,
 * cwm.attention.sliding_window_pattern (CWM's layout, as cwm_model_params describes it) and
 * cwm.rope.pair_layout ("interleaved" for a llama input; a cwm input keeps its own).
 * CWM_ATTENTION_GLOBAL writes a `llama` file (every layer global; the `cwm`-only keys
 * dropped), CWM_ERR_UNSUPPORTED for a cwm input whose pair layout is rotate_half, which llama
 * cannot state. Tensors are copied unchanged, one at a time from the mapped input: memory stays
 * bounded. The output appears only when complete (a temporary file renamed); on any failure or
 * cancellation no file is left. CWM_ERR_INVALID_ARGUMENT when `output` is the input file (by
 * path or by identity), for CWM_ATTENTION_FROM_FILE or a bad window (as in cwm_model_params).
 * `params` may be NULL for defaults. */
CWM_API cwm_status cwm_convert_gguf(const char* input, const char* output, const cwm_convert_gguf_params* params);

/* ---- machine measurements --------------------------------------------------------- */

/* Measures this machine's memory read bandwidth, the ceiling on decode speed (decoding reads
 * every weight once per token): allocates a buffer of `bytes` (0: 1 GiB; at least 1 MiB, and
 * it should be much larger than the caches to measure memory rather than cache), lets each of
 * `n_threads` threads (0: one per physical core) read its own contiguous slice with vector
 * loads, `repeats` times (0: 5; at most 1000), and writes the fastest pass in GB/s (1e9
 * bytes per second) to `*gb_per_s`. The buffer is freed before returning. Takes about
 * `bytes * repeats / bandwidth` seconds plus the time to fill the buffer once.
 * CWM_ERR_INVALID_ARGUMENT for a NULL `gb_per_s` or an out-of-range argument,
 * CWM_ERR_OUT_OF_MEMORY when the buffer cannot be allocated. */
CWM_API cwm_status cwm_measure_read_bandwidth(size_t bytes, int n_threads, int repeats, double* gb_per_s);

#ifdef __cplusplus
}
#endif

#endif /* CWM_H */
