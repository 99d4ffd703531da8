// Package openai is Plotline's remote model: an app.Model over the Chat
// Completions API of OpenAI, Azure OpenAI, or any compatible server
// (Ollama, LM Studio, llama.cpp, vLLM).
//
// # Why openai-go
//
// The official SDK (github.com/openai/openai-go/v3) already knows the wire
// format, the Azure routing (deployment in the path, api-version in the
// query, the api-key header) and how to retry; we keep only what the SDK
// cannot know: how local servers bend the protocol (design decision 8).
// The engine sees none of the SDK: requests and answers cross in the
// provider-neutral app.ChatRequest, app.ChatDelta and app.ChatResult, and
// failures as *app.ModelError.
//
// # Streaming and the tolerance for local servers
//
// Chat always streams, with stream_options.include_usage, passes every
// piece of text and of tool calls to onDelta, and builds the whole answer
// itself (see accumulator). Local servers often stream tool calls without
// "index"; the SDK decodes a missing index as 0, so the JSON metadata
// (JSON.Index.Valid) tells them apart, and pieces are matched by id and
// order instead. Each call gets a stable position, and an id if the server
// gave none.
//
// A stream must end with "data: [DONE]" (the SDK's stream ends the same way
// at [DONE] and at a cut connection, so a middleware watches the body for
// it); from a compatible server, a finish_reason is enough. An error event
// in the stream, a cut stream, or a malformed chunk is an *app.ModelError,
// never a silently short answer.
//
// Errors in other shapes than OpenAI's (Ollama's {"error":"…"}, vLLM's
// top-level message, plain text) are rewritten into OpenAI's before the
// SDK reads them, so their status survives; ToolsUnsupported recognises
// the servers' ways of saying a model takes no tools, after which the
// engine runs the fenced Python blocks the model writes instead.
//
// # Retries and timeouts
//
// The SDK retries connection errors, 408, 409, 429 and 5xx, before any
// byte of the answer, with exponential backoff (0.5 s doubling, capped at
// 8 s, with jitter) or, when the server sends one, exactly the
// Retry-After-Ms / Retry-After delay (a delay over 2 minutes is not waited
// out: the error is returned with RetryAfter set). Config.MaxRetries
// (default 2) bounds the attempts. A stream that fails midway is not
// retried: its pieces were already delivered.
//
// The only timeout is on the wait for response headers (http.Transport's
// ResponseHeaderTimeout: 60 s for hosted providers, 5 minutes for local
// servers, which answer only after loading the weights and reading the
// prompt). Nothing bounds the stream itself, so a long answer is never cut;
// the caller's context ends a run, and Chat then returns the context's own
// error, not a ModelError.
//
// # Tokens
//
// A token limit goes out as max_completion_tokens to OpenAI and Azure
// (OpenAI's reasoning models refuse max_tokens), and as max_tokens to
// compatible servers, which have read that name for years and may ignore
// the newer one without a word. If a server refuses max_completion_tokens
// (older Azure API versions), Chat sends the request again once with
// max_tokens, and keeps doing so for that Client.
package openai
