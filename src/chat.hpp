// CWM's chat format (../shared/docs/cwm-model.md, "Chat, reasoning, tools"), rendered from a
// list of messages into the prompt text the model continues.
#pragma once

#include <span>
#include <string>

namespace cwm {

struct ChatMessage {
    std::string role;     // "system", "user", "assistant" or "tool: NAME"
    std::string content;  // UTF-8
};

struct ChatOptions {
    // Reasoning mode: the system prompt starts with CWM's reasoning instruction and the
    // assistant turn opens with "<think>\n".
    bool reasoning = false;
    // End with the assistant header (the model's turn); false renders a finished conversation.
    bool add_generation_prompt = true;
};

// The system prompts CWM was trained with.
extern const char* const kCwmSystemPrompt;
extern const char* const kCwmReasoningSystemPrompt;

// <|begin_of_text|>, then each message as <|start_header_id|>ROLE<|end_header_id|>\n\nBODY<|eot_id|>
// (bodies stripped of surrounding whitespace, tool results kept as they are). Without a system
// message first, CWM's own system prompt is added; in reasoning mode a caller's system message
// is appended to the reasoning instruction after a blank line. Throws Error(invalid_argument)
// naming the message for an unknown role, a system message after the first, or invalid UTF-8.
std::string render_chat(std::span<const ChatMessage> messages, const ChatOptions& options);

}  // namespace cwm
