// A run: the browser's own checks, the request (with the token, when the service has one), the
// running state with its timer, and the answer, streamed or whole, handed to the result panel.
import { controlOf, form, names, output, runButton, status } from './elements.js';
import { describeFailure, showFailure } from './failures.js';
import { clearFieldError } from './field-errors.js';
import { formatSeconds } from './format.js';
import type { PredictionAnswer } from './prediction.js';
import { showPartial, showSuccess } from './results.js';
import { readEvents } from './server-sent-events.js';

let running = false;
let timer = 0;

function setRunning(on: boolean, started = 0): void {
  running = on;
  runButton.disabled = on;
  runButton.textContent = on ? 'Running…' : 'Run';
  output.classList.toggle('running', on);
  output.setAttribute('aria-busy', String(on));
  clearInterval(timer);
  if (!on) {
    status.replaceChildren();
    return;
  }
  const spinner = document.createElement('span');
  spinner.className = 'spinner';
  spinner.setAttribute('aria-hidden', 'true');
  const text = document.createElement('span');
  text.textContent = 'Running the model…';
  // The counter is for the eye: a screen reader hears "Running the model" once, not every tick.
  const elapsed = document.createElement('span');
  elapsed.className = 'elapsed';
  elapsed.id = 'elapsed';
  elapsed.setAttribute('aria-hidden', 'true');
  const tick = () => {
    elapsed.textContent = formatSeconds((performance.now() - started) / 1000);
  };
  tick();
  status.replaceChildren(spinner, text, elapsed);
  timer = setInterval(tick, 100);
}

// The browser's own checks (a number that is not one, out of bounds, a required file), before the
// request: an unparsable number would otherwise be sent as nothing.
function firstInvalid(): { name: string; message: string } | undefined {
  for (const name of names) {
    const control = controlOf(name);
    if (control && !control.checkValidity()) return { name, message: `${name}: ${control.validationMessage}` };
  }
  return undefined;
}

// With AUTH_TOKEN set, the token prompt that opened this page has kept the token for this tab.
const tokenKey = 'ai-integration-token';
function withToken(headers: Record<string, string>): Record<string, string> {
  const token = sessionStorage.getItem(tokenKey);
  if (token) headers.authorization = `Bearer ${token}`;
  return headers;
}

// The form's fields, without the empty part a file input with no file sends.
function formData(): FormData {
  const body = new FormData(form);
  for (const [key, value] of Array.from(body.entries())) {
    if (value instanceof File && value.name === '' && value.size === 0) body.delete(key);
  }
  return body;
}

function finish(): void {
  const hadFocus = document.activeElement === runButton || document.activeElement === document.body;
  setRunning(false);
  // A disabled button loses the focus; give it back, so the keyboard stays where it was.
  if (hadFocus) runButton.focus();
}

async function run(): Promise<void> {
  if (running) return;
  for (const name of names) clearFieldError(name);
  const invalid = firstInvalid();
  if (invalid) {
    showFailure({ title: 'Check the inputs', message: invalid.message, field: invalid.name });
    return;
  }
  const started = performance.now();
  setRunning(true, started);
  // On a phone the result is below the form: bring the running state into view.
  const box = output.getBoundingClientRect();
  if (box.top > innerHeight || box.bottom < 0)
    output.scrollIntoView({ block: 'start', behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' });
  let response: Response;
  let text: string;
  try {
    // A streaming model's chunks come as server-sent events and show as they come; anything the
    // server refuses before running the model (422, 429) still answers JSON.
    response = await fetch('predict', { method: 'POST', body: formData(), headers: withToken({ accept: 'text/event-stream, application/json;q=0.9' }) });
    if (response.ok && (response.headers.get('content-type') || '').startsWith('text/event-stream')) {
      const chunks: unknown[] = [];
      const done = await readEvents(response, (chunk) => {
        chunks.push(chunk);
        showPartial(chunks);
      });
      finish();
      if (done && done.status === 'succeeded') showSuccess(done, (performance.now() - started) / 1000);
      else
        showFailure(
          describeFailure(
            { status: 500, statusText: '', headers: new Headers() },
            done || { error: { code: 'AI_ERR_INTERNAL', message: 'the stream of results ended early' } },
          ),
        );
      return;
    }
    text = await response.text();
  } catch {
    finish();
    showFailure({
      title: 'The model could not be reached',
      message: 'The request did not get an answer: the network failed or the server stopped. Check that the model is still running, then try again.',
    });
    return;
  }
  finish();
  // A token that no longer opens the service (AUTH_TOKEN changed): forget it, so that reloading asks again.
  if (response.status === 401) sessionStorage.removeItem(tokenKey);
  let answer: PredictionAnswer | null = null;
  try {
    answer = JSON.parse(text) as PredictionAnswer | null;
  } catch {
    answer = null;
  }
  if (response.ok && answer && answer.status === 'succeeded') showSuccess(answer, (performance.now() - started) / 1000);
  else showFailure(describeFailure(response, answer));
}

/** Runs the model on submit and on Ctrl+Enter (Cmd+Enter) anywhere in the form. */
export function setUpRunning(): void {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void run();
  });
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void run();
    }
  });
}
