/**
 * `ai-integration/webhooks`: for a receiver of this service's webhooks, written in TypeScript or
 * JavaScript. `verifyWebhook(secret, headers, body)` checks a call signed with WEBHOOK_SECRET as
 * Standard Webhooks specifies, and gives its parsed body; it loads none of the runtime.
 */
export {
  verifyWebhook,
  signWebhook,
  WebhookVerificationError,
  type VerifyWebhookOptions,
  type WebhookHeaders,
} from './serving/webhook-signature.js';
