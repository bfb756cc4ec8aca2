/**
 * Chat, completion and embedding models: their inputs, typed requests and result helpers.
 * MODE=openai serves them as OpenAI's API; every other mode serves them as any model.
 */
export {
  chatInputs,
  chatModel,
  type ChatContentPart,
  type ChatFunction,
  type ChatMessage,
  type ChatOutput,
  type ChatRequest,
  type ChatResponseFormat,
  type ChatTool,
  type ChatToolChoice,
} from './chat.js';
export { completionInputs, completionModel, type CompletionFunction, type CompletionRequest } from './completion.js';
export { embeddingInputs, embeddingModel, type EmbeddingFunction, type EmbeddingOutput, type EmbeddingRequest } from './embedding.js';
export { toolCall, type GenerationEnd, type GenerationOutput, type GenerationPart, type ToolCallPart } from './generation.js';
export type { FinishReason, ToolCall, TokenUsage } from './wire.js';
