/**
 * The example chat model's whole "intelligence", with no weights: it answers the last message by
 * echoing it. What it shows is everything around a real model: a reply made of tokens, a tool
 * call when the conversation asks for a tool, and JSON when the request asks for JSON.
 */
import type { ChatRequest } from 'ai-integration';

/** What the model does next: call a tool, or say these tokens. */
export type EchoReply = { tool: { name: string; arguments: Record<string, unknown> } } | { tokens: string[] };

/**
 * The reply to a conversation: a call of the tool the request requires (`tool_choice`), or of
 * the first tool whose name the last user message mentions; else "You said: ..." echoing the
 * last message, as JSON `{"reply": ...}` when `response_format` asks for JSON, in tokens of one
 * word each (with its leading space).
 */
export function echoReply(request: ChatRequest): EchoReply {
  const last = request.messages.at(-1);
  const said = last === undefined ? '' : textOf(last.content);
  const tools = request.tool_choice === 'none' ? [] : (request.tools ?? []);
  const chosen = typeof request.tool_choice === 'object' ? request.tool_choice.function.name : undefined;
  const tool =
    tools.find((candidate) => candidate.function.name === chosen) ??
    (request.tool_choice === 'required' ? tools[0] : undefined) ??
    (last?.role === 'user' ? tools.find((candidate) => said.includes(candidate.function.name)) : undefined);
  if (tool) return { tool: { name: tool.function.name, arguments: { text: said } } };
  const answer = last?.role === 'tool' ? `The tool said: ${said}` : `You said: ${said}`;
  const format = request.response_format?.type;
  const reply = format === 'json_object' || format === 'json_schema' ? JSON.stringify({ reply: answer }) : answer;
  return { tokens: reply.split(/(?= )/) };
}

/** The text of a message's content (its text parts, joined). */
export function textOf(content: ChatRequest['messages'][number]['content']): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('');
}
