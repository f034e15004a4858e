#include "chat.hpp"

#include "error.hpp"
#include "tokenizer.hpp"

namespace cwm {

const char* const kCwmSystemPrompt = "You are a helpful AI assistant.";
const char* const kCwmReasoningSystemPrompt =
    "You are a helpful AI assistant. You always reason before responding, using the following format:\n\n"
    "<think>\nyour internal reasoning\n</think>\nyour external response";

namespace {

bool is_tool_role(const std::string& role) { return role.rfind("tool: ", 0) == 0 && role.size() > 6; }

std::string strip(const std::string& s) {
    const char* space = " \t\r\n\v\f";
    const size_t begin = s.find_first_not_of(space);
    if (begin == std::string::npos) return "";
    return s.substr(begin, s.find_last_not_of(space) - begin + 1);
}

void append_turn(std::string& out, const std::string& role, const std::string& body) {
    out += "<|start_header_id|>" + role + "<|end_header_id|>\n\n" + body + "<|eot_id|>";
}

void check_message(const ChatMessage& m, size_t index) {
    const std::string where = "chat message " + std::to_string(index);
    if (m.role != "system" && m.role != "user" && m.role != "assistant" && !is_tool_role(m.role))
        fail(Status::invalid_argument,
             where + " has role '" + m.role + "'; expected system, user, assistant or 'tool: NAME'");
    if (m.role == "system" && index != 0) fail(Status::invalid_argument, where + ": only the first message may be system");
    if (!is_valid_utf8(m.role) || !is_valid_utf8(m.content))
        fail(Status::invalid_argument, where + " is not valid UTF-8");
    // A body holding a header token would forge a turn boundary the caller did not write.
    for (const char* token : {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"})
        if (m.content.find(token) != std::string::npos || m.role.find(token) != std::string::npos)
            fail(Status::invalid_argument, where + " contains the control token " + token);
}

}  // namespace

std::string render_chat(std::span<const ChatMessage> messages, const ChatOptions& options) {
    for (size_t i = 0; i < messages.size(); ++i) check_message(messages[i], i);
    const bool has_system = !messages.empty() && messages[0].role == "system";
    std::string system = options.reasoning ? kCwmReasoningSystemPrompt : kCwmSystemPrompt;
    if (has_system) {
        const std::string own = strip(messages[0].content);
        system = options.reasoning ? system + (own.empty() ? "" : "\n\n" + own) : own;
    }
    std::string out = "<|begin_of_text|>";
    append_turn(out, "system", system);
    for (size_t i = has_system ? 1 : 0; i < messages.size(); ++i) {
        const ChatMessage& m = messages[i];
        append_turn(out, m.role, is_tool_role(m.role) ? m.content : strip(m.content));
    }
    if (options.add_generation_prompt) {
        out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
        if (options.reasoning) out += "<think>\n";
    }
    return out;
}

}  // namespace cwm
